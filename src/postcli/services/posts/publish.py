"""Publishing a post so that nothing is ever posted twice or lost.

The rules (DESIGN.md "Publishing rules"):
- a target's idempotency key is stored before its first request (compose.py);
- a target is marked `processing` (committed) before the request leaves, so a
  crash leaves evidence; any target attempted before is reconciled with the
  platform (`find_published`) before it is sent again;
- one post is published by one process at a time (a claim with an owner and a
  lease; a dead owner's claim is taken over);
- where the platform cannot be asked (errors.OutcomeUnknown), the target is marked
  `unknown` and sent again only when the user says so (`post retry ID --resend`), or
  recorded from the link the user found (`post retry ID --published URL`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from postcli import settings
from postcli.errors import BadState, InvalidInput, OutcomeUnknown, PlatformError, PostcliError
from postcli.platforms.base import MediaItem, PublishRequest, PublishResult
from postcli.platforms.registry import adapter_class, make_adapter
from postcli.secrets_redact import redact
from postcli.services import accounts as accounts_svc
from postcli.services import holders
from postcli.services.posts import failures
from postcli.services.posts import parts as parts_svc
from postcli.services.posts import thread as thread_svc
from postcli.services.posts.failures import (  # noqa: F401 - unknown_outcome_note re-exported
    Unknowns,
    finish_target,
    how_to_settle,
    unknown_outcome_note,
)
from postcli.services.posts.queries import get_post, loaded
from postcli.services.posts.results import PublishOutcome, TargetOutcome
from postcli.services.posts.validation import validate_stored
from postcli.store.models import PostTarget, utcnow
from postcli.store.session import session_scope

if TYPE_CHECKING:
    from postcli.store.models import Account, Post

LEASE = timedelta(minutes=10)


def claim(post: Post, allowed: tuple[str, ...]) -> None:
    """Take `post` (read inside the caller's write transaction) for this process; BadState
    when another live process has it or it is not in an `allowed` state.

    A claim held by another process stands until its lease runs out, unless its holder
    is provably dead (services/holders.py): then `post retry` or `publish-due` right
    after a crash does not wait for the lease.
    """
    me = holders.me()
    # Leases are about processes, so they run on the real clock, never a simulated `now`.
    clock = utcnow()
    if post.status == "processing" and post.locked_by and (post.locked_by, post.locked_proc) != (me.owner, me.proc):
        lease_ok = post.locked_until is not None and post.locked_until > clock
        if lease_ok and not holders.provably_dead(post.locked_by, post.locked_proc):
            raise BadState(
                f"post {post.id} is being published by another postcli process ({post.locked_by}).",
                hint=f"Wait for it to finish, then check `postcli post show {post.id}`.",
            )
    elif post.status not in allowed:
        raise BadState(
            f"post {post.id} is {post.status}; this needs a post that is {' or '.join(allowed)}.",
            hint=f"See it with `postcli post show {post.id}`.",
        )
    post.status = "processing"
    post.locked_by = me.owner
    post.locked_proc = me.proc
    post.locked_until = clock + LEASE


def _media_items(post: Post) -> dict[int, MediaItem]:
    """Every stored file of the post (its own and --media-for ones), by row id."""
    from postcli.services import media as media_svc

    return {m.id: media_svc.media_item(m) for m in post.media}


def _request(target: PostTarget, post: Post, media: list[MediaItem]) -> PublishRequest:
    from postcli.services.posts.fields import with_defaults

    return PublishRequest(
        text=target.text_override if target.text_override is not None else post.text,
        idempotency_key=target.idempotency_key,
        media=media,
        first_attempt_at=target.first_attempt_at,
        title=post.title,
        link=post.link,
        fields=with_defaults(target.platform, target.fields),
        state=dict(target.publish_state or {}),
        save_state=lambda state: _save_state(target.id, state),
    )


def _save_state(target_id: int, state: dict[str, Any]) -> None:
    with session_scope() as session:
        target = session.get(PostTarget, target_id)
        assert target is not None
        target.publish_state = dict(state)


def publish_post(
    post_id: int,
    *,
    allowed: tuple[str, ...] = ("pending", "scheduled", "failed", "partial_success", "processing"),
    now: datetime | None = None,
    note: str | None = None,
    only: set[int] | None = None,
    unknowns: Unknowns = Unknowns(),
) -> PublishOutcome:
    """Claim the post, then publish every target of it that is not done yet (`only`: just those
    target ids; the others keep their state and count in the post's status as they are)."""
    now = now or utcnow()
    with session_scope(immediate=True) as session:
        post = get_post(session, post_id)
        claim(post, allowed)
        post.updated_at = now
        post = loaded(post)
    return publish_claimed(post, note=note, only=only, unknowns=unknowns)


def publish_claimed(
    post: Post, *, note: str | None = None, only: set[int] | None = None, unknowns: Unknowns = Unknowns()
) -> PublishOutcome:
    """Publish every target of a post this process has claimed; reconcile before resending."""
    max_attempts = settings.config().publish_max_attempts
    try:
        media = _media_items(post)
    except PostcliError as exc:
        # The media cannot be had (e.g. S3 unreachable): fail the open targets and release
        # the claim, so the post can be retried and later due posts are not held up.
        msg = redact(exc.message)
        failed = []
        for target in post.targets:
            if target.status in ("completed", "deleted", "skipped"):
                continue
            finish_target(target.id, "failed", error=f"media unavailable: {msg}")
            failed.append(
                TargetOutcome(
                    target_id=target.id,
                    account_id=target.account_id,
                    platform=target.platform,
                    handle=target.account.handle,
                    status="failed",
                    error=f"media unavailable: {msg}",
                    error_kind="error",
                )
            )
        done = [
            TargetOutcome(
                target_id=t.id,
                account_id=t.account_id,
                platform=t.platform,
                handle=t.account.handle,
                status=t.status,
                url=t.platform_post_url,
            )
            for t in post.targets
            if t.status == "completed"
        ]
        return _finish_post(post.id, done + failed, note=note)
    outcomes: list[TargetOutcome] = []
    for target in post.targets:
        account = target.account
        base: dict[str, Any] = dict(
            target_id=target.id, account_id=account.id, platform=target.platform, handle=account.handle
        )
        if target.status in ("completed", "deleted", "skipped"):
            outcomes.append(TargetOutcome(**base, status=target.status, url=target.platform_post_url))
            continue
        if only is not None and target.id not in only:
            kind = "unknown" if target.status == "unknown" else "error"
            outcomes.append(TargetOutcome(**base, status=target.status, error=target.error, error_kind=kind))
            continue
        if target.attempt_count >= max_attempts:
            last = (target.error or "unknown error").split(" (raise [publish] max_attempts")[0]
            if last.startswith("gave up after"):
                last = last.split(": ", 1)[-1]
            msg = (
                f"gave up after {target.attempt_count} attempts: {last} "
                f"(raise [publish] max_attempts in the config to try again)"
            )
            finish_target(target.id, "failed", error=msg)
            outcomes.append(TargetOutcome(**base, status="failed", error=msg, error_kind="error"))
            continue
        rows = thread_svc.target_rows(account, post.media, adapter_class(target.platform).threads)
        by_part = {n: [media[m.id] for m in part] for n, part in rows.items()}
        outcomes.append(_publish_target(target, post, account, by_part, unknowns))
    return _finish_post(post.id, outcomes, note=note)


def _publish_target(
    target: PostTarget, post: Post, account: Account, media: dict[int, list[MediaItem]], unknowns: Unknowns
) -> TargetOutcome:
    """Publish one target: its one post, or part by part (a thread, a first comment: parts.py);
    `media`: the files of each part (1: the post's)."""
    base: dict[str, Any] = dict(
        target_id=target.id, account_id=account.id, platform=target.platform, handle=account.handle
    )
    if account.removed_at is not None:
        # Its credentials are gone; trying would end in a misleading "reconnect" (or, for
        # the sandbox, in a post the user no longer wants there).
        msg = (
            f"account removed: the {account.platform} account {account.handle} was removed, so nothing was "
            f"sent to it (add it again with `postcli accounts add {account.platform}`, then "
            f"`postcli post retry {post.id}`)."
        )
        finish_target(target.id, "failed", error=msg)
        return TargetOutcome(**base, status="failed", error=msg, error_kind="removed")
    if account.status == "token_expired":
        msg = f"the {account.platform} account {account.handle} needs reconnecting. {accounts_svc.reconnect_hint(account)}"
        finish_target(target.id, "failed", error=msg)
        return TargetOutcome(**base, status="failed", error=msg, error_kind="auth")
    ctx = accounts_svc.context_for(account)
    try:
        adapter = make_adapter(ctx)
        if target.parts:
            return parts_svc.publish_parts(target, post, adapter, media, base, unknowns)
        return _send(target, post, media.get(1, []), adapter, base, unknowns)
    finally:
        # What the adapter learnt (a refreshed token's expiry, platform settings) is kept.
        accounts_svc.save_settings_if_changed(ctx)


def _send(
    target: PostTarget, post: Post, media: list[MediaItem], adapter: Any, base: dict[str, Any], unknowns: Unknowns
) -> TargetOutcome:
    account = target.account
    req = _request(target, post, media)
    unknown = target.status == "unknown"
    try:
        if unknown and unknowns.published is not None and unknowns.target_id == target.id:
            # The user found the post (its link was read before the claim).
            _complete_target(target.id, unknowns.published)
            return TargetOutcome(**base, status="completed", url=unknowns.published.url, reconciled=True)
        blind = unknown and unknowns.resend  # the user looked and it is not there
        if not blind and (target.attempt_count > 0 or target.status in ("processing", "unknown")):
            # An earlier attempt may have reached the platform: look before sending again.
            found = adapter.find_published(req)
            if found is not None:
                _complete_target(target.id, found)
                return TargetOutcome(
                    **base, status="completed", url=found.url, reconciled=True, notice=redact_notice(found.notice)
                )
        failures.mark_processing(PostTarget, target.id)
        result = adapter.publish(req)
    except OutcomeUnknown as exc:
        msg = f"{redact(exc.message)} {how_to_settle(post.id)}"
        finish_target(target.id, "unknown", error=msg)
        return TargetOutcome(**base, status="unknown", error=msg, error_kind="unknown")
    except PlatformError as exc:
        failure = failures.describe(exc, post.id, account, type(adapter))
        finish_target(target.id, "failed", error=failure.message, auth_failed=failure.kind == "auth")
        return TargetOutcome(
            **base, status="failed", error=failure.message, error_kind=failure.kind, retry_at=failure.retry_at
        )
    _complete_target(target.id, result)
    return TargetOutcome(**base, status="completed", url=result.url, notice=redact_notice(result.notice))


def redact_notice(notice: str | None) -> str | None:
    return redact(notice) if notice else None


def _complete_target(target_id: int, result: PublishResult) -> None:
    with session_scope() as session:
        target = session.get(PostTarget, target_id)
        assert target is not None
        target.status = "completed"
        target.platform_post_id = result.platform_post_id
        target.platform_post_url = result.url
        target.completed_at = result.published_at or utcnow()
        target.error = None
        target.publish_state = None  # an upload session is a capability: not kept once done


def _finish_post(post_id: int, outcomes: list[TargetOutcome], note: str | None = None) -> PublishOutcome:
    # A thread that stopped at a part is a failed target whose first parts went out: something
    # is online, so the post is partial_success, not failed.
    done = [o for o in outcomes if o.status == "completed" or o.partial]
    failed = [o for o in outcomes if o.status in ("failed", "unknown")]
    if failed and done:
        status = "partial_success"
    elif failed:
        status = "failed"
    else:
        status = "completed"
    with session_scope() as session:
        post = get_post(session, post_id)
        post.status = status
        post.locked_by = None
        post.locked_proc = None
        post.locked_until = None
        post.updated_at = utcnow()
        times = [t.completed_at for t in post.targets if t.completed_at is not None]
        if times and post.published_at is None:
            post.published_at = min(times)
        post.last_error = "; ".join(f"{o.platform}: {o.error}" for o in failed) or None
        if note:
            post.last_error = f"{note}" + (f"; {post.last_error}" if post.last_error else "")
    return PublishOutcome(post_id=post_id, status=status, targets=outcomes, note=note)


def retry_post(
    post_id: int | str, *, only: set[int] | None = None, resend: bool = False, published: str | None = None
) -> PublishOutcome:
    """Publish the targets not done yet again (`only`: just those target ids). Targets whose
    outcome is unknown are looked for again; `resend` sends them without looking, `published`
    records the link the user found."""
    if resend and published is not None:
        raise InvalidInput("give --resend or --published, not both.", hint="One target at a time.")
    with session_scope() as session:
        post = get_post(session, post_id)
        pid = post.id
        status = post.status
        if status not in ("failed", "partial_success", "processing"):
            raise BadState(
                f"post {pid} is {status}; only failed or partially published posts can be retried.",
                hint=f"See it with `postcli post show {pid}`.",
            )
        unknown = [(t.id, t.platform) for t in post.targets if t.status == "unknown"]
    if (resend or published is not None) and not unknown:
        raise BadState(
            f"post {pid} has no target whose outcome is unknown; --resend and --published are for those.",
            hint=f"Retry it with `postcli post retry {pid}`.",
        )
    target_id = found = None
    if published is not None:
        target_id = _target_for(pid, unknown, published)
        found = _read_link(target_id, published)
    return publish_post(
        pid,
        allowed=("failed", "partial_success", "processing"),
        only=only,
        unknowns=Unknowns(resend=resend, published=found, target_id=target_id),
    )


def _read_link(target_id: int, link: str) -> PublishResult:
    """The post `link` names, read by the target's platform before anything changes: a link
    the platform does not take is an error of its own (the target stays unknown)."""
    with session_scope() as session:
        target = session.get(PostTarget, target_id)
        assert target is not None
        account = target.account
        # The part whose outcome is unknown may be the first comment: read as a comment.
        comment = any(p.kind == "comment" and p.status == "unknown" for p in target.parts)
        session.expunge(account)
    ctx = accounts_svc.context_for(account)
    try:
        adapter = make_adapter(ctx)
        found = adapter.resolve_comment(link.strip()) if comment else adapter.resolve_post(link.strip())
    finally:
        accounts_svc.save_settings_if_changed(ctx)
    if found.author and account.external_id and found.author.lower() != account.external_id.lower():
        raise InvalidInput(
            f"{link} was posted by {found.author}, not by {account.handle}.",
            hint="Give the link of the post made by this account.",
        )
    return found


def _target_for(post_id: int, unknown: list[tuple[int, str]], link: str) -> int:
    """The unknown target `--published LINK` is about: the only one, or the one on the link's platform."""
    from postcli.platforms.registry import platform_of

    if not link.strip():
        raise InvalidInput("--published needs the post's link (or id) on the platform.")
    if len(unknown) == 1:
        return unknown[0][0]
    platform = platform_of(link.strip())
    mine = [tid for tid, p in unknown if p == platform]
    if len(mine) != 1:
        where = ", ".join(p for _tid, p in unknown)
        raise InvalidInput(
            f"post {post_id} has several targets whose outcome is unknown ({where}); "
            f"cannot tell which one {link!r} is.",
            hint="Give the post's full web link on the platform it was published to.",
        )
    return mine[0]


def publish_now(post_id: int | str, *, now: datetime | None = None) -> PublishOutcome:
    """`post publish`: a draft or scheduled post, validated again, then published."""
    now = now or utcnow()
    with session_scope(immediate=True) as session:
        post = get_post(session, post_id)
        if post.status not in ("draft", "scheduled", "pending"):
            raise BadState(
                f"post {post.id} is {post.status}; `post publish` takes drafts and scheduled posts.",
                hint=f"For failed targets use `postcli post retry {post.id}`.",
            )
        thread_svc.sync_plans(post, validate_stored(post))
        if post.status == "draft":
            post.created_at = now
        post.status = "pending"
        pid = post.id
    return publish_post(pid, allowed=("pending",), now=now)
