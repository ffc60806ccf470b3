"""SQL pieces the reports share: which targets a period covers, with their metrics as of its
end, and the engagement rate (metrics.py's rule); and reading aggregates back the same
from SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from postcli import metrics
from postcli.services.reports.scope import Scope

# The engagement rate of a target's metrics `m`; every report that shows it says so.
RATE = metrics.engagement_rate_sql("m.engagement", "m.follower_count")
RATE_DENOMINATOR = "followers_at_snapshot"
# When a target went live: its own completion time, else (an imported post) the post's.
PUBLISHED = "COALESCE(t.completed_at, p.published_at)"


def published_targets(sc: Scope, now: datetime | None, join: str = "") -> tuple[str, dict[str, Any]]:
    """FROM ... WHERE for the targets published in the period, each joined to its metrics `m`
    as of the period's end (t = post_targets, p = posts, m = metrics or NULLs).

    The period's target ids come from the indexes on post_targets.completed_at and
    posts.published_at (two disjoint halves: a target's own time, else its post's), so
    the cost follows the posts in the period, not all posts in the store; as an IN list
    they are then read in id order (2.5x cheaper here than joining the union).

    A period that ends now reads post_metric_latest (one row per target); one that ended
    in the past picks the latest snapshot before its end through the (target_id,
    captured_at) index, a correlated subquery being far cheaper than ROW_NUMBER() here.
    now=None: no metrics join.
    """
    if now is None:
        metrics_join = ""
    elif sc.q.end >= now:
        metrics_join = "LEFT JOIN post_metric_latest m ON m.target_id = t.id"
    else:
        metrics_join = (
            "LEFT JOIN post_metric_snapshots m ON m.id = ("
            "SELECT s2.id FROM post_metric_snapshots s2 WHERE s2.target_id = t.id AND s2.captured_at < :end "
            "ORDER BY s2.captured_at DESC, s2.id DESC LIMIT 1)"
        )
    t_where, params = sc.targets()
    in_period = (
        "SELECT t1.id FROM post_targets t1 WHERE t1.completed_at >= :start AND t1.completed_at < :end "
        "UNION ALL "
        "SELECT t2.id FROM posts p2 JOIN post_targets t2 ON t2.post_id = p2.id "
        "WHERE p2.published_at >= :start AND p2.published_at < :end AND t2.completed_at IS NULL"
    )
    sql = (
        f"FROM post_targets t JOIN posts p ON p.id = t.post_id {join} {metrics_join} "
        f"WHERE t.id IN ({in_period}) AND t.platform_post_id IS NOT NULL{t_where}"
    )
    return sql, {**params, "start": sc.q.start, "end": sc.q.end}


def as_int(v: Any) -> int | None:
    """An SQL SUM as an int (PostgreSQL sums BIGINT as NUMERIC), NULL kept."""
    return None if v is None else int(v)


def mean(v: Any) -> float | None:
    """An SQL AVG to 12 significant digits: SQLite and PostgreSQL add the floats up in different
    orders (and PostgreSQL averages integers as NUMERIC), so the last bits would differ."""
    return None if v is None else float(f"{float(v):.12g}")
