"""The analytics reports (DESIGN.md "Reports"): overview, timeline, growth, top, platforms, heatmap.

Pure logic: each report takes a store reader (store/dbapi.py; an ORM Session works
too) and a ReportQuery and returns a dataclass with `as_json()` (the documented
shape, docs/reports.md) and `csv()` (columns, rows). The SQL is written once, plain,
for SQLite and PostgreSQL alike; dbapi.py holds the few differences. Aggregation
runs in SQL over the tables kept current on insert (post_metric_latest,
post_metric_hourly); Python only folds small aggregated results (hour buckets into
the user's days and weekday/hour cells, zero-filling days).

Which posts a report covers: a target (one post on one account) counts when it was
published (it has a platform post id) inside [start, end). Its metrics are its
latest snapshot, or, for a period that ended in the past, its latest snapshot
before the end. The timeline is different on purpose: it counts engagement that
*happened* inside the period, whenever the post was published.

NULL is "not reported": sums use metrics.total's rule (NULL + NULL = NULL,
3 + NULL = 3), which SQL's SUM/AVG already follow.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from postcli import metrics
from postcli.errors import InvalidInput, NotFound
from postcli.store.dbapi import Reader, in_list, reader

# services/snapshots.HOURLY_COUNTERS (tests/test_reports.py checks they match): importing
# that module would load SQLAlchemy and the models, which reading does not need.
HOURLY_COUNTERS = ("likes", "comments", "shares", "engagement")

REPORTS = ("overview", "timeline", "growth", "top", "platforms", "heatmap")
SORT_KEYS = ("engagement", "likes", "comments", "shares", "reach", "impressions", "engagement_rate")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# What engagement_rate is divided by, stated in every report that shows it.
RATE_DENOMINATOR = "followers_at_snapshot"
RATE_DESCRIPTION = "mean over posts of engagement / the account's followers when the snapshot was taken"

COLLECT_HINT = "run `postcli collect` to snapshot your published posts and accounts"


@dataclass(frozen=True)
class ReportQuery:
    start: datetime  # inclusive, aware
    end: datetime  # exclusive, aware
    tz: str = "UTC"
    platform: str | None = None
    account: str | None = None  # id or handle, as the user typed it

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


@dataclass
class AccountRef:
    account_id: int
    platform: str
    handle: str


@dataclass
class Meta:
    """What every report carries besides its numbers."""

    report: str
    start: datetime
    end: datetime
    tz: str
    platform: str | None
    account: AccountRef | None
    simulated: bool = False  # a sandbox account is in scope
    reconnect: list[AccountRef] = field(default_factory=list)  # accounts whose token expired
    empty: str | None = None  # one helpful line when there is nothing to show

    def as_json(self) -> dict[str, Any]:
        return {
            "report": self.report,
            "period": {"start": self.start, "end": self.end, "timezone": self.tz},
            "filters": {
                "platform": self.platform,
                "account": None if self.account is None else _ref_json(self.account),
            },
            "simulated": self.simulated,
            "reconnect": [_ref_json(a) for a in self.reconnect],
        }


def _ref_json(a: AccountRef) -> dict[str, Any]:
    return {"account_id": a.account_id, "platform": a.platform, "handle": a.handle}


# --- scope -----------------------------------------------------------------------


@dataclass
class _Scope:
    q: ReportQuery
    platform: str | None
    account: AccountRef | None

    def targets(self, alias: str = "t") -> tuple[str, dict[str, Any]]:
        """` AND ...` restricting post_targets `alias` to the scope, and its parameters."""
        sql, params = "", {}
        if self.platform:
            sql += f" AND {alias}.platform = :platform"
            params["platform"] = self.platform
        if self.account is not None:
            sql += f" AND {alias}.account_id = :account_id"
            params["account_id"] = self.account.account_id
        return sql, params

    def hourly(self, db: Reader) -> tuple[str, dict[str, Any]]:
        """Filter post_metric_hourly `h` by its copied account_id (no join to targets)."""
        if self.account is not None:
            return " AND h.account_id = :account_id", {"account_id": self.account.account_id}
        if self.platform:
            ids = [r[0] for r in db.rows("SELECT id FROM accounts WHERE platform = :p", p=self.platform)]
            marks, params = in_list("acc", ids)
            return f" AND h.account_id IN {marks}", params
        return "", {}

    def accounts(self, alias: str = "a") -> tuple[str, dict[str, Any]]:
        """`WHERE ...` restricting accounts `alias` to the scope (removed ones only when named)."""
        where, params = [], {}
        if self.platform:
            where.append(f"{alias}.platform = :platform")
            params["platform"] = self.platform
        if self.account is not None:
            where.append(f"{alias}.id = :account_id")
            params["account_id"] = self.account.account_id
        else:
            where.append(f"{alias}.removed_at IS NULL")
        return " WHERE " + " AND ".join(where), params


def resolve_account(session: Any, ref: str, platform: str | None = None) -> AccountRef:
    """An account by id or handle (a leading @ is ignored); NotFound / InvalidInput when unclear."""
    db = reader(session)
    ref = ref.strip()
    if ref.isdigit():
        row = db.one("SELECT id, platform, handle FROM accounts WHERE id = :id", id=int(ref))
        if row is None:
            raise NotFound(f"no account with id {ref}.", hint="List them with `postcli accounts list`.")
        return AccountRef(*row)
    handle = ref.lstrip("@")
    sql = "SELECT id, platform, handle FROM accounts WHERE lower(handle) = lower(:handle)"
    if platform:
        sql += " AND platform = :platform"
    found = db.rows(sql + " ORDER BY id", handle=handle, platform=platform)
    if not found:
        raise NotFound(f"no account {ref!r}.", hint="List them with `postcli accounts list`.")
    if len(found) > 1:
        ids = ", ".join(f"{r[0]} ({r[1]})" for r in found)
        raise InvalidInput(f"{ref!r} matches several accounts: {ids}.", hint="Pass the account id, or add --platform.")
    return AccountRef(*found[0])


def _scope(db: Reader, q: ReportQuery, report: str) -> tuple[_Scope, Meta]:
    if q.start >= q.end:
        raise InvalidInput("the period is empty: its start is not before its end.")
    account = resolve_account(db, q.account, q.platform) if q.account else None
    sc = _Scope(q=q, platform=q.platform, account=account)
    where, params = sc.accounts()
    rows = db.rows(f"SELECT a.id, a.platform, a.handle, a.status FROM accounts a{where} ORDER BY a.id", **params)
    meta = Meta(
        report=report,
        start=q.start.astimezone(timezone.utc),
        end=q.end.astimezone(timezone.utc),
        tz=q.tz,
        platform=q.platform,
        account=account,
        simulated=any(r[1] == "sandbox" for r in rows),
        reconnect=[AccountRef(r[0], r[1], r[2]) for r in rows if r[3] == "token_expired"],
    )
    return sc, meta


def _store_empty_reason(db: Reader, sc: _Scope) -> str | None:
    """Why there is nothing at all to report (before looking at the period), or None."""
    if db.one("SELECT id FROM accounts LIMIT 1") is None:
        return (
            "No accounts yet: connect one with `postcli accounts add bluesky --handle YOU.bsky.social` "
            "(or try `postcli demo`), publish, then run `postcli collect`."
        )
    t_where, t_params = sc.targets()
    has_metrics = db.one(
        f"SELECT l.target_id FROM post_metric_latest l JOIN post_targets t ON t.id = l.target_id "
        f"WHERE 1 = 1{t_where} LIMIT 1",
        **t_params,
    )
    if has_metrics is not None:
        return None
    a_where, a_params = sc.accounts()
    has_accounts = db.one(
        f"SELECT s.id FROM account_metric_snapshots s JOIN accounts a ON a.id = s.account_id{a_where} LIMIT 1",
        **a_params,
    )
    if has_accounts is None:
        return f"No metrics collected yet{_scope_words(sc)}: {COLLECT_HINT}."
    return None


def _scope_words(sc: _Scope) -> str:
    parts = []
    if sc.platform:
        parts.append(f"on {sc.platform}")
    if sc.account is not None:
        parts.append(f"for {sc.account.handle}")
    return (" " + " ".join(parts)) if parts else ""


def _period_words(sc: _Scope) -> str:
    zone = sc.q.zone
    return f"between {_local(sc.q.start, zone)} and {_local(sc.q.end, zone)} ({sc.q.tz})"


def _local(moment: datetime, zone: ZoneInfo) -> str:
    loc = moment.astimezone(zone)
    return loc.strftime("%Y-%m-%d") if loc.time() == time() else loc.strftime("%Y-%m-%d %H:%M")


def _nothing_published(sc: _Scope) -> str:
    return (
        f"No posts published {_period_words(sc)}{_scope_words(sc)}. "
        f"Try a longer --period (e.g. 90d) or --since; to update metrics, {COLLECT_HINT}."
    )


# --- shared SQL pieces ------------------------------------------------------------

_RATE = "CASE WHEN m.follower_count > 0 THEN CAST(m.engagement AS FLOAT) / m.follower_count ELSE NULL END"
# When a target went live: its own completion time, else (an imported post) the post's.
_PUBLISHED = "COALESCE(t.completed_at, p.published_at)"


def _published_targets(sc: _Scope, now: datetime | None, join: str = "") -> tuple[str, dict[str, Any]]:
    """FROM ... WHERE for the targets published in the period, each joined to its metrics `m`
    as of the period's end (t = post_targets, p = posts, m = metrics or NULLs).

    The period's target ids come from the indexes on post_targets.completed_at and
    posts.published_at (two disjoint halves: a target's own time, else its post's), so
    the cost follows the posts in the period, not all posts in the store; as an IN list
    they are then read in id order (2.5x cheaper here than joining the union).

    A period that ends now reads post_metric_latest (one row per target); one that ended
    in the past picks the latest snapshot before its end through the (target_id,
    captured_at) index, a correlated subquery being far cheaper than ROW_NUMBER() here.
    now=None: no metrics join.
    """
    if now is None:
        metrics_join = ""
    elif sc.q.end >= now:
        metrics_join = "LEFT JOIN post_metric_latest m ON m.target_id = t.id"
    else:
        metrics_join = (
            "LEFT JOIN post_metric_snapshots m ON m.id = ("
            "SELECT s2.id FROM post_metric_snapshots s2 WHERE s2.target_id = t.id AND s2.captured_at < :end "
            "ORDER BY s2.captured_at DESC, s2.id DESC LIMIT 1)"
        )
    t_where, params = sc.targets()
    in_period = (
        "SELECT t1.id FROM post_targets t1 WHERE t1.completed_at >= :start AND t1.completed_at < :end "
        "UNION ALL "
        "SELECT t2.id FROM posts p2 JOIN post_targets t2 ON t2.post_id = p2.id "
        "WHERE p2.published_at >= :start AND p2.published_at < :end AND t2.completed_at IS NULL"
    )
    sql = (
        f"FROM post_targets t JOIN posts p ON p.id = t.post_id {join} {metrics_join} "
        f"WHERE t.id IN ({in_period}) AND t.platform_post_id IS NOT NULL{t_where}"
    )
    return sql, {**params, "start": sc.q.start, "end": sc.q.end}


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc)


def _local_days(sc: _Scope) -> list[date]:
    zone = sc.q.zone
    first = sc.q.start.astimezone(zone).date()
    last = (sc.q.end - timedelta(microseconds=1)).astimezone(zone).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    lo = datetime.combine(day, time(), tzinfo=zone).astimezone(timezone.utc)
    hi = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(timezone.utc)
    return lo, hi


# --- platforms ------------------------------------------------------------------


@dataclass
class PlatformRow:
    platform: str
    posts: int  # distinct posts, as posts_published counts them
    targets: int  # (post, account) pairs: a post sent to two accounts of the platform is 2
    engagement: int | None
    avg_engagement_per_post: float | None  # over posts whose engagement was reported
    engagement_rate: float | None  # see RATE_DESCRIPTION
    likes: int | None
    comments: int | None
    shares: int | None
    impressions: int | None
    reach: int | None


PLATFORM_COLUMNS = (
    "platform",
    "posts",
    "targets",
    "engagement",
    "avg_engagement_per_post",
    "engagement_rate",
    "likes",
    "comments",
    "shares",
    "impressions",
    "reach",
)


def _platform_rows(db: Reader, sc: _Scope, now: datetime) -> list[PlatformRow]:
    frm, params = _published_targets(sc, now)
    found = db.rows(
        "SELECT t.platform, count(DISTINCT t.post_id), count(t.id), sum(m.engagement), avg(m.engagement), "
        f"avg({_RATE}), sum(m.likes), sum(m.comments), sum(m.shares), sum(m.impressions), sum(m.reach) "
        f"{frm} GROUP BY t.platform",
        **params,
    )
    rows = {
        r[0]: PlatformRow(r[0], r[1], r[2], _int(r[3]), _mean(r[4]), _mean(r[5]), *(_int(v) for v in r[6:]))
        for r in found
    }
    # Platforms with accounts in scope but nothing published still belong in the comparison.
    where, params = sc.accounts()
    for (name,) in db.rows(f"SELECT DISTINCT a.platform FROM accounts a{where}", **params):
        rows.setdefault(name, PlatformRow(name, 0, 0, None, None, None, None, None, None, None, None))
    return sorted(rows.values(), key=_platform_order)


def _platform_order(r: PlatformRow) -> tuple[bool, int, str]:
    # Engagement desc, unreported last, ties by name so the best platform is deterministic.
    return (r.engagement is None, -(r.engagement or 0), r.platform)


def _best(rows: list[PlatformRow]) -> str | None:
    return rows[0].platform if rows and rows[0].engagement is not None else None


def _int(v: Any) -> int | None:
    return None if v is None else int(v)


def _mean(v: Any) -> float | None:
    """An SQL AVG to 12 significant digits: SQLite and PostgreSQL add the floats up in different
    orders (and PostgreSQL averages integers as NUMERIC), so the last bits would differ."""
    return None if v is None else float(f"{float(v):.12g}")


@dataclass
class PlatformsReport:
    meta: Meta
    platforms: list[PlatformRow]
    best_platform: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            **self.meta.as_json(),
            "best_platform": self.best_platform,
            "engagement_rate_denominator": RATE_DENOMINATOR,
            "platforms": [_row_json(r) for r in self.platforms],
        }

    def csv(self) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
        return PLATFORM_COLUMNS, [_row_json(r) for r in self.platforms]


def _row_json(r: PlatformRow) -> dict[str, Any]:
    return {c: getattr(r, c) for c in PLATFORM_COLUMNS}


def platforms(session: Any, q: ReportQuery, *, now: datetime | None = None) -> PlatformsReport:
    db = reader(session)
    sc, meta = _scope(db, q, "platforms")
    meta.empty = _store_empty_reason(db, sc)
    rows = [] if meta.empty else _platform_rows(db, sc, _now(now))
    if not meta.empty and not any(r.posts for r in rows):
        meta.empty = _nothing_published(sc)
    return PlatformsReport(meta, rows, _best(rows))


# --- overview --------------------------------------------------------------------


@dataclass
class AccountFollowers:
    account_id: int
    platform: str
    handle: str
    followers: int | None
    captured_at: datetime | None


@dataclass
class OverviewReport:
    meta: Meta
    posts_published: int
    targets_published: int  # a post on two accounts is one post, two targets
    total_engagement: int | None
    best_platform: str | None
    followers_total: int | None
    followers_by_platform: dict[str, int | None]
    accounts: list[AccountFollowers]
    platforms: list[PlatformRow]

    def as_json(self) -> dict[str, Any]:
        return {
            **self.meta.as_json(),
            "posts_published": self.posts_published,
            "targets_published": self.targets_published,
            "total_engagement": self.total_engagement,
            "best_platform": self.best_platform,
            "followers": {
                "total": self.followers_total,
                "by_platform": self.followers_by_platform,
                "accounts": [vars(a).copy() for a in self.accounts],
            },
            "engagement_rate_denominator": RATE_DENOMINATOR,
            "platforms": [_row_json(r) for r in self.platforms],
        }

    def csv(self) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
        cols = (*PLATFORM_COLUMNS, "followers")
        return cols, [{**_row_json(r), "followers": self.followers_by_platform.get(r.platform)} for r in self.platforms]


def _followers(db: Reader, sc: _Scope) -> list[AccountFollowers]:
    """Each account's latest snapshot inside the period."""
    where, params = sc.accounts()
    found = db.rows(
        "SELECT a.id, a.platform, a.handle, s.followers, s.captured_at FROM accounts a "
        "LEFT JOIN account_metric_snapshots s ON s.id = ("
        "SELECT s2.id FROM account_metric_snapshots s2 "
        "WHERE s2.account_id = a.id AND s2.captured_at >= :start AND s2.captured_at < :end "
        f"ORDER BY s2.captured_at DESC, s2.id DESC LIMIT 1){where} ORDER BY a.platform, a.id",
        **params,
        start=sc.q.start,
        end=sc.q.end,
    )
    return [AccountFollowers(r[0], r[1], r[2], r[3], db.dt(r[4])) for r in found]


