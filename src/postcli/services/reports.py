"""The analytics reports (DESIGN.md "Reports"): overview, timeline, growth, top, platforms, heatmap.

Pure logic: each report takes a Session and a ReportQuery and returns a dataclass
with `as_json()` (the documented shape, docs/reports.md) and `csv()` (columns, rows).
Aggregation runs in SQL over the tables kept current on insert (post_metric_latest,
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
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    String,
    case,
    cast,
    column,
    exists,
    func,
    literal,
    select,
    true,
    values,
)
from sqlalchemy.orm import aliased

from postcli import metrics
from postcli.errors import InvalidInput, NotFound
from postcli.services.snapshots import HOURLY_COUNTERS, hour_of
from postcli.store.models import (
    Account,
    AccountMetricSnapshot,
    Post,
    PostMetricHourly,
    PostMetricLatest,
    PostMetricSnapshot,
    PostTarget,
    UTCDateTime,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

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
    account: Account | None

    def targets(self, stmt):  # type: ignore[no-untyped-def]
        if self.platform:
            stmt = stmt.where(PostTarget.platform == self.platform)
        if self.account is not None:
            stmt = stmt.where(PostTarget.account_id == self.account.id)
        return stmt

    def hourly(self, session: Session, stmt):  # type: ignore[no-untyped-def]
        """Filter post_metric_hourly rows by their copied account_id (no join to targets)."""
        if self.account is not None:
            return stmt.where(PostMetricHourly.account_id == self.account.id)
        if self.platform:
            ids = session.execute(select(Account.id).where(Account.platform == self.platform)).scalars().all()
            return stmt.where(PostMetricHourly.account_id.in_(ids))
        return stmt

    def accounts(self, stmt):  # type: ignore[no-untyped-def]
        if self.platform:
            stmt = stmt.where(Account.platform == self.platform)
        if self.account is not None:
            stmt = stmt.where(Account.id == self.account.id)
        else:
            stmt = stmt.where(Account.removed_at.is_(None))
        return stmt


def resolve_account(session: Session, ref: str, platform: str | None = None) -> Account:
    """An account by id or handle (a leading @ is ignored); NotFound / InvalidInput when unclear."""
    ref = ref.strip()
    if ref.isdigit():
        acc = session.get(Account, int(ref))
        if acc is None:
            raise NotFound(f"no account with id {ref}.", hint="List them with `postcli accounts list`.")
        return acc
    handle = ref.lstrip("@")
    stmt = select(Account).where(func.lower(Account.handle) == handle.lower())
    if platform:
        stmt = stmt.where(Account.platform == platform)
    found = list(session.execute(stmt.order_by(Account.id)).scalars())
    if not found:
        raise NotFound(f"no account {ref!r}.", hint="List them with `postcli accounts list`.")
    if len(found) > 1:
        ids = ", ".join(f"{a.id} ({a.platform})" for a in found)
        raise InvalidInput(f"{ref!r} matches several accounts: {ids}.", hint="Pass the account id, or add --platform.")
    return found[0]


def _scope(session: Session, q: ReportQuery, report: str) -> tuple[_Scope, Meta]:
    if q.start >= q.end:
        raise InvalidInput("the period is empty: its start is not before its end.")
    account = resolve_account(session, q.account, q.platform) if q.account else None
    sc = _Scope(q=q, platform=q.platform, account=account)
    rows = session.execute(
        sc.accounts(select(Account.id, Account.platform, Account.handle, Account.status)).order_by(Account.id)
    ).all()
    meta = Meta(
        report=report,
        start=q.start.astimezone(timezone.utc),
        end=q.end.astimezone(timezone.utc),
        tz=q.tz,
        platform=q.platform,
        account=None if account is None else AccountRef(account.id, account.platform, account.handle),
        simulated=any(r.platform == "sandbox" for r in rows),
        reconnect=[AccountRef(r.id, r.platform, r.handle) for r in rows if r.status == "token_expired"],
    )
    return sc, meta


def _store_empty_reason(session: Session, sc: _Scope) -> str | None:
    """Why there is nothing at all to report (before looking at the period), or None."""
    if session.execute(select(Account.id).limit(1)).first() is None:
        return (
            "No accounts yet: connect one with `postcli accounts add bluesky --handle YOU.bsky.social` "
            "(or try `postcli demo`), publish, then run `postcli collect`."
        )
    has_metrics = session.execute(
        sc.targets(select(PostMetricLatest.target_id).join(PostTarget, PostTarget.id == PostMetricLatest.target_id)).limit(1)
    ).first()
    has_accounts = session.execute(
        sc.accounts(select(AccountMetricSnapshot.id).join(Account, Account.id == AccountMetricSnapshot.account_id)).limit(1)
    ).first()
    if has_metrics is None and has_accounts is None:
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


def _published_at():  # type: ignore[no-untyped-def]
    # The target's own completion time is when it went live there; an imported post may only have the post's.
    return func.coalesce(PostTarget.completed_at, Post.published_at, type_=UTCDateTime())


def _published_targets(sc: _Scope, *cols: Any):  # type: ignore[no-untyped-def]
    published = _published_at()
    stmt = (
        select(*cols)
        .select_from(PostTarget)
        .join(Post, Post.id == PostTarget.post_id)
        .where(PostTarget.platform_post_id.is_not(None), published >= sc.q.start, published < sc.q.end)
    )
    return sc.targets(stmt)


def _metrics_entity(sc: _Scope, now: datetime):  # type: ignore[no-untyped-def]
    """(entity, join condition) giving each target's metrics as of the period's end.

    A period that ends now reads post_metric_latest (one row per target); one that ended
    in the past picks the latest snapshot before its end through the (target_id,
    captured_at) index, a correlated subquery being far cheaper than ROW_NUMBER() here.
    """
    if sc.q.end >= now:
        return PostMetricLatest, PostMetricLatest.target_id == PostTarget.id
    s2 = aliased(PostMetricSnapshot)
    latest_id = (
        select(s2.id)
        .where(s2.target_id == PostTarget.id, s2.captured_at < sc.q.end)
        .order_by(s2.captured_at.desc(), s2.id.desc())
        .limit(1)
        .correlate(PostTarget)
        .scalar_subquery()
    )
    return PostMetricSnapshot, PostMetricSnapshot.id == latest_id


def _rate_expr(M):  # type: ignore[no-untyped-def]
    return case((M.follower_count > 0, cast(M.engagement, Float) / M.follower_count), else_=None)


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


def _platform_rows(session: Session, sc: _Scope, now: datetime) -> list[PlatformRow]:
    M, on = _metrics_entity(sc, now)
    stmt = _published_targets(
        sc,
        PostTarget.platform,
        func.count(func.distinct(PostTarget.post_id)),
        func.count(PostTarget.id),
        func.sum(M.engagement),
        func.avg(M.engagement),
        func.avg(_rate_expr(M)),
        func.sum(M.likes),
        func.sum(M.comments),
        func.sum(M.shares),
        func.sum(M.impressions),
        func.sum(M.reach),
    ).outerjoin(M, on).group_by(PostTarget.platform)
    rows = {
        r[0]: PlatformRow(r[0], r[1], r[2], _int(r[3]), _mean(r[4]), _mean(r[5]), *(_int(v) for v in r[6:]))
        for r in session.execute(stmt)
    }
    # Platforms with accounts in scope but nothing published still belong in the comparison.
    for (name,) in session.execute(sc.accounts(select(Account.platform).distinct())):
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


def platforms(session: Session, q: ReportQuery, *, now: datetime | None = None) -> PlatformsReport:
    sc, meta = _scope(session, q, "platforms")
    meta.empty = _store_empty_reason(session, sc)
    rows = [] if meta.empty else _platform_rows(session, sc, _now(now))
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


def _followers(session: Session, sc: _Scope) -> list[AccountFollowers]:
    """Each account's latest snapshot inside the period."""
    a2 = aliased(AccountMetricSnapshot)
    latest_id = (
        select(a2.id)
        .where(a2.account_id == Account.id, a2.captured_at >= sc.q.start, a2.captured_at < sc.q.end)
        .order_by(a2.captured_at.desc(), a2.id.desc())
        .limit(1)
        .correlate(Account)
        .scalar_subquery()
    )
    AMS = AccountMetricSnapshot
    stmt = sc.accounts(
        select(Account.id, Account.platform, Account.handle, AMS.followers, AMS.captured_at)
        .select_from(Account)
        .outerjoin(AMS, AMS.id == latest_id)
    ).order_by(Account.platform, Account.id)
    return [AccountFollowers(*r) for r in session.execute(stmt)]


