"""Tumblr adapter: API v2 over httpx, OAuth2 bearer tokens, posts in NPF.

References (docs/platforms/tumblr.md lists what each choice rests on):
  https://www.tumblr.com/docs/en/api/v2   (github.com/tumblr/docs api.md)
  https://www.tumblr.com/docs/npf         (github.com/tumblr/docs npf-spec.md)

Tumblr access tokens live 42 minutes and refresh tokens 42 days (rotated on each
refresh), so this adapter refreshes on its own: before a call when the known
expiry is near, and once after a 401. New tokens are saved with
ctx.save_secrets at once, the expiry with them ("expires_at"), because the
accounts table only learns it from `check_health`.

httpx is imported inside the functions that talk to the network so that
`postcli --help` does not pay for it. No message ever contains a token or the
client secret.
"""

from __future__ import annotations

import json
import threading
import unicodedata
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, ClassVar, Iterator
from urllib.parse import quote, urlparse

from postcli.platforms import tls
from postcli.platforms.base import (
    AccountContext,
    AccountInfo,
    AccountMetrics,
    AuthFailed,
    HealthResult,
    Limits,
    MalformedResponse,
    MediaItem,
    PlatformError,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
    PostMetrics,
    PublishRequest,
    PublishResult,
    RemoteNotFound,
)
from postcli.platforms.values import as_utc, int_or_none

_int_or_none = int_or_none
_as_datetime = as_utc

DEFAULT_BASE_URL = "https://api.tumblr.com"

# NPF "Post Content Limits".
TEXT_BLOCK_MAX = 4096  # Unicode code points per text block
MAX_TEXT_BLOCKS = 1000
MAX_IMAGE_BLOCKS = 30
MAX_NATIVE_VIDEOS = 1
ALT_TEXT_MAX = 4096
# 1 MB per stored post including the NPF JSON; the spec says ~900,000 characters in practice.
MAX_TEXT_BYTES = 900_000
MIME_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4", "video/quicktime")

# Tumblr access tokens expire after 42 minutes (expires_in 2520): refresh a little before.
DEFAULT_EXPIRES_IN = 2520
REFRESH_MARGIN = timedelta(minutes=10)
# Reconciliation looks at posts published from the first attempt minus this (clock skew).
RECONCILE_MARGIN = timedelta(minutes=5)
_PAGE_SIZE = 20  # /posts takes limit 1..20
_RECONCILE_PAGES = 3

# 403 subcodes of POST /posts that are per-day quotas (media uploads, videos,
# posts) or a video still transcoding: "not now" rather than "never".
_QUOTA_CODES = {8004, 8010, 8011, 8023}

_TUMBLR_HOSTS = {"tumblr.com", "www.tumblr.com"}


def _reconnect_hint(blog: str | None) -> str:
    return f"reconnect the account: postcli accounts add tumblr --blog {blog or 'BLOG'} (with new OAuth2 tokens)"


_NO_REFRESH_HINT = (
    "Tumblr access tokens expire after 42 minutes; for postcli to refresh them, reconnect with "
    "POSTCLI_TUMBLR_REFRESH_TOKEN (scope offline_access), POSTCLI_TUMBLR_CLIENT_SECRET and --client-id"
)


# --- identifiers and text -------------------------------------------------------------


def blog_identifier(value: str | None) -> str:
    """A blog name (or custom domain) from "name", "@name", "name.tumblr.com" or a blog URL."""
    v = (value or "").strip().lstrip("@")
    if not v:
        return ""
    if "://" in v or "/" in v:
        parsed = urlparse(v if "://" in v else f"https://{v}")
        host = (parsed.hostname or "").lower()
        parts = [p for p in parsed.path.split("/") if p]
        if host in _TUMBLR_HOSTS:
            if parts[:2] == ["blog", "view"]:
                parts = parts[2:]
            return parts[0].lstrip("@").lower() if parts else ""
        v = host
    v = v.lower().rstrip(".")
    return v[: -len(".tumblr.com")] if v.endswith(".tumblr.com") else v


def post_reference(value: str) -> tuple[str | None, str] | None:
    """(blog or None, post id) from a bare id or a post URL; None if it is neither."""
    v = (value or "").strip()
    if v.isdigit():
        return None, v
    parsed = urlparse(v if "://" in v else f"https://{v}")
    host = (parsed.hostname or "").lower()
    parts = [p for p in parsed.path.split("/") if p]
    if not host:
        return None
    if host in _TUMBLR_HOSTS:
        # www.tumblr.com/BLOG/ID[/slug], www.tumblr.com/@BLOG/ID, www.tumblr.com/blog/view/BLOG/ID
        if parts[:2] == ["blog", "view"]:
            parts = parts[2:]
        if len(parts) >= 2 and parts[1].isdigit():
            return parts[0].lstrip("@").lower(), parts[1]
        return None
    # BLOG.tumblr.com/post/ID[/slug] or a custom domain's /post/ID
    if len(parts) >= 2 and parts[0] == "post" and parts[1].isdigit():
        return blog_identifier(host), parts[1]
    return None


