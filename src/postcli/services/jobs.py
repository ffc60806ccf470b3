"""The jobs table: enqueue once per key, claim with a lease, finish, back off, dead-letter.

Claims run inside `BEGIN IMMEDIATE` on SQLite, so two overlapping `collect`
processes never hold the same job; a crashed claimer's lease expires and its
jobs become claimable again, or at once when the claimer is provably dead
(`release_dead`, services/holders.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Iterable, cast

from postcli.errors import BadState, InvalidInput, NotFound
from postcli.services import holders
from postcli.store.models import Job, utcnow
from postcli.store.session import session_scope

if TYPE_CHECKING:
    from sqlalchemy.engine import CursorResult
    from sqlalchemy.orm import Session

LIVE = ("queued", "running")
LEASE = timedelta(minutes=5)


def worker_id() -> str:
    """This process as a job's holder ("host:pid", `locked_by`)."""
    return holders.me().owner


def enqueue_many(
    session: Session,
    items: Iterable[tuple[str, str, dict[str, Any]]],
    now: datetime,
    *,
    fresh_since: datetime | None = None,
) -> EnqueueResult:
    """Add (kind, key, payload) jobs, one per key at most.

    A key is left alone when it already has a live job (an overlapping run holds
    it), a dead one (dead letters are retried only on request: re-enqueueing would
    silently retry a poisoned job every run), or a job finished at or after
    `fresh_since` (a run that started moments after another must not snapshot the
    same targets a second time).
    """
    from sqlalchemy import select

    items = list(items)
    result = EnqueueResult()
    if not items:
        return result
    keys = [k for _, k, _ in items]
    live: set[str] = set()
    dead: set[str] = set()
    fresh: set[str] = set()
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        for key, status in session.execute(
            select(Job.key, Job.status).where(Job.key.in_(chunk), Job.status.in_((*LIVE, "dead")))
        ):
            (live if status in LIVE else dead).add(key)
        if fresh_since is not None:
            fresh.update(
                session.scalars(
                    select(Job.key).where(Job.key.in_(chunk), Job.status == "done", Job.updated_at >= fresh_since)
                )
            )
    from postcli.store.bulk import Bulk

    db = Bulk(session)
    at = db.dt(now)
    rows: list[tuple[Any, ...]] = []
    for kind, key, payload in items:
        if key in live:
            result.live += 1
            continue
        if key in dead:
            result.dead += 1
            continue
        if key in fresh:
            result.fresh += 1
            continue
        rows.append((kind, key, db.json(payload), "queued", 0, at, at, at))
        live.add(key)
        result.added += 1
    # Straight through the driver: a cron run plans thousands (ORM objects cost ~0.15 ms
    # each to flush, and even a Core executemany ~40 µs a row).
    db.executemany(
        "INSERT INTO jobs (kind, key, payload, status, attempts, run_after, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return result


@dataclass
class EnqueueResult:
    added: int = 0
    live: int = 0  # already queued or running (an overlapping run, or a backed-off retry)
    dead: int = 0  # dead-lettered: waiting for `postcli jobs retry`
    fresh: int = 0  # done moments ago by another run


def claim_in(
    session: Session,
    *,
    kind: str,
    group: str,
    limit: int,
    now: datetime,
    owner: str | None = None,
    lease: timedelta = LEASE,
) -> list[tuple[int, dict[str, Any]]]:
    """Claim up to `limit` due jobs of one kind and group (payload account), atomically,
    inside the caller's write transaction; returns their (id, payload).

    A job is due when queued and past run_after, or running with an expired
    lease (its claimer crashed). PostgreSQL skips rows another transaction is
    claiming (FOR UPDATE SKIP LOCKED); SQLite has one writer at a time.
    """
    from postcli.store.bulk import Bulk

    owner = owner or worker_id()
    db = Bulk(session)
    at = db.dt(now)
    # Through the driver, not ORM objects or Core rows: a run claims thousands of jobs.
    rows = db.execute(
        "SELECT id, payload FROM jobs WHERE kind = ? AND key LIKE ? "
        "AND ((status = 'queued' AND run_after <= ?) OR (status = 'running' AND locked_until < ?)) "
        "ORDER BY run_after, id LIMIT ?" + (" FOR UPDATE SKIP LOCKED" if db.postgres else ""),
        (kind, f"{group}%", at, at, limit),
    )
    if not rows:
        return []
    ids = [r[0] for r in rows]
    db.update_ids(
        "UPDATE jobs SET status = 'running', locked_until = ?, locked_by = ?, locked_proc = ?, updated_at = ? "
        "WHERE id IN",
        (db.dt(now + lease), owner, holders.me().proc, at),
        ids,
    )
    _expire(session, ids)
    return [(job_id, db.from_json(payload) or {}) for job_id, payload in rows]


def owned(session: Session, job_ids: list[int], owner: str) -> set[int]:
    """The ids among `job_ids` still claimed by `owner`.

    A claimer that outlived its lease may find its jobs re-claimed by another
    collector; it must then drop its results, or the job would be done twice.
    """
    from postcli.store.bulk import Bulk

    if not job_ids:
        return set()
    db = Bulk(session)
    # On PostgreSQL they are held until commit (FOR UPDATE): a claimer that finds the lease
    # expired skips locked rows, so it cannot take a job between this check and our write.
    rows = db.select_ids(
        "SELECT id FROM jobs WHERE status = 'running' AND locked_by = ? AND id IN",
        (owner,),
        job_ids,
        suffix=" FOR UPDATE" if db.postgres else "",
    )
    return {r[0] for r in rows}


def finish(session: Session, job_ids: list[int], now: datetime, note: str | None = None) -> None:
    from postcli.store.bulk import Bulk

    if job_ids:
        db = Bulk(session)
        db.update_ids(
            "UPDATE jobs SET status = 'done', locked_until = NULL, locked_by = NULL, locked_proc = NULL, "
            "updated_at = ?, last_error = ? WHERE id IN",
            (db.dt(now), note),
            job_ids,
        )
        _expire(session, job_ids)


def _expire(session: Session, job_ids: list[int]) -> None:
    """Jobs loaded as ORM objects in this session (e.g. by fail()) no longer match their rows."""
    if not session.identity_map:
        return
    wanted = set(job_ids)
    for key in list(session.identity_map.keys()):
        if key[0] is Job and key[1][0] in wanted:
            obj = session.identity_map.get(key)
            if obj is not None:
                session.expire(obj)


def fail(
    session: Session, job_ids: list[int], error: str, now: datetime, *, max_attempts: int, backoff_base: float
) -> tuple[list[int], list[int]]:
    """Count a failed attempt; returns (requeued ids, dead-lettered ids)."""
    requeued, dead = [], []
    for job in [session.get(Job, i) for i in job_ids]:
        if job is None:
            continue
        job.attempts += 1
        job.last_error = error
        job.locked_until = None
        job.locked_by = None
        job.locked_proc = None
        job.updated_at = now
        if job.attempts >= max_attempts:
            job.status = "dead"
            dead.append(job.id)
        else:
            job.status = "queued"
            job.run_after = now + timedelta(seconds=backoff_base * (2 ** (job.attempts - 1)))
            requeued.append(job.id)
    return requeued, dead


def postpone(session: Session, job_ids: list[int], until: datetime, note: str, now: datetime | None = None) -> None:
    """Back to the queue without counting an attempt (rate limited)."""
    from sqlalchemy import update

    if job_ids:
        session.execute(
            update(Job)
            .where(Job.id.in_(job_ids))
            .values(
                status="queued",
                run_after=until,
                locked_until=None,
                locked_by=None,
                locked_proc=None,
                last_error=note,
                updated_at=now or utcnow(),
            )
        )


def release_dead(session: Session, now: datetime) -> int:
    """Jobs claimed by a provably dead process (a `collect` killed part way) back to the
    queue at once, without counting an attempt, instead of when their lease runs out."""
    from sqlalchemy import select, update

    holding = session.execute(
        select(Job.locked_by, Job.locked_proc).where(Job.status == "running", Job.locked_by.is_not(None)).distinct()
    ).all()
    released = 0
    for owner, proc in holding:
        if holders.provably_dead(owner, proc):
            res = session.execute(
                update(Job)
                .where(Job.status == "running", Job.locked_by == owner, Job.locked_proc == proc)
                .values(status="queued", locked_until=None, locked_by=None, locked_proc=None, updated_at=now),
                execution_options={"synchronize_session": False},
            )
            released += cast("CursorResult[Any]", res).rowcount or 0
    return released


@dataclass(frozen=True)
class Held:
    """Jobs another live (or not provably dead) process holds: by whom, how many, until when."""

    holder: str
    jobs: int
    until: datetime | None


def held_elsewhere(session: Session, now: datetime, groups: list[str] | None = None) -> list[Held]:
    """Jobs (of these key groups, or all) under a lease that another process than this one holds."""
    from sqlalchemy import func, or_, select

    me = holders.me()
    not_mine = or_(Job.locked_by != me.owner, Job.locked_proc.is_(None), Job.locked_proc != me.proc)
    q = (
        select(Job.locked_by, func.count(), func.max(Job.locked_until))
        .where(Job.status == "running", Job.locked_until >= now, Job.locked_by.is_not(None), not_mine)
        .group_by(Job.locked_by)
        .order_by(Job.locked_by)
    )
    if groups is not None:
        if not groups:
            return []
        q = q.where(or_(*(Job.key.like(f"{g}%") for g in groups)))
    return [Held(owner or "", n, until) for owner, n, until in session.execute(q)]


def prune(session: Session, before: datetime) -> int:
    """Forget finished jobs: the table is a queue, the snapshots are the history."""
    from sqlalchemy import delete

    res = cast("CursorResult[Any]", session.execute(delete(Job).where(Job.status == "done", Job.updated_at < before)))
    return res.rowcount or 0


@dataclass
class JobView:
    id: int
    kind: str
    key: str
    status: str
    attempts: int
    run_after: datetime
    last_error: str | None
    created_at: datetime
    updated_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _view(j: Job) -> JobView:
    return JobView(j.id, j.kind, j.key, j.status, j.attempts, j.run_after, j.last_error, j.created_at, j.updated_at)


STATUSES = ("queued", "running", "done", "dead")


def list_jobs(*, dead: bool = False, status: str | None = None, limit: int = 100) -> list[JobView]:
    from sqlalchemy import select

    if status is not None and status not in STATUSES:
        raise InvalidInput(f"unknown job status {status!r}.", hint=f"Use one of: {', '.join(STATUSES)}.")
    if limit < 1:
        raise InvalidInput("--limit must be 1 or more.")
    with session_scope() as session:
        q = select(Job).order_by(Job.id.desc()).limit(limit)
        if dead:
            q = q.where(Job.status == "dead")
        elif status:
            q = q.where(Job.status == status)
        return [_view(j) for j in session.scalars(q)]


def retry_jobs(job_id: int | None = None, *, all_dead: bool = False, now: datetime | None = None) -> list[int]:
    """Requeue dead jobs (attempts start again); the next `collect` runs them."""
    from sqlalchemy import select

    now = now or utcnow()
    with session_scope(immediate=True) as session:
        if all_dead:
            jobs = list(session.scalars(select(Job).where(Job.status == "dead").order_by(Job.id)))
        else:
            job = session.get(Job, job_id) if job_id is not None else None
            if job is None:
                raise NotFound(f"no job {job_id}.", hint="See jobs with `postcli jobs list`.")
            if job.status != "dead":
                raise BadState(f"job {job_id} is {job.status}; only dead jobs are retried on request.")
            jobs = [job]
        live = set(session.scalars(select(Job.key).where(Job.key.in_([j.key for j in jobs]), Job.status.in_(LIVE))))
        requeued = []
        for job in jobs:
            job.updated_at = now
            if job.key in live:
                # The key is already queued again; a second live job would fetch it twice.
                job.status = "done"
                job.last_error = f"superseded by a newer job; was: {job.last_error}"
                continue
            job.status = "queued"
            job.attempts = 0
            job.run_after = now
            job.locked_until = None
            job.locked_by = None
            job.locked_proc = None
            live.add(job.key)
            requeued.append(job.id)
        return requeued
