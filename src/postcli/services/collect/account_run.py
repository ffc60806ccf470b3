"""One account's share of a run: its account job, then its post jobs in parallel batches."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Callable

from postcli import settings
from postcli.errors import AuthFailed, BadSettings, PlatformError, PlatformRateLimited, PostcliError
from postcli.platforms.registry import make_adapter
from postcli.secrets_redact import redact
from postcli.services import accounts as accounts_svc
from postcli.services import jobs as jobs_svc
from postcli.services import rate_budget
from postcli.services.collect import backlog, claims, deletions, throttle
from postcli.services.collect.planning import group
from postcli.services.collect.results import Fetched, Item
from postcli.services.snapshots import record_account_snapshot
from postcli.store.models import Account

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from postcli.platforms.base import AccountContext, Adapter
    from postcli.services.collect.report import CollectReport
    from postcli.services.collect.writer import Writer

log = logging.getLogger("postcli.collect")

# Batches of one account in flight at once come from the platform's spec (`parallel`; the
# global `[collect] concurrency` gate still caps the total). Bluesky's AppView and Mastodon
# both limit per account/IP over 5-minute windows, which the request budget (rate_budget)
# enforces; how many go out side by side changes only how fast a run ends, and one account
# alone may use every slot once the others are done.
# Rounds of parallel batches claimed at once per account: enough to keep them
# busy for a while, few enough that the lease (5 min) comfortably covers them.
CHUNK_BATCHES = 10


class AccountRun:
    """One account's share of a run: its account job, then its post jobs in parallel batches."""

    def __init__(
        self,
        account: Account,
        report: CollectReport,
        tick: Callable[[int], None],
        now: Callable[[], datetime],
        gate: threading.BoundedSemaphore,
        limit_in_flight: int,
        writer: Writer[Fetched],
        *,
        lease: timedelta,
        max_wait: float,
        chunk_batches: int = CHUNK_BATCHES,
    ) -> None:
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
        self.group = group(account.id)
        self.budget_key = rate_budget.key_of(account.id, account.platform, account.settings)
        self.limit = rate_budget.limit_for(account.platform)
        self.deletion_grace = deletions.grace_for(account.platform)
        self.absence_is_deletion = deletions.absence_is_deletion(account.platform)
        self.parallel = max(1, min(limit_in_flight, _parallel(account.platform)))
        self.deadline = time.monotonic() + max_wait
        # No more requests to this account in this run: it needs reconnecting, it is
        # throttled, or the run was interrupted.
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
        self.ctx: AccountContext | None = None
        self.adapter: Adapter | None = None
        self._prepare_error: Exception | None = None
        self.followers: int | None = None  # from this run's account snapshot, for the post snapshots
        self.batch = 1
        self.per_post_requests = False
        self._unsettled: list[tuple[list[Item], Future[Any]]] = []
        self._unsettled_lock = threading.Lock()
        self._post_claims = 0

    def prepare(self) -> None:
        """Build the adapter (before the run freezes the heap); a failure ends this account's run in `run`."""
        try:
            self.ctx = accounts_svc.context_for(self.account)
            self.adapter = make_adapter(self.ctx)
            self.batch = max(1, self.adapter.metrics_batch_size)
            self.per_post_requests = self.adapter.metrics_request_per_post
        except Exception as exc:  # noqa: BLE001 - raised again by run(), where it is reported
            self._prepare_error = exc

    def interrupt(self) -> None:
        """The run is being cut short: no more requests, the drains end as soon as they can."""
        self.stopped.set()

    def run(self) -> None:
        failed_account = False
        try:
            if self._prepare_error is not None:
                raise self._prepare_error
            # The account's counters and its posts' are fetched side by side; post
            # snapshots wait for the follower count before they are written (_posts).
            # Its job is claimed first, so its request budget comes before the posts'.
            first, _wait = self._claim("account_metrics")
            with ThreadPoolExecutor(1, thread_name_prefix=f"collect-{self.account.id}-acct") as side:
                side.submit(self._account_phase, first)
                self._drain("post_metrics")
        except AuthFailed:
            self._stop()
        except Exception as exc:  # noqa: BLE001 - one account's surprise must not end the run for the others
            # Reported once, as this account's line and in the exit code; the traceback only with --debug.
            log.debug("collecting %s failed", self.name, exc_info=True)
            why = exc.message if isinstance(exc, PostcliError) else f"unexpected {type(exc).__name__}: {exc}"
            self.report.account_failed(self.name, redact(why), bad_settings=isinstance(exc, BadSettings))
            failed_account = True
        if self.adapter is not None:
            # Said once per account and run: e.g. counters the app's access level withholds.
            for text in self.adapter.collect_notes():
                self.report.note(f"{self.name}: {text}")
        if self.ctx is not None:
            accounts_svc.save_settings_if_changed(self.ctx)
        self._defer_if_throttled()
        # What is still queued after an error waits for the next run: it failed this time (all of
        # it when the account itself failed: those jobs were never run).
        self.report.add(failed=backlog.count_errored(self.group, errored_only=not failed_account))

    def _account_phase(self, claimed: list[Item]) -> None:
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

    def _claim(self, kind: str) -> tuple[list[Item], float]:
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
        return self.writer.call(
            lambda session: claims.claim_chunk(
                session,
                kind=kind,
                group=self.group,
                owner=self.owner,
                budget_key=self.budget_key,
                limit=self.limit,
                chunk=chunk,
                per_token=per_token,
                lease=self.lease,
                now=now,
                sure_until=sure_until,
            )
        )

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
        wait_s = backlog.next_due_in(self.group, kind, self.now())
        if budget_wait and wait_s is not None:
            if self._quota_spent(budget_wait):
                return False
            wait_s = max(wait_s, budget_wait)
        if wait_s is None or time.monotonic() + wait_s > self.deadline:
            return False
        self.stopped.wait(max(wait_s, 0.01))
        return True

    def _quota_spent(self, budget_wait: float) -> bool:
        """A daily quota (spec.rate_limit_reset) with nothing left until a reset too far to wait
        for: the account is throttled to the reset like a platform's 429, so its jobs are
        deferred and the run says so (exit 5) instead of leaving them queued in silence."""
        if (
            self.limit is None
            or self.limit.daily_reset is None
            or throttle.bounded_wait(budget_wait, self.max_rate_wait)
        ):
            return False
        reset = f"midnight {self.limit.daily_reset}"
        exc = PlatformRateLimited(
            f"its daily quota ({self.limit.capacity:,.0f} units in postcli's budget) is spent until {reset}",
            platform=self.account.platform,
            retry_after=budget_wait,
        )
        self._throttle([], exc, budget_wait)
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
            self._guarded(ids, partial(self._account_metrics, ids))

    def _drain_posts(self) -> None:
        """Fetch the account's post jobs `parallel` batches at a time.

        This thread claims and keeps a few rounds of batches queued ahead of the fetch
        pool, so a new chunk is claimed while the last one is still being fetched and
        no request slot idles between chunks. A fetch hands its result to the writer
        and the pool goes on to the next batch without waiting for the write.
        """
        # Batches queued or being fetched at most: `parallel` in flight and three rounds
        # queued ahead of them, which cover the time a claim takes.
        most = 4 * self.parallel
        in_flight: set[Future[None]] = set()
        with ThreadPoolExecutor(self.parallel, thread_name_prefix=f"collect-{self.account.id}") as pool:
            try:
                while not self.stopped.is_set():
                    in_flight = {f for f in in_flight if not f.done()}
                    if len(in_flight) >= most:
                        wait(in_flight, return_when=FIRST_COMPLETED)
                        continue
                    self._wait_for_pause()
                    items, budget_wait = self._claim("post_metrics")
                    if not items:
                        # What is in flight may fail and come back due within this run: let it land first.
                        wait(in_flight)
                        if self.stopped.is_set() or not self._nothing_due("post_metrics", budget_wait):
                            return
                        continue
                    gone = [it.job_id for it in items if it.post_id is None]
                    if gone:
                        self.writer.call(partial(self._finish_gone, job_ids=gone))
                    live = [it for it in items if it.post_id is not None]
                    in_flight.update(
                        pool.submit(self._fetch_batch, live[i : i + self.batch])
                        for i in range(0, len(live), self.batch)
                    )
            finally:
                if self.stopped.is_set():
                    for f in in_flight:
                        f.cancel()  # not asked: the account is stopped (their jobs are deferred or skipped)

    def _fetch_batch(self, batch: list[Item]) -> None:
        if self.stopped.is_set():
            return
        try:
            self._wait_for_pause()
            fut = self._guarded([it.job_id for it in batch], lambda: self._posts(batch))
        except Exception:  # noqa: BLE001 - recording the failure failed too: its jobs' leases run out
            log.exception("collecting %s: a batch failed", self.name)
            return
        if fut is not None:
            with self._unsettled_lock:
                self._unsettled.append((batch, fut))

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

        n = self.writer.call(write)
        if n:
            self.report.add(accounts=1)
        self.tick(n)

    def _posts(self, batch: list[Item]) -> Future[Any]:
        """Fetch one batch and queue its write; the future fails if the write does."""
        assert self.adapter is not None
        adapter = self.adapter
        post_ids = sorted({pid for it in batch if it.post_id for pid in it.post_ids})
        # Threads add their parts to a batch: still at most `batch` ids per call.
        chunks = [post_ids[i : i + self.batch] for i in range(0, len(post_ids), self.batch)] or [[]]
        results: dict[str, Any] = {}
        for chunk in chunks:
            results.update(self._fetch(partial(adapter.fetch_post_metrics, chunk)))
        fetched_at = self.now()
        self.account_settled.wait()  # one request: long done by the time most batches get here
        fut = self.writer.submit_batch(Fetched(self, batch, results, fetched_at))

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
        wait_s = throttle.reset_seconds(exc)
        if not throttle.bounded_wait(wait_s, self.max_rate_wait):
            self._throttle(job_ids, exc, wait_s)
            return
        with self._pause_lock:
            self._pause_until = max(self._pause_until, time.monotonic() + wait_s)
        now = self.now()

        def write(session: Session) -> None:
            rate_budget.pause(session, self.budget_key, now + timedelta(seconds=wait_s), now)
            mine = sorted(jobs_svc.owned(session, job_ids, self.owner))
            jobs_svc.postpone(
                session, mine, now + timedelta(seconds=wait_s), f"rate limited: {redact(exc.message)}", now
            )

        self.writer.call(write)
        self.report.note(f"{self.name} rate limited (retry after {wait_s:.0f}s)")

    def _throttle(self, job_ids: list[int], exc: PlatformRateLimited, wait_s: float) -> None:
        """A limit too long to wait for: no more requests to this account in this run.

        Its budget is paused for every collector until the reset; this batch's jobs
        are deferred to then now, the rest when the run ends (`_defer_if_throttled`)."""
        now = self.now()
        until = throttle.until(now, wait_s)
        message = redact(exc.message)
        with self._stop_lock:
            first = self.throttled_until is None
            self.throttled_until = max(self.throttled_until or until, until)
            self._throttle_message = message
            self.stopped.set()

        self.writer.call(lambda s: throttle.record(s, self.budget_key, self.owner, job_ids, until, message, now))
        if first:
            log.warning("%s is rate limited until %s: not asked again in this run", self.name, until)

    def _defer_if_throttled(self) -> None:
        """At the end of the account's run: what it did not do waits for the reset, and the
        report learns how many jobs wait for a rate limit (this run's or an earlier one's)."""
        now, until, message = self.now(), self.throttled_until, self._throttle_message
        try:
            left = self.writer.call(lambda s: throttle.settle(s, self.group, self.owner, until, message, now))
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
                session,
                mine,
                error,
                now,
                max_attempts=self.cfg.collect_max_attempts,
                backoff_base=self.cfg.collect_backoff_seconds,
            )
            return dead

        dead = self.writer.call(write)
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

        n = self.writer.call(write)
        self.report.add(skipped=n)
        self.tick(n)
        self.report.needs_reconnect(self.name)


def _parallel(platform: str) -> int:
    from postcli.platforms import registry

    found = registry.find(platform)
    return found.parallel if found is not None else 2
