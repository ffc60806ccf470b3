"""Engagement by when posts were published: the heatmap report, and the weekday x hour
slots it shares with best-times (reports/best_times.py)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from postcli.services.reports.period_sums import split
from postcli.services.reports.scope import Report, ReportQuery, Scope, begin, utc_now
from postcli.services.reports.sql import PUBLISHED, cutoff, published_targets
from postcli.store import published
from postcli.store.dbapi import Reader, in_list
from postcli.store.published import TOTALS_DAY

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class SlotTotals:
    posts: int  # targets published in the slot
    reported: int  # of which engagement was reported
    engagement: int  # summed over the reported ones

    @property
    def mean(self) -> float | None:
        return self.engagement / self.reported if self.reported else None


def bucket_seconds(sc: Scope) -> int:
    """UTC hours when the zone's offset is a whole number of hours throughout the period, else
    quarter hours (+05:30, +05:45: every zone's offset is a whole number of them), so a bucket
    never straddles a local hour. Throughout: at its start, its end and every 12 hours between
    (an offset lasts months; Asia/Pyongyang was +08:30 from 2015 to 2018, between two +09:00s)."""
    zone, start, end = sc.q.zone, sc.q.start, sc.q.end
    steps = int((end - start) / timedelta(hours=12))
    moments = [start + timedelta(hours=12 * i) for i in range(steps + 1)] + [end]
    whole = all((m.astimezone(zone).utcoffset() or timedelta()).total_seconds() % 3600 == 0 for m in moments)
    return 3600 if whole else 900


def slot_totals(db: Reader, sc: Scope, now: datetime, seconds: int) -> dict[tuple[int, int], SlotTotals]:
    """Targets published in the period by local (weekday, hour), with their engagement as of its end.

    They are counted by `seconds`-long UTC buckets of their publish time (a whole number of
    which fits in every local hour of the zone); each bucket is then placed in its local
    weekday/hour, which follows DST exactly. By hour, the whole UTC hours come from the rollups
    by publish hour (published_counts, published_sums' totals, and for a period that ended,
    less what published_hours has captured from its cutoff's day on), and only the parts of
    hours at the edges from the targets: the cost follows the hours in the period. By quarter
    hour, target by target.
    """
    found = _buckets(db, sc, now, seconds)
    zone = sc.q.zone
    acc: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    for b, posts, reported, total in found:
        loc = datetime.fromtimestamp(int(b) * seconds, timezone.utc).astimezone(zone)
        a = acc[(loc.weekday(), loc.hour)]
        a[0] += posts
        a[1] += reported
        a[2] += int(total or 0)
    return {slot: SlotTotals(*a) for slot, a in acc.items()}


Bucket = tuple[int, int, int, Any]  # (bucket: unix time // seconds, targets, reported, engagement)


def _buckets(db: Reader, sc: Scope, now: datetime, seconds: int) -> list[Bucket]:
    edges, hours = split(sc, hours=True)
    if seconds != 3600 or hours is None:
        return _target_buckets(db, sc, now, seconds, None)
    out = _hour_buckets(db, sc, *hours, _captured_since(db, cutoff(sc.q.end, now)))
    for between in edges:
        out += _target_buckets(db, sc, now, seconds, between)
    return out


def _captured_since(db: Reader, as_of: datetime | None) -> list[int]:
    """The capture days (day numbers) from the cutoff's on that may have published_hours rows:
    none for a period read as of now."""
    if as_of is None:
        return []
    last = db.scalar(f"SELECT max(captured_day) FROM {published.HOURS}")
    first = published.day_number(as_of)
    return [] if last is None else list(range(first, int(last) + 1))


def _target_buckets(
    db: Reader, sc: Scope, now: datetime, seconds: int, between: tuple[datetime, datetime] | None
) -> list[Bucket]:
    bucket = db.epoch_bucket(PUBLISHED, seconds)
    frm, params, m = published_targets(sc, now, between=between)
    eng = m("engagement")
    return db.rows(f"SELECT {bucket}, count(t.id), count({eng}), sum({eng}) {frm} GROUP BY {bucket}", **params)


def _hour_buckets(db: Reader, sc: Scope, first: datetime, last: datetime, captured: list[int]) -> list[Bucket]:
    """The whole UTC hours [first, last) from the rollups, each hour its own bucket: engagement
    as of now, less what was captured on the `captured` days."""
    where, params = sc.hourly(db)
    params.update(h0=first, h1=last)
    counted = db.rows(
        f"SELECT h.hour, sum(h.targets) FROM published_counts h WHERE h.hour >= :h0 AND h.hour < :h1{where} "
        "GROUP BY h.hour",
        **params,
    )
    # published_sums' key has the account before the publish hour: each account in scope a seek.
    accounts, aparams = in_list("sums_acc", sorted(sc.account_platforms(db)))
    summed: dict[int, list[int]] = {
        published.hour_number(hour): [int(n or 0), int(total or 0)]
        for hour, n, total in db.rows(
            "SELECT h.went_live, sum(h.engagement_n), sum(h.engagement) FROM published_sums h "
            f"WHERE h.captured_day = :totals AND h.account_id IN {accounts} AND h.went_live >= :h0 "
            "AND h.went_live < :h1 GROUP BY h.went_live",
            totals=TOTALS_DAY,
            h0=first,
            h1=last,
            **aparams,
        )
    }
    if captured:
        # One seek per capture day (published_hours' key starts with it), over the period's hours.
        marks, cparams = in_list("cap", captured)
        for hour, n, total in db.rows(
            f"SELECT h.went_live, sum(h.engagement_n), sum(h.engagement) FROM {published.HOURS} h "
            f"WHERE h.captured_day IN {marks} AND h.went_live >= :n0 AND h.went_live < :n1{where} GROUP BY h.went_live",
            n0=published.hour_number(first),
            n1=published.hour_number(last),
            **params,
            **cparams,
        ):
            had = summed.setdefault(int(hour), [0, 0])
            had[0] -= int(n or 0)
            had[1] -= int(total or 0)
    out: list[Bucket] = []
    for hour, targets in counted:
        number = published.hour_number(hour)
        n, total = summed.get(number, (0, 0))
        out.append((number, int(targets), n, total))
    return out


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
    slots = slot_totals(db, sc, utc_now(now), bucket_seconds(sc))
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
