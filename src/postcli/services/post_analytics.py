"""One post's live refresh; its numbers (latest per target, totals, history) are read by post_report.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from postcli import settings
from postcli.errors import AuthFailed, BadState, NotFound, PlatformError, RateLimited
from postcli.platforms.registry import adapter_class
from postcli.services import accounts as accounts_svc
from postcli.services import thread_metrics
from postcli.services.collect import deletions
from postcli.services.post_report import UNPUBLISHED, post_analytics, totals  # noqa: F401 - re-exported
from postcli.services.posts.queries import get_post
from postcli.services.snapshots import latest_followers, record_post_snapshot
from postcli.store.models import Post, PostTarget, utcnow
from postcli.store.session import session_scope

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _published_post(session: Session, post_id: int | str) -> Post:
    post = get_post(session, post_id)
    if post.status in UNPUBLISHED or not any(t.platform_post_id for t in post.targets):
        raise BadState(
            f"analytics are only available after a post is published (post {post.id} is {post.status}).",
            hint=f"Publish it with `postcli post publish {post.id}`."
            if post.status in ("draft", "scheduled")
            else None,
        )
    return post


def _targets(post: Post, platform: str | None) -> list[PostTarget]:
    targets = [t for t in post.targets if t.platform_post_id]
    if platform:
        targets = [t for t in targets if t.platform == platform]
        if not targets:
            raise NotFound(f"post {post.id} has no published target on {platform}.")
    return targets


@dataclass(frozen=True)
class Refreshed:
    """`analytics refresh`: the post's numbers after the refresh (with `refreshed_at` and
    `errors`, one per target that could not be fetched) and the exit code they make."""

    data: dict[str, Any]

    @property
    def exit_code(self) -> int:
        from postcli.services.exit_codes import for_refresh

        return for_refresh(e["kind"] for e in self.data["errors"])


def refresh(post_id: int | str, *, platform: str | None = None, now: datetime | None = None) -> Refreshed:
    """Fetch live now and store a snapshot; at most once per refresh interval per post."""
    now = now or utcnow()
    interval = timedelta(minutes=settings.config().refresh_interval_minutes)
    with session_scope(immediate=True) as session:
        post = _published_post(session, post_id)
        targets = [t for t in _targets(post, platform) if t.status == "completed"]
        if post.last_refresh_at is not None and now - post.last_refresh_at < interval:
            allowed = post.last_refresh_at + interval
            raise RateLimited(
                f"post {post.id} was refreshed at {post.last_refresh_at:%H:%M} UTC; the next refresh is allowed "
                f"at {allowed:%Y-%m-%d %H:%M} UTC.",
                retry_at=allowed,
                hint="Change [collect] refresh_interval_minutes to allow it more often.",
            )
        previous_refresh = post.last_refresh_at
        post.last_refresh_at = now
        pid = post.id
        # A platform without numbers per post (Google Business Profile) is not asked at all.
        work = [
            (t.id, t.platform_post_id, t.account)
            for t in targets
            if t.platform_post_id is not None and adapter_class(t.platform).has_metrics
        ]
        threads = thread_metrics.parts_of(session, [t for t, _, _ in work])
    errors: list[dict[str, Any]] = []
    for target_id, platform_post_id, account in work:
        parts = threads.get(target_id, ())
        try:
            adapter = accounts_svc.adapter_for(account)
            result = adapter.fetch_post_metrics(thread_metrics.ids_to_fetch(platform_post_id, parts))
        except AuthFailed as exc:
            with session_scope(immediate=True) as session:
                stored = session.get(type(account), account.id)
                if stored is not None:
                    accounts_svc.mark_token_expired(session, stored)
            errors.append({"target_id": target_id, "platform": account.platform, "error": exc.message, "kind": "auth"})
            continue
        except PlatformError as exc:
            errors.append(
                {"target_id": target_id, "platform": account.platform, "error": exc.message, "kind": "platform"}
            )
            continue
        with session_scope(immediate=True) as session:
            target = session.get(PostTarget, target_id)
            if target is None:  # deleted locally meanwhile: nothing to record against
                continue
            m = result.get(platform_post_id)
            if parts:
                m, own = thread_metrics.thread_metrics(platform_post_id, parts, result)
                thread_metrics.record_parts(session, own, now)
            if m is None and not deletions.absence_is_deletion(account.platform):
                errors.append(
                    {
                        "target_id": target_id,
                        "platform": account.platform,
                        "kind": "platform",
                        "error": f"the post is {deletions.HIDDEN_NOTE}; its last numbers are kept",
                    }
                )
                continue
            if m is None:
                grace = deletions.grace_for(account.platform)
                if deletions.not_yet_visible(session, {target.id: target.completed_at}, grace, now):
                    errors.append(
                        {
                            "target_id": target_id,
                            "platform": account.platform,
                            "kind": "platform",
                            "error": "the platform does not show the post yet; try again in a few minutes",
                        }
                    )
                    continue
                target.status = "deleted"
                target.error = "deleted on the platform"
                continue
            followers = latest_followers(session, account.id)
            if m.resolved is not None:
                target.platform_post_id = m.resolved.platform_post_id
                target.platform_post_url = m.resolved.url
            record_post_snapshot(session, target, m, now, follower_count=followers)
    if not work or len(errors) == len(work):
        # Nothing was fetched: do not spend the user's refresh allowance on it.
        with session_scope(immediate=True) as session:
            stored_post = session.get(Post, pid)
            if stored_post is not None:
                stored_post.last_refresh_at = previous_refresh
    data = post_analytics(pid, platform=platform)
    data["refreshed_at"] = now
    data["errors"] = errors
    return Refreshed(data)
