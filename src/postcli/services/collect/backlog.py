"""What the jobs table holds for an account: live jobs, errored ones, the next one due."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from postcli.services import jobs as jobs_svc
from postcli.services.collect import throttle
from postcli.services.collect.planning import group
from postcli.store.session import session_scope

if TYPE_CHECKING:
    from postcli.store.models import Account


def count_live(accounts: list[Account]) -> int:
    """Queued and running jobs of these accounts (the progress bar's total)."""
    from sqlalchemy import func, or_, select

    from postcli.store.models import Job

    if not accounts:
        return 0
    with session_scope(readonly=True) as session:
        conds = [Job.key.like(f"{group(a.id)}%") for a in accounts]
        return (
            session.scalar(select(func.count()).select_from(Job).where(Job.status.in_(jobs_svc.LIVE), or_(*conds))) or 0
        )


def held_elsewhere(accounts: list[Account] | None, now: datetime) -> list[jobs_svc.Held]:
    """Jobs of these accounts (None: of all) that another collector holds under its lease."""
    with session_scope(readonly=True) as session:
        groups = None if accounts is None else [group(a.id) for a in accounts]
        return jobs_svc.held_elsewhere(session, now, groups)


def release_dead(now: datetime) -> int:
    """`jobs.release_dead` in its own write transaction, taken only when there is something to release."""
    from sqlalchemy import select

    from postcli.services import holders
    from postcli.store.models import Job

    with session_scope(readonly=True) as session:
        holding = session.execute(
            select(Job.locked_by, Job.locked_proc).where(Job.status == "running").distinct()
        ).all()
    if not any(holders.provably_dead(owner, proc) for owner, proc in holding):
        return 0
    with session_scope(immediate=True) as session:
        return jobs_svc.release_dead(session, now)


def count_errored(group: str, *, errored_only: bool = True) -> int:
    from sqlalchemy import func, select

    from postcli.store.models import Job

    with session_scope(readonly=True) as session:
        q = select(func.count()).select_from(Job).where(Job.key.like(f"{group}%"), Job.status.in_(jobs_svc.LIVE))
        if errored_only:
            q = q.where(
                Job.status == "queued",
                Job.last_error.is_not(None),
                # waiting for a platform's rate limit is not a failure (collect/throttle.py)
                Job.last_error.not_like(f"{throttle.NOTE_PREFIX}%"),
            )
        return session.scalar(q) or 0


def next_due_in(group: str, kind: str, now: datetime) -> float | None:
    """Seconds until the account's next queued job of `kind` is due; None when there is none."""
    from sqlalchemy import func, select

    from postcli.store.models import Job

    with session_scope(readonly=True) as session:
        nxt = session.scalar(
            select(func.min(Job.run_after)).where(Job.kind == kind, Job.key.like(f"{group}%"), Job.status == "queued")
        )
    if nxt is None:
        return None
    return max(0.0, (nxt - now).total_seconds())
