"""Request budgets shared by every collector of a store (token buckets in `rate_budgets`).

Several `postcli collect --worker` processes, on one machine or many, draw
from one bucket per account, so together they stay within the platform's
limit. A collector takes tokens for a whole chunk of work when it claims the
chunk (one row update per chunk, not per request), and a 429 pauses the
account for every collector until its Retry-After has passed.

Limits are `requests/seconds` per account, from `[collect.rate_limits]` in
config.toml, defaulting to what each platform documents (Bluesky's AppView
3000/5 min, Mastodon 300/5 min, Meta's ~200 calls per user per hour, Tumblr
1000/hour). A batch call counts as one request.

A platform whose limit is a daily quota (its spec's `rate_limit_reset`, YouTube's
10,000 units) gets a bucket that refills whole at midnight in that time zone rather
than continuously, and adapters charge it in the quota's units (`charge`); a quota
that belongs to the user's app (`budget_per_app`) is one bucket for every account
signed in with that client id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from postcli import settings
from postcli.errors import InvalidInput
from postcli.store.models import RateBudget

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _spec(platform: str) -> Any:
    from postcli.platforms import registry

    return registry.find(platform)


def default_limit(platform: str) -> tuple[float, float] | None:
    """(requests, seconds) from the platform's spec; None: unlimited (the sandbox)."""
    from postcli.platforms import registry

    found = registry.find(platform)
    return found.rate_limit if found is not None else None


@dataclass(frozen=True)
class Limit:
    capacity: float  # requests in a full bucket
    per_second: float  # refill rate
    # A daily quota: the bucket refills whole at midnight in this IANA zone, not continuously.
    daily_reset: str | None = None

    def window_start(self, now: datetime) -> datetime:
        """The last midnight in the quota's zone (aware UTC)."""
        from zoneinfo import ZoneInfo

        assert self.daily_reset is not None
        local = now.astimezone(ZoneInfo(self.daily_reset))
        return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(timezone.utc)

    def next_reset(self, now: datetime) -> datetime:
        """The next midnight in the quota's zone (aware UTC), a DST change included."""
        from zoneinfo import ZoneInfo

        assert self.daily_reset is not None
        zone = ZoneInfo(self.daily_reset)
        tomorrow = now.astimezone(zone).date() + timedelta(days=1)
        return datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=zone).astimezone(timezone.utc)


def limit_for(platform: str) -> Limit | None:
    """The configured budget of a platform; None = unlimited (the sandbox)."""
    raw = settings.config().raw.get("collect", {}).get("rate_limits", {})
    value = raw.get(platform) if isinstance(raw, dict) else None
    found = _spec(platform)
    reset = found.rate_limit_reset if found is not None else None
    if value is None:
        default = default_limit(platform)
        return Limit(default[0], default[0] / default[1], reset) if default else None
    try:
        requests_s, _, seconds_s = str(value).partition("/")
        requests, seconds = float(requests_s), float(seconds_s or 1)
        if requests <= 0 or seconds <= 0:
            raise ValueError
    except ValueError:
        raise InvalidInput(
            f"config: [collect.rate_limits] {platform} = {value!r} is not REQUESTS/SECONDS.",
            hint='Example: mastodon = "300/300" (300 requests per 5 minutes).',
        ) from None
    return Limit(requests, requests / seconds, reset)


def key_for(account_id: int) -> str:
    return f"acct:{account_id}"


def key_of(account_id: int, platform: str, account_settings: dict[str, Any] | None) -> str:
    """The budget an account draws from: its own, or its app's (the spec's budget_per_app)."""
    found = _spec(platform)
    client_id = (account_settings or {}).get("client_id")
    if found is not None and found.budget_per_app and client_id:
        return f"app:{platform}:{client_id}"
    return key_for(account_id)


@dataclass
class Grant:
    tokens: int  # requests granted (0 = none now)
    wait_s: float  # when granted is 0: seconds until one is available (or the pause ends)


