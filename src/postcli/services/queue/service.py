"""Queues: set and show an account's weekly slots, find the next free one for a post.

A slot is taken on an account when a scheduled post with a target on it is due at exactly that
moment; publishing early (or deleting, cancelling, rescheduling) frees it. `--queue` takes the
earliest moment free on every target within WEEKS_AHEAD weeks; `--queue-each` lets every target
take its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from postcli import settings
from postcli.errors import BadState, InvalidInput
from postcli.services import accounts as accounts_svc
from postcli.services.queue import slots as slots_mod
from postcli.store.models import Post, PostTarget, Queue, utcnow
from postcli.store.session import session_scope
from postcli.timeparse import zone

WEEKS_AHEAD = 8  # --queue looks this far for a common free slot
MAX_WEEKS = 52  # queue show --weeks


@dataclass(frozen=True)
class QueueInfo:
    account_id: int
    platform: str
    handle: str
    slots: str
    timezone: str

    def as_json(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "platform": self.platform,
            "handle": self.handle,
            "slots": self.slots,
            "timezone": self.timezone,
        }


def set_queue(accounts: list[str], text: str, tz: str | None) -> list[QueueInfo]:
    """One queue per account: these slots replace its old ones."""
    parsed = slots_mod.parse(text)
    tz_name = settings.time_zone(tz)
    zone(tz_name)
    canonical = slots_mod.render(parsed)
    from sqlalchemy import select

    out = []
    with session_scope() as session:
        chosen = _accounts(session, accounts)
        for account in chosen:
            row = session.scalars(select(Queue).where(Queue.account_id == account.id)).first()
            if row is None:
                row = Queue(account_id=account.id, slots=canonical, timezone=tz_name, updated_at=utcnow())
                session.add(row)
            else:
                row.slots, row.timezone, row.updated_at = canonical, tz_name, utcnow()
            out.append(QueueInfo(account.id, account.platform, account.handle, canonical, tz_name))
    return out


def _accounts(session: Any, refs: list[str]) -> list[Any]:
    if refs:
        return accounts_svc.resolve_targets(session, refs)
    active = [a for a in accounts_svc.list_accounts(session) if a.status != "disabled"]
    if not active:
        raise InvalidInput("no accounts connected.", hint="Connect one with `postcli accounts add`.")
    return active


def _queue(session: Any, account: Any) -> Queue:
    from sqlalchemy import select

    row = session.scalars(select(Queue).where(Queue.account_id == account.id)).first()
    if row is None:
        raise InvalidInput(
            f"{account.platform} account {account.handle} has no queue.",
            hint=f'Set one: postcli queue set "mon-fri 09:00,17:30" --account {account.id}',
        )
    return row


def _taken(session: Any, account_ids: list[int], start: datetime, end: datetime) -> dict[int, dict[datetime, int]]:
    """{account id: {moment: post id}} of scheduled posts in (start, end]."""
    from sqlalchemy import select

    rows = session.execute(
        select(PostTarget.account_id, Post.scheduled_at, Post.id)
        .join(Post, Post.id == PostTarget.post_id)
        .where(PostTarget.account_id.in_(account_ids), Post.status == "scheduled")
        .where(Post.scheduled_at > start, Post.scheduled_at <= end)
    )
    out: dict[int, dict[datetime, int]] = {i: {} for i in account_ids}
    for account_id, at, post_id in rows:
        out[account_id][_aware(at)] = post_id
    return out


def _aware(dt: datetime) -> datetime:
    from datetime import timezone

    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def free_slots(session: Any, account: Any, start: datetime, end: datetime) -> list[datetime]:
    q = _queue(session, account)
    moments = slots_mod.occurrences(slots_mod.parse(q.slots), zone(q.timezone), start, end)
    taken = _taken(session, [account.id], start, end)[account.id]
    return [m for m in moments if m not in taken]


def next_common(session: Any, accounts: list[Any], now: datetime) -> datetime:
    """The earliest moment free in every target's queue within WEEKS_AHEAD weeks."""
    end = now + timedelta(weeks=WEEKS_AHEAD)
    common: set[datetime] | None = None
    for account in accounts:
        free = set(free_slots(session, account, now, end))
        common = free if common is None else common & free
    if not common:
        raise InvalidInput(
            f"the targets' queues share no free slot in the next {WEEKS_AHEAD} weeks.",
            hint="Use --queue-each to let each target take its own next slot, or align the queues (postcli queue set).",
        )
    return min(common)


def next_each(session: Any, accounts: list[Any], now: datetime) -> dict[int, datetime]:
    end = now + timedelta(weeks=WEEKS_AHEAD)
    out = {}
    for account in accounts:
        free = free_slots(session, account, now, end)
        if not free:
            raise InvalidInput(
                f"the queue of {account.platform} account {account.handle} has no free slot in the next {WEEKS_AHEAD} weeks.",
                hint="Add slots (postcli queue set) or schedule with --at.",
            )
        out[account.id] = free[0]
    return out


def show(refs: list[str], *, weeks: int = 2, now: datetime | None = None) -> list[dict[str, Any]]:
    """The coming slots of each queue (`weeks` calendar weeks from now), with the post in each."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise InvalidInput(f"--weeks {weeks} is out of range.", hint=f"Give 1 to {MAX_WEEKS}.")
    now = now or utcnow()
    end = now + timedelta(weeks=weeks)
    from sqlalchemy import select

    out = []
    with session_scope(readonly=True) as session:
        accounts = _accounts(session, refs)
        queued = {q.account_id: q for q in session.scalars(select(Queue))}
        for account in accounts:
            q = queued.get(account.id)
            if q is None:
                if refs:
                    _queue(session, account)  # named without a queue: say how to set one
                continue
            moments = slots_mod.occurrences(slots_mod.parse(q.slots), zone(q.timezone), now, end)
            taken = _taken(session, [account.id], now, end)[account.id]
            texts = _texts(session, list(taken.values()))
            out.append(
                {
                    **QueueInfo(account.id, account.platform, account.handle, q.slots, q.timezone).as_json(),
                    "upcoming": [
                        {"at": m, "post_id": taken.get(m), "text": texts.get(taken.get(m, -1))} for m in moments
                    ],
                }
            )
    return out


def _texts(session: Any, post_ids: list[int]) -> dict[int, str]:
    if not post_ids:
        return {}
    from sqlalchemy import select

    return dict(session.execute(select(Post.id, Post.text).where(Post.id.in_(post_ids))).all())


def require_queue_time(to: list[str], *, each: bool, now: datetime) -> dict[int, datetime] | datetime:
    """For `post create --queue` (one time) or `--queue-each` ({account id: time})."""
    with session_scope(readonly=True) as session:
        accounts = accounts_svc.resolve_targets(session, to)
        if each:
            return next_each(session, accounts, now)
        return next_common(session, accounts, now)


def not_enough(posts: int, needed: int) -> BadState:
    return BadState(
        f"too little data to suggest slots: no weekday-and-hour has {needed} posts with reported engagement "
        f"({posts} posts in the window).",
        hint=f"Post for a few more weeks (each suggested slot needs at least {needed} posts of its own), "
        "or set slots by hand with `postcli queue set`.",
    )
