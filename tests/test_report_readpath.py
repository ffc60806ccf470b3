"""The reports' read path (store/dbapi.py, issue 16): plain SQL on the DB-API drivers, no
SQLAlchemy or Pydantic in a report command on a current store, the session path for a store
that must be created or migrated, and the same results through an ORM session."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from postcli.store import dbapi
from support import builders
from support.backend import use

UTC = timezone.utc
MARCH = builders.MARCH
REPORTS = ("overview", "timeline", "growth", "top", "platforms", "heatmap")

_PROBE = (
    "import sys\n"
    "from postcli.cli import app\n"
    "try:\n    app({args!r})\nexcept SystemExit as e:\n    code = e.code\n"
    "heavy = [m for m in ('sqlalchemy', 'alembic', 'pydantic') if m in sys.modules]\n"
    "print('HEAVY=' + ','.join(heavy) + ' EXIT=' + str(code), file=sys.stderr)\n"
)


def _probe(*args: str) -> tuple[dict, str]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(args=list(args))], capture_output=True, text=True, timeout=120
    )
    return (json.loads(out.stdout) if out.stdout.strip() else {}), out.stderr


@pytest.mark.parametrize("report", REPORTS)
def test_report_commands_load_neither_sqlalchemy_nor_pydantic_on_a_current_store(report, home, cli):
    builders.report_store()
    data, err = _probe("analytics", report, *MARCH, "--json")
    assert "HEAVY= EXIT=0" in err, err
    assert data == cli.json("analytics", report, *MARCH)  # the same report as in-process


@pytest.mark.parametrize("report", ("overview", "platforms"))
def test_a_text_report_of_platforms_with_numbers_imports_no_platform_spec(report, home, cli):
    # Whether a platform reports numbers per post is known for the built-in ones without
    # platforms/spec.py, whose dataclasses cost each text report a twentieth of `postcli --help`.
    builders.report_store()
    code = _PROBE.replace("('sqlalchemy', 'alembic', 'pydantic')", "('postcli.platforms.spec',)")
    out = subprocess.run(
        [sys.executable, "-c", code.format(args=["analytics", report, *MARCH])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "HEAVY= EXIT=0" in out.stderr, out.stderr
    assert out.stdout == cli("analytics", report, *MARCH).stdout


def test_analytics_post_loads_no_sqlalchemy_and_matches_in_process(home, cli):
    builders.report_store()
    data, err = _probe("analytics", "post", "1", "--json")
    assert "HEAVY= EXIT=0" in err, err
    assert data["post_id"] == 1 and data["metrics_by_target"]
    assert data == cli.json("analytics", "post", "1")
    hist, err = _probe("analytics", "post", "1", "--history", "--json")
    assert "HEAVY= EXIT=0" in err, err
    assert [r["captured_at"] for r in hist["history"]] == sorted(r["captured_at"] for r in hist["history"])


def test_option_values_and_their_errors_are_unchanged_without_pydantic(home, cli):
    builders.report_store()
    data, err = _probe("analytics", "top", *MARCH, "--json", "-n", "2")
    assert "HEAVY= EXIT=0" in err and data["limit"] == 2 and len(data["posts"]) == 2
    for bad in ("0", "abc"):
        result = cli("analytics", "top", *MARCH, "--limit", bad)
        assert result.exit_code == 2, result.stderr
        assert "Invalid value for '--limit' / '-n': is not a whole number from 1 to 1,000,000." in result.stderr
    result = cli("analytics", "overview", *MARCH, "--tz", " ")
    assert result.exit_code == 2 and "Invalid value for '--tz': is empty." in result.stderr, result.stderr
    _, err = _probe("analytics", "overview", "--period", "7d", "--tz", "")
    assert "HEAVY= EXIT=2" in err, err


def test_a_report_on_a_missing_store_creates_it_through_the_session_path(home, cli):
    assert not (home / "postcli.db").exists()
    data = cli.json("analytics", "overview", "--period", "7d")
    assert data["posts_published"] == 0
    rev = sqlite3.connect(home / "postcli.db").execute("SELECT version_num FROM alembic_version").fetchone()[0]
    from postcli.store.session import SCHEMA_HEAD

    assert rev == SCHEMA_HEAD


def test_a_store_from_a_newer_postcli_is_one_clear_error(home, cli):
    builders.report_store()
    conn = sqlite3.connect(home / "postcli.db")
    conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.commit()
    conn.close()
    from postcli.store import session as store_session

    store_session.reset()
    result = cli("analytics", "overview", *MARCH)
    assert result.exit_code != 0 and "newer version of postcli" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_orm_session_runs_the_same_sql(home):
    """Callers holding a session (any URL SQLAlchemy opens) get the very same reports."""
    builders.report_store()
    from postcli import output
    from postcli.services import reports
    from postcli.store.session import session_scope

    q = reports.ReportQuery(start=datetime(2024, 3, 1, tzinfo=UTC), end=datetime(2024, 3, 5, tzinfo=UTC))
    now = datetime(2024, 3, 10, tzinfo=UTC)
    for name in REPORTS:
        with dbapi.open_reader() as db:
            direct = output.to_json(getattr(reports, name)(db, q, now=now).as_json())
        with session_scope(readonly=True) as s:
            via_session = output.to_json(getattr(reports, name)(s, q, now=now).as_json())
        assert direct == via_session, name


def test_the_reports_hourly_counters_are_the_rollups():
    from postcli.services import reports, snapshots

    assert reports.HOURLY_COUNTERS == snapshots.HOURLY_COUNTERS


def test_parameters_and_percent_signs_for_psycopg():
    rd = dbapi.Reader(None, "postgresql")
    sql = "SELECT strftime('%s', x), a::text[] FROM t WHERE b = :b AND c IN (:c_0, :c_1) AND d < :d_lo::timestamp[]"
    assert rd._sql(sql) == (
        "SELECT strftime('%%s', x), a::text[] FROM t WHERE b = %(b)s AND c IN (%(c_0)s, %(c_1)s) "
        "AND d < %(d_lo)s::timestamp[]"
    )
    assert dbapi.Reader(None, "sqlite")._sql(sql) == sql


def test_datetimes_cross_the_layer_as_naive_utc():
    moment = datetime(2024, 3, 1, 12, 30, tzinfo=timezone.utc)
    assert dbapi.Reader(None, "sqlite")._param(moment) == "2024-03-01 12:30:00.000000"
    assert dbapi.Reader(None, "postgresql")._param(moment) == datetime(2024, 3, 1, 12, 30)
    assert dbapi.Reader.dt("2024-03-01 12:30:00.000000") == moment
    assert dbapi.Reader.dt(datetime(2024, 3, 1, 12, 30)) == moment
    with pytest.raises(ValueError):
        dbapi.Reader(None, "sqlite")._param(datetime(2024, 3, 1))


def test_analytics_post_and_best_times_are_identical_on_postgres(tmp_path, monkeypatch, cli, request):
    """The same SQL on psycopg: one post's numbers (with history) and best-times match SQLite's."""
    pg = request.getfixturevalue("pg_url")
    results = {}
    for backend, url in (("sqlite", None), ("postgresql", pg)):
        use(monkeypatch, tmp_path / backend, url)
        builders.report_store()
        out = []
        for args in (("post", "1", "--history"), ("post", "2", "--platform", "mastodon"), ("best-times", *MARCH)):
            result = cli("analytics", *args, "--json")
            assert result.exit_code in (0, 3), (args, result.stderr)  # 3: no mastodon target
            out.append(json.loads(result.stdout) if result.exit_code == 0 else result.stderr)
        results[backend] = out
    assert results["postgresql"] == results["sqlite"]
    assert results["sqlite"][0]["history"]
