"""Planning a run: enqueue a job per account and per recent target, once per key."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from postcli import settings
from postcli.errors import InvalidInput
from postcli.platforms.registry import adapter_class
from postcli.services import accounts as accounts_svc
from postcli.services import jobs as jobs_svc
from postcli.services.collect.report import CollectReport
from postcli.store.models import Account, PostTarget
from postcli.store.session import session_scope

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# Finished jobs are kept this long (for `jobs list`), then pruned.
KEEP_DONE = timedelta(days=7)


def group(account_id: int) -> str:
    """The key prefix of every job of an account."""
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
    if days is not None and not settings.MIN_DAYS <= days <= settings.MAX_DAYS:
        raise InvalidInput(f"--days must be from {settings.MIN_DAYS} to {settings.MAX_DAYS}.")
    if limit is not None and limit < 1:
        raise InvalidInput("--limit must be 1 or more.")
    days = settings.config().collect_days if days is None else days
    interval = settings.config().collect_min_interval_seconds
    report = report if report is not None else CollectReport()
    with session_scope(immediate=True) as session:
        _plan_lock(session)
        # A killed run's claims: back in the queue now, not when their lease runs out.
        taken_over = jobs_svc.release_dead(session, now)
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
            items.append(("account_metrics", f"{group(acc.id)}account", {"account_id": acc.id}))
            if not adapter_class(acc.platform).has_metrics:
                continue  # no numbers per post (Google Business Profile): no call is spent on its posts
            q = (
                select(PostTarget.id)
                .where(PostTarget.account_id == acc.id, PostTarget.status == "completed")
                .where(PostTarget.platform_post_id.is_not(None))
                .where(PostTarget.completed_at >= now - window(acc.platform, days))
                .order_by(PostTarget.completed_at.desc(), PostTarget.id.desc())
            )
            if limit:
                q = q.limit(limit)
            for tid in session.scalars(q):
                items.append(("post_metrics", f"{group(acc.id)}target:{tid}", {"target_id": tid}))
        jobs_svc.prune(session, now - KEEP_DONE)
        res = jobs_svc.enqueue_many(
            session, items, now, fresh_since=now - timedelta(seconds=interval) if interval else None
        )
    report.add(planned=res.added, up_to_date=res.fresh, dead_waiting=res.dead, taken_over=taken_over)
    if taken_over:
        report.note(f"took over {taken_over} job(s) of a collect run that is no longer running")
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


def window(platform: str, days: int) -> timedelta:
    """How far back to collect: `days`, or longer for platforms whose numbers settle late."""
    min_hours = adapter_class(platform).min_collect_hours
    return max(timedelta(days=days), timedelta(hours=min_hours))
