"""The Reddit Data API over httpx: the plumbing of RedditAdapter.

- Every request carries the User-Agent Reddit's API rules require (wire.user_agent), the
  token endpoint's too.
- Access tokens last an hour. An installed app refreshes them at www.reddit.com's
  /api/v1/access_token with HTTP Basic "client_id:" (an empty password: the app has no
  secret), before a call when the known expiry is near and once after a 401. Reddit says
  refresh tokens no longer rotate, but the answer carries one: a new one is stored at once,
  under the account's refresh lock (platforms/rotation.py).
- Errors are read from the body whatever the status: the token endpoint refuses a refresh
  token with HTTP 200 {"error": "invalid_grant"}; /api/submit refuses a post with HTTP 200
  and {"json": {"errors": [[code, message, field]]}} (wire.json_errors, read by the callers).
- x-ratelimit-used/-remaining/-reset (seconds to the window's end) are read on every answer;
  once the window is spent, the next request is not sent: PlatformRateLimited with the wait,
  which pauses the account's request budget like a 429.

No message ever contains a token.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlparse

from postcli.platforms.base import (
    AccountContext,
    AuthFailed,
    MalformedResponse,
    PlatformError,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
    RemoteNotFound,
)
from postcli.platforms.bearer import BearerApi
from postcli.platforms.reddit.wire import body_error, user_agent
from postcli.platforms.values import retry_after_seconds

TOKEN_PATH = "/api/v1/access_token"
DEFAULT_EXPIRES_IN = 3600  # "Access tokens are valid for 60 minutes" (OAuth2 wiki)
REFRESH_MARGIN = timedelta(minutes=5)

NO_REFRESH_HINT = (
    "Reddit access tokens last one hour; for postcli to refresh them, sign in with "
    "`postcli accounts login reddit --user NAME` (it asks for a permanent grant)"
)


def reconnect_hint(user: str | None) -> str:
    return f"reconnect the account: postcli accounts login reddit --user {user or 'NAME'}"


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class RedditApi(BearerApi):
    """The HTTP client, error mapping, rate-limit headers and token refresh of RedditAdapter."""

    platform: ClassVar[str] = "reddit"

    refresh_margin = REFRESH_MARGIN

    def __init__(self, ctx: AccountContext) -> None:
        super().__init__(ctx)
        # The rate-limit window as the last answer told it: spent until this ctx.clock() time.
        self._spent_until: float | None = None
        self.ratelimit: dict[str, float | None] = {}

    # -- plumbing ------------------------------------------------------------

    def _url(self, kind: str, path: str) -> str:
        base = self.host(kind)
        return (base if "://" in base else f"https://{base}") + path

    def _hostname(self, kind: str = "api") -> str:
        return urlparse(self._url(kind, "/")).netloc or "reddit.com"

    def username(self) -> str | None:
        return (self.ctx.settings or {}).get("username") or self.ctx.handle or None

    def _send(
        self, method: str, url: str, what: str, *, token: str | None = None, window: bool = True, **kwargs: Any
    ) -> Any:
        """One HTTP exchange with Reddit's User-Agent; network failures leave as PlatformUnavailable.
        `window`: the API's rate-limit window applies (not to the token endpoint, which has its own)."""

        host = urlparse(url).netloc
        if window:
            self._check_window(host, what)
        headers = {"User-Agent": user_agent(self.username())}
        if token:
            headers["Authorization"] = f"bearer {token}"
        response = self._request(
            method,
            url,
            what,
            host=host,
            unknown_hint="the outcome is unknown; postcli checks before retrying",
            headers=headers,
            **kwargs,
        )
        if window:
            self._note_window(response)
        return response

    # -- the rate-limit window ----------------------------------------------------------

    def _note_window(self, response: Any) -> None:
        """x-ratelimit-* of an answer (remaining is sent as a float, "599.0", as prawcore reads it)."""
        remaining = _float(response.headers.get("x-ratelimit-remaining"))
        if remaining is None:
            return
        reset = _float(response.headers.get("x-ratelimit-reset"))
        self.ratelimit = {
            "used": _float(response.headers.get("x-ratelimit-used")),
            "remaining": remaining,
            "reset": reset,
        }
        self._spent_until = self.ctx.clock() + max(1.0, reset or 0.0) if remaining <= 0 else None

    def _check_window(self, host: str, what: str) -> None:
        """A spent window is not spent further: the request would only earn a 429."""
        if self._spent_until is None:
            return
        wait = self._spent_until - self.ctx.clock()
        if wait <= 0:
            self._spent_until = None
            return
        raise self._fail(
            PlatformRateLimited,
            f"{host}: this app's requests for the current window are spent (x-ratelimit-remaining 0); "
            f"not sent while {what}; retry in {wait:.0f} s",
            retry_after=wait,
            hint="Reddit allows 100 requests a minute per app (client id)",
        )

    def _retry_after(self, response: Any) -> float | None:
        seconds = retry_after_seconds(response.headers.get("Retry-After"))
        if seconds is None:
            seconds = _float(response.headers.get("x-ratelimit-reset"))
        return None if seconds is None else max(0.0, seconds)

    # -- answers -------------------------------------------------------------------------

    def _error(self, response: Any, body: Any, what: str, kind: str = "api") -> PlatformError:
        """The one place an HTTP error answer becomes a postcli error."""
        status = response.status_code
        found = body_error(body)
        detail = (f"{found[0]}: {found[1]}" if found[1] else found[0]) if found else None
        host = self._hostname(kind)
        if status == 401:
            hint = reconnect_hint(self.username())
            if not self._can_refresh():
                hint += ". " + NO_REFRESH_HINT
            return self._fail(AuthFailed, f"{host} refused the access token while {what} (unauthorized)", hint=hint)
        if status == 403 and "insufficient_scope" in str(response.headers.get("www-authenticate") or ""):
            return self._fail(
                AuthFailed,
                f"{host}: the access token lacks a scope needed while {what}",
                hint=reconnect_hint(self.username()) + " (it asks for every scope postcli needs)",
            )
        if status == 429:
            retry = self._retry_after(response)
            when = f"; retry in {retry:.0f} s" if retry is not None else ""
            return self._fail(
                PlatformRateLimited,
                f"{host} rate limit reached while {what}{when}",
                retry_after=retry,
                hint="Reddit allows 100 requests a minute per app (client id)",
            )
        if status in (404, 410):
            return self._fail(RemoteNotFound, f"not found on {host} while {what}" + (f" ({detail})" if detail else ""))
        if status >= 500:
            return self._fail(
                PlatformUnavailable, f"{host} answered HTTP {status} while {what}" + (f" ({detail})" if detail else "")
            )
        if status == 403:
            return self._fail(PlatformRejected, f"{host} does not allow this while {what}: {detail or 'forbidden'}")
        if 400 <= status < 500:
            return self._fail(
                PlatformRejected, f"{host} rejected the request while {what}: {detail or f'HTTP {status}'}"
            )
        return self._fail(MalformedResponse, f"{host} answered HTTP {status} while {what}")

    def _api(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
    ) -> Any:
        """An authenticated call to oauth.reddit.com; its JSON body.

        raw_json=1 asks for text as written (not HTML-escaped). A 401 is answered by one
        refresh and one retry: Reddit refused the request, so sending it again cannot
        duplicate it.
        """
        self._refresh_if_due()
        token = self._access_token()
        url = self._url("api", path)
        query = {"raw_json": 1, **(params or {})}
        response = self._send(method, url, what, token=token, params=query, data=data)
        if response.status_code == 401 and self._can_refresh():
            with self._lock:
                if self._access_token() == token:  # else another thread refreshed meanwhile
                    self._refresh()
            response = self._send(method, url, what, token=self._access_token(), params=query, data=data)
        body = self.decode(response)
        if not 200 <= response.status_code < 300:
            raise self._error(response, body, what)
        if body is None:
            raise self._fail(MalformedResponse, f"{self._hostname()} sent an answer postcli cannot read while {what}")
        return body

    # -- tokens --------------------------------------------------------------------------

    def _access_token(self) -> str:
        token = (self.ctx.secrets or {}).get("access_token")
        if not token:
            raise self._fail(
                AuthFailed, "no Reddit access token is stored for this account", hint=reconnect_hint(self.username())
            )
        return str(token)

    def _client_id(self) -> str | None:
        value = (self.ctx.settings or {}).get("client_id")
        return str(value) if value else None

    def _can_refresh(self) -> bool:
        return bool((self.ctx.secrets or {}).get("refresh_token") and self._client_id())

    def _refresh(self) -> datetime:
        """Trade the refresh token for a new access token; save it at once (the caller holds
        the lock; the account's inter-process refresh lock is taken here)."""
        from postcli.platforms.rotation import rotating_refresh

        # Keyed on the access token: Reddit's refresh token usually stays the same, so a newer
        # access token in the store is how another process's refresh shows.
        with rotating_refresh(self.ctx, key="access_token") as adopted:
            if adopted:  # another process refreshed (and maybe rotated) while we waited: use it
                self._remember_secrets()
                if (fresh := self._still_fresh()) is not None:
                    return fresh
            return self._refresh_locked()

    def _refresh_locked(self) -> datetime:
        what = "refreshing the access token"
        secrets = dict(self.ctx.secrets or {})
        self._remember_secrets()
        response = self._send(
            "POST",
            self._url("oauth", TOKEN_PATH),
            what,
            window=False,
            # An installed app: the client id as the Basic user name, an empty password.
            auth=(self._client_id() or "", ""),
            data={"grant_type": "refresh_token", "refresh_token": secrets.get("refresh_token")},
        )
        body = self.decode(response)
        status = response.status_code
        host = self._hostname("oauth")
        if status == 401:
            raise self._fail(
                AuthFailed,
                f"{host} does not know the app's client id while {what}",
                hint=reconnect_hint(self.username()) + " with the client id of your installed app",
            )
        refused = isinstance(body, dict) and "error" in body and "access_token" not in body
        if refused and status in (200, 400):
            # invalid_grant: revoked or unknown refresh token, sent with HTTP 200.
            if self._adopt_stored_pair(secrets):
                expires = self._expires_at()
                if expires is not None and self._now() < expires:
                    self.ctx.token_expires_at = expires
                    return expires
                return self._refresh()
            found = body_error(body)
            raise self._fail(
                AuthFailed,
                f"{host} refused to refresh the access token ({found[0] if found else 'refused'})",
                hint=reconnect_hint(self.username()) + " (the app's access was revoked, or the grant expired)",
            )
        if not 200 <= status < 300:
            raise self._error(response, body, what, kind="oauth")
        new, expires_at = self._refreshed_secrets(body, secrets, lifetime=DEFAULT_EXPIRES_IN, host=host, what=what)
        self.ctx.token_expires_at = expires_at
        self._keep_secrets(new)
        return expires_at
