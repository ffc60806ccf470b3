"""LinkedIn's REST API over httpx: headers, error mapping, tokens.

Every /rest/ call names the API version (`LinkedIn-Version: YYYYMM`) and the Rest.li
protocol (`X-Restli-Protocol-Version: 2.0.0`), as every page of the Marketing API docs
asks. Errors come as {"status", "serviceErrorCode", "code", "message"}
(learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/error-handling). Access
tokens live 60 days; where the app has programmatic refresh
(learn.microsoft.com/en-us/linkedin/shared/authentication/programmatic-refresh-tokens) this
client refreshes before the expiry and once after a 401, and saves the new token at once.
No message ever holds a token or the client secret.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

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
from postcli.platforms.linkedin.version import DEFAULT_VERSION, check_version, sunset
from postcli.platforms.values import int_or_none, retry_after_seconds

RESTLI = "2.0.0"
# Refresh this long before the access token ends (they live 60 days).
REFRESH_MARGIN = timedelta(days=7)
# 401 serviceErrorCodes (error-handling page): the token is invalid, revoked, or expired.
_TOKEN_CODES = {65600: "the token is not valid", 65601: "the token was revoked", 65602: "the token expired"}


class Forbidden(PlatformRejected):
    """403 ACCESS_DENIED: the token's scopes (the app's products) or the member's role do not
    allow it. Metrics read it as "withheld by the access level"."""


class NotSent(PlatformUnavailable):
    """The connection failed before the request left: the platform did not see it."""


def next_utc_midnight(now: datetime) -> datetime:
    return (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def scope_list(value: Any) -> list[str] | None:
    """A token answer's `scope` (comma or space separated) as a list; None when absent."""
    if not isinstance(value, str) or not value.strip():
        return None
    return sorted({s for s in value.replace(",", " ").split() if s})


