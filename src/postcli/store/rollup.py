"""The per-account hourly gains (account_post_hourly) and what keeps them: the gains rule, the
SQL that adds changes, and the rebuild from the snapshots. Shared by the snapshot writer
(services/snapshots.py), the post deletion, migration 0010 and the benchmark's bulk load.

A snapshot's gain of a counter is its value minus the target's last reported (not NULL)
value before it (snapshots in captured_at order, one per target and instant; the first
reported value counts in full); a NULL value gains NULL, "not reported". An hour's gain of a target is the sum of its
snapshots' gains in that hour: the last reported value of the hour minus the last reported
before it. post_metric_latest keeps each target's last reported values (`{counter}_reported`)
so a snapshot newer than all others (nearly every one) needs nothing else to find its gain.

Statements run on a SQLAlchemy Connection through the driver (as store/bulk.py does), with
times in driver form (store/driver.py's to_stored), on SQLite 3.24+ and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from postcli.metrics import HOURLY_COUNTERS, engagement_rate_sql
from postcli.store import published
from postcli.store.driver import placeholders
from postcli.store.published import hour_key, merge

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

TABLE = "account_post_hourly"
SUMS = HOURLY_COUNTERS
COUNTS = tuple(f"{k}_n" for k in HOURLY_COUNTERS)
COLUMNS = ("hour", "account_id", *SUMS, *COUNTS)
REPORTED = tuple(f"{k}_reported" for k in HOURLY_COUNTERS)  # on post_metric_latest
FLUSH = 100_000  # published sums kept in memory by the rebuild before they are added

# A change to one (hour, account) row: what to add to each sum, then to each count.
Change = list[int]
Values = Sequence[int | None]  # HOURLY_COUNTERS in order; None = not reported

_ADD = (
    f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
    "ON CONFLICT (hour, account_id) DO UPDATE SET "
    + ", ".join(f"{c} = {TABLE}.{c} + excluded.{c}" for c in (*SUMS, *COUNTS))
)
_SET_REPORTED = f"UPDATE post_metric_latest SET {', '.join(f'{c} = ?' for c in REPORTED)} WHERE target_id = ?"


def gain(reported: Values | None, values: Values) -> tuple[Change, list[int | None]]:
    """A snapshot's Change given the target's last reported values before it, and the last
    reported values after it."""
    before = reported or (None,) * len(SUMS)
    sums = [0 if v is None else v - (r or 0) for r, v in zip(before, values)]
    counts = [int(v is not None) for v in values]
    return sums + counts, [r if v is None else v for r, v in zip(before, values)]


def add(conn: Connection, changes: dict[tuple[Any, int], Change]) -> None:
    """Add `changes` ({(hour in driver form, account id): Change}) in one executemany."""
    rows = [(hour, acc, *c) for (hour, acc), c in changes.items() if any(c)]
    if rows:
        conn.exec_driver_sql(placeholders(conn, _ADD), rows)


def _history_sql(where: str) -> str:
    """Snapshot rows (target_id, account_id, captured_at, published, *HOURLY_COUNTERS,
    *published.VALUES), by target, in capture order."""
    cols = ", ".join(f"s.{k}" for k in (*SUMS, *published.VALUES))
    return (
        f"SELECT s.target_id, t.account_id, s.captured_at, COALESCE(t.completed_at, p.published_at), {cols} "
        "FROM post_metric_snapshots s JOIN post_targets t ON t.id = s.target_id JOIN posts p ON p.id = t.post_id "
        f"{where} ORDER BY s.target_id, s.captured_at"  # the key's order: no sort
    )


_N = len(SUMS)


def _hourly_rows(rows: Iterable[Sequence[Any]]) -> Iterable[Sequence[Any]]:
    return ((r[0], r[1], r[2], *r[4 : 4 + _N]) for r in rows)


def _published_rows(rows: Iterable[Sequence[Any]]) -> Iterable[Sequence[Any]]:
    return ((r[0], r[1], r[2], r[3], *r[4 + _N :]) for r in rows)


def _fold(rows: Iterable[Sequence[Any]], into: dict[tuple[Any, int], Change], sign: int = 1) -> dict[int, list]:
    """Add the gains of snapshot rows (target_id, account_id, captured_at, *counters; by target,
    in order) to `into` (times `sign`); each target's last reported values."""
    reported: dict[int, list[int | None]] = {}
    for tid, acc, at, *values in rows:
        change, reported[tid] = gain(reported.get(tid), values)
        merge(into, (hour_key(at), acc), [sign * x for x in change])
    return reported


class History:
    """What targets' whole histories add to the rollups (times a sign), their last reported
    values and their peaks (published.PEAKS: each figure's highest value, None if never
    reported)."""

    def __init__(self) -> None:
        self.hourly: dict[tuple[Any, int], Change] = {}
        self.published = published.Changes()
        self.reported: dict[int, list] = {}
        self.peaks: dict[int, tuple[Any, ...]] = {}

    def add_to(self, conn: Connection) -> None:
        add(conn, self.hourly)
        published.add(conn, self.published)


