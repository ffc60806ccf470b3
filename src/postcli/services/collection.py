"""`collect`: snapshot recent posts and every active account, through the jobs table.

One run (or one `--worker`) is: plan (enqueue a job per account and per recent
target, once per key), then per account claim its due jobs in chunks, fetch
them in batches as large as the platform's batch endpoint takes, and write the
results. Accounts run side by side, and so do an account's batches (up to a
per-platform limit); a global gate keeps `[collect] concurrency` requests in
flight whatever the number of accounts.

Only one thread of a run touches the store: the writer. Fetch threads hand it
their results and it commits whatever has queued up in one transaction, so
SQLite's single write lock is taken a few times per run, not once per batch by
competing threads. A chunk claim takes the account's request budget for it
(`rate_budget`, shared by every collector of the store) in the same transaction.

Errors (DESIGN.md "Collection rules"): a post the platform no longer shows ->
target `deleted`; 401/revoked -> account `token_expired` and its remaining jobs
skipped; 429 -> the account pauses for Retry-After (for every collector) and the
batch is postponed without counting an attempt; anything else -> the batch is
retried with exponential backoff (`[collect] backoff_seconds`), then
dead-lettered after `[collect] max_attempts`. Nothing an account does stops the
other accounts.

Overlapping runs and workers share the work through the jobs table: claims are
exclusive (BEGIN IMMEDIATE on SQLite, FOR UPDATE SKIP LOCKED on PostgreSQL) and
leased; a collector writes results only for jobs it still holds, so a job whose
lease ran out and was re-claimed is not done twice. A run does not re-enqueue a
key that another run finished within `[collect] min_interval_seconds`.
"""

from __future__ import annotations

import gc
import logging
import math
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable

from postcli import settings
from postcli.errors import AuthFailed, BadSettings, InvalidInput, PlatformError, PlatformRateLimited, PostcliError
from postcli.platforms.registry import adapter_class, make_adapter
from postcli.secrets_redact import redact
from postcli.services import accounts as accounts_svc
from postcli.services import deletions, rate_budget, throttle
from postcli.services import jobs as jobs_svc
from postcli.services.snapshots import (
    TargetRef,
    latest_followers,
    record_account_snapshot,
    record_post_snapshots,
)
from postcli.store.models import Account, PostTarget, utcnow
from postcli.store.session import session_scope

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from postcli.platforms.base import Adapter

log = logging.getLogger("postcli.collect")

# Longest a run waits in-process for a backed-off or rate-limited job; later ones wait for the next run.
MAX_INLINE_WAIT = 60.0
# Batches of one account in flight at once (the global `[collect] concurrency` gate
# still caps the total). Bluesky's AppView and Mastodon both limit per account/IP
# over 5-minute windows (3000 and 300 requests), which the request budget
# (rate_budget) enforces; how many go out side by side changes only how fast a
# run ends, and one account alone may use every slot once the others are done.
PLATFORM_PARALLEL = {"bluesky": 4, "mastodon": 4}
DEFAULT_PARALLEL = 2
# Rounds of parallel batches claimed at once per account: enough to keep them
# busy for a while, few enough that the lease (5 min) comfortably covers them.
CHUNK_BATCHES = 10
# A worker shares the queue with other workers: it claims about one round of
# parallel batches at a time, so idle workers find work instead of one hoarding it.
WORKER_CHUNK_BATCHES = 2
# Finished jobs are kept this long (for `jobs list`), then pruned.
KEEP_DONE = timedelta(days=7)
# Most posts the writer records in one transaction: it holds the store's write lock
# (and, being Python, mostly the GIL) for a few tens of milliseconds at most.
MAX_WRITE_POSTS = 500
# How long a fetched batch may wait for others to share its transaction (seconds).
WRITE_LINGER = 0.05


def _posts_in(fetched: deque[tuple[_Fetched, Future[Any]]]) -> int:
    return sum(len(f.batch) for f, _ in fetched)


@dataclass
class _Fetched:
    """A batch of post metrics, fetched and waiting to be written.

    The writer records every _Fetched queued up in one set of statements (see
    `_record_fetched`) instead of a handful per batch.
    """

    run: _AccountRun
    batch: list[_Item]
    results: dict[str, Any]
    fetched_at: datetime


