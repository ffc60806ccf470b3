"""What an adapter is asked to publish and what it answers (re-exported by platforms/base.py,
where adapters import them from)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable


@dataclass
class MediaItem:
    path: Path
    mime_type: str
    size_bytes: int
    alt_text: str | None = None
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    public_url: str | None = None  # presigned URL for platforms that fetch media themselves

    @property
    def is_video(self) -> bool:
        return self.mime_type.startswith("video/")


@dataclass
class PostRef:
    """A post already published that a new one replies to or comments on: its id and what the
    adapter's PublishResult.ref said a reply needs beyond the id (Bluesky: the record's cid)."""

    platform_post_id: str
    ref: dict[str, Any] = field(default_factory=dict)


@dataclass
class PublishRequest:
    text: str
    idempotency_key: str
    media: list[MediaItem] = field(default_factory=list)
    # When the idempotency key was first used; Mastodon only replays keys for ~1 hour.
    first_attempt_at: datetime | None = None
    # --title and --link, where the platform's spec takes them; --field values of this
    # platform, checked against its spec and with its defaults filled in.
    title: str | None = None
    link: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    # What an earlier attempt of this target saved with save_state ({} at first): a resumable
    # upload's session URI, a publish id the platform answers with before the post exists.
    state: dict[str, Any] = field(default_factory=dict)
    # Stores `state` for this target at once (its own transaction: it survives a crash right
    # after); call it before the step that the state lets a retry resume or check.
    save_state: Callable[[dict[str, Any]], None] = lambda _state: None
    # A part of a thread after the first (adapters with `threads`): publish it as a reply to
    # `reply_to`, the part before it; `thread_root` is the first part. A first comment
    # (publish_comment) gets the post it goes under in both. None: a post of its own.
    reply_to: PostRef | None = None
    thread_root: PostRef | None = None


@dataclass
class PublishResult:
    platform_post_id: str
    url: str | None = None
    published_at: datetime | None = None
    text: str | None = None  # plain text, when known (resolve_post fills it for `post import`)
    # Who made the post (the platform's account id), when resolve_post knows: `post import`
    # refuses a stranger's post (its numbers would be reported as the account's own).
    author: str | None = None
    # What a reply to this post needs beyond its id, kept with a part of a thread and handed
    # back as PostRef.ref (Bluesky: {"cid": ...}); {} when the id is enough.
    ref: dict[str, Any] = field(default_factory=dict)
    # Published, but not quite as asked, said to the user beside the success (not a failure):
    # YouTube keeping a video private that was asked to be public.
    notice: str | None = None
