"""One `collect` run: plan, then every account side by side with one writer."""

from __future__ import annotations

import gc
import logging
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Callable, Iterator

from postcli import settings
from postcli.platforms.registry import adapter_class
from postcli.services import jobs as jobs_svc
from postcli.services.collect import backlog
from postcli.services.collect.account_run import CHUNK_BATCHES, AccountRun
from postcli.services.collect.planning import group, plan
from postcli.services.collect.report import CollectReport
from postcli.services.collect.results import Fetched, record_fetched
from postcli.services.collect.writer import Writer
from postcli.store.models import Account, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger("postcli.collect")

# Longest a run waits in-process for a backed-off or rate-limited job; later ones wait for the next run.
MAX_INLINE_WAIT = 60.0


def collect(
    *,
    platform: str | None = None,
    account: str | None = None,
    days: int | None = None,
    limit: int | None = None,
    concurrency: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    now: Callable[[], datetime] = utcnow,
) -> CollectReport:
    """Plan this run's jobs, then work through them (what cron runs)."""
    report = CollectReport()
    accounts = plan(platform=platform, account=account, days=days, limit=limit, now=now(), report=report)
    run_accounts(accounts, report, progress=progress, now=now, concurrency=concurrency)
    report.held = backlog.held_elsewhere(accounts, now())
    return report


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep the cyclic GC from rescanning what outlives the run.

    What exists when the run starts (the SDKs the adapters imported, the store's
    engine and models) lives as long as the run. A full collection over the SDKs'
    objects took ~150 ms with the GIL held, stalling every request in flight.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()  # back in the oldest generation, collectable again


def run_accounts(
    accounts: list[Account],
    report: CollectReport,
    *,
    progress: Callable[[int, int], None] | None,
    now: Callable[[], datetime],
    concurrency: int | None,
    lease: timedelta | None = None,
    max_wait: float = MAX_INLINE_WAIT,
    chunk_batches: int = CHUNK_BATCHES,
) -> None:
    """Work through the due jobs of `accounts`, one AccountRun each, side by side."""
    runnable = []
    unmeasured: set[str] = set()  # platforms said once to have no post metrics
    writer: Writer[Fetched] = Writer(record_fetched)
    try:
        for acc in accounts:
            if acc.status == "token_expired":
                report.needs_reconnect(f"{acc.platform}:{acc.handle}")
                _skip_queued(writer, acc, report, now(), "skipped: account needs reconnecting")
            elif acc.status == "disabled":
                _skip_queued(writer, acc, report, now(), "skipped: account removed")
            else:
                if not adapter_class(acc.platform).has_metrics and acc.platform not in unmeasured:
                    unmeasured.add(acc.platform)
                    report.note(f"{acc.platform} reports no numbers per post: only its accounts' numbers are collected")
                runnable.append(acc)
        total = backlog.count_live(runnable)
        done = [0]
        done_lock = threading.Lock()

        def tick(n: int) -> None:
            if progress is None or n <= 0:
                return
            with done_lock:
                done[0] += n
                progress(done[0], total)

        if progress:
            progress(0, total)
        if not runnable:
            return
        limit_in_flight = max(1, concurrency or settings.config().collect_concurrency)
        gate = threading.BoundedSemaphore(limit_in_flight)
        lease = lease or timedelta(seconds=settings.config().collect_lease_seconds)
        runs = [
            AccountRun(
                acc,
                report,
                tick,
                now,
                gate,
                limit_in_flight,
                writer,
                lease=lease,
                max_wait=max_wait,
                chunk_batches=chunk_batches,
            )
            for acc in runnable
        ]
        with ThreadPoolExecutor(len(runs), thread_name_prefix="collect") as pool:
            try:
                wait([pool.submit(r.prepare) for r in runs])
                with frozen_heap():
                    wait([pool.submit(r.run) for r in runs])
            except BaseException:
                # Interrupted (Ctrl-C): the accounts stop asking and wind down before the writer closes.
                for r in runs:
                    r.interrupt()
                raise
    finally:
        writer.close()


def _skip_queued(writer: Writer[Fetched], account: Account, report: CollectReport, now: datetime, note: str) -> None:
    """Jobs queued for an account that cannot be collected (a worker finds them; `collect` plans none)."""
    from sqlalchemy import select

    from postcli.store.models import Job

    def skip(session: Session) -> int:
        ids = list(
            session.scalars(select(Job.id).where(Job.key.like(f"{group(account.id)}%"), Job.status.in_(jobs_svc.LIVE)))
        )
        jobs_svc.finish(session, ids, now, note=note)
        return len(ids)

    report.add(skipped=writer.call(skip))
