"""`publish-due`: every scheduled post whose time has come, oldest first; crashed ones resumed.

A post due longer ago than [publish] max_lateness_minutes is not published late
but failed ("expired"); one broken post never stops the posts due after it.

The run lists the due posts once, then takes them one at a time; each is read again
in the transaction that claims it (`_take`, the one claim check), so a post
rescheduled, edited, cancelled, published or deleted since the list was made is
judged as it is now: skipped, never published at its old time, and never a failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from postcli import settings
from postcli.errors import BadState, PostcliError
from postcli.secrets_redact import redact
from postcli.services.posts.publish import claim, publish_claimed
from postcli.services.posts.queries import loaded
from postcli.services.posts.results import DueReport
from postcli.store.models import Post, utcnow
from postcli.store.session import session_scope

__all__ = ["DueReport", "publish_due"]

RESUMABLE = ("pending", "processing")


def publish_due(*, now: datetime | None = None, limit: int | None = None) -> DueReport:
    """Publish scheduled posts whose time has come, oldest first; resume crashed ones."""
    from sqlalchemy import or_, select

    now = now or utcnow()
    max_late = timedelta(minutes=settings.config().publish_max_lateness_minutes)
    report = DueReport()
    with session_scope() as session:
        due = list(
            session.scalars(
                select(Post.id)
                .where(
                    or_(
                        (Post.status == "scheduled") & (Post.scheduled_at <= now),
                        Post.status.in_(RESUMABLE),
                    )
                )
                .order_by(Post.scheduled_at.is_(None), Post.scheduled_at, Post.id)
            )
        )
    for post_id in due[: limit or None]:
        try:
            taken = _take(post_id, now, max_late)
            if isinstance(taken, _Skip):
                report.skipped.append((post_id, taken.why))
            elif isinstance(taken, _Expired):
                report.expired.append(post_id)
            else:
                report.published.append(publish_claimed(taken.post, note=taken.note))
        except PostcliError as exc:
            # One broken post must not stop the posts due after it.
            report.errors.append((post_id, redact(exc.message)))
    return report


@dataclass
class _Claimed:
    post: Post
    note: str | None


@dataclass
class _Skip:
    why: str


class _Expired:
    pass


def _take(post_id: int, now: datetime, max_late: timedelta) -> _Claimed | _Skip | _Expired:
    """The one claim check: the post as it is now, judged and claimed (or expired) in one
    write transaction, so no change made since the run listed it can slip between."""
    with session_scope(immediate=True) as session:
        post = session.get(Post, post_id)
        if post is None:
            return _Skip("deleted after this run found it due")
        note = None
        if post.status == "scheduled":
            if post.scheduled_at is None or post.scheduled_at > now:
                when = f" to {post.scheduled_at:%Y-%m-%d %H:%M} UTC" if post.scheduled_at else ""
                return _Skip(f"rescheduled{when} after this run found it due")
            lateness = now - post.scheduled_at
            if lateness > max_late:
                _expire(post, lateness, now)
                return _Expired()
            if lateness > timedelta(minutes=5):
                note = f"published {_human(lateness)} late (the machine was off or cron did not run)"
        elif post.status not in RESUMABLE:
            return _Skip(f"{post.status} after this run found it due")
        try:
            claim(post, ("scheduled", *RESUMABLE))
        except BadState as exc:
            return _Skip(exc.message)  # another live process is publishing it
        post.updated_at = now
        return _Claimed(loaded(post), note)


def _expire(post: Post, lateness: timedelta, now: datetime) -> None:
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


def _human(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} days"
