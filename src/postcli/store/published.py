"""published_sums: per account, UTC day a target went live and UTC day of capture, how its
snapshots changed the figures the published-period reports add up (overview, platforms, and
the heatmap's engagement), and the rule that keeps it, written once for the snapshot writer
(services/snapshots.py), the post deletion, the rebuild (store/rollup.py's pass over every
snapshot, or rebuild_totals from the latest rows) and the reports.

A snapshot changes each figure of its target from the target's previous snapshot (in
(captured_at, id) order): the sum by the value's change (a NULL value counts as 0) and the
count of reported values by 0, 1 or -1. So the figures of the snapshots captured up to any
moment add up to the targets' values in their last snapshot before it: "as of" that moment,
NULL staying NULL (a sum whose count is 0). This is the latest row's rule, not the timeline's
(store/rollup.py keeps each counter's last *reported* value): a figure a platform stops
reporting leaves the sum.

Every change is added twice: on its capture day, and on TOTALS_DAY, whose rows hold the sums
of every capture (the figures as of now); a report for a period that ended subtracts the
capture days from its cut-off on. `went_live` is the UTC day the targets went live in the
capture days' rows, and the UTC hour in the totals' rows: the heatmap and best-times of a
period ending now read engagement by publish hour (a few more rows per day: ~2 bytes per
snapshot at the 10x benchmark), and whole days are still a range of hours. The engagement rate is summed per target
(metrics.engagement_rate of the snapshot) so a mean over posts can be read back.

Engagement alone is kept a third time, in published_hours: by UTC hour the targets went live
and UTC day of capture, so the heatmap and best-times of a period that ended take what was
captured from its cut-off on out of the totals hour by hour, as overview does day by day. Its
times are whole numbers (hours and days since 1970-01-01 UTC): a row is about 16 bytes instead
of ~70 with two stored times (194,189 rows at the 1x benchmark's 1,040,156 snapshots: most
snapshots change no engagement; docs/design.md).

A target's publish time is COALESCE(completed_at, its post's published_at), read when its
snapshots are written; it is fixed by then (publishing sets it before anything is collected).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from postcli.metrics import engagement_rate
from postcli.store.driver import placeholders, to_stored

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

TABLE = "published_sums"
# The figures, in column order; "rate" is the engagement rate (a float sum).
FIGURES = ("likes", "comments", "shares", "impressions", "reach", "engagement", "rate")
COUNTS = tuple(f"{f}_n" for f in FIGURES)
KEY = ("went_live", "captured_day", "account_id")
COLUMNS = (*KEY, *FIGURES, *COUNTS)
# What a snapshot row carries to compute its figures: the counters, then the rate's denominator.
VALUES = ("likes", "comments", "shares", "impressions", "reach", "engagement", "follower_count")
TOTALS_DAY = datetime(9999, 12, 31, tzinfo=timezone.utc)
# post_metric_latest's columns that hold each figure's highest value of any snapshot of the
# target (NULL: never reported): at least its value as of any moment, which top walks down.
PEAKS = tuple(f"{f}_peak" for f in FIGURES)

Change = list[Any]  # what to add to each of FIGURES, then to each of COUNTS
Key = tuple[Any, Any, int]  # (went_live, captured_day, account_id), times in driver form

HOURS = "published_hours"
HOURS_COLUMNS = ("went_live", "captured_day", "account_id", "engagement", "engagement_n")
HourKey = tuple[int, int, int]  # (went_live: hour number, captured_day: day number, account_id)
_E, _N = FIGURES.index("engagement"), len(FIGURES)


def figures(values: Sequence[int | None] | None) -> tuple[Any, ...] | None:
    """A snapshot's figures from its VALUES (None: no snapshot)."""
    if values is None:
        return None
    *counters, followers = values
    return (*counters, engagement_rate(counters[-1], followers))


def highest(was: Sequence[Any] | None, now: Sequence[Any] | None) -> tuple[Any, ...]:
    """The PEAKS after figures `now`, the target's having been `was` (None: no snapshot yet)."""
    if was is None or now is None:
        return tuple(was or now or (None,) * len(FIGURES))
    return tuple(o if n is None else n if o is None else max(o, n) for o, n in zip(was, now))


