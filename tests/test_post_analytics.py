"""`postcli analytics post|refresh` and `postcli post import` against the loopback fakes (issue 4)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from fakes.bluesky_server import FakeBlueskyServer
from fakes.mastodon_server import FakeMastodon
from support.accounts import (
    BSKY_PASS,
    MASTO_TOKEN,
    connect_bluesky,
    connect_mastodon,
    db,
    getposts_uris,
    multi_get_ids,
    write_config,
)


@pytest.fixture
def bsky():
    with FakeBlueskyServer() as server:
        server.add_account("alice.test", BSKY_PASS, followers=100)
        server.add_account("bob.test", "bob-app-pass")
        yield server


@pytest.fixture
def masto():
    with FakeMastodon(token=MASTO_TOKEN, followers_count=40) as server:
        yield server


@pytest.fixture
def published(cli, home, bsky, masto):
    """One post published to both platforms, with counts set on each."""
    write_config(home)
    connect_bluesky(cli, bsky)
    connect_mastodon(cli, masto)
    out = cli.json("post", "create", "numbers please", "--to", "all")
    by = {t["platform"]: t for t in out["targets"]}
    conn = db(home)
    ids = dict(conn.execute("select platform, platform_post_id from post_targets").fetchall())
    bsky.set_counts(ids["bluesky"], likes=3, reposts=1, replies=2, quotes=1, bookmarks=4)
    masto.set_counts(ids["mastodon"], favourites=5, reblogs=0, replies=1, quotes=2)
    return out["post_id"], by, ids


def test_post_analytics_latest_per_target_and_totals(cli, home, bsky, masto, published):
    post_id, _, _ = published
    before = cli.json("analytics", "post", str(post_id))
    assert before["collected"] is False and all(r["captured_at"] is None for r in before["metrics_by_target"])
    assert before["aggregated_metrics"]["total_likes"] is None  # nothing reported yet: NULL, not 0

    cli.json("collect")
    data = cli.json("analytics", "post", str(post_id))
    rows = {r["platform"]: r for r in data["metrics_by_target"]}
    assert (
        rows["bluesky"]["likes"],
        rows["bluesky"]["shares"],
        rows["bluesky"]["comments"],
        rows["bluesky"]["quotes"],
        rows["bluesky"]["saves"],
    ) == (3, 1, 2, 1, 4)
    assert rows["bluesky"]["engagement"] == 6 and rows["bluesky"]["follower_count"] == 100
    assert rows["bluesky"]["engagement_rate"] == pytest.approx(0.06)
    assert (rows["mastodon"]["likes"], rows["mastodon"]["saves"], rows["mastodon"]["engagement"]) == (5, None, 6)
    totals = data["aggregated_metrics"]
    assert totals["total_likes"] == 8 and totals["total_engagement"] == 12
    assert totals["total_saves"] == 4  # 4 + NULL = 4
    assert totals["total_impressions"] is None and totals["total_reach"] is None  # NULL + NULL = NULL
    assert totals["total_quotes"] == 3

    bsky.set_counts(published[2]["bluesky"], likes=10)
    cli.json("collect")
    hist = cli.json("analytics", "post", str(post_id), "--history")
    assert len(hist["history"]) == 4
    assert [r["likes"] for r in hist["history"] if r["platform"] == "bluesky"] == [3, 10]
    only = cli.json("analytics", "post", str(post_id), "--platform", "mastodon")
    assert [r["platform"] for r in only["metrics_by_target"]] == ["mastodon"]
    assert only["aggregated_metrics"]["total_saves"] is None

    text = cli("analytics", "post", str(post_id), "--history")
    assert text.exit_code == 0 and "History" in text.stdout and "—" in text.stdout


def test_post_analytics_of_draft_unknown_and_bad_input(cli, home, bsky, masto, published):
    draft = cli.json("post", "create", "later", "--to", "all", "--draft")
    for cmd in ("post", "refresh"):
        r = cli("analytics", cmd, str(draft["id"]))
        assert r.exit_code == 4 and "analytics are only available after a post is published" in r.stderr
        r = cli("analytics", cmd, "9999")
        assert r.exit_code == 3 and "Traceback" not in r.stderr
        assert cli("analytics", cmd, "abc").exit_code == 3
    post_id = published[0]
    assert cli("analytics", "post", str(post_id), "--platform", "myspace").exit_code in (2, 3)


def test_refresh_fetches_live_then_is_limited(cli, home, bsky, masto, published):
    post_id, _, ids = published
    bsky.reset_log()
    masto.reset_log()
    data = cli.json("analytics", "refresh", str(post_id))
    assert data["errors"] == [] and data["refreshed_at"]
    rows = {r["platform"]: r for r in data["metrics_by_target"]}
    assert rows["bluesky"]["likes"] == 3 and rows["mastodon"]["likes"] == 5
    assert getposts_uris(bsky) == [ids["bluesky"]] and multi_get_ids(masto) == [[ids["mastodon"]]]
    assert db(home).execute("select count(*) from post_metric_snapshots").fetchone()[0] == 2

    r = cli("analytics", "refresh", str(post_id))
    assert r.exit_code == 5
    allowed = (datetime.now(timezone.utc) + timedelta(minutes=15)).strftime("%H:%M")
    earliest = (datetime.now(timezone.utc) + timedelta(minutes=14)).strftime("%H:%M")
    assert "allowed" in r.stderr and (allowed in r.stderr or earliest in r.stderr)
    assert db(home).execute("select count(*) from post_metric_snapshots").fetchone()[0] == 2


def test_refresh_that_fetched_nothing_keeps_the_allowance(cli, home, bsky, masto, published):
    post_id, _, _ = published
    bsky.fail_next("app.bsky.feed.getPosts", 503)
    masto.fail_next("GET", "/api/v1/statuses", 503)
    r = cli("analytics", "refresh", str(post_id), "--json")
    assert r.exit_code == 7 and len(json.loads(r.stdout)["errors"]) == 2
    assert cli("analytics", "refresh", str(post_id), "--json").exit_code == 0


def test_refresh_marks_a_deleted_post(cli, home, bsky, masto, published):
    post_id, _, ids = published
    masto.delete_status(ids["mastodon"])
    # Published seconds ago: an absence could be indexing lag, so wait out the grace first.
    db_conn = db(home)
    db_conn.execute("update post_targets set completed_at = datetime('now', '-1 hour')")
    db_conn.commit()
    data = cli.json("analytics", "refresh", str(post_id))
    rows = {r["platform"]: r for r in data["metrics_by_target"]}
    assert rows["mastodon"]["status"] == "deleted" and rows["bluesky"]["likes"] == 3


def test_refresh_marks_a_mastodon_status_deleted_seconds_after_publishing(cli, home, bsky, masto, published):
    """Mastodon has no indexing lag (issue 14): no grace, the status is deleted at once. Bluesky's
    post, absent and never seen, is within its 10-minute grace and reported as not visible yet."""
    post_id, _, ids = published
    masto.delete_status(ids["mastodon"])
    bsky.delete_record(ids["bluesky"])
    data = cli("analytics", "refresh", str(post_id), "--json")
    body = json.loads(data.stdout)
    rows = {r["platform"]: r for r in body["metrics_by_target"]}
    assert rows["mastodon"]["status"] == "deleted"
    assert rows["bluesky"]["status"] == "completed"
    assert [e["platform"] for e in body["errors"]] == ["bluesky"]


# --- post import ---------------------------------------------------------------------------------


def test_import_bluesky_link_uri_and_mastodon_url_and_id_then_collect(cli, home, bsky, masto):
    write_config(home)
    b_id = connect_bluesky(cli, bsky)
    m_id = connect_mastodon(cli, masto)
    uri1 = bsky.add_post("alice.test", "made in the app", likes=7)
    uri2 = bsky.add_post("alice.test", "another", likes=1)
    s1 = masto.add_status("made on the web", favourites_count=4)
    s2 = masto.add_status("and another", favourites_count=2)
    link = f"https://bsky.app/profile/alice.test/post/{uri1.rsplit('/', 1)[1]}"

    a = cli.json("post", "import", link)
    assert a["created"] is True and a["source"] == "import" and a["status"] == "completed"
    assert a["text"] == "made in the app"
    assert a["targets"][0]["account_id"] == b_id
    again = cli.json("post", "import", uri1)  # the at:// form of the same post
    assert (again["id"], again["created"]) == (a["id"], False)
    b = cli.json("post", "import", uri2, "--account", str(b_id))
    c = cli.json("post", "import", s1["url"])
    assert c["targets"][0]["account_id"] == m_id
    d = cli.json("post", "import", s2["id"], "--account", str(m_id))
    d2 = cli.json("post", "import", s2["id"])  # one Mastodon account: a bare id is enough
    assert (d2["id"], d2["created"]) == (d["id"], False)
    assert len({a["id"], b["id"], c["id"], d["id"]}) == 4

    out = cli.json("collect")
    assert out["fetched"] == 4 and out["failed"] == 0
    assert cli.json("analytics", "post", str(a["id"]))["metrics_by_target"][0]["likes"] == 7
    assert cli.json("analytics", "post", str(c["id"]))["metrics_by_target"][0]["likes"] == 4

    text = cli("post", "import", link)
    assert text.exit_code == 0 and f"post {a['id']}" in text.stdout


def test_import_refuses_bad_references(cli, home, bsky, masto):
    connect_bluesky(cli, bsky)
    connect_mastodon(cli, masto)
    gone = bsky.add_post("alice.test", "soon gone")
    bsky.delete_record(gone)
    bob = bsky.add_post("bob.test", "not mine")
    for ref, code in (
        (gone, 3),
        ("https://example.com/whatever", 2),
        ("not a post", 2),
        (f"{masto.url}/@mastodonpy_test/99999", 3),
        (bob, 2),
    ):
        r = cli("post", "import", ref)
        assert r.exit_code == code, (ref, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr and r.stderr.strip()
    assert cli("post", "import", "123", "--account", "nobody").exit_code == 3
    assert db(home).execute("select count(*) from posts").fetchone()[0] == 0


def test_an_imported_post_with_control_characters_is_stored_without_nul_and_printed_literally(cli, home, bsky):
    # A stranger's post may hold anything: NUL cannot go into PostgreSQL's text columns, so it
    # is stored as U+FFFD (on every backend, so stores copy between them); ESC/BEL are kept as
    # data and only made visible when printed (issue 13 classes 1 and 11).
    connect_bluesky(cli, bsky)
    uri = bsky.add_post("alice.test", "hi\x00there \x1b]0;pwned\x07[bold]x[/bold]", likes=1)
    imported = cli.json("post", "import", uri)
    assert imported["text"] == "hi\ufffdthere \x1b]0;pwned\x07[bold]x[/bold]"
    shown = cli("post", "show", str(imported["id"]))
    assert shown.exit_code == 0
    assert "\x00" not in shown.stdout and "\x1b" not in shown.stdout and "\x07" not in shown.stdout
    assert "[bold]x[/bold]" in shown.stdout


def test_post_analytics_text_has_a_figure_a_row_and_a_target_a_column(cli, published, monkeypatch):
    """Each figure reads across the platforms on one line, and the whole table stays within 80
    columns (a target a row took 13 columns and was folded to a few characters each, or cut)."""
    post_id, _, _ = published
    cli.json("collect")
    monkeypatch.setenv("COLUMNS", "80")
    text = cli("analytics", "post", str(post_id))
    assert text.exit_code == 0, text.stdout
    lines = text.stdout.splitlines()
    head = next(line for line in lines if line.split()[:1] == ["figure"])
    assert head.split() == ["figure", "bluesky", "mastodon"]
    last = next(i for i, line in enumerate(lines) if line.split()[:1] == ["captured"])
    table = lines[lines.index(head) - 1 : last + 1]  # the per-platform table, not the totals
    row = {line.split()[0]: line.split()[1:] for line in table if line.split()[:1] in (["likes"], ["saves"])}
    assert row == {"likes": ["3", "5"], "saves": ["4", "—"]}  # Mastodon reports no saves: —, not 0
    assert max(len(line) for line in table) <= 80, text.stdout
