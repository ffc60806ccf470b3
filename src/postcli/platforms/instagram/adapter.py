"""Instagram adapter: the Instagram API with Instagram Login (graph.instagram.com).

Everything goes through the shared Graph wire layer (`postcli.platforms.graph`);
this package adds what is Instagram's own (docs/platforms/instagram.md has the
sources; insights.py holds the metrics, rules.py what a post may be):

- publishing is container based: Instagram fetches each image/video from a
  public URL (the S3 presigned `MediaItem.public_url`), we poll the container
  until FINISHED, then `media_publish` it. There are no idempotency keys and no
  text-only posts.
- a long-lived token lives 60 days and can be refreshed (GET
  /refresh_access_token) once it is 24 hours old; nothing tells us the expiry of
  a pasted token, so it is estimated until the first refresh reports it.
- insights lag up to 48 hours and some metrics are refused per media type
  (error 100 naming them): those are dropped and the rest kept.
- the API cannot delete posts of Instagram Login accounts.

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
from postcli.platforms.graph_comments import oldest_match
from postcli.platforms.graph_container import ContainerPublisher
from postcli.platforms.graph_tokens import (
    PAGE_SIZE,
    RECONCILE_MARGIN,
    RECONCILE_PAGES,
    RESOLVE_PAGES,
    TOKEN_LIFETIME,
    exchange_token,
)
from postcli.platforms.instagram.insights import PLATFORM, InstagramInsights
from postcli.platforms.instagram.rules import (
    CAROUSEL_MAX_VIDEO_BYTES,
    CAROUSEL_MAX_VIDEO_SECONDS,
    IMAGE_TYPES,
    MAX_ALT_TEXT,
    MAX_CAPTION,
    MAX_CAROUSEL_ITEMS,
    MAX_IMAGE_BYTES,
    MAX_VIDEO_BYTES,
    MAX_VIDEO_SECONDS,
    MIN_VIDEO_SECONDS,
    VIDEO_TYPES,
    content_problems,
)
from postcli.platforms.instagram.spec import SPEC
from postcli.platforms.spec import PlatformSpec
from postcli.platforms.values import as_dict
from postcli.platforms.values import as_utc as _as_datetime
from postcli.platforms.values import int_or_none as _int
from postcli.platforms.values import utc_now as _now

ME_FIELDS = "user_id,username,name,account_type,profile_picture_url,followers_count,follows_count,media_count"
MEDIA_FIELDS = "id,caption,media_type,media_product_type,permalink,shortcode,timestamp"

_POST_PATH = re.compile(r"/(?:p|reels?|tv)/([A-Za-z0-9_-]+)")
_INSTAGRAM_HOSTS = {"instagram.com", "www.instagram.com", "m.instagram.com", "instagr.am", "www.instagr.am"}

RECONNECT_HINT = "Reconnect it with a new long-lived token: postcli accounts add instagram"


# --- small helpers -------------------------------------------------------------------


def _comparable(text: str) -> str:
    # Instagram may return captions without the "@" of mentions (IG Media reference:
    # "captions exclude the @ symbol unless the app user can perform admin-equivalent
    # tasks on the app"), and normalizes whitespace; compare what survives.
    text = unicodedata.normalize("NFC", text or "").replace("@", "")
    return " ".join(text.split())


def _expected_media_type(media: list[MediaItem]) -> str | None:
    if len(media) > 1:
        return "CAROUSEL_ALBUM"
    if len(media) == 1:
        return "VIDEO" if media[0].is_video else "IMAGE"
    return None


# --- the adapter -----------------------------------------------------------------------


class InstagramAdapter(InstagramInsights):
    """One Instagram professional account connected with Instagram Login."""

    spec: ClassVar[PlatformSpec] = SPEC
    has_metrics: ClassVar[bool] = True
    # There is no documented multi-media insights call on graph.instagram.com, so
    # a batch is one request per post; 10 keeps a rate-limited batch small.
    metrics_batch_size: ClassVar[int] = 10
    metrics_request_per_post: ClassVar[bool] = True  # one request per post: the rate budget charges per post
    label: ClassVar[str] = "Instagram"
    token_hint: ClassVar[str] = RECONNECT_HINT
    calls_hint: ClassVar[str | None] = None
    refresh_grant: ClassVar[str] = "ig_refresh_token"
    identity_fields: ClassVar[str] = "user_id,username"
    # No idempotency key: find_published looks among the account's newest posts; without
    # a first attempt, as far back as a container lives (24 hours).
    reconciles_by_recent_posts: ClassVar[bool] = True
    reconcile_margin: ClassVar[timedelta] = RECONCILE_MARGIN
    reconcile_lookback: ClassVar[timedelta | None] = timedelta(hours=24)
    # Insights data "can be delayed up to 48 hours" (Media Insights reference).
    min_collect_hours: ClassVar[int] = 48

    # -- account -------------------------------------------------------------------

    def connect(self, identifier: str | None, secret: str) -> AccountInfo:
        token = (secret or "").strip()
        if not token:
            raise AuthFailed(
                "an Instagram access token is required",
                platform=PLATFORM,
                hint="Generate a long-lived token in the Meta App Dashboard (Instagram > API setup "
                "with Instagram business login).",
            )
        self._pending_token = token
        try:
            with self._calls("verifying the access token"):
                me = self._graph().request("GET", "me", params={"fields": ME_FIELDS}, token=token)
                # user_id is the professional account id /media and /media_publish need;
                # id is app-scoped.
                user_id = str(me.get("user_id") or me["id"])
                username = str(me["username"])
            now = _now()
            token, lifetime, note = self._long_lived(token)
        finally:
            self._pending_token = None
        # Without an exchange no endpoint of Instagram Login reports a pasted token's
        # expiry: assume a fresh long-lived token until the first refresh says otherwise.
        expires = now + (timedelta(seconds=lifetime) if lifetime else TOKEN_LIFETIME)
        settings = dict(self.ctx.settings or {})
        settings.update(
            {
                "ig_user_id": user_id,
                "app_scoped_id": str(me["id"]) if me.get("id") else None,
                "username": username,
                "account_type": me.get("account_type"),
                "token_source": "exchange" if lifetime else "pasted",
            }
        )
        self._keep_identity(settings, note, user_id, username)
        self._store_token(token, now, expires, estimated=not lifetime)
        return AccountInfo(
            external_id=user_id, handle=username, display_name=me.get("name") or None, token_expires_at=expires
        )

    def _long_lived(self, token: str) -> tuple[str, int | None, str | None]:
        """(token, its lifetime when an exchange reported it, why an exchange failed).

        With the app secret (POSTCLI_INSTAGRAM_APP_SECRET) a short-lived token (1 hour)
        is exchanged for a long-lived one (60 days), as Threads does. A token that is
        long-lived already is refused by the exchange and kept as it is.
        """
        app_secret = (self.ctx.secrets or {}).get("app_secret")
        if not app_secret:
            return token, None, None
        try:
            new, lifetime = exchange_token(
                self._graph(), self._calls, grant_type="ig_exchange_token", app_secret=str(app_secret), token=token
            )
        except PlatformError as exc:
            return token, None, exc.message
        return new, lifetime or int(TOKEN_LIFETIME.total_seconds()), None

    def limits(self) -> Limits:
        return Limits(
            max_text=MAX_CAPTION,
            count_unit="characters",
            max_images=MAX_CAROUSEL_ITEMS,
            # A carousel holds at most 10 items in all; publish() checks the total.
            max_videos=MAX_CAROUSEL_ITEMS,
            max_items=MAX_CAROUSEL_ITEMS,
            requires_media=True,
            max_image_bytes=MAX_IMAGE_BYTES,
            max_video_bytes=MAX_VIDEO_BYTES,
            min_video_seconds=MIN_VIDEO_SECONDS,
            max_video_seconds=MAX_VIDEO_SECONDS,
            carousel_max_video_bytes=CAROUSEL_MAX_VIDEO_BYTES,
            carousel_max_video_seconds=CAROUSEL_MAX_VIDEO_SECONDS,
            max_alt_text=MAX_ALT_TEXT,
            mime_types=IMAGE_TYPES + VIDEO_TYPES,
            images_and_video=True,
            needs_public_media_url=True,
        )

    def text_length(self, text: str) -> int:
        return len(text)

    # -- publishing ----------------------------------------------------------------

    def publish(self, req: PublishRequest) -> PublishResult:
        problems = content_problems(req)
        if problems:
            raise PlatformRejected(
                "cannot publish to Instagram: " + " ".join(problems),
                platform=PLATFORM,
                hint="Nothing was sent to Instagram.",
            )
        ig = self._ig_user_id()
        self._check_quota(ig)
        caption = req.text if req.text.strip() else None
        containers = ContainerPublisher(
            graph=self._graph(),
            ctx=self.ctx,
            platform=PLATFORM,
            label="Instagram",
            owner=ig,
            create_edge="media",
            publish_edge="media_publish",
            status_fields="status_code,status",
            calls=self._calls,
        )
        if len(req.media) == 1:
            item = req.media[0]
            media_id = containers.run([(self._item_params(item, carousel=False, caption=caption), item.path.name)])
        else:
            media_id = containers.run(
                [(self._item_params(item, carousel=True), item.path.name) for item in req.media],
                carousel={"media_type": "CAROUSEL", "caption": caption},
            )
        return self._published(media_id, req.text)

    def _check_quota(self, ig: str) -> None:
        """Refuse before creating anything when the 24-hour publishing quota is used up."""
        try:
            with self._calls("reading the publishing quota"):
                body = self._graph().get(f"{ig}/content_publishing_limit", fields="quota_usage,config")
                entries = body.get("data") or [{}]
                entry = entries[0] if isinstance(entries[0], dict) else {}
        except (PlatformRejected, MalformedResponse):
            return  # an unreadable quota must not block publishing: media_publish enforces it anyway
        usage = _int(entry.get("quota_usage"))
        config = as_dict(entry.get("config"))
        total = _int(config.get("quota_total"))
        if usage is not None and total and usage >= total:
            hours = (_int(config.get("quota_duration")) or 86400) / 3600
            raise PlatformRateLimited(
                f"Instagram's publishing limit is used up: {usage} of {total} posts in the last {hours:g} hours; "
                "nothing was sent.",
                platform=PLATFORM,
                hint="Instagram counts posts published through the API over a rolling 24 hours; publish later.",
            )

    def _item_params(self, item: MediaItem, *, carousel: bool, caption: str | None = None) -> dict[str, Any]:
        if item.is_video:
            params: dict[str, Any] = {"media_type": "VIDEO" if carousel else "REELS", "video_url": item.public_url}
        else:
            # alt_text is taken for images only (feed images and carousel images).
            params = {"image_url": item.public_url, "alt_text": item.alt_text or None}
        if carousel:
            params["is_carousel_item"] = "true"
        else:
            params["caption"] = caption  # a child's caption would be ignored silently
        return params

    def _published(self, media_id: str, text: str) -> PublishResult:
        # The post exists now: a failure to read its permalink must not turn into a
        # failed publish (which a retry would duplicate).
        info: dict[str, Any] = {}
        try:
            with self._calls("reading the new post's link"):
                info = self._graph().get(media_id, fields="id,permalink,timestamp")
        except PlatformError:
            pass
        return PublishResult(
            platform_post_id=media_id,
            url=info.get("permalink"),
            published_at=_as_datetime(info.get("timestamp")) or _now(),
            text=text,
        )

    def _recent_media(self, pages: int, fields: str = MEDIA_FIELDS) -> Iterator[dict[str, Any]]:
        """The account's media, newest first, up to `pages` pages."""
        ig = self._ig_user_id()
        after = None
        for _ in range(pages):
            with self._calls("listing the account's posts"):
                body = self._graph().get(f"{ig}/media", fields=fields, limit=PAGE_SIZE, after=after)
                data = body.get("data") or []
                paging = body.get("paging") or {}
            yield from (item for item in data if isinstance(item, dict))
            after = (paging.get("cursors") or {}).get("after")
            if not data or not after or not paging.get("next"):
                return

    def find_published(self, req: PublishRequest) -> PublishResult | None:
        """Was `req` published by an attempt whose outcome is unknown?

        Instagram has no idempotency keys, so this looks at the account's newest
        posts (up to 200) created since the first attempt minus 5 minutes (the
        last 24 hours when the attempt time is unknown), and matches the caption
        exactly (ignoring "@" and whitespace, which the API may drop) and the
        kind of post (image, video, carousel). Two identical captions published
        in that window cannot be told apart.
        """
        return self.find_in_recent_posts(req)

    def recent_posts(self, since: datetime | None) -> Iterator[dict[str, Any]]:
        return self._recent_media(RECONCILE_PAGES)

    def post_created_at(self, post: dict[str, Any]) -> datetime | None:
        return _as_datetime(post.get("timestamp"))

    def same_post(self, post: dict[str, Any], req: PublishRequest) -> bool:
        if _comparable(str(post.get("caption") or "")) != _comparable(req.text):
            return False
        kind = _expected_media_type(req.media)
        return not (kind and post.get("media_type") and post["media_type"] != kind)

    def reconciled(self, post: dict[str, Any], req: PublishRequest) -> PublishResult:
        return PublishResult(
            platform_post_id=str(post["id"]),
            url=post.get("permalink"),
            published_at=_as_datetime(post.get("timestamp")),
            text=post.get("caption"),
        )

    # -- the first comment ---------------------------------------------------------------

    def publish_comment(self, req: PublishRequest) -> PublishResult:
        """POST /<IG_MEDIA_ID>/comments?message=... (developers.facebook.com/docs/instagram-platform/
        instagram-graph-api/reference/ig-media/comments; scope instagram_business_manage_comments)."""
        assert req.reply_to is not None
        media_id = req.reply_to.platform_post_id
        with self._calls("commenting on the post"):
            body = self._graph().post(f"{media_id}/comments", message=req.text)
            comment_id = str(body["id"])
        return PublishResult(platform_post_id=comment_id, published_at=_now(), text=req.text)

    def find_comment(self, req: PublishRequest) -> PublishResult | None:
        """The account's own comment with this text under the post (graph_comments.py)."""
        assert req.reply_to is not None
        with self._calls("looking for an earlier attempt among the post's comments"):
            body = self._graph().get(f"{req.reply_to.platform_post_id}/comments", fields="id,text,timestamp,from")
            comments = [c for c in body.get("data") or [] if isinstance(c, dict)]
        me = self._ig_user_id()
        found = oldest_match(
            comments,
            req.text,
            text_key="text",
            time_key="timestamp",
            since=self.reconcile_since(req),
            mine=lambda c: str(as_dict(c.get("from")).get("id") or me) == me,
        )
        if found is None:
            return None
        return PublishResult(
            platform_post_id=str(found["id"]), published_at=_as_datetime(found.get("timestamp")), text=req.text
        )

    def delete(self, platform_post_id: str) -> None:
        # Only the Instagram API with Facebook Login (instagram_manage_contents) has
        # DELETE /<IG_MEDIA_ID>. A post already gone is what the caller wants, though.
        try:
            with self._calls(f"looking up post {platform_post_id}"):
                self._graph().get(str(platform_post_id), fields="id")
        except RemoteNotFound:
            return
        raise PlatformRejected(
            "Instagram's API does not allow deleting posts of accounts connected with Instagram Login; "
            "delete it in the Instagram app.",
            platform=PLATFORM,
            hint="Open the post in the Instagram app and choose Delete.",
        )

    # -- import ----------------------------------------------------------------------

    def resolve_post(self, url_or_id: str) -> PublishResult:
        """A media id, or an instagram.com/p|reel|tv/SHORTCODE/ link of this account.

        The API cannot look a shortcode up, so a link is matched against the
        account's 500 newest posts.
        """
        value = (url_or_id or "").strip()
        if value.isdigit():
            with self._calls(f"reading post {value}"):
                item = self._graph().get(value, fields=MEDIA_FIELDS)
                return self._result(item)
        parsed = urlparse(value if "://" in value else f"https://{value}")
        m = _POST_PATH.search(parsed.path)
        if parsed.netloc.lower() not in _INSTAGRAM_HOSTS or not m:
            raise RemoteNotFound(
                f"{value!r} is not an Instagram post link",
                platform=PLATFORM,
                hint="Give a link like https://www.instagram.com/p/SHORTCODE/ or the media id.",
            )
        code = m.group(1)
        for item in self._recent_media(RESOLVE_PAGES):
            link = str(item.get("permalink") or "")
            if item.get("shortcode") == code or f"/{code}/" in link or link.rstrip("/").endswith(f"/{code}"):
                return self._result(item)
        raise RemoteNotFound(
            f"post {code} is not among the 500 newest posts of this Instagram account",
            platform=PLATFORM,
            hint="Instagram's API cannot look a post up by its link; import it by its media id instead.",
        )

    def _result(self, item: dict[str, Any]) -> PublishResult:
        return PublishResult(
            platform_post_id=str(item["id"]),
            url=item.get("permalink"),
            published_at=_as_datetime(item.get("timestamp")),
            text=item.get("caption"),
        )
