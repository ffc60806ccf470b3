"""The timeline report: engagement gained per day in the user's timezone, from the per-account
hourly gains (account_post_hourly: accounts x hours, however many posts were collected)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, cast

from postcli import metrics
from postcli.metrics import HOURLY_COUNTERS
from postcli.services.reports.scope import COLLECT_HINT, Report, ReportQuery, Scope, begin
from postcli.store.dbapi import Reader


@dataclass
class TimelineDay:
    date: date
    engagement: int | None
    likes: int | None
    comments: int | None
    shares: int | None


@dataclass
class TimelineReport(Report):
    days: list[TimelineDay]
    total_engagement: int | None

    columns = tuple(TimelineDay.__dataclass_fields__)

    def body(self) -> dict[str, Any]:
        return {"total_engagement": self.total_engagement, "days": self.csv_rows()}

    def csv_rows(self) -> list[dict[str, Any]]:
        return [vars(d).copy() for d in self.days]


def timeline(session: Any, q: ReportQuery, *, now: datetime | None = None) -> TimelineReport:
    """Engagement gained per day in the user's timezone.

    Sums the per-account hourly gains (per target: the hour's last reported counters minus
    the previous reported ones), so a post published long before the period counts on the
    day its likes arrived. Resolution is one hour: in a zone whose offset is not a whole
    number of hours, the hour that straddles midnight counts on the day it starts in.
    A day with no reported delta is 0 once the scope has any reported value, and
    empty (None) before that.
    """
    db, sc, meta = begin(session, q, "timeline")
    if meta.empty:
        return TimelineReport(meta, [], None)
    first_hour = sc.q.start.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
    if first_hour < sc.q.start:
        first_hour += timedelta(hours=1)  # start is inclusive: an hour that began before it is outside
    # Per account and hour: the sum of its targets' deltas and how many were reported (n = 0: NULL).
    deltas = ", ".join(f"sum(CASE WHEN h.{k}_n > 0 THEN h.{k} END)" for k in HOURLY_COUNTERS)
    h_where, h_params = sc.hourly(db)
    found = db.rows(
        f"SELECT h.hour, {deltas} FROM account_post_hourly h WHERE h.hour >= :first AND h.hour < :end{h_where} "
        "GROUP BY h.hour ORDER BY h.hour",
        **h_params,
        first=first_hour,
        end=sc.q.end,
    )
    zone = sc.q.zone
    sums: dict[date, dict[str, int | None]] = defaultdict(lambda: dict.fromkeys(HOURLY_COUNTERS))
    first_reported: dict[str, date] = {}
    for hour, *vals in found:
        day = cast(datetime, db.dt(hour)).astimezone(zone).date()
        cell = sums[day]
        for k, v in zip(HOURLY_COUNTERS, vals):
            if v is not None:
                cell[k] = (cell[k] or 0) + int(v)
                first_reported.setdefault(k, day)
    earlier = _reported_before(db, sc, first_hour, h_where, h_params)
    out = []
    for day in sc.local_days():
        counts: dict[str, int | None] = {}
        for k in HOURLY_COUNTERS:
            v = sums[day][k] if day in sums else None
            if v is None and (earlier[k] or (k in first_reported and day >= first_reported[k])):
                v = 0
            counts[k] = v
        out.append(TimelineDay(day, counts["engagement"], counts["likes"], counts["comments"], counts["shares"]))
    if not sums and not any(earlier.values()):
        meta.empty = sc.nothing_recorded(
            "engagement recorded", f"Try a longer --period (e.g. 90d); to update metrics, {COLLECT_HINT}."
        )
    return TimelineReport(meta, out, metrics.total(d.engagement for d in out))


def _reported_before(db: Reader, sc: Scope, hour: datetime, h_where: str, h_params: dict[str, Any]) -> dict[str, bool]:
    """Per counter: did any target in scope report it before `hour`? (Then quiet days are 0.)"""
    probes = ", ".join(
        f"EXISTS (SELECT 1 FROM account_post_hourly h WHERE h.hour < :hour AND h.{k}_n > 0{h_where})"
        for k in HOURLY_COUNTERS
    )
    row = db.one(f"SELECT {probes}", **h_params, hour=hour) or ()
    return {k: bool(v) for k, v in zip(HOURLY_COUNTERS, row)}
