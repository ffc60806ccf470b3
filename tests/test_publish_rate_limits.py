"""Rate limits and quotas on publishing exit 5 and say when they lift (issue 14, item 13).

Documented refusals the fakes give:
- Mastodon: 429 with X-RateLimit-Limit / -Remaining 0 / -Reset (an ISO time)
  (docs.joinmastodon.org/api/rate-limits).
- Threads: GET /{user}/threads_publishing_limit?fields=quota_usage,config answers
  {"data": [{"quota_usage": 250, "config": {"quota_total": 250, "quota_duration": 86400}}]}
  when the 250 posts per rolling 24 hours are used up
  (developers.facebook.com/docs/threads/overview#rate-limiting, "Threads publishing limits").

Precedence (services/exit_codes.py): a post that partly published exits 7 even when
the rest was rate limited; 5 only when every failure is a rate limit or quota.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from fakes.mastodon_server import FakeMastodon
from fakes.threads_server import FakeThreads
from support.accounts import MASTO_TOKEN, connect_mastodon, connect_threads


@pytest.fixture
def masto():
    with FakeMastodon(token=MASTO_TOKEN) as server:
        yield server


@pytest.fixture
def threads():
    with FakeThreads() as server:
        yield server


def minute(at: datetime) -> set[str]:
    """The times a message may name for `at` (the minute may roll over while the command runs)."""
    return {f"{at:%H:%M}", f"{at + timedelta(minutes=1):%H:%M}"}


def test_a_mastodon_429_on_publish_exits_5_with_the_reset_time(cli, home, masto):
    connect_mastodon(cli, masto)
    masto.fail_next("POST", "/api/v1/statuses", 429)  # X-RateLimit-Reset 30 s ahead
    before = datetime.now(timezone.utc)
    r = cli("post", "create", "hello", "--to", "mastodon", "--json")
    assert r.exit_code == 5, (r.stdout, r.stderr)
    (target,) = json.loads(r.stdout)["targets"]
    assert target["status"] == "failed" and target["retry_at"]
    retry_at = datetime.fromisoformat(target["retry_at"])
    assert before + timedelta(seconds=25) <= retry_at <= before + timedelta(seconds=40)
    assert "the limit lifts by" in target["error"] and "rate limited" in r.stderr
    assert any(m in r.stderr for m in minute(retry_at))

    # The limit has lifted: the retry publishes it once.
    out = cli.json("post", "retry", str(json.loads(r.stdout)["post_id"]))
    assert out["status"] == "completed" and len(masto.statuses) == 1


def test_a_used_up_threads_quota_exits_5_on_create_publish_retry_and_publish_due(cli, home, threads):
    connect_threads(cli, threads)
    threads.quota_usage = threads.quota_total = 250
    at = datetime.now(timezone.utc) + timedelta(hours=24)

    r = cli("post", "create", "hello", "--to", "threads")
    assert r.exit_code == 5, (r.stdout, r.stderr)
    assert "rate limited" in r.stderr and any(m in r.stderr for m in minute(at))
    post_id = sqlite3.connect(home / "postcli.db").execute("select max(id) from posts").fetchone()[0]

    assert cli("post", "retry", str(post_id)).exit_code == 5

    draft = cli.json("post", "create", "a draft", "--to", "threads", "--draft")
    assert cli("post", "publish", str(draft["id"])).exit_code == 5

    scheduled = cli.json("post", "create", "later", "--to", "threads", "--at", "+1h")
    conn = sqlite3.connect(home / "postcli.db")
    conn.execute(
        "update posts set scheduled_at = ? where id = ?",
        ((datetime.now(timezone.utc) - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S.%f"), scheduled["id"]),
    )
    conn.commit()
    r = cli("publish-due")
    assert r.exit_code == 5, (r.stdout, r.stderr)
    assert "rate limited" in r.stderr
    # Nothing was created on Threads: the quota was read before any container.
    assert threads.published == []


def test_partly_published_with_the_rest_rate_limited_exits_7(cli, home, masto, threads):
    connect_mastodon(cli, masto)
    connect_threads(cli, threads)
    threads.quota_usage = threads.quota_total = 250
    r = cli("post", "create", "hello", "--to", "mastodon", "--to", "threads", "--json")
    assert r.exit_code == 7, (r.stdout, r.stderr)
    targets = {t["platform"]: t for t in json.loads(r.stdout)["targets"]}
    assert targets["mastodon"]["status"] == "completed"
    assert targets["threads"]["status"] == "failed" and targets["threads"]["retry_at"]
    assert "rate limited" in r.stderr
