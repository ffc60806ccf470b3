"""`collect` finishes while a platform rate-limits it (issue 14, item 12).

A limit that lifts within [collect] max_rate_wait_seconds is waited out in-process
(test_collect.py::test_429_retry_after_is_honoured_then_succeeds). A longer one
defers the throttled account's jobs to the reset time, the account is not asked
again in this run, the other accounts finish, and the run exits 5.

The refusals are the documented ones:
- Facebook Pages: error code 32 (Page-level throttling) with
  X-Business-Use-Case-Usage {"<page id>": [{"type": "pages", "call_count": 100,
  "total_cputime": .., "total_time": .., "estimated_time_to_regain_access": 7}]}
  (minutes) - developers.facebook.com/docs/graph-api/overview/rate-limiting,
  "Business Use Case Rate Limits" and "Error Codes".
- Threads: error code 4 (application-level throttling) with X-App-Usage
  {"call_count": 100, "total_cputime": .., "total_time": ..} - same page,
  "Platform Rate Limits" (the header carries percentages, no reset time).
- Tumblr: 429 "Limit Exceeded" with Retry-After - tumblr/docs api.md "Rate Limits".

Each run is a separate process with a timeout, as cron runs it: before the fix
these runs did not end (the account endpoint was asked again every minute).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from fakes.facebook_server import FakeFacebook
from fakes.mastodon_server import FakeMastodon
from fakes.threads_server import DEFAULT_TOKEN as THREADS_TOKEN
from fakes.threads_server import FakeThreads
from fakes.tumblr_server import FakeTumblr
from support.accounts import (
    MASTO_TOKEN,
    connect_mastodon,
    connect_tumblr,
    db,
    multi_get_ids,
    seed_targets,
    write_config,
)
from support.cli import run_postcli

RUN_TIMEOUT = 90  # seconds; a run that waits for a 5-minute reset fails the test instead of hanging


@pytest.fixture
def masto():
    with FakeMastodon(token=MASTO_TOKEN, followers_count=50) as server:
        yield server


def collect_process(*args: str) -> tuple[int, dict, str]:
    r = run_postcli("collect", "--json", *args, timeout=RUN_TIMEOUT)
    return r.returncode, json.loads(r.stdout), r.stderr


def jobs_of(home, account_id: int) -> list[sqlite3.Row]:
    return (
        db(home)
        .execute(
            "select kind, status, attempts, run_after, last_error from jobs where key like ? order by id",
            (f"acct:{account_id}:%",),
        )
        .fetchall()
    )


def as_utc(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def assert_deferred(home, account_id: int, jobs: int, low: datetime, high: datetime) -> None:
    rows = jobs_of(home, account_id)
    assert len(rows) == jobs
    for row in rows:
        assert (row["status"], row["attempts"]) == ("queued", 0), dict(row)
        assert row["last_error"].startswith("rate limited until")
        assert low <= as_utc(row["run_after"]) <= high, (row["run_after"], low, high)


def test_facebook_code_32_defers_the_page_to_the_reset_and_the_others_finish(cli, home, masto):
    write_config(home)
    with FakeFacebook() as fb:
        page = fb.add_page("Cafe Nova", followers=120, fans=110)
        token = fb.add_user("Ada", [page])
        fb_id = cli.json("accounts", "add", "facebook", "--api-base", fb.url, "--token-stdin", input=token + "\n")["id"]
        for text in ("one", "two"):
            assert cli.json("post", "create", text, "--to", "facebook")["status"] == "completed"
        m_id = connect_mastodon(cli, masto)
        sids = [masto.add_status(f"t{i}")["id"] for i in range(3)]
        seed_targets(m_id, sids)
        fb.reset_log()
        usage = {
            page.id: [
                {
                    "type": "pages",
                    "call_count": 100,
                    "total_cputime": 40,
                    "total_time": 45,
                    "estimated_time_to_regain_access": 7,
                }
            ]
        }
        throttled = dict(
            code=32,
            message="(#32) Page request limit reached",
            times=1000,
            headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
        )
        fb.fail_next("*", f"/{page.id}", **throttled)
        fb.fail_next("POST", "/", **throttled)  # the Batch API call itself

        before = datetime.now(timezone.utc)
        code, out, stderr = collect_process()
        after = datetime.now(timezone.utc)

        assert code == 5, stderr
        # Mastodon was collected in full; nothing failed.
        assert (out["fetched"], out["accounts"], out["failed"], out["dead_lettered"]) == (3, 1, 0, 0)
        (limited,) = out["rate_limited"]
        assert limited["account"] == "facebook:Cafe Nova" and limited["jobs"] == 3 and out["deferred"] == 3
        until = as_utc(limited["until"])
        assert before + timedelta(minutes=7) <= until <= after + timedelta(minutes=7)
        assert "facebook:Cafe Nova is rate limited until" in stderr and f"{until:%H:%M}" in stderr
        # The account job and both posts wait for the reset, no attempt spent.
        assert_deferred(home, fb_id, 3, before + timedelta(minutes=7), after + timedelta(minutes=7))
        # One request for the counters, one batch for the posts: nobody asked again.
        assert len(fb.requests_to("*", in_batch=False)) <= 2

        # A run before the reset leaves the page alone and says why.
        fb.reset_log()
        code, out, stderr = collect_process()
        assert code == 5 and out["rate_limited"][0]["jobs"] == 3
        assert fb.requests_to("*") == []


def test_threads_code_4_without_a_reset_time_defers_for_the_assumed_five_minutes(cli, home):
    write_config(home)
    with FakeThreads() as server:
        r = cli(
            "accounts",
            "add",
            "threads",
            "--api-base",
            server.url,
            "--token-stdin",
            "--json",
            input=THREADS_TOKEN + "\n",
        )
        assert r.exit_code == 0, r.stderr
        t_id = json.loads(r.stdout)["id"]
        assert cli.json("post", "create", "hello", "--to", "threads")["status"] == "completed"
        server.reset_log()
        error = {
            "error": {
                "message": "(#4) Application request limit reached",
                "type": "OAuthException",
                "is_transient": True,
                "code": 4,
                "fbtrace_id": "AbCdEf",
            }
        }
        server.fail_next(
            "GET",
            "/v1.0/",
            400,
            json=error,
            times=1000,
            headers={"X-App-Usage": json.dumps({"call_count": 100, "total_cputime": 20, "total_time": 30})},
        )

        before = datetime.now(timezone.utc)
        code, out, stderr = collect_process()
        after = datetime.now(timezone.utc)

        assert code == 5, stderr
        assert out["failed"] == 0 and out["deferred"] == 2
        assert_deferred(home, t_id, 2, before + timedelta(minutes=5), after + timedelta(minutes=5))
        assert len(server.requests_to("GET", "/v1.0/")) <= 2


def test_tumblr_429_retry_after_300_defers_the_blog(cli, home, masto):
    write_config(home)
    with FakeTumblr() as server:
        tb_id = connect_tumblr(cli, server)
        for text in ("one", "two", "three"):
            assert cli.json("post", "create", text, "--to", "tumblr")["status"] == "completed"
        m_id = connect_mastodon(cli, masto)
        sid = masto.add_status("toot")["id"]
        seed_targets(m_id, [sid])
        server.reset_log()
        server.fail_next("GET", "/v2/", 429, detail="Limit Exceeded", headers={"Retry-After": "300"}, times=1000)

        before = datetime.now(timezone.utc)
        code, out, stderr = collect_process()
        after = datetime.now(timezone.utc)

        assert code == 5, stderr
        assert (out["fetched"], out["failed"], out["deferred"]) == (1, 0, 4)
        assert multi_get_ids(masto) == [[sid]]
        assert_deferred(home, tb_id, 4, before + timedelta(seconds=300), after + timedelta(seconds=300))
        # Per-post notes calls: at most the ones already in flight when the first 429 came back.
        assert len(server.requests_to("GET", "/v2/")) <= 3


def test_the_in_process_wait_is_bounded_by_config(cli, home, masto):
    """[collect] max_rate_wait_seconds = 0: even a 1-second Retry-After defers instead of waiting."""
    write_config(home, max_rate_wait_seconds=0)
    m_id = connect_mastodon(cli, masto)
    sids = [masto.add_status(f"t{i}")["id"] for i in range(2)]
    seed_targets(m_id, sids)
    masto.fail_next("GET", "/api/v1/", 429, headers={"Retry-After": "1"}, times=1000)
    code, out, stderr = collect_process()
    assert code == 5, stderr
    assert out["deferred"] == 3 and out["fetched"] == 0 and out["failed"] == 0
    assert "rate limited until" in stderr


def test_a_worker_defers_a_throttled_blog_and_returns(cli, home):
    """`collect --plan-only` then `collect --worker`: the worker stops asking the blog and ends with 5."""
    write_config(home)
    with FakeTumblr() as server:
        tb_id = connect_tumblr(cli, server)
        assert cli.json("post", "create", "one", "--to", "tumblr")["status"] == "completed"
        assert cli("collect", "--plan-only").exit_code == 0
        server.reset_log()
        server.fail_next("GET", "/v2/", 429, detail="Limit Exceeded", headers={"Retry-After": "300"}, times=1000)

        before = datetime.now(timezone.utc)
        code, out, stderr = collect_process("--worker")
        after = datetime.now(timezone.utc)

        assert code == 5, stderr
        assert out["deferred"] == 2 and out["failed"] == 0
        assert_deferred(home, tb_id, 2, before + timedelta(seconds=300), after + timedelta(seconds=300))
        assert len(server.requests_to("GET", "/v2/")) <= 2
