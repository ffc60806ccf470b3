"""One post's numbers: latest snapshot per target, totals, history, and live refresh."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from postcli import metrics, settings
from postcli.errors import AuthFailed, BadState, NotFound, PlatformError, RateLimited
from postcli.platforms.base import METRIC_KEYS
from postcli.services import accounts as accounts_svc
from postcli.services.collect import deletions
from postcli.services.publishing import get_post
from postcli.services.snapshots import latest_followers, record_post_snapshot
from postcli.store.models import Post, PostMetricLatest, PostMetricSnapshot, PostTarget, utcnow
from postcli.store.session import session_scope

UNPUBLISHED = ("draft", "scheduled", "pending", "cancelled")
TOTAL_KEYS = ("impressions", "reach", "views", "likes", "comments", "shares", "quotes", "saves", "clicks",
              "video_views", "engagement")


def _published_post(session, post_id: int | str) -> Post:  # type: ignore[no-untyped-def]
    post = get_post(session, post_id)
    if post.status in UNPUBLISHED or not any(t.platform_post_id for t in post.targets):
        raise BadState(
            f"analytics are only available after a post is published (post {post.id} is {post.status}).",
            hint=f"Publish it with `postcli post publish {post.id}`." if post.status in ("draft", "scheduled") else None,
        )
    return post


def _targets(post: Post, platform: str | None) -> list[PostTarget]:
    targets = [t for t in post.targets if t.platform_post_id]
    if platform:
        targets = [t for t in targets if t.platform == platform]
        if not targets:
            raise NotFound(f"post {post.id} has no published target on {platform}.")
    return targets


def _row(target: PostTarget, snap: Any) -> dict[str, Any]:
    values = {k: getattr(snap, k) if snap is not None else None for k in METRIC_KEYS}
    engagement = snap.engagement if snap is not None else None
    follower_count = snap.follower_count if snap is not None else None
    return {
        "target_id": target.id,
        "platform": target.platform,
        "handle": target.account.handle,
        "status": target.status,
        "url": target.platform_post_url,
        **values,
        "engagement": engagement,
        "follower_count": follower_count,
        "engagement_rate": metrics.engagement_rate(engagement, follower_count),
        "virality": metrics.virality(values["shares"], engagement),
        "captured_at": snap.captured_at if snap is not None else None,
    }


def totals(rows: list[dict[str, Any]]) -> dict[str, int | None]:
    """Sums of reported values only: NULL + NULL = NULL, 3 + NULL = 3."""
    return {f"total_{k}": metrics.total(r[k] for r in rows) for k in TOTAL_KEYS}


def post_analytics(post_id: int | str, *, platform: str | None = None, history: bool = False) -> dict[str, Any]:
    from sqlalchemy import select

    with session_scope() as session:
        post = _published_post(session, post_id)
        targets = _targets(post, platform)
        rows = [_row(t, session.get(PostMetricLatest, t.id)) for t in targets]
        result: dict[str, Any] = {
            "post_id": post.id,
            "status": post.status,
            "published_at": post.published_at,
            "text": post.text,
            "metrics_by_target": rows,
            "aggregated_metrics": totals(rows),
            "collected": any(r["captured_at"] is not None for r in rows),
            "needs_reconnect": sorted({f"{t.platform}:{t.account.handle}" for t in targets if t.account.status == "token_expired"}),
        }
        if history:
            snaps = session.scalars(
                select(PostMetricSnapshot)
                .where(PostMetricSnapshot.target_id.in_([t.id for t in targets]))
                .order_by(PostMetricSnapshot.captured_at, PostMetricSnapshot.id)
            )
            by_id = {t.id: t for t in targets}
            result["history"] = [_row(by_id[s.target_id], s) for s in snaps]
        return result


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
        work = [(t.id, t.platform_post_id, t.account) for t in targets]
    errors: list[dict[str, Any]] = []
    for target_id, platform_post_id, account in work:
        try:
            adapter = accounts_svc.adapter_for(account)
            result = adapter.fetch_post_metrics([platform_post_id])
        except AuthFailed as exc:
            with session_scope(immediate=True) as session:
                accounts_svc.mark_token_expired(session, session.get(type(account), account.id))
            errors.append({"target_id": target_id, "platform": account.platform, "error": exc.message, "kind": "auth"})
            continue
        except PlatformError as exc:
            errors.append({"target_id": target_id, "platform": account.platform, "error": exc.message, "kind": "platform"})
            continue
        with session_scope(immediate=True) as session:
            target = session.get(PostTarget, target_id)
            m = result.get(platform_post_id)
            if m is None:
                grace = deletions.grace_for(account.platform)
                if deletions.not_yet_visible(session, {target.id: target.completed_at}, grace, now):
                    errors.append({"target_id": target_id, "platform": account.platform, "kind": "platform",
                                   "error": "the platform does not show the post yet; try again in a few minutes"})
                    continue
                target.status = "deleted"
                target.error = "deleted on the platform"
                continue
            followers = latest_followers(session, account.id)
            record_post_snapshot(session, target, m, now, follower_count=followers)
    if work and len(errors) == len(work):
        # Nothing was fetched: do not spend the user's refresh allowance on it.
        with session_scope(immediate=True) as session:
            session.get(Post, pid).last_refresh_at = previous_refresh
    data = post_analytics(pid, platform=platform)
    data["refreshed_at"] = now
    data["errors"] = errors
    return Refreshed(data)
