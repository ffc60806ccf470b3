"""Every report `postcli analytics` runs, by command name: one explicit table.

overview and platforms come with their change vs the previous period
(reports/change.py); best-times is reports/best_times.py.
"""

from __future__ import annotations

from typing import Any, Callable

from postcli.services.reports import best_times
from postcli.services.reports import change as report_change
from postcli.services.reports.daily import timeline
from postcli.services.reports.followers import growth
from postcli.services.reports.publish_slots import heatmap
from postcli.services.reports.ranking import top

# Each: (reader or session, ReportQuery, *, now=None, and the command's own options) -> a report.
ANALYTICS: dict[str, Callable[..., Any]] = {
    "overview": report_change.overview,
    "timeline": timeline,
    "growth": growth,
    "top": top,
    "platforms": report_change.platforms,
    "heatmap": heatmap,
    "best-times": best_times.best_times,
}


def run(name: str, q: Any, **options: Any) -> Any:
    """Run one report on the store: the read path is chosen here, not by the caller
    (store/dbapi.py: no SQLAlchemy when the store is current)."""
    from postcli.store.dbapi import open_reader

    with open_reader() as db:
        return ANALYTICS[name](db, q, **options)
