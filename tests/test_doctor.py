"""`postcli doctor` (issue 27): every check in both states, the JSON shape, the exit codes; the
scheduler check driven by recorded runs (rows written with their times: no sleeping)."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fakes.mastodon_server import FakeMastodon
from support.accounts import MASTO_TOKEN, connect_mastodon


def _doctor(cli, *args: str) -> tuple[int, dict]:  # type: ignore[no-untyped-def, type-arg]
    r = cli("doctor", *args, "--json")
    data = json.loads(r.stdout)
    assert data["exit_code"] == r.exit_code
    assert all(set(c) == {"name", "status", "message", "fix"} for c in data["checks"])
    assert all(c["status"] in ("ok", "warn", "fail") for c in data["checks"])
    return r.exit_code, data


def _check(data: dict, name: str) -> dict:  # type: ignore[type-arg]
    found = [c for c in data["checks"] if c["name"] == name]
    assert found, [c["name"] for c in data["checks"]]
    return found[0]


def _record(command: str, minutes_ago: float, exit_code: int = 0) -> None:
    from postcli.store.models import Run
    from postcli.store.session import session_scope

    started = datetime.now(timezone.utc) - timedelta(minutes=minutes_ago)
    with session_scope() as session:
        session.add(
            Run(
                command=command,
                started_at=started,
                ended_at=started + timedelta(seconds=3),
                outcome="ok" if exit_code == 0 else "failed",
                exit_code=exit_code,
            )
        )


@pytest.fixture
def masto():
    with FakeMastodon(token=MASTO_TOKEN) as server:
        yield server


def test_a_fresh_home_has_no_store_yet(cli, home):
    code, data = _doctor(cli)
    assert code == 0 and _check(data, "store")["status"] == "warn"
    assert not (home / "postcli.db").exists()  # doctor created nothing


def test_a_store_that_is_fine(cli, home, masto):
    connect_mastodon(cli, masto)
    _record("publish-due", 2)
    _record("collect", 30)
    code, data = _doctor(cli)
    assert code == 0, data
    for name in (
        "store",
        "store integrity",
        "store schema",
        "disk space",
        "secrets",
        "scheduler: publish-due",
        "scheduler: collect",
    ):
        assert _check(data, name)["status"] == "ok", name
    assert _check(data, "store file mode")["status"] == "ok"
    assert _check(data, "notifications")["status"] == "warn"  # none configured: said, but not a failure
    text = cli("doctor")
    assert "[ok  ] store schema" in text.stdout and text.exit_code == 0


def test_late_cron_jobs_and_overdue_posts_are_named_with_the_fix(cli, home, masto):
    connect_mastodon(cli, masto)
    r = cli("post", "create", "later", "--to", "mastodon", "--at", "+1h", "--json")
    post_id = json.loads(r.stdout)["id"]
    from postcli.store.models import Post
    from postcli.store.session import session_scope

    with session_scope() as session:  # its time came 2 hours ago and nothing ran since
        session.get(Post, post_id).scheduled_at = datetime.now(timezone.utc) - timedelta(hours=2)
    _record("publish-due", 192)  # every 5 minutes expected: late after 10
    _record("collect", 30)
    code, data = _doctor(cli)
    assert code == 1
    late = _check(data, "scheduler: publish-due")
    assert late["status"] == "fail" and "has not run for 3 h 12 min" in late["message"]
    assert f"1 scheduled post(s) are overdue (ids {post_id})" in late["message"] and "cron" in late["fix"]
    (home / "config.toml").write_text("[doctor]\npublish_every_minutes = 120\n")  # fractions and larger intervals
    _, data = _doctor(cli)
    assert _check(data, "scheduler: publish-due")["status"] == "ok"


def test_never_run_and_failed_runs(cli, home, masto):
    connect_mastodon(cli, masto)
    _, data = _doctor(cli)
    assert (
        _check(data, "scheduler: collect")["status"] == "fail"
        and "never run" in _check(data, "scheduler: collect")["message"]
    )
    assert _check(data, "scheduler: publish-due")["status"] == "warn"  # nothing scheduled: not yet a problem
    _record("collect", 5, exit_code=7)
    _, data = _doctor(cli)
    assert (
        _check(data, "scheduler: collect")["status"] == "warn"
        and "exited 7" in _check(data, "scheduler: collect")["message"]
    )


def test_cron_runs_are_recorded(cli, home, masto):
    connect_mastodon(cli, masto)
    cli("publish-due")
    cli("collect")
    from sqlalchemy import select

    from postcli.store.models import Run
    from postcli.store.session import session_scope

    with session_scope(readonly=True) as session:
        runs = [(r.command, r.outcome, r.exit_code) for r in session.scalars(select(Run).order_by(Run.id))]
    assert runs == [("publish-due", "ok", 0), ("collect", "ok", 0)]


def test_an_account_to_reconnect_is_exit_6_and_one_near_its_end_a_warning(cli, home, masto):
    account_id = connect_mastodon(cli, masto)
    _record("publish-due", 1)
    _record("collect", 1)
    from postcli.store.models import Account
    from postcli.store.session import session_scope

    with session_scope() as session:
        session.get(Account, account_id).token_expires_at = datetime.now(timezone.utc) + timedelta(days=3)
    code, data = _doctor(cli)
    (acct,) = [c for c in data["checks"] if c["name"].startswith("account ")]
    assert code == 0 and acct["status"] == "warn" and "ends" in acct["message"] and "accounts" in acct["fix"]
    masto.revoke_token()
    code, data = _doctor(cli, "--live")
    (acct,) = [c for c in data["checks"] if c["name"].startswith("account ")]
    assert code == 6 and acct["status"] == "fail" and "reconnect" in acct["message"]


def test_file_modes_are_read_before_anything_fixes_them(cli, home, masto):
    connect_mastodon(cli, masto)
    creds = home / "credentials.json"
    os.chmod(creds, 0o644)
    code, data = _doctor(cli)
    check = _check(data, "credentials file mode")
    assert code == 1 and check["status"] == "fail" and check["fix"] == f"chmod 600 {creds}"
    assert (creds.stat().st_mode & 0o777) == 0o644  # doctor changed nothing


def test_a_store_needing_an_upgrade_or_damaged(cli, home, masto):
    connect_mastodon(cli, masto)
    import sqlite3

    db = sqlite3.connect(home / "postcli.db")
    with db:
        db.execute("UPDATE alembic_version SET version_num = '0006'")
    db.close()
    code, data = _doctor(cli)
    assert code == 1 and _check(data, "store schema")["fix"] == "postcli db upgrade"
    db = sqlite3.connect(home / "postcli.db")
    assert db.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0006"  # not upgraded
    db.close()
    (home / "postcli.db").write_bytes(b"not a database at all" * 100)
    for extra in ("postcli.db-wal", "postcli.db-shm"):
        (home / extra).unlink(missing_ok=True)
    code, data = _doctor(cli)
    assert code == 1 and _check(data, "store")["status"] == "fail"


def test_stuck_posts_and_dead_jobs(cli, home, masto):
    connect_mastodon(cli, masto)
    r = cli("post", "create", "x", "--to", "mastodon", "--json")
    post_id = json.loads(r.stdout)["id"]
    from postcli.store.models import Job, Post
    from postcli.store.session import session_scope

    with session_scope() as session:
        post = session.get(Post, post_id)
        post.status = "processing"
        post.locked_by = "elsewhere:1"
        post.locked_until = datetime.now(timezone.utc) - timedelta(minutes=1)  # its claim ran out long ago
        session.add(Job(kind="post_metrics", key="k1", status="dead", attempts=5, last_error="HTTP 500"))
    _record("publish-due", 1)
    _record("collect", 1)
    code, data = _doctor(cli)
    assert code == 1
    assert f"ids {post_id}" in _check(data, "scheduler: stuck posts")["message"]
    assert "1 collection job(s) dead-lettered" in _check(data, "scheduler: collection jobs")["message"]
    _, data = _doctor(cli)  # dead-lettered "since the last doctor run": said once
    assert not [c for c in data["checks"] if c["name"] == "scheduler: collection jobs"]


def test_the_media_store_is_checked_when_configured(cli, home, tmp_path: Path):
    (home / "config.toml").write_text('[s3]\nbucket = "missing-bucket"\nendpoint_url = "http://127.0.0.1:9"\n')
    code, data = _doctor(cli)
    check = _check(data, "media store")
    assert check["status"] == "fail"