def change(before: Sequence[Any] | None, after: Sequence[Any]) -> Change:
    """What a snapshot with figures `after` adds, its target's previous snapshot having had `before`."""
    old = before or (None,) * len(FIGURES)
    sums = [(n or 0) - (o or 0) for o, n in zip(old, after)]
    counts = [int(n is not None) - int(o is not None) for o, n in zip(old, after)]
    return sums + counts


def day_key(moment: Any) -> Any:
    """The UTC day of a stored time, in driver form (text on SQLite, naive UTC on PostgreSQL)."""
    if isinstance(moment, datetime):
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return f"{moment[:10]} 00:00:00.000000"  # store/driver.py's SQLITE_TIME_FORMAT


def hour_key(moment: Any) -> Any:
    """The UTC hour of a stored time, in driver form (the timeline's rollup cuts hours so too)."""
    if isinstance(moment, datetime):
        return moment.replace(minute=0, second=0, microsecond=0)
    return f"{moment[:13]}:00:00.000000"  # store/driver.py's SQLITE_TIME_FORMAT


@lru_cache(maxsize=4096)
def _hours_of_text(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()) // 3600


def hour_number(moment: Any) -> int:
    """The hours since 1970-01-01 UTC of a stored time (text on SQLite, naive UTC on
    PostgreSQL) or an aware one: published_hours' times."""
    if isinstance(moment, datetime):
        utc = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
        return int(utc.timestamp()) // 3600
    return _hours_of_text(moment[:13] + ":00")


def day_number(moment: Any) -> int:
    """The days since 1970-01-01 UTC of a stored or aware time (see hour_number)."""
    return hour_number(moment) // 24


def totals_key(dialect: str) -> Any:
    """TOTALS_DAY in driver form."""
    return to_stored(TOTALS_DAY, dialect)


def merge(into: dict[Any, list[Any]], key: Any, c: Sequence[Any]) -> None:
    """Add the change `c` to `into[key]` (both rollups keep their changes this way)."""
    have = into.get(key)
    into[key] = list(c) if have is None else [a + b for a, b in zip(have, c)]


class Changes:
    """What snapshots change in published_sums (`sums`, None when not kept: a rebuild of the
    other table alone) and in published_hours (`hours`: engagement and its count)."""

    def __init__(self, sums: bool = True, hours: bool = True) -> None:
        self.sums: dict[Key, Change] | None = {} if sums else None
        self.hours: dict[HourKey, Change] | None = {} if hours else None

    def __len__(self) -> int:
        return len(self.sums or ()) + len(self.hours or ())

    def update(self, other: Changes) -> None:
        """Add `other`'s changes to these."""
        for mine, theirs in ((self.sums, other.sums), (self.hours, other.hours)):
            if mine is not None and theirs is not None:
                for key, c in theirs.items():
                    merge(mine, key, c)


def record(into: Changes, published: Any, captured: Any, account_id: int, c: Change, totals: Any) -> None:
    """Add a snapshot's change under its capture day and under the totals (stored times)."""
    if published is None or not any(c):  # not live (no publish time): in no period
        return  # (a change of nothing: no key to keep, the rebuild's memory is bounded in keys)
    if into.sums is not None:
        merge(into.sums, (day_key(published), day_key(captured), account_id), c)
        merge(into.sums, (hour_key(published), totals, account_id), c)
    if into.hours is not None and (c[_E] or c[_N + _E]):
        merge(into.hours, (hour_number(published), day_number(captured), account_id), [c[_E], c[_N + _E]])


def _rows(changes: dict[Any, Change] | None) -> list[tuple[Any, ...]]:
    """The rows of `changes`, those that change nothing left out."""
    return [(*key, *c) for key, c in (changes or {}).items() if any(c)]


def _upsert(table: str, columns: Sequence[str], key: Sequence[str]) -> str:
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
        + ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in columns if c not in key)
    )


_ADD = _upsert(TABLE, COLUMNS, KEY)
_ADD_HOURS = _upsert(HOURS, HOURS_COLUMNS, KEY)


