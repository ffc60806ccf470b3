"""`postcli collect` and `postcli jobs` end to end (issue 4).

The real atproto and Mastodon.py SDKs talk over loopback sockets to the fake
servers; posts are seeded straight into the store (and the fakes) so a test can
have a hundred of them without publishing each. Backoff is configured to a few
milliseconds so retries and dead-lettering happen within one run.
"""

from __future__ import annotations

import json
import sqlite3
import threading
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
    seed_targets,
    snapshots,
    write_config,
)
from support.cli import run_postcli

# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def bsky():
    with FakeBlueskyServer() as server:
        server.add_account("alice.test", BSKY_PASS, display_name="Alice", followers=200)
        yield server


@pytest.fixture
def masto():
    with FakeMastodon(token=MASTO_TOKEN, followers_count=50) as server:
        yield server


@pytest.fixture
def accounts(cli, home, bsky, masto):
    write_config(home)
    return connect_bluesky(cli, bsky), connect_mastodon(cli, masto)


# --- batching and mapping -------------------------------------------------------------------


def test_batches_map_counts_and_keep_nulls(cli, home, bsky, masto, accounts):
    b_id, m_id = accounts
    uris = [
        bsky.add_post("alice.test", f"post {i}", likes=i, reposts=1, replies=2, quotes=3, bookmarks=4)
        for i in range(100)
    ]
    statuses = [
        masto.add_status(f"toot {i}", favourites_count=i, reblogs_count=5, replies_count=6, quotes_count=7)["id"]
        for i in range(45)
    ]
    b_targets = seed_targets(b_id, uris)
    m_targets = seed_targets(m_id, statuses)
    bsky.reset_log()
    masto.reset_log()

    out = cli.json("collect")

    assert out["fetched"] == 145 and out["accounts"] == 2
    assert (out["failed"], out["dead_lettered"], out["skipped"], out["deleted"]) == (0, 0, 0, 0)
    # 100 posts at 25 URIs a call: 4 getPosts, each URI asked once.
    calls = bsky.calls("app.bsky.feed.getPosts")
    assert len(calls) == 4 and all(len(c.query["uris"]) == 25 for c in calls)
    assert sorted(getposts_uris(bsky)) == sorted(uris)
    assert bsky.count("app.bsky.actor.getProfile") == 1
    # Mastodon: the multi-status endpoint, 20 ids at most, never one call per status.
    chunks = multi_get_ids(masto)
    assert sorted(len(c) for c in chunks) == [5, 20, 20]
    assert sorted(i for c in chunks for i in c) == sorted(statuses)
    assert masto.count("GET /api/v1/statuses/:id") == 0

    conn = db(home)
    row = conn.execute("select * from post_metric_snapshots where target_id = ?", (b_targets[7][1],)).fetchone()
    assert (row["likes"], row["shares"], row["comments"], row["quotes"], row["saves"]) == (7, 1, 2, 3, 4)
    assert row["engagement"] == 7 + 2 + 1
    # Bluesky reports no impressions, reach or views: NULL in the store, never 0.
    assert (row["impressions"], row["reach"], row["views"], row["clicks"], row["video_views"]) == (None,) * 5
    assert row["follower_count"] == 200
    row = conn.execute("select * from post_metric_snapshots where target_id = ?", (m_targets[3][1],)).fetchone()
    assert (row["likes"], row["shares"], row["comments"], row["quotes"]) == (3, 5, 6, 7)
    assert row["saves"] is None and row["impressions"] is None and row["reach"] is None
    assert row["engagement"] == 3 + 6 + 5 and row["follower_count"] == 50
    acc_rows = conn.execute("select account_id, followers from account_metric_snapshots order by account_id").fetchall()
    assert [tuple(r) for r in acc_rows] == [(b_id, 200), (m_id, 50)]
    # Every job finished; the latest table follows the snapshots.
    assert conn.execute("select count(*) from jobs where status != 'done'").fetchone()[0] == 0
    assert conn.execute("select count(*) from post_metric_latest").fetchone()[0] == 145


def test_mastodon_without_quotes_stores_null_quotes(cli, home, bsky):
    write_config(home)
    with FakeMastodon(token=MASTO_TOKEN, version="4.3.0") as old:
        m_id = connect_mastodon(cli, old)
        sid = old.add_status("old instance", favourites_count=2)["id"]
        ((_, tid),) = seed_targets(m_id, [sid])
        out = cli.json("collect")
    assert out["fetched"] == 1
    row = snapshots(home, tid)[0]
    assert row["likes"] == 2 and row["quotes"] is None and row["saves"] is None


