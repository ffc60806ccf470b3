"""The contract between services and platform adapters.

An adapter is the only code that talks to a network. It never touches the
database: it receives an `AccountContext` (base URL, ids, cached settings and a
handle on the account's secrets) and returns the dataclasses below. Every
failure leaves it as one of the typed errors in `postcli.errors`
(AuthFailed, PlatformRateLimited, RemoteNotFound, PlatformRejected,
PlatformUnavailable, MalformedResponse, OutcomeUnknown, PlatformError).

This module must stay cheap to import: no SDKs here.
"""

from __future__ import annotations

import time
import typing
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, ClassVar, Iterable, Protocol, runtime_checkable

from postcli import metrics
from postcli.platforms.publishing import (  # re-exported: what an adapter is asked and answers
    MediaItem,
    PostRef,
    PublishRequest,
    PublishResult,
)

if typing.TYPE_CHECKING:
    from postcli.platforms.spec import PlatformSpec
from postcli.errors import (  # re-exported for adapters
    AuthFailed,
    MalformedResponse,
    OutcomeUnknown,
    PlatformError,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
    RemoteNotFound,
)

__all__ = [
    "AccountContext",
    "AccountInfo",
    "AccountMetrics",
    "Adapter",
    "AdapterBase",
    "AuthFailed",
    "HealthResult",
    "Limits",
    "MalformedResponse",
    "MediaItem",
    "OutcomeUnknown",
    "PlatformError",
    "PlatformRateLimited",
    "PlatformRejected",
    "PlatformUnavailable",
    "PostMetrics",
    "PostRef",
    "PublishRequest",
    "PublishResult",
    "RemoteNotFound",
]


@dataclass
class AccountContext:
    """What an adapter knows about the account it acts for.

    `secrets` is the account's secret dict (tokens, session); when the adapter
    changes it (a refreshed session), it calls `save_secrets(new_dict)` at once
    so the new token survives a crash. `settings` is non-secret cached platform
    configuration (e.g. Mastodon's instance limits); an adapter that refreshes it
    sets `settings_changed = True` and the service persists it.
    """

    platform: str
    api_base_url: str
    handle: str | None = None
    external_id: str | None = None
    account_id: int | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, Any] = field(default_factory=dict)
    save_secrets: Callable[[dict[str, Any]], None] = lambda _s: None
    # The secrets as stored now: another process may have refreshed a single-use token.
    load_secrets: Callable[[], dict[str, Any]] = lambda: {}
    # Held around a refresh of a rotating token (see platforms/rotation.py): one process at a time.
    refresh_lock: Callable[[], AbstractContextManager[Any]] = nullcontext
    settings_changed: bool = False
    timeout: float = 30.0
    # When the stored access token expires (accounts.token_expires_at), if known:
    # check_health refreshes a long-lived token that is near it.
    token_expires_at: datetime | None = None
    initial_token_expires_at: datetime | None = None  # as stored: the service saves a change
    # How an adapter waits (container polling): tests inject a fake clock and sleep here.
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    # Called before each request an adapter makes on its own schedule (a container
    # status check), naming it, with what it costs in the budget's units (default 1): the hook
    # for a service to charge the account's request budget. Where the budget is a daily
    # quota (spec.rate_limit_reset) a charge it cannot cover raises PlatformRateLimited,
    # so the request is not sent.
    charge_request: Callable[..., None] = lambda _what, _cost=1: None
    # `[graph] version` from config.toml (Facebook, Instagram); the account's own
    # settings["api_version"] wins over it.
    graph_version: str | None = None
    # A setting of the user's app for this platform: POSTCLI_<PLATFORM>_<KEY>, else the config
    # file's [apps.<platform>] KEY (LinkedIn's API version); None when neither is set.
    app_setting: Callable[[str], str | None] = lambda _key: None


@dataclass
class AccountInfo:
    """Who the credentials belong to, as the platform says."""

    external_id: str  # DID, account id, page id
    handle: str
    display_name: str | None = None
    token_expires_at: datetime | None = None


