"""Creating posts and publishing them so that nothing is ever posted twice or lost.

The rules (DESIGN.md "Publishing rules"):
- validate every target before anything is sent;
- a target's idempotency key is stored before its first request;
- a target is marked `processing` (committed) before the request leaves, so a
  crash leaves evidence; any target attempted before is reconciled with the
  platform (`find_published`) before it is sent again;
- one post is published by one process at a time (a claim with an owner and a
  lease; a dead owner's claim is taken over).
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from postcli import settings
from postcli.errors import (
    AuthFailed,
    BadState,
    InvalidInput,
    NotFound,
    PlatformError,
    PlatformRateLimited,
    PlatformUnavailable,
    PostcliError,
)
from postcli.platforms.base import MediaItem, PublishRequest, PublishResult
from postcli.platforms.registry import make_adapter
from postcli.secrets_redact import redact
from postcli.services import accounts as accounts_svc
from postcli.services import media_for as media_for_svc
from postcli.services.media_limits import Problem, media_problems
from postcli.store.models import Account, Post, PostTarget, utcnow
from postcli.store.session import session_scope
from postcli.textcheck import check_post_texts

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


EDITABLE = ("draft", "scheduled")
LEASE = timedelta(minutes=10)


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_alive(owner: str | None) -> bool:
    """Is the process that claimed a post still running? Only knowable on this host."""
    if not owner:
        return False
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine: trust its lease
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def new_idempotency_key(platform: str) -> str:
    if platform == "bluesky":
        from postcli.platforms.bluesky import new_tid

        return new_tid()
    return uuid.uuid4().hex


# --- validation ------------------------------------------------------------------


@dataclass
class TargetPlan:
    account: Account
    text: str
    text_override: str | None
    media: list[MediaItem] | None = None  # its own (--media-for); None: the post's media


def _text_for(text: str, overrides: dict[str, str], account: Account) -> str | None:
    for key in (str(account.id), account.handle.lower(), account.platform):
        if key in overrides:
            return overrides[key]
    return None


def parse_text_for(values: Iterable[str]) -> dict[str, str]:
    """`--text-for PLATFORM=TEXT` (or ACCOUNT=TEXT) -> {key: text}."""
    out: dict[str, str] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(
                f"--text-for {value!r} is not PLATFORM=TEXT.", hint='Example: --text-for mastodon="Longer text"'
            )
        out[key.strip().lower().lstrip("@")] = text
    return out


FIX_EMPTY = "Write some text (or attach --media FILE)."
FIX_NEEDS_MEDIA = "Attach an image or video with --media FILE."
FIX_TOO_LONG = "Shorten the text, or give that platform its own with --text-for PLATFORM=TEXT."
FIX_S3 = "Configure the S3 media store ([s3] in config.toml, see docs/media.md), or leave that account out of --to."


def validate_targets(plans: list[TargetPlan], media: list[MediaItem]) -> None:
    """Every problem of every target, in one error, before anything is sent."""
    problems: list[Problem] = []
    common = media
    for plan in plans:
        media = common if plan.media is None else plan.media
        account = plan.account
        adapter = accounts_svc.adapter_for(account)
        limits = adapter.limits()
        name = f"{account.platform} ({account.handle})"
        if not plan.text.strip() and not media:
            problems.append(Problem(f"{name}: the text is empty.", FIX_EMPTY))
        if limits.requires_media and not media:
            problems.append(Problem(
                f"{name}: {account.platform} posts need at least one image or video (--media FILE).", FIX_NEEDS_MEDIA
            ))
        length = adapter.text_length(plan.text)
        if length > limits.max_text:
            problems.append(Problem(
                f"{name}: text is {length} {limits.count_unit}, the limit is {limits.max_text}"
                + (f" (each link counts {limits.url_weight})" if limits.url_weight else "")
                + ".",
                FIX_TOO_LONG,
            ))
        problems.extend(Problem(f"{name}: {p}", p.fix) for p in media_problems(limits, media))
        if media and limits.needs_public_media_url and not _s3_configured():
            problems.append(Problem(
                f"{name}: {account.platform} fetches media from a public URL, so it needs the S3 media store"
                " ([s3] in config.toml, see docs/media.md).",
                FIX_S3,
            ))
    if problems:
        fixes = dict.fromkeys(p.fix for p in problems)
        raise InvalidInput("cannot publish: " + " ".join(problems), hint=" ".join(fixes) + " Nothing was sent.")


def _s3_configured() -> bool:
    from postcli.services import s3store

    return s3store.load_config() is not None


# --- creating ----------------------------------------------------------------------


@dataclass
class Created:
    post: Post
    created: bool  # False: an existing post was returned (dedup)
    warnings: list[str] = field(default_factory=list)


def content_hash(text: str, overrides: dict[str, str], account_ids: list[int], scheduled_at: datetime | None,
                 media_hashes: list[str]) -> str:
    h = hashlib.sha256()
    h.update(text.encode())
    for k in sorted(overrides):
        h.update(f"\x00{k}={overrides[k]}".encode())
    h.update(("\x00" + ",".join(map(str, sorted(account_ids)))).encode())
    h.update(("\x00" + (scheduled_at.isoformat() if scheduled_at else "now")).encode())
    for m in media_hashes:
        h.update(("\x00" + m).encode())
    return h.hexdigest()


# A repeated identical `post create` within this window returns the first post.
DEDUP_WINDOW = timedelta(minutes=10)


def create_post(
    text: str,
    to: list[str],
    *,
    text_for: dict[str, str] | None = None,
    media: list[tuple[Path, str | None]] | None = None,
    media_for: dict[str, list[tuple[Path, str | None]]] | None = None,
    at: datetime | None = None,
    tz: str | None = None,
    draft: bool = False,
    correlation_id: str | None = None,
    source: str = "cli",
    now: datetime | None = None,
) -> Created:
    """Store a post (draft, scheduled or pending). Does not publish: see publish_post."""
    from sqlalchemy import select

    from postcli.services import media as media_svc

    now = now or utcnow()
    overrides = text_for or {}
    check_post_texts(text, overrides, [alt for _, alt in media or []])
    tz_name = tz or settings.config().timezone
    if correlation_id is not None and len(correlation_id) > 255:
        raise InvalidInput(
            f"--correlation-id is {len(correlation_id)} characters; the limit is 255.",
            hint="Use a shorter id (a UUID or a hash of your own key).",
        )
    if at is not None and at <= now and not draft:
        raise InvalidInput(
            f"the scheduled time {at.isoformat()} is in the past.",
            hint="Give a future time, or leave out --at to publish now.",
        )
    prepared = media_svc.prepare_files(media or [])
    prepared_for = {key: media_svc.prepare_files(files) for key, files in (media_for or {}).items()}
    # Phase 1, reading only: find the targets, validate, look for an existing post.
    with session_scope(readonly=True) as session:
        if correlation_id:
            existing = session.scalars(select(Post).where(Post.correlation_id == correlation_id)).first()
            if existing is not None:
                return Created(post=_loaded(session, existing), created=False)
        targets = accounts_svc.resolve_targets(session, to)
        warnings = [
            f"{a.platform} account {a.handle} needs reconnecting. {accounts_svc.reconnect_hint(a)}"
            for a in targets
            if a.status == "token_expired"
        ]
        unused = [k for k in overrides if not any(_text_for(text, {k: ""}, a) is not None for a in targets)]
        if unused:
            raise InvalidInput(
                f"--text-for {', '.join(unused)} matches none of the targets.",
                hint="Use a platform name, handle or id that is among --to.",
            )
        media_for_svc.check_used(prepared_for, targets)
        items_for = {key: [p.as_media_item() for p in preps] for key, preps in prepared_for.items()}
        plans = [
            TargetPlan(account=a, text=_text_for(text, overrides, a) or text, text_override=_text_for(text, overrides, a),
                       media=media_for_svc.own(a, items_for))
            for a in targets
        ]
        validate_targets(plans, [p.as_media_item() for p in prepared])
        chash = content_hash(text, overrides, [a.id for a in targets], at,
                             [p.sha256 for p in prepared]
                             + [f"{key}={p.sha256}" for key, preps in sorted(prepared_for.items()) for p in preps])
        dup = _recent_duplicate(session, chash, now) if not correlation_id and not draft else None
        if dup is not None:
            return Created(post=dup, created=False, warnings=warnings)
    # Copy/upload media only once the post is known to be valid, and outside the write
    # lock (an S3 upload can take a while). Storage is content-addressed: idempotent.
    stored = [media_svc.store_prepared(p, i) for i, p in enumerate(prepared)]
    stored.extend(media_for_svc.store(prepared_for, start=len(stored)))
    # Phase 2: write, re-checking what another process may have done meanwhile.
    with session_scope() as session:
        if correlation_id:
            existing = session.scalars(select(Post).where(Post.correlation_id == correlation_id)).first()
            if existing is not None:
                return Created(post=_loaded(session, existing), created=False)
        elif not draft:
            dup = _recent_duplicate(session, chash, now)
            if dup is not None:
                return Created(post=dup, created=False, warnings=warnings)
        status = "draft" if draft else ("scheduled" if at is not None else "pending")
        post = Post(
            text=text,
            status=status,
            scheduled_at=at,
            timezone=tz_name,
            correlation_id=correlation_id,
            source=source,
            created_at=now,
            updated_at=now,
            content_hash=None if draft else chash,
        )
        session.add(post)
        for plan in plans:
            post.targets.append(
                PostTarget(
                    account_id=plan.account.id,
                    platform=plan.account.platform,
                    text_override=plan.text_override,
                    status="pending",
                    idempotency_key=new_idempotency_key(plan.account.platform),
                )
            )
        post.media.extend(stored)
        session.flush()
        return Created(post=_loaded(session, post), created=True, warnings=warnings)


def _recent_duplicate(session: Session, chash: str, now: datetime) -> Post | None:
    from sqlalchemy import select

    dup = session.scalars(
        select(Post)
        .where(Post.content_hash == chash, Post.created_at >= now - DEDUP_WINDOW)
        .where(Post.status != "cancelled")
        .order_by(Post.id)
    ).first()
    return _loaded(session, dup) if dup is not None else None


def _loaded(session: Session, post: Post) -> Post:
    """Touch relationships so the post is usable after its session closes."""
    for t in post.targets:
        _ = t.account
    _ = list(post.media)
    return post


def get_post(session: Session, post_id: int | str) -> Post:
    text = str(post_id).strip()
    post = session.get(Post, int(text)) if text.isdigit() else None
    if post is None:
        raise NotFound(f"no post {text!r}.", hint="See your posts with `postcli post list`.")
    return post


def load_post(post_id: int | str) -> Post:
    with session_scope(readonly=True) as session:
        return _loaded(session, get_post(session, post_id))


# --- publishing --------------------------------------------------------------------


@dataclass
class TargetOutcome:
    target_id: int
    account_id: int
    platform: str
    handle: str
    status: str
    url: str | None = None
    error: str | None = None
    reconciled: bool = False  # found already published on the platform
    error_kind: str | None = None  # auth | rate_limited | unavailable | rejected | error
    retry_at: datetime | None = None  # rate_limited: when the platform said the limit lifts


@dataclass
class PublishOutcome:
    post_id: int
    status: str
    targets: list[TargetOutcome]
    note: str | None = None

    @property
    def all_auth_failed(self) -> bool:
        failed = [t for t in self.targets if t.status == "failed"]
        return bool(failed) and all(t.error_kind == "auth" for t in failed)


def _claim(post_id: int, allowed: tuple[str, ...], now: datetime) -> Post:
    """Take the post for this process, atomically; refuse if another live process has it."""
    with session_scope(immediate=True) as session:
        post = get_post(session, post_id)
        if post.status == "processing" and post.locked_by and post.locked_by != owner_id():
            lease_ok = post.locked_until is not None and post.locked_until > now
            if lease_ok and _owner_alive(post.locked_by):
                raise BadState(
                    f"post {post_id} is being published by another postcli process ({post.locked_by}).",
                    hint="Wait for it to finish, then check `postcli post show " + str(post_id) + "`.",
                )
        elif post.status not in allowed:
            raise BadState(
                f"post {post_id} is {post.status}; this needs a post that is {' or '.join(allowed)}.",
                hint=f"See it with `postcli post show {post_id}`.",
            )
        post.status = "processing"
        post.locked_by = owner_id()
        post.locked_until = now + LEASE
        post.updated_at = now
        return _loaded(session, post)


def _media_items(post: Post) -> dict[int, MediaItem]:
    """Every stored file of the post (its own and --media-for ones), by row id."""
    from postcli.services import media as media_svc

    return {m.id: media_svc.media_item(m) for m in post.media}


def _request(target: PostTarget, post: Post, media: list[MediaItem]) -> PublishRequest:
    return PublishRequest(
        text=target.text_override if target.text_override is not None else post.text,
        idempotency_key=target.idempotency_key,
        media=media,
        first_attempt_at=target.first_attempt_at,
    )


def _error_kind(exc: PlatformError) -> str:
    if isinstance(exc, AuthFailed):
        return "auth"
    if isinstance(exc, PlatformRateLimited):
        return "rate_limited"
    if isinstance(exc, PlatformUnavailable):
        return "unavailable"
    if exc.exit_code == 2:
        return "rejected"
    return "error"


def publish_post(
    post_id: int,
    *,
    allowed: tuple[str, ...] = ("pending", "scheduled", "failed", "partial_success", "processing"),
    now: datetime | None = None,
    note: str | None = None,
) -> PublishOutcome:
    """Publish every target of a post that is not done yet; reconcile before resending."""
    now = now or utcnow()
    post = _claim(post_id, allowed, now)
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
            _finish_target(target.id, "failed", error=f"media unavailable: {msg}")
            failed.append(TargetOutcome(target_id=target.id, account_id=target.account_id, platform=target.platform,
                                        handle=target.account.handle, status="failed",
                                        error=f"media unavailable: {msg}", error_kind="error"))
        done = [TargetOutcome(target_id=t.id, account_id=t.account_id, platform=t.platform, handle=t.account.handle,
                              status=t.status, url=t.platform_post_url)
                for t in post.targets if t.status == "completed"]
        return _finish_post(post.id, done + failed, note=note)
    outcomes: list[TargetOutcome] = []
    for target in post.targets:
        account = target.account
        base = dict(target_id=target.id, account_id=account.id, platform=target.platform, handle=account.handle)
        if target.status in ("completed", "deleted", "skipped"):
            outcomes.append(TargetOutcome(**base, status=target.status, url=target.platform_post_url))
            continue
        if target.attempt_count >= max_attempts:
            last = (target.error or "unknown error").split(" (raise [publish] max_attempts")[0]
            if last.startswith("gave up after"):
                last = last.split(": ", 1)[-1]
            msg = (f"gave up after {target.attempt_count} attempts: {last} "
                   f"(raise [publish] max_attempts in the config to try again)")
            _finish_target(target.id, "failed", error=msg)
            outcomes.append(TargetOutcome(**base, status="failed", error=msg, error_kind="error"))
            continue
        mine = [media[m.id] for m in media_for_svc.rows_for(account, post.media)]
        outcomes.append(_publish_target(target, post, account, mine))
    return _finish_post(post.id, outcomes, note=note)


def _publish_target(target: PostTarget, post: Post, account: Account, media: list[MediaItem]) -> TargetOutcome:
    base = dict(target_id=target.id, account_id=account.id, platform=target.platform, handle=account.handle)
    if account.removed_at is not None:
        # Its credentials are gone; trying would end in a misleading "reconnect" (or, for
        # the sandbox, in a post the user no longer wants there).
        msg = (f"account removed: the {account.platform} account {account.handle} was removed, so nothing was "
               f"sent to it (add it again with `postcli accounts add {account.platform}`, then "
               f"`postcli post retry {post.id}`).")
        _finish_target(target.id, "failed", error=msg)
        return TargetOutcome(**base, status="failed", error=msg, error_kind="removed")
    if account.status == "token_expired":
        msg = f"the {account.platform} account {account.handle} needs reconnecting. {accounts_svc.reconnect_hint(account)}"
        _finish_target(target.id, "failed", error=msg)
        return TargetOutcome(**base, status="failed", error=msg, error_kind="auth")
    ctx = accounts_svc.context_for(account)
    try:
        return _send(target, post, account, media, make_adapter(ctx), base)
    finally:
        # What the adapter learnt (a refreshed token's expiry, platform settings) is kept.
        accounts_svc.save_settings_if_changed(ctx)


def _send(target: PostTarget, post: Post, account: Account, media: list[MediaItem], adapter: Any,
          base: dict[str, Any]) -> TargetOutcome:
    req = _request(target, post, media)
    try:
        if target.attempt_count > 0 or target.status == "processing":
            # An earlier attempt may have reached the platform: look before sending again.
            found = adapter.find_published(req)
            if found is not None:
                _complete_target(target.id, found)
                return TargetOutcome(**base, status="completed", url=found.url, reconciled=True)
        _mark_processing(target.id)
        result = adapter.publish(req)
    except PlatformError as exc:
        kind = _error_kind(exc)
        msg = redact(exc.message)
        if kind == "unavailable":
            msg += " (the outcome is unknown; a retry checks the platform first)"
        elif kind == "auth":
            msg += " " + accounts_svc.reconnect_hint(account)
        retry_at = None
        if kind == "rate_limited":
            retry_at, lifts = _lifts(exc)
            msg += f" ({lifts}; then `postcli post retry {post.id}`)"
        _finish_target(target.id, "failed", error=msg, auth_failed=kind == "auth")
        return TargetOutcome(**base, status="failed", error=msg, error_kind=kind, retry_at=retry_at)
    _complete_target(target.id, result)
    return TargetOutcome(**base, status="completed", url=result.url)


def _lifts(exc: PlatformError) -> tuple[datetime | None, str]:
    """When a rate limit or quota lifts, as a time and as words for the message."""
    seconds = getattr(exc, "retry_after", None)
    if seconds is None:
        return None, "the platform did not say when the limit lifts"
    at = utcnow() + timedelta(seconds=seconds)
    return at, f"rate limited; the limit lifts by {at:%Y-%m-%d %H:%M} UTC"


def _mark_processing(target_id: int) -> None:
    now = utcnow()
    with session_scope() as session:
        target = session.get(PostTarget, target_id)
        assert target is not None
        target.status = "processing"
        target.attempt_count += 1
        target.first_attempt_at = target.first_attempt_at or now
        target.last_attempt_at = now
        target.error = None


def _complete_target(target_id: int, result: PublishResult) -> None:
    with session_scope() as session:
        target = session.get(PostTarget, target_id)
        assert target is not None
        target.status = "completed"
        target.platform_post_id = result.platform_post_id
        target.platform_post_url = result.url
        target.completed_at = result.published_at or utcnow()
        target.error = None


def _finish_target(target_id: int, status: str, *, error: str | None = None, auth_failed: bool = False) -> None:
    with session_scope() as session:
        target = session.get(PostTarget, target_id)
        assert target is not None
        target.status = status
        target.error = error
        if auth_failed:
            accounts_svc.mark_token_expired(session, target.account)


def _finish_post(post_id: int, outcomes: list[TargetOutcome], note: str | None = None) -> PublishOutcome:
    done = [o for o in outcomes if o.status == "completed"]
    failed = [o for o in outcomes if o.status == "failed"]
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
        post.locked_until = None
        post.updated_at = utcnow()
        times = [t.completed_at for t in post.targets if t.completed_at is not None]
        if times and post.published_at is None:
            post.published_at = min(times)
        post.last_error = "; ".join(f"{o.platform}: {o.error}" for o in failed) or None
        if note:
            post.last_error = f"{note}" + (f"; {post.last_error}" if post.last_error else "")
    return PublishOutcome(post_id=post_id, status=status, targets=outcomes, note=note)


def retry_post(post_id: int | str) -> PublishOutcome:
    with session_scope() as session:
        post = get_post(session, post_id)
        pid = post.id
        status = post.status
        if status not in ("failed", "partial_success", "processing"):
            raise BadState(
                f"post {pid} is {status}; only failed or partially published posts can be retried.",
                hint=f"See it with `postcli post show {pid}`.",
            )
    return publish_post(pid, allowed=("failed", "partial_success", "processing"))


@dataclass
class DueReport:
    published: list[PublishOutcome] = field(default_factory=list)
    expired: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # claimed by another process
    errors: list[tuple[int, str]] = field(default_factory=list)


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
            report.published.append(publish_post(post_id, allowed=("scheduled", "pending", "processing"), now=now, note=note))
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


# --- listing, deleting ---------------------------------------------------------------


SORTS = {"created": "created_at", "published": "published_at", "scheduled": "scheduled_at"}


def list_posts(
    *,
    status: str | None = None,
    platform: str | None = None,
    page: int = 1,
    limit: int = 20,
    sort: str = "created",
    order: str = "desc",
) -> tuple[list[Post], int]:
    from sqlalchemy import func, select

    from postcli.store.fastread import check_list_args

    check_list_args(page=page, limit=limit, sort=sort, order=order)
    with session_scope(readonly=True) as session:
        q = select(Post)
        if status:
            q = q.where(Post.status == status)
        if platform:
            q = q.where(Post.id.in_(select(PostTarget.post_id).where(PostTarget.platform == platform)))
        total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
        col = getattr(Post, SORTS[sort])
        ordered = col.desc() if order == "desc" else col.asc()
        q = q.order_by(col.is_(None), ordered, Post.id.desc() if order == "desc" else Post.id.asc())
        from sqlalchemy.orm import selectinload

        # Three queries for the whole page instead of two per post.
        q = q.options(selectinload(Post.targets).selectinload(PostTarget.account), selectinload(Post.media))
        posts = list(session.scalars(q.offset((page - 1) * limit).limit(limit)))
        return posts, total


@dataclass
class DeleteReport:
    post_id: int
    removed_local: bool
    remote: list[TargetOutcome] = field(default_factory=list)


def delete_post(post_id: int | str, *, remote: bool = False) -> DeleteReport:
    post = load_post(post_id)
    if post.status == "processing":
        raise BadState(f"post {post.id} is being published right now.", hint="Wait until it finishes.")
    report = DeleteReport(post_id=post.id, removed_local=False)
    if remote:
        failures = False
        for target in post.targets:
            if target.status != "completed" or not target.platform_post_id:
                continue
            base = dict(target_id=target.id, account_id=target.account_id, platform=target.platform,
                        handle=target.account.handle)
            try:
                accounts_svc.adapter_for(target.account).delete(target.platform_post_id)
            except PlatformError as exc:
                failures = True
                report.remote.append(TargetOutcome(**base, status="failed", error=redact(exc.message),
                                                   error_kind=_error_kind(exc)))
                continue
            _finish_target(target.id, "deleted")
            report.remote.append(TargetOutcome(**base, status="deleted"))
        if failures:
            # Keep the local record: it is the only link to what is still online.
            return report
    with session_scope() as session:
        session.delete(get_post(session, post.id))
    report.removed_local = True
    return report


def post_dict(post: Post, tz: str | None = None) -> dict[str, Any]:
    """The stable JSON shape of a post."""
    return {
        "id": post.id,
        "status": post.status,
        "text": post.text,
        "scheduled_at": post.scheduled_at,
        "timezone": post.timezone,
        "correlation_id": post.correlation_id,
        "source": post.source,
        "created_at": post.created_at,
        "updated_at": post.updated_at,
        "published_at": post.published_at,
        "error": post.last_error,
        "targets": [
            {
                "id": t.id,
                "account_id": t.account_id,
                "platform": t.platform,
                "handle": t.account.handle if t.account else None,
                "status": t.status,
                "text_override": t.text_override,
                "platform_post_id": t.platform_post_id,
                "url": t.platform_post_url,
                "error": t.error,
                "attempt_count": t.attempt_count,
                "last_attempt_at": t.last_attempt_at,
                "completed_at": t.completed_at,
            }
            for t in post.targets
        ],
        "media": [
            {
                "position": m.position,
                "mime_type": m.mime_type,
                "original_filename": m.original_filename,
                "size_bytes": m.size_bytes,
                "width": m.width,
                "height": m.height,
                "duration_s": m.duration_s,
                "alt_text": m.alt_text,
                "sha256": m.sha256,
                "storage": m.storage,
                "override_for": m.override_for,
            }
            for m in post.media
        ],
    }


def created_dict(post: Post, created: bool, outcome: PublishOutcome | None = None) -> dict[str, Any]:
    """`post create --json`: one shape for drafts, scheduled and published posts, new or repeated.

    The post (as `post show --json`) with the outcome's keys merged in: "post_id", "note",
    "created", and per target "target_id", "reconciled" and "retry_at" (when a rate limit
    lifts; null otherwise).
    """
    data = post_dict(post)
    sent = {t.target_id: t for t in outcome.targets} if outcome else {}
    for t in data["targets"]:
        t["target_id"] = t["id"]
        t["reconciled"] = bool(sent.get(t["id"]) and sent[t["id"]].reconciled)
        t["retry_at"] = sent[t["id"]].retry_at if t["id"] in sent else None
    return {**data, "post_id": post.id, "note": outcome.note if outcome else None, "created": created}


def outcome_dict(outcome: PublishOutcome) -> dict[str, Any]:
    return {
        "post_id": outcome.post_id,
        "status": outcome.status,
        "note": outcome.note,
        "targets": [
            {
                "target_id": t.target_id,
                "account_id": t.account_id,
                "platform": t.platform,
                "handle": t.handle,
                "status": t.status,
                "url": t.url,
                "error": t.error,
                "reconciled": t.reconciled,
                "retry_at": t.retry_at,
            }
            for t in outcome.targets
        ],
    }


# --- composer: edit, schedule, cancel ----------------------------------------------


def _validate_stored(post: Post) -> None:
    """Validate a stored post as `post create` validates a new one (no media download)."""
    from postcli.services import media as media_svc

    plans = [
        TargetPlan(account=t.account, text=t.text_override if t.text_override is not None else post.text,
                   text_override=t.text_override,
                   media=[media_svc.media_info(m) for m in media_for_svc.rows_for(t.account, post.media)])
        for t in post.targets
        if t.account.removed_at is None  # refused when publishing, with its own message
    ]
    validate_targets(plans, [media_svc.media_info(m) for m in post.media if m.override_for is None])


def _editable(session: Session, post_id: int | str) -> Post:
    post = get_post(session, post_id)
    if post.status not in EDITABLE:
        raise BadState(
            f"post {post.id} is {post.status}; only drafts and scheduled posts can be changed.",
            hint="Create a new post instead, or delete this one with `postcli post delete --remote`.",
        )
    return post


def edit_post(
    post_id: int | str,
    *,
    text: str | None = None,
    to: list[str] | None = None,
    text_for: dict[str, str] | None = None,
    media: list[tuple[Path, str | None]] | None = None,
    media_for: dict[str, list[tuple[Path, str | None]]] | None = None,
    at: datetime | None = None,
    tz: str | None = None,
    now: datetime | None = None,
) -> Post:
    """Change a draft or scheduled post; the result is validated like a new post.

    `media` replaces the post's media (`[]` removes all media, --media-for files
    included); `media_for` replaces the files of the keys it names and keeps the others.
    """
    from postcli.services import media as media_svc

    check_post_texts(text, text_for, [alt for _, alt in media or []])
    now = now or utcnow()
    prepared = media_svc.prepare_files(media) if media is not None else None
    prepared_for = {key: media_svc.prepare_files(files) for key, files in (media_for or {}).items()}
    stored = [media_svc.store_prepared(p, i) for i, p in enumerate(prepared)] if prepared is not None else None
    stored_for = media_for_svc.store(prepared_for, start=0)
    with session_scope(immediate=True) as session:
        post = _editable(session, post_id)
        if at is not None:
            if at <= now:
                raise InvalidInput(f"the scheduled time {at.isoformat()} is in the past.", hint="Give a future time.")
            post.scheduled_at = at
        if tz:
            post.timezone = tz
        if text is not None:
            post.text = text
        if to is not None:
            accounts = accounts_svc.resolve_targets(session, to)
            keep = {t.account_id: t for t in post.targets}
            post.targets = [
                keep.get(a.id)
                or PostTarget(account_id=a.id, platform=a.platform, status="pending",
                              idempotency_key=new_idempotency_key(a.platform))
                for a in accounts
            ]
            session.flush()
        overrides = text_for or {}
        for t in post.targets:
            account = t.account or session.get(Account, t.account_id)
            override = _text_for(post.text, overrides, account)
            if override is not None:
                t.text_override = override
        accounts = [t.account or session.get(Account, t.account_id) for t in post.targets]
        media_for_svc.check_used(prepared_for, accounts)
        if stored is not None or stored_for or to is not None:
            common = stored if stored is not None else [m for m in post.media if m.override_for is None]
            # A target's own media goes with it, as its text override does.
            kept = [] if media == [] else [m for m in post.media
                                           if m.override_for is not None and m.override_for not in prepared_for
                                           and not media_for_svc.unused([m.override_for], accounts)]
            rows = common + kept + stored_for
            for position, row in enumerate(rows):
                row.position = position
            post.media = rows
        session.flush()
        for t in post.targets:
            session.refresh(t)
        if post.status != "draft":
            _validate_stored(post)
        post.updated_at = now
        return _loaded(session, post)


def schedule_post(post_id: int | str, at: datetime, *, tz: str | None = None, now: datetime | None = None) -> Post:
    """Give a draft (or a scheduled post) a publish time."""
    now = now or utcnow()
    if at <= now:
        raise InvalidInput(f"the scheduled time {at.isoformat()} is in the past.", hint="Give a future time.")
    with session_scope(immediate=True) as session:
        post = _editable(session, post_id)
        _validate_stored(post)
        if post.status == "draft":
            # Seed 002: leaving draft resets created_at so it sorts with new posts.
            post.created_at = now
        post.status = "scheduled"
        post.scheduled_at = at
        if tz:
            post.timezone = tz
        post.updated_at = now
        return _loaded(session, post)


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
        _validate_stored(post)
        if post.status == "draft":
            post.created_at = now
        post.status = "pending"
        pid = post.id
    return publish_post(pid, allowed=("pending",), now=now)


def cancel_post(post_id: int | str, *, now: datetime | None = None) -> Post:
    with session_scope(immediate=True) as session:
        post = get_post(session, post_id)
        if post.status not in ("draft", "scheduled", "pending"):
            raise BadState(
                f"post {post.id} is {post.status}; only drafts and scheduled posts can be cancelled.",
                hint="To take a published post down use `postcli post delete ID --remote`.",
            )
        post.status = "cancelled"
        post.updated_at = now or utcnow()
        return _loaded(session, post)
