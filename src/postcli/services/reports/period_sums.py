"""The figures overview and platforms add up over the targets published in a period, per
platform: from published_sums (store/published.py) and published_counts for the whole UTC
hours of the period (days, for metrics as of a past cutoff), and from the targets themselves
for the parts of hours (days) at its edges. The cost follows the hours in the period and two
hours of posts (two days, for the metrics of a period that ended), not the posts
(docs/design.md, "Reports read rollups").

Metrics are as of the period's cutoff (sql.cutoff): the totals rows (by publish hour) for now;
for a period that ended, the totals less what was captured on the cutoff's day or later (by
publish day).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from postcli.services.reports.scope import Scope
from postcli.services.reports.sql import PUBLISHED, cutoff, published_targets, utc_hour, utc_midnight
from postcli.store.dbapi import Reader, in_list
from postcli.store.published import COUNTS, FIGURES, TABLE, TOTALS_DAY

_N = len(FIGURES)


@dataclass
class Sums:
    """A platform's FIGURES: each one's sum and how many targets reported it."""

    sums: list[Any] = field(default_factory=lambda: [0] * _N)
    counts: list[int] = field(default_factory=lambda: [0] * _N)

    def add(self, row: Any, sign: int = 1) -> None:
        """Add (sign -1: take out) a row of FIGURES' sums then their counts; NULL sums are 0."""
        for i in range(_N):
            self.sums[i] += sign * (row[i] or 0)
            self.counts[i] += sign * int(row[_N + i] or 0)

    def total(self, figure: str) -> int | None:
        """The sum, None when no target reported it (NULL is "not reported", never 0)."""
        i = FIGURES.index(figure)
        return int(self.sums[i]) if self.counts[i] else None

    def mean(self, figure: str) -> float | None:
        i = FIGURES.index(figure)
        return self.sums[i] / self.counts[i] if self.counts[i] else None


def split(sc: Scope, hours: bool = False) -> tuple[list[tuple[datetime, datetime]], tuple[datetime, datetime] | None]:
    """The period as the parts of days (or hours) at its edges (each non-empty) and its whole
    UTC days (hours) between (None when it holds none)."""
    start, end = sc.q.start, sc.q.end
    cut = utc_hour if hours else utc_midnight
    first, last = cut(start, up=True), cut(end)
    if first >= last:
        return [(start, end)], None
    return [(lo, hi) for lo, hi in ((start, first), (last, end)) if lo < hi], (first, last)


def by_platform(db: Reader, sc: Scope, now: datetime) -> dict[str, Sums]:
    """{platform: Sums} over the targets published in the period, metrics as of its cutoff.
    As of now the totals are by publish hour, so only the parts of hours at the edges are read
    target by target; as of a past cutoff the capture days' rows are by publish day, so the
    parts of days are."""
    out: dict[str, Sums] = {}
    platforms = sc.account_platforms(db)
    captured = days_since_cutoff(db, sc, now, platforms)
    edges, days = split(sc, hours=not captured)
    for between in edges:
        _add_targets(db, sc, now, between, out)
    if days is not None:
        _add_days(db, platforms, captured, days, out)
    return out


def _captured_since(db: Reader, as_of: datetime) -> list[datetime]:
    """The capture days from the cutoff's on that may have rows (up to the last one that has)."""
    last = db.one(f"SELECT max(captured_day) FROM {TABLE} WHERE captured_day < :totals", totals=TOTALS_DAY)
    last_day = db.dt(last[0]) if last and last[0] is not None else None
    if last_day is None or last_day < as_of:
        return []
    return [as_of + timedelta(days=i) for i in range((last_day - as_of).days + 1)]


def days_since_cutoff(db: Reader, sc: Scope, now: datetime, platforms: dict[int, str]) -> list[datetime]:
    """The capture days from the period's cutoff (sql.cutoff) on, whose changes its figures as
    of the cutoff must lose; none ("as of now") for a period ending now or today, and for one
    whose targets (in scope) changed no figure on or after the cutoff's day: their latest values
    are then their values as of the cutoff (the period is settled), and the reports read them as
    for a period ending now. So it goes for a period that ended before its posts' collection
    window closed, or in a store no longer collected. One seek per capture day since the cutoff."""
    as_of = cutoff(sc.q.end, now)
    captured = [] if as_of is None else _captured_since(db, as_of)
    if not captured:
        return []
    accounts, params = _keyed(platforms)
    marks, cparams = in_list("cap", captured)
    changed = db.one(
        f"SELECT 1 FROM {TABLE} x WHERE x.captured_day IN {marks}{accounts} "
        "AND x.went_live >= :d0 AND x.went_live < :d1 LIMIT 1",
        d0=utc_midnight(sc.q.start),
        d1=utc_midnight(sc.q.end, up=True),
        **params,
        **cparams,
    )
    return [] if changed is None else captured


