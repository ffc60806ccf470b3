"""Mastodon adapter over the Mastodon.py SDK (transport.py holds the clients and the
error translation; text.py the counting rules).

The SDK is imported inside the methods that talk to the network: `import
mastodon` costs ~0.4 s and `postcli --help` must not pay it.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Iterator
from urllib.parse import quote, urlparse

from postcli.platforms.base import (
    AccountInfo,
    AccountMetrics,
    AuthFailed,
    HealthResult,
    Limits,
    MediaItem,
    PlatformError,
    PlatformUnavailable,
    PostMetrics,
    PublishRequest,
    PublishResult,
    RemoteNotFound,
)
from postcli.platforms.mastodon.spec import SPEC
from postcli.platforms.mastodon.text import DEFAULT_URL_WEIGHT, mastodon_text_length, normalized, status_plain_text
from postcli.platforms.mastodon.transport import MastodonTransport, version_tuple
from postcli.platforms.spec import PlatformSpec
from postcli.platforms.values import as_utc, int_or_none

_as_datetime = as_utc
_int_or_none = int_or_none

# Mastodon's own defaults (StatusLengthValidator::MAX_CHARS, URL_PLACEHOLDER_CHARS,
# Status::MEDIA_ATTACHMENTS_LIMIT, MediaAttachment::MAX_DESCRIPTION_LENGTH), used
# until the instance has told us its configuration.
DEFAULT_MAX_CHARACTERS = 500
DEFAULT_MAX_MEDIA = 4
DEFAULT_DESCRIPTION_LIMIT = 1500
DEFAULT_MIME_TYPES = (
    "image/png",
    "image/jpeg",
    "image/webp",
    "image/gif",
    "video/mp4",
    "video/quicktime",
)

# Mastodon keeps an Idempotency-Key for 3600 s (PostStatusService#idempotency_duplicate);
# five minutes of margin covers clock skew and a slow first attempt.
REPLAY_WINDOW = timedelta(minutes=55)

# GET /api/v1/statuses?id[]= refuses more than Api::BaseController::DEFAULT_STATUSES_LIMIT
# ids with a 422, so this is the honest batch size.
MULTI_GET_LIMIT = 20
# Added in Mastodon 4.3.0.
_MULTI_GET_SINCE = (4, 3, 0)

# Upper bound of account statuses scanned when reconciling an old attempt.
_RECONCILE_PAGES = 5
_PAGE_SIZE = 40

_STATUS_PATH = re.compile(
    r"/(?:@[^/]+|users/[^/]+/statuses|ap/users/[^/]+/statuses|web/statuses|statuses|notice)/(\d+)/?$"
)


def _iso(value: Any) -> str | None:
    dt = _as_datetime(value)
    return dt.isoformat().replace("+00:00", "Z") if dt else None


def _day(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value)[:10]


def _snowflake(moment: datetime) -> str:
    # Mastodon ids are (milliseconds since epoch) << 16 plus a sequence, so a
    # timestamp turned into an id bounds "statuses created after".
    return str(int(moment.timestamp() * 1000) << 16)


def _settings_from_instance(info: Any, api_base_url: str) -> dict[str, Any]:
    """The parts of /api/v2/instance (or v1) that decide what a post may be."""
    config = info.get("configuration") or {}
    statuses = config.get("statuses") or {}
    media = config.get("media_attachments") or {}
    domain = info.get("domain") or info.get("uri") or urlparse(api_base_url).netloc
    # v1 "uri" is a bare domain on Mastodon but a URL on some other servers.
    domain = urlparse(domain).netloc or domain if "://" in str(domain) else domain
    max_chars = statuses.get("max_characters") or info.get("max_toot_chars")
    mimes = media.get("supported_mime_types")
    return {
        "version": str(info.get("version") or "") or None,
        "domain": str(domain),
        "max_characters": _int_or_none(max_chars) or DEFAULT_MAX_CHARACTERS,
        "characters_reserved_per_url": _int_or_none(statuses.get("characters_reserved_per_url")) or DEFAULT_URL_WEIGHT,
        "max_media_attachments": _int_or_none(statuses.get("max_media_attachments")) or DEFAULT_MAX_MEDIA,
        "supported_mime_types": [str(m) for m in mimes] if isinstance(mimes, list) else None,
        "image_size_limit": _int_or_none(media.get("image_size_limit")),
        "video_size_limit": _int_or_none(media.get("video_size_limit")),
        "description_limit": _int_or_none(media.get("description_limit")),
        "instance_checked_at": datetime.now(timezone.utc).isoformat(),
    }


# --- the adapter -----------------------------------------------------------------


class MastodonAdapter(MastodonTransport):
    """One Mastodon account on one instance (`ctx.api_base_url`)."""

    spec: ClassVar[PlatformSpec] = SPEC
    has_metrics: ClassVar[bool] = True
    metrics_batch_size: ClassVar[int] = MULTI_GET_LIMIT
    # The SDK sends PublishRequest.idempotency_key as Idempotency-Key (kept for an hour);
    # after that find_published looks among the account's statuses.
    idempotency_key: ClassVar[bool] = True
    reconciles_by_recent_posts: ClassVar[bool] = True

    # Bounded wait for media the instance processes asynchronously (video).
    media_processing_timeout: ClassVar[float] = 300.0
    _first_poll_delay: ClassVar[float] = 0.1
    _max_poll_delay: ClassVar[float] = 2.0

    # -- account -------------------------------------------------------------

    def connect(self, identifier: str | None, secret: str) -> AccountInfo:
        token = (secret or "").strip()
        if not token:
            raise AuthFailed(
                "a Mastodon access token is required",
                platform=self.platform,
                hint="create one under Preferences > Development on your instance",
            )
        # ctx is left untouched until the token is known to work; scrub finds the
        # token on the client meanwhile.
        api = self._make_client(token, (self.ctx.settings or {}).get("version"))
        self._client = api
        with self._calls("verifying the access token"):
            me = api.account_verify_credentials()
            account_id = str(me["id"])
            acct = str(me["acct"])
            display_name = me.get("display_name") or None
        with self._calls("reading the instance configuration"):
            info = self._instance_info(api)
            fresh = _settings_from_instance(info, self.ctx.api_base_url)

        handle = acct if "@" in acct else f"{acct}@{fresh['domain']}"
        settings = {k: v for k, v in (self.ctx.settings or {}).items() if k != "multi_get"}
        settings.update(fresh)
        self.ctx.settings = settings
        self.ctx.settings_changed = True
        self.ctx.external_id = account_id
        self.ctx.handle = handle
        self.ctx.secrets = {**(self.ctx.secrets or {}), "access_token": token}
        self.ctx.save_secrets(dict(self.ctx.secrets))
        # The client was built before the version was known.
        self._client = self._make_client(token, fresh.get("version"))
        self._multi_get = None
        self._close_http()
        return AccountInfo(external_id=account_id, handle=handle, display_name=display_name)

    def _instance_info(self, api: Any) -> Any:
        from mastodon.errors import MastodonNotFoundError

        try:
            return api.instance_v2()
        except MastodonNotFoundError:
            # Before Mastodon 4.0 only v1 exists.
            return api.instance_v1()

    def _account_id(self) -> str:
        if not self.ctx.external_id:
            with self._calls("reading the account"):
                self.ctx.external_id = str(self._api().account_verify_credentials()["id"])
        return self.ctx.external_id

    def limits(self) -> Limits:
        s = self.ctx.settings or {}
        mimes = tuple(m for m in (s.get("supported_mime_types") or ()) if m) or DEFAULT_MIME_TYPES
        return Limits(
            max_text=_int_or_none(s.get("max_characters")) or DEFAULT_MAX_CHARACTERS,
            url_weight=_int_or_none(s.get("characters_reserved_per_url")) or DEFAULT_URL_WEIGHT,
            # Mastodon counts grapheme clusters but calls them characters; text_length
            # does the real counting.
            count_unit="characters",
            max_images=_int_or_none(s.get("max_media_attachments")) or DEFAULT_MAX_MEDIA,
            max_videos=1,
            max_image_bytes=_int_or_none(s.get("image_size_limit")),
            max_video_bytes=_int_or_none(s.get("video_size_limit")),
            max_alt_text=_int_or_none(s.get("description_limit")) or DEFAULT_DESCRIPTION_LIMIT,
            mime_types=mimes,
            # PostStatusService refuses a video together with other attachments.
            images_and_video=False,
        )

    def text_length(self, text: str) -> int:
        weight = _int_or_none((self.ctx.settings or {}).get("characters_reserved_per_url"))
        return mastodon_text_length(text, DEFAULT_URL_WEIGHT if weight is None else weight)

    # -- publishing ----------------------------------------------------------

    def publish(self, req: PublishRequest) -> PublishResult:
        api = self._api()
        media_ids = [self._upload(api, item) for item in req.media]
        parent = req.reply_to
        with self._calls("publishing the status"):
            # The SDK sends idempotency_key as the Idempotency-Key header. A part of a thread
            # replies to the one before it (in_reply_to_id) with the same visibility.
            status = api.status_post(
                req.text,
                media_ids=media_ids or None,
                idempotency_key=req.idempotency_key,
                in_reply_to_id=parent.platform_post_id if parent is not None else None,
                visibility=parent.ref.get("visibility") if parent is not None else None,
            )
            return self._result(status)

    def _upload(self, api: Any, item: MediaItem) -> str:
        name = item.path.name
        try:
            handle = open(item.path, "rb")
        except OSError as exc:
            raise PlatformError(
                f"cannot read media file {name}: {exc.strerror or exc}", platform=self.platform
            ) from None
        with handle, self._calls(f"uploading {name}"):
            # A file object (not a path) so the SDK keeps our sniffed MIME type.
            media = api.media_post(
                handle,
                mime_type=item.mime_type,
                description=item.alt_text or None,
                file_name=name,
            )
            media_id = str(media["id"])
        self._wait_for_media(api, media, media_id, name)
        return media_id

    def _wait_for_media(self, api: Any, media: Any, media_id: str, name: str) -> None:
        """Poll GET /api/v1/media/:id until processed (206 = still processing).

        /api/v2/media answers 202 with `url: null` for media processed in the
        background (video, large images); a status may only use it once ready.
        """
        deadline = time.monotonic() + self.media_processing_timeout
        delay = self._first_poll_delay
        while not self._media_ready(media):
            if time.monotonic() + delay > deadline:
                raise PlatformUnavailable(
                    f"{self._host} was still processing {name} after {self.media_processing_timeout:g} s",
                    platform=self.platform,
                    hint="try again later; the upload was not attached to any post",
                )
            time.sleep(delay)
            delay = min(delay * 1.5, self._max_poll_delay)
            with self._calls(f"waiting for {self._host} to process {name}"):
                media = api.media(media_id)

    def _media_ready(self, media: Any) -> bool:
        response = self._last_response()
        if response is not None and response.status_code in (202, 206):
            return False
        return media.get("url") is not None

    def _result(self, status: Any) -> PublishResult:
        visibility = status.get("visibility")
        return PublishResult(
            platform_post_id=str(status["id"]),
            url=status.get("url") or status.get("uri"),
            published_at=_as_datetime(status.get("created_at")),
            # A reply to it is sent with the same visibility (a thread stays as public as it began).
            ref={"visibility": str(visibility)} if visibility else {},
        )

    def find_published(self, req: PublishRequest) -> PublishResult | None:
        """Was `req` already published? Used after an attempt with an unknown outcome.

        Mastodon remembers an Idempotency-Key for one hour and answers a repeated
        POST with the status it created the first time. So while the first
        attempt is younger than ~55 minutes this returns None: re-sending with
        the same key is safe and yields the original status, never a duplicate.

        After that the key is forgotten and a re-send would post twice, so we look
        for the post itself: the account's own statuses created since the first
        attempt (minus a few minutes of clock skew), newest first, up to
        200 statuses, matching the text as rendered (and the media count).
        """
        first = _as_datetime(req.first_attempt_at)
        if first is not None and datetime.now(timezone.utc) - first < REPLAY_WINDOW:
            return None
        return self.find_in_recent_posts(req)

    def recent_posts(self, since: datetime | None) -> Iterator[Any]:
        api = self._api()
        account_id = self._account_id()
        max_id: str | None = None
        for _ in range(_RECONCILE_PAGES):
            with self._calls("looking for an earlier attempt among the account's statuses"):
                page = api.account_statuses(
                    account_id,
                    exclude_reblogs=True,
                    limit=_PAGE_SIZE,
                    max_id=max_id,
                    since_id=_snowflake(since) if since is not None else None,
                )
            yield from page
            if len(page) < _PAGE_SIZE:
                return
            with self._calls("looking for an earlier attempt among the account's statuses"):
                max_id = str(page[-1]["id"])

    def post_created_at(self, post: Any) -> datetime | None:
        return _as_datetime(post.get("created_at"))

    def same_post(self, post: Any, req: PublishRequest) -> bool:
        parent = req.reply_to.platform_post_id if req.reply_to is not None else None
        return (
            normalized(status_plain_text(post)) == normalized(req.text)
            and len(post.get("media_attachments") or []) == len(req.media)
            and (str(post["in_reply_to_id"]) if post.get("in_reply_to_id") else None) == parent
        )

    def reconciled(self, post: Any, req: PublishRequest) -> PublishResult:
        with self._calls("looking for an earlier attempt among the account's statuses"):
            return self._result(post)

    def delete(self, platform_post_id: str) -> None:
        try:
            with self._calls(f"deleting status {platform_post_id}"):
                self._api().status_delete(platform_post_id)
        except RemoteNotFound:
            pass  # already gone is what we wanted

    # -- metrics -------------------------------------------------------------

    def _metrics(self, status: Any) -> PostMetrics:
        # quotes_count exists from Mastodon 4.5; absent means "not reported", not 0.
        # (The SDK's Status type fills absent fields with None.)
        quotes = _int_or_none(status.get("quotes_count"))
        raw: dict[str, Any] = {
            "id": str(status["id"]),
            "url": status.get("url"),
            "created_at": _iso(status.get("created_at")),
            "favourites_count": _int_or_none(status.get("favourites_count")),
            "reblogs_count": _int_or_none(status.get("reblogs_count")),
            "replies_count": _int_or_none(status.get("replies_count")),
        }
        if quotes is not None:
            raw["quotes_count"] = quotes
        return PostMetrics(
            likes=raw["favourites_count"],
            shares=raw["reblogs_count"],
            comments=raw["replies_count"],
            quotes=quotes,
            raw=raw,
        )

    def _multi_get_available(self) -> bool:
        if self._multi_get is not None:
            return self._multi_get
        settings = self.ctx.settings or {}
        if settings.get("multi_get") is False:
            return False
        version = version_tuple(settings.get("version"))
        # Unknown version: try it and learn from a 404.
        return version is None or version >= _MULTI_GET_SINCE

    def fetch_post_metrics(self, platform_post_ids: list[str]) -> dict[str, PostMetrics | None]:
        ids = [str(i) for i in dict.fromkeys(platform_post_ids)]
        result: dict[str, PostMetrics | None] = {i: None for i in ids}
        # Plain JSON over httpx, not the SDK: its typed Status objects cost ~9 ms of
        # CPU each, which dominated `postcli collect`.
        self._http_client()  # no token / no instance URL fails here, as before
        for start in range(0, len(ids), MULTI_GET_LIMIT):
            chunk = ids[start : start + MULTI_GET_LIMIT]
            if self._multi_get_available():
                try:
                    with self._calls("fetching status counts"):
                        for status in self._get_json("/api/v1/statuses", {"id[]": chunk}):
                            sid = str(status["id"])
                            if sid in result:
                                result[sid] = self._metrics(status)
                    # Ids the answer leaves out are deleted (or no longer visible).
                    self._multi_get = True
                    continue
                except RemoteNotFound:
                    # Before 4.3 there is no multi-status endpoint.
                    self._multi_get = False
                    self.ctx.settings = {**(self.ctx.settings or {}), "multi_get": False}
                    self.ctx.settings_changed = True
            for sid in chunk:
                try:
                    with self._calls(f"fetching status {sid}"):
                        result[sid] = self._metrics(self._get_json(f"/api/v1/statuses/{quote(sid, safe='')}"))
                except RemoteNotFound:
                    result[sid] = None  # deleted
        return result

    def fetch_account_metrics(self) -> AccountMetrics:
        with self._calls("reading the account's counters"):
            # Plain JSON like the post metrics: collecting then never loads the SDK.
            me = self._get_json("/api/v1/accounts/verify_credentials")
            raw = {
                "id": str(me["id"]),
                "acct": me.get("acct"),
                "followers_count": _int_or_none(me.get("followers_count")),
                "following_count": _int_or_none(me.get("following_count")),
                "statuses_count": _int_or_none(me.get("statuses_count")),
                # A day ("2026-08-01"; the SDK would turn it into a datetime).
                "last_status_at": _day(me.get("last_status_at")),
            }
        return AccountMetrics(
            followers=raw["followers_count"],
            following=raw["following_count"],
            posts_count=raw["statuses_count"],
            raw=raw,
        )

    def check_health(self) -> HealthResult:
        # Mastodon tokens do not expire unless revoked, so there is nothing to refresh.
        with self._calls("checking the access token"):
            self._api().account_verify_credentials()
        return HealthResult(ok=True)

    def resolve_post(self, url_or_id: str) -> PublishResult:
        value = (url_or_id or "").strip()
        if value.isdigit():
            status_id = value
        else:
            parsed = urlparse(value)
            local_hosts = {self._host.lower(), str((self.ctx.settings or {}).get("domain") or "").lower()}
            if parsed.scheme not in ("http", "https") or parsed.netloc.lower() not in local_hosts:
                raise RemoteNotFound(
                    f"{value!r} is not a status URL on {self._host}",
                    platform=self.platform,
                    hint="give the status id or its URL on this account's instance",
                )
            m = _STATUS_PATH.search(parsed.path)
            if not m:
                raise RemoteNotFound(f"{value!r} is not a status URL", platform=self.platform)
            status_id = m.group(1)
        with self._calls(f"fetching status {status_id}"):
            return self._result(self._api().status(status_id))
