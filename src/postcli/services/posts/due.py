"""`publish-due`: every scheduled post whose time has come, oldest first; crashed ones resumed.

A post due longer ago than [publish] max_lateness_minutes is not published late
but failed ("expired"); one broken post never stops the posts due after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from postcli import settings
from postcli.errors import BadState, PostcliError
from postcli.secrets_redact import redact
from postcli.services import exit_codes
from postcli.services.posts.publish import PublishOutcome, publish_post
from postcli.services.posts.queries import get_post
from postcli.store.models import Post, utcnow
from postcli.store.session import session_scope


@dataclass
class DueReport:
    published: list[PublishOutcome] = field(default_factory=list)
    expired: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # claimed by another process
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """One code for every post it handled (services/exit_codes.py)."""
        return exit_codes.for_due(self)


def publish_due(*, now: datetime | None = None, limit: int | None = None) -> DueReport:
    """Publish scheduled posts whose time has come, oldest first; resume crashed ones."""
    from sqlalchemy import or_, select

    now = now or utcnow()
    max_late = timedelta(minutes=settings.config().publish_max_lateness_minutes)
    report = DueReport()
    with session_scope() as session:
        due = list(
            session.execute(
                select(Post.id, Post.status, Post.scheduled_at)
                .where(
                    or_(
                        (Post.status == "scheduled") & (Post.scheduled_at <= now),
                        (Post.status == "pending"),
                        (Post.status == "processing"),
                    )
                )
                .order_by(Post.scheduled_at.is_(None), Post.scheduled_at, Post.id)
            )
        )
    for post_id, status, scheduled_at in due[: limit or None]:
        note = None
        if status == "scheduled" and scheduled_at is not None:
            lateness = now - scheduled_at
            if lateness > max_late:
                if _expire(post_id, lateness, now):
                    report.expired.append(post_id)
                continue
            if lateness > timedelta(minutes=5):
                note = f"published {_human(lateness)} late (the machine was off or cron did not run)"
        try:
            report.published.append(
                publish_post(post_id, allowed=("scheduled", "pending", "processing"), now=now, note=note)
            )
        except BadState:
            report.skipped.append(post_id)
        except PostcliError as exc:
            # One broken post must not stop the posts due after it.
            report.errors.append((post_id, redact(exc.message)))
    return report


def _expire(post_id: int, lateness: timedelta, now: datetime) -> bool:
    with session_scope(immediate=True) as session:
        post = get_post(session, post_id)
        if post.status != "scheduled":
            return False
        post.status = "failed"
        post.last_error = (
            f"not published: it was due {_human(lateness)} ago, more than the allowed lateness "
            f"({settings.config().publish_max_lateness_minutes} minutes, [publish] max_lateness_minutes)."
        )
        for t in post.targets:
            if t.status == "pending":
                t.status = "failed"
                t.error = post.last_error
        post.updated_at = now
        return True


def _human(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} days"