def add(conn: Connection, changes: Changes) -> None:
    """Add `changes` in an executemany per table (rows that change nothing are skipped)."""
    if rows := _rows(changes.sums):
        conn.exec_driver_sql(placeholders(conn, _ADD), rows)
    if rows := _rows(changes.hours):
        conn.exec_driver_sql(placeholders(conn, _ADD_HOURS), rows)


# A rebuild that holds more keys than it keeps in memory adds its parts here first, then each
# key once (add_staged): upserting each part into the table would rewrite every key the parts
# share, and on PostgreSQL each rewrite leaves a dead row version (the 10x benchmark store: 17 a
# row, a table of 258 MB for 13 MB of rows).
_STAGED = ((TABLE, COLUMNS, FIGURES + COUNTS), (HOURS, HOURS_COLUMNS, HOURS_COLUMNS[3:]))


def stage(conn: Connection, changes: Changes, first: bool) -> None:
    """Keep `changes` in a temporary table per table (made by the `first` call)."""
    for (table, columns, _f), found in zip(_STAGED, (changes.sums, changes.hours)):
        if found is None:
            continue
        if first:
            # WHERE 1 = 0: the columns with the table's types, no rows. Dropped by add_staged, and
            # with the transaction if the rebuild fails before.
            conn.exec_driver_sql(
                f"CREATE TEMP TABLE {table}_stage AS SELECT {', '.join(columns)} FROM {table} WHERE 1 = 0"
            )
        if rows := _rows(found):
            sql = f"INSERT INTO {table}_stage ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            conn.exec_driver_sql(placeholders(conn, sql), rows)


def add_staged(conn: Connection, changes: Changes) -> None:
    """Write the staged changes (of the tables `changes` keeps) to the tables, summed per key (each
    key written once: the tables were emptied by the rebuild), and drop the temporary tables."""
    for (table, columns, figures), found in zip(_STAGED, (changes.sums, changes.hours)):
        if found is None:
            continue
        sums = ", ".join(f"sum({c})" for c in figures)
        nonzero = " OR ".join(f"sum({c}) <> 0" for c in figures)
        conn.exec_driver_sql(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(KEY)}, {sums} FROM {table}_stage "
            f"GROUP BY {', '.join(KEY)} HAVING {nonzero}"
        )
        conn.exec_driver_sql(f"DROP TABLE {table}_stage")


def fold(
    rows: Iterable[Sequence[Any]],
    into: Changes,
    totals: Any,
    sign: int = 1,
    last: dict[int, tuple[Any, ...] | None] | None = None,
) -> dict[int, tuple[Any, ...] | None]:
    """Add the changes of snapshot rows (target_id, account_id, captured_at, published, *VALUES;
    by target, in capture order) to `into`, times `sign`; each target's last figures (`last`
    carries them in from an earlier call)."""
    last = {} if last is None else last
    for tid, acc, at, published, *values in rows:
        now = figures(values)
        assert now is not None
        c = change(last.get(tid), now)
        last[tid] = now
        record(into, published, at, acc, c if sign == 1 else [sign * x for x in c], totals)
    return last


def rebuild_totals(conn: Connection) -> int:
    """Recompute the totals' rows from the latest rows (post_metric_latest holds each target's
    last snapshot in (captured_at, id) order, so its changes add up to that one's figures); the
    rows written. Far cheaper than rollup.rebuild's pass over every snapshot when only the
    totals changed shape (migration 0013)."""
    totals = totals_key(conn.dialect.name)
    conn.exec_driver_sql(placeholders(conn, f"DELETE FROM {TABLE} WHERE captured_day = ?"), (totals,))
    cols = ", ".join(f"l.{c}" for c in VALUES)
    rows = conn.exec_driver_sql(
        f"SELECT t.account_id, COALESCE(t.completed_at, p.published_at), {cols} FROM post_metric_latest l "
        "JOIN post_targets t ON t.id = l.target_id JOIN posts p ON p.id = t.post_id",
        execution_options={"stream_results": True},
    )
    into = Changes(hours=False)
    assert into.sums is not None
    for acc, live, *values in rows:
        now = figures(values)
        assert now is not None
        if live is not None:
            merge(into.sums, (hour_key(live), totals, acc), change(None, now))
    add(conn, into)
    return len(into)
