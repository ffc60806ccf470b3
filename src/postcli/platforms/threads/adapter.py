"""Threads adapter: the Meta Threads API (graph.threads.net, v1.0).

Everything goes through the shared Graph wire layer (`postcli.platforms.graph`);
this module adds what is Threads' own (docs/platforms/threads.md has the sources):

- publishing is container based: a container per post (TEXT, IMAGE, VIDEO, or a
  CAROUSEL of item containers), polled until FINISHED, then `threads_publish`ed.
  Threads fetches media itself from a public URL (the S3 presigned
  `MediaItem.public_url`). There are no idempotency keys: after a crash
  `find_published` looks for the post among the profile's recent threads.
- 250 API-published posts per rolling 24 hours: the quota is read before any
  container is created.
- text is at most 500 characters, an emoji counting as its UTF-8 bytes.
- a long-lived token lives 60 days and is refreshed (once it is 24 hours old) by
  `check_health` within 7 days of its expiry. The token endpoints are not
  versioned (`/access_token`, `/refresh_access_token`).
- insights are read one post per call (insights.py); rules.py holds what a post may be.

httpx is imported lazily by GraphClient: `postcli --help` must stay fast.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from typing import Any, ClassVar, Iterator
from urllib.parse import urlparse

from postcli.platforms.base import (
    AccountInfo,
    AuthFailed,
    Limits,
    MalformedResponse,
    MediaItem,
    PlatformError,
    PlatformRateLimited,
    PlatformRejected,
    PublishRequest,
    PublishResult,
    RemoteNotFound,
)
from postcli.platforms.graph_container import ContainerPublisher
from postcli.platforms.graph_tokens import (
    PAGE_SIZE,
    RECONCILE_MARGIN,
    RECONCILE_PAGES,
    RESOLVE_PAGES,
    TOKEN_LIFETIME,
    exchange_token,
)
from postcli.platforms.spec import PlatformSpec
from postcli.platforms.threads.insights import DEFAULT_API_VERSION, PLATFORM, ThreadsInsights
from postcli.platforms.threads.rules import (
    IMAGE_TYPES,
    MAX_ALT_TEXT,
    MAX_CAROUSEL_ITEMS,
    MAX_IMAGE_BYTES,
    MAX_TEXT,
    MAX_VIDEO_BYTES,
    MAX_VIDEO_SECONDS,
    VIDEO_TYPES,
    content_problems,
    threads_text_length,
)
from postcli.platforms.threads.spec import SPEC
from postcli.platforms.values import as_dict
from postcli.platforms.values import as_utc as _as_datetime
from postcli.platforms.values import int_or_none as _int
from postcli.platforms.values import utc_now as _now

ME_FIELDS = "id,username,name,threads_profile_picture_url,threads_biography"
MEDIA_FIELDS = "id,media_type,text,timestamp,permalink,shortcode"

_POST_PATH = re.compile(r"^/(?:@[^/]+/post|t)/([A-Za-z0-9_-]+)/?$")
_THREADS_HOSTS = {"threads.net", "www.threads.net", "threads.com", "www.threads.com"}

RECONNECT_HINT = "Reconnect it with a new long-lived token: postcli accounts add threads"


def _comparable(text: str) -> str:
    return unicodedata.normalize("NFC", (text or "").replace("\r\n", "\n")).strip()


def _expected_media_type(media: list[MediaItem]) -> str:
    if len(media) > 1:
        return "CAROUSEL_ALBUM"
    if len(media) == 1:
        return "VIDEO" if media[0].is_video else "IMAGE"
    return "TEXT_POST"


# --- the adapter -----------------------------------------------------------------------


class ThreadsAdapter(ThreadsInsights):
    """One Threads profile, acting with a (long-lived) Threads user access token."""

    spec: ClassVar[PlatformSpec] = SPEC
    has_metrics: ClassVar[bool] = True
    # No multi-id insights call is documented for Threads: a batch of ids is one
    # request per post.
    metrics_batch_size: ClassVar[int] = 25
    metrics_request_per_post: ClassVar[bool] = True  # one request per post: the rate budget charges per post
    label: ClassVar[str] = "Threads"
    token_hint: ClassVar[str] = RECONNECT_HINT
    calls_hint: ClassVar[str | None] = RECONNECT_HINT
    refresh_grant: ClassVar[str] = "th_refresh_token"
    identity_fields: ClassVar[str] = "id,username"
    # No idempotency key: find_published looks among the profile's threads; the listing
    # is filtered by `since` but its order is not documented, so the oldest match wins.
    reconciles_by_recent_posts: ClassVar[bool] = True
    reconcile_margin: ClassVar[timedelta] = RECONCILE_MARGIN
    reconcile_lookback: ClassVar[timedelta | None] = timedelta(hours=24)
    reconcile_oldest_match: ClassVar[bool] = True

    # -- account -------------------------------------------------------------------

    def connect(self, identifier: str | None, secret: str) -> AccountInfo:
        token = (secret or "").strip()
        if not token:
            raise AuthFailed(
                "a Threads access token is required",
                platform=PLATFORM,
                hint="Generate one in the Meta App Dashboard (Threads use case > Access tokens).",
            )
        self._pending_token = token
        try:
            with self._calls("verifying the access token"):
                me = self._graph().request("GET", "me", params={"fields": ME_FIELDS}, token=token)
                user_id = str(me["id"])
                username = str(me["username"])
            settings = dict(self.ctx.settings or {})
            token, expires, source, note = self._long_lived(token)
        finally:
            self._pending_token = None
        settings.update(
            {
                "user_id": user_id,
                "username": username,
                "api_version": settings.get("api_version") or DEFAULT_API_VERSION,
                "token_source": source,  # exchange | refresh | estimate
            }
        )
        self._keep_identity(settings, note, user_id, username)
        self._store_token(token, _now(), expires, estimated=source == "estimate")
        return AccountInfo(
            external_id=user_id, handle=username, display_name=me.get("name") or None, token_expires_at=expires
        )

    def _long_lived(self, token: str) -> tuple[str, datetime, str, str | None]:
        """(token, expiry, how the expiry is known, why an exchange failed).

        With the app secret a short-lived token is exchanged for a long-lived one;
        otherwise (or when the exchange is refused, e.g. the token is long-lived
        already) a refresh tells the expiry of a token at least 24 hours old. A
        pasted token younger than that cannot tell its expiry: 60 days is assumed
        and recorded as an estimate.
        """
        now = _now()
        note = None
        app_secret = (self.ctx.secrets or {}).get("app_secret")
        if app_secret:
            try:
                new, seconds = exchange_token(
                    self._graph(), self._calls, grant_type="th_exchange_token", app_secret=str(app_secret), token=token
                )
                return new, now + (timedelta(seconds=seconds) if seconds else TOKEN_LIFETIME), "exchange", None
            except PlatformError as exc:
                note = exc.message
        try:
            with self._calls("refreshing the access token"):
                body = self._graph().request(
                    "GET",
                    self._unversioned("refresh_access_token"),
                    params={"grant_type": "th_refresh_token"},
                    token=token,
                )
                new, seconds = str(body["access_token"]), _int(body.get("expires_in"))
            if seconds:
                return new, now + timedelta(seconds=seconds), "refresh", note
            token = new
        except PlatformError:
            pass  # too young to refresh (or short-lived): estimate
        return token, now + TOKEN_LIFETIME, "estimate", note

    def limits(self) -> Limits:
        return Limits(
            max_text=MAX_TEXT,
            count_unit="characters",  # an emoji counts its UTF-8 bytes (text_length)
            max_images=MAX_CAROUSEL_ITEMS,
            # A carousel holds at most 20 items in all; publish() checks the total.
            max_videos=MAX_CAROUSEL_ITEMS,
            max_image_bytes=MAX_IMAGE_BYTES,
            max_video_bytes=MAX_VIDEO_BYTES,
            max_video_seconds=MAX_VIDEO_SECONDS,
            max_alt_text=MAX_ALT_TEXT,
            mime_types=IMAGE_TYPES + VIDEO_TYPES,
            images_and_video=True,
            needs_public_media_url=True,
        )

    def text_length(self, text: str) -> int:
        return threads_text_length(text)

    # -- publishing ----------------------------------------------------------------

    def publish(self, req: PublishRequest) -> PublishResult:
        problems = content_problems(req)
        if problems:
            raise PlatformRejected(
                "cannot publish to Threads: " + " ".join(problems),
                platform=PLATFORM,
                hint="Nothing was sent to Threads.",
            )
        user_id = self._user_id()
        self._check_quota(user_id)
        containers = self._containers(user_id)
        # A part of a thread (or a first comment) is a reply to the post before it: reply_to_id on
        # its container (developers.facebook.com/docs/threads/retrieve-and-manage-replies/create-replies).
        reply = {"reply_to_id": req.reply_to.platform_post_id} if req.reply_to is not None else {}
        if not req.media:
            media_id = containers.run([({"media_type": "TEXT", "text": req.text, **reply}, "the post")])
        elif len(req.media) == 1:
            item = req.media[0]
            media_id = containers.run(
                [({**self._item_params(item), "text": req.text or None, **reply}, item.path.name)]
            )
        else:
            media_id = containers.run(
                [({**self._item_params(item), "is_carousel_item": "true"}, item.path.name) for item in req.media],
                carousel={"media_type": "CAROUSEL", "text": req.text or None, **reply},
            )
        return self._published(media_id, req.text)

    def _containers(self, user_id: str) -> ContainerPublisher:
        return ContainerPublisher(
            graph=self._graph(),
            ctx=self.ctx,
            platform=PLATFORM,
            label="Threads",
            owner=user_id,
            create_edge="threads",
            publish_edge="threads_publish",
            status_fields="status,error_message",
            calls=self._calls,
        )

    def _item_params(self, item: MediaItem) -> dict[str, Any]:
        if item.is_video:
            return {"media_type": "VIDEO", "video_url": item.public_url, "alt_text": item.alt_text or None}
        return {"media_type": "IMAGE", "image_url": item.public_url, "alt_text": item.alt_text or None}

    def _check_quota(self, user_id: str) -> None:
        """Refuse before creating anything when the 24-hour publishing quota is used up."""
        try:
            with self._calls("reading the publishing quota"):
                body = self._graph().get(f"{user_id}/threads_publishing_limit", fields="quota_usage,config")
                entries = body.get("data") or [{}]
                entry = entries[0] if isinstance(entries[0], dict) else {}
        except (PlatformRejected, MalformedResponse, RemoteNotFound):
            return  # an unreadable quota must not block publishing: threads_publish enforces it anyway
        usage = _int(entry.get("quota_usage"))
        config = as_dict(entry.get("config"))
        total = _int(config.get("quota_total"))
        if usage is None or total is None or usage < total:
            return
        window = _int(config.get("quota_duration")) or 86400
        hours = window / 3600
        raise PlatformRateLimited(
            f"Threads allows {total} API-published posts per {hours:g} hours and this profile has published "
            f"{usage}; nothing was sent.",
            platform=PLATFORM,
            retry_after=float(window),  # at the latest: the oldest post in the window ages out by then
            hint=f"The window is rolling: a post becomes possible again when the oldest of those is {hours:g} "
            f"hours old, at the latest in {hours:g} hours. Try again later (or schedule the post).",
        )

    def _published(self, media_id: str, text: str) -> PublishResult:
        try:
            with self._calls("reading the published post"):
                info = self._graph().get(media_id, fields=MEDIA_FIELDS)
        except PlatformError:
            # The post is out; a missing permalink must not turn it into a failure.
            return PublishResult(platform_post_id=media_id, published_at=_now(), text=text)
        return PublishResult(
            platform_post_id=media_id,
            url=info.get("permalink") or None,
            published_at=_as_datetime(info.get("timestamp")) or _now(),
            text=info.get("text", text),
        )

    def _result(self, post: dict[str, Any]) -> PublishResult:
        return PublishResult(
            platform_post_id=str(post["id"]),
            url=post.get("permalink") or None,
            published_at=_as_datetime(post.get("timestamp")),
            text=post.get("text"),
        )

    def _recent(
        self, *, since: datetime | None, pages: int, what: str, edge: str = "threads", fields: str = MEDIA_FIELDS
    ) -> Iterator[dict[str, Any]]:
        """The profile's threads (or, `edge` "replies", its replies), newest first (cursor paging)."""
        user_id = self._user_id()
        params: dict[str, Any] = {"fields": fields, "limit": PAGE_SIZE}
        if since is not None:
            params["since"] = int(since.timestamp())
        for _ in range(pages):
            with self._calls(what):
                body = self._graph().request("GET", f"{user_id}/{edge}", params=params)
                page = [p for p in body.get("data") or [] if isinstance(p, dict)]
                paging = body.get("paging") or {}
                after = (paging.get("cursors") or {}).get("after") if isinstance(paging, dict) else None
            yield from page
            # Graph omits `next` on the last page; a short page is the last one too.
            if not page or not after or (not paging.get("next") and len(page) < PAGE_SIZE):
                return
            params = {**params, "after": after}

    def find_published(self, req: PublishRequest) -> PublishResult | None:
        """Was `req` already published? Used after an attempt with an unknown outcome.

        Threads has no idempotency keys, so this looks at the profile's own threads
        created since the first attempt (minus 5 minutes of clock skew; the last
        24 hours when that is unknown) for one with exactly this text and media
        type. Limits: a post edited or deleted since is not found, and an identical
        post made by hand in that window would be taken for ours. A reply (a part of a
        thread, a first comment) is looked for among the profile's replies, under the same
        post it replies to.
        """
        if req.reply_to is None:
            return self.find_in_recent_posts(req)
        parent = req.reply_to.platform_post_id
        since = self.reconcile_since(req)
        found = [
            post
            for post in self._recent(
                since=since,
                pages=RECONCILE_PAGES,
                what="looking for an earlier attempt among the profile's replies",
                edge="replies",
                fields=MEDIA_FIELDS + ",replied_to",
            )
            if self.same_post(post, req) and str(as_dict(post.get("replied_to")).get("id") or parent) == parent
        ]
        if not found:
            return None
        # The listing's order is not documented: the oldest match is the first attempt's.
        return self._result(min(found, key=lambda p: _as_datetime(p.get("timestamp")) or _now()))

    def recent_posts(self, since: datetime | None) -> Iterator[dict[str, Any]]:
        return self._recent(
            since=since, pages=RECONCILE_PAGES, what="looking for an earlier attempt among the profile's threads"
        )

    def post_created_at(self, post: dict[str, Any]) -> datetime | None:
        return _as_datetime(post.get("timestamp"))

    def same_post(self, post: dict[str, Any], req: PublishRequest) -> bool:
        return post.get("media_type") in (_expected_media_type(req.media), None) and _comparable(
            post.get("text") or ""
        ) == _comparable(req.text)

    def reconciled(self, post: dict[str, Any], req: PublishRequest) -> PublishResult:
        return self._result(post)

    def delete(self, platform_post_id: str) -> None:
        try:
            with self._calls(f"deleting thread {platform_post_id}"):
                body = self._graph().delete(str(platform_post_id))
        except RemoteNotFound:
            return  # already gone is what we wanted
        if isinstance(body, dict) and body.get("success") is False:
            raise PlatformRejected(f"Threads did not delete thread {platform_post_id}", platform=PLATFORM)

    # -- importing -----------------------------------------------------------------

    def resolve_post(self, url_or_id: str) -> PublishResult:
        """A media id, or a threads.net / threads.com post URL of this profile.

        The API cannot look a post up by its shortcode, so a URL is matched against
        the `shortcode` of the profile's newest threads (up to 500).
        """
        value = (url_or_id or "").strip()
        if value.isdigit():
            with self._calls(f"reading thread {value}"):
                return self._result(self._graph().get(value, fields=MEDIA_FIELDS))
        parsed = urlparse(value if "://" in value else f"https://{value}")
        m = _POST_PATH.match(parsed.path)
        if parsed.netloc.lower() not in _THREADS_HOSTS or not m:
            raise RemoteNotFound(
                f"{value!r} is not a Threads post URL",
                platform=PLATFORM,
                hint="Give the media id or a URL like https://www.threads.net/@you/post/CODE.",
            )
        code = m.group(1)
        for post in self._recent(
            since=None, pages=RESOLVE_PAGES, what="looking for the post among the profile's threads"
        ):
            link = urlparse(str(post.get("permalink") or "")).path.rstrip("/")
            if post.get("shortcode") == code or link.endswith(f"/{code}"):
                return self._result(post)
        raise RemoteNotFound(
            f"no thread {code} among the {RESOLVE_PAGES * PAGE_SIZE} newest threads of this profile",
            platform=PLATFORM,
            hint="Only this account's own posts can be imported; for an older one give its media id.",
        )
