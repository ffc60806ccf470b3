"""Calling a Google API on a user's OAuth tokens: one httpx client, Google's error format
mapped to postcli's errors, and the access token kept fresh. Shared by every Google
platform (YouTube today, Google Business Profile next).

Google's JSON errors (cloud.google.com/apis/design/errors, and each API's error page):
    {"error": {"code": 403, "message": "...", "status": "PERMISSION_DENIED",
               "errors": [{"domain": "youtube.quota", "reason": "quotaExceeded", "message": "..."}]}}
The reason says what happened; daily quotas reset at midnight Pacific time.

Access tokens live an hour (expires_in 3599). This client refreshes before a call when the
known expiry is near and once after a 401, saving the new token at once (ctx.save_secrets).
Google's refresh tokens do not rotate, so two processes refreshing at once both succeed:
no cross-process lock is needed. A refused refresh (invalid_grant: revoked, or ended
after 7 days for an app in Testing) is AuthFailed with the reconnect command.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar
from urllib.parse import urlsplit

from postcli.platforms import google_oauth
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
from postcli.platforms.values import as_utc, retry_after_seconds

QUOTA_ZONE = "America/Los_Angeles"  # Google's daily quotas reset at midnight Pacific time
REFRESH_MARGIN = timedelta(minutes=5)
DEFAULT_EXPIRES_IN = 3599


def seconds_to_quota_reset(now: datetime | None = None) -> float:
    """Seconds until the next midnight Pacific time, when Google's daily quotas reset."""
    from zoneinfo import ZoneInfo

    now = now or datetime.now(timezone.utc)
    zone = ZoneInfo(QUOTA_ZONE)
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    reset = datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=zone)
    return max(1.0, (reset - now).total_seconds())


def error_parts(body: Any) -> tuple[set[str], str | None]:
    """The reasons of a Google error body and its message (None when the body is not one)."""
    if not isinstance(body, dict):
        return set(), None
    err = body.get("error")
    if isinstance(err, str):  # the token endpoint's OAuth form: {"error": "invalid_grant", ...}
        return {err}, str(body.get("error_description") or err)
    if not isinstance(err, dict):
        return set(), None
    listed = err.get("errors")
    items: list[Any] = listed if isinstance(listed, list) else []
    reasons = {str(e["reason"]) for e in items if isinstance(e, dict) and e.get("reason")}
    message = err.get("message") or next((e.get("message") for e in items if isinstance(e, dict)), None)
    return reasons, str(message) if message else None