@dataclass
class Limits:
    """What a platform accepts in one post. None = no limit known."""

    max_text: int
    url_weight: int | None = None  # every URL counts this many characters (Mastodon)
    count_unit: str = "characters"  # "graphemes" for Bluesky
    max_images: int = 4
    max_videos: int = 1
    max_image_bytes: int | None = None
    # An image/gif may be this big instead (X: 15 MB beside 5 MB for other images); None:
    # max_image_bytes holds for GIFs too.
    max_gif_bytes: int | None = None
    max_video_bytes: int | None = None
    max_alt_text: int | None = None
    # Video length in seconds, checked before anything is sent when the file's duration is known.
    max_video_seconds: float | None = None
    min_video_seconds: float | None = None
    # A video in a post of several media, when the platform holds it to other limits than a
    # video posted alone (Instagram: a carousel item is not a Reel). None: the limits above.
    carousel_max_video_bytes: int | None = None
    carousel_max_video_seconds: float | None = None
    mime_types: tuple[str, ...] = ("image/png", "image/jpeg", "image/webp")
    images_and_video: bool = False  # may one post mix images and a video
    # The platform fetches media itself from a public URL (Threads, Instagram):
    # publishing media there needs the S3 store ([s3] in config.toml).
    needs_public_media_url: bool = False
    # Which media it fetches that way, when needs_public_media_url: "image", "video" or both
    # (TikTok pulls photos from a URL and takes videos uploaded).
    public_media_kinds: tuple[str, ...] = ("image", "video")
    requires_media: bool = False  # no text-only posts (Instagram)
    forbidden_chars: str = ""  # characters the platform refuses in the text (YouTube: "<>")
    max_items: int | None = None  # images and videos together (e.g. a carousel of 10)


@dataclass
class PostMetrics:
    """Normalized counters of one post at one moment. None = not reported.

    The fields are metrics.COUNTERS (tests/test_metrics_vocabulary.py checks it)."""

    impressions: int | None = None
    reach: int | None = None
    views: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    quotes: int | None = None
    saves: int | None = None
    clicks: int | None = None
    video_views: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    # The post's own id and link, when it was asked for by a provisional id its publish
    # handed back (TikTok's publish id, until moderation gives a public post its id): the
    # collector stores them on the target, and the next collect asks by the new id. Set
    # after construction (not an __init__ argument, so PostMetrics(**counters) stays typed).
    resolved: PublishResult | None = field(default=None, init=False, compare=False)
    # What the platform says the post is when it is up but not simply live ("removed by the
    # subreddit's moderators": Reddit keeps such a post, and its numbers, for its author).
    # Kept with the snapshot (its raw, under "platform_state") and shown with the post; None:
    # nothing to say. Set after construction (not an __init__ argument, so
    # PostMetrics(**counters) stays typed).
    platform_state: str | None = field(default=None, init=False, compare=False)

    def as_dict(self) -> dict[str, int | None]:
        return {k: getattr(self, k) for k in metrics.COUNTERS}


@dataclass
class AccountMetrics:
    followers: int | None = None
    following: int | None = None
    posts_count: int | None = None
    impressions: int | None = None
    reach: int | None = None
    profile_views: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class HealthResult:
    ok: bool
    error_code: str | None = None
    message: str | None = None
    token_expires_at: datetime | None = None


@runtime_checkable
class Adapter(Protocol):
    """One network. Constructed per account: `AdapterClass(ctx)`. Adapters subclass
    AdapterBase (below), which declares the optional capabilities with defaults."""

    platform: ClassVar[str]
    default_base_url: ClassVar[str]
    has_metrics: ClassVar[bool]
    # Most post ids fetch_post_metrics takes in one call (batching).
    metrics_batch_size: ClassVar[int]
    # The optional capabilities (metrics_request_per_post, deletion_grace,
    # min_collect_hours, idempotency_key, reconciles_by_recent_posts) are declared with
    # their defaults on AdapterBase; services read them from there, never by probing.

    def __init__(self, ctx: AccountContext) -> None: ...

    def connect(self, identifier: str | None, secret: str) -> AccountInfo:
        """Log in or verify a token (`accounts add`). Fills ctx.secrets (calling
        save_secrets) and ctx.settings (setting settings_changed)."""
        ...

    def limits(self) -> Limits: ...

    def text_length(self, text: str) -> int:
        """Length of `text` as this platform counts it against Limits.max_text."""
        ...

    def publish(self, req: PublishRequest) -> PublishResult: ...

    def find_published(self, req: PublishRequest) -> PublishResult | None:
        """After an unknown outcome: was `req` (by its idempotency key) already published?
        OutcomeUnknown when the platform gives no way to tell: nothing is sent again blind."""
        ...

    def delete(self, platform_post_id: str) -> None:
        """Delete a post; deleting an already deleted post is not an error."""
        ...

    def fetch_post_metrics(self, platform_post_ids: list[str]) -> dict[str, PostMetrics | None]:
        """Metrics per id; None for a post that no longer exists (deleted)."""
        ...

    def fetch_account_metrics(self) -> AccountMetrics: ...

    def check_health(self) -> HealthResult:
        """Refresh the token when near expiry, then a light identity call."""
        ...

    def resolve_post(self, url_or_id: str) -> PublishResult:
        """Turn a post URL/URI/id made elsewhere into (id, url); RemoteNotFound if absent."""
        ...

    def collect_notes(self) -> list[str]:
        """What `collect` says once about this account after fetching (AdapterBase: none)."""
        ...


