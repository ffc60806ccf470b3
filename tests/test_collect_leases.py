"""`collect` after a run that was killed part way, or beside one that is still running (issue 23 item 6).

Real `collect` processes against a fake Mastodon that holds its answers: a run is
SIGKILLed while its requests are unanswered (its claims stay leased for [collect]
lease_seconds, 300 s), and the next run takes those jobs over at once because their
holder is provably dead (services/holders.py). Jobs a live run holds are left to it,
and the run says how many and until when.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fakes.mastodon_server import FakeMastodon
from support.accounts import MASTO_TOKEN, connect_mastodon, seed_targets, write_config
from support.cli import kill_when

POSTS = 5


@pytest.fixture
def masto(cli, home, backend):  # on SQLite and on PostgreSQL
    with FakeMastodon(token=MASTO_TOKEN, followers_count=50, ratelimit_limit=100_000) as server:
        write_config(home)  # the default lease: 300 s
        account_id = connect_mastodon(cli, server)
        seed_targets(account_id, [server.add_status(f"t{i}", favourites_count=i)["id"] for i in range(POSTS)])
        server.reset_log()
        yield server


def _start_collect() -> subprocess.Popen[str]:
    exe = Path(sys.executable).with_name("postcli")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "postcli"]
    return subprocess.Popen(
        [*cmd, "collect", "--json"], env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _both_asked(masto: FakeMastodon) -> bool:
    """The account's counters and its posts' statuses are both on the wire (so all its jobs are claimed)."""
    paths = {r.path for r in masto.requests_to("GET", "/api/v1/")}
    return {"/api/v1/accounts/verify_credentials", "/api/v1/statuses"} <= paths


def _jobs() -> dict[str, int]:  # through postcli's store (SQLite or PostgreSQL, as the test runs)
    from sqlalchemy import func, select

    from postcli.store.models import Job
    from postcli.store.session import session_scope

    with session_scope(readonly=True) as s:
        return dict(s.execute(select(Job.status, func.count()).group_by(Job.status)).all())  # type: ignore[arg-type]


def test_the_jobs_of_a_killed_collect_are_taken_over_by_the_next_run_at_once(cli, masto):
    gate = masto.hold("GET", "/api/v1/")
    victim = _start_collect()
    try:
        kill_when(victim, lambda: _both_asked(masto))
    finally:
        gate.set()
    assert _jobs() == {"running": POSTS + 1}  # leased to a dead process for another ~5 minutes

    r = cli("collect", "--json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["fetched"] == POSTS and out["accounts"] == 1  # was "fetched 0" until the lease ran out
    assert out["taken_over"] == POSTS + 1 and out["held_by_other_runs"] == []
    assert any("no longer running" in n for n in out["notes"])
    assert _jobs() == {"done": POSTS + 1}


def test_a_live_runs_jobs_are_left_to_it_and_the_run_says_how_many_and_until_when(cli, masto):
    gate = masto.hold("GET", "/api/v1/")
    holder = _start_collect()
    try:
        deadline = time.monotonic() + 60
        while not _both_asked(masto):
            assert holder.poll() is None, holder.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        before = datetime.now(timezone.utc)
        r = cli("collect", "--json")
        assert r.exit_code == 0, r.stderr
        out = json.loads(r.stdout)
        assert out["fetched"] == 0 and out["taken_over"] == 0
        (held,) = out["held_by_other_runs"]
        assert held["holder"].endswith(f":{holder.pid}") and held["jobs"] == POSTS + 1
        until = datetime.fromisoformat(held["until"])
        assert before + timedelta(seconds=200) < until <= before + timedelta(seconds=301)

        text = cli("collect")
        assert text.exit_code == 0
        assert f"{POSTS + 1} job(s) are held by another collect run ({held['holder']}) until " in text.stderr
    finally:
        gate.set()
    out, err = holder.communicate(timeout=120)
    assert holder.returncode == 0, err
    assert json.loads(out)["fetched"] == POSTS  # the live run finished its own jobs
    assert _jobs() == {"done": POSTS + 1}


def test_jobs_held_from_another_machine_are_never_taken_before_their_lease_ends(cli, masto):
    """Whether a process on another host is alive cannot be told from here: its lease stands."""
    from sqlalchemy import update

    from postcli.store.models import Job
    from postcli.store.session import session_scope

    assert cli.json("collect", "--plan-only")["planned"] == POSTS + 1
    until = datetime.now(timezone.utc) + timedelta(hours=1)
    with session_scope() as s:
        s.execute(
            update(Job).values(status="running", locked_by="elsewhere.example:4242", locked_until=until)
        )  # fmt: skip
    out = cli.json("collect")
    assert out["fetched"] == 0 and out["taken_over"] == 0
    assert out["held_by_other_runs"] == [
        {"holder": "elsewhere.example:4242", "jobs": POSTS + 1, "until": until.isoformat()}
    ]
    assert _jobs() == {"running": POSTS + 1}
    assert masto.requests_to("GET", "/api/v1/statuses") == []