def overview(session: Any, q: ReportQuery, *, now: datetime | None = None) -> OverviewReport:
    db = reader(session)
    sc, meta = _scope(db, q, "overview")
    meta.empty = _store_empty_reason(db, sc)
    if meta.empty:
        return OverviewReport(meta, 0, 0, None, None, None, {}, [], [])
    now = _now(now)
    rows = _platform_rows(db, sc, now)
    frm, params = _published_targets(sc, None)
    posts, targets = db.one(f"SELECT count(DISTINCT t.post_id), count(t.id) {frm}", **params) or (0, 0)
    accounts = _followers(db, sc)
    by_platform: dict[str, list[int | None]] = defaultdict(list)
    for a in accounts:
        by_platform[a.platform].append(a.followers)
    followers = {p: metrics.total(v) for p, v in sorted(by_platform.items())}
    if not posts and all(a.followers is None for a in accounts):
        meta.empty = _nothing_published(sc)
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


# --- timeline --------------------------------------------------------------------


@dataclass
class TimelineDay:
    date: date
    engagement: int | None
    likes: int | None
    comments: int | None
    shares: int | None


TIMELINE_COLUMNS = ("date", "engagement", "likes", "comments", "shares")


@dataclass
class TimelineReport:
    meta: Meta
    days: list[TimelineDay]
    total_engagement: int | None

    def as_json(self) -> dict[str, Any]:
        return {
            **self.meta.as_json(),
            "total_engagement": self.total_engagement,
            "days": [vars(d).copy() for d in self.days],
        }

    def csv(self) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
        return TIMELINE_COLUMNS, [vars(d).copy() for d in self.days]