class GoogleApi(BearerApi):
    """The plumbing of a Google platform's adapter. A subclass sets `spec` and may extend
    `daily_quota_reasons` and `rejected_hints`."""

    # Reasons that mean "a daily quota is spent": exit 5 until midnight Pacific time.
    daily_quota_reasons: ClassVar[frozenset[str]] = frozenset({"quotaExceeded", "dailyLimitExceeded"})
    # Reasons that mean "too many requests just now": Retry-After, else a minute.
    rate_reasons: ClassVar[frozenset[str]] = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
    # A hint for a refusal by its reason.
    rejected_hints: ClassVar[dict[str, str]] = {}
    refresh_margin = REFRESH_MARGIN

    # -- plumbing --------------------------------------------------------------------

    def url(self, kind: str, path: str) -> str:
        base = self.host(kind)
        return (base if "://" in base else f"https://{base}") + path

    @staticmethod
    def host_of(url: str) -> str:
        return urlsplit(url).netloc or url

    def fail(self, cls: type[PlatformError], message: str, **kw: Any) -> PlatformError:
        return cls(self.scrub(message), platform=self.platform, **kw)

    def reconnect_hint(self) -> str:
        values = self.spec.hint_values(self.ctx.handle, self.ctx.api_base_url, self.ctx.external_id)
        return "reconnect the account: " + self.spec.reconnect_login.format(**values)

    def send(self, method: str, url: str, what: str, *, token: str | None = None, **kwargs: Any) -> Any:
        """One HTTP exchange; a network failure is PlatformUnavailable naming the host."""

        headers = dict(kwargs.pop("headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self._request(
            method,
            url,
            what,
            host=self.host_of(url),
            unknown_hint="the outcome is unknown; postcli checks before retrying",
            headers=headers,
            **kwargs,
        )

    def error(self, response: Any, body: Any, what: str) -> PlatformError:
        """The one place a Google error answer becomes a postcli error."""
        status = response.status_code
        host = self.host_of(str(response.request.url))
        reasons, message = error_parts(body)
        detail = message or f"HTTP {status}"
        if reasons:
            detail += f" ({', '.join(sorted(reasons))})"
        if status == 401:
            return self.fail(
                AuthFailed, f"{host} refused the access token while {what}: {detail}", hint=self.reconnect_hint()
            )
        if reasons & self.daily_quota_reasons:
            return self.fail(
                PlatformRateLimited,
                f"{host}: a daily quota is spent ({detail}) while {what}; it resets at midnight Pacific time",
                retry_after=seconds_to_quota_reset(),
                hint="nothing more can be done there today; `postcli post retry` after the reset",
            )
        if status == 429 or reasons & self.rate_reasons:
            retry = retry_after_seconds(response.headers.get("Retry-After"))
            return self.fail(
                PlatformRateLimited, f"{host} rate limit reached while {what}: {detail}", retry_after=retry or 60.0
            )
        if status in (404, 410):
            return self.fail(RemoteNotFound, f"not found on {host} while {what}: {detail}")
        if status >= 500:
            return self.fail(PlatformUnavailable, f"{host} answered HTTP {status} while {what}: {detail}")
        if 400 <= status < 500:
            hint = next((self.rejected_hints[r] for r in sorted(reasons) if r in self.rejected_hints), None)
            if status == 403 and hint is None:
                hint = "the sign-in may lack a scope, or the channel may not allow this; " + self.reconnect_hint()
            return self.fail(PlatformRejected, f"{host} refused the request while {what}: {detail}", hint=hint)
        return self.fail(MalformedResponse, f"{host} answered HTTP {status} while {what}")

    def call(self, method: str, url: str, what: str, *, ok: tuple[int, ...] = (200,), **kwargs: Any) -> Any:
        """An authenticated call; the decoded answer (None for an empty one). A 401 is answered
        by one refresh and one retry: Google refused the request, so sending it again cannot
        duplicate it."""
        response = self.authorized(method, url, what, **kwargs)
        body = self.decode(response)
        if response.status_code not in ok:
            raise self.error(response, body, what)
        if (body is None and response.content) or (body is not None and not isinstance(body, dict)):
            # Every Google API answers a JSON object (or nothing: a 204).
            raise self.fail(MalformedResponse, f"{self.host_of(url)} sent an answer postcli cannot read while {what}")
        return body

    def authorized(self, method: str, url: str, what: str, **kwargs: Any) -> Any:
        """The raw response of an authenticated request, after at most one refresh on 401."""
        self._refresh_if_due()
        token = self._access_token()
        response = self.send(method, url, what, token=token, **kwargs)
        if response.status_code == 401 and self._can_refresh():
            with self._lock:
                if self._access_token() == token:  # else another thread refreshed meanwhile
                    self._refresh()
            response = self.send(method, url, what, token=self._access_token(), **kwargs)
        return response

    # -- tokens ----------------------------------------------------------------------

    def _access_token(self) -> str:
        token = (self.ctx.secrets or {}).get("access_token")
        if not token:
            raise self.fail(AuthFailed, "no access token is stored for this account", hint=self.reconnect_hint())
        return str(token)

    def _client_id(self) -> str | None:
        return (self.ctx.settings or {}).get("client_id")

    def _can_refresh(self) -> bool:
        s = self.ctx.secrets or {}
        return bool(s.get("refresh_token") and s.get("client_secret") and self._client_id())

    def _expires_at(self) -> datetime | None:
        return as_utc((self.ctx.secrets or {}).get("expires_at"))

    def _refresh(self) -> dict[str, Any]:
        """POST {oauth}/token grant_type=refresh_token; the new access token is saved at once.
        Returns Google's answer (refresh_token_expires_in, when it sends one, is read by connect)."""
        what = "refreshing the access token"
        secrets = dict(self.ctx.secrets or {})
        self._remember_secrets()
        form = {
            "grant_type": "refresh_token",
            "refresh_token": secrets.get("refresh_token"),
            "client_id": self._client_id(),
            "client_secret": secrets.get("client_secret"),
        }
        url = self.url("oauth", google_oauth.TOKEN_PATH)
        response = self.send("POST", url, what, data=form)
        body = self.decode(response)
        if response.status_code in (400, 401):
            reasons, message = error_parts(body)
            hint = self.reconnect_hint()
            if "invalid_grant" in reasons and (self.ctx.settings or {}).get("app_status", "testing") == "testing":
                hint += ". " + google_oauth.TESTING_NOTE
            elif "invalid_client" in reasons:
                hint = "check the app's client id and secret (or the OAuth client was deleted); " + hint
            raise self.fail(
                AuthFailed,
                f"{self.host_of(url)} refused to refresh the access token ({message or f'HTTP {response.status_code}'})",
                hint=hint,
            )
        if response.status_code != 200:
            raise self.error(response, body, what)
        # A refresh token in the answer is not documented for a refresh; kept if sent. The account's
        # token_expires_at is the sign-in's end (an app in Testing), not this access token's.
        new, _ends = self._refreshed_secrets(
            body, secrets, lifetime=DEFAULT_EXPIRES_IN, host=self.host_of(url), what=what
        )
        self._keep_secrets(new)
        return dict(body)
