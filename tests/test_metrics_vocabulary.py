"""The one metric vocabulary (src/postcli/metrics.py): the adapters' PostMetrics, the snapshot
tables and the hourly rollup hold exactly its keys, and the engagement rate the reports
compute in SQL (on real SQLite and PostgreSQL) is the one metrics.engagement_rate gives."""

from __future__ import annotations

import dataclasses
import sqlite3
import subprocess
import sys
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgserver import pg_server, pg_url  # noqa: F401 - fixtures
from postcli import metrics
from postcli.store.dbapi import Reader


def test_post_metrics_fields_are_the_counters():
    from postcli.platforms.base import PostMetrics

    # Beside the counters: the raw answer, the post's own id when it was asked for by a
    # provisional one (PostMetrics.resolved), and the platform's word on the post
    # (PostMetrics.platform_state); none is a counter.
    fields = [f.name for f in dataclasses.fields(PostMetrics) if f.name not in ("raw", "resolved", "platform_state")]
    assert tuple(fields) == metrics.COUNTERS
    assert tuple(PostMetrics().as_dict()) == metrics.COUNTERS


@pytest.mark.parametrize("model", ["PostMetricSnapshot", "PostMetricLatest"])
def test_snapshot_tables_hold_exactly_the_snapshot_columns(model):
    from postcli.store import models

    own = {
        "target_id",
        "captured_at",
        "raw",
        *(f + "_peak" for f in ("likes", "comments", "shares", "impressions", "reach", "engagement", "rate")),
        *(k + "_reported" for k in metrics.HOURLY_COUNTERS),
    }
    columns = [c.name for c in getattr(models, model).__table__.columns if c.name not in own]
    assert sorted(columns) == sorted(metrics.SNAPSHOT_COLUMNS)


def test_the_hourly_rollup_holds_the_hourly_counters_and_their_counts():
    from postcli.store.models import PostMetricLatest
    from postcli.store.rollup_tables import AccountPostHourly

    own = {"hour", "account_id"}
    columns = {c.name for c in AccountPostHourly.__table__.columns} - own
    assert columns == {*metrics.HOURLY_COUNTERS, *(k + "_n" for k in metrics.HOURLY_COUNTERS)}
    reported = {c.name for c in PostMetricLatest.__table__.columns if c.name.endswith("_reported")}
    assert reported == {k + "_reported" for k in metrics.HOURLY_COUNTERS}


def test_the_migrated_store_has_the_vocabularys_columns(home, cli):
    cli("analytics", "overview", "--period", "7d")  # creates and migrates the store
    conn = sqlite3.connect(home / "postcli.db")
    try:
        for table in ("post_metric_snapshots", "post_metric_latest"):
            names = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
            assert set(metrics.SNAPSHOT_COLUMNS) <= names, table
    finally:
        conn.close()


def test_engagement_is_built_from_its_parts_and_totals_add_it():
    assert metrics.ENGAGEMENT_PARTS == ("likes", "comments", "shares")
    assert metrics.HOURLY_COUNTERS == (*metrics.ENGAGEMENT_PARTS, "engagement")
    assert metrics.TOTALS == (*metrics.COUNTERS, "engagement")
    assert metrics.engagement(3, None, 2) == 5 and metrics.engagement(None, None, None) is None


def test_every_metric_has_a_one_line_description():
    for key in (*metrics.SNAPSHOT_COLUMNS, "engagement_rate", "virality"):
        text = metrics.DESCRIPTIONS[key]
        assert text and "\n" not in text, key
    assert metrics.DESCRIPTIONS["engagement"].startswith(metrics.ENGAGEMENT_FORMULA)


def test_metrics_imports_nothing_heavy():
    probe = "import sys, postcli.metrics; print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'httpx', 'postcli')))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "['postcli', 'postcli.metrics']"


# --- the engagement rate: Python and SQL ---------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request) -> Iterator[Reader]:
    """A reader on a real SQLite or PostgreSQL database with the snapshot columns' types."""
    if request.param == "sqlite":
        conn = sqlite3.connect(":memory:")
    else:
        import psycopg

        url = request.getfixturevalue("pg_url")
        conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    conn.execute("CREATE TEMPORARY TABLE m (id INTEGER PRIMARY KEY, engagement BIGINT, follower_count BIGINT)")
    try:
        yield Reader(conn, request.param)
    finally:
        conn.close()


def sql_rates(db: Reader, pairs: list[tuple[int | None, int | None]]) -> list[float | None]:
    """metrics.engagement_rate_sql over the rows (engagement, follower_count), in order."""
    mark = "?" if db.dialect == "sqlite" else "%s"
    cur = db.conn.cursor()
    cur.execute("DELETE FROM m")
    cur.executemany(f"INSERT INTO m VALUES ({mark}, {mark}, {mark})", [(i, e, f) for i, (e, f) in enumerate(pairs)])
    cur.close()
    rate = metrics.engagement_rate_sql("m.engagement", "m.follower_count")
    return [r[0] for r in db.rows(f"SELECT {rate} FROM m ORDER BY m.id")]


EDGES = [
    (None, None),
    (None, 0),
    (None, 250),
    (12, None),
    (0, None),  # not reported: no rate
    (0, 0),
    (12, 0),
    (12, -3),  # no followers: no rate (never a division by zero)
    (0, 250),
    (1, 3),
    (2, 3),
    (12, 250),
    (1042, 1357),
    (250, 12),
    (10**12, 7),  # ordinary
]


def test_sql_and_python_rates_agree_on_null_zero_and_ordinary_values(db):
    assert sql_rates(db, EDGES) == [metrics.engagement_rate(e, f) for e, f in EDGES]
    assert sql_rates(db, [(None, 250), (0, 0), (0, 250), (1, 4)]) == [None, None, 0.0, 0.25]


counts = st.one_of(st.none(), st.integers(min_value=-10, max_value=2**53 - 1))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.lists(st.tuples(counts, counts), min_size=1, max_size=20))
def test_sql_and_python_rates_agree_on_any_counts(db, pairs):
    assert sql_rates(db, pairs) == [metrics.engagement_rate(e, f) for e, f in pairs]
