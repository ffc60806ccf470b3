"""Every report postcli computes, by command name: the one table.

`postcli analytics NAME` runs an entry through `run`; the HTML report and the digest
(services/dashboard.py) show the entries that name a `section`, in this order, with their
`section_options`. overview and platforms come with their change vs the previous period
(reports/change.py); best-times is reports/best_times.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Mapping

from postcli.services.reports import best_times
from postcli.services.reports import change as report_change
from postcli.services.reports.daily import timeline
from postcli.services.reports.followers import growth
from postcli.services.reports.publish_slots import heatmap
from postcli.services.reports.ranking import top

TOP_LIMIT = 10  # posts in the HTML report's and the digest's top list


@dataclass(frozen=True)
class Entry:
    # (reader or session, ReportQuery, *, now=None, and the command's own options) -> a report
    compute: Callable[..., Any]
    section: str | None = None  # its key in the dashboard's JSON; None: not on the page
    section_options: Mapping[str, Any] = field(default_factory=dict)


REPORTS: dict[str, Entry] = {
    "overview": Entry(report_change.overview, "overview"),
    "timeline": Entry(timeline, "timeline"),
    "growth": Entry(growth, "growth"),
    "top": Entry(top, "top", {"limit": TOP_LIMIT}),
    "platforms": Entry(report_change.platforms),  # on the page inside the overview
    "heatmap": Entry(heatmap, "heatmap"),
    "best-times": Entry(best_times.best_times, "best_times"),
}


def sections() -> dict[str, Callable[..., Any]]:
    """The dashboard's sections in order: section name -> (reader, ReportQuery, *, now) -> report."""
    return {e.section: partial(e.compute, **e.section_options) for e in REPORTS.values() if e.section is not None}


def run(name: str, q: Any, **options: Any) -> Any:
    """Run one report on the store: the read path is chosen here, not by the caller
    (store/dbapi.py: no SQLAlchemy when the store is current)."""
    from postcli.store.dbapi import open_reader

    with open_reader() as db:
        return REPORTS[name].compute(db, q, **options)
