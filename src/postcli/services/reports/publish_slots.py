"""Engagement by when posts were published: the heatmap report, and the weekday x hour
slots it shares with best-times (reports/best_times.py)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from postcli.services.reports.scope import Report, ReportQuery, Scope, begin, utc_now
from postcli.services.reports.sql import PUBLISHED, published_targets
from postcli.store.dbapi import Reader

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class SlotTotals:
    posts: int  # targets published in the slot
    reported: int  # of which engagement was reported
    engagement: int  # summed over the reported ones

    @property
    def mean(self) -> float | None:
        return self.engagement / self.reported if self.reported else None


def slot_totals(db: Reader, sc: Scope, now: datetime, seconds: int) -> dict[tuple[int, int], SlotTotals]:
    """Targets published in the period by local (weekday, hour), with their engagement as of its end.

    SQL groups them by `seconds`-long UTC buckets of their publish time (a whole number of
    which fits in every local hour of the zone); each bucket is then placed in its local
    weekday/hour, which follows DST exactly.
    """
    bucket = db.epoch_bucket(PUBLISHED, seconds)
    frm, params, m = published_targets(sc, now)
    eng = m("engagement")
    found = db.rows(f"SELECT {bucket}, count(t.id), count({eng}), sum({eng}) {frm} GROUP BY {bucket}", **params)
    zone = sc.q.zone
    acc: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    for b, posts, reported, total in found:
        loc = datetime.fromtimestamp(int(b) * seconds, timezone.utc).astimezone(zone)
        a = acc[(loc.weekday(), loc.hour)]
        a[0] += posts
        a[1] += reported
        a[2] += int(total or 0)
    return {slot: SlotTotals(*a) for slot, a in acc.items()}


@dataclass
class HeatCell:
    weekday: int  # 0 = Monday
    hour: int  # 0-23, in the report's timezone
    posts: int
    mean_engagement: float | None  # over posts whose engagement was reported

    @property
    def weekday_name(self) -> str:
        return WEEKDAYS[self.weekday]

    def as_json(self) -> dict[str, Any]:
        return {c: getattr(self, c) for c in CELL_COLUMNS}


CELL_COLUMNS = ("weekday", "weekday_name", "hour", "posts", "mean_engagement")


@dataclass
class HeatmapReport(Report):
    cells: list[HeatCell]  # 168, Monday 00:00 first
    best_slots: list[HeatCell]

    columns = CELL_COLUMNS

    def cell(self, weekday: int, hour: int) -> HeatCell:
        return self.cells[weekday * 24 + hour]

    def body(self) -> dict[str, Any]:
        return {"cells": self.csv_rows(), "best_slots": [c.as_json() for c in self.best_slots]}

    def csv_rows(self) -> list[dict[str, Any]]:
        return [c.as_json() for c in self.cells]


def heatmap(session: Any, q: ReportQuery, *, now: datetime | None = None, best: int = 3) -> HeatmapReport:
    """Mean engagement per post by the weekday and hour it was published, in the user's zone.

    Posts are grouped by UTC publish hour (by quarter hour in zones with a :30/:45 offset).
    """
    db, sc, meta = begin(session, q, "heatmap")
    if meta.empty:
        return HeatmapReport(meta, [HeatCell(d, h, 0, None) for d in range(7) for h in range(24)], [])
    zone = sc.q.zone
    whole_hours = all(
        (m.astimezone(zone).utcoffset() or timedelta()).total_seconds() % 3600 == 0 for m in (sc.q.start, sc.q.end)
    )
    slots = slot_totals(db, sc, utc_now(now), 3600 if whole_hours else 900)
    empty = SlotTotals(0, 0, 0)
    cells = [
        HeatCell(d, h, slots.get((d, h), empty).posts, slots.get((d, h), empty).mean)
        for d in range(7)
        for h in range(24)
    ]
    ranked = sorted(
        (c for c in cells if c.mean_engagement is not None),
        key=lambda c: (-(c.mean_engagement or 0.0), c.weekday, c.hour),
    )
    if not slots:
        meta.empty = sc.nothing_published()
    return HeatmapReport(meta, cells, ranked[:best])
