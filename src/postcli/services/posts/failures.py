"""A failed publishing request as it is stored and shown: the message (what the platform said,
and what to do), its kind for the exit code, and when a rate limit lifts. Shared by a post's
targets (publish.py) and the parts of a thread (parts.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

from postcli.errors import PlatformError
from postcli.platforms.base import AdapterBase, PublishResult
from postcli.secrets_redact import redact
from postcli.services import accounts as accounts_svc
from postcli.services import exit_codes
from postcli.store.models import PostTarget, TargetPart, utcnow
from postcli.store.session import session_scope

if TYPE_CHECKING:
    from postcli.store.models import Account


@dataclass(frozen=True)
class Failure:
    message: str
    kind: str  # a key of exit_codes.FAILURES
    retry_at: datetime | None = None  # a rate limit: when the platform said it lifts


@dataclass(frozen=True)
class Unknowns:
    """What the user said about targets whose outcome is unknown (`post retry`): send them
    again without looking (`resend`), or the link of the post they found (`published`) for
    the target `target_id`. Neither: they are looked for again, never sent blind. A thread's
    part (or first comment) whose outcome is unknown is settled the same way."""

    resend: bool = False
    published: PublishResult | None = None  # the link, as the target's platform read it
    target_id: int | None = None


def describe(exc: PlatformError, post_id: int, account: Account, adapter: type[AdapterBase]) -> Failure:
    kind = exit_codes.kind_of(exc)
    msg = redact(exc.message)
    if kind == "unavailable":
        msg += unknown_outcome_note(adapter, post_id)
    elif kind == "auth":
        msg += " " + accounts_svc.reconnect_hint(account)
    retry_at = None
    if kind == "rate_limited":
        retry_at, lifts_text = lifts(exc)
        msg += f" ({lifts_text}; then `postcli post retry {post_id}`)"
    return Failure(msg, kind, retry_at)


def unknown_outcome_note(adapter: type[AdapterBase], post_id: int) -> str:
    """What a retry does after an outcome nobody knows: where the platform keeps an idempotency
    key or the adapter can look through recent posts, it checks first; otherwise only the user can."""
    if adapter.idempotency_key or adapter.reconciles_by_recent_posts:
        return " (the outcome is unknown; a retry checks the platform first)"
    return (
        f" (the outcome is unknown, and {adapter.platform} offers no way to check it: look at the account"
        f" before `postcli post retry {post_id}`, which sends it again)"
    )


def how_to_settle(post_id: int) -> str:
    return (
        f"postcli sends nothing more until you say: if the post is there, record it with "
        f"`postcli post retry {post_id} --published LINK`; if it is not, send it with "
        f"`postcli post retry {post_id} --resend`."
    )


def lifts(exc: PlatformError) -> tuple[datetime | None, str]:
    """When a rate limit or quota lifts, as a time and as words for the message."""
    seconds = getattr(exc, "retry_after", None)
    if seconds is None:
        return None, "the platform did not say when the limit lifts"
    at = utcnow() + timedelta(seconds=seconds)
    return at, f"rate limited; the limit lifts by {at:%Y-%m-%d %H:%M} UTC"


def finish_target(target_id: int, status: str, *, error: str | None = None, auth_failed: bool = False) -> None:
    with session_scope() as session:
        target = session.get(PostTarget, target_id)
        assert target is not None
        target.status = status
        target.error = error
        if auth_failed:
            accounts_svc.mark_token_expired(session, target.account)


def mark_processing(model: type[PostTarget] | type[TargetPart], row_id: int) -> None:
    """An attempt of a target or of one of its parts starts: written in its own transaction before
    the request leaves, so a crash right after leaves a record that says an attempt was made."""
    now = utcnow()
    with session_scope() as session:
        row = cast("PostTarget | TargetPart | None", session.get(model, row_id))
        assert row is not None
        row.status = "processing"
        row.attempt_count += 1
        row.first_attempt_at = row.first_attempt_at or now
        row.last_attempt_at = now
        row.error = None
