"""The growth report: followers per account per local day, and the change over the period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from postcli import metrics
from postcli.services.reports.scope import COLLECT_HINT, Report, ReportQuery, begin, day_bounds
from postcli.services.reports.sql import as_int


@dataclass
class GrowthAccount:
    account_id: int
    platform: str
    handle: str
    start: int | None  # first reported value in the period
    end: int | None  # last reported value in the period
    change: int | None
    days: list[tuple[date, int | None]]

    def as_json(self) -> dict[str, Any]:
        return {**vars(self), "days": [{"date": d, "followers": f} for d, f in self.days]}


@dataclass
class GrowthReport(Report):
    accounts: list[GrowthAccount]
    total_change: int | None

    columns = ("date", "account_id", "platform", "handle", "followers")

    def body(self) -> dict[str, Any]:
        return {"total_change": self.total_change, "accounts": [a.as_json() for a in self.accounts]}

    def csv_rows(self) -> list[dict[str, Any]]:
        return [
            {"date": d, "account_id": a.account_id, "platform": a.platform, "handle": a.handle, "followers": f}
            for a in self.accounts
            for d, f in a.days
        ]


def growth(session: Any, q: ReportQuery, *, now: datetime | None = None) -> GrowthReport:
    """Followers per account per local day: the day's latest account snapshot (None if none)."""
    db, sc, meta = begin(session, q, "growth")
    if meta.empty:
        return GrowthReport(meta, [], None)
    zone = sc.q.zone
    bounds = []
    for day in sc.local_days():
        lo, hi = day_bounds(day, zone)
        bounds.append((day.isoformat(), max(lo, sc.q.start), min(hi, sc.q.end)))
    # One indexed probe per (account, day) on (account_id, captured_at): a few hundred
    # seeks instead of scanning every hourly snapshot in the period.
    days_sql, days_params = db.days_table("days", bounds)
    where, params = sc.accounts()
    found = db.rows(
        # The value straight from the subquery: joined on its key, PostgreSQL hash-joined every
        # account snapshot (a full scan that grows with the history, not the period).
        "SELECT a.id, a.platform, a.handle, days.day, ("
        "SELECT s2.followers FROM account_metric_snapshots s2 "
        "WHERE s2.account_id = a.id AND s2.captured_at >= days.lo AND s2.captured_at < days.hi "
        f"ORDER BY s2.captured_at DESC LIMIT 1) FROM accounts a CROSS JOIN {days_sql}{where} "
        "ORDER BY a.platform, a.id, days.day",
        **params,
        **days_params,
    )
    series: dict[int, GrowthAccount] = {}
    for acc_id, platform, handle, day, followers in found:
        g = series.get(acc_id)
        if g is None:
            g = series[acc_id] = GrowthAccount(acc_id, platform, handle, None, None, None, [])
        g.days.append((date.fromisoformat(day), as_int(followers)))
    for g in series.values():
        reported = [f for _, f in g.days if f is not None]
        if reported:
            g.start, g.end = reported[0], reported[-1]
            g.change = g.end - g.start
    accounts = list(series.values())
    if not any(g.start is not None for g in accounts):
        meta.empty = sc.nothing_recorded(
            "follower counts recorded", f"Try a longer --period; to record them, {COLLECT_HINT}."
        )
    return GrowthReport(meta, accounts, metrics.total(g.change for g in accounts))
