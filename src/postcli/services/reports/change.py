"""Change vs the previous period for the overview and platforms reports.

The previous period is the same length, ending where the report's period starts:
`--period 30d` is compared with the 30 days before it. Both are computed by the
reports' own functions (services/reports/summary.py), so a figure's previous value is exactly
what the report would have said for that period, metrics as of its end.

A change is {"previous", "change", "change_pct", "new"}:
- change = current - previous when both were reported, else None (NULL is "not
  reported", so there is nothing to subtract);
- change_pct is a fraction of the previous value (0.25 = +25 %), None whenever the
  previous value was 0 or NULL: there is no percentage of nothing, and "0 %" would lie;
- new is True when something was reported now and the previous value was 0 or NULL.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from postcli.services.reports.scope import Meta, Report, ReportQuery
from postcli.services.reports.summary import (
    PLATFORM_COLUMNS,
    OverviewReport,
    PlatformRow,
    PlatformsReport,
)
from postcli.services.reports.summary import overview as overview_report
from postcli.services.reports.summary import platforms as platforms_report

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# The platform row's figures that get a change, in PLATFORM_COLUMNS order.
ROW_FIGURES = tuple(c for c in PLATFORM_COLUMNS if c != "platform")
# The ones CSV carries the change of (a change column per figure would triple its width).
CSV_FIGURES = ("posts", "engagement", "engagement_rate")
OVERVIEW_FIGURES = ("posts_published", "total_engagement", "followers_total")


@dataclass(frozen=True)
class Change:
    previous: int | float | None
    change: int | float | None
    change_pct: float | None
    new: bool

    def as_json(self) -> dict[str, Any]:
        return {"previous": self.previous, "change": self.change, "change_pct": self.change_pct, "new": self.new}

    @property
    def pct_cell(self) -> float | str | None:
        """change_pct for CSV and text: "new" where a percentage would divide by 0 or NULL."""
        return "new" if self.new else self.change_pct


def change(current: int | float | None, previous: int | float | None) -> Change:
    new = current is not None and current != 0 and not previous
    if current is None or previous is None:
        return Change(previous, None, None, new)
    diff = current - previous
    pct = None if previous == 0 else _round(diff / previous)
    return Change(previous, _round(diff), pct, new)


def _round(v: int | float) -> int | float:
    # Floats to 12 significant digits: rates come from SQL AVG, whose last bits differ
    # between SQLite and PostgreSQL (see reports/sql.py's mean); JSON must be the same on both.
    return v if isinstance(v, int) else float(f"{v:.12g}")


def previous_query(q: ReportQuery) -> ReportQuery:
    length = q.end - q.start
    return replace(q, start=q.start - length, end=q.start)


def _row_changes(rows: list[PlatformRow], before: list[PlatformRow]) -> dict[str, dict[str, Change]]:
    prev = {r.platform: r for r in before}
    out = {}
    for r in rows:
        p = prev.get(r.platform)
        out[r.platform] = {f: change(getattr(r, f), None if p is None else getattr(p, f)) for f in ROW_FIGURES}
    return out


def _rows_json(rows: dict[str, dict[str, Change]]) -> dict[str, Any]:
    # Beside the platform rows, not inside them: their documented shape stays as it was.
    return {p: {f: c.as_json() for f, c in changes.items()} for p, changes in rows.items()}


def _row_csv(row: PlatformRow, changes: dict[str, Change]) -> dict[str, Any]:
    out = row.as_json()
    for f in CSV_FIGURES:
        c = changes[f]
        out.update({f"{f}_previous": c.previous, f"{f}_change": c.change, f"{f}_change_pct": c.pct_cell})
    return out


def _csv_change_columns(figures: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{f}_{s}" for f in figures for s in ("previous", "change", "change_pct"))


def _period_json(q: ReportQuery) -> dict[str, Any]:
    return {"start": q.start.astimezone(timezone.utc), "end": q.end.astimezone(timezone.utc)}


@dataclass
class _WithChange:
    """A report beside the same report for the previous period, and the change per figure."""

    report: Report
    previous: Report
    previous_q: ReportQuery
    rows: dict[str, dict[str, Change]]  # per platform row, per ROW_FIGURES

    @property
    def meta(self) -> Meta:
        return self.report.meta

    def as_json(self) -> dict[str, Any]:
        data = self.report.as_json()
        data["previous_period"] = _period_json(self.previous_q)
        data["change"] = self.change_json()
        return data

    def change_json(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass
class PlatformsWithChange(_WithChange):
    report: PlatformsReport
    previous: PlatformsReport

    def change_json(self) -> dict[str, Any]:
        return {"platforms": _rows_json(self.rows)}

    def csv(self) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
        cols = (*PLATFORM_COLUMNS, *_csv_change_columns(CSV_FIGURES))
        return cols, [_row_csv(r, self.rows[r.platform]) for r in self.report.platforms]


@dataclass
class OverviewWithChange(_WithChange):
    report: OverviewReport
    previous: OverviewReport
    figures: dict[str, Change]
    followers_by_platform: dict[str, Change]

    def change_json(self) -> dict[str, Any]:
        return {
            **{f: c.as_json() for f, c in self.figures.items()},
            "followers_by_platform": {p: c.as_json() for p, c in self.followers_by_platform.items()},
            "platforms": _rows_json(self.rows),
        }

    def csv(self) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
        cols = (
            *PLATFORM_COLUMNS,
            "followers",
            *_csv_change_columns(CSV_FIGURES),
            *_csv_change_columns(("followers",)),
        )
        out = []
        for r in self.report.platforms:
            row = {**_row_csv(r, self.rows[r.platform]), "followers": self.report.followers_by_platform.get(r.platform)}
            c = self.followers_by_platform.get(r.platform) or change(row["followers"], None)
            row.update(
                {"followers_previous": c.previous, "followers_change": c.change, "followers_change_pct": c.pct_cell}
            )
            out.append(row)
        return cols, out


def platforms(session: Session, q: ReportQuery, *, now: datetime | None = None) -> PlatformsWithChange:
    report = platforms_report(session, q, now=now)
    pq = previous_query(q)
    before = platforms_report(session, pq, now=now)
    return PlatformsWithChange(report, before, pq, _row_changes(report.platforms, before.platforms))


def overview(session: Session, q: ReportQuery, *, now: datetime | None = None) -> OverviewWithChange:
    report = overview_report(session, q, now=now)
    pq = previous_query(q)
    before = overview_report(session, pq, now=now)
    figures = {f: change(getattr(report, f), getattr(before, f)) for f in OVERVIEW_FIGURES}
    followers = {p: change(v, before.followers_by_platform.get(p)) for p, v in report.followers_by_platform.items()}
    rows = _row_changes(report.platforms, before.platforms)
    return OverviewWithChange(report, before, pq, rows, figures=figures, followers_by_platform=followers)
