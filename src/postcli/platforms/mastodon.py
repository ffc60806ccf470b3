"""Mastodon adapter over the Mastodon.py SDK.

The SDK is imported inside the methods that talk to the network: `import
mastodon` costs ~0.4 s and `postcli --help` must not pay it.

Everything the SDK raises leaves this module through `_translate` as one of the
typed errors of `postcli.errors`; no message ever contains the access token.
"""

from __future__ import annotations

import functools
import html
import re
import sys
import threading
import time
import unicodedata
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import Any, ClassVar, Iterator
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

_as_datetime = as_utc
_int_or_none = int_or_none

# Mastodon's own defaults (StatusLengthValidator::MAX_CHARS, URL_PLACEHOLDER_CHARS,
# Status::MEDIA_ATTACHMENTS_LIMIT, MediaAttachment::MAX_DESCRIPTION_LENGTH), used
# until the instance has told us its configuration.
DEFAULT_MAX_CHARACTERS = 500
DEFAULT_URL_WEIGHT = 23
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
# Assumed when no version is cached: new enough for /api/v2/media (3.1.4+) and
# v2 instance info (4.0), old enough not to assume the multi-status endpoint.
_ASSUMED_VERSION = "4.0.0"

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

# twitter-text's mention rule as Mastodon applies it: `@user@domain`, not inside a
# word, an e-mail address or a URL path.
_REMOTE_MENTION = re.compile(
    r"(?<![\w/@])@([a-z0-9_]+(?:[a-z0-9_.\-]+[a-z0-9_]+)?)@[a-z0-9.\-]+[a-z0-9]+",
    re.IGNORECASE,
)
# Used only if the SDK's copy of Mastodon's URL regex cannot be loaded.
_FALLBACK_URL = re.compile(r"(?<![\w@])https?://[^\s<>\"]*[^\s<>\".,;:!?')\]]", re.IGNORECASE)


def _reconnect_hint(base_url: str) -> str:
    return f"reconnect the account: postcli accounts add mastodon --instance {base_url}"


# --- text length -------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _url_regex() -> re.Pattern[str]:
    """Mastodon's own URL pattern (twitter-text with Mastodon's changes).

    Mastodon.py ships it in `mastodon/_url_regex.py`, a module that imports only
    `re` and `json`; loading that file by path avoids importing the whole SDK
    (~0.4 s) just to count characters while validating a post.
    """
    try:
        import importlib.util
        import os

        spec = importlib.util.find_spec("mastodon")  # locates, does not import
        if spec is None or not spec.origin:
            return _FALLBACK_URL
        path = os.path.join(os.path.dirname(spec.origin), "_url_regex.py")
        file_spec = importlib.util.spec_from_file_location("_postcli_mastodon_url_regex", path)
        if file_spec is None or file_spec.loader is None:
            return _FALLBACK_URL
        module = importlib.util.module_from_spec(file_spec)
        file_spec.loader.exec_module(module)
        return module.url_regex
    except Exception:  # a changed SDK layout must not break validation
        return _FALLBACK_URL


def _url_spans(text: str) -> list[tuple[int, int]]:
    pattern = _url_regex()
    spans = []
    for m in pattern.finditer(text):
        # Mastodon's pattern captures the character before the URL; the URL is group 3.
        if pattern is not _FALLBACK_URL and pattern.groups >= 3 and m.group(3) is not None:
            spans.append(m.span(3))
        else:
            spans.append(m.span())
    return spans


def mastodon_text_length(text: str, url_weight: int = DEFAULT_URL_WEIGHT) -> int:
    """Length of `text` as Mastodon's StatusLengthValidator counts it.

    Every http(s) URL counts `url_weight` characters whatever its length, a
    remote mention `@user@domain` counts as `@user`, and the result is measured
    in extended grapheme clusters (`each_grapheme_cluster.size`), so an emoji
    with modifiers or a flag counts 1. A blank text counts 0.
    """
    import regex

    if not text or not text.strip():
        return 0
    entities: list[tuple[int, int, str | None]] = [(a, b, None) for a, b in _url_spans(text)]
    taken = [(a, b) for a, b, _ in entities]
    for m in _REMOTE_MENTION.finditer(text):
        a, b = m.span()
        # Extractor.remove_overlapping_entities: a mention inside a URL is part of the URL.
        if not any(a < ub and ua < b for ua, ub in taken):
            entities.append((a, b, "@" + m.group(1)))
    entities.sort()
    out: list[str] = []
    last = 0
    for a, b, replacement in entities:
        out.append(text[last:a])
        out.append("x" * url_weight if replacement is None else replacement)
        last = b
    out.append(text[last:])
    return len(regex.findall(r"\X", "".join(out)))


