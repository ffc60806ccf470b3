"""The Pinterest API v5 over httpx: bearer tokens, error mapping, rotating refresh.

Access tokens live 30 days; each refresh (POST /v5/oauth/token, HTTP Basic app id:secret,
grant_type=refresh_token) answers a new access token AND a new continuous refresh token
(60 days), which replaces the old one: it is saved with ctx.save_secrets before anything
else happens, under the account's refresh lock (platforms/rotation.py), so a crash or a
second process never spends a refresh token twice. Errors are {"code": int, "message": str}
(the API description's Error schema). No message carries a token or the app secret.

References: https://developers.pinterest.com/docs/getting-started/set-up-authentication-and-authorization/
and the API description, github.com/pinterest/api-description (v5/openapi.yaml).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar
from urllib.parse import urlparse

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
from postcli.platforms.values import int_or_none, printable, retry_after_seconds, utc_now

TOKEN_PATH = "/v5/oauth/token"
ACCESS_TOKEN_DAYS = 30  # "expires_in": 2592000 in the documented token answer
# Refresh a day early: a 30-day token is not worth cutting close, and a collect run may be long.
REFRESH_MARGIN = timedelta(days=1)

RECONNECT = "sign in again: postcli accounts login pinterest"
NO_REFRESH = (
    "Pinterest access tokens last 30 days; for postcli to refresh them, sign in with "
    "`postcli accounts login pinterest`, or give POSTCLI_PINTEREST_REFRESH_TOKEN, "
    "POSTCLI_PINTEREST_CLIENT_SECRET and --client-id to `accounts add pinterest`"
)


def error_message(body: Any) -> str | None:
    """Pinterest's own words: {"code", "message"} (and "message_detail" where it adds one), or
    an OAuth error ({"error", "error_description"}) from the token endpoint."""
    if not isinstance(body, dict):
        return None
    text = body.get("message") or body.get("error_description") or body.get("error")
    detail = body.get("message_detail")
    if not text and not detail:
        return None
    out = printable(str(text or detail), 300)
    if detail and text and detail != text:
        out += f" ({printable(str(detail), 300)})"
    return out


def retry_after(headers: Any) -> float | None:
    """Seconds until a rate limit lifts: Retry-After, else X-RateLimit-Reset (seconds from now,
    or an epoch time when it is that large: the v5 docs do not say which)."""
    seconds = retry_after_seconds(headers.get("Retry-After"))
    if seconds is not None:
        return seconds
    raw = headers.get("X-RateLimit-Reset")
    try:
        value = float(str(raw).split(",")[0].strip())
    except (TypeError, ValueError):
        return None
    if value > 1_000_000_000:  # an epoch time, not a duration
        value -= utc_now().timestamp()
    return max(0.0, value)


class PinterestApi(BearerApi):
    """The plumbing of PinterestAdapter: one HTTP client, the error mapping and the tokens."""

    platform: ClassVar[str] = "pinterest"
    refresh_margin = REFRESH_MARGIN

    # -- plumbing --------------------------------------------------------------------

    def _client_base_url(self) -> str | None:
        return self.host("api")

    def _api_host(self) -> str:
        return urlparse(self.host("api")).netloc or "api.pinterest.com"

    def _exchange(self, method: str, url: str, what: str, *, headers: Any = None, **kwargs: Any) -> Any:
        """One HTTP request; network trouble leaves as PlatformUnavailable naming the host."""

        return self._request(
            method,
            url,
            what,
            host=urlparse(url).netloc or self._api_host(),
            unknown_hint="the outcome is unknown; postcli checks before sending again",
            headers=headers,
            **kwargs,
        )

    def _error(self, response: Any, what: str) -> PlatformError:
        """An HTTP error answer as the postcli error it is."""
        status = response.status_code
        body = self.decode(response)
        reason = error_message(body)
        said = f" ({reason})" if reason else ""
        host = self._api_host()
        if status == 401:
            hint = RECONNECT if self._can_refresh() else f"{RECONNECT}. {NO_REFRESH}"
            return self._fail(AuthFailed, f"{host} refused the access token while {what}{said}", hint=hint)
        if status == 429:
            if reason and "spam" in reason.lower():
                # Not a rate limit that lifts by itself (the quickstart's SpamException).
                return self._fail(PlatformRejected, f"{host} refused this as spam while {what}{said}")
            wait = retry_after(response.headers)
            when = f"; retry in {wait:.0f} s" if wait is not None else ""
            return self._fail(
                PlatformRateLimited,
                f"{host} rate limit reached while {what}{said}{when}",
                retry_after=wait,
                hint="trial access allows 1,000 requests a day (docs/platforms/pinterest.md)",
            )
        if status in (404, 410):
            return self._fail(RemoteNotFound, f"not found on {host} while {what}{said}")
        if status >= 500:
            return self._fail(PlatformUnavailable, f"{host} answered HTTP {status} while {what}{said}")
        if status == 403:
            return self._fail(
                PlatformRejected,
                f"{host} does not allow this while {what}{said or ' (forbidden)'}",
                hint="the token needs the scopes boards:read,boards:write,pins:read,pins:write,"
                f"user_accounts:read; {RECONNECT}",
            )
        if 400 <= status < 500:
            return self._fail(PlatformRejected, f"{host} refused the request while {what}{said or f' (HTTP {status})'}")
        return self._fail(MalformedResponse, f"{host} answered HTTP {status} while {what}")

    def _call(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """An authenticated API call; its JSON answer (None for 204). A 401 is answered by one
        refresh and one more try: Pinterest refused the first, so nothing is done twice."""
        self._refresh_if_due()
        token = self._access_token()
        response = self._exchange(method, path, what, headers=self._bearer(token), params=params, json=json)
        if response.status_code == 401 and self._can_refresh():
            with self._lock:
                if self._access_token() == token:  # else another thread refreshed meanwhile
                    self._refresh()
            headers = self._bearer(self._access_token())
            response = self._exchange(method, path, what, headers=headers, params=params, json=json)
        if not 200 <= response.status_code < 300:
            raise self._error(response, what)
        if response.status_code == 204 or not response.content:
            return None
        body = self.decode(response)
        if body is None:
            raise self._fail(MalformedResponse, f"{self._api_host()} sent an answer that is not JSON while {what}")
        return body

    def _object(self, method: str, path: str, what: str, **kwargs: Any) -> dict[str, Any]:
        body = self._call(method, path, what, **kwargs)
        if not isinstance(body, dict):
            raise self._fail(MalformedResponse, f"{self._api_host()} sent an unexpected answer while {what}")
        return body

    @staticmethod
    def _bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    # -- tokens ----------------------------------------------------------------------

    def _access_token(self) -> str:
        token = (self.ctx.secrets or {}).get("access_token")
        if not token:
            raise self._fail(AuthFailed, "no Pinterest access token is stored for this account", hint=RECONNECT)
        return str(token)

    def _can_refresh(self) -> bool:
        secrets = self.ctx.secrets or {}
        return bool(
            secrets.get("refresh_token") and secrets.get("client_secret") and (self.ctx.settings or {}).get("client_id")
        )

    def _refresh(self) -> datetime:
        """A new access token and a new refresh token, saved at once. Under the account's
        refresh lock, a pair another process stored meanwhile is taken instead."""
        from postcli.platforms.rotation import rotating_refresh

        with rotating_refresh(self.ctx) as adopted:
            self.secrets_in_play()
            if adopted and (fresh := self._still_fresh()) is not None:
                return fresh
            return self._spend_refresh_token()

    def _spend_refresh_token(self) -> datetime:
        import httpx

        what = "refreshing the access token"
        secrets = dict(self.ctx.secrets or {})
        auth = httpx.BasicAuth(str((self.ctx.settings or {}).get("client_id")), str(secrets.get("client_secret")))
        form = {"grant_type": "refresh_token", "refresh_token": str(secrets.get("refresh_token"))}
        response = self._exchange("POST", self.host("oauth") + TOKEN_PATH, what, auth=auth, data=form)
        body = self.decode(response)
        if response.status_code in (400, 401, 403):
            reason = error_message(body) or f"HTTP {response.status_code}"
            raise self._fail(
                AuthFailed,
                f"{urlparse(self.host('oauth')).netloc} refused to refresh the access token ({reason})",
                hint=f"{RECONNECT}. A refresh token lasts 60 days and works once",
            )
        if not 200 <= response.status_code < 300:
            raise self._error(response, what)
        new, expires_at = self._refreshed_secrets(
            body, secrets, lifetime=ACCESS_TOKEN_DAYS * 86400, host=self._api_host(), what=what
        )
        refresh_at = int_or_none(body.get("refresh_token_expires_at"))
        if refresh_at:
            new["refresh_expires_at"] = datetime.fromtimestamp(refresh_at, timezone.utc).isoformat()
        self._keep_secrets(new)  # before anything else: the old refresh token is spent
        self.ctx.token_expires_at = expires_at
        return expires_at
