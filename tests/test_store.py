"""The store: migrations on first use, refusal of newer schemas, pragmas, backup."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

from postcli.store import session as store
from postcli.store.migrate import script_heads


def test_schema_head_matches_the_shipped_migrations():
    assert script_heads() == (store.SCHEMA_HEAD,)
    assert store.SCHEMA_REVISIONS[-1] == store.SCHEMA_HEAD


def test_first_use_creates_and_migrates_the_store(cli, home: Path):
    result = cli("db", "status", "--json")
    assert result.exit_code == 0
    assert cli("post", "list").exit_code == 0
    db = sqlite3.connect(home / "postcli.db")
    assert db.execute("select version_num from alembic_version").fetchone()[0] == store.SCHEMA_HEAD
    tables = {r[0] for r in db.execute("select name from sqlite_master where type='table'")}
    assert {"accounts", "posts", "post_media", "post_targets", "post_metric_snapshots", "jobs"} <= tables
    status = cli.json("db", "status")
    assert status["revision"] == store.SCHEMA_HEAD and status["up_to_date"] is True
    assert status["backend"] == "sqlite"


def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(home: Path):
    eng = store.engine()
    with eng.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_a_store_from_a_newer_postcli_is_refused(cli, home: Path):
    assert cli("post", "list").exit_code == 0
    store.reset()
    db = sqlite3.connect(home / "postcli.db")
    db.execute("update alembic_version set version_num = '0099'")
    db.commit()
    db.close()
    result = cli("post", "list")
    assert result.exit_code == 1
    assert "newer version of postcli" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    # Nothing was changed by the refused open.
    db = sqlite3.connect(home / "postcli.db")
    assert db.execute("select version_num from alembic_version").fetchone()[0] == "0099"


def test_db_upgrade_is_idempotent(cli):
    first = cli("db", "upgrade")
    assert first.exit_code == 0 and store.SCHEMA_HEAD in first.stdout
    again = cli("db", "upgrade")
    assert again.exit_code == 0 and "already up to date" in again.stdout


def test_backup_is_a_consistent_readable_copy(cli, home: Path, tmp_path: Path):
    from postcli.store.models import Account
    from postcli.store.session import session_scope

    with session_scope() as s:
        s.add(Account(platform="mastodon", handle="a@x", external_id="1", api_base_url="https://x"))
    dest = tmp_path / "copy.db"
    result = cli("db", "backup", str(dest))
    assert result.exit_code == 0, result.stderr
    copy = sqlite3.connect(dest)
    assert copy.execute("select handle from accounts").fetchall() == [("a@x",)]
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # Refuses to overwrite without --force.
    again = cli("db", "backup", str(dest))
    assert again.exit_code == 2 and "already exists" in again.stderr
    assert cli("db", "backup", str(dest), "--force").exit_code == 0
    assert stat.S_ISREG(dest.stat().st_mode)
