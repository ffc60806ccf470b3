"""The analytics reports (DESIGN.md "Reports"): overview, timeline, growth, top, platforms, heatmap.

Pure logic: each report takes a store reader (store/dbapi.py; an ORM Session works
too) and a ReportQuery and returns a Report with `as_json()` (the documented shape,
docs/reports.md) and `csv()` (columns, rows). The SQL is written once, plain, for
SQLite and PostgreSQL alike; dbapi.py holds the few differences. Aggregation runs in
SQL over the tables kept current on insert (post_metric_latest, account_post_hourly);
Python only folds small aggregated results (hour buckets into the user's days and
weekday/hour cells, zero-filling days).

Which posts a report covers: a target (one post on one account) counts when it was
published (it has a platform post id) inside [start, end). Its metrics are its
latest snapshot, or, for a period that ended in the past, its latest snapshot
before the end. The timeline is different on purpose: it counts engagement that
*happened* inside the period, whenever the post was published.

NULL is "not reported": sums use metrics.total's rule (NULL + NULL = NULL,
3 + NULL = 3), which SQL's SUM/AVG already follow.

The modules: scope (query, Meta, scope, empty-period lines), sql (shared SQL pieces),
summary (platforms, overview), daily (timeline), followers (growth), ranking (top),
publish_slots (heatmap, and the slots best-times ranks), change (overview and platforms
with their change vs the previous period), best_times; catalog is the one table of every
report postcli computes (the commands' and the HTML report's). The names below are the
reports' public interface.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from postcli.metrics import HOURLY_COUNTERS
    from postcli.services.reports.daily import TimelineDay, TimelineReport, timeline
    from postcli.services.reports.followers import GrowthAccount, GrowthReport, growth
    from postcli.services.reports.publish_slots import WEEKDAYS, HeatCell, HeatmapReport, heatmap
    from postcli.services.reports.ranking import SORT_KEYS, TopPost, TopReport, top
    from postcli.services.reports.scope import AccountRef, Meta, Report, ReportQuery, resolve_account
    from postcli.services.reports.summary import (
        PLATFORM_COLUMNS,
        AccountFollowers,
        OverviewReport,
        PlatformRow,
        PlatformsReport,
        overview,
        platforms,
    )

# Each name from its module, imported on first use: a report command loads the one report it
# runs (start-up as light as `postcli --help`), not all of them.
_WHERE = {
    "HOURLY_COUNTERS": "postcli.metrics",
    **dict.fromkeys(("TimelineDay", "TimelineReport", "timeline"), "postcli.services.reports.daily"),
    **dict.fromkeys(("GrowthAccount", "GrowthReport", "growth"), "postcli.services.reports.followers"),
    **dict.fromkeys(("WEEKDAYS", "HeatCell", "HeatmapReport", "heatmap"), "postcli.services.reports.publish_slots"),
    **dict.fromkeys(("SORT_KEYS", "TopPost", "TopReport", "top"), "postcli.services.reports.ranking"),
    **dict.fromkeys(
        ("AccountRef", "Meta", "Report", "ReportQuery", "resolve_account"), "postcli.services.reports.scope"
    ),
    **dict.fromkeys(
        (
            "PLATFORM_COLUMNS",
            "AccountFollowers",
            "OverviewReport",
            "PlatformRow",
            "PlatformsReport",
            "overview",
            "platforms",
        ),
        "postcli.services.reports.summary",
    ),
}


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(where), name)


__all__ = [
    "HOURLY_COUNTERS",
    "PLATFORM_COLUMNS",
    "SORT_KEYS",
    "WEEKDAYS",
    "AccountFollowers",
    "AccountRef",
    "GrowthAccount",
    "GrowthReport",
    "HeatCell",
    "HeatmapReport",
    "Meta",
    "OverviewReport",
    "PlatformRow",
    "PlatformsReport",
    "Report",
    "ReportQuery",
    "TimelineDay",
    "TimelineReport",
    "TopPost",
    "TopReport",
    "growth",
    "heatmap",
    "overview",
    "platforms",
    "resolve_account",
    "timeline",
    "top",
]
