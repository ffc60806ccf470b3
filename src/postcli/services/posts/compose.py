"""Composing posts: create (with dedup), edit, schedule and cancel.

Nothing is stored that would not validate (validation.py), and a repeated
`post create` returns the first post: by --correlation-id, or by the same
content within DEDUP_WINDOW. Every target gets its idempotency key here,
before any request (publish.py relies on it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from postcli import settings
from postcli.errors import BadState, InvalidInput, NotFound
from postcli.services import accounts as accounts_svc
from postcli.services.posts import fields as fields_svc
from postcli.services.posts import media_for as media_for_svc
from postcli.services.posts import thread as thread_svc
from postcli.services.posts.queries import get_post
from postcli.services.posts.validation import TargetPlan, own_text, stored_plans, validate_stored, validate_targets
from postcli.services.posts.views import post_dict
from postcli.store.models import Account, Post, PostTarget, utcnow
from postcli.store.session import session_scope
from postcli.textcheck import check_post_texts

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

EDITABLE = ("draft", "scheduled")


def new_idempotency_key(platform: str) -> str:
    """The adapter's own kind of key (a record key where the platform takes one)."""
    from postcli.platforms.registry import adapter_class

    return adapter_class(platform).new_idempotency_key()


@dataclass
class Created:
    post: dict[str, Any]  # views.post_dict
    created: bool  # False: an existing post was returned (dedup)
    warnings: list[str] = field(default_factory=list)


def content_hash(
    text: str, overrides: dict[str, str], account_ids: list[int], scheduled_at: datetime | None, media_hashes: list[str]
) -> str:
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
    title: str | None = None,
    link: str | None = None,
    fields: dict[str, dict[str, str]] | None = None,
    parts: list[str] | None = None,
    split: str | None = None,
    first_comment: str | None = None,
    media_for_part: dict[int, list[tuple[Path, str | None]]] | None = None,
) -> Created:
    """Store a post (draft, scheduled or pending). Does not publish: see publish_post.

    `parts`: a thread's parts (`text` is then ignored: the post's text is the parts joined);
    `split`: "plain" or "numbered" (--split, --numbered); `first_comment`; `media_for_part`:
    files by part number (services/posts/thread.py)."""
    from sqlalchemy import select

    from postcli.services import media as media_svc

    now = now or utcnow()
    overrides = text_for or {}
    media_for_part = dict(media_for_part or {})
    media = list(media or []) + media_for_part.pop(1, [])  # part 1's files are the post's own
    thread = thread_svc.build(parts, split, first_comment, media_for_part)
    if thread is not None and thread.parts:
        text = thread_svc.joined(thread.parts)
    check_post_texts(text, overrides, [alt for _, alt in media or []] + ([title] if title else []))
    thread_svc.check_texts(thread, media_for_part)
    tz_name = settings.time_zone(tz)
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
    prepared_part = {n: media_svc.prepare_files(files) for n, files in (media_for_part or {}).items()}
    # Phase 1, reading only: find the targets, validate, look for an existing post.
    with session_scope(readonly=True) as session:
        if correlation_id:
            existing = session.scalars(select(Post).where(Post.correlation_id == correlation_id)).first()
            if existing is not None:
                return Created(post=post_dict(existing), created=False)
        targets = accounts_svc.resolve_targets(session, to)
        warnings = [
            f"{a.platform} account {a.handle} needs reconnecting. {accounts_svc.reconnect_hint(a)}"
            for a in targets
            if a.status == "token_expired"
        ]
        unused = [k for k in overrides if not any(own_text({k: ""}, a) is not None for a in targets)]
        if unused:
            raise InvalidInput(
                f"--text-for {', '.join(unused)} matches none of the targets.",
                hint="Use a platform name, handle or id that is among --to.",
            )
        media_for_svc.check_used(prepared_for, targets)
        platforms = [a.platform for a in targets]
        warnings += fields_svc.check_title_and_link(title, link, platforms)
        checked_fields = fields_svc.check(fields or {}, platforms)
        fields_svc.check_post(title, link, checked_fields, platforms)
        items_for = {key: [p.as_media_item() for p in preps] for key, preps in prepared_for.items()}
        plans = [
            TargetPlan(
                account=a,
                text=own_text(overrides, a) or text,
                text_override=own_text(overrides, a),
                media=media_for_svc.own(a, items_for),
                thread=thread,
                part_media={n: [p.as_media_item() for p in preps] for n, preps in prepared_part.items()},
                title=title,
                fields=checked_fields.get(a.platform),
            )
            for a in targets
        ]
        validate_targets(plans, [p.as_media_item() for p in prepared], preflight=not draft)
        chash = content_hash(
            text,
            overrides,
            [a.id for a in targets],
            at,
            [p.sha256 for p in prepared]
            + [f"{key}={p.sha256}" for key, preps in sorted(prepared_for.items()) for p in preps]
            + [f"part {n}={p.sha256}" for n, preps in sorted(prepared_part.items()) for p in preps]
            + _extras_hash(title, link, checked_fields)
            + (thread.hash_extras() if thread is not None else []),
        )
        dup = _recent_duplicate(session, chash, now) if not correlation_id and not draft else None
        if dup is not None:
            return Created(post=dup, created=False, warnings=warnings)
    # Copy/upload media only once the post is known to be valid, and outside the write
    # lock (an S3 upload can take a while). Storage is content-addressed: idempotent.
    stored = [media_svc.store_prepared(p, i) for i, p in enumerate(prepared)]
    stored.extend(media_for_svc.store(prepared_for, start=len(stored)))
    stored.extend(thread_svc.store_part_media(prepared_part, start=len(stored)))
    # Phase 2: write, re-checking what another process may have done meanwhile.
    with session_scope() as session:
        if correlation_id:
            existing = session.scalars(select(Post).where(Post.correlation_id == correlation_id)).first()
            if existing is not None:
                return Created(post=post_dict(existing), created=False)
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
            title=title,
            link=link.strip() if link else None,
            parts=list(thread.parts) if thread is not None and thread.parts else None,
            split=thread.split if thread is not None else None,
            first_comment=thread.first_comment if thread is not None else None,
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
                    fields=checked_fields.get(plan.account.platform) or None,
                )
            )
        post.media.extend(stored)
        session.flush()
        thread_svc.sync_plans(post, plans)
        session.flush()
        return Created(post=post_dict(post), created=True, warnings=warnings)


