"""The per-account hourly gains (account_post_hourly): the SQL that adds changes to it and that
rebuilds it from post_metric_hourly, shared by the snapshot writer (services/snapshots.py), the
post deletion, migration 0009 and the benchmark's bulk load.

Statements run on a SQLAlchemy Connection through the driver (as store/bulk.py does), with
times already in driver form (store/driver.py's to_stored), on SQLite 3.24+ and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from postcli.metrics import HOURLY_COUNTERS

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

TABLE = "account_post_hourly"
SUMS = HOURLY_COUNTERS
COUNTS = tuple(f"{k}_n" for k in HOURLY_COUNTERS)
COLUMNS = ("hour", "account_id", *SUMS, *COUNTS)

# A change to one (hour, account) row: what to add to each sum, then to each count.
Change = list[int]

_ADD = (
    f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
    "ON CONFLICT (hour, account_id) DO UPDATE SET "
    + ", ".join(f"{c} = {TABLE}.{c} + excluded.{c}" for c in (*SUMS, *COUNTS))
)
_REBUILD = (
    f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) SELECT hour, account_id, "
    + ", ".join(f"COALESCE(sum({k}_delta), 0)" for k in SUMS)
    + ", "
    + ", ".join(f"count({k}_delta)" for k in SUMS)
    + " FROM post_metric_hourly WHERE hour >= ? AND hour <= ? GROUP BY hour, account_id"
)


def delta_change(old: Sequence[int | None] | None, new: Sequence[int | None] | None) -> Change | None:
    """What replacing a target's hourly deltas `old` by `new` (None: no row) adds to its account's
    hour, or None when nothing changes. Deltas in HOURLY_COUNTERS order; NULL = not reported."""
    o = old or (None,) * len(SUMS)
    n = new or (None,) * len(SUMS)
    if tuple(o) == tuple(n):
        return None
    sums = [(b or 0) - (a or 0) for a, b in zip(o, n)]
    counts = [(b is not None) - (a is not None) for a, b in zip(o, n)]
    return sums + counts


def merge(into: dict[tuple[Any, int], Change], key: tuple[Any, int], change: Change | None) -> None:
    if change is None:
        return
    have = into.get(key)
    into[key] = change if have is None else [a + b for a, b in zip(have, change)]


def _sql(conn: Connection, sql: str) -> str:
    return sql if conn.dialect.paramstyle == "qmark" else sql.replace("?", "%s")


def add(conn: Connection, changes: dict[tuple[Any, int], Change]) -> None:
    """Add `changes` ({(hour in driver form, account id): Change}) in one executemany."""
    rows = [(hour, acc, *c) for (hour, acc), c in changes.items() if any(c)]
    if rows:
        conn.exec_driver_sql(_sql(conn, _ADD), rows)


def rebuild(conn: Connection, progress: Callable[[int, int], None] | None = None, chunk: int = 24 * 30) -> int:
    """Recompute the whole table from post_metric_hourly (a month of hours per statement, so
    `progress(done, total)` moves); the rows written."""
    conn.exec_driver_sql(f"DELETE FROM {TABLE}")
    hours = [r[0] for r in conn.exec_driver_sql("SELECT DISTINCT hour FROM post_metric_hourly ORDER BY hour")]
    spans = [(hours[i], hours[min(i + chunk, len(hours)) - 1]) for i in range(0, len(hours), chunk)]
    for done, (lo, hi) in enumerate(spans, start=1):
        conn.exec_driver_sql(_sql(conn, _REBUILD), (lo, hi))
        if progress is not None:
            progress(done, len(spans))
    return int(conn.exec_driver_sql(f"SELECT count(*) FROM {TABLE}").scalar_one())


def hourly_rows(conn: Connection, target_ids: Iterable[int]) -> list[tuple[Any, ...]]:
    """(hour, account_id, *deltas) of the targets' post_metric_hourly rows, hour in driver form."""
    ids = sorted(set(target_ids))
    out: list[tuple[Any, ...]] = []
    deltas = ", ".join(f"{k}_delta" for k in SUMS)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        sql = f"SELECT hour, account_id, {deltas} FROM post_metric_hourly WHERE target_id IN ({marks})"
        out.extend(tuple(r) for r in conn.exec_driver_sql(_sql(conn, sql), tuple(chunk)))
    return out


def forget_targets(conn: Connection, target_ids: Iterable[int]) -> None:
    """Take the targets' deltas out of their accounts' hours (before the targets are deleted)."""
    changes: dict[tuple[Any, int], Change] = {}
    for hour, acc, *deltas in hourly_rows(conn, target_ids):
        merge(changes, (hour, acc), delta_change(deltas, None))
    add(conn, changes)
