"""A platform rate-limits `collect`: wait a moment in-process, or defer the account to the reset.

A cron run must finish. A limit that lifts within `[collect] max_rate_wait_seconds`
(default 30) is waited out in-process, and the batch goes again. A longer one (Meta's
estimated_time_to_regain_access in minutes, Tumblr's hourly or daily windows)
throttles the account for the rest of the run: no more requests go to it, its
remaining jobs are deferred to the reset time (run_after) without counting an
attempt, the request budget is paused for every collector until then, the other
accounts finish, and `collect` exits 5 (DESIGN.md "Collection rules"; the
precedence of exit codes is in services/exit_codes.py).

Asking again inside a throttle window also counts against Meta's limits, so a
throttled account is not asked again in this run, whatever it was doing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from postcli.errors import PlatformRateLimited

# When the platform says "not now" without saying until when (Meta's X-App-Usage
# has no reset time): retrying sooner would only spend the window again.
ASSUMED_RESET_SECONDS = 300.0
# A job's last_error while it waits for a rate limit: not a failure of the run.
NOTE_PREFIX = "rate limited"


def reset_seconds(exc: PlatformRateLimited) -> float:
    """Seconds until the limit lifts, as the platform said, else the assumed reset."""
    return exc.retry_after if exc.retry_after is not None else ASSUMED_RESET_SECONDS


def note(until: datetime, message: str) -> str:
    return f"{NOTE_PREFIX} until {until:%Y-%m-%d %H:%M:%S} UTC: {message}"


def defer_account(session: Session, group: str, owner: str, until: datetime, message: str, now: datetime) -> int:
    """Put an account's remaining jobs back in the queue due at `until`, no attempt counted.

    Those queued to run sooner and those this collector holds (claimed, never fetched);
    a job another collector holds is that collector's, and it meets the paused budget.
    """
    from sqlalchemy import and_, or_, select

    from postcli.services import jobs as jobs_svc
    from postcli.store.models import Job

    ids = list(
        session.scalars(
            select(Job.id).where(
                Job.key.like(f"{group}%"),
                or_(
                    and_(Job.status == "queued", Job.run_after < until),
                    and_(Job.status == "running", Job.locked_by == owner),
                ),
            )
        )
    )
    jobs_svc.postpone(session, ids, until, note(until, message), now)
    return len(ids)


@dataclass(frozen=True)
class Waiting:
    """An account's jobs that wait for a rate limit after this run."""

    jobs: int
    until: datetime | None


def waiting(session: Session, group: str, now: datetime) -> Waiting:
    """The account's queued jobs deferred by a rate limit to after `now` (by this run or an earlier one)."""
    from sqlalchemy import func, select

    from postcli.store.models import Job

    count, until = session.execute(
        select(func.count(), func.max(Job.run_after)).where(
            Job.key.like(f"{group}%"),
            Job.status == "queued",
            Job.run_after > now,
            Job.last_error.like(f"{NOTE_PREFIX}%"),
        )
    ).one()
    return Waiting(int(count or 0), until)


def record(
    session: Session, budget_key: str, owner: str, job_ids: list[int], until: datetime, message: str, now: datetime
) -> None:
    """The throttle itself: every collector holds off the account until `until`, and the
    jobs of the refused batch that this collector still holds wait for it."""
    from postcli.services import jobs as jobs_svc
    from postcli.services import rate_budget

    rate_budget.pause(session, budget_key, until, now)
    mine = sorted(jobs_svc.owned(session, job_ids, owner))
    jobs_svc.postpone(session, mine, until, note(until, message), now)


def settle(session: Session, group: str, owner: str, until: datetime | None, message: str, now: datetime) -> Waiting:
    """At the end of an account's run: a throttled account's other jobs are deferred to
    `until`; returns what waits for a rate limit (this run's or an earlier one's)."""
    if until is not None:
        defer_account(session, group, owner, until, message, now)
    return waiting(session, group, now)


def bounded_wait(seconds: float, limit: float) -> bool:
    """Is a reset `seconds` away short enough to wait for in-process?"""
    return seconds <= limit


def until(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)
