"""Saving fetched batches: snapshots, deletions, finished and failed jobs, in one set of statements."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from postcli.services import jobs as jobs_svc
from postcli.services import thread_metrics
from postcli.services.collect import deletions
from postcli.services.snapshots import TargetRef, latest_followers, record_post_snapshots
from postcli.store.models import PostTarget

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from postcli.settings import Config
    from postcli.store.models import Account


class Source(Protocol):
    """What writing a batch needs of the account run that fetched it (account_run.AccountRun,
    which imports this module: named here by what it offers, so the two import one way)."""

    @property
    def account(self) -> Account: ...
    @property
    def deletion_grace(self) -> timedelta: ...
    @property
    def absence_is_deletion(self) -> bool: ...
    @property
    def followers(self) -> int | None: ...
    @property
    def cfg(self) -> Config: ...


@dataclass
class Item:
    """A claimed post job and what the fetch needs of its target (read at claim time)."""

    job_id: int
    target_id: int | None
    post_id: str | None  # None: the target is no longer a published post
    # Until then (time.monotonic()) the claim's lease is certainly still ours: no other
    # collector may take the job, so writing its result needs no ownership check.
    sure_until: float = 0.0
    # A thread: its published parts, fetched with it and summed into its snapshot (thread_metrics.py).
    parts: thread_metrics.Parts = ()

    @property
    def post_ids(self) -> list[str]:
        """What to fetch for it: its post, and a thread's other parts."""
        return thread_metrics.ids_to_fetch(self.post_id, self.parts)


@dataclass
class Fetched:
    """A batch of post metrics, fetched and waiting to be written.

    The writer records every Fetched queued up in one `record_fetched` call
    instead of a handful of statements per batch.
    """

    run: Source
    batch: list[Item]
    results: dict[str, Any]
    fetched_at: datetime

    def __len__(self) -> int:  # the writer's measure of a batch: its posts
        return len(self.batch)


def record_fetched(session: Session, fetched: list[Fetched]) -> list[tuple[int, int, int, int]]:
    """Write fetched batches: snapshots, deletions, finished jobs. Per batch:
    (fetched, deleted, dead-lettered, handled).

    Only jobs this collector still holds are written: one whose lease ran out
    may have been re-claimed by another collector, which will write it.
    """
    from sqlalchemy import select, update

    mine = still_mine(session, [it for f in fetched for it in f.batch])
    target_ids = [it.target_id for f in fetched for it in f.batch if it.job_id in mine]
    T = PostTarget
    # Plain rows, not ORM objects: this runs for every post of every run.
    targets: dict[int | None, tuple[Any, Any, Any]] = {
        tid: (account_id, status, completed_at)
        for tid, account_id, status, completed_at in session.execute(
            select(T.id, T.account_id, T.status, T.completed_at).where(T.id.in_(target_ids))
        )
    }
    captured_at = max(f.fetched_at for f in fetched)
    waiting = deletions.unindexed(
        session,
        [  # answered None, but maybe only not indexed yet
            (it.target_id, targets.get(it.target_id, (None, None, None))[2], f.fetched_at, f.run.deletion_grace)
            for f in fetched
            if f.run.deletion_grace
            for it in f.batch
            if it.job_id in mine
            and it.target_id is not None
            and it.post_id in f.results
            and f.results[it.post_id] is None
        ],
    )
    followers: dict[int, int | None] = {}
    snapshots: list[tuple[TargetRef, Any, int | None]] = []
    part_rows: list[tuple[int, Any]] = []
    deleted: list[int] = []
    finished: list[int] = []
    gone: list[int] = []
    early: list[int] = []
    hidden: list[int] = []
    resolved: list[tuple[int, Any]] = []
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
            account_id, status, completed_at = targets.get(it.target_id, (None, None, None))
            if status != "completed":  # gone from the store, or no longer published
                gone.append(it.job_id)
                n_gone += 1
                continue
            if it.post_id not in f.results:
                unanswered.append(it.job_id)
                continue
            m = f.results[it.post_id]
            if it.parts and it.post_id is not None:
                m, own = thread_metrics.thread_metrics(it.post_id, it.parts, f.results)
                part_rows.extend(own)
            if m is None:
                if it.target_id in waiting:
                    early.append(it.job_id)
                    continue
                if not f.run.absence_is_deletion:
                    hidden.append(it.job_id)
                    continue
                deleted.append(it.target_id)  # type: ignore[arg-type]
                n_deleted += 1
            else:
                snapshots.append((TargetRef(it.target_id, account_id), m, followers[acc_id]))  # type: ignore[arg-type]
                if m.resolved is not None:
                    resolved.append((it.target_id, m.resolved))  # type: ignore[arg-type]
                n_fetched += 1
            finished.append(it.job_id)
        dead: list[int] = []
        if unanswered:
            cfg = f.run.cfg
            _requeued, dead = jobs_svc.fail(
                session,
                unanswered,
                f"{f.run.account.platform} did not answer for these posts",
                f.fetched_at,
                max_attempts=cfg.collect_max_attempts,
                backoff_base=cfg.collect_backoff_seconds,
            )
        n_hidden = sum(1 for it in f.batch if it.job_id in hidden)
        counts.append((n_fetched, n_deleted, len(dead), n_fetched + n_deleted + n_gone + n_hidden + len(dead)))
    if deleted:
        session.execute(
            update(T).where(T.id.in_(deleted)).values(status="deleted", error="deleted on the platform"),
            execution_options={"synchronize_session": False},
        )
    for target_id, found in resolved:
        adopt_resolved(session, target_id, found)
    record_post_snapshots(session, snapshots, captured_at)
    thread_metrics.record_parts(session, part_rows, captured_at)
    jobs_svc.finish(session, finished, captured_at)
    jobs_svc.finish(session, gone, captured_at, note="skipped: target no longer published")
    jobs_svc.finish(session, early, captured_at, note="not visible on the platform yet")
    jobs_svc.finish(session, hidden, captured_at, note=deletions.HIDDEN_NOTE)
    return counts


def adopt_resolved(session: Session, target_id: int, found: Any) -> None:
    """The post's own id and link, where it was collected by a provisional one
    (PostMetrics.resolved: TikTok's publish id until moderation gives the post its id)."""
    from sqlalchemy import update

    session.execute(
        update(PostTarget)
        .where(PostTarget.id == target_id)
        .values(platform_post_id=found.platform_post_id, platform_post_url=found.url),
        execution_options={"synchronize_session": False},
    )


def still_mine(session: Session, items: list[Item]) -> set[int]:
    """The jobs among `items` this collector still holds: those well within their lease
    without asking, the others by checking the store (their lease may have run out and
    another collector may have taken them)."""
    now = time.monotonic()
    sure = {it.job_id for it in items if it.sure_until > now}
    unsure = [it.job_id for it in items if it.job_id not in sure]
    return sure | jobs_svc.owned(session, unsure, jobs_svc.worker_id())
