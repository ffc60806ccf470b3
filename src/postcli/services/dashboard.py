"""Every report the HTML report (and the digest) shows, computed once for one query.

The renderers draw from each report's `as_json()`: the very data `--json` prints, so a
number on the page is the number the terminal and the JSON give.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from postcli.services import best_times, report_change, reports

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

TOP_LIMIT = 10


@dataclass
class Dashboard:
    overview: dict[str, Any]  # with the change vs the previous period
    timeline: dict[str, Any]
    growth: dict[str, Any]
    top: dict[str, Any]
    heatmap: dict[str, Any]
    best_times: dict[str, Any]
    empty: str | None  # the overview's one-line reason when there is nothing to show

    def as_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("overview", "timeline", "growth", "top", "heatmap", "best_times")}


def build(session: Session, q: reports.ReportQuery, *, now: datetime | None = None) -> Dashboard:
    overview = report_change.overview(session, q, now=now)
    return Dashboard(
        overview=overview.as_json(),
        timeline=reports.timeline(session, q, now=now).as_json(),
        growth=reports.growth(session, q, now=now).as_json(),
        top=reports.top(session, q, limit=TOP_LIMIT, now=now).as_json(),
        heatmap=reports.heatmap(session, q, now=now).as_json(),
        best_times=best_times.best_times(session, q, now=now).as_json(),
        empty=overview.meta.empty,
    )