def timeline(session: Any, q: ReportQuery, *, now: datetime | None = None) -> TimelineReport:
    """Engagement gained per day in the user's timezone.

    Sums the hourly rollup's deltas (per target: this hour's last counters minus the
    previous reported ones), so a post published long before the period counts on the
    day its likes arrived. Resolution is one hour: in a zone whose offset is not a whole
    number of hours, the hour that straddles midnight counts on the day it starts in.
    A day with no reported delta is 0 once the scope has any reported value, and
    empty (None) before that.
    """
    db = reader(session)
    sc, meta = _scope(db, q, "timeline")
    meta.empty = _store_empty_reason(db, sc)
    days = _local_days(sc)
    if meta.empty:
        return TimelineReport(meta, [], None)
    first_hour = sc.q.start.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
    if first_hour < sc.q.start:
        first_hour += timedelta(hours=1)  # start is inclusive: an hour that began before it is outside
    deltas = ", ".join(f"sum(h.{k}_delta)" for k in HOURLY_COUNTERS)
    h_where, h_params = sc.hourly(db)
    found = db.rows(
        f"SELECT h.hour, {deltas} FROM post_metric_hourly h WHERE h.hour >= :first AND h.hour < :end{h_where} "
        "GROUP BY h.hour ORDER BY h.hour",
        **h_params,
        first=first_hour,
        end=sc.q.end,
    )
    zone = sc.q.zone
    sums: dict[date, dict[str, int | None]] = defaultdict(lambda: dict.fromkeys(HOURLY_COUNTERS))
    first_reported: dict[str, date] = {}
    for hour, *vals in found:
        day = db.dt(hour).astimezone(zone).date()
        cell = sums[day]
        for k, v in zip(HOURLY_COUNTERS, vals):
            if v is not None:
                cell[k] = (cell[k] or 0) + int(v)
                first_reported.setdefault(k, day)
    earlier = _reported_before(db, sc, first_hour, h_where, h_params)
    out = []
    for day in days:
        vals = {}
        for k in HOURLY_COUNTERS:
            v = sums[day][k] if day in sums else None
            if v is None and (earlier[k] or (k in first_reported and day >= first_reported[k])):
                v = 0
            vals[k] = v
        out.append(TimelineDay(day, vals["engagement"], vals["likes"], vals["comments"], vals["shares"]))
    if not sums and not any(earlier.values()):
        meta.empty = (
            f"No engagement recorded {_period_words(sc)}{_scope_words(sc)}. "
            f"Try a longer --period (e.g. 90d); to update metrics, {COLLECT_HINT}."
        )
    return TimelineReport(meta, out, metrics.total(d.engagement for d in out))