class LinkedInApi(BearerApi):
    """The plumbing of LinkedInAdapter: the HTTP client, headers, error mapping, tokens."""

    platform: ClassVar[str] = "linkedin"
    refresh_margin = REFRESH_MARGIN

    # -- plumbing ------------------------------------------------------------------------

    def _url(self, kind: str, path: str) -> str:
        return self.host(kind) + path

    @staticmethod
    def _host_of(url: str) -> str:
        return urlsplit(url).netloc or "LinkedIn"

    def version(self) -> str:
        configured = self.ctx.app_setting("version")
        return check_version(configured) if configured else DEFAULT_VERSION

    def _reconnect_hint(self) -> str:
        from postcli.platforms.linkedin.spec import SPEC

        values = SPEC.hint_values(self.ctx.handle, self.ctx.api_base_url, self.ctx.external_id)
        return "reconnect the account: " + SPEC.reconnect_login.format(**values)

    def _send(self, method: str, url: str, what: str, *, headers: dict[str, str], **kw: Any) -> Any:
        """One HTTP exchange; network failures leave as PlatformUnavailable naming the host."""
        import httpx

        host = self._host_of(url)
        try:
            return self._client().request(method, url, headers=headers, **kw)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise self._fail(NotSent, f"could not reach {host} while {what} ({type(exc).__name__})") from None
        except httpx.TimeoutException:
            raise self._fail(
                PlatformUnavailable,
                f"{host} did not answer within {self.ctx.timeout:g} s while {what}",
                hint="the outcome is unknown",
            ) from None
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
            raise self._fail(
                PlatformUnavailable, f"no answer from {host} while {what} ({type(exc).__name__})"
            ) from None

    def _headers(self, token: str | None, rest: bool, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if rest:
            headers["LinkedIn-Version"] = self.version()
            headers["X-Restli-Protocol-Version"] = RESTLI
        headers.update(extra or {})
        return headers

    def call(
        self,
        method: str,
        url: str,
        what: str,
        *,
        rest: bool = True,
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> Any:
        """An authenticated request; the response when it is 2xx, else the typed error.

        A 401 is answered by one refresh and one retry where the app can refresh: LinkedIn
        refused the request, so sending it again cannot make a second post."""
        self._refresh_if_due()
        token = self._access_token()
        response = self._send(method, url, what, headers=self._headers(token, rest, headers), **kw)
        if response.status_code == 401 and self._can_refresh():
            with self._lock:
                if self._access_token() == token:  # else another thread refreshed meanwhile
                    self._refresh()
            response = self._send(method, url, what, headers=self._headers(self._access_token(), rest, headers), **kw)
        if not 200 <= response.status_code < 300:
            raise self._error(response, what)
        return response

    def json_of(self, response: Any, what: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            host = self._host_of(str(response.request.url))
            raise self._fail(MalformedResponse, f"{host} sent an answer postcli cannot read while {what}")
        return body

    def get_json(self, url: str, what: str, **kw: Any) -> dict[str, Any]:
        return self.json_of(self.call("GET", url, what, **kw), what)

    # -- errors ------------------------------------------------------------------------------

    def _error(self, response: Any, what: str) -> PlatformError:
        """The one place an HTTP error answer becomes a postcli error."""
        try:
            body = response.json()
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        status = response.status_code
        service = int_or_none(body.get("serviceErrorCode"))
        code = body.get("code") if isinstance(body.get("code"), str) else None
        message = body.get("message") if isinstance(body.get("message"), str) else None
        detail = "; ".join(str(x) for x in (message, code) if x) or f"HTTP {status}"
        host = self._host_of(str(response.request.url))
        if status == 401:
            why = _TOKEN_CODES.get(service or 0, "unauthorized")
            return self._fail(
                AuthFailed,
                f"{host} refused the access token while {what}: {why} ({detail})",
                hint=self._reconnect_hint()
                + (". LinkedIn access tokens last 60 days" if not self._can_refresh() else ""),
            )
        if status == 426:
            return self.scrub_error(sunset(self.version(), message))
        if status == 429:
            retry = retry_after_seconds(response.headers.get("Retry-After"))
            if retry is None:
                # LinkedIn's limits are daily and its 429 names no reset: they reset at 00:00 UTC
                # (learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/rate-limits).
                now = self._now()
                retry = (next_utc_midnight(now) - now).total_seconds()
            return self._fail(
                PlatformRateLimited,
                f"{host} rate limit reached while {what} ({detail})",
                retry_after=retry,
                hint="LinkedIn limits each app's and each member's calls per day; they reset at 00:00 UTC",
            )
        if status == 403:
            return self._fail(
                Forbidden,
                f"{host} does not allow this while {what}: {detail}",
                hint="the app needs the LinkedIn product (scope) for it, and for a Page the member needs a "
                "Page role (docs/platforms/linkedin.md, access levels)",
            )
        if status in (404, 410):
            return self._fail(RemoteNotFound, f"not found on {host} while {what} ({detail})")
        if status >= 500:
            return self._fail(PlatformUnavailable, f"{host} answered HTTP {status} while {what} ({detail})")
        return self._fail(PlatformRejected, f"{host} rejected the request while {what}: {detail}")

    # -- tokens --------------------------------------------------------------------------------

    def _access_token(self) -> str:
        token = (self.ctx.secrets or {}).get("access_token")
        if not token:
            raise self._fail(
                AuthFailed, "no LinkedIn access token is stored for this account", hint=self._reconnect_hint()
            )
        return str(token)

    def _client_id(self) -> str | None:
        value = (self.ctx.settings or {}).get("client_id")
        return str(value) if value else None

    def _can_refresh(self) -> bool:
        s = self.ctx.secrets or {}
        return bool(s.get("refresh_token") and s.get("client_secret") and self._client_id())

    def _refresh(self) -> datetime:
        """POST /oauth/v2/accessToken grant_type=refresh_token; the new token saved at once.

        LinkedIn's refresh token keeps its own end (365 days from the sign-in) and is answered
        again with each refresh; whatever comes back is stored. Under the account's refresh
        lock, so two processes do not both refresh (platforms/rotation.py)."""
        from postcli.platforms.rotation import rotating_refresh

        with rotating_refresh(self.ctx) as adopted:
            if adopted and (fresh := self._still_fresh()) is not None:
                return fresh
            return self._refresh_locked()

    def _refresh_locked(self) -> datetime:
        what = "refreshing the access token"
        secrets = dict(self.ctx.secrets or {})
        self.secrets_in_play()
        url = self._url("oauth", "/oauth/v2/accessToken")
        form = {
            "grant_type": "refresh_token",
            "refresh_token": secrets.get("refresh_token"),
            "client_id": self._client_id(),
            "client_secret": secrets.get("client_secret"),
        }
        response = self._send("POST", url, what, headers={}, data=form)
        body = self._token_body(response)
        if response.status_code in (400, 401):
            raise self._fail(
                AuthFailed,
                f"{self._host_of(url)} refused to refresh the access token "
                f"({body.get('error_description') or body.get('error') or f'HTTP {response.status_code}'})",
                hint=self._reconnect_hint() + ". A LinkedIn refresh token ends a year after the sign-in",
            )
        if not 200 <= response.status_code < 300:
            raise self._error(response, what)
        new, expires_at = self._refreshed_secrets(
            body, secrets, lifetime=60 * 86400, host=self._host_of(url), what=what
        )
        scopes = scope_list(body.get("scope"))
        if scopes is not None:
            self._learn(scopes=scopes)
        self.ctx.token_expires_at = expires_at
        self._keep_secrets(new)
        return expires_at

    def _token_body(self, response: Any) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    def introspect(self, token: str) -> dict[str, Any] | None:
        """POST /oauth/v2/introspectToken (client id and secret in the form): the token's
        expiry and scopes; None when postcli has no client credentials or the answer is unusable
        (learn.microsoft.com/en-us/linkedin/shared/authentication/token-introspection)."""
        secret = (self.ctx.secrets or {}).get("client_secret")
        client_id = self._client_id()
        if not (secret and client_id):
            return None
        url = self._url("oauth", "/oauth/v2/introspectToken")
        form = {"client_id": client_id, "client_secret": secret, "token": token}
        response = self._send("POST", url, "reading the token's expiry and scopes", headers={}, data=form)
        body = self._token_body(response)
        if response.status_code != 200 or not body:
            return None
        return body

    def _learn(self, **values: Any) -> None:
        """Keep what was learnt about the account in its settings (persisted by the service)."""
        settings = dict(self.ctx.settings or {})
        if all(settings.get(k) == v for k, v in values.items()):
            return
        settings.update(values)
        self.ctx.settings = settings
        self.ctx.settings_changed = True