def _keyed(platforms: dict[int, str]) -> tuple[str, dict[str, Any]]:
    """` AND x.account_id IN (...)`: the accounts of `platforms` (Scope.account_platforms).
    published_sums' key has the account after the capture day, so each is a seek, and rows come
    in account order: summed by account without a sort."""
    marks, params = in_list("acc", sorted(platforms))
    return f" AND x.account_id IN {marks}", params


_SELECT = ", ".join(f"sum(x.{c})" for c in (*FIGURES, *COUNTS))


def _add_days(
    db: Reader,
    platforms: dict[int, str],
    captured: list[datetime],
    days: tuple[datetime, datetime],
    out: dict[str, Sums],
) -> None:
    accounts, params = _keyed(platforms)
    head = f"SELECT x.account_id, {_SELECT} FROM {TABLE} x WHERE "
    period = f"{accounts} AND x.went_live >= :d0 AND x.went_live < :d1 GROUP BY x.account_id"
    params.update(d0=days[0], d1=days[1])
    for account_id, *row in db.rows(head + "x.captured_day = :totals" + period, totals=TOTALS_DAY, **params):
        out.setdefault(platforms[account_id], Sums()).add(row)
    if not captured:
        return
    # Less what was captured on the cutoff's day or later: one seek per capture day and account
    # (the key starts with them), each reading only the period's publish days.
    marks, cparams = in_list("cap", captured)
    for account_id, *row in db.rows(head + f"x.captured_day IN {marks}" + period, **params, **cparams):
        out.setdefault(platforms[account_id], Sums()).add(row, sign=-1)


def _add_targets(
    db: Reader, sc: Scope, now: datetime, between: tuple[datetime, datetime], out: dict[str, Sums]
) -> None:
    """The targets published `between` two moments (a part of a day), one by one."""
    frm, params, m = published_targets(sc, now, posts=False, between=between)
    cols = [m(c) for c in FIGURES[:-1]] + [m.rate]
    sums = ", ".join(f"sum({c})" for c in cols)
    counts = ", ".join(f"count({c})" for c in cols)
    for platform, *row in db.rows(f"SELECT t.platform, {sums}, {counts} {frm} GROUP BY t.platform", **params):
        out.setdefault(platform, Sums()).add(row)


@dataclass
class Counts:
    """What a platform published in a period: targets, posts counted at the post's first target
    on the platform (`posts`) and overall (`posts_all`), by publish time then target id."""

    targets: int = 0
    posts: int = 0
    posts_all: int = 0

    def add(self, row: Any) -> None:
        self.targets += int(row[0] or 0)
        self.posts += int(row[1] or 0)
        self.posts_all += int(row[2] or 0)


def counts_by_platform(db: Reader, sc: Scope) -> dict[str, Counts]:
    """{platform: Counts} of the period: whole UTC hours from published_counts, parts of hours
    from the targets."""
    out: dict[str, Counts] = {}
    edges, days = split(sc, hours=True)
    for between in edges:
        _count_targets(db, sc, between, out)
    if days is not None:
        platforms = sc.account_platforms(db)
        accounts, params = _keyed(platforms)
        sql = (
            "SELECT x.account_id, sum(x.targets), sum(x.posts), sum(x.posts_all) FROM published_counts x "
            f"WHERE x.hour >= :d0 AND x.hour < :d1{accounts} GROUP BY x.account_id"
        )
        for account_id, *row in db.rows(sql, d0=days[0], d1=days[1], **params):
            out.setdefault(platforms[account_id], Counts()).add(row)
    return out


# An earlier counted target of the same post (on the same platform, for `posts`).
_LIVE3 = "COALESCE(t3.completed_at, p3.published_at)"
_EARLIER = (
    "EXISTS (SELECT 1 FROM post_targets t3 JOIN posts p3 ON p3.id = t3.post_id WHERE t3.post_id = t.post_id "
    f"AND t3.platform_post_id IS NOT NULL AND {_LIVE3} IS NOT NULL{{same}} "
    f"AND ({_LIVE3} < {PUBLISHED} OR ({_LIVE3} = {PUBLISHED} AND t3.id < t.id)))"
)


def _count_targets(db: Reader, sc: Scope, between: tuple[datetime, datetime], out: dict[str, Counts]) -> None:
    frm, params, _m = published_targets(sc, None, between=between)
    first_here = "NOT " + _EARLIER.format(same=" AND t3.platform = t.platform")
    first_all = "NOT " + _EARLIER.format(same="")
    sql = (
        f"SELECT t.platform, count(t.id), sum(CASE WHEN {first_here} THEN 1 ELSE 0 END), "
        f"sum(CASE WHEN {first_all} THEN 1 ELSE 0 END) {frm} GROUP BY t.platform"
    )
    for platform, *row in db.rows(sql, **params):
        out.setdefault(platform, Counts()).add(row)
