"""The top report: the best targets (a post on one account) published in the period by one metric."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from postcli.errors import InvalidInput
from postcli.services.reports.scope import Report, ReportQuery, begin, utc_now
from postcli.services.reports.sql import PUBLISHED, RATE_DENOMINATOR, as_int, published_targets

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
    frm, params, m = published_targets(sc, utc_now(now), join="JOIN accounts a ON a.id = t.account_id")
    key = m.rate if sort == "engagement_rate" else m(sort)  # sort is one of SORT_KEYS
    figures = ", ".join(
        m(c) for c in ("likes", "comments", "shares", "quotes", "saves", "impressions", "reach", "views", "engagement")
    )
    found = db.rows(
        "SELECT t.post_id, t.id, t.platform, t.account_id, a.handle, t.platform_post_url, "
        f"COALESCE(t.text_override, p.text), {PUBLISHED}, {figures}, {m.rate}, {m('follower_count')} {frm} "
        f"ORDER BY {key} IS NULL, {key} DESC, {PUBLISHED} DESC, t.id DESC LIMIT :limit",
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
