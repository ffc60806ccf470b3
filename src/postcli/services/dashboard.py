"""Every report the HTML report (and the digest) shows, computed once for one query.

The renderers draw from each report's `as_json()`: the very data `--json` prints, so a
number on the page is the number the terminal and the JSON give.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Callable

from postcli.services.reports import ReportQuery, best_times, growth, heatmap, timeline, top
from postcli.services.reports import change as report_change

TOP_LIMIT = 10

# The page's sections, in order: each a report (reader or session, ReportQuery, *, now) -> report.
SECTIONS: dict[str, Callable[..., Any]] = {
    "overview": report_change.overview,  # with the change vs the previous period
    "timeline": timeline,
    "growth": growth,
    "top": partial(top, limit=TOP_LIMIT),
    "heatmap": heatmap,
    "best_times": best_times.best_times,
}


@dataclass
class Dashboard:
    sections: dict[str, dict[str, Any]]  # SECTIONS' names -> each report's JSON
    empty: str | None  # the overview's one-line reason when there is nothing to show

    @property
    def overview(self) -> dict[str, Any]:
        return self.sections["overview"]

    def as_json(self) -> dict[str, Any]:
        return dict(self.sections)


def build(session: Any, q: ReportQuery, *, now: datetime | None = None) -> Dashboard:
    made = {name: report(session, q, now=now) for name, report in SECTIONS.items()}
    return Dashboard({name: r.as_json() for name, r in made.items()}, empty=made["overview"].meta.empty)


def build_from_store(q: ReportQuery, *, now: datetime | None = None) -> Dashboard:
    """build() on the store, the read path chosen here (store/dbapi.py)."""
    from postcli.store.dbapi import open_reader

    with open_reader() as db:
        return build(db, q, now=now)