def test_an_instance_without_the_multi_status_endpoint_is_remembered(cli, home, bsky):
    """The adapter learns from a 404 that the endpoint is missing; the next run must not ask again."""
    write_config(home)
    with FakeMastodon(token=MASTO_TOKEN) as inst:
        m_id = connect_mastodon(cli, inst)
        inst.multi_get_enabled = False
        sid = inst.add_status("no multi-get here", favourites_count=1)["id"]
        seed_targets(m_id, [sid])
        assert cli.json("collect")["fetched"] == 1
        multi_first = [r for r in inst.requests_to("GET", "/api/v1/statuses") if r.path == "/api/v1/statuses"]
        assert len(multi_first) == 1  # tried once, answered 404
        settings = (
            sqlite3.connect(home / "postcli.db")
            .execute("select settings from accounts where id = ?", (m_id,))
            .fetchone()[0]
        )
        assert json.loads(settings)["multi_get"] is False
        assert cli.json("collect")["fetched"] == 1  # fetched again, one status at a time
        multi_all = [r for r in inst.requests_to("GET", "/api/v1/statuses") if r.path == "/api/v1/statuses"]
        assert len(multi_all) == 1  # not asked again


def test_options_platform_account_limit_days(cli, home, bsky, masto, accounts):
    b_id, m_id = accounts
    uris = [bsky.add_post("alice.test", f"p{i}") for i in range(5)]
    old_uri = bsky.add_post("alice.test", "old one")
    statuses = [masto.add_status(f"t{i}")["id"] for i in range(3)]
    seed_targets(b_id, uris)
    seed_targets(b_id, [old_uri], published_at=datetime.now(timezone.utc) - timedelta(days=10))
    seed_targets(m_id, statuses)

    out = cli.json("collect", "--platform", "mastodon")
    assert out["fetched"] == 3 and out["accounts"] == 1
    assert bsky.count("app.bsky.feed.getPosts") == 0

    out = cli.json("collect", "--account", "alice.test", "--days", "7", "--limit", "2")
    assert out["fetched"] == 2 and out["accounts"] == 1
    assert len(getposts_uris(bsky)) == 2 and old_uri not in getposts_uris(bsky)

    out = cli.json("collect", "--account", str(b_id), "--days", "30")
    assert out["fetched"] == 6 and old_uri in getposts_uris(bsky)

    for bad, code in (
        (["--platform", "myspace"], 2),
        (["--account", "nobody"], 3),
        (["--limit", "0"], 2),
        (["--days", "-1"], 2),
    ):
        r = cli("collect", *bad)
        assert r.exit_code == code, (bad, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr and r.stderr.strip()


# --- deleted, revoked ---------------------------------------------------------------------


def test_deleted_post_is_marked_and_never_fetched_again(cli, home, bsky, masto, accounts):
    b_id, m_id = accounts
    uris = [bsky.add_post("alice.test", f"p{i}", likes=1) for i in range(3)]
    sids = [masto.add_status(f"t{i}")["id"] for i in range(2)]
    b_targets = seed_targets(b_id, uris)
    m_targets = seed_targets(m_id, sids)
    bsky.delete_record(uris[1])
    masto.delete_status(sids[0])

    out = cli.json("collect")
    assert out["deleted"] == 2 and out["fetched"] == 3
    conn = db(home)
    status = dict(conn.execute("select id, status from post_targets").fetchall())
    assert status[b_targets[1][1]] == "deleted" and status[m_targets[0][1]] == "deleted"
    assert snapshots(home, b_targets[1][1]) == []

    bsky.reset_log()
    masto.reset_log()
    out = cli.json("collect")
    assert out["deleted"] == 0 and out["fetched"] == 3
    assert uris[1] not in getposts_uris(bsky) and sorted(getposts_uris(bsky)) == sorted([uris[0], uris[2]])
    assert [sids[1]] == [i for c in multi_get_ids(masto) for i in c]


def test_revoked_token_stops_that_account_only(cli, home, bsky, masto, accounts):
    b_id, m_id = accounts
    uris = [bsky.add_post("alice.test", f"p{i}") for i in range(30)]
    sids = [masto.add_status(f"t{i}")["id"] for i in range(30)]
    seed_targets(b_id, uris)
    seed_targets(m_id, sids)
    masto.revoke_token()

    r = cli("collect", "--json")
    # Everything was handled: Mastodon's jobs were skipped (reported), nothing is left to retry.
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["fetched"] == 30 and out["accounts"] == 1
    assert out["skipped"] == 31 and out["failed"] == 0
    assert out["needs_reconnect"] == [f"mastodon:{masto.handle}"]
    assert "needs reconnecting" in r.stderr
    # The first 401 stopped the account: no batch after it went out.
    assert masto.count("GET /api/v1/statuses") == 0
    assert masto.count("GET /api/v1/accounts/verify_credentials (401)") == 1
    acc = cli.json("accounts", "show", str(m_id))
    assert acc["status"] == "token_expired" and acc["needs_reconnect"]
    assert db(home).execute("select count(*) from jobs where status in ('queued', 'running')").fetchone()[0] == 0

    # The next run does not even try the account.
    masto.reset_log()
    out = cli.json("collect")
    assert out["needs_reconnect"] == [f"mastodon:{masto.handle}"] and masto.requests_to("*") == []


# --- rate limits, timeouts, malformed answers, dead letters ---------------------------------


def test_429_retry_after_is_honoured_then_succeeds(cli, home, bsky, masto, accounts):
    b_id, m_id = accounts
    uris = [bsky.add_post("alice.test", f"p{i}") for i in range(10)]
    sids = [masto.add_status(f"t{i}")["id"] for i in range(10)]
    seed_targets(b_id, uris)
    seed_targets(m_id, sids)
    bsky.fail_next("app.bsky.feed.getPosts", 429, "RateLimitExceeded", "slow down", headers={"Retry-After": "1"})
    masto.fail_next("GET", "/api/v1/statuses", 429, headers={"Retry-After": "1"})

    out = cli.json("collect")
    assert out["fetched"] == 20 and out["failed"] == 0 and out["dead_lettered"] == 0
    assert any("rate limited" in n for n in out["notes"])
    assert bsky.count("app.bsky.feed.getPosts") == 2  # the 429, then the same batch again
    multi = [r for r in masto.requests_to("GET", "/api/v1/statuses") if r.path == "/api/v1/statuses"]
    assert [r.status for r in multi] == [429, 200]
    assert multi[1].at - multi[0].at >= 0.9  # waited for Retry-After, not hammering
    # A postponement is not a failed attempt.
    rows = db(home).execute("select status, attempts, last_error from jobs where kind = 'post_metrics'").fetchall()
    assert {(r["status"], r["attempts"], r["last_error"]) for r in rows} == {("done", 0, None)}


def test_a_large_account_is_claimed_in_chunks_and_a_failed_batch_retried_within_the_run(cli, home, masto):
    """Several chunks (claimed while earlier ones are still being fetched), a batch failing once
    in the middle: every status is still asked for once (the failed one twice) and snapshotted once."""
    write_config(home, concurrency=2)
    m_id = connect_mastodon(cli, masto)
    sids = [masto.add_status(f"t{i}", favourites_count=i)["id"] for i in range(430)]
    targets = seed_targets(m_id, sids)
    masto.set_delay(0.01)
    masto.reset_log()
    masto.fail_next("GET", "/api/v1/statuses", 503, times=1)

    out = cli.json("collect")
    assert out["fetched"] == 430 and out["failed"] == 0 and out["dead_lettered"] == 0
    calls = multi_get_ids(masto)
    assert len(calls) == 430 // 20 + 1 + 1  # 22 batches, one of them twice
    asked = sorted(i for call in calls for i in call)
    assert len(set(asked)) == 430 and len(asked) == 430 + len(calls[0])
    counts = dict(
        db(home).execute("select target_id, count(*) from post_metric_snapshots group by target_id").fetchall()
    )
    assert counts == {tid: 1 for _pid, tid in targets}
    attempts = sorted(r["attempts"] for r in db(home).execute("select attempts from jobs where kind = 'post_metrics'"))
    assert attempts == [0] * 410 + [1] * 20


def test_timeout_is_retried_with_backoff(cli, home, bsky, masto, accounts):
    _, m_id = accounts
    sids = [masto.add_status(f"t{i}")["id"] for i in range(5)]
    targets = seed_targets(m_id, sids)
    masto.set_delay(3, "GET", "/api/v1/statuses", times=1)

    r = cli("collect", "--json", "--platform", "mastodon", env={"POSTCLI_TIMEOUT": "0.5"})
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["fetched"] == 5 and out["failed"] == 0
    assert len(snapshots(home, targets[0][1])) == 1
    attempts = {r["attempts"] for r in db(home).execute("select attempts from jobs where kind = 'post_metrics'")}
    assert attempts == {1}


def test_malformed_answer_is_retried_then_dead_lettered_and_nothing_else_is_lost(cli, home, bsky, masto, accounts):
    b_id, m_id = accounts
    uris = [bsky.add_post("alice.test", f"p{i}", likes=2) for i in range(3)]
    sids = [masto.add_status(f"t{i}", favourites_count=1)["id"] for i in range(4)]
    b_targets = seed_targets(b_id, uris)
    m_targets = seed_targets(m_id, sids)
    bsky.fail_next("app.bsky.feed.getPosts", 200, body=b"{not json", times=3)

    r = cli("collect", "--json")
    assert r.exit_code == 7, r.stderr  # some jobs failed
    out = json.loads(r.stdout)
    assert out["dead_lettered"] == 3 and out["fetched"] == 4 and out["accounts"] == 2
    assert bsky.count("app.bsky.feed.getPosts") == 3  # max_attempts = 3
    assert "jobs list --dead" in r.stderr
    # Everything else was stored: Mastodon's posts and both accounts' numbers.
    assert all(len(snapshots(home, tid)) == 1 for _, tid in m_targets)
    assert all(snapshots(home, tid) == [] for _, tid in b_targets)
    assert db(home).execute("select count(*) from account_metric_snapshots").fetchone()[0] == 2

    dead = cli.json("jobs", "list", "--dead")
    assert len(dead) == 3 and {d["status"] for d in dead} == {"dead"}
    assert all("cannot read" in d["last_error"] and d["attempts"] == 3 for d in dead)
    assert {d["key"] for d in dead} == {f"acct:{b_id}:target:{tid}" for _, tid in b_targets}
    text = cli("jobs", "list", "--dead")
    assert text.exit_code == 0 and "cannot read" in text.stdout

    # A dead letter waits for a person: the next run does not retry it on its own.
    bsky.reset_log()
    out = cli.json("collect")
    assert out["dead_waiting"] == 3 and getposts_uris(bsky) == []
    assert out["waiting_retry"] == 3  # the same number under its first name
    assert out["dead_lettered"] == 0 and out["failed"] == 0

    one = dead[0]["id"]
    assert cli.json("jobs", "retry", str(one)) == {"requeued": [one]}
    out = cli.json("collect", "--platform", "bluesky")
    retried_target = int(dead[0]["key"].rsplit(":", 1)[1])
    assert out["fetched"] == 1 and getposts_uris(bsky) == [uris[[t for _, t in b_targets].index(retried_target)]]
    assert cli.json("jobs", "retry", "--all-dead")["requeued"] == sorted(d["id"] for d in dead[1:])
    out = cli.json("collect", "--platform", "bluesky")
    assert out["fetched"] == 3 and cli.json("jobs", "list", "--dead") == []
    assert sorted(len(snapshots(home, tid)) for _, tid in b_targets) == [1, 1, 2]


def test_jobs_commands_refuse_bad_input(cli, home, accounts):
    for args, code in (
        (["jobs", "retry"], 2),
        (["jobs", "retry", "5", "--all-dead"], 2),
        (["jobs", "retry", "999"], 3),
        (["jobs", "retry", "abc"], 2),
        (["jobs", "list", "--status", "weird"], 2),
    ):
        r = cli(*args)
        assert r.exit_code == code, (args, r.stdout, r.stderr)
        assert "Traceback" not in r.stdout + r.stderr
    cli.json("collect")
    done = cli.json("jobs", "list")
    assert done and cli("jobs", "retry", str(done[0]["id"])).exit_code == 4  # only dead jobs
    assert cli.json("jobs", "list", "--dead") == [] and "No dead jobs" in cli("jobs", "list", "--dead").stdout


# --- overlapping runs -------------------------------------------------------------------------


def test_two_concurrent_collect_processes_snapshot_each_target_once(cli, home, bsky, masto, accounts):
    b_id, m_id = accounts
    write_config(home, min_interval_seconds=600)
    uris = [bsky.add_post("alice.test", f"p{i}", likes=i) for i in range(100)]
    sids = [masto.add_status(f"t{i}")["id"] for i in range(40)]
    b_targets = seed_targets(b_id, uris)
    m_targets = seed_targets(m_id, sids)
    bsky.set_delay(0.05)  # long enough for the two runs to overlap
    masto.set_delay(0.05)
    bsky.reset_log()
    masto.reset_log()

    results: list = [None, None]
    go = threading.Barrier(2)

    def run(i: int) -> None:
        go.wait()
        results[i] = run_postcli("collect", "--json")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    for res in results:
        assert res.returncode == 0, res.stderr
        assert "Traceback" not in res.stderr
    outs = [json.loads(r.stdout) for r in results]
    assert sum(o["fetched"] for o in outs) == 140 and sum(o["accounts"] for o in outs) == 2
    asked = getposts_uris(bsky)
    assert sorted(asked) == sorted(uris)  # each URI asked exactly once across both processes
    assert sorted(i for c in multi_get_ids(masto) for i in c) == sorted(sids)
    conn = db(home)
    counts = conn.execute("select target_id, count(*) from post_metric_snapshots group by target_id").fetchall()
    assert len(counts) == 140 and {c for _, c in counts} == {1}
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert conn.execute("select count(*) from jobs where status != 'done'").fetchone()[0] == 0
    assert conn.execute("select count(*) from account_metric_snapshots").fetchone()[0] == 2
    row = conn.execute("select likes from post_metric_latest where target_id = ?", (b_targets[42][1],)).fetchone()
    assert row["likes"] == 42 and len(m_targets) == 40