# --- HTML content -> plain text (for reconciliation) --------------------------


class _PlainText(HTMLParser):
    """Undo Mastodon's plain-text formatter: paragraphs, line breaks, links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._paragraphs = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p":
            if self._paragraphs:
                self.parts.append("\n\n")
            self._paragraphs += 1

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _status_plain_text(status: Any) -> str:
    text = status.get("text")  # present on delete responses and /source
    if isinstance(text, str):
        return text
    parser = _PlainText()
    parser.feed(status.get("content") or "")
    parser.close()
    return html.unescape("".join(parser.parts))


def _normalized(text: str) -> str:
    # The rendered HTML shows remote mentions by their local part only, and
    # Mastodon normalizes line endings; compare what survives rendering.
    text = unicodedata.normalize("NFC", text)
    text = _REMOTE_MENTION.sub(lambda m: "@" + m.group(1), text)
    return " ".join(text.split())


# --- small helpers -------------------------------------------------------------


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


def _version_tuple(version: str | None) -> tuple[int, int, int] | None:
    if not version:
        return None
    m = re.match(r"\s*(\d+)\.(\d+)(?:\.(\d+))?", version)
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def _status_code(exc: BaseException) -> int | None:
    # Mastodon.py raises API errors as (message, status, reason, server error text).
    args = getattr(exc, "args", ())
    if len(args) >= 2 and isinstance(args[1], int):
        return args[1]
    return None


def _server_message(exc: BaseException) -> str | None:
    args = getattr(exc, "args", ())
    if len(args) >= 4 and args[3]:
        return str(args[3])
    return None


class _DirectError(Exception):
    """Raised by the adapter's own HTTP calls (those that bypass the SDK)."""


class _DirectStatusError(_DirectError):
    """A non-2xx answer; args are laid out like the SDK's API errors:
    (message, status, reason, server error text)."""


class _DirectNetworkError(_DirectError):
    """The request did not complete (connection refused, timeout, bad URL...)."""


class _DirectMalformedError(_DirectError):
    """A 2xx answer whose body is not JSON."""


def _error_message(response: Any) -> str | None:
    # What the SDK keeps of an error body: {"error": ...} or a bare JSON string.
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and body.get("error"):
        return str(body["error"])
    if isinstance(body, str) and body:
        return body
    return None


def _retry_after(response: Any) -> float | None:
    """Seconds to wait, from Retry-After or Mastodon's X-RateLimit-Reset.

    The reset time is compared with the server's Date header when there is one,
    so a skewed local clock does not shorten or stretch the wait.
    """
    if response is None:
        return None
    from email.utils import parsedate_to_datetime  # ~20 ms; only needed on a 429

    headers = response.headers
    value = headers.get("Retry-After")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
                return max(0.0, (_as_datetime(when) - datetime.now(timezone.utc)).total_seconds())
            except (TypeError, ValueError):
                pass
    reset = headers.get("X-RateLimit-Reset")
    if not reset:
        return None
    try:
        number = int(reset)
    except ValueError:
        reset_at = _as_datetime(reset)
    else:
        # Mastodon sends an ISO time; some compatible servers an epoch or a delay.
        if number < 1_000_000_000:
            return float(max(0, number))
        reset_at = datetime.fromtimestamp(number, timezone.utc)
    if reset_at is None:
        return None
    now = datetime.now(timezone.utc)
    date = headers.get("Date")
    if date:
        try:
            now = _as_datetime(parsedate_to_datetime(date)) or now
        except (TypeError, ValueError):
            pass
    return max(0.0, (reset_at - now).total_seconds())


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
        "characters_reserved_per_url": _int_or_none(statuses.get("characters_reserved_per_url"))
        or DEFAULT_URL_WEIGHT,
        "max_media_attachments": _int_or_none(statuses.get("max_media_attachments")) or DEFAULT_MAX_MEDIA,
        "supported_mime_types": [str(m) for m in mimes] if isinstance(mimes, list) else None,
        "image_size_limit": _int_or_none(media.get("image_size_limit")),
        "video_size_limit": _int_or_none(media.get("video_size_limit")),
        "description_limit": _int_or_none(media.get("description_limit")),
        "instance_checked_at": datetime.now(timezone.utc).isoformat(),
    }