def paragraphs(text: str) -> list[str]:
    """The text blocks a text becomes: one per line (NPF: a text block is a paragraph).

    Tumblr trims empty text blocks at either end of a post, so those are dropped here.
    """
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and lines[0] == "":
        lines.pop(0)
    while lines and lines[-1] == "":
        lines.pop()
    return lines


def npf_text(content: Any) -> str:
    """The plain text of a post's NPF content: its text blocks, one per line."""
    if not isinstance(content, list):
        return ""
    return "\n".join(
        str(b.get("text") or "") for b in content if isinstance(b, dict) and b.get("type") == "text"
    )


def _media_blocks(content: Any) -> int:
    if not isinstance(content, list):
        return 0
    return sum(1 for b in content if isinstance(b, dict) and b.get("type") in ("image", "video"))


def _normalized(text: str) -> str:
    # Whitespace-insensitive: Tumblr may drop trailing spaces or blank edge lines.
    return " ".join(unicodedata.normalize("NFC", text or "").split())


def _from_timestamp(value: Any) -> datetime | None:
    seconds = _int_or_none(value)
    return datetime.fromtimestamp(seconds, timezone.utc) if seconds is not None else None


def _error_detail(body: Any) -> str | None:
    """What a Tumblr error body says: errors[] (title, detail, code), meta.msg or OAuth's error."""
    if not isinstance(body, dict):
        return None
    parts = []
    errors = body.get("errors")
    if isinstance(errors, list):
        for err in errors:
            if not isinstance(err, dict):
                continue
            text = err.get("detail") or err.get("title")
            if text:
                code = err.get("code")
                parts.append(f"{text} (code {code})" if code not in (None, "", 0) else str(text))
    if not parts and (body.get("error_description") or body.get("error")):
        parts.append(str(body.get("error_description") or body.get("error")))
    if not parts:
        meta = body.get("meta")
        if isinstance(meta, dict) and meta.get("msg"):
            parts.append(str(meta["msg"]))
    return "; ".join(parts) or None


def _error_codes(body: Any) -> set[int]:
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return set()
    return {c for c in (_int_or_none(e.get("code")) for e in errors if isinstance(e, dict)) if c is not None}


def _retry_after(headers: Any) -> float | None:
    """Seconds to wait: Retry-After, else the X-Ratelimit-Per{day,hour}-Reset of the exhausted window."""
    value = headers.get("Retry-After")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            from email.utils import parsedate_to_datetime

            try:
                when = _as_datetime(parsedate_to_datetime(value))
            except (TypeError, ValueError):
                when = None
            if when is not None:
                return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
    # Tumblr's resets are seconds from now, not timestamps.
    for window in ("Perday", "Perhour"):
        if headers.get(f"X-Ratelimit-{window}-Remaining") == "0":
            try:
                return max(0.0, float(headers.get(f"X-Ratelimit-{window}-Reset") or ""))
            except ValueError:
                continue
    return None


# --- the adapter ------------------------------------------------------------------------


