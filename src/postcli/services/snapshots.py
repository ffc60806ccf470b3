"""Writing metric snapshots, and keeping the `latest` and `hourly` tables current.

Every snapshot insert goes through here so the report tables never drift from
the append-only history.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from postcli import metrics
from postcli.store.models import (
    AccountMetricSnapshot,
    PostMetricHourly,
    PostMetricLatest,
    PostMetricSnapshot,
    PostTarget,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from postcli.platforms.base import AccountMetrics, PostMetrics

_COUNTERS = ("impressions", "reach", "views", "likes", "comments", "shares", "quotes", "saves", "clicks", "video_views")


def record_post_snapshot(
    session: Session,
    target: PostTarget,
    m: PostMetrics,
    captured_at: datetime,
    follower_count: int | None = None,
) -> PostMetricSnapshot:
    values: dict[str, Any] = {k: getattr(m, k) for k in _COUNTERS}
    values["engagement"] = metrics.engagement(m.likes, m.comments, m.shares)
    values["follower_count"] = follower_count
    snap = PostMetricSnapshot(target_id=target.id, captured_at=captured_at, raw=m.raw or None, **values)
    session.add(snap)
    session.flush()

    latest = session.get(PostMetricLatest, target.id)
    if latest is None:
        session.add(PostMetricLatest(target_id=target.id, snapshot_id=snap.id, captured_at=captured_at, **values))
    elif latest.captured_at <= captured_at:
        latest.snapshot_id = snap.id
        latest.captured_at = captured_at
        for k, v in values.items():
            setattr(latest, k, v)

    _update_hourly(session, target, captured_at, values)

    if target.last_metrics_at is None or target.last_metrics_at < captured_at:
        target.last_metrics_at = captured_at
    return snap


# The counters the timeline sums; engagement is derived from the other three.
HOURLY_COUNTERS = ("likes", "comments", "shares", "engagement")


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def _update_hourly(session: Session, target: PostTarget, captured_at: datetime, values: dict[str, Any]) -> None:
    hour = hour_of(captured_at)
    counters = {k: values[k] for k in HOURLY_COUNTERS}
    target_id = target.id
    row = session.get(PostMetricHourly, (hour, target_id))
    if row is None:
        session.add(
            PostMetricHourly(
                hour=hour, target_id=target_id, account_id=target.account_id, captured_at=captured_at, **counters
            )
        )
    elif row.captured_at <= captured_at:
        row.captured_at = captured_at
        for k, v in counters.items():
            setattr(row, k, v)
    else:
        return  # an older snapshot of an hour already holding a newer one changes nothing
    session.flush()
    _refresh_deltas(session, target_id, hour)


def _refresh_deltas(session: Session, target_id: int, from_hour: datetime) -> None:
    """Recompute the deltas of `from_hour` and every later hour of the target.

    Later hours exist only when snapshots arrive out of order, so this is usually one row.
    A NULL counter is "not reported", not zero: it gets a NULL delta and is skipped when
    looking for the previous value, so a platform that skips one fetch does not make the
    next one count twice.
    """
    from sqlalchemy import select

    H = PostMetricHourly
    prev: dict[str, int | None] = {}
    before = session.execute(
        select(H).where(H.target_id == target_id, H.hour < from_hour).order_by(H.hour.desc()).limit(1)
    ).scalar_one_or_none()
    for k in HOURLY_COUNTERS:
        value = getattr(before, k) if before is not None else None
        if value is None and before is not None:
            value = session.execute(
                select(getattr(H, k))
                .where(H.target_id == target_id, H.hour < from_hour, getattr(H, k).is_not(None))
                .order_by(H.hour.desc())
                .limit(1)
            ).scalar_one_or_none()
        prev[k] = value
    rows = session.execute(
        select(H).where(H.target_id == target_id, H.hour >= from_hour).order_by(H.hour)
    ).scalars()
    for row in rows:
        for k in HOURLY_COUNTERS:
            value = getattr(row, k)
            setattr(row, f"{k}_delta", None if value is None else value - (prev[k] or 0))
            if value is not None:
                prev[k] = value


def record_account_snapshot(
    session: Session, account_id: int, m: AccountMetrics, captured_at: datetime
) -> AccountMetricSnapshot:
    snap = AccountMetricSnapshot(
        account_id=account_id,
        captured_at=captured_at,
        followers=m.followers,
        following=m.following,
        posts_count=m.posts_count,
        impressions=m.impressions,
        reach=m.reach,
        profile_views=m.profile_views,
        raw=m.raw or None,
    )
    session.add(snap)
    return snap
