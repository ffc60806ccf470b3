"""`collect --worker`: work through queued jobs of every account, planned by anyone."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Callable

from postcli.services.collect import backlog
from postcli.services.collect.report import CollectReport
from postcli.services.collect.run import MAX_INLINE_WAIT, run_accounts
from postcli.store.models import Account, utcnow
from postcli.store.session import session_scope

# A worker shares the queue with other workers: it claims about one round of
# parallel batches at a time, so idle workers find work instead of one hoarding it.
WORKER_CHUNK_BATCHES = 2


def work(
    *,
    platform: str | None = None,
    wait: float = 0.0,
    concurrency: int | None = None,
    lease: timedelta | None = None,
    progress: Callable[[int, int], None] | None = None,
    now: Callable[[], datetime] = utcnow,
) -> CollectReport:
    """`collect --worker`: work through queued jobs of every account, planned by anyone.

    Several workers (processes or machines) share the queue. Returns when no job
    is due and none has come for `wait` seconds.
    """
    report = CollectReport()
    idle_since = time.monotonic()
    while True:
        report.add(taken_over=backlog.release_dead(now()))
        accounts = _accounts_with_due_jobs(platform, now())
        if accounts:
            before = report.handled()
            run_accounts(
                accounts,
                report,
                progress=progress,
                now=now,
                concurrency=concurrency,
                lease=lease,
                max_wait=max(MAX_INLINE_WAIT, wait),
                chunk_batches=WORKER_CHUNK_BATCHES,
            )
            if report.handled() != before:
                idle_since = time.monotonic()
                continue
            # Due jobs that nobody could take: their accounts are out of request budget.
        if time.monotonic() - idle_since >= wait:
            left = backlog.count_live(accounts) if accounts else 0
            names = {f"{a.platform}:{a.handle}" for a in accounts}
            left -= sum(jobs for name, (jobs, _) in report.rate_limited.items() if name in names)
            if left > 0:
                report.note(
                    f"{left} job(s) wait for the request budget ([collect.rate_limits]); a later run takes them"
                )
            if report.taken_over:
                report.note(f"took over {report.taken_over} job(s) of a collector that is no longer running")
            report.held = backlog.held_elsewhere(_platform_accounts(platform), now())
            return report
        time.sleep(min(1.0, max(0.05, wait / 20)))


def _platform_accounts(platform: str | None) -> list[Account] | None:
    """The accounts a worker for `platform` works for (None: every account)."""
    if platform is None:
        return None
    from sqlalchemy import select

    with session_scope(readonly=True) as session:
        return list(session.scalars(select(Account).where(Account.platform == platform)))


def _accounts_with_due_jobs(platform: str | None, now: datetime) -> list[Account]:
    from sqlalchemy import or_, select

    from postcli.store.models import Job

    with session_scope(readonly=True) as session:
        keys = session.scalars(
            select(Job.key)
            .where(
                or_(
                    (Job.status == "queued") & (Job.run_after <= now),
                    (Job.status == "running") & (Job.locked_until < now),
                )
            )
            .distinct()
        )
        ids = sorted({int(k.split(":")[1]) for k in keys if k.startswith("acct:")})
        if not ids:
            return []
        q = select(Account).where(Account.id.in_(ids)).order_by(Account.id)
        if platform:
            q = q.where(Account.platform == platform)
        return list(session.scalars(q))