def _extras_hash(title: str | None, link: str | None, fields: dict[str, dict[str, Any]]) -> list[str]:
    """What --title, --link and --field add to the content hash (nothing when absent, so a post
    without them keeps the hash it always had)."""
    import json

    extras = [f"title={title}"] if title is not None else []
    extras += [f"link={link}"] if link is not None else []
    extras += [f"fields={json.dumps(fields, sort_keys=True)}"] if fields else []
    return extras


def _recent_duplicate(session: Session, chash: str, now: datetime) -> dict[str, Any] | None:
    from sqlalchemy import select

    dup = session.scalars(
        select(Post)
        .where(Post.content_hash == chash, Post.created_at >= now - DEDUP_WINDOW)
        .where(Post.status != "cancelled")
        .order_by(Post.id)
    ).first()
    return post_dict(dup) if dup is not None else None


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
    part_texts: dict[int, str] | None = None,
    first_comment: str | None = None,
    media_for_part: dict[int, list[tuple[Path, str | None]]] | None = None,
) -> dict[str, Any]:
    """Change a draft or scheduled post; the result is validated like a new post.

    `media` replaces the post's media (`[]` removes all media, --media-for files
    included); `media_for` replaces the files of the keys it names and keeps the others.
    A thread's parts are edited one by one (`part_texts`: {N: text}; N one past the last adds
    a part, an empty text removes one); `text` makes the post one text again. `first_comment`
    "" removes it. `media_for_part` replaces the files of the parts it names.
    """
    from postcli.services import media as media_svc

    check_post_texts(text, text_for, [alt for _, alt in media or []])
    thread_svc.check_texts(None, media_for_part)
    for part in (part_texts or {}).values():
        check_post_texts(part, None)
    check_post_texts(first_comment, None)
    now = now or utcnow()
    prepared = media_svc.prepare_files(media) if media is not None else None
    prepared_for = {key: media_svc.prepare_files(files) for key, files in (media_for or {}).items()}
    prepared_part = {n: media_svc.prepare_files(files) for n, files in (media_for_part or {}).items()}
    stored = [media_svc.store_prepared(p, i) for i, p in enumerate(prepared)] if prepared is not None else None
    stored_for = media_for_svc.store(prepared_for, start=0)
    stored_part = thread_svc.store_part_media(prepared_part, start=0)
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
            post.parts = None  # one text now
        if part_texts:
            thread_svc.edit_parts(post, part_texts)
        if first_comment is not None:
            post.first_comment = first_comment or None
        if to is not None:
            accounts = accounts_svc.resolve_targets(session, to)
            keep = {t.account_id: t for t in post.targets}
            post.targets = [
                keep.get(a.id)
                or PostTarget(
                    account_id=a.id,
                    platform=a.platform,
                    status="pending",
                    idempotency_key=new_idempotency_key(a.platform),
                )
                for a in accounts
            ]
            session.flush()
        overrides = text_for or {}
        accounts = [_account_of(session, t) for t in post.targets]
        for t, account in zip(post.targets, accounts):
            override = own_text(overrides, account)
            if override is not None:
                t.text_override = override
        media_for_svc.check_used(prepared_for, accounts)
        if stored is not None or stored_for or stored_part or to is not None:
            common = (
                stored if stored is not None else [m for m in post.media if m.override_for is None and m.part is None]
            )
            # A target's own media goes with it, as its text override does.
            kept = (
                []
                if media == []
                else [
                    m
                    for m in post.media
                    if m.override_for is not None
                    and m.override_for not in prepared_for
                    and not media_for_svc.unused([m.override_for], accounts)
                ]
            )
            kept_parts = (
                [] if media == [] else [m for m in post.media if m.part is not None and m.part not in prepared_part]
            )
            rows = common + kept + stored_for + kept_parts + stored_part
            for position, row in enumerate(rows):
                row.position = position
            post.media = rows
        session.flush()
        for t in post.targets:
            session.refresh(t)
        if post.status != "draft":
            plans = validate_stored(post)
        else:
            plans, _common = stored_plans(post)
            thread_svc.fill_texts(plans)
        thread_svc.sync_plans(post, plans)
        session.flush()
        post.updated_at = now
        return post_dict(post)


