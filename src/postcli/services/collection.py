"""`collect`: snapshot recent posts and every active account, through the jobs table.

Per account: the account's own metrics first (so post snapshots carry a fresh
follower count), then its posts in batches as large as the platform's batch
endpoint takes. Accounts run concurrently (a thread each, at most
`concurrency`), so one slow or failing account never holds up the others.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from postcli import settings
from postcli.errors import AuthFailed, PlatformError, PlatformRateLimited
from postcli.platforms.registry import adapter_class
from postcli.secrets_redact import redact
from postcli.services import accounts as accounts_svc
from postcli.services import jobs as jobs_svc
from postcli.services.snapshots import record_account_snapshot, record_post_snapshot
from postcli.store.models import Account, AccountMetricSnapshot, PostTarget, utcnow
from postcli.store.session import session_scope

log = logging.getLogger("postcli.collect")

# Longest a run waits in-process for a backed-off or rate-limited job; later ones wait for the next run.
MAX_INLINE_WAIT = 60.0


@dataclass
class CollectReport:
    fetched: int = 0  # post snapshots written
    accounts: int = 0  # account snapshots written
    deleted: int = 0
    failed: int = 0  # jobs that failed this run and will be retried later
    dead: int = 0  # jobs dead-lettered this run
    skipped: int = 0  # jobs not run (account needs reconnecting, platform without metrics)
    reconnect: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for k, v in counts.items():
                setattr(self, k, getattr(self, k) + v)

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.dead == 0

    def as_dict(self) -> dict[str, object]:
        return {
            "fetched": self.fetched,
            "accounts": self.accounts,
            "deleted": self.deleted,
            "failed": self.failed,
            "dead_lettered": self.dead,
            "skipped": self.skipped,
            "needs_reconnect": self.reconnect,
            "notes": self.notes,
        }


def _group(account_id: int) -> str:
    return f"acct:{account_id}:"


def plan(
    *,
    platform: str | None = None,
    account: str | None = None,
    days: int | None = None,
    limit: int | None = None,
    now: datetime,
) -> tuple[list[Account], int]:
    """Enqueue the jobs of this run; returns the accounts in scope and how many jobs were added."""
    from sqlalchemy import select

    days = settings.config().collect_days if days is None else days
    with session_scope(immediate=True) as session:
        if account:
            accounts = [accounts_svc.get_account(session, account)]
        else:
            accounts = accounts_svc.list_accounts(session)
        if platform:
            accounts = [a for a in accounts if a.platform == platform]
        accounts = [a for a in accounts if a.status != "disabled"]
        items: list[tuple[str, str, dict[str, object]]] = []
        for acc in accounts:
            if acc.status == "token_expired":
                continue
            if not adapter_class(acc.platform).has_metrics:
                continue
            items.append(("account_metrics", f"{_group(acc.id)}account", {"account_id": acc.id}))
            q = (
                select(PostTarget.id)
                .where(PostTarget.account_id == acc.id, PostTarget.status == "completed")
                .where(PostTarget.platform_post_id.is_not(None))
                .where(PostTarget.completed_at >= now - timedelta(days=days))
                .order_by(PostTarget.completed_at.desc())
            )
            if limit:
                q = q.limit(limit)
            for tid in session.scalars(q):
                items.append(("post_metrics", f"{_group(acc.id)}target:{tid}", {"target_id": tid}))
        added = jobs_svc.enqueue_many(session, items, now)
        return accounts, added


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
    report = CollectReport()
    accounts, _added = plan(platform=platform, account=account, days=days, limit=limit, now=now())
    for acc in accounts:
        if acc.status == "token_expired":
            report.reconnect.append(f"{acc.platform}:{acc.handle}")
        elif not adapter_class(acc.platform).has_metrics:
            log.info("%s has no metrics API; skipping %s", acc.platform, acc.handle)
            report.notes.append(f"{acc.platform} has no metrics API; {acc.handle} skipped")
            report.skipped += 1
    runnable = [a for a in accounts if a.status == "active" and adapter_class(a.platform).has_metrics]
    total = _count_live(runnable)
    done = [0]
    done_lock = threading.Lock()

    def tick(n: int) -> None:
        if progress is None:
            return
        with done_lock:
            done[0] += n
            progress(done[0], total)

    if progress:
        progress(0, total)
    workers = max(1, min(concurrency or settings.config().collect_concurrency, len(runnable) or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="collect") as pool:
        futures = [pool.submit(_run_account, acc, report, tick, now) for acc in runnable]
        for f in futures:
            f.result()
    return report


def _count_live(accounts: list[Account]) -> int:
    from sqlalchemy import func, or_, select

    from postcli.store.models import Job

    if not accounts:
        return 0
    with session_scope() as session:
        conds = [Job.key.like(f"{_group(a.id)}%") for a in accounts]
        return session.scalar(select(func.count()).select_from(Job).where(Job.status.in_(jobs_svc.LIVE), or_(*conds))) or 0


def _run_account(account: Account, report: CollectReport, tick: Callable[[int], None],
                 now: Callable[[], datetime]) -> None:
    cfg = settings.config()
    adapter = accounts_svc.adapter_for(account)
    batch = max(1, adapter.metrics_batch_size)
    group = _group(account.id)
    deadline = time.monotonic() + MAX_INLINE_WAIT
    for kind, size in (("account_metrics", 1), ("post_metrics", batch)):
        while True:
            claimed = jobs_svc.claim(kind=kind, group=group, limit=size, now=now())
            if not claimed:
                wait = _next_due_in(group, kind, now())
                if wait is None or time.monotonic() + wait > deadline:
                    break
                time.sleep(max(wait, 0.01))
                continue
            ids = [j.id for j in claimed]
            try:
                if kind == "account_metrics":
                    _do_account(adapter, account, ids, report, now())
                else:
                    _do_posts(adapter, account, claimed, report, now())
                tick(len(ids))
            except AuthFailed:
                _stop_account(account, report, now())
                tick(len(ids))
                return
            except PlatformRateLimited as exc:
                wait = exc.retry_after if exc.retry_after is not None else 60.0
                with session_scope() as session:
                    jobs_svc.postpone(session, ids, now() + timedelta(seconds=wait), f"rate limited: {redact(exc.message)}")
                report.notes.append(f"{account.platform}:{account.handle} rate limited (retry after {wait:.0f}s)")
            except PlatformError as exc:
                with session_scope() as session:
                    _requeued, dead = jobs_svc.fail(
                        session, ids, redact(exc.message), now(), max_attempts=cfg.collect_max_attempts,
                        backoff_base=cfg.collect_backoff_seconds,
                    )
                report.add(dead=len(dead))
                tick(len(dead))
    # What is still queued after an error waits for the next run: it failed this time.
    report.add(failed=_count_errored(group))


def _count_errored(group: str) -> int:
    from sqlalchemy import func, select

    from postcli.store.models import Job

    with session_scope() as session:
        return session.scalar(
            select(func.count()).select_from(Job).where(
                Job.key.like(f"{group}%"), Job.status == "queued", Job.last_error.is_not(None)
            )
        ) or 0


def _next_due_in(group: str, kind: str, now: datetime) -> float | None:
    from sqlalchemy import func, select

    from postcli.store.models import Job

    with session_scope() as session:
        nxt = session.scalar(
            select(func.min(Job.run_after)).where(Job.kind == kind, Job.key.like(f"{group}%"), Job.status == "queued")
        )
    if nxt is None:
        return None
    return max(0.0, (nxt - now).total_seconds())


def _latest_followers(session, account_id: int) -> int | None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    return session.scalar(
        select(AccountMetricSnapshot.followers)
        .where(AccountMetricSnapshot.account_id == account_id, AccountMetricSnapshot.followers.is_not(None))
        .order_by(AccountMetricSnapshot.captured_at.desc())
        .limit(1)
    )


def _do_account(adapter, account: Account, ids: list[int], report: CollectReport, now: datetime) -> None:  # type: ignore[no-untyped-def]
    m = adapter.fetch_account_metrics()
    with session_scope() as session:
        record_account_snapshot(session, account.id, m, now)
        jobs_svc.finish(session, ids, now)
    report.add(accounts=1)


def _do_posts(adapter, account: Account, claimed, report: CollectReport, now: datetime) -> None:  # type: ignore[no-untyped-def]
    with session_scope() as session:
        targets = {j.id: session.get(PostTarget, j.payload["target_id"]) for j in claimed}
    live = {jid: t for jid, t in targets.items() if t is not None and t.status == "completed" and t.platform_post_id}
    gone_jobs = [jid for jid in targets if jid not in live]
    ids = sorted({t.platform_post_id for t in live.values()})
    results = adapter.fetch_post_metrics(ids) if ids else {}
    fetched = deleted = 0
    with session_scope() as session:
        followers = _latest_followers(session, account.id)
        for jid, t in live.items():
            target = session.get(PostTarget, t.id)
            assert target is not None
            if t.platform_post_id not in results:
                cfg = settings.config()
                jobs_svc.fail(session, [jid], f"{account.platform} did not answer for {t.platform_post_id}", now,
                              max_attempts=cfg.collect_max_attempts, backoff_base=cfg.collect_backoff_seconds)
                continue
            metrics = results[t.platform_post_id]
            if metrics is None:
                target.status = "deleted"
                target.error = "deleted on the platform"
                deleted += 1
            else:
                record_post_snapshot(session, target, metrics, now, follower_count=followers)
                fetched += 1
            jobs_svc.finish(session, [jid], now)
        jobs_svc.finish(session, gone_jobs, now, note="skipped: target no longer published")
    report.add(fetched=fetched, deleted=deleted)


def _stop_account(account: Account, report: CollectReport, now: datetime) -> None:
    """401/revoked: flag the account and stop all of its queued work."""
    from sqlalchemy import select

    from postcli.store.models import Job

    with session_scope() as session:
        acc = session.get(Account, account.id)
        if acc is not None:
            accounts_svc.mark_token_expired(session, acc)
        ids = list(
            session.scalars(select(Job.id).where(Job.key.like(f"{_group(account.id)}%"), Job.status.in_(jobs_svc.LIVE)))
        )
        jobs_svc.finish(session, ids, now, note="skipped: account needs reconnecting")
    report.add(skipped=len(ids))
    report.reconnect.append(f"{account.platform}:{account.handle}")
