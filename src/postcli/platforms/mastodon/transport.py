"""How the Mastodon adapter talks to an instance: the SDK client, direct JSON reads over
httpx (metrics), and `translate`, the one place an SDK or network failure becomes a
typed postcli error. No message ever contains the access token.
"""

from __future__ import annotations

import re
import sys
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, ClassVar, Iterator
from urllib.parse import urlparse

from postcli.platforms import tls
from postcli.platforms.base import (
    AccountContext,
    AdapterBase,
    AuthFailed,
    MalformedResponse,
    PlatformError,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
    RemoteNotFound,
)
from postcli.platforms.values import as_utc, int_or_none, retry_after_seconds

_as_datetime = as_utc
_int_or_none = int_or_none

# Assumed when no version is cached: new enough for /api/v2/media (3.1.4+) and
# v2 instance info (4.0), old enough not to assume the multi-status endpoint.
_ASSUMED_VERSION = "4.0.0"


def _reconnect_hint(base_url: str) -> str:
    return f"reconnect the account: postcli accounts add mastodon --instance {base_url}"


def version_tuple(version: str | None) -> tuple[int, int, int] | None:
    if not version:
        return None
    m = re.match(r"\s*(\d+)\.(\d+)(?:\.(\d+))?", version)
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def _status_code(exc: BaseException) -> int | None:
    # Mastodon.py raises API errors as (message, status, reason, server error text).
    args: tuple[Any, ...] = getattr(exc, "args", ())
    if len(args) >= 2 and isinstance(args[1], int):
        return args[1]
    return None


def _server_message(exc: BaseException) -> str | None:
    args: tuple[Any, ...] = getattr(exc, "args", ())
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
    seconds = retry_after_seconds(headers.get("Retry-After"))
    if seconds is not None:
        return seconds
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


class MastodonTransport(AdapterBase):
    """The plumbing of MastodonAdapter: clients, direct reads, error translation."""

    platform: ClassVar[str] = "mastodon"

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
        parsed = version_tuple(version) or version_tuple(_ASSUMED_VERSION)
        assert parsed is not None  # _ASSUMED_VERSION parses
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
            old, self._http = self._http, None
            if old is not None:
                old.close()
            base = self.ctx.api_base_url
            if not base.startswith(("http://", "https://")):
                base = "https://" + base  # as Mastodon.py does
            self._http_token = token
            self._http = tls.client(
                base_url=base.rstrip("/"),
                headers={"Authorization": f"Bearer {token}"},
                timeout=self.ctx.timeout,
                follow_redirects=True,  # requests (under the SDK) follows them too
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

    def secrets_in_play(self) -> list[object]:
        # The token may be only on the client yet (connect) or on the direct-read client.
        return [*super().secrets_in_play(), getattr(self._client, "access_token", None), self._http_token]

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
            MastodonAPIError = _DirectMalformedError
            MastodonError = MastodonNotFoundError = ()
            MastodonRatelimitError = MastodonServerError = MastodonUnauthorizedError = ()
            MastodonNetworkError = _DirectNetworkError
        else:
            from mastodon.errors import (  # type: ignore[assignment]  # the SDK's classes stand in for the above
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
            return cls(self.scrub(message), platform=p, **kw)

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