def target_history(conn: Connection, target_ids: Sequence[int], sign: int = 1) -> History:
    """The targets' contributions to account_post_hourly and published_sums from their whole
    history (times `sign`), and their last reported values."""
    found = History()
    totals = published.totals_key(conn.dialect.name)
    ids = sorted(set(target_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        sql = _history_sql(f"WHERE s.target_id IN ({', '.join('?' * len(chunk))})")
        rows = list(conn.exec_driver_sql(placeholders(conn, sql), tuple(chunk)))
        found.reported.update(_fold(_hourly_rows(rows), found.hourly, sign))
        published.fold(_published_rows(rows), found.published, totals, sign)
        for r in rows:
            found.peaks[r[0]] = published.highest(found.peaks.get(r[0]), published.figures(r[4 + _N :]))
    return found


def merge_history(into: History, other: History) -> None:
    """Add `other`'s contributions to `into`'s (reported values: `into`'s stay)."""
    for key, change in other.hourly.items():
        merge(into.hourly, key, change)
    into.published.update(other.published)


def set_reported(conn: Connection, reported: dict[int, list]) -> None:
    rows = [(*values, tid) for tid, values in reported.items()]
    if rows:
        conn.exec_driver_sql(placeholders(conn, _SET_REPORTED), rows)


def forget_targets(conn: Connection, target_ids: Iterable[int]) -> None:
    """Take the targets' contributions out of both rollups (before the targets are deleted)."""
    target_history(conn, list(target_ids), sign=-1).add_to(conn)


def rebuild_peaks(conn: Connection, figures: Sequence[str] = published.FIGURES) -> None:
    """Set each latest row's peaks of `figures` (published.PEAKS) to the highest value of its
    target's snapshots. Migrations pass the figures their schema has peaks for."""
    values = {f: f"s.{f}" for f in figures}
    if "rate" in values:
        values["rate"] = engagement_rate_sql("s.engagement", "s.follower_count")
    sets = ", ".join(
        f"{f}_peak = (SELECT max({v}) FROM post_metric_snapshots s WHERE s.target_id = post_metric_latest.target_id)"
        for f, v in values.items()
    )
    conn.exec_driver_sql(f"UPDATE post_metric_latest SET {sets}")


def rebuild(
    conn: Connection,
    progress: Callable[[int, int], None] | None = None,
    step: int = 50_000,
    *,
    hourly: bool = True,
    sums: bool = True,
    hours: bool = True,
) -> int:
    """Recompute account_post_hourly with the latest rows' reported values (`hourly`),
    published_sums (`sums`) and published_hours (`hours`) from every snapshot, streamed in
    target order (`progress(done, total)` every `step` snapshots); the hourly rows written.
    Memory follows accounts x hours (the hourly sums), the published sums not yet written (past
    FLUSH keys they are set aside in temporary tables and summed there at the end: each row is
    written once) and `step`, not the snapshots. Each migration rebuilds the tables it makes:
    0010 the hourly side, 0011 the sums, 0014 the hours."""
    total = int(conn.exec_driver_sql("SELECT count(*) FROM post_metric_snapshots").scalar_one())
    if hourly:
        conn.exec_driver_sql(f"DELETE FROM {TABLE}")
    if sums:
        conn.exec_driver_sql(f"DELETE FROM {published.TABLE}")
    if hours:
        conn.exec_driver_sql(f"DELETE FROM {published.HOURS}")
    totals = published.totals_key(conn.dialect.name)
    into: dict[tuple[Any, int], Change] = {}
    pending = published.Changes(sums=sums, hours=hours)
    reported: dict[int, list] = {}  # the targets of this batch: written when the batch ends
    last: dict[int, Any] = {}  # the same for their last figures
    staged = False  # whether published sums were set aside (published.stage) for lack of memory
    # Streamed (a server-side cursor on PostgreSQL): the option on the statement, not the
    # connection, which would keep it for every later statement of the migration.
    result = conn.exec_driver_sql(_history_sql(""), execution_options={"stream_results": True})
    done = 0
    while batch := result.fetchmany(step):
        # A target's rows may straddle two batches: carry its reported values across.
        # Every target but the batch's last is complete (rows come in target order).
        tail = batch[-1][0]
        if hourly:
            for r in batch:
                change, reported[r[0]] = gain(reported.get(r[0]), r[4 : 4 + _N])
                merge(into, (hour_key(r[2]), r[1]), change)
            set_reported(conn, {t: r for t, r in reported.items() if t != tail})
            reported = {tail: reported[tail]}
        if sums or hours:
            published.fold(_published_rows(batch), pending, totals, last=last)
            last = {tail: last[tail]}
            if len(pending) > FLUSH:
                published.stage(conn, pending, first=not staged)
                pending, staged = published.Changes(sums=sums, hours=hours), True
        done += len(batch)
        if progress is not None:
            progress(done, total)
    result.close()
    add(conn, into)
    if staged:
        published.stage(conn, pending, first=False)
        published.add_staged(conn, pending)
    else:
        published.add(conn, pending)
    set_reported(conn, reported)
    if progress is not None and not total:
        progress(0, 0)
    return len([c for c in into.values() if any(c)])
