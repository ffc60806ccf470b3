"""`collect`: snapshot recent posts and every active account, through the jobs table.

Per account: the account's own metrics first (so post snapshots carry a fresh
follower count), then its posts in batches as large as the platform's batch
endpoint takes. Accounts run side by side, and so do an account's batches (up
to a per-platform limit): with one thread per account, an account with 1,000
posts would wait out 40 round trips one after the other while the rest of the
run sat idle. A global gate keeps the requests in flight at `[collect]
concurrency` whatever the number of accounts.

Errors (DESIGN.md "Collection rules"): a post the platform no longer shows ->
target `deleted`; 401/revoked -> account `token_expired` and its remaining jobs
skipped; 429 -> the account pauses for Retry-After and the batch is postponed
without counting an attempt; anything else -> the batch is retried with
exponential backoff (`[collect] backoff_seconds`), then dead-lettered after
`[collect] max_attempts`. Nothing an account does stops the other accounts.

Overlapping runs (cron) share the work through the jobs table: each claims
distinct jobs under BEGIN IMMEDIATE, and a run does not re-enqueue a key that
another run finished within `[collect] min_interval_seconds`, so two runs
started together snapshot each target once.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable, Iterator

from postcli import settings
from postcli.errors import AuthFailed, InvalidInput, PlatformError, PlatformRateLimited
from postcli.platforms.registry import adapter_class, make_adapter
from postcli.secrets_redact import redact
from postcli.services import accounts as accounts_svc
from postcli.services import jobs as jobs_svc
from postcli.services.snapshots import latest_followers, record_account_snapshot, record_post_snapshots
from postcli.store.models import Account, PostTarget, utcnow
from postcli.store.session import session_scope

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from postcli.platforms.base import Adapter
    from postcli.store.models import Job

log = logging.getLogger("postcli.collect")

# Longest a run waits in-process for a backed-off or rate-limited job; later ones wait for the next run.
MAX_INLINE_WAIT = 60.0
# Batches of one account in flight at once. Bluesky's AppView and Mastodon both
# limit per account/IP over 5-minute windows (3000 and 300 requests); a few
# parallel batches finish 1,000 posts in a second without nearing either.
PLATFORM_PARALLEL = {"bluesky": 4, "mastodon": 4}
DEFAULT_PARALLEL = 2
# Default of `[collect] min_interval_seconds`: a key finished this recently is not fetched again.
DEFAULT_MIN_INTERVAL = 60.0
# The Bluesky AppView indexes a new post a few seconds after the PDS accepts it, so a
# post absent from getPosts this soon after publishing is not called deleted (that is final).
DELETE_GRACE = timedelta(minutes=10)
# Finished jobs are kept this long (for `jobs list`), then pruned.
KEEP_DONE = timedelta(days=7)

# SQLite takes one writer at a time, and a connection that finds the lock taken sleeps
# in its busy handler (steps of up to 100 ms) rather than queueing; the threads of one
# process queue here instead and hand the lock over at once. Other processes still
# meet the busy timeout, which is what it is for.
_WRITE_LOCK = threading.Lock()


@contextmanager
def _writing() -> Iterator[Session]:
    with _WRITE_LOCK, session_scope(immediate=True) as session:
        yield session


def _claim(**kw: Any) -> list[Job]:
    with _WRITE_LOCK:
        return jobs_svc.claim(**kw)


@dataclass
class CollectReport:
    fetched: int = 0  # post snapshots written
    accounts: int = 0  # account snapshots written
    deleted: int = 0
    failed: int = 0  # jobs that failed this run and will be retried later
    dead: int = 0  # jobs dead-lettered this run
    skipped: int = 0  # jobs not run (account needs reconnecting, platform without metrics)
    planned: int = 0  # jobs added to the queue by this run
    up_to_date: int = 0  # keys another run finished moments ago, left alone
    waiting_retry: int = 0  # dead-lettered keys not planned (see `postcli jobs retry`)
    reconnect: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for k, v in counts.items():
                setattr(self, k, getattr(self, k) + v)

    def note(self, text: str) -> None:
        with self._lock:
            self.notes.append(text)

    def needs_reconnect(self, name: str) -> None:
        with self._lock:
            if name not in self.reconnect:
                self.reconnect.append(name)

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
            "planned": self.planned,
            "up_to_date": self.up_to_date,
            "waiting_retry": self.waiting_retry,
            "needs_reconnect": self.reconnect,
            "notes": self.notes,
        }


def _group(account_id: int) -> str:
    return f"acct:{account_id}:"


def min_interval() -> float:
    """`[collect] min_interval_seconds` (read from the raw config: settings.py has no field for it yet)."""
    value = settings.config().raw.get("collect", {}).get("min_interval_seconds", DEFAULT_MIN_INTERVAL)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise InvalidInput(f"config: [collect] min_interval_seconds must be a number >= 0, not {value!r}.")
    return float(value)


def plan(
    *,
    platform: str | None = None,
    account: str | None = None,
    days: int | None = None,
    limit: int | None = None,
    now: datetime,
    report: CollectReport | None = None,
) -> list[Account]:
    """Enqueue the jobs of this run; returns the accounts in scope."""
    from sqlalchemy import select

    if platform is not None:
        adapter_class(platform)  # an unknown name is bad input, not "nothing to collect"
    if days is not None and days < 0:
        raise InvalidInput("--days must be 0 or more.")
    if limit is not None and limit < 1:
        raise InvalidInput("--limit must be 1 or more.")
    days = settings.config().collect_days if days is None else days
    interval = min_interval()
    report = report if report is not None else CollectReport()
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
                .order_by(PostTarget.completed_at.desc(), PostTarget.id.desc())
            )
            if limit:
                q = q.limit(limit)
            for tid in session.scalars(q):
                items.append(("post_metrics", f"{_group(acc.id)}target:{tid}", {"target_id": tid}))
        jobs_svc.prune(session, now - KEEP_DONE)
        res = jobs_svc.enqueue_many(
            session, items, now, fresh_since=now - timedelta(seconds=interval) if interval else None
        )
    report.add(planned=res.added, up_to_date=res.fresh, waiting_retry=res.dead)
    if res.fresh:
        report.note(f"{res.fresh} item(s) were collected less than {interval:g}s ago and were left alone")
    if res.dead:
        report.note(f"{res.dead} item(s) are dead-lettered; `postcli jobs retry --all-dead` requeues them")
    return accounts


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
    accounts = plan(platform=platform, account=account, days=days, limit=limit, now=now(), report=report)
    runnable = []
    for acc in accounts:
        if acc.status == "token_expired":
            report.needs_reconnect(f"{acc.platform}:{acc.handle}")
        elif not adapter_class(acc.platform).has_metrics:
            log.info("%s has no metrics API; skipping %s", acc.platform, acc.handle)
            report.note(f"{acc.platform} has no metrics API; {acc.handle} skipped")
            report.add(skipped=1)
        else:
            runnable.append(acc)
    total = _count_live(runnable)
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
    limit_in_flight = max(1, concurrency or settings.config().collect_concurrency)
    gate = threading.BoundedSemaphore(limit_in_flight)
    workers = max(1, min(limit_in_flight, len(runnable) or 1))
    runs = [_AccountRun(acc, report, tick, now, gate, limit_in_flight) for acc in runnable]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="collect") as pool:
        for f in [pool.submit(r.run) for r in runs]:
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


class _AccountRun:
    """One account's share of a run: its account job, then its post batches in parallel."""

    def __init__(self, account: Account, report: CollectReport, tick: Callable[[int], None],
                 now: Callable[[], datetime], gate: threading.BoundedSemaphore, limit_in_flight: int) -> None:
        self.account = account
        self.name = f"{account.platform}:{account.handle}"
        self.report = report
        self.tick = tick
        self.now = now
        self.gate = gate
        self.group = _group(account.id)
        self.parallel = max(1, min(limit_in_flight, PLATFORM_PARALLEL.get(account.platform, DEFAULT_PARALLEL)))
        self.deadline = time.monotonic() + MAX_INLINE_WAIT
        self.stopped = threading.Event()  # the account needs reconnecting: no more requests
        self._pause_until = 0.0  # monotonic; set by a 429 so no batch of this account goes out before it
        self._pause_lock = threading.Lock()
        self.cfg = settings.config()
        self.adapter: Adapter | None = None

    def run(self) -> None:
        try:
            ctx = accounts_svc.context_for(self.account)
            self.adapter = make_adapter(ctx)
            self._drain("account_metrics", 1)
            if not self.stopped.is_set():
                batch = max(1, self.adapter.metrics_batch_size)
                if self.parallel == 1:
                    self._drain("post_metrics", batch)
                else:
                    threads = [
                        threading.Thread(target=self._drain, args=("post_metrics", batch),
                                         name=f"collect-{self.account.id}-{i}", daemon=True)
                        for i in range(self.parallel)
                    ]
                    for t in threads:
                        t.start()
                    for t in threads:
                        t.join()
        except AuthFailed:
            self._stop()
        except Exception as exc:  # noqa: BLE001 - one account's surprise must not end the run for the others
            log.exception("collecting %s failed", self.name)
            self.report.note(f"{self.name}: {type(exc).__name__}: {redact(str(exc))}")
        if self.adapter is not None:
            accounts_svc.save_settings_if_changed(ctx)
        # What is still queued after an error waits for the next run: it failed this time.
        self.report.add(failed=_count_errored(self.group))

    # --- the claim loop ---------------------------------------------------

    def _drain(self, kind: str, size: int) -> None:
        while not self.stopped.is_set():
            self._wait_for_pause()
            claimed = _claim(kind=kind, group=self.group, limit=size, now=self.now())
            if not claimed:
                wait = _next_due_in(self.group, kind, self.now())
                if wait is None or time.monotonic() + wait > self.deadline:
                    return
                self.stopped.wait(max(wait, 0.01))
                continue
            try:
                self._process(kind, claimed)
            except AuthFailed:
                self._stop()
                return
            except PlatformRateLimited as exc:
                self._rate_limited(claimed, exc)
            except PlatformError as exc:
                self._failed(claimed, redact(exc.message))
            except Exception as exc:  # noqa: BLE001 - a bug or a store error fails the batch, not the run
                log.exception("collecting %s: unexpected error", self.name)
                self._failed(claimed, f"unexpected {type(exc).__name__}: {redact(str(exc))}")

    def _wait_for_pause(self) -> None:
        with self._pause_lock:
            delay = self._pause_until - time.monotonic()
        if delay > 0:
            self.stopped.wait(delay)

    def _fetch(self, fn: Callable[[], Any]) -> Any:
        with self.gate:
            return fn()

    def _process(self, kind: str, claimed: list[Job]) -> None:
        assert self.adapter is not None
        ids = [j.id for j in claimed]
        if kind == "account_metrics":
            m = self._fetch(self.adapter.fetch_account_metrics)
            now = self.now()
            with _writing() as session:
                record_account_snapshot(session, self.account.id, m, now)
                jobs_svc.finish(session, ids, now)
            self.report.add(accounts=1)
            self.tick(len(ids))
            return
        self._do_posts(claimed)

    def _do_posts(self, claimed: list[Job]) -> None:
        assert self.adapter is not None
        from sqlalchemy import select

        wanted = {j.id: (j.payload or {}).get("target_id") for j in claimed}
        with session_scope(readonly=True) as session:
            found = {t.id: t for t in session.scalars(select(PostTarget).where(PostTarget.id.in_(wanted.values())))}
        targets = {jid: found.get(tid) for jid, tid in wanted.items()}
        live = {jid: t for jid, t in targets.items()
                if t is not None and t.status == "completed" and t.platform_post_id}
        gone_jobs = [jid for jid in targets if jid not in live]
        post_ids = sorted({t.platform_post_id for t in live.values() if t.platform_post_id})
        results = self._fetch(lambda: self.adapter.fetch_post_metrics(post_ids)) if post_ids else {}
        now = self.now()
        fetched = deleted = dead = 0
        with _writing() as session:
            followers = latest_followers(session, self.account.id)
            _keep = _preload(session, [t.id for t in live.values()])  # noqa: F841
            unanswered = []
            finished: list[int] = []
            snapshots: list[tuple[PostTarget, Any, int | None]] = []
            for jid, t in live.items():
                target = session.get(PostTarget, t.id)
                if target is None or target.status != "completed":
                    jobs_svc.finish(session, [jid], now, note="skipped: target no longer published")
                    continue
                if t.platform_post_id not in results:
                    unanswered.append(jid)
                    continue
                m = results[t.platform_post_id]
                if m is None:
                    if target.completed_at is not None and now - target.completed_at < DELETE_GRACE:
                        jobs_svc.finish(session, [jid], now, note="not visible on the platform yet")
                        continue
                    target.status = "deleted"
                    target.error = "deleted on the platform"
                    deleted += 1
                else:
                    snapshots.append((target, m, followers))
                    fetched += 1
                finished.append(jid)
            record_post_snapshots(session, snapshots, now)
            jobs_svc.finish(session, finished, now)
            if unanswered:
                _requeued, dead_ids = jobs_svc.fail(
                    session, unanswered, f"{self.account.platform} did not answer for these posts", now,
                    max_attempts=self.cfg.collect_max_attempts, backoff_base=self.cfg.collect_backoff_seconds,
                )
                dead = len(dead_ids)
            jobs_svc.finish(session, gone_jobs, now, note="skipped: target no longer published")
        self.report.add(fetched=fetched, deleted=deleted, dead=dead)
        self.tick(fetched + deleted + len(gone_jobs) + dead)

    # --- failures -----------------------------------------------------------

    def _rate_limited(self, claimed: list[Job], exc: PlatformRateLimited) -> None:
        wait = exc.retry_after if exc.retry_after is not None else 60.0
        with self._pause_lock:
            self._pause_until = max(self._pause_until, time.monotonic() + wait)
        now = self.now()
        with _writing() as session:
            jobs_svc.postpone(session, [j.id for j in claimed], now + timedelta(seconds=wait),
                              f"rate limited: {redact(exc.message)}", now)
        self.report.note(f"{self.name} rate limited (retry after {wait:.0f}s)")

    def _failed(self, claimed: list[Job], error: str) -> None:
        now = self.now()
        with _writing() as session:
            _requeued, dead = jobs_svc.fail(
                session, [j.id for j in claimed], error, now, max_attempts=self.cfg.collect_max_attempts,
                backoff_base=self.cfg.collect_backoff_seconds,
            )
        self.report.add(dead=len(dead))
        self.tick(len(dead))

    def _stop(self) -> None:
        """401/revoked: flag the account and skip all of its queued work (once, whichever batch saw it)."""
        from sqlalchemy import select

        from postcli.store.models import Job

        if self.stopped.is_set():
            return
        self.stopped.set()
        now = self.now()
        with _writing() as session:
            acc = session.get(Account, self.account.id)
            if acc is not None:
                accounts_svc.mark_token_expired(session, acc)
            ids = list(
                session.scalars(select(Job.id).where(Job.key.like(f"{self.group}%"), Job.status.in_(jobs_svc.LIVE)))
            )
            jobs_svc.finish(session, ids, now, note="skipped: account needs reconnecting")
        self.report.add(skipped=len(ids))
        self.tick(len(ids))
        self.report.needs_reconnect(self.name)


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


def _preload(session: Session, target_ids: list[int]) -> list[Any]:
    """Load a batch's targets in one query, so the per-row session.get lookups are answered
    from the identity map instead of one SELECT each (record_post_snapshots reads the
    latest/hourly rows it needs in bulk itself).

    The identity map holds objects weakly: the caller keeps the returned list alive."""
    from sqlalchemy import select

    if not target_ids:
        return []
    return list(session.scalars(select(PostTarget).where(PostTarget.id.in_(target_ids))))



