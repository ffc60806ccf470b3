"""Migration 0017: published_sums keyed by (captured_day, account_id, went_live), so overview
and platforms sum each account's run of publish hours in key order instead of sorting the
period's rows (services/reports/period_sums.py)."""

from __future__ import annotations

from datetime import timedelta

from test_snapshot_key import _migrate, _rows, _store
from test_snapshots import T0


def _sums() -> list[tuple]:
    return _rows("SELECT * FROM published_sums ORDER BY captured_day, went_live, account_id")


def _key() -> list[str]:
    from sqlalchemy import inspect

    from postcli.store.session import engine

    return inspect(engine()).get_pk_constraint("published_sums")["constrained_columns"]


def test_migration_0017_rekeys_published_sums_up_and_down_keeping_its_rows(backend):
    targets = _store()
    rows = _sums()
    assert len(rows) > 3 and _key() == ["captured_day", "account_id", "went_live"]
    _migrate("0016", up=False)
    assert _sums() == rows and _key() == ["captured_day", "went_live", "account_id"]
    _migrate("head", up=True)
    assert _sums() == rows and _key() == ["captured_day", "account_id", "went_live"]
    # The writer's upsert still finds its rows by the key: more snapshots add to them.
    from test_snapshots import M, _record

    _record(targets[:1], targets[-1:], [(T0 + timedelta(hours=5), [(0, M(50, 5, 5), 100)])])
    assert len(_sums()) >= len(rows) and _sums() != rows


def test_overview_sums_seek_each_account_and_never_sort(home):
    """On SQLite the sums overview and platforms read from published_sums are a seek per account
    (and capture day) in key order: no temporary B-tree for the GROUP BY, whatever the scope."""
    import sqlite3

    from postcli.services.reports import ReportQuery
    from postcli.services.reports.catalog import REPORTS
    from postcli.store.dbapi import open_reader

    _store()
    seen: list[tuple[str, dict]] = []
    now = T0 + timedelta(days=40)
    for q in (
        ReportQuery(start=T0 - timedelta(days=3), end=now, tz="UTC"),
        ReportQuery(start=T0 - timedelta(days=3), end=T0 + timedelta(days=3, minutes=7), tz="UTC"),
        ReportQuery(start=T0 - timedelta(days=3), end=now, tz="UTC", platform="mastodon"),
    ):
        with open_reader() as db:
            rows = db.rows

            def spy(sql: str, _rows=rows, **params):  # type: ignore[no-untyped-def]
                if "FROM published_sums" in sql and "sum(" in sql:
                    seen.append((sql, params))
                return _rows(sql, **params)

            db.rows = spy  # type: ignore[method-assign]
            for name in ("overview", "platforms"):
                REPORTS[name].compute(db, q, now=now)
    assert len(seen) >= 6
    conn = sqlite3.connect(home / "postcli.db")
    for sql, params in seen:
        plan = " / ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
        assert "TEMP B-TREE" not in plan and "account_id=?" in plan, (plan, sql)
