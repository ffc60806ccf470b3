"""`postcli post retry --failed`: after a reconnect, every failed target again, each through the
same no-duplicate path as `post retry ID` (a target whose outcome was unknown is looked for on
the platform first, so one that had gone through is reconciled, not sent twice)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from postcli.errors import BadState
from postcli.services.posts.results import PublishOutcome
from postcli.store.session import session_scope


@dataclass
class RetryReport:
    waiting: list[dict[str, Any]]  # the failed targets found (all of them, on a dry run)
    outcomes: list[PublishOutcome] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (post id, why it was not retried)

    @property
    def retried_targets(self) -> set[int]:
        return {w["target_id"] for w in self.waiting}

    @property
    def exit_code(self) -> int:
        from postcli.services import exit_codes

        mine = [t for o in self.outcomes for t in o.targets if t.target_id in self.retried_targets]
        # "unknown": a retry found the platform cannot tell (errors.OutcomeUnknown): the user must look.
        kinds = [t.error_kind or "error" for t in mine if t.status in ("failed", "unknown")]
        kinds += ["error"] * len(self.errors)
        return exit_codes.for_failures(kinds, succeeded=any(t.status == "completed" for t in mine))


def failed_targets(
    *, account: str | None = None, platform: str | None = None, since: datetime | None = None
) -> list[dict[str, Any]]:
    """Failed targets (unknown outcomes included), oldest post first; `since` compares the
    target's last attempt."""
    from sqlalchemy import select

    from postcli.services import accounts as accounts_svc
    from postcli.store.models import Account, Post, PostTarget

    with session_scope(readonly=True) as session:
        q = (
            select(PostTarget, Account.handle)
            .join(Account, Account.id == PostTarget.account_id)
            .join(Post, Post.id == PostTarget.post_id)
            .where(PostTarget.status == "failed", Post.status.in_(("failed", "partial_success")))
            .where(Account.removed_at.is_(None))
            .order_by(PostTarget.post_id, PostTarget.id)
        )
        if account is not None:
            q = q.where(PostTarget.account_id == accounts_svc.get_account(session, account).id)
        if platform is not None:
            q = q.where(PostTarget.platform == platform)
        if since is not None:
            q = q.where(PostTarget.last_attempt_at >= since)
        return [
            {
                "post_id": t.post_id,
                "target_id": t.id,
                "account_id": t.account_id,
                "platform": t.platform,
                "handle": handle,
                "error": t.error,
                "attempts": t.attempt_count,
                "last_attempt_at": t.last_attempt_at,
            }
            for t, handle in session.execute(q)
        ]


def waiting_for(account_id: int) -> int:
    """How many failed targets wait for this account (accounts add/login say so)."""
    return len(failed_targets(account=str(account_id)))


def retry_failed(
    *, account: str | None = None, platform: str | None = None, since: datetime | None = None, dry_run: bool = False
) -> RetryReport:
    from postcli.services.posts.publish import retry_post

    waiting = failed_targets(account=account, platform=platform, since=since)
    report = RetryReport(waiting=waiting)
    if dry_run:
        return report
    by_post: dict[int, set[int]] = {}
    for w in waiting:
        by_post.setdefault(w["post_id"], set()).add(w["target_id"])
    for post_id, targets in by_post.items():
        try:
            report.outcomes.append(retry_post(post_id, only=targets))
        except BadState as exc:  # another process has it right now, or it changed meanwhile
            report.errors.append((post_id, exc.message))
    return report