def _reported_before(db: Reader, sc: _Scope, hour: datetime, h_where: str, h_params: dict[str, Any]) -> dict[str, bool]:
    """Per counter: did any target in scope report it before `hour`? (Then quiet days are 0.)"""
    probes = ", ".join(
        f"EXISTS (SELECT 1 FROM post_metric_hourly h WHERE h.hour < :hour AND h.{k} IS NOT NULL{h_where})"
        for k in HOURLY_COUNTERS
    )
    row = db.one(f"SELECT {probes}", **h_params, hour=hour) or ()
    return {k: bool(v) for k, v in zip(HOURLY_COUNTERS, row)}


# --- growth ----------------------------------------------------------------------


@dataclass
class GrowthAccount:
    account_id: int
    platform: str
    handle: str
    start: int | None  # first reported value in the period
    end: int | None  # last reported value in the period
    change: int | None
    days: list[tuple[date, int | None]]


GROWTH_COLUMNS = ("date", "account_id", "platform", "handle", "followers")


@dataclass
class GrowthReport:
    meta: Meta
    accounts: list[GrowthAccount]
    total_change: int | None

    def as_json(self) -> dict[str, Any]:
        return {
            **self.meta.as_json(),
            "total_change": self.total_change,
            "accounts": [
                {
                    "account_id": a.account_id,
                    "platform": a.platform,
                    "handle": a.handle,
                    "start": a.start,
                    "end": a.end,
                    "change": a.change,
                    "days": [{"date": d, "followers": f} for d, f in a.days],
                }
                for a in self.accounts
            ],
        }

    def csv(self) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
        rows = [
            {"date": d, "account_id": a.account_id, "platform": a.platform, "handle": a.handle, "followers": f}
            for a in self.accounts
            for d, f in a.days
        ]
        return GROWTH_COLUMNS, rows


