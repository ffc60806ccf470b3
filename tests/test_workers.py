"""`postcli collect --worker`: several processes share one queue (issue 8).

Real worker processes (the installed entry point) against a fake Mastodon on a
loopback socket, on SQLite and on a real PostgreSQL. What is checked is what
the platform received (each status asked for exactly once) and what the store
holds (one snapshot per target, every job done).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fakes.mastodon_server import FakeMastodon
from support.accounts import MASTO_TOKEN, connect_mastodon, multi_get_ids, seed_targets, write_config
from support.cli import kill_when


@pytest.fixture
def masto():
    with FakeMastodon(token=MASTO_TOKEN, followers_count=50, ratelimit_limit=100_000) as server:
        yield server


def start_worker(*args: str) -> subprocess.Popen[str]:
    exe = Path(sys.executable).with_name("postcli")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "postcli"]
    return subprocess.Popen(
        cmd + ["collect", "--worker", "--json", *args],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def store_counts() -> dict[str, object]:
    from sqlalchemy import func, select

    from postcli.store.models import AccountMetricSnapshot, Job, PostMetricSnapshot
    from postcli.store.session import session_scope

    with session_scope(readonly=True) as s:
        per_target = dict(
            s.execute(select(PostMetricSnapshot.target_id, func.count()).group_by(PostMetricSnapshot.target_id)).all()
        )
        jobs = dict(s.execute(select(Job.status, func.count()).group_by(Job.status)).all())
        accounts = s.scalar(select(func.count()).select_from(AccountMetricSnapshot))
    return {"per_target": per_target, "jobs": jobs, "account_snapshots": accounts}


def asked_ids(server: FakeMastodon) -> list[str]:
    return sorted(i for call in multi_get_ids(server) for i in call)


def test_four_workers_do_every_job_exactly_once(cli, home, masto, backend):
    write_config(home)
    account_id = connect_mastodon(cli, masto)
    sids = [masto.add_status(f"t{i}", favourites_count=i)["id"] for i in range(240)]
    targets = seed_targets(account_id, sids)
    assert cli.json("collect", "--plan-only")["planned"] == 241
    masto.set_delay(0.03)  # long enough for the workers' claims to interleave
    masto.reset_log()

    procs = [start_worker("--concurrency", "2") for _ in range(4)]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert "Traceback" not in err
        outs.append(json.loads(out))

    assert sum(o["fetched"] for o in outs) == 240 and sum(o["accounts"] for o in outs) == 1
    # Which worker got how much depends on when each process started (~1 s of imports on a
    # loaded machine): not asserted. Exactly-once is what matters, and is checked below.
    assert asked_ids(masto) == sorted(sids)  # each status asked for once across all workers
    counts = store_counts()
    assert counts["per_target"] == {tid: 1 for _pid, tid in targets}
    assert counts["jobs"] == {"done": 241} and counts["account_snapshots"] == 1


def test_a_killed_workers_jobs_are_taken_over_after_its_lease(cli, home, masto, backend):
    write_config(home, lease_seconds=2)
    account_id = connect_mastodon(cli, masto)
    sids = [masto.add_status(f"t{i}")["id"] for i in range(60)]
    targets = seed_targets(account_id, sids)
    cli.json("collect", "--plan-only")
    masto.set_delay(30, "GET", "/api/v1/statuses")  # the worker is mid-fetch when it dies
    masto.reset_log()

    victim = start_worker("--concurrency", "1")
    kill_when(victim, lambda: len(multi_get_ids(masto)) >= 1)  # asked, not yet answered
    from sqlalchemy import select

    from postcli.store.models import Job
    from postcli.store.session import session_scope

    with session_scope(readonly=True) as s:
        held = list(s.scalars(select(Job.id).where(Job.status == "running")))
    assert held  # the dead worker's claim is still there, leased

    masto.clear_faults()
    survivor = start_worker("--wait", "8")
    out, err = survivor.communicate(timeout=120)
    assert survivor.returncode == 0, err
    report = json.loads(out)
    assert report["fetched"] == 60
    counts = store_counts()
    assert counts["per_target"] == {tid: 1 for _pid, tid in targets}
    assert counts["jobs"] == {"done": 61}
    # The killed worker's request never got an answer; the survivor asked for every status.
    assert set(sids) <= set(asked_ids(masto))


def test_the_request_budget_is_shared_by_all_workers(cli, home, masto, backend):
    write_config(home)
    with open(home / "config.toml", "a") as f:
        f.write('\n[collect.rate_limits]\nmastodon = "6/100000"\n')
    account_id = connect_mastodon(cli, masto)
    sids = [masto.add_status(f"t{i}")["id"] for i in range(200)]  # 10 multi-gets + 1 profile
    seed_targets(account_id, sids)
    cli.json("collect", "--plan-only")
    masto.reset_log()

    procs = [start_worker() for _ in range(3)]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        outs.append(json.loads(out))

    # Six requests in all, whichever worker made them; the rest waits for the budget to refill.
    assert len(masto.requests) == 6
    assert sum(o["accounts"] for o in outs) == 1 and sum(o["fetched"] for o in outs) == 100
    assert store_counts()["jobs"] == {"done": 101, "queued": 100}


def test_worker_refuses_options_that_belong_to_planning(cli):
    r = cli("collect", "--worker", "--days", "3")
    assert r.exit_code == 2
    assert "--plan-only" in r.stderr and "Traceback" not in r.stderr


def test_platforms_whose_numbers_settle_late_are_collected_for_48_hours():
    from datetime import timedelta

    from postcli.services.collect.planning import window

    assert window("instagram", 1) == timedelta(hours=48)
    assert window("facebook", 0) == timedelta(hours=48)
    assert window("instagram", 30) == timedelta(days=30)
    assert window("mastodon", 1) == timedelta(days=1)
    assert window("pinterest", 1) == timedelta(hours=96)  # Pin analytics settle within 72 hours


def test_results_of_a_lost_lease_are_dropped(cli, home, masto, backend):
    """A collector whose lease ran out while it was fetching, and whose jobs another collector
    took meanwhile, writes nothing for them: the other collector owns them now."""
    import threading
    import time
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import select, update

    from postcli.services.collect.run import collect
    from postcli.store.models import Job, PostMetricSnapshot
    from postcli.store.session import session_scope

    write_config(home, lease_seconds=2)
    account_id = connect_mastodon(cli, masto)
    sids = [masto.add_status(f"t{i}", favourites_count=i)["id"] for i in range(3)]
    seed_targets(account_id, sids)
    # Longer than half the lease: past the part of it the collector trusts without checking.
    masto.set_delay(1.5, "GET", "/api/v1/statuses", times=1)
    masto.reset_log()

    result = {}
    run = threading.Thread(target=lambda: result.update(report=collect()))
    run.start()
    deadline = time.monotonic() + 30
    while not multi_get_ids(masto):  # the multi-get is on its way
        assert time.monotonic() < deadline
        time.sleep(0.01)
    with session_scope() as s:  # ... and another collector takes the jobs over
        taken = s.execute(
            update(Job)
            .where(Job.kind == "post_metrics", Job.status == "running")
            .values(locked_by="other-host:1", locked_until=datetime.now(timezone.utc) + timedelta(hours=1))
        ).rowcount
    assert taken == 3
    run.join(timeout=60)

    report = result["report"]
    assert report.fetched == 0 and report.failed == 0 and report.dead == 0
    with session_scope(readonly=True) as s:
        assert s.scalars(select(PostMetricSnapshot)).all() == []
        held = s.execute(select(Job.status, Job.locked_by).where(Job.kind == "post_metrics")).all()
    assert held == [("running", "other-host:1")] * 3