if typing.TYPE_CHECKING:
    # For the type checker an AdapterBase is an Adapter (a subclass must implement its
    # methods); at run time it is a plain class, so a missing method stays an AttributeError.
    _AdapterMethods = Adapter
else:
    _AdapterMethods = object


class AdapterBase(_AdapterMethods):
    """What every adapter shares: the optional capabilities with their defaults, secret
    masking through `postcli.secrets_redact`, and the outline of reconciling an attempt
    whose outcome is unknown by looking through the account's recent posts.

    An adapter subclasses this, sets the ClassVars it differs in, and implements the
    methods of `Adapter`. Services read the capabilities as plain attributes (never
    `getattr` with a default): every one is declared here. See docs/adapters.md.
    """

    # The platform's spec (platforms/<name>/spec.py): `platform` and `default_base_url` come from it.
    spec: ClassVar[PlatformSpec]
    platform: ClassVar[str]
    default_base_url: ClassVar[str]
    has_metrics: ClassVar[bool] = True
    # Most post ids fetch_post_metrics takes in one call (batching).
    metrics_batch_size: ClassVar[int] = 1
    # True when fetch_post_metrics makes one request per post (so the shared request
    # budget charges per post, not per batch).
    metrics_request_per_post: ClassVar[bool] = False
    # How long after publishing a post the platform does not show yet may still appear
    # (an indexing lag, Bluesky's AppView: 10 minutes). Default: none, so a None from
    # fetch_post_metrics is deleted at once (services/deletions.py).
    deletion_grace: ClassVar[timedelta] = timedelta(0)
    # False: the platform hides posts without deleting them and does not say which it did
    # (TikTok lists public videos only and hides those under review; it has no delete API).
    # A None from fetch_post_metrics is then "not visible now": the post stays published,
    # its last numbers stay, and the next collect asks again. True: None means deleted.
    absence_is_deletion: ClassVar[bool] = True
    # Collect a post at least this many hours after publishing even when `collect --days`
    # is shorter (Instagram's and Facebook's insights lag: 48).
    min_collect_hours: ClassVar[int] = 0
    # The platform itself de-duplicates a repeated publish by PublishRequest.idempotency_key
    # (Mastodon's Idempotency-Key header, Bluesky's record key); False: it has no such key
    # and find_published has to look for the post.
    idempotency_key: ClassVar[bool] = False
    # find_published looks through the account's recent posts (find_in_recent_posts):
    # set by adapters that implement recent_posts / same_post / reconciled below.
    reconciles_by_recent_posts: ClassVar[bool] = False
    # Recent posts created this long before the first attempt still count (clock skew).
    reconcile_margin: ClassVar[timedelta] = timedelta(minutes=5)
    # How far back to look when the first attempt's time is unknown; None: no bound.
    reconcile_lookback: ClassVar[timedelta | None] = None
    # True: every recent post in the window is read and the OLDEST match wins (a
    # platform whose listing is not strictly newest first). False: newest first, the
    # first match wins and the first post older than the window ends the search.
    reconcile_oldest_match: ClassVar[bool] = False
    # Publishes a thread: each part after the first is a reply to the one before it
    # (PublishRequest.reply_to and thread_root). Declared in the spec: "thread" in `publishes`.
    threads: ClassVar[bool] = False
    # Publishes a first comment under a post (publish_comment / find_comment). Declared in the
    # spec: "first_comment" in `publishes`.
    first_comment: ClassVar[bool] = False

    ctx: AccountContext

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        spec = cls.__dict__.get("spec")
        if spec is not None:  # the name, the default host and what it publishes are said once, in the spec
            cls.platform = spec.name
            cls.default_base_url = spec.default_base_url or ""
            if "threads" not in cls.__dict__:
                cls.threads = "thread" in spec.publishes
            if "first_comment" not in cls.__dict__:
                cls.first_comment = "first_comment" in spec.publishes

    def __init__(self, ctx: AccountContext) -> None:
        self.ctx = ctx

    def host(self, kind: str) -> str:
        """The base URL of the documented host `kind` ("upload", "oauth", "api"...): the spec's,
        unless the account points elsewhere (--api-base: a proxy or a test server), which then
        stands in for every host of the platform with the documented paths."""
        base = (self.ctx.api_base_url or "").rstrip("/")
        if base and base != (self.spec.default_base_url or "").rstrip("/"):
            return base
        return self.spec.host(kind)

    @classmethod
    def new_idempotency_key(cls) -> str:
        """A fresh key for a new target (the platform's own form where it has one: Bluesky's
        record key is a TID); kept from the first attempt on, so a retry reuses it."""
        import uuid

        return uuid.uuid4().hex

    def preflight(self, req: PublishRequest) -> None:
        """Checks of `req` that need the platform, made by `post create` (and `post publish`,
        `post schedule`) before anything is stored: raise PlatformRejected naming the problem,
        and the command exits 2 with nothing stored or sent. TikTok asks creator_info which
        privacy levels, interaction switches and video length the creator may use. Other
        errors (an outage, a token to refresh) are left for publishing to meet; `publish`
        checks again. Default: nothing to check."""

    # -- secrets ---------------------------------------------------------------------

    def secrets_in_play(self) -> Iterable[object]:
        """Every secret this adapter may hold now; masked out of every message it raises.

        Default: the values of ctx.secrets but the times kept with them ("expires_at",
        "token_obtained_at"...). An adapter holding more (a token just exchanged, an SDK
        client's copy) adds them."""
        return [v for k, v in (self.ctx.secrets or {}).items() if not k.endswith("_at")]

    def scrub(self, text: str) -> str:
        """`text` with every secret in play masked (secrets_redact.MASK)."""
        from postcli.secrets_redact import mask

        return mask(text, self.secrets_in_play())

    def scrub_error(self, exc: PlatformError) -> PlatformError:
        """The same error with its message scrubbed (args kept in step)."""
        message = self.scrub(exc.message)
        if message != exc.message:
            exc.message = message
            exc.args = (message,)
        return exc

    # -- first comments -------------------------------------------------------------------

    def publish_comment(self, req: PublishRequest) -> PublishResult:
        """Publish `req.text` as a comment under `req.reply_to` (the post, or a thread's first
        part), right after it. Default: a self-reply, through `publish` (platforms that thread);
        a platform whose comments are not posts (Instagram, Facebook) overrides this and
        `find_comment`."""
        return self.publish(req)

    def find_comment(self, req: PublishRequest) -> PublishResult | None:
        """After an unknown outcome: was the comment `req` already published? As find_published."""
        return self.find_published(req)

    def comment_limit(self) -> int:
        """The longest first comment, counted as text_length counts (a self-reply is a post)."""
        return self.limits().max_text

    def collect_notes(self) -> list[str]:
        """What `collect` should say once about this account after fetching (counters an
        access level withholds, so they stay null); [] by default."""
        return []

    # -- reconciling an unknown outcome -------------------------------------------------

    def recent_posts(self, since: datetime | None) -> Iterable[Any]:
        """The account's posts, newest first, created after `since` where the platform can
        filter (a bounded number of pages). Needed when reconciles_by_recent_posts."""
        raise NotImplementedError

    def post_created_at(self, post: Any) -> datetime | None:
        """When a listed post was created (aware UTC), if the listing says."""
        raise NotImplementedError

    def same_post(self, post: Any, req: PublishRequest) -> bool:
        """Is the listed `post` what `req` would have published (text, media)?"""
        raise NotImplementedError

    def reconciled(self, post: Any, req: PublishRequest) -> PublishResult:
        """The PublishResult for a listed post found to be `req`'s."""
        raise NotImplementedError

    def reconcile_since(self, req: PublishRequest) -> datetime | None:
        """The oldest creation time a post of `req` can have."""
        first = req.first_attempt_at
        if first is not None:
            if first.tzinfo is None:
                first = first.replace(tzinfo=timezone.utc)
            return first - self.reconcile_margin
        if self.reconcile_lookback is None:
            return None
        return datetime.now(timezone.utc) - self.reconcile_lookback

    def find_in_recent_posts(self, req: PublishRequest) -> PublishResult | None:
        """The outline every "look for it among recent posts" reconciliation follows.

        A post published by hand with the same content in the window is taken for ours:
        the platforms offer nothing better without an idempotency key."""
        since = self.reconcile_since(req)
        found: list[tuple[datetime, Any]] = []
        for post in self.recent_posts(since):
            created = self.post_created_at(post)
            if since is not None and created is not None and created < since:
                if self.reconcile_oldest_match:
                    continue
                return None  # newest first: the rest are older still
            if not self.same_post(post, req):
                continue
            if not self.reconcile_oldest_match:
                return self.reconciled(post, req)
            if created is not None:
                found.append((created, post))
        if not found:
            return None
        return self.reconciled(min(found, key=lambda pair: pair[0])[1], req)