def take(session: Session, key: str, limit: Limit | None, wanted: int, now: datetime, *, whole: bool = False) -> Grant:
    """Take up to `wanted` tokens (all of them or none when `whole`), atomically with the
    caller's transaction.

    The row is locked for the rest of the transaction (FOR UPDATE on
    PostgreSQL; SQLite's write transaction already excludes other writers).
    """
    from sqlalchemy import select

    if wanted <= 0:
        return Grant(0, 0.0)
    if limit is None:
        return Grant(wanted, 0.0)
    dialect = session.get_bind().dialect.name
    q = select(RateBudget).where(RateBudget.key == key)
    if dialect == "postgresql":
        q = q.with_for_update()
    row = session.scalars(q).first()
    if row is None:
        # Two collectors may meet a new account at once: the second one's insert is a no-op.
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]  # the same on_conflict API
        session.execute(
            insert(RateBudget)
            .values(key=key, tokens=limit.capacity, updated_at=now, paused_until=None)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        row = session.scalars(q).one()
    if row.paused_until is not None and row.paused_until > now:
        return Grant(0, (row.paused_until - now).total_seconds())
    if limit.daily_reset is not None:
        # A quota: whole again once a midnight of its zone has passed, else what is left.
        tokens = limit.capacity if row.updated_at < limit.window_start(now) else row.tokens
    else:
        elapsed = max(0.0, (now - row.updated_at).total_seconds())
        tokens = min(limit.capacity, row.tokens + elapsed * limit.per_second)
    granted = int(min(wanted, tokens))
    if whole and granted < wanted:
        granted = 0
    row.tokens = tokens - granted
    row.updated_at = now
    if granted == 0:
        if limit.daily_reset is not None:
            return Grant(0, (limit.next_reset(now) - now).total_seconds())
        return Grant(0, (max(wanted if whole else 1, 1) - tokens) / limit.per_second)
    return Grant(granted, 0.0)


def give_back(session: Session, key: str, limit: Limit | None, unused: int, now: datetime) -> None:
    """Return tokens a collector took but did not spend (its chunk was smaller)."""
    if unused <= 0 or limit is None:
        return
    row = session.get(RateBudget, key)
    if row is not None:
        row.tokens = min(limit.capacity, row.tokens + unused)


def pause(session: Session, key: str, until: datetime, now: datetime) -> None:
    """A 429: nobody sends for this account before `until`."""
    row = session.get(RateBudget, key)
    if row is None:
        session.add(RateBudget(key=key, tokens=0.0, updated_at=now, paused_until=until))
        return
    if row.paused_until is None or row.paused_until < until:
        row.paused_until = until
    row.tokens = 0.0
    row.updated_at = now


def charge(key: str, platform: str, what: str, cost: int = 1, now: datetime | None = None) -> None:
    """Charge a request an adapter makes outside `collect` (a Threads/Instagram container
    status check while publishing, a YouTube delete) to the account's shared bucket, in the
    budget's units.

    A request bucket never refuses and never waits: the publish is under way and its checks
    are already spaced as the platform recommends; an empty bucket simply makes collectors
    wait longer for this account. A daily quota (spec.rate_limit_reset) is another matter:
    a request it cannot pay for would be refused by the platform, so it is refused here,
    before it is sent (PlatformRateLimited until the quota's reset), and nothing is taken.
    """
    from postcli.errors import PlatformRateLimited
    from postcli.store.models import utcnow
    from postcli.store.session import session_scope

    limit = limit_for(platform)
    if limit is None or cost <= 0:
        return
    now = now or utcnow()
    quota = limit.daily_reset is not None
    with session_scope() as session:
        grant = take(session, key, limit, cost, now, whole=quota)
    if quota and grant.tokens == 0:
        reset = limit.next_reset(now)
        raise PlatformRateLimited(
            f"{platform}'s daily quota ({limit.capacity:,.0f} units) has too little left for {what} "
            f"({cost} units); it resets at {reset:%Y-%m-%d %H:%M} UTC (midnight {limit.daily_reset}).",
            platform=platform,
            retry_after=grant.wait_s,
            hint="Nothing was sent. A larger quota: [collect.rate_limits] in the config, once the platform grants it.",
        )