class _Writer:
    """The one thread of a run that writes to the store.

    `submit(fn)` queues `fn(session)` (a call: claims, failures; someone is usually
    waiting for it); `submit(_Fetched)` queues a fetched batch (nobody waits for it).
    Calls go first, all queued calls in one transaction, so a claim never waits behind
    a large write. Fetched batches linger a moment so more can share their transaction
    (each transaction has a fixed cost), up to MAX_WRITE_POSTS posts. Each call runs in
    its own savepoint so one failing call fails alone (fetched batches fail together).
    The future carries the result or the exception.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._calls: deque[tuple[Any, Future[Any]]] = deque()
        self._fetched: deque[tuple[_Fetched, Future[Any]]] = deque()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="collect-writer", daemon=True)
        self._thread.start()

    def submit(self, work: Callable[[Session], Any] | _Fetched) -> Future[Any]:
        fut: Future[Any] = Future()
        with self._cond:
            if isinstance(work, _Fetched):
                self._fetched.append((work, fut))
            else:
                self._calls.append((work, fut))
            self._cond.notify()
        return fut

    def call(self, work: Callable[[Session], Any] | _Fetched) -> Any:
        return self.submit(work).result()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not (self._calls or self._fetched or self._closed):
                    self._cond.wait()
                if self._calls:
                    items: list[tuple[Any, Future[Any]]] = list(self._calls)
                    self._calls.clear()
                elif self._fetched:
                    linger_until = time.monotonic() + WRITE_LINGER
                    while not (self._calls or self._closed) and _posts_in(self._fetched) < MAX_WRITE_POSTS:
                        wait = linger_until - time.monotonic()
                        if wait <= 0:
                            break
                        self._cond.wait(wait)
                    if self._calls:
                        continue  # calls first; these batches wait for the next round
                    items = []
                    n = 0
                    while self._fetched and (not items or n + len(self._fetched[0][0].batch) <= MAX_WRITE_POSTS):
                        item = self._fetched.popleft()
                        n += len(item[0].batch)
                        items.append(item)
                else:
                    return  # closed, and nothing left
            self._run(items)

    @staticmethod
    def _run(items: list[tuple[Any, Future[Any]]]) -> None:
        outcomes: list[tuple[Future[Any], Any, BaseException | None]] = []
        fetched = [(w, f) for w, f in items if isinstance(w, _Fetched)]
        calls = [(w, f) for w, f in items if not isinstance(w, _Fetched)]
        pieces: list[tuple[Callable[[Session], list[Any]], list[Future[Any]]]] = [
            (lambda session, w=w: [w(session)], [f]) for w, f in calls
        ]
        if fetched:
            pieces.append(
                (lambda session: _record_fetched(session, [w for w, _ in fetched]), [f for _, f in fetched])
            )
        try:
            # pg_lock=False: every piece guards itself with row locks (claims skip locked
            # rows, results lock the jobs they finish), so workers write side by side.
            with session_scope(immediate=True, pg_lock=False) as session:
                for fn, futs in pieces:
                    if len(pieces) == 1:
                        outcomes.extend((f, r, None) for f, r in zip(futs, fn(session)))
                        continue
                    try:
                        with session.begin_nested():
                            results = fn(session)
                    except Exception as exc:  # noqa: BLE001 - handed to the submitters
                        outcomes.extend((f, None, exc) for f in futs)
                    else:
                        outcomes.extend((f, r, None) for f, r in zip(futs, results))
        except BaseException as exc:  # noqa: BLE001 - the transaction failed: so did every piece
            for _w, fut in items:
                fut.set_exception(exc)
            return
        for fut, result, exc in outcomes:
            if exc is not None:
                fut.set_exception(exc)
            else:
                fut.set_result(result)


def _record_fetched(session: Session, fetched: list[_Fetched]) -> list[tuple[int, int, int, int]]:
    """Write fetched batches: snapshots, deletions, finished jobs. Per batch:
    (fetched, deleted, dead-lettered, handled).

    Only jobs this collector still holds are written: one whose lease ran out
    may have been re-claimed by another collector, which will write it.
    """
    from sqlalchemy import select, update

    mine = _still_mine(session, [it for f in fetched for it in f.batch])
    target_ids = [it.target_id for f in fetched for it in f.batch if it.job_id in mine]
    T = PostTarget
    # Plain rows, not ORM objects: this runs for every post of every run.
    targets = {
        tid: (account_id, status, completed_at)
        for tid, account_id, status, completed_at in session.execute(
            select(T.id, T.account_id, T.status, T.completed_at).where(T.id.in_(target_ids))
        )
    }
    captured_at = max(f.fetched_at for f in fetched)
    waiting = deletions.unindexed(session, [  # answered None, but maybe only not indexed yet
        (it.target_id, targets.get(it.target_id, (None, None, None))[2], f.fetched_at, f.run.deletion_grace)
        for f in fetched if f.run.deletion_grace for it in f.batch
        if it.job_id in mine and it.post_id in f.results and f.results[it.post_id] is None
    ])
    followers: dict[int, int | None] = {}
    snapshots: list[tuple[TargetRef, Any, int | None]] = []
    deleted: list[int] = []
    finished: list[int] = []
    gone: list[int] = []
    early: list[int] = []
    counts: list[tuple[int, int, int, int]] = []
    for f in fetched:
        acc_id = f.run.account.id
        if acc_id not in followers:
            followers[acc_id] = f.run.followers if f.run.followers is not None else latest_followers(session, acc_id)
        n_fetched = n_deleted = n_gone = 0
        unanswered: list[int] = []
        for it in f.batch:
            if it.job_id not in mine:
                continue
            account_id, status, completed_at = targets.get(it.target_id, (None, None, None))  # type: ignore[arg-type]
            if status != "completed":  # gone from the store, or no longer published
                gone.append(it.job_id)
                n_gone += 1
                continue
            if it.post_id not in f.results:
                unanswered.append(it.job_id)
                continue
            m = f.results[it.post_id]
            if m is None:
                if it.target_id in waiting:
                    early.append(it.job_id)
                    continue
                deleted.append(it.target_id)  # type: ignore[arg-type]
                n_deleted += 1
            else:
                snapshots.append((TargetRef(it.target_id, account_id), m, followers[acc_id]))  # type: ignore[arg-type]
                n_fetched += 1
            finished.append(it.job_id)
        dead: list[int] = []
        if unanswered:
            cfg = f.run.cfg
            _requeued, dead = jobs_svc.fail(
                session, unanswered, f"{f.run.account.platform} did not answer for these posts", f.fetched_at,
                max_attempts=cfg.collect_max_attempts, backoff_base=cfg.collect_backoff_seconds,
            )
        counts.append((n_fetched, n_deleted, len(dead), n_fetched + n_deleted + n_gone + len(dead)))
    if deleted:
        session.execute(
            update(T).where(T.id.in_(deleted)).values(status="deleted", error="deleted on the platform"),
            execution_options={"synchronize_session": False},
        )
    record_post_snapshots(session, snapshots, captured_at)
    jobs_svc.finish(session, finished, captured_at)
    jobs_svc.finish(session, gone, captured_at, note="skipped: target no longer published")
    jobs_svc.finish(session, early, captured_at, note="not visible on the platform yet")
    return counts


def _still_mine(session: Session, items: list[_Item]) -> set[int]:
    """The jobs among `items` this collector still holds: those well within their lease
    without asking, the others by checking the store (their lease may have run out and
    another collector may have taken them)."""
    now = time.monotonic()
    sure = {it.job_id for it in items if it.sure_until > now}
    unsure = [it.job_id for it in items if it.job_id not in sure]
    return sure | jobs_svc.owned(session, unsure, jobs_svc.worker_id())


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
    # Accounts whose jobs wait for a platform's rate limit: name -> (jobs, when it lifts).
    rate_limited: dict[str, tuple[int, datetime | None]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Accounts that could not be collected at all (damaged credentials, a bad setting): (name, why).
    account_errors: list[tuple[str, str]] = field(default_factory=list)
    settings_error: bool = False  # one of them was a setting to fix: the run exits 2, not 7
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

    def waiting_for_limit(self, name: str, jobs: int, until: datetime | None) -> None:
        with self._lock:
            self.rate_limited[name] = (jobs, until)

    @property
    def deferred(self) -> int:
        """Jobs deferred to a platform's reset time (not failed: a later run takes them)."""
        return sum(jobs for jobs, _ in self.rate_limited.values())

    def account_failed(self, name: str, error: str, *, bad_settings: bool = False) -> None:
        with self._lock:
            self.account_errors.append((name, error))
            self.settings_error = self.settings_error or bad_settings

    def handled(self) -> int:
        return self.fetched + self.accounts + self.deleted + self.failed + self.dead + self.skipped

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.dead == 0 and not self.account_errors

    def as_dict(self) -> dict[str, object]:
        return {
            "fetched": self.fetched,
            "accounts": self.accounts,
            "deleted": self.deleted,
            "failed": self.failed,
            "dead_lettered": self.dead,
            "skipped": self.skipped,
            "deferred": self.deferred,
            "rate_limited": [
                {"account": name, "jobs": jobs, "until": until.isoformat() if until else None}
                for name, (jobs, until) in sorted(self.rate_limited.items())
            ],
            "planned": self.planned,
            "up_to_date": self.up_to_date,
            "waiting_retry": self.waiting_retry,
            "needs_reconnect": sorted(self.reconnect),
            "notes": self.notes,
            "account_errors": [{"account": name, "error": error} for name, error in self.account_errors],
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
    interval = settings.config().collect_min_interval_seconds
    report = report if report is not None else CollectReport()
    with session_scope(immediate=True) as session:
        _plan_lock(session)
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
                .where(PostTarget.completed_at >= now - _window(acc.platform, days))
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


def _plan_lock(session: Session) -> None:
    """Serialise planners: on PostgreSQL two could both find a key free and enqueue it twice.

    (SQLite's BEGIN IMMEDIATE already lets one writer in at a time.)"""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        from sqlalchemy import text

        session.execute(text("SELECT pg_advisory_xact_lock(7347001)"))


def _window(platform: str, days: int) -> timedelta:
    """How far back to collect: `days`, or longer for platforms whose numbers settle late."""
    min_hours = adapter_class(platform).min_collect_hours
    return max(timedelta(days=days), timedelta(hours=min_hours))


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
    _run_accounts(accounts, report, progress=progress, now=now, concurrency=concurrency)
    return report


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
        accounts = _accounts_with_due_jobs(platform, now())
        if accounts:
            before = report.handled()
            _run_accounts(accounts, report, progress=progress, now=now, concurrency=concurrency,
                          lease=lease, max_wait=max(MAX_INLINE_WAIT, wait), chunk_batches=WORKER_CHUNK_BATCHES)
            if report.handled() != before:
                idle_since = time.monotonic()
                continue
            # Due jobs that nobody could take: their accounts are out of request budget.
        if time.monotonic() - idle_since >= wait:
            left = _count_live(accounts) if accounts else 0
            names = {f"{a.platform}:{a.handle}" for a in accounts}
            left -= sum(jobs for name, (jobs, _) in report.rate_limited.items() if name in names)
            if left > 0:
                report.note(f"{left} job(s) wait for the request budget ([collect.rate_limits]); a later run takes them")
            return report
        time.sleep(min(1.0, max(0.05, wait / 20)))


def _accounts_with_due_jobs(platform: str | None, now: datetime) -> list[Account]:
    from sqlalchemy import or_, select

    from postcli.store.models import Job

    with session_scope(readonly=True) as session:
        keys = session.scalars(
            select(Job.key).where(
                or_(
                    (Job.status == "queued") & (Job.run_after <= now),
                    (Job.status == "running") & (Job.locked_until < now),
                )
            ).distinct()
        )
        ids = sorted({int(k.split(":")[1]) for k in keys if k.startswith("acct:")})
        if not ids:
            return []
        q = select(Account).where(Account.id.in_(ids)).order_by(Account.id)
        if platform:
            q = q.where(Account.platform == platform)
        return list(session.scalars(q))


def _run_accounts(
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
    runnable = []
    writer = _Writer()
    try:
        for acc in accounts:
            if acc.status == "token_expired":
                report.needs_reconnect(f"{acc.platform}:{acc.handle}")
                _skip_queued(writer, acc, report, now(), "skipped: account needs reconnecting")
            elif acc.status == "disabled":
                _skip_queued(writer, acc, report, now(), "skipped: account removed")
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
        runs = [
            _AccountRun(acc, report, tick, now, gate, limit_in_flight, writer,
                        lease=lease or timedelta(seconds=settings.config().collect_lease_seconds), max_wait=max_wait, chunk_batches=chunk_batches)
            for acc in runnable
        ]
        threads = [threading.Thread(target=r.run, name=f"collect-{r.account.id}", daemon=True) for r in runs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        writer.close()
        gc.unfreeze()  # back in the oldest generation, collectable again


def _skip_queued(writer: _Writer, account: Account, report: CollectReport, now: datetime, note: str) -> None:
    """Jobs queued for an account that cannot be collected (a worker finds them; `collect` plans none)."""
    from sqlalchemy import select

    from postcli.store.models import Job

    def skip(session: Session) -> int:
        ids = list(session.scalars(
            select(Job.id).where(Job.key.like(f"{_group(account.id)}%"), Job.status.in_(jobs_svc.LIVE))
        ))
        jobs_svc.finish(session, ids, now, note=note)
        return len(ids)

    report.add(skipped=writer.call(skip))


def _count_live(accounts: list[Account]) -> int:
    from sqlalchemy import func, or_, select

    from postcli.store.models import Job

    if not accounts:
        return 0
    with session_scope(readonly=True) as session:
        conds = [Job.key.like(f"{_group(a.id)}%") for a in accounts]
        return session.scalar(select(func.count()).select_from(Job).where(Job.status.in_(jobs_svc.LIVE), or_(*conds))) or 0


@dataclass
class _Item:
    """A claimed post job and what the fetch needs of its target (read at claim time)."""

    job_id: int
    target_id: int | None
    post_id: str | None  # None: the target is no longer a published post
    # Until then (time.monotonic()) the claim's lease is certainly still ours: no other
    # collector may take the job, so writing its result needs no ownership check.
    sure_until: float = 0.0


class _AccountRun:
    """One account's share of a run: its account job, then its post jobs in parallel batches."""

    def __init__(self, account: Account, report: CollectReport, tick: Callable[[int], None],
                 now: Callable[[], datetime], gate: threading.BoundedSemaphore, limit_in_flight: int,
                 writer: _Writer, *, lease: timedelta, max_wait: float, chunk_batches: int = CHUNK_BATCHES) -> None:
        self.account = account
        self.name = f"{account.platform}:{account.handle}"
        self.report = report
        self.tick = tick
        self.now = now
        self.gate = gate
        self.writer = writer
        self.lease = lease
        self.chunk_batches = chunk_batches
        self.owner = jobs_svc.worker_id()
        self.group = _group(account.id)
        self.budget_key = rate_budget.key_for(account.id)
        self.limit = rate_budget.limit_for(account.platform)
        self.deletion_grace = deletions.grace_for(account.platform)
        self.parallel = max(1, min(limit_in_flight, PLATFORM_PARALLEL.get(account.platform, DEFAULT_PARALLEL)))
        self.deadline = time.monotonic() + max_wait
        # No more requests to this account in this run: it needs reconnecting, or it is throttled.
        self.stopped = threading.Event()
        self._stop_lock = threading.Lock()
        self._reconnecting = False
        self.throttled_until: datetime | None = None  # a rate limit longer than max_rate_wait
        self._throttle_message = ""
        # Set once this run's account snapshot is written (or failed, or not planned): post
        # snapshots record the follower count it brought.
        self.account_settled = threading.Event()
        self._pause_until = 0.0  # monotonic; set by a 429 so no batch of this account goes out before it
        self._pause_lock = threading.Lock()
        self.cfg = settings.config()
        self.max_rate_wait = self.cfg.collect_max_rate_wait_seconds
        self.adapter: Adapter | None = None
        self.followers: int | None = None  # from this run's account snapshot, for the post snapshots
        self.batch = 1
        self.per_post_requests = False
        self._unsettled: list[tuple[list[_Item], Future[Any]]] = []
        self._unsettled_lock = threading.Lock()
        self._post_claims = 0
        self._posts_cond = threading.Condition()  # _drain_posts' queue; notified on _stop too

    def run(self) -> None:
        ctx = None
        failed_account = False
        try:
            ctx = accounts_svc.context_for(self.account)
            self.adapter = make_adapter(ctx)
            # What exists now (the SDK the adapter imported, the store's engine and
            # models) lives as long as the run: keep the cyclic GC from rescanning it.
            # A full collection over the SDKs' objects took ~150 ms, with the GIL held.
            gc.freeze()
            self.batch = max(1, self.adapter.metrics_batch_size)
            self.per_post_requests = self.adapter.metrics_request_per_post
            # The account's counters and its posts' are fetched side by side; post
            # snapshots wait for the follower count before they are written (_posts).
            # Its job is claimed first, so its request budget comes before the posts'.
            first, _wait = self._claim("account_metrics")
            account = threading.Thread(target=self._account_phase, args=(first,),
                                       name=f"collect-{self.account.id}-acct", daemon=True)
            account.start()
            try:
                self._drain("post_metrics")
            finally:
                account.join()
        except AuthFailed:
            self._stop()
        except Exception as exc:  # noqa: BLE001 - one account's surprise must not end the run for the others
            # Reported once, as this account's line and in the exit code; the traceback only with --debug.
            log.debug("collecting %s failed", self.name, exc_info=True)
            why = exc.message if isinstance(exc, PostcliError) else f"unexpected {type(exc).__name__}: {exc}"
            self.report.account_failed(self.name, redact(why), bad_settings=isinstance(exc, BadSettings))
            failed_account = True
        if ctx is not None:
            accounts_svc.save_settings_if_changed(ctx)
        self._defer_if_throttled()
        # What is still queued after an error waits for the next run: it failed this time (all of
        # it when the account itself failed: those jobs were never run).
        self.report.add(failed=_count_errored(self.group, errored_only=not failed_account))

    def _account_phase(self, claimed: list[_Item]) -> None:
        try:
            if claimed:
                ids = [it.job_id for it in claimed]
                self._guarded(ids, lambda: self._account_metrics(ids))
            if not self.stopped.is_set():
                self._drain("account_metrics")  # a retry due within this run
        except AuthFailed:
            self._stop()
        except Exception as exc:  # noqa: BLE001 - the posts go on; the error is reported
            log.exception("collecting %s failed", self.name)
            self.report.note(f"{self.name}: {type(exc).__name__}: {redact(str(exc))}")
        finally:
            self.account_settled.set()

    # --- claiming -----------------------------------------------------------

    def _claim(self, kind: str) -> tuple[list[_Item], float]:
        """Claim a chunk and its request budget in one transaction; (items, seconds to wait if none)."""
        if kind == "account_metrics":
            chunk = 1
        else:
            # Small chunks first, so requests go out while the next is claimed (a claim of a
            # thousand jobs takes tens of milliseconds); then up to chunk_batches rounds.
            rounds = min(self.chunk_batches, 2 * (self._post_claims + 1))  # 2, 4, 6, ... rounds
            self._post_claims += 1
            chunk = self.batch * rounds * self.parallel
        # Posts one request (token) pays for: a batch endpoint answers `batch` posts per
        # call; adapters that ask per post (Graph insights, Tumblr notes) pay per post.
        per_token = 1 if kind == "account_metrics" or self.per_post_requests else self.batch
        now = self.now()
        # Half the lease: room for the clocks of collectors on other machines to disagree.
        sure_until = time.monotonic() + self.lease.total_seconds() / 2

        def claim(session: Session) -> tuple[list[_Item], float]:
            from sqlalchemy import select

            grant = rate_budget.take(session, self.budget_key, self.limit, math.ceil(chunk / per_token), now)
            if grant.tokens == 0:
                return [], grant.wait_s
            jobs = jobs_svc.claim_in(session, kind=kind, group=self.group, limit=grant.tokens * per_token,
                                     now=now, owner=self.owner, lease=self.lease)
            rate_budget.give_back(session, self.budget_key, self.limit,
                                  grant.tokens - math.ceil(len(jobs) / per_token), now)
            if kind == "account_metrics":
                return [_Item(job_id, None, None, sure_until) for job_id, _ in jobs], 0.0
            wanted = {job_id: payload.get("target_id") for job_id, payload in jobs}
            rows = session.execute(
                select(PostTarget.id, PostTarget.status, PostTarget.platform_post_id)
                .where(PostTarget.id.in_([t for t in wanted.values() if t is not None]))
            ).all()
            live = {tid: pid for tid, status, pid in rows if status == "completed" and pid}
            return [_Item(jid, tid, live.get(tid), sure_until) for jid, tid in wanted.items()], 0.0

        return self.writer.call(claim)

    def _drain(self, kind: str) -> None:
        try:
            if kind == "post_metrics":
                self._drain_posts()
            else:
                self._drain_account_job()
        finally:
            self._settle_writes()

    def _nothing_due(self, kind: str, budget_wait: float) -> bool:
        """Nothing claimable now: wait for the next retry or budget due within this run;
        False when there is none (the drain is over)."""
        self._settle_writes()  # a failed write puts its jobs back in the queue
        wait = _next_due_in(self.group, kind, self.now())
        if budget_wait and wait is not None:
            wait = max(wait, budget_wait)
        if wait is None or time.monotonic() + wait > self.deadline:
            return False
        self.stopped.wait(max(wait, 0.01))
        return True

    def _drain_account_job(self) -> None:
        while not self.stopped.is_set():
            self._wait_for_pause()
            items, budget_wait = self._claim("account_metrics")
            if not items:
                if not self._nothing_due("account_metrics", budget_wait):
                    return
                continue
            ids = [it.job_id for it in items]
            self._guarded(ids, lambda ids=ids: self._account_metrics(ids))

    def _drain_posts(self) -> None:
        """Fetch the account's post jobs `parallel` batches at a time.

        The claiming thread keeps a few rounds of batches queued ahead of the fetch
        threads, so a new chunk is claimed while the last one is still being fetched
        and no request slot idles between chunks. A fetch thread hands its result to
        the writer and goes on to the next batch without waiting for the write.
        """
        pending: deque[list[_Item]] = deque()
        cond = self._posts_cond
        state = {"active": 0, "done": False}
        low_water = 3 * self.parallel  # rounds of batches queued ahead: they cover a claim

        def worker() -> None:
            while True:
                with cond:
                    while not pending and not state["done"] and not self.stopped.is_set():
                        cond.wait()
                    if self.stopped.is_set() or not pending:
                        return
                    batch = pending.popleft()
                    state["active"] += 1
                    cond.notify_all()  # the claimer may be waiting for the queue to run low
                try:
                    self._wait_for_pause()
                    fut = self._guarded([it.job_id for it in batch], lambda b=batch: self._posts(b))
                    if fut is not None:
                        with self._unsettled_lock:
                            self._unsettled.append((batch, fut))
                finally:
                    with cond:
                        state["active"] -= 1
                        cond.notify_all()

        threads = [threading.Thread(target=worker, name=f"collect-{self.account.id}-{i}", daemon=True)
                   for i in range(self.parallel)]
        for t in threads:
            t.start()
        try:
            while not self.stopped.is_set():
                with cond:
                    while len(pending) >= low_water and not self.stopped.is_set():
                        cond.wait()
                self._wait_for_pause()
                items, budget_wait = self._claim("post_metrics")
                if not items:
                    # What is in flight may fail and come back due within this run: let it land first.
                    with cond:
                        while (pending or state["active"]) and not self.stopped.is_set():
                            cond.wait()
                    if not self._nothing_due("post_metrics", budget_wait):
                        return
                    continue
                gone = [it.job_id for it in items if it.post_id is None]
                if gone:
                    self._write(lambda s, ids=gone: self._finish_gone(s, ids))
                live = [it for it in items if it.post_id is not None]
                with cond:
                    pending.extend(live[i : i + self.batch] for i in range(0, len(live), self.batch))
                    cond.notify_all()
        finally:
            with cond:
                state["done"] = True
                cond.notify_all()
            for t in threads:
                t.join()

    def _settle_writes(self) -> None:
        """Wait for this account's queued writes; a batch whose write failed is failed in the store."""
        with self._unsettled_lock:
            writes, self._unsettled = self._unsettled, []
        for batch, fut in writes:
            exc = fut.exception()
            if exc is not None:
                log.error("collecting %s: writing a batch failed: %s", self.name, exc)
                self._failed([it.job_id for it in batch], f"store error: {type(exc).__name__}: {redact(str(exc))}")

    def _guarded(self, job_ids: list[int], fn: Callable[[], Any]) -> Any:
        """Run one batch; whatever it raises ends as that batch's outcome in the store."""
        try:
            return fn()
        except AuthFailed:
            self._stop()
        except PlatformRateLimited as exc:
            self._rate_limited(job_ids, exc)
        except PlatformError as exc:
            self._failed(job_ids, redact(exc.message))
        except Exception as exc:  # noqa: BLE001 - a bug or a store error fails the batch, not the run
            log.exception("collecting %s: unexpected error", self.name)
            self._failed(job_ids, f"unexpected {type(exc).__name__}: {redact(str(exc))}")
        return None

    def _write(self, fn: Callable[[Session], Any]) -> Any:
        return self.writer.call(fn)

    def _wait_for_pause(self) -> None:
        with self._pause_lock:
            delay = self._pause_until - time.monotonic()
        if delay > 0:
            self.stopped.wait(delay)

    def _fetch(self, fn: Callable[[], Any]) -> Any:
        with self.gate:
            return fn()

    # --- the work -------------------------------------------------------------

    def _account_metrics(self, job_ids: list[int]) -> None:
        assert self.adapter is not None
        m = self._fetch(self.adapter.fetch_account_metrics)
        now = self.now()
        self.followers = m.followers

        def write(session: Session) -> int:
            mine = jobs_svc.owned(session, job_ids, self.owner)
            if not mine:
                return 0
            record_account_snapshot(session, self.account.id, m, now)
            jobs_svc.finish(session, sorted(mine), now)
            return len(mine)

        n = self._write(write)
        if n:
            self.report.add(accounts=1)
        self.tick(n)

    def _posts(self, batch: list[_Item]) -> Future[Any]:
        """Fetch one batch and queue its write; the future fails if the write does."""
        assert self.adapter is not None
        post_ids = sorted({it.post_id for it in batch if it.post_id})
        results = self._fetch(lambda: self.adapter.fetch_post_metrics(post_ids))
        fetched_at = self.now()
        self.account_settled.wait()  # one request: long done by the time most batches get here
        fut = self.writer.submit(_Fetched(self, batch, results, fetched_at))

        def written(f: Future[Any]) -> None:  # runs on the writer thread: no store calls here
            if f.exception() is None:
                fetched, deleted, dead, handled = f.result()
                self.report.add(fetched=fetched, deleted=deleted, dead=dead)
                self.tick(handled)

        fut.add_done_callback(written)
        return fut

    def _finish_gone(self, session: Session, job_ids: list[int]) -> None:
        mine = jobs_svc.owned(session, job_ids, self.owner)
        jobs_svc.finish(session, sorted(mine), self.now(), note="skipped: target no longer published")
        self.tick(len(mine))

    # --- failures -----------------------------------------------------------

    def _rate_limited(self, job_ids: list[int], exc: PlatformRateLimited) -> None:
        wait = throttle.reset_seconds(exc)
        if not throttle.bounded_wait(wait, self.max_rate_wait):
            self._throttle(job_ids, exc, wait)
            return
        with self._pause_lock:
            self._pause_until = max(self._pause_until, time.monotonic() + wait)
        now = self.now()

        def write(session: Session) -> None:
            rate_budget.pause(session, self.budget_key, now + timedelta(seconds=wait), now)
            mine = sorted(jobs_svc.owned(session, job_ids, self.owner))
            jobs_svc.postpone(session, mine, now + timedelta(seconds=wait), f"rate limited: {redact(exc.message)}", now)

        self._write(write)
        self.report.note(f"{self.name} rate limited (retry after {wait:.0f}s)")

    def _throttle(self, job_ids: list[int], exc: PlatformRateLimited, wait: float) -> None:
        """A limit too long to wait for: no more requests to this account in this run.

        Its budget is paused for every collector until the reset; this batch's jobs
        are deferred to then now, the rest when the run ends (`_defer_if_throttled`)."""
        now = self.now()
        until = throttle.until(now, wait)
        message = redact(exc.message)
        with self._stop_lock:
            first = self.throttled_until is None
            self.throttled_until = max(self.throttled_until or until, until)
            self._throttle_message = message
            self.stopped.set()
        with self._posts_cond:
            self._posts_cond.notify_all()

        self._write(lambda s: throttle.record(s, self.budget_key, self.owner, job_ids, until, message, now))
        if first:
            log.warning("%s is rate limited until %s: not asked again in this run", self.name, until)

    def _defer_if_throttled(self) -> None:
        """At the end of the account's run: what it did not do waits for the reset, and the
        report learns how many jobs wait for a rate limit (this run's or an earlier one's)."""
        now, until, message = self.now(), self.throttled_until, self._throttle_message
        try:
            left = self._write(lambda s: throttle.settle(s, self.group, self.owner, until, message, now))
        except Exception as exc:  # noqa: BLE001 - the run goes on; its jobs' leases run out instead
            log.error("collecting %s: deferring its jobs failed: %s", self.name, exc)
            return
        if left.jobs:
            self.report.waiting_for_limit(self.name, left.jobs, left.until)

    def _failed(self, job_ids: list[int], error: str) -> None:
        now = self.now()

        def write(session: Session) -> list[int]:
            mine = sorted(jobs_svc.owned(session, job_ids, self.owner))
            _requeued, dead = jobs_svc.fail(
                session, mine, error, now, max_attempts=self.cfg.collect_max_attempts,
                backoff_base=self.cfg.collect_backoff_seconds,
            )
            return dead

        dead = self._write(write)
        self.report.add(dead=len(dead))
        self.tick(len(dead))

    def _stop(self) -> None:
        """401/revoked: flag the account and skip all of its queued work (once, whichever batch saw it)."""
        from sqlalchemy import select

        from postcli.store.models import Job

        with self._stop_lock:  # the account job and a post batch may both see the 401
            if self._reconnecting:
                return
            self._reconnecting = True
            self.stopped.set()
        with self._posts_cond:
            self._posts_cond.notify_all()
        now = self.now()

        def write(session: Session) -> int:
            acc = session.get(Account, self.account.id)
            if acc is not None:
                accounts_svc.mark_token_expired(session, acc)
            ids = list(
                session.scalars(select(Job.id).where(Job.key.like(f"{self.group}%"), Job.status.in_(jobs_svc.LIVE)))
            )
            jobs_svc.finish(session, ids, now, note="skipped: account needs reconnecting")
            return len(ids)

        n = self._write(write)
        self.report.add(skipped=n)
        self.tick(n)
        self.report.needs_reconnect(self.name)


def _count_errored(group: str, *, errored_only: bool = True) -> int:
    from sqlalchemy import func, select

    from postcli.store.models import Job

    with session_scope(readonly=True) as session:
        q = select(func.count()).select_from(Job).where(Job.key.like(f"{group}%"), Job.status.in_(jobs_svc.LIVE))
        if errored_only:
            q = q.where(
                Job.status == "queued", Job.last_error.is_not(None),
                # waiting for a platform's rate limit is not a failure (services/throttle.py)
                Job.last_error.not_like(f"{throttle.NOTE_PREFIX}%"),
            )
        return session.scalar(q) or 0


def _next_due_in(group: str, kind: str, now: datetime) -> float | None:
    from sqlalchemy import func, select

    from postcli.store.models import Job

    with session_scope(readonly=True) as session:
        nxt = session.scalar(
            select(func.min(Job.run_after)).where(Job.kind == kind, Job.key.like(f"{group}%"), Job.status == "queued")
        )
    if nxt is None:
        return None
    return max(0.0, (nxt - now).total_seconds())