def schedule_post(
    post_id: int | str, at: datetime, *, tz: str | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """Give a draft (or a scheduled post) a publish time."""
    now = now or utcnow()
    if at <= now:
        raise InvalidInput(f"the scheduled time {at.isoformat()} is in the past.", hint="Give a future time.")
    with session_scope(immediate=True) as session:
        post = _editable(session, post_id)
        thread_svc.sync_plans(post, validate_stored(post))
        if post.status == "draft":
            # Seed 002: leaving draft resets created_at so it sorts with new posts.
            post.created_at = now
        post.status = "scheduled"
        post.scheduled_at = at
        if tz:
            post.timezone = tz
        post.updated_at = now
        return post_dict(post)


def cancel_post(post_id: int | str, *, now: datetime | None = None) -> dict[str, Any]:
    with session_scope(immediate=True) as session:
        post = get_post(session, post_id)
        if post.status not in ("draft", "scheduled", "pending"):
            raise BadState(
                f"post {post.id} is {post.status}; only drafts and scheduled posts can be cancelled.",
                hint="To take a published post down use `postcli post delete ID --remote`.",
            )
        post.status = "cancelled"
        post.updated_at = now or utcnow()
        return post_dict(post)


def _account_of(session: Session, target: PostTarget) -> Account:
    account = target.account or session.get(Account, target.account_id)
    if account is None:  # removed from the store by another postcli meanwhile
        raise NotFound(f"account {target.account_id} of post target {target.id} is gone.")
    return account
