"""A thread's numbers (issue 28): every part is collected with its target, the target's snapshot
is the sum of its parts (so the reports count a thread as one post), `analytics post --by-part`
shows each part, a first comment's likes are left out, and `post delete --remote` takes every
part down."""

from __future__ import annotations

import sqlite3

import pytest

from fakes.bluesky_server import FakeBlueskyServer
from fakes.mastodon_server import FakeMastodon

BSKY_PASS = "alice-app-pass"
MASTO_TOKEN = "masto-secret-token-123456"


@pytest.fixture
def masto(cli, home):
    (home / "config.toml").write_text("[collect]\nmin_interval_seconds = 0\n")
    with FakeMastodon(token=MASTO_TOKEN) as server:
        r = cli("accounts", "add", "mastodon", "--instance", server.url, "--token-stdin", input=MASTO_TOKEN + "\n")
        assert r.exit_code == 0, r.stderr
        yield server


@pytest.fixture
def bsky(cli):
    with FakeBlueskyServer() as server:
        server.add_account("alice.test", BSKY_PASS)
        r = cli(
            "accounts", "add", "bluesky", "--handle", "alice.test", "--service", server.url, "--password-stdin",
            input=BSKY_PASS + "\n",
        )  # fmt: skip
        assert r.exit_code == 0, r.stderr
        yield server


def test_each_part_is_collected_and_the_thread_counts_as_one_post_with_their_sum(cli, masto, home):
    out = cli.json("post", "create", "one", "two", "three", "--to", "mastodon", "--first-comment", "the links")
    parts = out["targets"][0]["parts"]
    for part, likes in zip(parts, (10, 3, 1)):
        masto.set_counts(part["platform_post_id"], favourites=likes, reblogs=1)
    masto.set_counts(out["targets"][0]["first_comment"]["platform_post_id"], favourites=500)
    single = cli.json("post", "create", "a post of its own", "--to", "mastodon")
    masto.set_counts(single["targets"][0]["platform_post_id"], favourites=2)
    masto.reset_log()

    collected = cli.json("collect")
    assert collected["fetched"] == 2 and collected["failed"] == 0
    # One multi-status request for the two targets and the thread's other parts (never the comment).
    gets = masto.requests_to("GET", "/api/v1/statuses")
    asked = [set(r.query.get("id[]", [])) for r in gets if r.path == "/api/v1/statuses"]
    assert asked == [{p["platform_post_id"] for p in parts} | {single["targets"][0]["platform_post_id"]}]

    db = sqlite3.connect(home / "postcli.db")
    likes = dict(db.execute("select target_id, likes from post_metric_latest").fetchall())
    assert likes == {out["targets"][0]["id"]: 14, single["targets"][0]["id"]: 2}  # 10 + 3 + 1; not the comment's 500

    data = cli.json("analytics", "post", str(out["id"]), "--by-part")
    (row,) = data["metrics_by_target"]
    assert (row["likes"], row["shares"], row["part_count"]) == (14, 3, 3)
    assert [(p["position"], p["likes"], p["shares"]) for p in row["parts"]] == [(1, 10, 1), (2, 3, 1), (3, 1, 1)]
    assert all(p["captured_at"] is not None for p in row["parts"])
    text = cli("analytics", "post", str(out["id"])).stdout
    assert "sum of its parts" in text and "3 parts" in text

    overview = cli.json("analytics", "overview")
    assert overview["posts_published"] == 2  # the thread is one post
    assert overview["platforms"][0]["likes"] == 14 + 2


def test_a_single_post_by_part_is_one_part_with_its_own_numbers(cli, masto):
    out = cli.json("post", "create", "alone", "--to", "mastodon")
    masto.set_counts(out["targets"][0]["platform_post_id"], favourites=4)
    cli.json("collect")
    (row,) = cli.json("analytics", "post", str(out["id"]), "--by-part")["metrics_by_target"]
    assert row["part_count"] == 1 and [(p["position"], p["likes"]) for p in row["parts"]] == [(1, 4)]


def test_a_deleted_later_part_is_left_out_and_a_deleted_first_part_deletes_the_thread(cli, masto, home):
    out = cli.json("post", "create", "one", "two", "three", "--to", "mastodon")
    ids = [p["platform_post_id"] for p in out["targets"][0]["parts"]]
    for sid, likes in zip(ids, (5, 6, 7)):
        masto.set_counts(sid, favourites=likes)
    masto.delete_status(ids[1])
    cli.json("collect")
    db = sqlite3.connect(home / "postcli.db")
    assert db.execute("select likes from post_metric_latest").fetchone()[0] == 12
    assert db.execute("select position, status from target_parts order by position").fetchall() == [
        (1, "completed"),
        (2, "deleted"),
        (3, "completed"),
    ]
    masto.delete_status(ids[0])
    cli.json("collect")
    assert db.execute("select status from post_targets").fetchone()[0] == "deleted"


def test_analytics_refresh_sums_the_parts_too(cli, bsky, home):
    out = cli.json("post", "create", "one", "two", "--to", "bluesky")
    uris = [p["platform_post_id"] for p in out["targets"][0]["parts"]]
    bsky.set_counts(uris[0], likes=2, reposts=1)
    bsky.set_counts(uris[1], likes=5)
    data = cli.json("analytics", "refresh", str(out["id"]))
    (row,) = data["metrics_by_target"]
    assert (row["likes"], row["shares"]) == (7, 1)
    stored = sqlite3.connect(home / "postcli.db").execute("select position, metrics from target_parts").fetchall()
    assert [(pos, '"likes": 5' in m) for pos, m in stored] == [(1, False), (2, True)]


def test_delete_remote_takes_down_every_part_and_the_self_reply_comment(cli, masto, bsky):
    out = cli.json("post", "create", "one", "two", "--to", "all", "--first-comment", "c")
    assert len(masto.statuses) == 3 and len(bsky.records()) == 3
    report = cli.json("post", "delete", str(out["id"]), "--remote")
    assert report["removed_local"] is True
    assert masto.statuses == [] and bsky.records() == []


def test_delete_remote_of_a_thread_that_stopped_takes_down_what_went_out(cli, masto):
    masto.fail_next("POST", "/api/v1/statuses", 422, json={"error": "Validation failed: no"}, after=1)
    r = cli("post", "create", "one", "two", "three", "--to", "mastodon", "--json")
    assert r.exit_code == 7 and len(masto.statuses) == 1
    post_id = cli.json("post", "list")["posts"][0]["id"]
    cli.json("post", "delete", str(post_id), "--remote")
    assert masto.statuses == []
