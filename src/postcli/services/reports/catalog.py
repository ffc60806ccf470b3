"""Every report postcli computes, by command name: the one table.

`postcli analytics NAME` runs an entry through `run`; the HTML report and the digest
(services/dashboard.py) show the entries that name a `section`, in this order, with their
`section_options`. overview and platforms come with their change vs the previous period
(reports/change.py); best-times is reports/best_times.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from importlib import import_module
from typing import Any, Callable, Mapping

TOP_LIMIT = 10  # posts in the HTML report's and the digest's top list


@dataclass(frozen=True)
class Entry:
    # "module:function", imported when the report runs (a command loads only its own report):
    # (reader or session, ReportQuery, *, now=None, and the command's own options) -> a report
    where: str
    section: str | None = None  # its key in the dashboard's JSON; None: not on the page
    section_options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def compute(self) -> Callable[..., Any]:
        module, name = self.where.split(":")
        fn: Callable[..., Any] = getattr(import_module(f"postcli.services.reports.{module}"), name)
        return fn


REPORTS: dict[str, Entry] = {
    "overview": Entry("change:overview", "overview"),
    "timeline": Entry("daily:timeline", "timeline"),
    "growth": Entry("followers:growth", "growth"),
    "top": Entry("ranking:top", "top", {"limit": TOP_LIMIT}),
    "platforms": Entry("change:platforms"),  # on the page inside the overview
    "heatmap": Entry("publish_slots:heatmap", "heatmap"),
    "best-times": Entry("best_times:best_times", "best_times"),
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
