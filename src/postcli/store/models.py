"""The store's tables (SQLAlchemy 2.0 typed ORM). Schema changes go through migrations/."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

# Re-exported: services import utcnow (and tests the types) from here.
from postcli.store.model_base import Base, BigInt, UTCDateTime, utcnow  # noqa: F401

# --- accounts, posts, targets ----------------------------------------------------


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), index=True)
    handle: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(255))
    external_id: Mapped[str] = mapped_column(String(255))
    api_base_url: Mapped[str] = mapped_column(String(1024))
    # active | token_expired | disabled
    status: Mapped[str] = mapped_column(String(32), default="active")
    error_code: Mapped[str | None] = mapped_column(String(64))
    token_expires_at: Mapped[datetime | None]
    last_checked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Soft removal: history stays, the account stops being used.
    removed_at: Mapped[datetime | None]
    # Non-secret platform configuration cached at connect time (e.g. Mastodon limits).
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (UniqueConstraint("platform", "api_base_url", "external_id", name="uq_account_identity"),)


class Post(Base):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    # draft | scheduled | pending | processing | completed | partial_success | failed | cancelled
    status: Mapped[str] = mapped_column(String(32), index=True)
    scheduled_at: Mapped[datetime | None] = mapped_column(index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    correlation_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # cli | import | api | demo
    source: Mapped[str] = mapped_column(String(16), default="cli")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    # A claim on the post by one publishing process (publish-due overlap safety): its lease,
    # its holder ("host:pid") and what tells that process from any other with the same pid
    # (services/holders.py), so a provably dead holder's claim is taken over at once.
    locked_until: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(128))
    locked_proc: Mapped[str | None] = mapped_column(String(128))
    last_error: Mapped[str | None] = mapped_column(Text)
    # Hash of text + targets + schedule: repeated `post create` calls return the same post.
    content_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # When `analytics refresh` last fetched this post live (its own rate limit).
    last_refresh_at: Mapped[datetime | None]
    # --title and --link (migration 0005): used by the platforms whose spec takes them.
    title: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(2048))
    # A thread (migration 0009): its parts as written (NULL: one text); `text` is then the parts
    # joined by a blank line, as a platform without threads publishes them. `split`: "plain" or
    # "numbered" when --split cuts the text to each target's limit. `first_comment`: published
    # under the post (a thread: under its first part).
    parts: Mapped[list[str] | None] = mapped_column(JSON)
    split: Mapped[str | None] = mapped_column(String(16))
    first_comment: Mapped[str | None] = mapped_column(Text)

    targets: Mapped[list[PostTarget]] = relationship(
        back_populates="post", cascade="all, delete-orphan", order_by="PostTarget.id"
    )
    media: Mapped[list[PostMedia]] = relationship(
        back_populates="post", cascade="all, delete-orphan", order_by="PostMedia.position"
    )


class PostMedia(Base):
    __tablename__ = "post_media"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    storage: Mapped[str] = mapped_column(String(8), default="local")  # local | s3
    key: Mapped[str] = mapped_column(String(1024))  # path under the media dir, or the S3 key
    url: Mapped[str | None] = mapped_column(String(2048))
    mime_type: Mapped[str] = mapped_column(String(64))
    original_filename: Mapped[str | None] = mapped_column(String(1024))
    size_bytes: Mapped[int] = mapped_column(BigInt)
    width: Mapped[int | None]
    height: Mapped[int | None]
    duration_s: Mapped[float | None] = mapped_column(Float)
    alt_text: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    # NULL: the post's media. Otherwise the --media-for key (platform, handle or account
    # id) whose targets get this file instead of the post's media (services/posts/media_for.py).
    override_for: Mapped[str | None] = mapped_column(String(255))
    # --media-for-part N=FILE: the part of a thread this file goes with (NULL: the first part).
    part: Mapped[int | None] = mapped_column(Integer)

    post: Mapped[Post] = relationship(back_populates="media")


class PostTarget(Base):
    __tablename__ = "post_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of their own (dropped by 0013): uq_target_post_account starts with post_id and
    # ix_target_platform_post with account_id, and serve every lookup and cascade by them.
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(32), index=True)
    text_override: Mapped[str | None] = mapped_column(Text)
    # pending | processing | completed | failed | unknown (may be published; the platform cannot tell) | deleted | skipped
    status: Mapped[str] = mapped_column(String(32), default="pending", index=True)
    idempotency_key: Mapped[str] = mapped_column(String(128))
    platform_post_id: Mapped[str | None] = mapped_column(String(512))
    platform_post_url: Mapped[str | None] = mapped_column(String(2048))
    error: Mapped[str | None] = mapped_column(Text)
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    first_attempt_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None] = mapped_column(index=True)
    last_metrics_at: Mapped[datetime | None]
    # `--field PLATFORM.KEY=VALUE` of this target's platform, as validated by its spec (0005).
    fields: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # What a publish in progress saved for its retry (PublishRequest.save_state): a resumable
    # upload's session, an id the platform hands out before the post exists. Cleared once done.
    publish_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    post: Mapped[Post] = relationship(back_populates="targets")
    account: Mapped[Account] = relationship()
    # A thread's parts and a first comment, each its own publishing record (migration 0009);
    # none for a post that is one text without a first comment.
    parts: Mapped[list[TargetPart]] = relationship(
        back_populates="target", cascade="all, delete-orphan", order_by="TargetPart.id"
    )

    __table_args__ = (
        UniqueConstraint("post_id", "account_id", name="uq_target_post_account"),
        Index("ix_target_platform_post", "account_id", "platform_post_id"),
    )


class TargetPart(Base):
    """One part of a thread (kind "part", position 1..n) or the first comment (kind "comment",
    position 1) of one target: published once, in order, each with its own idempotency key
    and attempts, as a target is (services/posts/parts.py). The target itself is completed,
    with part 1's id and link, once every part and the comment are."""

    __tablename__ = "target_parts"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("post_targets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # part | comment
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    # pending | processing | completed | failed | unknown (as a target's) | deleted
    status: Mapped[str] = mapped_column(String(32), default="pending")
    idempotency_key: Mapped[str] = mapped_column(String(128))
    platform_post_id: Mapped[str | None] = mapped_column(String(512))
    platform_post_url: Mapped[str | None] = mapped_column(String(2048))
    # What a reply to it needs beyond its id (PublishResult.ref: Bluesky's record cid).
    reply_ref: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    first_attempt_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    publish_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # A part's own latest counters (metrics.COUNTERS) and when they were fetched; the target's
    # snapshot holds the sum over its parts. Never filled for a first comment.
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    metrics_at: Mapped[datetime | None]

    target: Mapped[PostTarget] = relationship(back_populates="parts")

    __table_args__ = (UniqueConstraint("target_id", "kind", "position", name="uq_part_target_kind_position"),)


# --- metrics and jobs (migration 0002) ---------------------------------------------


# The peaks migration 0016 added beside 0014's engagement_peak (store/published.py's FIGURES).
PEAKED = ("likes", "comments", "shares", "impressions", "reach", "rate")


class _PostMetricsMixin:
    # metrics.SNAPSHOT_COLUMNS, spelled out for the type checker (tests/test_metrics_vocabulary.py checks they match).
    impressions: Mapped[int | None] = mapped_column(BigInt)
    reach: Mapped[int | None] = mapped_column(BigInt)
    views: Mapped[int | None] = mapped_column(BigInt)
    likes: Mapped[int | None] = mapped_column(BigInt)
    comments: Mapped[int | None] = mapped_column(BigInt)
    shares: Mapped[int | None] = mapped_column(BigInt)
    quotes: Mapped[int | None] = mapped_column(BigInt)
    saves: Mapped[int | None] = mapped_column(BigInt)
    clicks: Mapped[int | None] = mapped_column(BigInt)
    video_views: Mapped[int | None] = mapped_column(BigInt)
    engagement: Mapped[int | None] = mapped_column(BigInt)
    follower_count: Mapped[int | None] = mapped_column(BigInt)


class PostMetricSnapshot(_PostMetricsMixin, Base):
    """One row per fetch of one target's counters, keyed by (target_id, captured_at): a second
    write at the same instant replaces the first (services/snapshots.py). Without a rowid on
    SQLite the rows are stored in key order, so "a target's last snapshot before a moment" is
    one seek and the key needs no index of its own beside the table (docs/design.md)."""

    __tablename__ = "post_metric_snapshots"

    target_id: Mapped[int] = mapped_column(
        ForeignKey("post_targets.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    captured_at: Mapped[datetime] = mapped_column(primary_key=True)
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = ({"sqlite_with_rowid": False},)


class PostMetricLatest(_PostMetricsMixin, Base):
    """The newest snapshot of each target, kept current on insert (reports read this)."""

    __tablename__ = "post_metric_latest"

    target_id: Mapped[int] = mapped_column(ForeignKey("post_targets.id", ondelete="CASCADE"), primary_key=True)
    captured_at: Mapped[datetime]  # with target_id, the key of the snapshot this row copies
    # The last reported (not NULL) value of each counter the timeline sums (metrics.HOURLY_COUNTERS):
    # what the next snapshot's gain counts from (store/rollup.py).
    likes_reported: Mapped[int | None] = mapped_column(BigInt)
    comments_reported: Mapped[int | None] = mapped_column(BigInt)
    shares_reported: Mapped[int | None] = mapped_column(BigInt)
    engagement_reported: Mapped[int | None] = mapped_column(BigInt)
    # The highest value of any of the target's snapshots (NULL: never reported), so at least its
    # value as of any moment (store/published.py's PEAKS): top walks down the index of the one it
    # sorts by, best first, and stops at its limit (services/reports/ranking.py).
    likes_peak: Mapped[int | None] = mapped_column(BigInt)
    comments_peak: Mapped[int | None] = mapped_column(BigInt)
    shares_peak: Mapped[int | None] = mapped_column(BigInt)
    impressions_peak: Mapped[int | None] = mapped_column(BigInt)
    reach_peak: Mapped[int | None] = mapped_column(BigInt)
    engagement_peak: Mapped[int | None] = mapped_column(BigInt)
    rate_peak: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (
        Index("ix_post_metric_latest_peak", "engagement_peak"),
        *(Index(f"ix_post_metric_latest_{f}_peak", f"{f}_peak") for f in PEAKED),
    )


class AccountMetricSnapshot(Base):
    """One row per fetch of one account's counters, keyed like a post snapshot (a second write
    at the same instant replaces the first; stored in key order, no index beside the table)."""

    __tablename__ = "account_metric_snapshots"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    captured_at: Mapped[datetime] = mapped_column(primary_key=True)
    followers: Mapped[int | None] = mapped_column(BigInt)
    following: Mapped[int | None] = mapped_column(BigInt)
    posts_count: Mapped[int | None] = mapped_column(BigInt)
    impressions: Mapped[int | None] = mapped_column(BigInt)
    reach: Mapped[int | None] = mapped_column(BigInt)
    profile_views: Mapped[int | None] = mapped_column(BigInt)
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = ({"sqlite_with_rowid": False},)


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    # post_metrics | account_metrics | publish
    kind: Mapped[str] = mapped_column(String(32))
    # What the job is about, e.g. "target:12" or "account:3"; at most one live job per key.
    key: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # queued | running | done | dead
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    # The claim: lease, holder ("host:pid") and holder's process identity (services/holders.py).
    locked_until: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(128))
    locked_proc: Mapped[str | None] = mapped_column(String(128))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ix_jobs_claim", "status", "run_after"),
        Index("ix_jobs_key", "key"),
    )


class RateBudget(Base):
    """A token bucket shared by every collector (process or machine) of one store.

    Capacity and refill come from config (`[collect.rate_limits]`), not the row,
    so changing the config takes effect at once.
    """

    __tablename__ = "rate_budgets"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)  # "acct:<id>"
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime]
    # Set by a 429: no collector sends to this account before then.
    paused_until: Mapped[datetime | None]


# --- unattended operation (migration 0007) -------------------------------------------


class Run(Base):
    """One run of a command cron starts (publish-due, collect, accounts health, doctor): when
    it started and ended and how (doctor's scheduler check reads them)."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    command: Mapped[str] = mapped_column(String(32), index=True)
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]
    # running | ok | failed (then exit_code says how)
    outcome: Mapped[str] = mapped_column(String(16), default="running")
    exit_code: Mapped[int | None] = mapped_column(Integer)
    holder: Mapped[str | None] = mapped_column(String(128))  # host:pid
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Notification(Base):
    """An event announced (or tried) once: its key says what it is about, so the next cron run
    does not announce it again (services/notify.py). No secret is ever in `payload`."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    event: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # sent | failed | skipped (no notifier configured, or the event not chosen)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)


class Queue(Base):
    """An account's posting queue (migration 0008): weekly wall-clock slots in `timezone`,
    kept in their canonical text form (services/queue/slots.py)."""

    __tablename__ = "queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), unique=True)
    slots: Mapped[str] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


# The rollups' tables live in their own module; imported here so that Base.metadata (Alembic,
# `db copy`) always holds them.
from postcli.store import rollup_tables  # noqa: E402,F401