def growth(session: Any, q: ReportQuery, *, now: datetime | None = None) -> GrowthReport:
    """Followers per account per local day: the day's latest account snapshot (None if none)."""
    db = reader(session)
    sc, meta = _scope(db, q, "growth")
    meta.empty = _store_empty_reason(db, sc)
    if meta.empty:
        return GrowthReport(meta, [], None)
    zone = sc.q.zone
    bounds = []
    for day in _local_days(sc):
        lo, hi = _day_bounds(day, zone)
        bounds.append((day.isoformat(), max(lo, sc.q.start), min(hi, sc.q.end)))
    # One indexed probe per (account, day) on (account_id, captured_at): a few hundred
    # seeks instead of scanning every hourly snapshot in the period.
    days_sql, days_params = db.days_table("days", bounds)
    where, params = sc.accounts()
    found = db.rows(
        f"SELECT a.id, a.platform, a.handle, days.day, s.followers FROM accounts a CROSS JOIN {days_sql} "
        "LEFT JOIN account_metric_snapshots s ON s.id = ("
        "SELECT s2.id FROM account_metric_snapshots s2 "
        "WHERE s2.account_id = a.id AND s2.captured_at >= days.lo AND s2.captured_at < days.hi "
        f"ORDER BY s2.captured_at DESC, s2.id DESC LIMIT 1){where} ORDER BY a.platform, a.id, days.day",
        **params,
        **days_params,
    )
    series: dict[int, GrowthAccount] = {}
    for acc_id, platform, handle, day, followers in found:
        g = series.get(acc_id)
        if g is None:
            g = series[acc_id] = GrowthAccount(acc_id, platform, handle, None, None, None, [])
        g.days.append((date.fromisoformat(day), _int(followers)))
    for g in series.values():
        reported = [f for _, f in g.days if f is not None]
        if reported:
            g.start, g.end = reported[0], reported[-1]
            g.change = g.end - g.start
    accounts = list(series.values())
    if not any(g.start is not None for g in accounts):
        meta.empty = (
            f"No follower counts recorded {_period_words(sc)}{_scope_words(sc)}. "
            f"Try a longer --period; to record them, {COLLECT_HINT}."
        )
    return GrowthReport(meta, accounts, metrics.total(g.change for g in accounts))


