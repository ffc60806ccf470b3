"""Deleted posts reach the store as `deleted` on the run that finds them gone (issue 14, items 1 and 11).

The grace for posts the platform may not have indexed yet belongs only to a
platform that declares an indexing lag (Bluesky's AppView: `deletion_grace`),
and only to posts no snapshot has seen. Real SDKs and the real adapters talk to
the fakes over loopback; nothing is patched.

Documented "gone" answers the fakes give:
- Bluesky app.bsky.feed.getPosts leaves a missing post out of `posts`
  (lexicons/app/bsky/feed/getPosts.json: "hydrated views of the requested posts").
- Mastodon GET /api/v1/statuses?id[]= leaves a deleted status out
  (docs.joinmastodon.org/methods/statuses/#index).
- Tumblr GET /v2/blog/{blog}/notes answers 404 for a post that is not there
  (tumblr/docs api.md "Response Format": errors carry meta.status 404 "Not Found").
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from fakes.bluesky_server import FakeBlueskyServer
from fakes.mastodon_server import FakeMastodon
from fakes.tumblr_server import FakeTumblr
from support.accounts import (
    BSKY_PASS,
    MASTO_TOKEN,
    connect_bluesky,
    connect_mastodon,
    connect_tumblr,
    db,
    getposts_uris,
    multi_get_ids,
    seed_targets,
    write_config,
)


@pytest.fixture
def bsky():
    with FakeBlueskyServer() as server:
        server.add_account("alice.test", BSKY_PASS, display_name="Alice", followers=200)
        yield server


@pytest.fixture
def masto():
    with FakeMastodon(token=MASTO_TOKEN, followers_count=50) as server:
        yield server


def minutes_ago(n: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(minutes=n)


def target_status(home, target_id: int) -> str:
    return db(home).execute("select status from post_targets where id = ?", (target_id,)).fetchone()[0]


def test_a_mastodon_status_deleted_minutes_after_publishing_is_deleted_at_once(cli, home, masto):
    """Mastodon has no indexing lag: a status missing from the multi-get is gone, even 2 minutes in."""
    write_config(home)
    m_id = connect_mastodon(cli, masto)
    sids = [masto.add_status(f"t{i}")["id"] for i in range(2)]
    targets = seed_targets(m_id, sids, published_at=minutes_ago(2))
    masto.delete_status(sids[0])

    out = cli.json("collect")
    assert (out["deleted"], out["fetched"]) == (1, 1)
    assert target_status(home, targets[0][1]) == "deleted"

    masto.reset_log()
    out = cli.json("collect")
    assert out["deleted"] == 0
    assert [i for c in multi_get_ids(masto) for i in c] == [sids[1]]  # never asked again


def test_a_bluesky_post_seen_once_then_gone_is_deleted_within_the_grace(cli, home, bsky):
    write_config(home)
    b_id = connect_bluesky(cli, bsky)
    uris = [bsky.add_post("alice.test", f"p{i}", likes=1) for i in range(2)]
    targets = seed_targets(b_id, uris, published_at=minutes_ago(3))
    assert cli.json("collect")["fetched"] == 2  # both seen in a snapshot
    bsky.delete_record(uris[0])

    out = cli.json("collect")
    assert (out["deleted"], out["fetched"]) == (1, 1)
    assert target_status(home, targets[0][1]) == "deleted"
    bsky.reset_log()
    cli.json("collect")
    assert getposts_uris(bsky) == [uris[1]]


def test_a_bluesky_post_never_seen_gets_the_grace_and_then_is_deleted(cli, home, bsky):
    """Within 10 minutes of publishing and never in a snapshot: maybe not indexed yet, so not deleted."""
    write_config(home)
    b_id = connect_bluesky(cli, bsky)
    uri = bsky.add_post("alice.test", "fresh")
    ((_, tid),) = seed_targets(b_id, [uri], published_at=minutes_ago(1))
    bsky.delete_record(uri)

    out = cli.json("collect")
    assert (out["deleted"], out["fetched"], out["failed"]) == (0, 0, 0)
    assert target_status(home, tid) == "completed"
    note = db(home).execute("select last_error from jobs where kind = 'post_metrics'").fetchone()[0]
    assert note == "not visible on the platform yet"

    conn = db(home)
    conn.execute(
        "update post_targets set completed_at = ? where id = ?", (minutes_ago(11).strftime("%Y-%m-%d %H:%M:%S.%f"), tid)
    )
    conn.commit()
    assert cli.json("collect")["deleted"] == 1
    assert target_status(home, tid) == "deleted"


def test_a_tumblr_post_deleted_after_a_collect_is_deleted_and_counted(cli, home):
    """Published through postcli, collected, deleted on Tumblr minutes later: the notes 404 is a deletion."""
    write_config(home)
    with FakeTumblr() as server:
        connect_tumblr(cli, server)
        kept = cli.json("post", "create", "kept", "--to", "tumblr")
        gone = cli.json("post", "create", "gone", "--to", "tumblr")
        assert cli.json("collect")["fetched"] == 2

        gone_tid = gone["targets"][0]["target_id"]
        gone_pid = db(home).execute("select platform_post_id from post_targets where id = ?", (gone_tid,)).fetchone()[0]
        server.delete_post(gone_pid)
        r = cli("collect")
        assert r.exit_code == 0, r.stderr
        assert "deleted 1" in r.stdout and "fetched 1 post snapshots" in r.stdout
        assert target_status(home, gone_tid) == "deleted"
        assert target_status(home, kept["targets"][0]["target_id"]) == "completed"

        server.reset_log()
        out = json.loads(cli("collect", "--json").stdout)
        assert out["deleted"] == 0 and out["fetched"] == 1
        asked = [c.query["id"][0] for c in server.requests_to("GET", "/v2/blog/") if c.path.endswith("/notes")]
        assert gone_pid not in asked and len(asked) == 1