def overview(session: Session, q: ReportQuery, *, now: datetime | None = None) -> OverviewReport:
    sc, meta = _scope(session, q, "overview")
    meta.empty = _store_empty_reason(session, sc)
    if meta.empty:
        return OverviewReport(meta, 0, 0, None, None, None, {}, [], [])
    now = _now(now)
    rows = _platform_rows(session, sc, now)
    posts, targets = session.execute(
        _published_targets(sc, func.count(func.distinct(PostTarget.post_id)), func.count(PostTarget.id))
    ).one()
    accounts = _followers(session, sc)
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


def timeline(session: Session, q: ReportQuery, *, now: datetime | None = None) -> TimelineReport:
    """Engagement gained per day in the user's timezone.

    Sums the hourly rollup's deltas (per target: this hour's last counters minus the
    previous reported ones), so a post published long before the period counts on the
    day its likes arrived. Resolution is one hour: in a zone whose offset is not a whole
    number of hours, the hour that straddles midnight counts on the day it starts in.
    A day with no reported delta is 0 once the scope has any reported value, and
    empty (None) before that.
    """
    sc, meta = _scope(session, q, "timeline")
    meta.empty = _store_empty_reason(session, sc)
    days = _local_days(sc)
    if meta.empty:
        return TimelineReport(meta, [], None)
    H = PostMetricHourly
    first_hour = hour_of(sc.q.start)
    if first_hour < sc.q.start:
        first_hour += timedelta(hours=1)  # start is inclusive: an hour that began before it is outside
    deltas = [func.sum(getattr(H, f"{k}_delta")) for k in HOURLY_COUNTERS]
    stmt = sc.hourly(session, select(H.hour, *deltas).where(H.hour >= first_hour, H.hour < sc.q.end).group_by(H.hour))
    zone = sc.q.zone
    sums: dict[date, dict[str, int | None]] = defaultdict(lambda: dict.fromkeys(HOURLY_COUNTERS))
    first_reported: dict[str, date] = {}
    for hour, *vals in session.execute(stmt.order_by(H.hour)):
        day = hour.astimezone(zone).date()
        cell = sums[day]
        for k, v in zip(HOURLY_COUNTERS, vals):
            if v is not None:
                cell[k] = (cell[k] or 0) + int(v)
                first_reported.setdefault(k, day)
    earlier = _reported_before(session, sc, first_hour)
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


