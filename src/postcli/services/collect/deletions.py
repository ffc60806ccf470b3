"""When a post the platform no longer shows counts as deleted (DESIGN.md "Collection rules").

An adapter answers None for a post that is gone (base.py). That is final: the
target becomes `deleted` and is never fetched again, on every platform, with one
exception. A platform whose reads lag behind its writes declares it on its
adapter class as `deletion_grace` (Bluesky: the AppView indexes a new post a few
seconds after the PDS accepts it). Within that grace after publishing, a post the
platform does not show and that no snapshot has ever seen is "not visible yet"
rather than deleted. A post seen before is deleted at once: it was indexed, so its
absence is not lag.

A platform that hides posts without deleting them, and does not say which it did,
declares `absence_is_deletion = False` (TikTok: its API lists public videos only,
hides those under review, and has no delete endpoint). Its absent posts are never
marked deleted: each time they are "not visible on the platform", their last
numbers kept, and the next run asks again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Iterable

from postcli.platforms.registry import adapter_class

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

NO_GRACE = timedelta(0)
# A job's note, and `analytics refresh`'s word, for a post of a platform that hides posts without deleting them.
HIDDEN_NOTE = "not visible on the platform now (hidden, private, under review or deleted: it does not say which)"


def absence_is_deletion(platform: str) -> bool:
    """Whether a post the platform no longer shows is deleted (most) or only not visible now
    (a platform that hides posts without saying why: AdapterBase.absence_is_deletion)."""
    return bool(adapter_class(platform).absence_is_deletion)


def grace_for(platform: str) -> timedelta:
    """The platform's indexing lag as its adapter declares it; none unless declared."""
    grace = adapter_class(platform).deletion_grace
    return grace if isinstance(grace, timedelta) and grace > NO_GRACE else NO_GRACE


def in_grace(grace: timedelta, completed_at: datetime | None, now: datetime) -> bool:
    """Published so recently that an absence may be indexing lag (a candidate for `not_yet_visible`)."""
    return bool(grace) and completed_at is not None and now - completed_at < grace


def ever_seen(session: Session, target_ids: Iterable[int]) -> set[int]:
    """The targets among `target_ids` that have at least one snapshot."""
    from sqlalchemy import select

    from postcli.store.models import PostMetricLatest

    ids = sorted(set(target_ids))
    seen: set[int] = set()
    for i in range(0, len(ids), 500):
        seen.update(
            session.scalars(select(PostMetricLatest.target_id).where(PostMetricLatest.target_id.in_(ids[i : i + 500])))
        )
    return seen


def unindexed(session: Session, absent: list[tuple[int, datetime | None, datetime, timedelta]]) -> set[int]:
    """Among absent targets [(target_id, completed_at, fetched_at, grace)], those to leave
    alone this time: within their platform's grace and never seen. The rest are deleted."""
    early = {tid for tid, completed_at, now, grace in absent if in_grace(grace, completed_at, now)}
    return early - ever_seen(session, early) if early else set()


def not_yet_visible(
    session: Session, candidates: dict[int, datetime | None], grace: timedelta, now: datetime
) -> set[int]:
    """Among absent targets {target_id: completed_at}, those to leave alone this time:
    within the platform's grace and never seen in a snapshot. Every other one is deleted."""
    return unindexed(session, [(tid, completed_at, now, grace) for tid, completed_at in candidates.items()])
