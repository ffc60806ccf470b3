"""`postcli doctor`'s scheduler checks: when publish-due and collect last ran against how often
they should ([doctor] publish_every_minutes, collect_every_minutes: late after twice that),
posts overdue or stuck in processing, jobs dead-lettered and notifications that failed since
the last doctor run — and the whole run (`run`)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from postcli import settings
from postcli.services.doctor import (
    Check,
    DoctorReport,
    account_checks,
    file_modes,
    media_store_check,
    secrets_check,
    store_checks,
)
from postcli.store.models import utcnow


def _ago(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} days"


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _ids(ids: list[int]) -> str:
    shown = ", ".join(map(str, ids[:10]))
    return shown + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")


def scheduler_checks(session: Any, now: datetime, since_doctor: datetime | None) -> list[Check]:
    from sqlalchemy import select

    from postcli.services import holders, runs
    from postcli.store.models import Account, Job, Post

    cfg = settings.config()
    last = runs.last_runs(session)
    overdue = list(
        session.scalars(
            select(Post.id).where(Post.status == "scheduled", Post.scheduled_at < now).order_by(Post.scheduled_at)
        )
    )
    has_accounts = session.scalars(select(Account.id).where(Account.removed_at.is_(None)).limit(1)).first() is not None
    checks: list[Check] = []
    for command, every, fix in (
        ("publish-due", cfg.doctor_publish_every_minutes, "* * * * * postcli publish-due (see `postcli cron`)"),
        ("collect", cfg.doctor_collect_every_minutes, "17 * * * * postcli collect (see `postcli cron`)"),
    ):
        run = last.get(command)
        interval = timedelta(minutes=every)
        waiting = (
            f"; {len(overdue)} scheduled post(s) are overdue (ids {_ids(overdue)})"
            if command == "publish-due" and overdue
            else ""
        )
        if run is None:
            needed = bool(overdue) if command == "publish-due" else has_accounts
            status = "fail" if needed else "warn"
            checks.append(
                Check(f"scheduler: {command}", status, f"{command} has never run{waiting}.", f"Add to cron: {fix}")
            )
            continue
        since = now - _aware(run.started_at)
        if since > 2 * interval:
            text = f"{command} has not run for {_ago(since)} (expected every {every:g} min){waiting}."
            checks.append(Check(f"scheduler: {command}", "fail", text, f"Check cron: {fix}"))
        elif run.outcome == "failed":
            text = f"{command} last ran {_ago(since)} ago and exited {run.exit_code}{waiting}."
            checks.append(Check(f"scheduler: {command}", "warn", text, f"Run `postcli {command}` by hand to see why."))
        else:
            checks.append(Check(f"scheduler: {command}", "ok", f"{command} last ran {_ago(since)} ago{waiting}."))
    stuck = [
        p.id
        for p in session.scalars(select(Post).where(Post.status == "processing"))
        if holders.provably_dead(p.locked_by, p.locked_proc)
        or (p.locked_until is not None and _aware(p.locked_until) < now)
    ]
    if stuck:
        checks.append(
            Check(
                "scheduler: stuck posts",
                "fail",
                f"{len(stuck)} post(s) stuck in processing, their publisher gone (ids {_ids(stuck)}).",
                "postcli publish-due finishes them (each is checked on the platform first).",
            )
        )
    q = select(Job.id).where(Job.status == "dead")
    if since_doctor is not None:
        q = q.where(Job.updated_at >= since_doctor)
    dead = list(session.scalars(q))
    if dead:
        when = "since the last doctor run" if since_doctor else "in the queue"
        checks.append(
            Check(
                "scheduler: collection jobs",
                "warn",
                f"{len(dead)} collection job(s) dead-lettered {when}.",
                "postcli jobs list --dead, then postcli jobs retry --all-dead",
            )
        )
    return checks


def notifier_checks(since_doctor: datetime | None) -> list[Check]:
    from postcli.errors import PostcliError
    from postcli.services import notify, notify_delivery

    try:
        cfg = notify_delivery.config()
    except PostcliError as exc:
        return [Check("notifications", "fail", exc.message, exc.hint)]
    if not cfg.configured:
        return [
            Check(
                "notifications",
                "warn",
                "no notifier configured: failures are only in the logs.",
                "Set [notify] command or webhook in config.toml (postcli notify test to try it).",
            )
        ]
    failed = notify.failures_since(since_doctor)
    if failed:
        text = f"{len(failed)} notification(s) could not be delivered; last: {failed[0]['error']}"
        return [Check("notifications", "warn", text, "postcli notify test")]
    return [
        Check(
            "notifications",
            "ok",
            "notifier configured" + (", nothing failed since the last doctor run." if since_doctor else "."),
        )
    ]


def run(*, live: bool = False, probe: Callable[[], Any] | None = None, now: datetime | None = None) -> DoctorReport:
    """Every check, in order; file modes first, before anything reads (and fixes) them."""
    from postcli.services import runs
    from postcli.store.session import session_scope

    now = now or utcnow()
    report = DoctorReport()
    report.checks.extend(file_modes())
    store = store_checks()
    report.checks.extend(store)
    report.checks.extend(secrets_check())
    if any(c.name == "store schema" and c.status == "fail" for c in store) or any(
        c.name == "store" and c.status == "fail" for c in store
    ):
        return report  # nothing else can be read without upgrading or repairing it
    if any(c.name == "store" and c.status == "warn" for c in store):
        report.checks.extend(media_store_check())
        return report  # no store yet: nothing ran, nothing to record
    with runs.recorded("doctor") as rec:
        with session_scope(readonly=True) as session:
            since_doctor = runs.previous_start(session, "doctor")
            report.checks.extend(scheduler_checks(session, now, since_doctor))
        report.checks.extend(account_checks(live=live, now=now, probe=probe))
        report.checks.extend(notifier_checks(since_doctor))
        report.checks.extend(media_store_check())
        rec.exit_code = report.exit_code
        rec.summary = {"failing": [c.name for c in report.checks if c.status == "fail"]}
    return report
