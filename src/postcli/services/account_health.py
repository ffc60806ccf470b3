"""Account metrics (live, with a snapshot fallback) and health probes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from postcli.errors import AuthFailed, PlatformError
from postcli.platforms.registry import make_adapter
from postcli.services import accounts as accounts_svc
from postcli.services.snapshots import record_account_snapshot
from postcli.store.models import Account, AccountMetricSnapshot, utcnow
from postcli.store.session import session_scope

_FIELDS = ("followers", "following", "posts_count", "impressions", "reach", "profile_views")


@dataclass(frozen=True)
class AccountMetrics:
    """`accounts metrics`: what to show, and whether the account needs reconnecting
    (then the numbers are the latest snapshot, not live)."""

    data: dict[str, Any]
    reconnect: bool = False

    @property
    def exit_code(self) -> int:
        from postcli.services.exit_codes import for_reconnect

        return for_reconnect(self.reconnect)


def _snap_dict(account: Account, snap: AccountMetricSnapshot, source: str) -> dict[str, Any]:
    return {
        "account_id": account.id,
        "platform": account.platform,
        "handle": account.handle,
        "source": source,
        **{k: getattr(snap, k) for k in _FIELDS},
        "raw": snap.raw,
        "captured_at": snap.captured_at,
    }


def account_metrics(ref: str, *, now: datetime | None = None) -> AccountMetrics:
    """Live first (stored as a snapshot); the latest snapshot when the platform can't be reached."""
    now = now or utcnow()
    with session_scope() as session:
        account = accounts_svc.get_account(session, ref)
    warning = None
    reconnect = accounts_svc.needs_reconnect(account)
    if not reconnect:
        try:
            m = accounts_svc.adapter_for(account).fetch_account_metrics()
        except AuthFailed:
            with session_scope(immediate=True) as session:
                row = session.get(Account, account.id)
                if row is not None:
                    accounts_svc.mark_token_expired(session, row)
            reconnect = True
        except PlatformError as exc:
            warning = f"live metrics unavailable ({exc.message}); showing the latest snapshot."
        else:
            with session_scope() as session:
                snap = record_account_snapshot(session, account.id, m, now)
                session.flush()
                return AccountMetrics({**_snap_dict(account, snap, "live"), "warning": None, "needs_reconnect": False})
    if reconnect:
        warning = f"the account needs reconnecting. {accounts_svc.reconnect_hint(account)}"
    return AccountMetrics({**_latest_snapshot(account, warning), "needs_reconnect": reconnect}, reconnect)


def _latest_snapshot(account: Account, warning: str | None) -> dict[str, Any]:
    from sqlalchemy import select

    with session_scope() as session:
        snap = session.scalars(
            select(AccountMetricSnapshot)
            .where(AccountMetricSnapshot.account_id == account.id)
            .order_by(AccountMetricSnapshot.captured_at.desc())
            .limit(1)
        ).first()
        if snap is None:
            # The same keys as a real answer, all NULL: a script reads one shape.
            return {
                "account_id": account.id,
                "platform": account.platform,
                "handle": account.handle,
                "source": None,
                **{k: None for k in _FIELDS},
                "raw": None,
                "captured_at": None,
                "metrics": None,
                "message": "No metrics collected yet for this account.",
                "warning": warning,
            }
        return {**_snap_dict(account, snap, "snapshot"), "warning": warning}


def account_metrics_series(ref: str, since: datetime | None, until: datetime | None) -> dict[str, Any]:
    from sqlalchemy import select

    with session_scope() as session:
        account = accounts_svc.get_account(session, ref, include_removed=True)
        q = select(AccountMetricSnapshot).where(AccountMetricSnapshot.account_id == account.id)
        if since:
            q = q.where(AccountMetricSnapshot.captured_at >= since)
        if until:
            q = q.where(AccountMetricSnapshot.captured_at < until)
        snaps = session.scalars(q.order_by(AccountMetricSnapshot.captured_at))
        return {
            "account_id": account.id,
            "platform": account.platform,
            "handle": account.handle,
            "data": [
                {
                    k: v
                    for k, v in _snap_dict(account, s, "snapshot").items()
                    if k not in ("account_id", "platform", "handle", "source")
                }
                for s in snaps
            ],
        }


@dataclass(frozen=True)
class Health:
    """`accounts health`: a row per account probed, and the exit code they make."""

    rows: list[dict[str, Any]]

    @property
    def exit_code(self) -> int:
        from postcli.services.exit_codes import for_reconnect

        return for_reconnect(any(r["needs_reconnect"] for r in self.rows))


def health(ref: str | None = None, *, now: datetime | None = None) -> Health:
    """A live probe per account (the adapter refreshes a token near expiry first)."""
    now = now or utcnow()
    with session_scope() as session:
        accounts = [accounts_svc.get_account(session, ref)] if ref else accounts_svc.list_accounts(session)
    results = []
    for account in accounts:
        checked_live = False
        healthy = False
        error_code = account.error_code
        message = None
        expires = account.token_expires_at
        if account.status == "disabled":
            message = "disabled"
        else:
            checked_live = True
            ctx = accounts_svc.context_for(account)
            try:
                res = make_adapter(ctx).check_health()
            except AuthFailed as exc:
                res = None
                error_code = "token_expired"
                message = exc.message
            except PlatformError as exc:
                res = None
                error_code = "unreachable"
                message = exc.message
            finally:
                # A refresh may have learnt something (e.g. the real token expiry).
                accounts_svc.save_settings_if_changed(ctx)
            if res is not None:
                healthy = res.ok
                error_code = None if res.ok else (res.error_code or "error")
                message = res.message
                expires = res.token_expires_at or expires
        # IMMEDIATE: read-then-write, and a concurrent `collect` may hold the write lock.
        with session_scope(immediate=True) as session:
            acc = session.get(Account, account.id)
            if acc is None:  # removed by another postcli during the check
                continue
            if checked_live:
                acc.last_checked_at = now
                if healthy:
                    acc.status = "active"
                    acc.error_code = None
                    acc.token_expires_at = expires
                elif error_code == "token_expired":
                    accounts_svc.mark_token_expired(session, acc)
            status = acc.status
            reconnect = accounts_svc.needs_reconnect(acc)
        results.append(
            {
                "id": account.id,
                "platform": account.platform,
                "handle": account.handle,
                "healthy": healthy,
                "status": status,
                "error_code": None if healthy else error_code,
                "message": message,
                "token_expires_at": expires,
                "checked_live": checked_live,
                "checked_at": now,
                "needs_reconnect": reconnect,
                "reconnect": accounts_svc.reconnect_hint(account) if reconnect else None,
            }
        )
    return Health(results)
