"""The top report: the best targets (a post on one account) published in the period by one metric."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from postcli.errors import InvalidInput
from postcli.services.reports.scope import Report, ReportQuery, Scope, begin, utc_now
from postcli.services.reports.sql import (
    PUBLISHED,
    RATE_DENOMINATOR,
    Metric,
    as_int,
    as_of_join,
    published_targets,
    targets_by_id,
)
from postcli.store.dbapi import Reader

SORT_KEYS = ("engagement", "likes", "comments", "shares", "reach", "impressions", "engagement_rate")


@dataclass
class TopPost:
    rank: int
    post_id: int
    target_id: int
    platform: str
    account_id: int
    handle: str
    url: str | None
    text: str
    published_at: datetime
    likes: int | None
    comments: int | None
    shares: int | None
    quotes: int | None
    saves: int | None
    impressions: int | None
    reach: int | None
    views: int | None
    engagement: int | None
    engagement_rate: float | None
    follower_count: int | None


@dataclass
class TopReport(Report):
    sort: str
    limit: int
    posts: list[TopPost]

    columns = tuple(TopPost.__dataclass_fields__)

    def body(self) -> dict[str, Any]:
        return {
            "sort": self.sort,
            "limit": self.limit,
            "engagement_rate_denominator": RATE_DENOMINATOR,
            "posts": self.csv_rows(),
        }

    def csv_rows(self) -> list[dict[str, Any]]:
        return [vars(p).copy() for p in self.posts]


def _columns(m: Metric) -> str:
    figures = ", ".join(
        m(c) for c in ("likes", "comments", "shares", "quotes", "saves", "impressions", "reach", "views", "engagement")
    )
    return (
        "t.post_id, t.id, t.platform, t.account_id, a.handle, t.platform_post_url, "
        f"COALESCE(t.text_override, p.text), {PUBLISHED}, {figures}, {m.rate}, {m('follower_count')}"
    )


def _sort_value(m: Metric, sort: str) -> str:
    """The SQL of what top sorts by (one of SORT_KEYS), as of the period's cutoff."""
    return m.rate if sort == "engagement_rate" else m(sort)


# How many of the store's targets top reads, per target asked for, walk after walk down the
# index on the peak of the metric it sorts by (post_metric_latest.{figure}_peak), before it
# reads the period target by target instead (see _best); and the most one walk reads, its last
# value's ties included (engagement ties a lot: at the 10x benchmark ~600 targets share each
# value).
CANDIDATES = (20, 200)
MOST = 5000


def _best(db: Reader, sc: Scope, now: datetime, sort: str, limit: int) -> list[int] | None:
    """The period's `limit` best targets by `sort` as of its cutoff, read down the index on each
    target's highest value of it ever (its peak) instead of target by target.

    A target's value as of any moment is at most its peak. So with `floor` the store's k-th
    highest peak, every target left out of the walk (peak below the floor) has less than the
    floor; the walk's targets published in the period and scope whose value as of the cutoff
    (the latest row, or the snapshot before the cutoff: sql.as_of_join) is at least the floor
    beat all of those. When `limit` of them were found, they are the period's best. Else None
    (too few of the store's best were published in the period, or a tie too wide to read: the
    caller reads the period). The cost follows k, not the period."""
    t_where, params = sc.targets()
    metrics_join, as_of, m = as_of_join(sc, now)
    value = _sort_value(m, sort)
    peak = "rate_peak" if sort == "engagement_rate" else f"{sort}_peak"  # sort is one of SORT_KEYS
    for per in CANDIDATES:
        k = per * limit
        floor = db.scalar(
            f"SELECT {peak} FROM post_metric_latest WHERE {peak} IS NOT NULL ORDER BY {peak} DESC LIMIT 1 OFFSET :skip",
            skip=k - 1,
        )
        walk = f"{peak} IS NOT NULL" if floor is None else f"{peak} >= :floor"
        wide = db.scalar(
            f"SELECT count(*) FROM (SELECT 1 FROM post_metric_latest WHERE {walk} LIMIT :most) c",
            floor=floor,
            most=MOST + 1,
        )
        if wide > MOST:
            return None
        # CROSS JOIN: SQLite then keeps the candidates the outer loop (with a platform in scope
        # it would rather walk post_targets' platform index: every target of the platform).
        above = f"{value} IS NOT NULL" if floor is None else f"{value} >= :floor"
        ids = db.rows(
            f"SELECT t.id FROM (SELECT target_id FROM post_metric_latest WHERE {walk}) c "
            f"CROSS JOIN post_targets t CROSS JOIN posts p {metrics_join} WHERE t.id = c.target_id AND p.id = t.post_id "
            f"AND {PUBLISHED} >= :start AND {PUBLISHED} < :end AND t.platform_post_id IS NOT NULL{t_where} "
            f"AND {above} ORDER BY {value} DESC, {PUBLISHED} DESC, t.id DESC LIMIT :limit",
            **params,
            **as_of,
            floor=floor,
            start=sc.q.start,
            end=sc.q.end,
            limit=limit,
        )
        if len(ids) == limit:
            return [i for (i,) in ids]
        if floor is None:  # every target with a value was read: the rest have none (NULL last)
            return None
    return None


def top(
    session: Any, q: ReportQuery, *, sort: str = "engagement", limit: int = 5, now: datetime | None = None
) -> TopReport:
    """Best targets (a post on one account) published in the period; NULL in the sort metric last."""
    if sort not in SORT_KEYS:
        raise InvalidInput(f"cannot sort by {sort!r}.", hint=f"Use one of: {', '.join(SORT_KEYS)}.")
    if limit < 1:
        raise InvalidInput("--limit must be at least 1.")
    db, sc, meta = begin(session, q, "top")
    if meta.empty:
        return TopReport(meta, sort, limit, [])
    best = _best(db, sc, utc_now(now), sort, limit)
    if best is not None:
        # Their rows as of the cutoff, every column.
        frm, params, m = targets_by_id(sc, utc_now(now), best, join="JOIN accounts a ON a.id = t.account_id")
        order = {tid: n for n, tid in enumerate(best)}
        found = sorted(db.rows(f"SELECT {_columns(m)} {frm}", **params), key=lambda r: order[r[1]])
    else:
        frm, params, m = published_targets(sc, utc_now(now), join="JOIN accounts a ON a.id = t.account_id")
        key = _sort_value(m, sort)
        found = db.rows(
            f"SELECT {_columns(m)} {frm} ORDER BY {key} IS NULL, {key} DESC, {PUBLISHED} DESC, t.id DESC LIMIT :limit",
            **params,
            limit=limit,
        )
    posts = [
        TopPost(*[i, *r[:7], db.dt(r[7]), *(as_int(v) for v in r[8:17]), r[17], as_int(r[18])])
        for i, r in enumerate(found, start=1)
    ]
    if not posts:
        meta.empty = sc.nothing_published()
    return TopReport(meta, sort, limit, posts)