# --- top posts -------------------------------------------------------------------


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


TOP_COLUMNS = tuple(TopPost.__dataclass_fields__)


@dataclass
class TopReport:
    meta: Meta
    sort: str
    limit: int
    posts: list[TopPost]

    def as_json(self) -> dict[str, Any]:
        return {
            **self.meta.as_json(),
            "sort": self.sort,
            "limit": self.limit,
            "engagement_rate_denominator": RATE_DENOMINATOR,
            "posts": [vars(p).copy() for p in self.posts],
        }

    def csv(self) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
        return TOP_COLUMNS, [vars(p).copy() for p in self.posts]


def top(
    session: Any, q: ReportQuery, *, sort: str = "engagement", limit: int = 5, now: datetime | None = None
) -> TopReport:
    """Best targets (a post on one account) published in the period; NULL in the sort metric last."""
    if sort not in SORT_KEYS:
        raise InvalidInput(f"cannot sort by {sort!r}.", hint=f"Use one of: {', '.join(SORT_KEYS)}.")
    if limit < 1:
        raise InvalidInput("--limit must be at least 1.")
    db = reader(session)
    sc, meta = _scope(db, q, "top")
    meta.empty = _store_empty_reason(db, sc)
    if meta.empty:
        return TopReport(meta, sort, limit, [])
    key = _RATE if sort == "engagement_rate" else f"m.{sort}"  # sort is one of SORT_KEYS
    frm, params = _published_targets(sc, _now(now), join="JOIN accounts a ON a.id = t.account_id")
    found = db.rows(
        "SELECT t.post_id, t.id, t.platform, t.account_id, a.handle, t.platform_post_url, "
        f"COALESCE(t.text_override, p.text), {_PUBLISHED}, m.likes, m.comments, m.shares, m.quotes, m.saves, "
        f"m.impressions, m.reach, m.views, m.engagement, {_RATE}, m.follower_count {frm} "
        f"ORDER BY {key} IS NULL, {key} DESC, {_PUBLISHED} DESC, t.id DESC LIMIT :limit",
        **params,
        limit=limit,
    )
    posts = [
        TopPost(i, *r[:7], db.dt(r[7]), *(_int(v) for v in r[8:17]), r[17], _int(r[18]))
        for i, r in enumerate(found, start=1)
    ]
    if not posts:
        meta.empty = _nothing_published(sc)
    return TopReport(meta, sort, limit, posts)


