"""The numbers of a thread: every part is fetched with its target (in the same batches as the
posts, `collect` and `analytics refresh` alike); the target's snapshot holds the sum over its
parts (NULL-aware: a counter no part reports stays NULL), so the reports count a thread as
one post with the sum of its parts; each part's own latest counters are kept on its record
(`target_parts.metrics`) for `analytics post ID --by-part`.

A first comment is never fetched and never counted: its likes are the comment's, not the post's.
A part the platform no longer has is marked deleted and left out of the sum; a thread whose
first part is gone is deleted, as a post is.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from postcli import metrics
from postcli.platforms.base import PostMetrics

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# (part record id, its platform post id), every published part of a thread, the first included.
Parts = tuple[tuple[int, str], ...]


def parts_of(session: Session, target_ids: Iterable[int]) -> dict[int, Parts]:
    """The published parts of each target that is a thread (targets of one post: none)."""
    from sqlalchemy import select

    from postcli.store.models import TargetPart

    ids = list(target_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(TargetPart.target_id, TargetPart.id, TargetPart.platform_post_id)
        .where(TargetPart.target_id.in_(ids), TargetPart.kind == "part", TargetPart.status == "completed")
        .where(TargetPart.platform_post_id.is_not(None))
        .order_by(TargetPart.target_id, TargetPart.position)
    ).all()
    out: dict[int, list[tuple[int, str]]] = {}
    for target_id, part_id, post_id in rows:
        out.setdefault(target_id, []).append((part_id, str(post_id)))
    return {t: tuple(parts) for t, parts in out.items() if len(parts) > 1}


def ids_to_fetch(head: str | None, parts: Parts) -> list[str]:
    return list(dict.fromkeys([*([head] if head else []), *(pid for _, pid in parts)]))


def combine(head: PostMetrics, parts: Sequence[PostMetrics | None]) -> PostMetrics:
    """The thread's counters: each the sum of what its parts report (the head is part 1)."""
    shown = [head, *(m for m in parts if m is not None)]
    values = {k: metrics.total(getattr(m, k) for m in shown) for k in metrics.COUNTERS}
    return PostMetrics(**values, raw={**head.raw, "thread_parts": len(shown)})


def thread_metrics(
    head_id: str, parts: Parts, results: Mapping[str, PostMetrics | None]
) -> tuple[PostMetrics | None, list[tuple[int, PostMetrics | None]]]:
    """(the target's metrics: the sum, None when its first part is gone; each part's own)."""
    head = results.get(head_id)
    own = [(part_id, results.get(pid)) for part_id, pid in parts]
    if head is None:
        return None, own
    later = [m for (_part_id, pid), (_, m) in zip(parts, own) if pid != head_id]
    return combine(head, later), own


def record_parts(session: Session, rows: Sequence[tuple[int, PostMetrics | None]], captured_at: datetime) -> None:
    """Each part's own latest counters; a part the platform no longer has is marked deleted."""
    from sqlalchemy import update

    from postcli.store.models import TargetPart

    seen = [{"id": part_id, "metrics": m.as_dict(), "metrics_at": captured_at} for part_id, m in rows if m is not None]
    gone = [part_id for part_id, m in rows if m is None]
    if seen:
        session.execute(update(TargetPart), seen)
    if gone:
        session.execute(
            update(TargetPart).where(TargetPart.id.in_(gone)).values(status="deleted", error="deleted on the platform"),
            execution_options={"synchronize_session": False},
        )