def _reported_before(session: Session, sc: _Scope, hour: datetime) -> dict[str, bool]:
    """Per counter: did any target in scope report it before `hour`? (Then quiet days are 0.)"""
    H = PostMetricHourly
    probes = []
    for k in HOURLY_COUNTERS:
        sub = sc.hourly(session, select(literal(1)).select_from(H).where(H.hour < hour, getattr(H, k).is_not(None)))
        probes.append(exists(sub))
    row = session.execute(select(*probes)).one()
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


def growth(session: Session, q: ReportQuery, *, now: datetime | None = None) -> GrowthReport:
    """Followers per account per local day: the day's latest account snapshot (None if none)."""
    sc, meta = _scope(session, q, "growth")
    meta.empty = _store_empty_reason(session, sc)
    if meta.empty:
        return GrowthReport(meta, [], None)
    zone = sc.q.zone
    bounds = []
    for day in _local_days(sc):
        lo, hi = _day_bounds(day, zone)
        bounds.append((day.isoformat(), max(lo, sc.q.start), min(hi, sc.q.end)))
    # One indexed probe per (account, day) on (account_id, captured_at): a few hundred
    # seeks instead of scanning every hourly snapshot in the period.
    days_t = _days_table(bounds, session.get_bind().dialect.name)
    a2 = aliased(AccountMetricSnapshot)
    AMS = AccountMetricSnapshot
    latest_id = (
        select(a2.id)
        .where(a2.account_id == Account.id, a2.captured_at >= days_t.c.lo, a2.captured_at < days_t.c.hi)
        .order_by(a2.captured_at.desc(), a2.id.desc())
        .limit(1)
        .correlate(Account, days_t)
        .scalar_subquery()
    )
    stmt = sc.accounts(
        select(Account.id, Account.platform, Account.handle, days_t.c.day, AMS.followers)
        .select_from(Account)
        .join(days_t, true())
        .outerjoin(AMS, AMS.id == latest_id)
    ).order_by(Account.platform, Account.id, days_t.c.day)
    series: dict[int, GrowthAccount] = {}
    for acc_id, platform, handle, day, followers in session.execute(stmt):
        g = series.get(acc_id)
        if g is None:
            g = series[acc_id] = GrowthAccount(acc_id, platform, handle, None, None, None, [])
        g.days.append((date.fromisoformat(day), followers))
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