# --- the adapter -----------------------------------------------------------------


class MastodonAdapter:
    """One Mastodon account on one instance (`ctx.api_base_url`)."""

    platform: ClassVar[str] = "mastodon"
    default_base_url: ClassVar[str] = ""  # there is no default instance
    has_metrics: ClassVar[bool] = True
    metrics_batch_size: ClassVar[int] = MULTI_GET_LIMIT

    # Bounded wait for media the instance processes asynchronously (video).
    media_processing_timeout: ClassVar[float] = 300.0
    _first_poll_delay: ClassVar[float] = 0.1
    _max_poll_delay: ClassVar[float] = 2.0

    def __init__(self, ctx: AccountContext) -> None:
        self.ctx = ctx
        self._client: Any = None
        self._local = threading.local()
        self._multi_get: bool | None = None
        # Plain-JSON reads (metrics) bypass the SDK, whose typed objects cost ~9 ms of
        # CPU per status; one httpx.Client per adapter, shared by its threads.
        self._http: Any = None
        self._http_token: str | None = None
        self._http_lock = threading.Lock()

    # -- plumbing ------------------------------------------------------------

    @property
    def _host(self) -> str:
        base = self.ctx.api_base_url or ""
        return urlparse(base if "://" in base else f"https://{base}").netloc or base or "the Mastodon instance"

    def _remember_response(self, response: Any, *args: Any, **kwargs: Any) -> None:
        # The SDK drops the response on errors; rate-limit headers live there.
        self._local.response = response

    def _last_response(self) -> Any:
        return getattr(self._local, "response", None)

    def _error_text(self, status: int | None) -> str | None:
        # The SDK loses {"error": ...} when it casts an error body to a list type
        # (e.g. for GET /api/v1/statuses); read it from the response itself.
        response = self._last_response()
        if response is None or status is None or response.status_code != status:
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        error = body.get("error") if isinstance(body, dict) else None
        return str(error) if error else None

    def _make_client(self, token: str, version: str | None) -> Any:
        if not self.ctx.api_base_url:
            raise PlatformError(
                "no Mastodon instance URL is set for this account",
                platform=self.platform,
                hint="postcli accounts add mastodon --instance https://your.instance",
            )
        import requests
        from mastodon import Mastodon

        session = requests.Session()
        session.hooks["response"].append(self._remember_response)
        version = version or _ASSUMED_VERSION
        client = Mastodon(
            access_token=token,
            api_base_url=self.ctx.api_base_url,
            ratelimit_method="throw",  # never sleep inside the SDK; callers decide
            request_timeout=self.ctx.timeout,
            # "none" never calls /api/v1/instance behind our back; giving a version marks
            # the check as done, and the numbers below steer media_post to /api/v2/media.
            version_check_mode="none",
            mastodon_version=version,
            session=session,
            user_agent="postcli",
        )
        parsed = _version_tuple(version) or _version_tuple(_ASSUMED_VERSION)
        client.mastodon_major, client.mastodon_minor, client.mastodon_patch = parsed
        return client

    def _stored_token(self) -> str:
        token = (self.ctx.secrets or {}).get("access_token")
        if not token:
            raise AuthFailed(
                f"no access token is stored for this account on {self._host}",
                platform=self.platform,
                hint=_reconnect_hint(self.ctx.api_base_url),
            )
        return token

    def _api(self) -> Any:
        if self._client is None:
            self._client = self._make_client(self._stored_token(), self.ctx.settings.get("version"))
        return self._client

    def _http_client(self) -> Any:
        """The httpx.Client for direct JSON reads, built on first use.

        Same base URL, bearer token, timeout and User-Agent as the SDK client.
        """
        # The SDK client's token when there is one: what _api() would send.
        token = self._client.access_token if self._client is not None else self._stored_token()
        if not self.ctx.api_base_url:
            raise PlatformError(
                "no Mastodon instance URL is set for this account",
                platform=self.platform,
                hint="postcli accounts add mastodon --instance https://your.instance",
            )
        with self._http_lock:
            if self._http is not None and self._http_token == token:
                return self._http
            import httpx  # not at module level: `postcli --help` must stay fast

            old, self._http = self._http, None
            if old is not None:
                old.close()
            base = self.ctx.api_base_url
            if not base.startswith(("http://", "https://")):
                base = "https://" + base  # as Mastodon.py does
            self._http_token = token
            self._http = httpx.Client(
                base_url=base.rstrip("/"),
                headers={"Authorization": f"Bearer {token}", "User-Agent": "postcli"},
                timeout=self.ctx.timeout,
                follow_redirects=True,  # requests (under the SDK) follows them too
                verify=tls.context(),
            )
            return self._http

    def _close_http(self) -> None:
        with self._http_lock:
            old, self._http, self._http_token = self._http, None, None
        if old is not None:
            old.close()

    def _get_json(self, path: str, params: Any = None) -> Any:
        """GET `path` and return the decoded JSON, as plain dicts and lists.

        Failures are raised the way the SDK raises them (status code and server
        message in the exception), so `_calls`/`_translate` map them identically.
        """
        import httpx

        client = self._http_client()
        try:
            response = client.get(path, params=params)
        except httpx.TimeoutException as exc:
            raise _DirectNetworkError(f"Could not complete request: timed out ({type(exc).__name__})") from None
        except Exception as exc:  # the SDK turns any request failure into a network error
            raise _DirectNetworkError(f"Could not complete request: {type(exc).__name__}") from None
        self._local.response = response  # rate-limit headers for _retry_after
        status = response.status_code
        if status >= 400:
            raise _DirectStatusError(
                "Mastodon API returned error", status, response.reason_phrase, _error_message(response)
            )
        try:
            return response.json()
        except ValueError:
            raise _DirectMalformedError(f"HTTP {status} answer is not JSON") from None

    def _scrub(self, message: str) -> str:
        token = (self.ctx.secrets or {}).get("access_token")
        candidates = [token, getattr(self._client, "access_token", None), self._http_token]
        for secret in candidates:
            if secret and len(secret) >= 4:
                message = message.replace(secret, "***")
        return message

    @contextmanager
    def _calls(self, what: str) -> Iterator[None]:
        """Run SDK calls; anything they raise leaves as a typed error."""
        try:
            yield
        except PlatformError:
            raise
        except Exception as exc:
            mapped = self._translate(exc, what)
            if mapped is None:
                raise
            raise mapped from exc

    def _translate(self, exc: BaseException, what: str) -> PlatformError | None:
        """The one place SDK/network failures become postcli errors."""
        if isinstance(exc, _DirectError) or "mastodon.errors" not in sys.modules:
            # Not raised by the SDK (it is not even loaded, or the error is one of the
            # direct calls'): decide by status code alone, without importing the SDK.
            MastodonAPIError = _DirectMalformedError  # type: ignore[assignment,misc]
            MastodonError = MastodonNotFoundError = ()  # type: ignore[assignment]
            MastodonRatelimitError = MastodonServerError = MastodonUnauthorizedError = ()  # type: ignore[assignment]
            MastodonNetworkError = _DirectNetworkError  # type: ignore[assignment,misc]
        else:
            from mastodon.errors import (
                MastodonAPIError,
                MastodonError,
                MastodonNetworkError,
                MastodonNotFoundError,
                MastodonRatelimitError,
                MastodonServerError,
                MastodonUnauthorizedError,
            )

        host = self._host
        status = _status_code(exc)
        server = _server_message(exc) or self._error_text(status)
        p = self.platform

        def done(cls: type[PlatformError], message: str, **kw: Any) -> PlatformError:
            return cls(self._scrub(message), platform=p, **kw)

        if isinstance(exc, MastodonRatelimitError) or status == 429:
            retry = _retry_after(self._last_response())
            when = f"; retry in {retry:.0f} s" if retry is not None else ""
            return done(
                PlatformRateLimited,
                f"{host} rate limit reached while {what}{when}",
                retry_after=retry,
                hint="wait for the limit to reset; collection jobs retry on their own",
            )
        if isinstance(exc, MastodonNetworkError):
            text = str(exc).lower()
            if "timed out" in text or "timeout" in text:
                return done(
                    PlatformUnavailable,
                    f"{host} did not answer within {self.ctx.timeout:g} s while {what}",
                    hint="the outcome is unknown; postcli checks before retrying",
                )
            return done(PlatformUnavailable, f"could not reach {host} while {what}")
        if isinstance(exc, MastodonUnauthorizedError) or status == 401:
            reason = server or "unauthorized"
            return done(
                AuthFailed,
                f"{host} refused the access token while {what} ({reason})",
                hint=_reconnect_hint(self.ctx.api_base_url),
            )
        if status == 403:
            # Missing scopes, a disabled login or a suspended account: only new
            # credentials fix these.
            return done(
                AuthFailed,
                f"{host} does not allow this account to do that ({server or 'forbidden'}) while {what}",
                hint=_reconnect_hint(self.ctx.api_base_url),
            )
        if isinstance(exc, MastodonNotFoundError) or status in (404, 410):
            return done(RemoteNotFound, f"not found on {host} while {what}")
        if isinstance(exc, MastodonServerError) or (status is not None and status >= 500):
            return done(PlatformUnavailable, f"{host} answered HTTP {status} while {what}")
        if status is not None and 400 <= status < 500:
            detail = server or f"HTTP {status}"
            return done(PlatformRejected, f"{host} rejected the request while {what}: {detail}")
        if isinstance(exc, MastodonAPIError):
            return done(MalformedResponse, f"{host} sent an answer postcli cannot read while {what}")
        if isinstance(exc, MastodonError):
            return done(PlatformError, f"Mastodon client error while {what}: {type(exc).__name__}")
        if isinstance(exc, (KeyError, TypeError, ValueError, AttributeError)):
            return done(MalformedResponse, f"{host} sent an unexpected answer while {what}")
        return None

    # -- account -------------------------------------------------------------

    def connect(self, identifier: str | None, secret: str) -> AccountInfo:
        token = (secret or "").strip()
        if not token:
            raise AuthFailed(
                "a Mastodon access token is required",
                platform=self.platform,
                hint="create one under Preferences > Development on your instance",
            )
        # ctx is left untouched until the token is known to work; _scrub finds the
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
        with self._calls("publishing the status"):
            # The SDK sends idempotency_key as the Idempotency-Key header.
            status = api.status_post(
                req.text,
                media_ids=media_ids or None,
                idempotency_key=req.idempotency_key,
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
                    f"{self._host} was still processing {name} after "
                    f"{self.media_processing_timeout:g} s",
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
        return PublishResult(
            platform_post_id=str(status["id"]),
            url=status.get("url") or status.get("uri"),
            published_at=_as_datetime(status.get("created_at")),
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
        now = datetime.now(timezone.utc)
        if first is not None and now - first < REPLAY_WINDOW:
            return None
        since = first - timedelta(minutes=5) if first is not None else None
        wanted = _normalized(req.text)
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
                for status in page:
                    created = _as_datetime(status.get("created_at"))
                    if since is not None and created is not None and created < since:
                        return None
                    if _normalized(_status_plain_text(status)) != wanted:
                        continue
                    if len(status.get("media_attachments") or []) != len(req.media):
                        continue
                    return self._result(status)
                if len(page) < _PAGE_SIZE:
                    return None
                max_id = str(page[-1]["id"])
        return None

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
        version = _version_tuple(settings.get("version"))
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
