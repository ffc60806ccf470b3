"""The Tumblr API v2 over httpx with OAuth2 bearer tokens.

Tumblr access tokens live 42 minutes and refresh tokens 42 days (rotated on each
refresh), so this client refreshes on its own: before a call when the known
expiry is near, and once after a 401. New tokens are saved with
ctx.save_secrets at once, the expiry with them ("expires_at"), because the
accounts table only learns it from `check_health`. No message ever contains a
token or the client secret.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable, ClassVar
from urllib.parse import quote, urlparse

from postcli.platforms.base import (
    AuthFailed,
    MalformedResponse,
    PlatformError,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
    RemoteNotFound,
)
from postcli.platforms.bearer import BearerApi
from postcli.platforms.tumblr.npf import blog_identifier
from postcli.platforms.tumblr.spec import SPEC
from postcli.platforms.values import as_utc, int_or_none, retry_after_seconds

_int_or_none = int_or_none
_as_datetime = as_utc

DEFAULT_BASE_URL = SPEC.hosts["api"]

# Tumblr access tokens expire after 42 minutes (expires_in 2520): refresh a little before.
DEFAULT_EXPIRES_IN = 2520
REFRESH_MARGIN = timedelta(minutes=10)

# 403 subcodes of POST /posts that are per-day quotas (media uploads, videos,
# posts) or a video still transcoding: "not now" rather than "never".
_QUOTA_CODES = {8004, 8010, 8011, 8023}


def _reconnect_hint(blog: str | None) -> str:
    return f"reconnect the account: postcli accounts add tumblr --blog {blog or 'BLOG'} (with new OAuth2 tokens)"


NO_REFRESH_HINT = (
    "Tumblr access tokens expire after 42 minutes; for postcli to refresh them, reconnect with "
    "POSTCLI_TUMBLR_REFRESH_TOKEN (scope offline_access), POSTCLI_TUMBLR_CLIENT_SECRET and --client-id"
)


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
    seconds = retry_after_seconds(headers.get("Retry-After"))
    if seconds is not None:
        return seconds
    # Tumblr's resets are seconds from now, not timestamps.
    for window in ("Perday", "Perhour"):
        if headers.get(f"X-Ratelimit-{window}-Remaining") == "0":
            try:
                return max(0.0, float(headers.get(f"X-Ratelimit-{window}-Reset") or ""))
            except ValueError:
                continue
    return None


class TumblrApi(BearerApi):
    """The plumbing of TumblrAdapter: the HTTP client, error mapping, token refresh."""

    platform: ClassVar[str] = "tumblr"
    refresh_margin = REFRESH_MARGIN

    # -- plumbing ------------------------------------------------------------

    @property
    def _base(self) -> str:
        base = (self.ctx.api_base_url or DEFAULT_BASE_URL).rstrip("/")
        return base if "://" in base else f"https://{base}"

    @property
    def _host(self) -> str:
        return urlparse(self._base).netloc or "the Tumblr API"

    def _client_base_url(self) -> str | None:
        return self._base

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
            raise self._fail(PlatformError, "no Tumblr blog is set for this account", hint=_reconnect_hint(None))
        # The uuid ("t:...") is stable across blog renames; ":" is fine in a path.
        return f"/v2/blog/{quote(str(blog), safe=':')}/{tail}"

    def _send(self, method: str, path: str, what: str, *, token: str | None, **kwargs: Any) -> Any:
        """One HTTP exchange; network failures leave as PlatformUnavailable naming the host."""

        headers = {"Authorization": f"Bearer {token}"} if token else None
        return self._request(
            method,
            path,
            what,
            host=self._host,
            unknown_hint="the outcome is unknown; postcli checks before retrying",
            headers=headers,
            **kwargs,
        )

    def _error(self, response: Any, body: Any, what: str) -> PlatformError:
        """The one place an HTTP error answer becomes a postcli error."""
        status = response.status_code
        detail = _error_detail(body)
        host = self._host
        if status == 401:
            hint = _reconnect_hint(self._blog_name())
            if not self._can_refresh():
                hint += ". " + NO_REFRESH_HINT
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
            return self._fail(
                PlatformRejected, f"{host} rejected the request while {what}: {detail or f'HTTP {status}'}"
            )
        return self._fail(MalformedResponse, f"{host} answered HTTP {status} while {what}")

    def _payload(self, response: Any, what: str) -> Any:
        body = self.decode(response)
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

    def _refresh(self) -> datetime:
        """Trade the refresh token for a new access and refresh token; save both at once.

        POST /v2/oauth2/token grant_type=refresh_token. The caller holds the lock; the
        account's inter-process refresh lock is taken here (platforms/rotation.py).
        """
        from postcli.platforms.rotation import rotating_refresh

        with rotating_refresh(self.ctx) as adopted:
            if adopted:  # another process rotated the pair while we waited: use it
                self._remember_secrets()
                if (fresh := self._still_fresh()) is not None:
                    return fresh
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
        body = self.decode(response)
        status = response.status_code
        if status in (400, 401, 403):
            # invalid_grant (expired/used refresh token), invalid_client (wrong id/secret).
            if self._adopt_stored_pair(secrets):
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
        new, expires_at = self._refreshed_secrets(
            body, secrets, lifetime=DEFAULT_EXPIRES_IN, host=self._host, what=what
        )
        self.ctx.token_expires_at = expires_at
        self._keep_secrets(new)
        return expires_at
