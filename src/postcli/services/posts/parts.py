"""Publishing a target part by part: a thread's parts in order, then its first comment.

Each part (and the comment) is a publishing record of its own (`target_parts`), kept by the
same rules as a target's (publish.py): its idempotency key made before any request, marked
`processing` (committed) before its request leaves, reconciled with the platform
(`find_published`, `find_comment`) before it is sent again. So a process killed after part 2
of 4 leaves parts 1 and 2 completed and part 3 pending (or processing: then looked for
first); `post retry` or the next `publish-due` goes on at part 3, as a reply to part 2.

A part that fails stops the thread there: the target is failed with the part named
("part 3 of 4: ..."), and the post partial_success when parts before it went out (the
outcome's `partial`). The target completes, with part 1's id and link, once every part and
the first comment are out.

A part whose outcome cannot be known (errors.OutcomeUnknown: the platform may have it and
gives no way to look) leaves the part and its target `unknown`; nothing more is sent until
the user says, as for a target: `post retry ID --resend` sends that part again,
`--published LINK` records the link found for it, and the thread goes on from there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from postcli.errors import OutcomeUnknown, PlatformError
from postcli.platforms.base import MediaItem, PostRef, PublishRequest, PublishResult
from postcli.secrets_redact import redact
from postcli.services.posts import failures
from postcli.services.posts.results import TargetOutcome
from postcli.store.models import PostTarget, TargetPart, utcnow
from postcli.store.session import session_scope

if TYPE_CHECKING:
    from postcli.store.models import Post


def publish_parts(
    target: PostTarget,
    post: Post,
    adapter: Any,
    media: dict[int, list[MediaItem]],
    base: dict[str, Any],
    unknowns: failures.Unknowns = failures.Unknowns(),
) -> TargetOutcome:
    from postcli.services.posts.fields import with_defaults

    records = sorted((p for p in target.parts if p.kind == "part"), key=lambda p: p.position)
    comments = [p for p in target.parts if p.kind == "comment"]
    fields = with_defaults(target.platform, target.fields)
    failures.mark_processing(PostTarget, target.id)
    head: TargetPart | None = None
    prev: PostRef | None = None
    root: PostRef | None = None
    reconciled = False
    # What the user said (post retry --resend / --published) is about this target's one part
    # whose outcome is unknown.
    said = unknowns if unknowns.target_id in (None, target.id) else failures.Unknowns()
    for rec in records:
        first = rec.position == 1
        req = _request(rec, media.get(rec.position, []), fields, reply_to=prev, root=root)
        if first:
            req.title, req.link = post.title, post.link
        what = f"part {rec.position} of {len(records)}"
        result, found, failure = _publish_one(
            rec, req, (adapter.publish, adapter.find_published), post.id, target, said, type(adapter)
        )
        if failure is not None:
            return _stopped(target.id, base, what, failure, partial=prev is not None)
        assert result is not None
        reconciled = reconciled or found
        ref = PostRef(result.platform_post_id, dict(result.ref))
        prev, root = ref, root or ref
        if first:
            head = rec
    for rec in comments:
        # The first comment goes under the post (a thread: under its first part).
        req = _request(rec, [], fields, reply_to=root, root=root)
        result, found, failure = _publish_one(
            rec, req, (adapter.publish_comment, adapter.find_comment), post.id, target, said, type(adapter)
        )
        if failure is not None:
            return _stopped(target.id, base, "first comment", failure, partial=True)
        reconciled = reconciled or found
    assert head is not None
    url = _complete_target(target.id, head.id)
    return TargetOutcome(**base, status="completed", url=url, reconciled=reconciled, parts=_views(target.id))


def _request(
    rec: TargetPart, media: list[MediaItem], fields: dict[str, Any], *, reply_to: PostRef | None, root: PostRef | None
) -> PublishRequest:
    return PublishRequest(
        text=rec.text,
        idempotency_key=rec.idempotency_key,
        media=media,
        first_attempt_at=rec.first_attempt_at,
        fields=fields,
        state=dict(rec.publish_state or {}),
        save_state=lambda state: _save_state(rec.id, state),
        reply_to=reply_to,
        thread_root=root,
    )


def _publish_one(
    rec: TargetPart,
    req: PublishRequest,
    calls: tuple[Callable[[PublishRequest], PublishResult], Callable[[PublishRequest], PublishResult | None]],
    post_id: int,
    target: PostTarget,
    said: failures.Unknowns,
    adapter: type[Any],
) -> tuple[PublishResult | None, bool, failures.Failure | None]:
    """(the part as published, whether it was found already out, or why it failed)."""
    send, find = calls
    if rec.status == "completed" and rec.platform_post_id:
        done = PublishResult(rec.platform_post_id, url=rec.platform_post_url, ref=dict(rec.reply_ref or {}))
        return done, False, None
    unknown = rec.status == "unknown"
    if unknown and said.published is not None:
        # The user found this part (its link was read before the claim).
        _complete(rec.id, said.published)
        return said.published, True, None
    try:
        blind = unknown and said.resend  # the user looked and it is not there
        if not blind and (rec.attempt_count > 0 or rec.status in ("processing", "unknown")):
            # An earlier attempt may have reached the platform: look before sending again.
            found = find(req)
            if found is not None:
                _complete(rec.id, found)
                return found, True, None
        failures.mark_processing(TargetPart, rec.id)
        result = send(req)
    except OutcomeUnknown as exc:
        message = f"{redact(exc.message)} {failures.how_to_settle(post_id)}"
        _fail(rec.id, message, status="unknown")
        return None, False, failures.Failure(message, "unknown")
    except PlatformError as exc:
        failure = failures.describe(exc, post_id, target.account, adapter)
        _fail(rec.id, failure.message)
        return None, False, failure
    _complete(rec.id, result)
    return result, False, None


def _stopped(
    target_id: int, base: dict[str, Any], what: str, failure: failures.Failure, *, partial: bool
) -> TargetOutcome:
    message = f"{what}: {failure.message}"
    status = "unknown" if failure.kind == "unknown" else "failed"
    failures.finish_target(target_id, status, error=message, auth_failed=failure.kind == "auth")
    return TargetOutcome(
        **base,
        status=status,
        error=message,
        error_kind=failure.kind,
        retry_at=failure.retry_at,
        partial=partial,
        parts=_views(target_id),
    )


def _views(target_id: int) -> dict[str, Any]:
    from sqlalchemy import select

    from postcli.services.posts.views import PART_COLUMNS, part_views

    with session_scope(readonly=True) as session:
        rows = session.scalars(select(TargetPart).where(TargetPart.target_id == target_id)).all()
        return part_views({c: getattr(p, c) for c in PART_COLUMNS} for p in rows)


# --- the records, each write in its own transaction (a crash right after keeps it) ----------------


def _complete(part_id: int, result: PublishResult) -> None:
    with session_scope() as session:
        part = session.get(TargetPart, part_id)
        assert part is not None
        part.status = "completed"
        part.platform_post_id = result.platform_post_id
        part.platform_post_url = result.url
        part.reply_ref = dict(result.ref) or None
        part.completed_at = result.published_at or utcnow()
        part.error = None
        part.publish_state = None


def _fail(part_id: int, error: str, *, status: str = "failed") -> None:
    with session_scope() as session:
        part = session.get(TargetPart, part_id)
        assert part is not None
        part.status = status
        part.error = error


def _save_state(part_id: int, state: dict[str, Any]) -> None:
    with session_scope() as session:
        part = session.get(TargetPart, part_id)
        assert part is not None
        part.publish_state = dict(state)


def _complete_target(target_id: int, head_id: int) -> str | None:
    """The target is published: it carries its first part's id, link and time."""
    with session_scope() as session:
        target = session.get(PostTarget, target_id)
        head = session.get(TargetPart, head_id)
        assert target is not None and head is not None
        target.status = "completed"
        target.platform_post_id = head.platform_post_id
        target.platform_post_url = head.platform_post_url
        target.completed_at = head.completed_at or utcnow()
        target.error = None
        target.publish_state = None
        return head.platform_post_url
