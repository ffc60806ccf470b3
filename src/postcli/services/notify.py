"""Never silent: events that need a person, each announced once (docs/design.md, "Notifications").

An event has a key naming what it is about (a target's failure at its attempt count, an
account's reconnect need, a post's expiry...). `announce` claims the key in the store first
(`notifications`, unique), so a later cron run that meets the same situation says nothing; a
reconnect need is announced again only after the account was connected again (`clear`) and
broke again. Events carry ids, the platform, the handle, a URL, the error and the fix, never a
secret. Without a notifier (or for an event not chosen) the key is still recorded ("skipped"),
so turning notifications on later does not replay old news.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Iterable

from postcli import settings
from postcli.secrets_redact import redact
from postcli.services import notify_delivery
from postcli.services.notify_delivery import Delivery, NotifyConfig
from postcli.store.models import Account, Notification, PostTarget, utcnow
from postcli.store.session import session_scope

if TYPE_CHECKING:
    from postcli.services.collect.report import CollectReport
    from postcli.services.posts.results import DueReport, PublishOutcome

RETRYABLE = ("unavailable", "rate_limited")  # kinds a later attempt may cure on its own


def _iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def event(name: str, **fields: Any) -> dict[str, Any]:
    """The event as sent: `event`, `at` (UTC, ISO 8601 with Z) and the fields that apply."""
    payload: dict[str, Any] = {"event": name, "at": _iso(utcnow())}
    for key, value in fields.items():
        if value is None:
            continue
        payload[key] = redact(value) if isinstance(value, str) else value
    return payload


@dataclass(frozen=True)
class Announced:
    key: str
    status: str  # sent | failed | skipped | already
    deliveries: tuple[Delivery, ...] = ()


def announce(key: str, payload: dict[str, Any], cfg: NotifyConfig | None = None) -> Announced:
    """Send `payload` once for `key`: claimed in the store first, so two runs never both send it."""
    from sqlalchemy.exc import IntegrityError

    cfg = cfg or notify_delivery.config()
    wanted = cfg.configured and payload["event"] in cfg.events
    try:
        with session_scope() as session:
            session.add(
                Notification(
                    key=key[:255],
                    event=payload["event"],
                    created_at=utcnow(),
                    payload=payload,
                    status="sending" if wanted else "skipped",
                )
            )
    except IntegrityError:
        return Announced(key, "already")
    if not wanted:
        return Announced(key, "skipped")
    deliveries = tuple(notify_delivery.deliver(cfg, payload))
    ok = all(d.ok for d in deliveries)
    with session_scope() as session:
        from sqlalchemy import select

        row = session.scalars(select(Notification).where(Notification.key == key[:255])).first()
        if row is not None:
            row.status = "sent" if ok else "failed"
            row.error = None if ok else "; ".join(d.detail for d in deliveries if not d.ok)[:2000]
    return Announced(key, "sent" if ok else "failed", deliveries)


def clear(prefix: str) -> None:
    """Forget what was announced under `prefix` (the situation was fixed: it may be news again)."""
    from sqlalchemy import delete

    with session_scope() as session:
        session.execute(delete(Notification).where(Notification.key.startswith(prefix, autoescape=True)))


def test() -> list[Delivery]:
    """`postcli notify test`: a notify.test event through every configured notifier (not recorded)."""
    cfg = notify_delivery.config()
    return notify_delivery.deliver(cfg, event("notify.test", message="postcli notify test: it works."))


# -- what each command announces -------------------------------------------------------------


def after_publish(outcomes: Iterable[PublishOutcome]) -> None:
    """post.failed (a target gave up or failed for good), post.partial, post.published."""
    cfg = notify_delivery.config()
    max_attempts = settings.config().publish_max_attempts
    for outcome in outcomes:
        # "unknown": the platform may have the post and cannot be asked: only the user can settle it.
        failed = [t for t in outcome.targets if t.status in ("failed", "unknown")]
        attempts = _attempts([t.target_id for t in failed])
        for t in failed:
            tries = attempts.get(t.target_id, 0)
            if t.error_kind in RETRYABLE and tries < max_attempts:
                continue  # a later run tries again: not news yet
            fix = (
                f"reconnect the account, then postcli post retry --failed --account {t.account_id}"
                if t.error_kind == "auth"
                else f"look for it on {t.platform}, then postcli post retry {outcome.post_id} --published LINK "
                "(it is there) or --resend (it is not)"
                if t.status == "unknown"
                else f"postcli post retry {outcome.post_id}"
            )
            payload = event(
                "post.failed",
                post_id=outcome.post_id,
                target_id=t.target_id,
                account_id=t.account_id,
                platform=t.platform,
                handle=t.handle,
                error=t.error,
                fix=fix,
            )
            announce(f"post.failed:{t.target_id}:{tries}", payload, cfg)
        if outcome.status == "partial_success":
            payload = event(
                "post.partial",
                post_id=outcome.post_id,
                published=[
                    {"platform": t.platform, "handle": t.handle, "url": t.url}
                    for t in outcome.targets
                    if t.status == "completed"
                ],
                failed=[{"platform": t.platform, "handle": t.handle, "error": t.error} for t in failed],
                fix=f"postcli post retry {outcome.post_id}",
            )
            announce(f"post.partial:{outcome.post_id}:{len(failed)}", payload, cfg)
        if outcome.status == "completed" and "post.published" in cfg.events:
            payload = event(
                "post.published",
                post_id=outcome.post_id,
                targets=[{"platform": t.platform, "handle": t.handle, "url": t.url} for t in outcome.targets],
            )
            announce(f"post.published:{outcome.post_id}", payload, cfg)


def _attempts(target_ids: list[int]) -> dict[int, int]:
    if not target_ids:
        return {}
    from sqlalchemy import select

    with session_scope(readonly=True) as session:
        rows = session.execute(select(PostTarget.id, PostTarget.attempt_count).where(PostTarget.id.in_(target_ids)))
        return {tid: n for tid, n in rows}


def after_due(report: DueReport) -> None:
    after_publish(report.published)
    cfg = notify_delivery.config()
    lateness = settings.config().publish_max_lateness_minutes
    for post_id in report.expired:
        payload = event(
            "post.overdue",
            post_id=post_id,
            error=f"the post was more than {lateness} minutes late and was not published",
            fix=f"postcli post schedule {post_id} --at WHEN (or postcli post publish {post_id})",
        )
        announce(f"post.overdue:{post_id}", payload, cfg)
    sweep_accounts()


def after_collect(report: CollectReport) -> None:
    cfg = notify_delivery.config()
    for name, why in report.account_errors:
        announce(f"collect.failed:{name}:{why[:120]}", event("collect.failed", handle=name, error=why), cfg)
    if report.dead:
        payload = event(
            "collect.failed",
            error=f"{report.dead} collection job(s) failed too often and were set aside (dead-lettered)",
            fix="postcli jobs list --dead, then postcli jobs retry --all-dead",
        )
        announce(f"collect.failed:dead:{_iso(utcnow())}", payload, cfg)
    sweep_accounts()


def sweep_accounts(*, now: datetime | None = None) -> None:
    """account.needs_reconnect for every account that needs it (once per break) and
    account.expires_soon for a token or session that ends within [doctor] expiry_warning_days
    (run after the commands that refresh what they can, so only what postcli cannot renew
    itself is left to announce)."""
    from sqlalchemy import select

    from postcli.services.accounts import reconnect_hint

    now = now or utcnow()
    window = timedelta(days=settings.config().doctor_expiry_warning_days)
    cfg = notify_delivery.config()
    with session_scope(readonly=True) as session:
        accounts = list(session.scalars(select(Account).where(Account.removed_at.is_(None))))
        rows = [(a.id, a.platform, a.handle, a.status, a.token_expires_at, reconnect_hint(a)) for a in accounts]
    working = [account_id for account_id, _p, _h, status, _e, _hint in rows if status != "token_expired"]
    if working:  # connected again: a later break is news again
        _clear_reconnected(working)
    for account_id, platform, handle, status, expires, hint in rows:
        if status == "token_expired":
            payload = event(
                "account.needs_reconnect", account_id=account_id, platform=platform, handle=handle, fix=hint
            )
            announce(f"account.needs_reconnect:{account_id}", payload, cfg)
            continue
        if expires is None:
            continue
        ends = expires if expires.tzinfo else expires.replace(tzinfo=timezone.utc)
        if now <= ends <= now + window:
            payload = event(
                "account.expires_soon",
                account_id=account_id,
                platform=platform,
                handle=handle,
                expires_at=_iso(ends),
                fix=hint,
            )
            announce(f"account.expires_soon:{account_id}:{_iso(ends)}", payload, cfg)


def _clear_reconnected(account_ids: list[int]) -> None:
    from sqlalchemy import delete

    keys = [f"account.needs_reconnect:{i}" for i in account_ids]
    with session_scope() as session:
        session.execute(delete(Notification).where(Notification.key.in_(keys)))


def failures_since(since: datetime | None) -> list[dict[str, Any]]:
    """Deliveries that failed (for doctor), newest first."""
    from sqlalchemy import select

    with session_scope(readonly=True) as session:
        q = select(Notification).where(Notification.status == "failed").order_by(Notification.id.desc()).limit(20)
        if since is not None:
            q = q.where(Notification.created_at >= since)
        return [{"event": n.event, "at": _iso(n.created_at), "error": n.error} for n in session.scalars(q)]