# --- heatmap ---------------------------------------------------------------------


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
        return {
            "weekday": self.weekday,
            "weekday_name": self.weekday_name,
            "hour": self.hour,
            "posts": self.posts,
            "mean_engagement": self.mean_engagement,
        }


HEATMAP_COLUMNS = ("weekday", "weekday_name", "hour", "posts", "mean_engagement")


@dataclass
class HeatmapReport:
    meta: Meta
    cells: list[HeatCell]  # 168, Monday 00:00 first
    best_slots: list[HeatCell]

    def cell(self, weekday: int, hour: int) -> HeatCell:
        return self.cells[weekday * 24 + hour]

    def as_json(self) -> dict[str, Any]:
        return {
            **self.meta.as_json(),
            "cells": [c.as_json() for c in self.cells],
            "best_slots": [c.as_json() for c in self.best_slots],
        }

    def csv(self) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
        return HEATMAP_COLUMNS, [c.as_json() for c in self.cells]


def heatmap(session: Any, q: ReportQuery, *, now: datetime | None = None, best: int = 3) -> HeatmapReport:
    """Mean engagement per post by the weekday and hour it was published, in the user's zone.

    SQL groups posts by UTC publish hour (by quarter hour in zones with a :30/:45 offset);
    each bucket is then placed in its local weekday/hour, which follows DST exactly.
    """
    db = reader(session)
    sc, meta = _scope(db, q, "heatmap")
    meta.empty = _store_empty_reason(db, sc)
    empty_cells = [HeatCell(d, h, 0, None) for d in range(7) for h in range(24)]
    if meta.empty:
        return HeatmapReport(meta, empty_cells, [])
    zone = sc.q.zone
    whole_hours = all(
        (m.astimezone(zone).utcoffset() or timedelta()).total_seconds() % 3600 == 0 for m in (sc.q.start, sc.q.end)
    )
    seconds = 3600 if whole_hours else 900
    bucket = db.epoch_bucket(_PUBLISHED, seconds)
    frm, params = _published_targets(sc, _now(now))
    found = db.rows(
        f"SELECT {bucket}, count(t.id), sum(m.engagement), count(m.engagement) {frm} GROUP BY {bucket}", **params
    )
    acc: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0])  # posts, reported, sum
    for b, posts, total, reported in found:
        loc = datetime.fromtimestamp(int(b) * seconds, timezone.utc).astimezone(zone)
        a = acc[(loc.weekday(), loc.hour)]
        a[0] += posts
        a[1] += reported
        a[2] += int(total or 0)
    cells = []
    for d in range(7):
        for h in range(24):
            posts, reported, total = acc.get((d, h), (0, 0, 0))
            cells.append(HeatCell(d, h, posts, total / reported if reported else None))
    ranked = sorted(
        (c for c in cells if c.mean_engagement is not None),
        key=lambda c: (-(c.mean_engagement or 0.0), c.weekday, c.hour),
    )
    if not acc:
        meta.empty = _nothing_published(sc)
    return HeatmapReport(meta, cells, ranked[:best])