def _days_table(bounds: list[tuple[str, datetime, datetime]], dialect: str) -> Any:
    """The days as a table (day, lo, hi) to join accounts against."""
    if dialect == "postgresql":
        # Three array parameters, not three per day: a long period would pass PostgreSQL's
        # limit of 65535 parameters per statement. Arrays bypass UTCDateTime: naive UTC here.
        from sqlalchemy import DateTime
        from sqlalchemy.dialects.postgresql import ARRAY

        def naive(moment: datetime) -> datetime:
            return moment.astimezone(timezone.utc).replace(tzinfo=None)

        arrays = [
            literal([b[0] for b in bounds], ARRAY(String())),
            literal([naive(b[1]) for b in bounds], ARRAY(DateTime())),
            literal([naive(b[2]) for b in bounds], ARRAY(DateTime())),
        ]
        return func.unnest(*arrays).table_valued("day", "lo", "hi", name="days").render_derived()
    return values(
        column("day", String),
        column("lo", UTCDateTime()),
        column("hi", UTCDateTime()),
        name="days",
    ).data(bounds).cte("days")  # WITH days(day, lo, hi) AS (VALUES ...): SQLite lacks VALUES aliases


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
    session: Session, q: ReportQuery, *, sort: str = "engagement", limit: int = 5, now: datetime | None = None
) -> TopReport:
    """Best targets (a post on one account) published in the period; NULL in the sort metric last."""
    if sort not in SORT_KEYS:
        raise InvalidInput(f"cannot sort by {sort!r}.", hint=f"Use one of: {', '.join(SORT_KEYS)}.")
    if limit < 1:
        raise InvalidInput("--limit must be at least 1.")
    sc, meta = _scope(session, q, "top")
    meta.empty = _store_empty_reason(session, sc)
    if meta.empty:
        return TopReport(meta, sort, limit, [])
    M, on = _metrics_entity(sc, _now(now))
    rate = _rate_expr(M)
    key = rate if sort == "engagement_rate" else getattr(M, sort)
    published = _published_at()
    stmt = (
        _published_targets(
            sc,
            PostTarget.post_id,
            PostTarget.id,
            PostTarget.platform,
            PostTarget.account_id,
            Account.handle,
            PostTarget.platform_post_url,
            func.coalesce(PostTarget.text_override, Post.text),
            published,
            M.likes,
            M.comments,
            M.shares,
            M.quotes,
            M.saves,
            M.impressions,
            M.reach,
            M.views,
            M.engagement,
            rate,
            M.follower_count,
        )
        .join(Account, Account.id == PostTarget.account_id)
        .outerjoin(M, on)
        .order_by(key.is_(None), key.desc(), published.desc(), PostTarget.id.desc())
        .limit(limit)
    )
    posts = [TopPost(i, *r) for i, r in enumerate(session.execute(stmt), start=1)]
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


def heatmap(session: Session, q: ReportQuery, *, now: datetime | None = None, best: int = 3) -> HeatmapReport:
    """Mean engagement per post by the weekday and hour it was published, in the user's zone.

    SQL groups posts by UTC publish hour (by quarter hour in zones with a :30/:45 offset);
    each bucket is then placed in its local weekday/hour, which follows DST exactly.
    """
    sc, meta = _scope(session, q, "heatmap")
    meta.empty = _store_empty_reason(session, sc)
    empty_cells = [HeatCell(d, h, 0, None) for d in range(7) for h in range(24)]
    if meta.empty:
        return HeatmapReport(meta, empty_cells, [])
    zone = sc.q.zone
    whole_hours = all(
        (m.astimezone(zone).utcoffset() or timedelta()).total_seconds() % 3600 == 0 for m in (sc.q.start, sc.q.end)
    )
    seconds = 3600 if whole_hours else 900
    M, on = _metrics_entity(sc, _now(now))
    dialect = session.get_bind().dialect.name
    bucket = _integer_bucket(_published_at(), seconds, dialect)
    stmt = (
        _published_targets(sc, bucket.label("b"), func.count(PostTarget.id), func.sum(M.engagement), func.count(M.engagement))
        .outerjoin(M, on)
        .group_by(bucket)
    )
    acc: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0])  # posts, reported, sum
    for b, posts, total, reported in session.execute(stmt):
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


def _integer_bucket(expr: Any, seconds: int, dialect: str) -> Any:
    """floor(unix time / seconds) of a stored UTC datetime, portable to SQLite and PostgreSQL."""
    if dialect == "sqlite":
        # `//`: SQLAlchemy renders `/` as true division (x / (n + 0.0)), which would not bucket.
        return cast(func.strftime("%s", expr), Integer) // seconds
    return cast(func.floor(func.extract("epoch", expr) / seconds), BigInteger)
