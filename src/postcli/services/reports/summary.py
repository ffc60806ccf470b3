"""The platforms report (per-platform totals, best first) and the overview built on it
(posts published, total engagement, followers per account and platform)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from postcli import metrics
from postcli.services.reports.scope import Report, ReportQuery, Scope, begin, utc_now
from postcli.services.reports.sql import RATE_DENOMINATOR, mean
from postcli.store.dbapi import Reader


@dataclass
class PlatformRow:
    platform: str
    posts: int  # distinct posts, as posts_published counts them
    targets: int  # (post, account) pairs: a post sent to two accounts of the platform is 2
    engagement: int | None
    avg_engagement_per_post: float | None  # over posts whose engagement was reported
    engagement_rate: float | None  # mean over posts of metrics.engagement_rate
    likes: int | None
    comments: int | None
    shares: int | None
    impressions: int | None
    reach: int | None

    def as_json(self) -> dict[str, Any]:
        return vars(self).copy()


PLATFORM_COLUMNS = tuple(PlatformRow.__dataclass_fields__)


def platform_rows(db: Reader, sc: Scope, now: datetime) -> tuple[list[PlatformRow], int, int]:
    """The platforms' rows, then the posts and targets published in the period in all."""
    from postcli.services.reports import period_sums

    figures = period_sums.by_platform(db, sc, now)
    counted = period_sums.counts_by_platform(db, sc)
    rows = {}
    for name, c in counted.items():
        f = figures.get(name) or period_sums.Sums()
        rows[name] = PlatformRow(
            name,
            # A post on two accounts of one platform counts once there, but once per account
            # for --account (whose targets are each a post).
            c.targets if sc.account is not None else c.posts,
            c.targets,
            f.total("engagement"),
            mean(f.mean("engagement")),
            mean(f.mean("rate")),
            *(f.total(k) for k in ("likes", "comments", "shares", "impressions", "reach")),
        )
    # Platforms with accounts in scope but nothing published still belong in the comparison.
    where, params = sc.accounts()
    for (name,) in db.rows(f"SELECT DISTINCT a.platform FROM accounts a{where}", **params):
        rows.setdefault(name, PlatformRow(name, 0, 0, None, None, None, None, None, None, None, None))
    targets = sum(c.targets for c in counted.values())
    if sc.account is not None:
        posts = targets
    elif sc.platform:
        posts = sum(c.posts for c in counted.values())
    else:
        posts = sum(c.posts_all for c in counted.values())
    return sorted(rows.values(), key=_platform_order), posts, targets


def _platform_order(r: PlatformRow) -> tuple[bool, int, str]:
    # Engagement desc, unreported last, ties by name so the best platform is deterministic.
    return (r.engagement is None, -(r.engagement or 0), r.platform)


def _best(rows: list[PlatformRow]) -> str | None:
    return rows[0].platform if rows and rows[0].engagement is not None else None


@dataclass
class PlatformsReport(Report):
    platforms: list[PlatformRow]
    best_platform: str | None

    columns = PLATFORM_COLUMNS

    def body(self) -> dict[str, Any]:
        return {
            "best_platform": self.best_platform,
            "engagement_rate_denominator": RATE_DENOMINATOR,
            "platforms": self.csv_rows(),
        }

    def csv_rows(self) -> list[dict[str, Any]]:
        return [r.as_json() for r in self.platforms]


def platforms(session: Any, q: ReportQuery, *, now: datetime | None = None) -> PlatformsReport:
    db, sc, meta = begin(session, q, "platforms")
    rows = [] if meta.empty else platform_rows(db, sc, utc_now(now))[0]
    if not meta.empty and not any(r.posts for r in rows):
        meta.empty = sc.nothing_published()
    return PlatformsReport(meta, rows, _best(rows))


@dataclass
class AccountFollowers:
    account_id: int
    platform: str
    handle: str
    followers: int | None
    captured_at: datetime | None


@dataclass
class OverviewReport(Report):
    posts_published: int
    targets_published: int  # a post on two accounts is one post, two targets
    total_engagement: int | None
    best_platform: str | None
    followers_total: int | None
    followers_by_platform: dict[str, int | None]
    accounts: list[AccountFollowers]
    platforms: list[PlatformRow]

    columns = (*PLATFORM_COLUMNS, "followers")

    def body(self) -> dict[str, Any]:
        figures = ("posts_published", "targets_published", "total_engagement", "best_platform")
        return {
            **{f: getattr(self, f) for f in figures},
            "followers": {
                "total": self.followers_total,
                "by_platform": self.followers_by_platform,
                "accounts": [vars(a).copy() for a in self.accounts],
            },
            "engagement_rate_denominator": RATE_DENOMINATOR,
            "platforms": [r.as_json() for r in self.platforms],
        }

    def csv_rows(self) -> list[dict[str, Any]]:
        return [{**r.as_json(), "followers": self.followers_by_platform.get(r.platform)} for r in self.platforms]


def _followers(db: Reader, sc: Scope) -> list[AccountFollowers]:
    """Each account's latest snapshot inside the period."""
    where, params = sc.accounts()
    found = db.rows(
        "SELECT a.id, a.platform, a.handle, s.followers, s.captured_at FROM accounts a "
        "LEFT JOIN account_metric_snapshots s ON s.account_id = a.id AND s.captured_at = ("
        "SELECT s2.captured_at FROM account_metric_snapshots s2 "
        "WHERE s2.account_id = a.id AND s2.captured_at >= :start AND s2.captured_at < :end "
        f"ORDER BY s2.captured_at DESC LIMIT 1){where} ORDER BY a.platform, a.id",
        **params,
        start=sc.q.start,
        end=sc.q.end,
    )
    return [AccountFollowers(r[0], r[1], r[2], r[3], db.dt(r[4])) for r in found]


def overview(session: Any, q: ReportQuery, *, now: datetime | None = None) -> OverviewReport:
    db, sc, meta = begin(session, q, "overview")
    if meta.empty:
        return OverviewReport(meta, 0, 0, None, None, None, {}, [], [])
    rows, posts, targets = platform_rows(db, sc, utc_now(now))
    accounts = _followers(db, sc)
    by_platform: dict[str, list[int | None]] = defaultdict(list)
    for a in accounts:
        by_platform[a.platform].append(a.followers)
    followers = {p: metrics.total(v) for p, v in sorted(by_platform.items())}
    if not posts and all(a.followers is None for a in accounts):
        meta.empty = sc.nothing_published()
    return OverviewReport(
        meta=meta,
        posts_published=posts,
        targets_published=targets,
        total_engagement=metrics.total(r.engagement for r in rows),
        best_platform=_best(rows),
        followers_total=metrics.total(followers.values()),
        followers_by_platform=followers,
        accounts=accounts,
        platforms=rows,
    )