class TumblrAdapter:
    """One Tumblr blog, posted to with the OAuth2 tokens of a user who can post there."""

    platform: ClassVar[str] = "tumblr"
    default_base_url: ClassVar[str] = DEFAULT_BASE_URL
    has_metrics: ClassVar[bool] = True
    # Notes are fetched one post per call: there is no multi-post notes endpoint.
    metrics_batch_size: ClassVar[int] = 1
    metrics_request_per_post = True  # one request per post: the rate budget charges per post

    def __init__(self, ctx: AccountContext) -> None:
        self.ctx = ctx
        self._http: Any = None
        # Refreshing rotates the refresh token: two threads must never refresh at once.
        self._lock = threading.RLock()
        self._seen_secrets: set[str] = set()

    # -- plumbing ------------------------------------------------------------

    @property
    def _base(self) -> str:
        base = (self.ctx.api_base_url or DEFAULT_BASE_URL).rstrip("/")
        return base if "://" in base else f"https://{base}"

    @property
    def _host(self) -> str:
        return urlparse(self._base).netloc or "the Tumblr API"

    def _now(self) -> datetime:
        return datetime.now(timezone.utc)

    def _client(self) -> Any:
        with self._lock:
            if self._http is None:
                import httpx  # not at module level: `postcli --help` must stay fast

                # Tumblr asks for one consistent User-Agent per application.
                self._http = httpx.Client(
                    base_url=self._base, headers={"User-Agent": "postcli"}, timeout=self.ctx.timeout,
                    verify=tls.context(),
                )
            return self._http

    def _remember_secrets(self) -> None:
        for key, value in (self.ctx.secrets or {}).items():
            if key != "expires_at" and isinstance(value, str) and len(value) >= 4:
                self._seen_secrets.add(value)

    def _scrub(self, message: str) -> str:
        self._remember_secrets()
        for secret in sorted(self._seen_secrets, key=len, reverse=True):
            message = message.replace(secret, "***")
        return message

    def _fail(self, cls: type[PlatformError], message: str, **kw: Any) -> PlatformError:
        return cls(self._scrub(message), platform=self.platform, **kw)

    def _blog_name(self) -> str | None:
        return (self.ctx.settings or {}).get("blog_name") or blog_identifier(self.ctx.handle) or None

    def _keyed(self, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Query parameters for an endpoint the docs list as "API Key" (/info, GET /posts, /notes).

        The docs ("Authentication") ask those for `api_key`, the OAuth consumer key, which
        is the OAuth2 client id; they do not say a bearer token alone satisfies them. So the
        key goes along with the bearer token whenever postcli knows the client id (it is
        not a secret: the docs put it in URLs). Without one, the bearer token goes alone.
        """
        out = dict(params or {})
        client_id = (self.ctx.settings or {}).get("client_id")
        if client_id:
            out["api_key"] = str(client_id)
        return out

    def _blog_path(self, tail: str) -> str:
        blog = (self.ctx.settings or {}).get("blog_uuid") or self._blog_name()
        if not blog:
            raise self._fail(
                PlatformError, "no Tumblr blog is set for this account", hint=_reconnect_hint(None)
            )
        # The uuid ("t:...") is stable across blog renames; ":" is fine in a path.
        return f"/v2/blog/{quote(str(blog), safe=':')}/{tail}"

    def _send(self, method: str, path: str, what: str, *, token: str | None, **kwargs: Any) -> Any:
        """One HTTP exchange; network failures leave as PlatformUnavailable naming the host."""
        import httpx

        headers = {"Authorization": f"Bearer {token}"} if token else None
        try:
            return self._client().request(method, path, headers=headers, **kwargs)
        except httpx.TimeoutException:
            raise self._fail(
                PlatformUnavailable,
                f"{self._host} did not answer within {self.ctx.timeout:g} s while {what}",
                hint="the outcome is unknown; postcli checks before retrying",
            ) from None
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
            raise self._fail(
                PlatformUnavailable, f"could not reach {self._host} while {what} ({type(exc).__name__})"
            ) from None

    def _decode(self, response: Any) -> Any:
        try:
            return response.json()
        except ValueError:
            return None

    def _error(self, response: Any, body: Any, what: str) -> PlatformError:
        """The one place an HTTP error answer becomes a postcli error."""
        status = response.status_code
        detail = _error_detail(body)
        host = self._host
        if status == 401:
            hint = _reconnect_hint(self._blog_name())
            if not self._can_refresh():
                hint += ". " + _NO_REFRESH_HINT
            return self._fail(
                AuthFailed, f"{host} refused the access token while {what} ({detail or 'unauthorized'})", hint=hint
            )
        if status == 429 or (status == 403 and _error_codes(body) & _QUOTA_CODES):
            retry = _retry_after(response.headers)
            when = f"; retry in {retry:.0f} s" if retry is not None else ""
            return self._fail(
                PlatformRateLimited,
                f"{host} rate limit reached while {what} ({detail or 'limit exceeded'}){when}",
                retry_after=retry,
                hint="Tumblr limits calls per hour and day, and posts and uploads per day",
            )
        if status in (404, 410):
            return self._fail(RemoteNotFound, f"not found on {host} while {what}" + (f" ({detail})" if detail else ""))
        if status >= 500:
            return self._fail(
                PlatformUnavailable,
                f"{host} answered HTTP {status} while {what}" + (f" ({detail})" if detail else ""),
            )
        if status == 403:
            return self._fail(
                PlatformRejected,
                f"{host} does not allow this while {what}: {detail or 'forbidden'}",
                hint="the token needs the write scope and the user must be allowed to post to the blog",
            )
        if 400 <= status < 500:
            return self._fail(PlatformRejected, f"{host} rejected the request while {what}: {detail or f'HTTP {status}'}")
        return self._fail(MalformedResponse, f"{host} answered HTTP {status} while {what}")

    def _payload(self, response: Any, what: str) -> Any:
        body = self._decode(response)
        if not 200 <= response.status_code < 300:
            raise self._error(response, body, what)
        if not isinstance(body, dict) or "response" not in body:
            raise self._fail(MalformedResponse, f"{self._host} sent an answer postcli cannot read while {what}")
        return body["response"]

    def _api(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: dict[str, Any] | None = None,
        build: Callable[[], dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """An authenticated call returning the `response` member.

        `build` makes the request body afresh for each attempt (multipart file
        parts are consumed by sending). A 401 is answered by one refresh and one
        retry: Tumblr refused the request, so sending it again cannot duplicate it.
        """
        self._refresh_if_due()
        token = self._access_token()
        response = self._send(method, path, what, token=token, params=params, **(build() if build else {}))
        if response.status_code == 401 and self._can_refresh():
            with self._lock:
                if self._access_token() == token:  # else another thread refreshed meanwhile
                    self._refresh()
            response = self._send(
                method, path, what, token=self._access_token(), params=params, **(build() if build else {})
            )
        payload = self._payload(response, what)
        if not isinstance(payload, dict):  # every endpoint used here answers an object
            raise self._fail(MalformedResponse, f"{self._host} sent an unexpected answer while {what}")
        return payload

    # -- tokens --------------------------------------------------------------

    def _access_token(self) -> str:
        token = (self.ctx.secrets or {}).get("access_token")
        if not token:
            raise self._fail(
                AuthFailed,
                f"no Tumblr access token is stored for this account ({self._host})",
                hint=_reconnect_hint(self._blog_name()),
            )
        return str(token)

    def _can_refresh(self) -> bool:
        s = self.ctx.secrets or {}
        return bool(s.get("refresh_token") and s.get("client_secret") and (self.ctx.settings or {}).get("client_id"))

    def _expires_at(self) -> datetime | None:
        """The later of the account's known expiry and the one saved with the last refresh."""
        known = [d for d in (_as_datetime(self.ctx.token_expires_at),
                             _as_datetime((self.ctx.secrets or {}).get("expires_at"))) if d is not None]
        return max(known) if known else None

    def _refresh(self) -> datetime:
        """Trade the refresh token for a new access and refresh token; save both at once.

        POST /v2/oauth2/token grant_type=refresh_token. The caller holds the lock; the
        account's inter-process refresh lock is taken here (platforms/rotation.py).
        """
        from postcli.platforms.rotation import rotating_refresh

        with rotating_refresh(self.ctx) as adopted:
            if adopted:  # another process rotated the pair while we waited: use it
                self._remember_secrets()
                expires = self._expires_at()
                if expires is not None and self._now() < expires - REFRESH_MARGIN:
                    self.ctx.token_expires_at = expires
                    return expires
            return self._refresh_locked()

    def _refresh_locked(self) -> datetime:
        what = "refreshing the access token"
        secrets = dict(self.ctx.secrets or {})
        self._remember_secrets()
        form = {
            "grant_type": "refresh_token",
            "refresh_token": secrets.get("refresh_token"),
            "client_id": (self.ctx.settings or {}).get("client_id"),
            "client_secret": secrets.get("client_secret"),
        }
        response = self._send("POST", "/v2/oauth2/token", what, token=None, data=form)
        body = self._decode(response)
        status = response.status_code
        if status in (400, 401, 403):
            # invalid_grant (expired/used refresh token), invalid_client (wrong id/secret).
            stored = dict(self.ctx.load_secrets() or {})
            if stored.get("refresh_token") and stored.get("refresh_token") != secrets.get("refresh_token"):
                # Another process refreshed first (each refresh token works once) and saved
                # the new pair: take it instead of calling the account dead.
                self.ctx.secrets = {**secrets, **stored}
                self._remember_secrets()
                expires = self._expires_at()
                if expires is not None and self._now() < expires:
                    self.ctx.token_expires_at = expires
                    return expires
                return self._refresh()
            raise self._fail(
                AuthFailed,
                f"{self._host} refused to refresh the access token ({_error_detail(body) or f'HTTP {status}'})",
                hint=_reconnect_hint(self._blog_name())
                + ". Tumblr refresh tokens expire after 42 days without use, and each one works once",
            )
        if not 200 <= status < 300:
            raise self._error(response, body, what)
        # The docs show a bare OAuth2 answer; accept the usual meta/response wrapping too.
        if isinstance(body, dict) and isinstance(body.get("response"), dict):
            body = body["response"]
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise self._fail(MalformedResponse, f"{self._host} sent no access token while {what}")
        # Without expires_in a stale expiry would make every call refresh: assume the documented TTL.
        expires_in = _int_or_none(body.get("expires_in")) or DEFAULT_EXPIRES_IN
        expires_at = self._now() + timedelta(seconds=expires_in)
        new = {**secrets, "access_token": token, "expires_at": expires_at.isoformat()}
        if isinstance(body.get("refresh_token"), str) and body["refresh_token"]:
            new["refresh_token"] = body["refresh_token"]
        self.ctx.token_expires_at = expires_at
        self.ctx.secrets = new
        self._remember_secrets()
        self.ctx.save_secrets(dict(new))
        return expires_at

    def _refresh_due(self) -> bool:
        expires = self._expires_at()
        return expires is not None and self._now() >= expires - REFRESH_MARGIN

    def _refresh_if_due(self) -> None:
        if not self._can_refresh() or not self._refresh_due():
            return
        with self._lock:
            if not self._refresh_due():  # another thread did it
                return
            try:
                self._refresh()
            except (PlatformUnavailable, PlatformRateLimited):
                expires = self._expires_at()
                if expires is not None and self._now() < expires:
                    return  # the current token still works for a while; try it
                raise

    # -- account -------------------------------------------------------------

    def connect(self, identifier: str | None, secret: str) -> AccountInfo:
        """Verify the token with GET /v2/user/info and pick the blog among the user's blogs.

        With a refresh token, client id and client secret the tokens are refreshed
        once first: that proves the refresh credentials work and tells the expiry.
        """
        token = (secret or "").strip()
        if not token:
            raise self._fail(
                AuthFailed,
                "a Tumblr OAuth2 access token is required",
                hint="register an app at https://www.tumblr.com/oauth/apps and authorize it (scopes: basic write offline_access)",
            )
        wanted = blog_identifier(identifier or self.ctx.handle)
        if not wanted:
            raise self._fail(PlatformRejected, "no Tumblr blog given", hint="postcli accounts add tumblr --blog NAME")
        secrets = {k: v for k, v in (self.ctx.secrets or {}).items() if v and k != "expires_at"}
        secrets["access_token"] = token
        self.ctx.secrets = secrets
        self.ctx.token_expires_at = None
        self._remember_secrets()
        if secrets.get("refresh_token") and not self._can_refresh():
            missing = [n for n, ok in (("--client-id", (self.ctx.settings or {}).get("client_id")),
                                       ("POSTCLI_TUMBLR_CLIENT_SECRET", secrets.get("client_secret"))) if not ok]
            raise self._fail(
                PlatformRejected,
                f"a refresh token was given, but refreshing also needs {' and '.join(missing)}",
                hint="give your app's OAuth2 client id and secret, or leave out the refresh token",
            )
        expires_at = None
        if self._can_refresh():
            with self._lock:
                expires_at = self._refresh()
        user = self._api("GET", "/v2/user/info", "reading the token's user").get("user") or {}
        blogs = [b for b in (user.get("blogs") or []) if isinstance(b, dict) and b.get("name")]
        blog = self._find_blog(blogs, wanted)
        if blog is None:
            names = ", ".join(sorted(str(b["name"]) for b in blogs)) or "none"
            raise self._fail(
                PlatformRejected,
                f"the Tumblr user {user.get('name') or '?'} cannot post to the blog {wanted!r}; "
                f"the token can post to: {names}",
                hint="pass one of those with --blog, or authorize as a user who can post to that blog",
            )
        name = str(blog["name"])
        uuid = str(blog["uuid"]) if blog.get("uuid") else None
        settings = {k: v for k, v in (self.ctx.settings or {}).items()}
        settings.update(blog_name=name, blog_uuid=uuid, blog_url=blog.get("url"), user_name=user.get("name"))
        self.ctx.settings = settings
        self.ctx.settings_changed = True
        self.ctx.handle = name
        self.ctx.external_id = uuid or name
        self.ctx.save_secrets(dict(self.ctx.secrets))
        return AccountInfo(
            external_id=uuid or name,
            handle=name,
            display_name=blog.get("title") or None,
            token_expires_at=expires_at,
        )

    @staticmethod
    def _find_blog(blogs: list[dict[str, Any]], wanted: str) -> dict[str, Any] | None:
        for blog in blogs:
            url_host = (urlparse(str(blog.get("url") or "")).hostname or "").lower()
            if wanted in (str(blog["name"]).lower(), str(blog.get("uuid") or "").lower(), url_host):
                return blog
        return None

    def limits(self) -> Limits:
        return Limits(
            max_text=TEXT_BLOCK_MAX,
            # Each line becomes a text block; a block holds 4096 code points.
            count_unit="characters in its longest paragraph",
            max_images=MAX_IMAGE_BLOCKS,
            max_videos=MAX_NATIVE_VIDEOS,
            max_alt_text=ALT_TEXT_MAX,
            mime_types=MIME_TYPES,
            images_and_video=True,
            needs_public_media_url=False,
        )

    def text_length(self, text: str) -> int:
        """Code points of the longest paragraph: the limit is per NPF text block."""
        return max((len(p) for p in paragraphs(text)), default=0)

    # -- publishing ----------------------------------------------------------

    def _content_problems(self, blocks: list[str], media: list[MediaItem]) -> list[str]:
        problems = []
        long = [i + 1 for i, p in enumerate(blocks) if len(p) > TEXT_BLOCK_MAX]
        if long:
            problems.append(
                f"paragraph {', '.join(map(str, long))} is over {TEXT_BLOCK_MAX} characters (Tumblr's limit per paragraph)."
            )
        if len(blocks) > MAX_TEXT_BLOCKS:
            problems.append(f"{len(blocks)} paragraphs, the limit is {MAX_TEXT_BLOCKS}.")
        if sum(len(p.encode()) for p in blocks) > MAX_TEXT_BYTES:
            problems.append(f"the text is over {MAX_TEXT_BYTES:,} bytes (Tumblr stores at most 1 MB per post).")
        images = [m for m in media if not m.is_video]
        videos = [m for m in media if m.is_video]
        if len(images) > MAX_IMAGE_BLOCKS:
            problems.append(f"{len(images)} images, the limit is {MAX_IMAGE_BLOCKS}.")
        if len(videos) > MAX_NATIVE_VIDEOS:
            problems.append(f"{len(videos)} videos, the limit is {MAX_NATIVE_VIDEOS} uploaded video.")
        for m in media:
            if m.mime_type not in MIME_TYPES:
                problems.append(f"{m.path.name} is {m.mime_type}, which Tumblr does not take.")
            if m.alt_text and len(m.alt_text) > ALT_TEXT_MAX:
                problems.append(f"alt text of {m.path.name} is over {ALT_TEXT_MAX} characters.")
        if not blocks and not media:
            problems.append("there is nothing to post.")
        return problems

    def _open(self, item: MediaItem) -> Any:
        try:
            return open(item.path, "rb")
        except OSError as exc:
            raise self._fail(PlatformError, f"cannot read media file {item.path.name}: {exc.strerror or exc}") from None

    def publish(self, req: PublishRequest) -> PublishResult:
        """POST /v2/blog/{blog}/posts with NPF content: text blocks, then image and video blocks.

        Media travel in the same request (multipart: a "json" part, then one part
        per file named by its media object's "identifier").
        """
        blocks = paragraphs(req.text)
        problems = self._content_problems(blocks, req.media)
        if problems:
            raise self._fail(PlatformRejected, "cannot publish to Tumblr: " + " ".join(problems))
        content: list[dict[str, Any]] = [{"type": "text", "text": p} for p in blocks]
        for i, item in enumerate(req.media):
            media: dict[str, Any] = {"type": item.mime_type, "identifier": f"media-{i}"}
            if item.width and item.height:
                media.update(width=item.width, height=item.height)
            if item.is_video:
                content.append({"type": "video", "media": media})
            else:
                block: dict[str, Any] = {"type": "image", "media": [media]}
                if item.alt_text:
                    block["alt_text"] = item.alt_text
                content.append(block)
        body = {"content": content, "state": "published"}
        with ExitStack() as stack:
            handles = [(f"media-{i}", item, stack.enter_context(self._open(item))) for i, item in enumerate(req.media)]

            def build() -> dict[str, Any]:
                if not handles:
                    return {"json": body}
                parts: list[tuple[str, Any]] = [("json", (None, json.dumps(body), "application/json"))]
                for ident, item, handle in handles:
                    handle.seek(0)
                    parts.append((ident, (item.path.name, handle, item.mime_type)))
                return {"files": parts}

            created = self._api("POST", self._blog_path("posts"), "publishing the post", build=build)
        post_id = created.get("id_string") or created.get("id")  # documented as a string: never a float
        if post_id in (None, ""):
            raise self._fail(MalformedResponse, f"{self._host} did not say which post it created")
        return self._published(str(post_id))

    def _published(self, post_id: str) -> PublishResult:
        """The new post's URL and time, read back; the post exists whatever this lookup meets."""
        fallback = PublishResult(
            platform_post_id=post_id,
            url=f"https://www.tumblr.com/{self._blog_name()}/{post_id}",
            published_at=self._now(),
        )
        try:
            found = self._result(self._get_post(post_id, f"reading back post {post_id}"))
        except PlatformError:
            # e.g. a video still transcoding is not listed yet.
            return fallback
        return PublishResult(
            platform_post_id=post_id,
            url=found.url or fallback.url,
            published_at=found.published_at or fallback.published_at,
        )

    def _get_post(self, post_id: str, what: str) -> dict[str, Any]:
        """GET /v2/blog/{blog}/posts?id= : the post in NPF, or RemoteNotFound."""
        found = self._api("GET", self._blog_path("posts"), what, params=self._keyed({"id": post_id, "npf": "true"}))
        posts = found.get("posts")
        if not isinstance(posts, list) or not posts or not isinstance(posts[0], dict):
            raise self._fail(RemoteNotFound, f"post {post_id} is not on the blog {self._blog_name()}")
        return posts[0]

    def _result(self, post: dict[str, Any]) -> PublishResult:
        post_id = post.get("id_string") or post.get("id")  # id_string: the id as text, never a float
        if post_id in (None, ""):
            raise self._fail(MalformedResponse, f"{self._host} listed a post without an id")
        return PublishResult(
            platform_post_id=str(post_id),
            url=post.get("post_url") or f"https://www.tumblr.com/{self._blog_name()}/{post_id}",
            published_at=_from_timestamp(post.get("timestamp")),
            text=npf_text(post.get("content")) or None,
        )

    def _recent_posts(self) -> Iterator[dict[str, Any]]:
        for page in range(_RECONCILE_PAGES):
            found = self._api(
                "GET",
                self._blog_path("posts"),
                "looking for an earlier attempt among the blog's posts",
                params=self._keyed({"npf": "true", "limit": _PAGE_SIZE, "offset": page * _PAGE_SIZE}),
            )
            listed = found.get("posts")
            posts = [p for p in listed if isinstance(p, dict)] if isinstance(listed, list) else []
            yield from posts
            if len(posts) < _PAGE_SIZE:
                return

    def find_published(self, req: PublishRequest) -> PublishResult | None:
        """Was `req` published by an attempt whose outcome is unknown?

        Tumblr has no idempotency key, so this looks at the blog's newest posts
        (up to 60), published since the first attempt minus 5 minutes, for one
        whose text blocks read as `req.text` (whitespace-insensitive) with as many
        media blocks as `req.media`. A post published by hand with the same text
        in that window would be taken for ours.
        """
        first = _as_datetime(req.first_attempt_at)
        since = (first - RECONCILE_MARGIN).timestamp() if first is not None else None
        wanted = _normalized(req.text)
        for post in self._recent_posts():
            stamp = _int_or_none(post.get("timestamp"))
            if since is not None and stamp is not None and stamp < since:
                return None  # newest first: the rest are older still
            if _normalized(npf_text(post.get("content"))) != wanted:
                continue
            if _media_blocks(post.get("content")) != len(req.media):
                continue
            return self._result(post)
        return None

    def delete(self, platform_post_id: str) -> None:
        try:
            self._api(
                "POST",
                self._blog_path("post/delete"),
                f"deleting post {platform_post_id}",
                build=lambda: {"data": {"id": str(platform_post_id)}},
            )
        except RemoteNotFound:
            pass  # already gone is what we wanted

    # -- metrics -------------------------------------------------------------

    def _metrics(self, post_id: str, notes: dict[str, Any]) -> PostMetrics:
        likes = _int_or_none(notes.get("total_likes"))
        reblogs = _int_or_none(notes.get("total_reblogs"))
        replies = _int_or_none(notes.get("total_replies"))  # not documented; used if ever sent
        source = "total_replies" if replies is not None else None
        listed = notes.get("notes")
        links = notes.get("_links") if isinstance(notes.get("_links"), dict) else {}
        if replies is None and isinstance(listed, list) and not links.get("next"):
            # Conversation mode lists every reply; without a next page the list is whole.
            replies = sum(1 for n in listed if isinstance(n, dict) and n.get("type") == "reply")
            source = "counted"
        raw = {
            "id": post_id,
            "total_notes": _int_or_none(notes.get("total_notes")),
            "total_likes": likes,
            "total_reblogs": reblogs,
            "replies": replies,
            "replies_source": source,
        }
        return PostMetrics(likes=likes, shares=reblogs, comments=replies, raw=raw)

    def fetch_post_metrics(self, platform_post_ids: list[str]) -> dict[str, PostMetrics | None]:
        """One GET /v2/blog/{blog}/notes?id=&mode=conversation per post.

        That mode reports total_likes and total_reblogs; replies are counted from
        the listed notes when the list is complete, else None. A 404 = deleted.
        """
        result: dict[str, PostMetrics | None] = {}
        for post_id in dict.fromkeys(str(i) for i in platform_post_ids):
            try:
                notes = self._api(
                    "GET",
                    self._blog_path("notes"),
                    f"fetching the notes of post {post_id}",
                    params=self._keyed({"id": post_id, "mode": "conversation"}),
                )
            except RemoteNotFound:
                result[post_id] = None  # deleted; the other posts still count
                continue
            result[post_id] = self._metrics(post_id, notes)
        return result

    def fetch_account_metrics(self) -> AccountMetrics:
        """Followers from the blog's entry in GET /v2/user/info, posts from GET /v2/blog/{blog}/info.

        The docs list `followers` for each of `user.blogs` ("/user/info"), not in the
        blog info. A blog missing from user.blogs (the user lost access) or an entry
        without `followers` falls back to /followers?limit=1 (total_users).
        """
        user = self._api("GET", "/v2/user/info", "reading the blog's follower count").get("user") or {}
        blogs = [b for b in (user.get("blogs") or []) if isinstance(b, dict) and b.get("name")]
        settings = self.ctx.settings or {}
        wanted = [str(w).lower() for w in (settings.get("blog_uuid"), self._blog_name()) if w]
        entry = next((b for b in (self._find_blog(blogs, w) for w in wanted) if b is not None), None)
        followers = _int_or_none(entry.get("followers")) if entry is not None else None
        source = "user_info" if followers is not None else None
        info = self._api("GET", self._blog_path("info"), "reading the blog's counters", params=self._keyed())
        blog = info.get("blog")
        if not isinstance(blog, dict):
            raise self._fail(MalformedResponse, f"{self._host} sent no blog info")
        if followers is None:
            found = self._api(
                "GET", self._blog_path("followers"), "counting the blog's followers", params={"limit": 1}
            )
            followers = _int_or_none(found.get("total_users"))
            source = "followers" if followers is not None else None
        raw = {
            "name": blog.get("name"),
            "uuid": blog.get("uuid"),
            "posts": _int_or_none(blog.get("posts")),
            "followers": followers,
            "followers_source": source,
        }
        return AccountMetrics(followers=followers, posts_count=raw["posts"], raw=raw)

    # -- health and import -----------------------------------------------------

    def check_health(self) -> HealthResult:
        """Refresh first when the access token is within 10 minutes of expiry, then GET /v2/user/info."""
        if self._can_refresh() and self._refresh_due():
            with self._lock:
                if self._refresh_due():
                    self._refresh()
        user = self._api("GET", "/v2/user/info", "checking the access token").get("user") or {}
        expires = self._expires_at()
        blogs = [b for b in (user.get("blogs") or []) if isinstance(b, dict) and b.get("name")]
        settings = self.ctx.settings or {}
        wanted = [str(w).lower() for w in (settings.get("blog_uuid"), self._blog_name()) if w]
        if not any(self._find_blog(blogs, w) for w in wanted):
            return HealthResult(
                ok=False,
                error_code="blog_unavailable",
                message=f"the token's user can no longer post to the blog {self._blog_name()}",
                token_expires_at=expires,
            )
        message = None
        if not self._can_refresh():
            message = "the access token cannot be refreshed (no refresh token); " + _NO_REFRESH_HINT
        return HealthResult(ok=True, message=message, token_expires_at=expires)

    def resolve_post(self, url_or_id: str) -> PublishResult:
        ref = post_reference(url_or_id)
        if ref is None:
            raise self._fail(
                RemoteNotFound,
                f"{url_or_id!r} is not a Tumblr post URL or id",
                hint="give the post id or its URL, e.g. https://www.tumblr.com/BLOG/ID",
            )
        blog, post_id = ref
        ours = {str(self._blog_name() or "").lower()}
        blog_url = (self.ctx.settings or {}).get("blog_url")
        if blog_url:
            ours.add(blog_identifier(str(blog_url)))
        if blog is not None and blog not in ours:
            raise self._fail(
                RemoteNotFound,
                f"{url_or_id!r} is a post of {blog}, not of this account's blog {self._blog_name()}",
                hint="import posts into the account of the blog they were published on",
            )
        return self._result(self._get_post(post_id, f"fetching post {post_id}"))
