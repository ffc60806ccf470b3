"""PostgreSQL as a first-class store: migrations, the CLI, reports equal to SQLite's, `db copy`.

The tests run against a real PostgreSQL (tests/pgserver.py) whose own TimeZone is far
from UTC, so nothing may lean on the server's clock settings.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from postcli.store import session as store_session
from support import builders
from support.backend import use

UTC = timezone.utc
MARCH = builders.MARCH


@pytest.fixture
def pg(request) -> str:
    """A fresh, empty PostgreSQL database (pgserver's pg_url)."""
    return request.getfixturevalue("pg_url")


@pytest.fixture
def on_pg(pg, home, monkeypatch) -> str:
    """postcli pointed at a fresh PostgreSQL database."""
    use(monkeypatch, home, pg)
    return pg


def pg_rows(url: str, sql: str, *args) -> list[tuple]:
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as conn:
        return conn.execute(sql, args).fetchall()


def pg_exec(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute(sql)


def pg_tables(url: str) -> set[str]:
    return {r[0] for r in pg_rows(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def ok_json(cli, *args: str, code: int = 0):
    result = cli(*args, "--json")
    assert result.exit_code == code, (args, result.exit_code, result.stdout, result.stderr)
    return json.loads(result.stdout)


# --- migrations and db status ---------------------------------------------------------


def test_migrations_from_empty_on_postgres_match_the_models(on_pg, cli):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from postcli.store.migrate import script_heads
    from postcli.store.models import Base

    before = ok_json(cli, "db", "status")
    assert before["backend"] == "postgresql" and before["revision"] is None and before["up_to_date"] is False
    assert pg_tables(on_pg) == set()  # status only looks

    up = cli("db", "upgrade")
    assert up.exit_code == 0, up.stderr
    status = ok_json(cli, "db", "status")
    assert status["backend"] == "postgresql"
    assert status["revision"] == status["head"] == store_session.SCHEMA_HEAD == script_heads()[0]
    assert status["up_to_date"] is True
    assert status["counts"]["accounts"] == 0

    assert pg_tables(on_pg) == {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"}
    # What the migrations built is what the models describe (types, nullability, indexes).
    eng = store_session.engine(on_pg)
    with eng.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        # Sessions run in UTC whatever the server's zone (pgserver sets a far-off one).
        assert conn.exec_driver_sql("SELECT current_setting('TimeZone')").scalar() == "UTC"
    types = dict(
        pg_rows(
            on_pg,
            "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public'",
        )
    )
    assert types["post_metric_snapshots.views"] == "bigint"  # SQLite's INTEGER is 64-bit; so is this
    assert types["post_media.size_bytes"] == "bigint"
    assert types["posts.created_at"] == "timestamp without time zone"  # naive UTC, as on SQLite
    assert types["accounts.settings"] == "json"
    indexes = {r[0] for r in pg_rows(on_pg, "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}
    assert {
        "post_metric_snapshots_pkey",
        "account_post_hourly_pkey",
        "ix_jobs_claim",
        "ix_target_platform_post",
    } <= indexes


def test_db_status_masks_the_password(pg, home, monkeypatch, cli):
    # The test server trusts loopback, so a password in the URL is accepted and ignored.
    url = pg.replace("postgres@", "postgres:s3cr3t-pw@")
    use(monkeypatch, home, url)
    result = cli("db", "status")
    assert result.exit_code == 0, result.stderr
    assert "s3cr3t-pw" not in result.stdout + result.stderr
    assert "postgresql" in result.stdout
    status = ok_json(cli, "db", "status")
    assert status["url"] == url.replace("s3cr3t-pw", "***")


def test_unreachable_server_is_one_clear_error_without_the_password(home, monkeypatch, cli):
    pytest.importorskip("psycopg")
    with __import__("socket").socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    use(monkeypatch, home, f"postgresql://ana:hunter2-pw@127.0.0.1:{port}/postcli")
    for args in (("post", "list"), ("db", "status")):
        result = cli(*args)
        assert result.exit_code == 1, result.stdout
        assert "cannot open the database postgresql+psycopg://ana:***@127.0.0.1" in result.stderr
        assert "hunter2-pw" not in result.stderr + result.stdout
        assert "Traceback" not in result.stderr and "bug in postcli" not in result.stderr


def test_postgres_urls_mean_psycopg_3():
    assert store_session.normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert store_session.normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert store_session.normalize_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert store_session.normalize_url("sqlite:////x.db") == "sqlite:////x.db"


# --- the CLI on PostgreSQL ---------------------------------------------------------------


def test_cli_commands_run_on_postgres(on_pg, cli):
    from postcli.services.posts import queries
    from postcli.store import dbapi

    acc = ok_json(cli, "accounts", "add", "sandbox", "--handle", "ana.sandbox")
    assert acc["id"] == 1 and acc["platform"] == "sandbox"

    now_post = ok_json(cli, "post", "create", "hello from postgres", "--to", "sandbox")
    assert now_post["status"] == "completed" and now_post["targets"][0]["url"].startswith("sandbox://")
    later = ok_json(cli, "post", "create", "scheduled on postgres", "--to", "sandbox", "--at", "+1h")
    assert later["status"] == "scheduled"
    draft = ok_json(cli, "post", "create", "a draft", "--to", "sandbox", "--draft")

    # post list reads through the one read path, on psycopg here (store/dbapi.py), as the reports do.
    with dbapi.open_reader() as db:
        assert db.dialect == "postgresql"
        assert queries.read_page(db, status=None, platform=None, page=1, limit=20, sort="created", order="desc")[1] == 3
    listed = ok_json(cli, "post", "list")
    assert listed["total"] == 3
    assert [p["id"] for p in listed["posts"]] == [draft["id"], later["id"], now_post["post_id"]]
    assert [p["id"] for p in ok_json(cli, "post", "list", "--status", "scheduled")["posts"]] == [later["id"]]
    shown = ok_json(cli, "post", "show", str(now_post["post_id"]))
    assert shown["text"] == "hello from postgres" and shown["targets"][0]["platform_post_id"]

    assert ok_json(cli, "publish-due")["published"] == []  # not due yet
    # Time passes: the scheduled post becomes due (moved back rather than waiting an hour).
    past = (datetime.now(UTC) - timedelta(minutes=1)).replace(tzinfo=None)
    pg_rows(on_pg, "UPDATE posts SET scheduled_at = %s WHERE id = %s RETURNING id", past, later["id"])
    due = ok_json(cli, "publish-due")
    assert [(o["post_id"], o["status"]) for o in due["published"]] == [(later["id"], "completed")]
    assert ok_json(cli, "post", "show", str(later["id"]))["status"] == "completed"

    collected = ok_json(cli, "collect")
    assert collected["fetched"] == 2 and collected["failed"] == 0 and collected["accounts"] == 1
    assert pg_rows(on_pg, "SELECT count(*) FROM post_metric_snapshots")[0][0] == 2
    assert pg_rows(on_pg, "SELECT count(*) FROM post_metric_latest")[0][0] == 2
    assert pg_rows(on_pg, "SELECT count(*) FROM account_metric_snapshots")[0][0] == 1

    overview = ok_json(cli, "analytics", "overview")
    assert overview["posts_published"] == 2 and overview["simulated"] is True
    assert overview["followers"]["total"] is not None
    top = ok_json(cli, "analytics", "top")
    assert {p["text"] for p in top["posts"]} == {"hello from postgres", "scheduled on postgres"}
    heat = ok_json(cli, "analytics", "heatmap")
    assert len(heat["cells"]) == 168 and sum(c["posts"] for c in heat["cells"]) == 2

    status = ok_json(cli, "db", "status")
    assert status["counts"]["posts"] == 3 and status["counts"]["post_metric_snapshots"] == 2


def test_a_rebuild_past_its_memory_leaves_no_dead_rows_in_the_sums(on_pg, monkeypatch):
    """The rollup rebuild that sets its published sums aside (more keys than FLUSH) writes each
    row once: no updated row versions for VACUUM to find (at 10M snapshots the table was 14
    times its rows' size), and the same sums as the writes made."""
    from postcli.store import rollup
    from postcli.store.published import COLUMNS

    builders.report_store()
    sums = f"SELECT {', '.join(COLUMNS)} FROM published_sums ORDER BY 1, 2, 3"
    written = pg_rows(on_pg, sums)
    monkeypatch.setattr(rollup, "FLUSH", 1)  # a part every snapshot: a target's totals row is in each of its parts
    # The connection's counts not yet in the cumulative statistics (flushed at a commit at
    # most once a second, so earlier transactions' may be in them too): taken before and after.
    xact = "SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'published_sums'"
    with store_session.engine().begin() as conn:
        before = conn.exec_driver_sql(xact).scalar_one()
        rollup.rebuild(conn, step=1)
        updated = conn.exec_driver_sql(xact).scalar_one() - before
    assert written and updated == 0
    assert pg_rows(on_pg, sums) == written


def test_write_scopes_take_turns_on_postgres(on_pg):
    """A read-then-write scope waits for another one to commit (SQLite: BEGIN IMMEDIATE), so
    the second reads the first's write instead of both reading the old value (a lost update)."""
    from sqlalchemy import select, text

    from postcli.store.models import Account
    from postcli.store.session import session_scope

    with session_scope() as s:
        s.add(Account(platform="sandbox", handle="0", external_id="x", api_base_url="sandbox://local"))
    first_has_lock = threading.Event()
    seen: dict[str, str] = {}

    def bump(name: str) -> None:
        with session_scope() as s:
            if name == "first":
                first_has_lock.set()
                # Hold the lock until the second scope is seen waiting for it.
                waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                for _ in range(2000):
                    if s.execute(text(waiting)).scalar():
                        break
                    threading.Event().wait(0.005)
                else:
                    raise AssertionError("the second scope never waited for the lock")
            acc = s.execute(select(Account)).scalar_one()
            seen[name] = acc.handle
            acc.handle = str(int(acc.handle) + 1)

    first = threading.Thread(target=bump, args=("first",))
    first.start()
    assert first_has_lock.wait(30)
    bump("second")
    first.join(30)
    assert seen == {"first": "0", "second": "1"}
    with session_scope(readonly=True) as s:
        assert s.execute(select(Account.handle)).scalar_one() == "2"


def test_which_scopes_take_the_write_lock_on_postgres(on_pg):
    from sqlalchemy import text

    from postcli.store.session import PG_WRITE_LOCK, session_scope

    mine = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
        "AND (classid::bigint << 32) + objid::bigint = :key"
    )

    def holds(**kw) -> int:
        with session_scope(**kw) as s:
            return s.execute(mine, {"key": PG_WRITE_LOCK}).scalar()

    assert holds() == 1
    assert holds(immediate=True) == 1
    assert holds(readonly=True) == 0
    assert holds(pg_lock=False) == 0  # a scope that guards itself with row locks


# --- reports: identical on both backends -------------------------------------------------

REPORTS = ("overview", "timeline", "growth", "top", "platforms", "heatmap", "best-times")


def _report_store(_home):
    builders.report_store()  # the report tests' own fixture data
    return MARCH


def _heat_store(_home):
    return builders.heat_store() + ("--tz", "UTC")


def _slots_store(_home):
    builders.slots_store()
    return builders.SLOTS_PERIOD


def _change_store(_home):
    builders.two_periods_store()
    return builders.CHANGE_PERIOD[:4]


def _demo_store(_home):
    from postcli.services import demo

    demo.run(days=4, now=datetime(2024, 5, 10, 12, 0, tzinfo=UTC))
    return ("--since", "2024-05-05", "--until", "2024-05-11", "--tz", "UTC")


def _variants(base: tuple[str, ...]) -> list[tuple[str, ...]]:
    since, until = base[1], base[3]
    period = ("--since", since, "--until", until)
    out = []
    for tz in ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu"):
        for report in REPORTS:
            out.append((report, *period, "--tz", tz))
    for report in REPORTS:
        out.append((report, *period, "--tz", "UTC", "--platform", "bluesky"))
        if report != "growth" or base == MARCH:  # a 75-year growth is slow; once is enough
            # Ends after now: metrics from post_metric_latest. Also far more days than
            # PostgreSQL's 65535 parameters per statement would take as one VALUES list.
            out.append((report, "--since", since, "--until", "2099-01-01", "--tz", "UTC"))
    for key in ("engagement", "likes", "comments", "shares", "reach", "impressions", "engagement_rate"):
        out.append(("top", *period, "--tz", "Europe/Berlin", "--sort", key, "--limit", "50"))
    return out


def _run_reports(cli, variants) -> dict[tuple[str, ...], dict]:
    out = {}
    for args in variants:
        result = cli("analytics", *args, "--json")
        assert result.exit_code in (0, 2), (args, result.stdout, result.stderr)  # 2: e.g. no bluesky account
        out[args] = json.loads(result.stdout) if result.exit_code == 0 else result.stderr
    return out


@pytest.mark.parametrize(
    "build",
    [_report_store, _heat_store, _slots_store, _change_store, _demo_store],
    ids=["reports", "heatmap", "best-times", "change", "demo"],
)
def test_reports_are_identical_on_sqlite_and_postgres(build, pg, tmp_path, monkeypatch, cli):
    results = {}
    for backend, url in (("sqlite", None), ("postgresql", pg)):
        home = tmp_path / backend
        use(monkeypatch, home, url)
        base = build(home)
        assert ok_json(cli, "db", "status")["backend"] == backend
        results[backend] = _run_reports(cli, _variants(base))
    sqlite, pg = results["sqlite"], results["postgresql"]
    assert any(isinstance(v, dict) and not v.get("empty") for v in sqlite.values())
    for args in sqlite:
        assert pg[args] == sqlite[args], (args, list(_differences(sqlite[args], pg[args]))[:10])


def _differences(a, b, path=""):
    """Where two JSON values differ, as (path, a, b): readable when a report does not match."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            yield from _differences(a.get(k), b.get(k), f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            yield from _differences(x, y, f"{path}[{i}]")
    elif a != b:
        yield path, a, b


# --- db copy ------------------------------------------------------------------------------


def _table_rows(url: str | None, home: Path, monkeypatch) -> dict[str, list[dict]]:
    """Every row of every table, ordered by primary key, read through the models' types."""
    from sqlalchemy import select

    from postcli.store.models import Base

    use(monkeypatch, home, url)
    eng = store_session.engine()
    with eng.connect() as conn:
        return {
            t.name: [dict(r._mapping) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
            for t in Base.metadata.sorted_tables
        }


def _null_raws(url: str | None, home: Path, monkeypatch) -> tuple[int, int]:
    """(SQL NULL raws, JSON null raws) of post snapshots: the copy keeps the two apart."""
    from sqlalchemy import text

    use(monkeypatch, home, url)
    with store_session.engine().connect() as conn:
        sql_null = conn.execute(text("SELECT count(*) FROM post_metric_snapshots WHERE raw IS NULL")).scalar()
        json_null = conn.execute(
            text("SELECT count(*) FROM post_metric_snapshots WHERE CAST(raw AS TEXT) = 'null'")
        ).scalar()
    return sql_null, json_null


def _populate(cli, home: Path, tmp_path: Path) -> dict:
    """A SQLite store with a bit of everything: report fixtures, a sandbox account with
    secrets, published/scheduled/draft posts, media, jobs and snapshots from a collect."""
    from PIL import Image

    builders.report_store()
    ok_json(cli, "accounts", "add", "sandbox", "--handle", "copy.sandbox")
    image = tmp_path / "pic.png"
    Image.new("RGB", (8, 6), "red").save(image)
    ok_json(cli, "post", "create", "published with a picture", "--to", "sandbox", "--media", str(image))
    ok_json(cli, "post", "create", "scheduled", "--to", "sandbox", "--at", "+2h")
    ok_json(cli, "post", "create", "a draft", "--to", "sandbox", "--draft")
    collected = ok_json(cli, "collect")
    assert collected["fetched"] >= 1
    # The store writes a missing raw payload as JSON null; a SQL NULL (e.g. from an older
    # postcli) must survive the copy as SQL NULL all the same.
    db = sqlite3.connect(home / "postcli.db")
    with db:
        db.execute(
            "UPDATE post_metric_snapshots SET raw = NULL WHERE (target_id, captured_at) = "
            "(SELECT target_id, captured_at FROM post_metric_snapshots ORDER BY target_id, captured_at LIMIT 1)"
        )
    db.close()
    return collected


def test_db_copy_sqlite_to_postgres_keeps_everything(pg, home, tmp_path, monkeypatch, cli):
    from postcli import credentials

    first_collect = _populate(cli, home, tmp_path)
    before = _table_rows(None, home, monkeypatch)
    nulls = _null_raws(None, home, monkeypatch)
    assert nulls[0] == 1 and nulls[1] > 0
    assert all(
        before[t]
        for t in (
            "accounts",
            "posts",
            "post_media",
            "post_targets",
            "post_metric_snapshots",
            "post_metric_latest",
            "account_post_hourly",
            "account_metric_snapshots",
            "jobs",
        )
    )
    overview_sqlite = ok_json(cli, "analytics", "overview", *MARCH)

    use(monkeypatch, home, None)
    copied = ok_json(cli, "db", "copy", "--to", pg)
    assert copied["backend"] == "postgresql" and copied["revision"] == store_session.SCHEMA_HEAD
    assert copied["target"] == pg and copied["source"].startswith("sqlite:///")
    counts = {t["table"]: (t["source"], t["target"]) for t in copied["tables"]}
    assert counts == {name: (len(rows), len(rows)) for name, rows in before.items()}
    assert copied["rows"] == sum(len(rows) for rows in before.values())
    assert "accounts_id_seq" in " ".join(copied["sequences_reset"])
    assert "credentials store" in copied["secrets"]

    # Row for row the same, ids included; SQL NULL and JSON null kept apart.
    assert _table_rows(pg, home, monkeypatch) == before
    assert _null_raws(pg, home, monkeypatch) == nulls

    # Now run on PostgreSQL: secrets still match the (kept) account ids, reports are the same,
    # and new rows get fresh ids from the reset sequences.
    use(monkeypatch, home, pg)
    sandbox_id = next(a["id"] for a in before["accounts"] if a["platform"] == "sandbox")
    assert credentials.load(sandbox_id)  # keyed by id, untouched by the copy
    assert ok_json(cli, "analytics", "overview", *MARCH) == overview_sqlite
    new_account = ok_json(cli, "accounts", "add", "sandbox", "--handle", "new.sandbox")
    assert new_account["id"] == max(a["id"] for a in before["accounts"]) + 1
    new_post = ok_json(cli, "post", "create", "first post on postgres", "--to", "new.sandbox")
    assert new_post["post_id"] == max(p["id"] for p in before["posts"]) + 1
    collected = ok_json(cli, "collect")
    assert collected["failed"] == 0 and collected["fetched"] >= 1
    new_snaps = (
        "SELECT count(*) FROM post_metric_snapshots s JOIN post_targets t ON t.id = s.target_id WHERE t.post_id = %s"
    )
    assert pg_rows(pg, new_snaps, new_post["post_id"]) == [(1,)]
    # The report fixtures' accounts never had secrets; the sandbox ones still find theirs.
    assert sorted(collected["needs_reconnect"]) == sorted(first_collect["needs_reconnect"])  # order: see report
    assert not any("sandbox" in name for name in collected["needs_reconnect"])


def test_db_copy_prints_counts_and_the_secrets_note(pg, home, monkeypatch, cli):
    builders.report_store()
    result = cli("db", "copy", "--to", pg)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "post_metric_snapshots" in out and "row counts verified" in out
    assert "ids kept" in out and "sequences reset" in out
    assert "credentials store, keyed by account id" in out
    assert f"export POSTCLI_DATABASE_URL='{pg}'." in out


def test_db_copy_accepts_a_migrated_but_empty_target(pg, home, monkeypatch, cli):
    use(monkeypatch, home, pg)
    assert cli("db", "upgrade").exit_code == 0  # e.g. someone ran a postcli command against it once
    use(monkeypatch, home, None)
    builders.report_store()
    copied = ok_json(cli, "db", "copy", "--to", pg)
    assert {t["table"]: t["target"] for t in copied["tables"]}["accounts"] == 3


def test_db_copy_refuses_a_target_with_rows(pg, home, monkeypatch, cli):
    use(monkeypatch, home, pg)
    ok_json(cli, "accounts", "add", "sandbox", "--handle", "already.sandbox")
    use(monkeypatch, home, None)
    builders.report_store()
    result = cli("db", "copy", "--to", pg)
    assert result.exit_code == 2
    assert "not empty" in result.stderr and "accounts" in result.stderr and "empty database" in result.stderr
    assert pg_rows(pg, "SELECT handle FROM accounts") == [("already.sandbox",)]  # untouched


def test_db_copy_refuses_a_database_with_other_tables(pg, home, monkeypatch, cli):
    pg_exec(pg, "CREATE TABLE invoices (id int)")
    builders.report_store()
    result = cli("db", "copy", "--to", pg)
    assert result.exit_code == 2
    assert "invoices" in result.stderr and "did not create" in result.stderr
    assert pg_tables(pg) == {"invoices"}


def test_db_copy_refuses_the_store_itself(home, cli):
    result = cli("db", "copy", "--to", f"sqlite:///{home / 'postcli.db'}")
    assert result.exit_code == 2 and "current store itself" in result.stderr
    for bad in ("nonsense", "mysql://u:pw@h/db", "postgresql+nodriver://h/db"):
        result = cli("db", "copy", "--to", bad)
        assert result.exit_code == 2 and "postgresql+psycopg://" in result.stderr, (bad, result.stderr)
        assert "pw@" not in result.stderr


@pytest.mark.parametrize(
    ("text", "extra", "reason"),
    [
        # SQLite does not enforce VARCHAR lengths; PostgreSQL does (posts.correlation_id is 255).
        # `post create` refuses such an id up front now; a store written before that may hold one.
        ("too long an id", "c" * 300, "too long"),
        # SQLite stores NUL characters in TEXT; PostgreSQL refuses them. `post create` refuses
        # NUL up front now; a store written before that may hold one.
        ("nul \x00 inside", None, "NUL"),
    ],
    ids=["varchar-length", "nul-character"],
)
def test_a_failed_copy_leaves_the_target_empty(text, extra, reason, pg, home, monkeypatch, cli):
    """A row `post create` lets into SQLite that PostgreSQL refuses makes the copy fail at the
    posts table, after the accounts were already inserted: all of it, schema included, is
    rolled back, and the same target takes the copy once the source is fixed."""
    from postcli.errors import PostcliError
    from postcli.services import database

    builders.report_store()
    bad = ok_json(cli, "post", "create", text.replace("\x00", ""), "--to", "bluesky", "--draft")
    import sqlite3

    with sqlite3.connect(home / "postcli.db") as conn:
        conn.execute("update posts set text = ? where id = ?", (text, bad["id"]))
        if extra is not None:
            conn.execute("update posts set correlation_id = ? where id = ?", (extra, bad["id"]))

    seen: list[tuple[str, int]] = []
    with pytest.raises(PostcliError):
        database.copy_to(pg, progress=lambda table, done, _total: seen.append((table, done)))
    assert ("accounts", 3) in seen  # rows were written before the failure...
    assert pg_tables(pg) == set()  # ...and nothing is left, not even the schema

    result = cli("db", "copy", "--to", pg)
    assert result.exit_code == 1
    assert "copying table posts failed" in result.stderr and reason in result.stderr
    assert "Nothing was written" in result.stderr and "Traceback" not in result.stderr
    assert pg_tables(pg) == set()

    assert cli("post", "delete", str(bad["id"])).exit_code == 0
    copied = ok_json(cli, "db", "copy", "--to", pg)
    assert {t["table"]: t["target"] for t in copied["tables"]}["posts"] == 4


def test_db_copy_to_another_sqlite_file(home, tmp_path, monkeypatch, cli):
    builders.report_store()
    before = _table_rows(None, home, monkeypatch)
    target = f"sqlite:///{tmp_path / 'copy' / 'postcli.db'}"
    use(monkeypatch, home, None)
    copied = ok_json(cli, "db", "copy", "--to", target)
    assert copied["backend"] == "sqlite" and copied["sequences_reset"] == []
    assert _table_rows(target, home, monkeypatch) == before


def test_db_copy_from_postgres_back_to_sqlite(on_pg, home, tmp_path, monkeypatch, cli):
    builders.report_store()
    before = _table_rows(on_pg, home, monkeypatch)
    nulls = _null_raws(on_pg, home, monkeypatch)
    target = f"sqlite:///{tmp_path / 'back' / 'postcli.db'}"
    copied = ok_json(cli, "db", "copy", "--to", target)
    assert copied["source"] == on_pg and copied["backend"] == "sqlite"
    assert _table_rows(target, home, monkeypatch) == before
    assert _null_raws(target, home, monkeypatch) == nulls


def test_values_postgres_refuses_are_one_clear_input_error(on_pg, cli):
    ok_json(cli, "accounts", "add", "sandbox", "--handle", "ana.sandbox")
    for args, stdin, says in (
        (
            ("post", "create", "x", "--to", "sandbox", "--draft", "--correlation-id", "c" * 300),
            None,
            "--correlation-id is 300 characters; the limit is 255",
        ),
        # NUL is refused before the database sees it (issue 13), for every backend.
        (
            ("post", "create", "-", "--to", "sandbox", "--draft"),
            "nul \x00 inside",
            "the post text contains the control character U+0000 (NUL) at position 5; nothing was stored",
        ),
        # A value only PostgreSQL's VARCHAR(255) refuses still gets the database's own one-line refusal.
        (
            ("accounts", "add", "sandbox", "--handle", "h" * 300),
            None,
            "the database refused a value, nothing was stored",
        ),
    ):
        result = cli(*args, input=stdin)
        assert result.exit_code == 2, result.stderr
        assert says in result.stderr
        assert "INSERT" not in result.stderr and "bug in postcli" not in result.stderr
    assert ok_json(cli, "post", "list")["total"] == 0
