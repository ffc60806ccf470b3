"""SQL pieces the reports share: which targets a period covers, with their metrics as of its
end, and the engagement rate (metrics.py's rule); and reading aggregates back the same
from SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from postcli import metrics
from postcli.services.reports.scope import Scope
from postcli.store.dbapi import in_list

RATE_DENOMINATOR = "followers_at_snapshot"
# When a target went live: its own completion time, else (an imported post) the post's.
PUBLISHED = "COALESCE(t.completed_at, p.published_at)"


class Metric:
    """A target's metric as of the period's end, as SQL: `m("likes")`, and `m.rate` (the
    engagement rate, metrics.py's rule; every report that shows it says so)."""

    def __init__(self, past: bool) -> None:
        self.past = past

    def __call__(self, column: str) -> str:
        # Past end: the latest row when it is older than the end, else the snapshot found for it
        # (joined only where there is no such latest row, so a NULL in latest stays NULL).
        return f"COALESCE(l.{column}, s.{column})" if self.past else f"m.{column}"

    @property
    def rate(self) -> str:
        return metrics.engagement_rate_sql(self("engagement"), self("follower_count"))


def utc_midnight(moment: datetime, *, up: bool = False) -> datetime:
    """The UTC midnight at or before `moment` (at or after it with `up`), aware, whatever zone
    `moment` is given in (a ReportQuery's bounds need only be aware)."""
    moment = moment.astimezone(timezone.utc)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day + timedelta(days=1) if up and day < moment else day


def utc_hour(moment: datetime, *, up: bool = False) -> datetime:
    """The UTC hour at or before `moment` (at or after it with `up`), aware."""
    moment = moment.astimezone(timezone.utc)
    hour = moment.replace(minute=0, second=0, microsecond=0)
    return hour + timedelta(hours=1) if up and hour < moment else hour


def cutoff(end: datetime, now: datetime | None) -> datetime | None:
    """What a period's metrics are as of: None for each target's latest snapshot (a period that
    ends now, or today), else the end of the UTC day the period ended in (the end itself when it
    is a UTC midnight, as an --until date is in UTC). The day, not the moment: the sums by
    capture day (published_sums) answer it without reading a snapshot (docs/reports.md)."""
    if now is None or end >= now:
        return None
    day_end = utc_midnight(end, up=True)
    return None if day_end >= now else day_end


def published_targets(
    sc: Scope,
    now: datetime | None,
    join: str = "",
    *,
    posts: bool = True,
    between: tuple[datetime, datetime] | None = None,
) -> tuple[str, dict[str, Any], Metric]:
    """FROM ... WHERE for the targets published in the period (or `between` two moments inside
    it), each joined to its metrics as of the period's cutoff (t = post_targets, p = posts
    unless `posts` is False: a lookup per target that counting and summing do not need; the
    Metric names them, NULLs when none).

    The period's target ids come from the indexes on post_targets.completed_at and
    posts.published_at (two disjoint halves: a target's own time, else its post's), so
    the cost follows the posts in the period, not all posts in the store; as an IN list
    they are then read in id order (2.5x cheaper here than joining the union).

    Metrics as of now read post_metric_latest (one row per target). As of a cutoff in the past
    it is read too for every target not collected since (its latest row is then its latest
    before the cutoff: most targets of an older period); only the others pick their latest
    snapshot before the cutoff through the snapshots' key (target_id, captured_at), a correlated
    subquery being far cheaper than ROW_NUMBER() here. now=None: no metrics join.
    """
    metrics_join, as_of, m = as_of_join(sc, now)
    t_where, params = sc.targets()
    in_period = (
        "SELECT t1.id FROM post_targets t1 WHERE t1.completed_at >= :start AND t1.completed_at < :end "
        "UNION ALL "
        "SELECT t2.id FROM posts p2 JOIN post_targets t2 ON t2.post_id = p2.id "
        "WHERE p2.published_at >= :start AND p2.published_at < :end AND t2.completed_at IS NULL"
    )
    if sc.dialect == "postgresql":
        # PostgreSQL guesses 200 rows for `IN (... UNION ALL ...)` and hash-joins a full scan of
        # post_metric_latest or posts against it; as a derived table each half's estimate comes
        # from its index, so a few targets are looked up one by one.
        frm = f"({in_period}) ids JOIN post_targets t ON t.id = ids.id"
        cond = "t.platform_post_id IS NOT NULL"
    else:
        frm, cond = "post_targets t", f"t.id IN ({in_period}) AND t.platform_post_id IS NOT NULL"
    sql = (
        f"FROM {frm} {'JOIN posts p ON p.id = t.post_id' if posts else ''} {join} {metrics_join} WHERE {cond}{t_where}"
    )
    start, end = between or (sc.q.start, sc.q.end)
    return sql, {**params, **as_of, "start": start, "end": end}, m


_LATEST = "LEFT JOIN post_metric_latest m ON m.target_id = t.id"
_AS_OF = (
    "LEFT JOIN post_metric_latest l ON l.target_id = t.id AND l.captured_at < :as_of "
    # The CASE looks the snapshot up only where there is no such latest row (the condition
    # beside it instead would run the subquery for every target).
    "LEFT JOIN post_metric_snapshots s ON s.target_id = t.id AND s.captured_at = CASE WHEN l.target_id IS NULL THEN ("
    "SELECT s2.captured_at FROM post_metric_snapshots s2 WHERE s2.target_id = t.id AND s2.captured_at < :as_of "
    "ORDER BY s2.captured_at DESC LIMIT 1) END"
)


def as_of_join(sc: Scope, now: datetime | None) -> tuple[str, dict[str, Any], Metric]:
    """The join of targets `t` to their metrics as of the period's cutoff (none when `now` is
    None), its parameters, and the Metric that names them."""
    as_of = cutoff(sc.q.end, now)
    if now is None:
        return "", {}, Metric(False)
    if as_of is None:
        return _LATEST, {}, Metric(False)
    return _AS_OF, {"as_of": as_of}, Metric(True)


def targets_by_id(sc: Scope, now: datetime, ids: list[int], join: str = "") -> tuple[str, dict[str, Any], Metric]:
    """FROM ... WHERE for the targets `ids` (t, p), each joined to its metrics as of the period's
    cutoff, as published_targets has them: a few targets, without finding the period's."""
    metrics_join, as_of, m = as_of_join(sc, now)
    marks, params = in_list("tid", ids)
    frm = f"FROM post_targets t JOIN posts p ON p.id = t.post_id {join} {metrics_join}"
    return f"{frm} WHERE t.id IN {marks}", {**params, **as_of}, m


def as_int(v: Any) -> int | None:
    """An SQL SUM as an int (PostgreSQL sums BIGINT as NUMERIC), NULL kept."""
    return None if v is None else int(v)


def mean(v: Any) -> float | None:
    """An SQL AVG to 12 significant digits: SQLite and PostgreSQL add the floats up in different
    orders (and PostgreSQL averages integers as NUMERIC), so the last bits would differ."""
    return None if v is None else float(f"{float(v):.12g}")
