"""TikTok's v2 API over httpx: one call, TikTok's error codes, and the token refresh.

Every answer is {"data": {...}, "error": {"code", "message", "log_id"}}; "ok" is success
(developers.tiktok.com/doc/tiktok-api-v2-error-handling). Access tokens live 24 hours and
refresh tokens 365 days (the token endpoint's expires_in / refresh_expires_in say so for
each token; developers.tiktok.com/doc/oauth-user-access-token-management), and a refresh
may hand back a new refresh token: the refresh runs under the account's lock, adopts a
pair another process stored meanwhile (platforms/rotation.py), and saves what it got at
once. No message ever holds a token, the client secret or an upload URL.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
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
from postcli.platforms.spec import PlatformSpec
from postcli.platforms.tiktok.spec import SPEC
from postcli.platforms.values import as_dict, as_str, as_utc, int_or_none, printable

TOKEN_PATH = "/v2/oauth/token/"
ACCESS_TTL = timedelta(hours=24)  # when the answer leaves expires_in out
REFRESH_TTL = timedelta(days=365)
REFRESH_MARGIN = timedelta(minutes=10)
# TikTok's limits are per token over a one-minute sliding window and a 429 carries no reset
# time (developers.tiktok.com/doc/tiktok-api-v2-rate-limit): one window is the wait.
WINDOW_S = 60.0

LOGIN = "postcli accounts login tiktok"
NO_REFRESH = (
    "TikTok access tokens live 24 hours; for postcli to refresh them sign in with `postcli accounts "
    "login tiktok`, or give POSTCLI_TIKTOK_REFRESH_TOKEN, POSTCLI_TIKTOK_CLIENT_SECRET and --client-id"
)

# What TikTok's own error codes mean here (developers.tiktok.com/doc/tiktok-api-v2-error-handling,
# .../content-posting-api-reference-direct-post "Error codes").
AUTH_CODES = {"access_token_invalid", "scope_not_authorized", "scope_permission_missed"}
UNAUDITED = "unaudited_client_can_only_post_to_private_accounts"
EXPLAINED = {
    UNAUDITED: (
        "TikTok lets an app it has not audited post only to private accounts, and only as SELF_ONLY",
        "make the TikTok account private (TikTok app: Settings and privacy > Privacy > Private account) "
        "and post with --field tiktok.privacy=SELF_ONLY, or have your app audited by TikTok "
        "(docs/platforms/tiktok.md)",
    ),
    "url_ownership_unverified": (
        "TikTok pulls photos only from a domain or URL prefix your app has verified",
        "verify the S3 store's domain (or URL prefix) in your app's Content Posting API settings on "
        "developers.tiktok.com (docs/platforms/tiktok.md, 'Photos')",
    ),
    "privacy_level_option_mismatch": (
        "the privacy level is not one this account may use now",
        "pick one of the levels its creator_info lists (--field tiktok.privacy=...)",
    ),
    "spam_risk_user_banned_from_posting": (
        "TikTok does not let this account post now (spam_risk_user_banned_from_posting)",
        "see the TikTok app for the account's standing",
    ),
    "reached_active_user_cap": (
        "the app has reached TikTok's cap of active posting users a day (an app it has not audited: 5)",
        "try again tomorrow, or have your app audited by TikTok",
    ),
}
SPAM_CAP = "spam_risk_too_many_posts"


def _reconnect_hint(extra: str = "") -> str:
    return f"reconnect the account: {LOGIN}" + (f". {extra}" if extra else "")


def _error_of(body: Any) -> tuple[str, str]:
    """(code, message) of a TikTok answer: the API's {"error": {...}} or the token endpoint's
    OAuth {"error", "error_description"}."""
    body = as_dict(body)
    err = body.get("error")
    if isinstance(err, dict):
        return str(err.get("code") or ""), printable(str(err.get("message") or ""))
    if isinstance(err, str):
        return err, printable(str(body.get("error_description") or ""))
    return "", ""


def _at(value: Any) -> datetime | None:
    return as_utc(value)


class TikTokApi(BearerApi):
    """The plumbing of TikTokAdapter: the HTTP client, TikTok's error codes, token refresh."""

    spec: ClassVar[PlatformSpec] = SPEC

    # -- plumbing -----------------------------------------------------------------

    def hold_secrets(self, secrets: dict[str, Any]) -> None:
        self.hold(*(v for k, v in secrets.items() if not k.endswith("_at")))

    def fail(self, cls: type[PlatformError], message: str, **kw: Any) -> PlatformError:
        return self.scrub_error(cls(message, platform="tiktok", **kw))

    @staticmethod
    def host_of(url: str) -> str:
        return urlsplit(url).netloc or "TikTok"

    def send(self, method: str, url: str, what: str, *, token: str | None = None, **kw: Any) -> Any:
        """One HTTP exchange; a network failure is PlatformUnavailable naming the host."""

        headers = dict(kw.pop("headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self._request(
            method,
            url,
            what,
            host=self.host_of(url),
            unknown_hint="the outcome is unknown; postcli checks with TikTok before sending again",
            headers=headers,
            **kw,
        )

    def error(self, response: Any, body: Any, what: str) -> PlatformError:
        """The one place a TikTok error answer becomes a postcli error."""
        status = response.status_code
        host = self.host_of(str(response.request.url))
        code, message = _error_of(body)
        said = f"{code}: {message}" if code and message else (code or message or f"HTTP {status}")
        if code in AUTH_CODES or status == 401:
            extra = "sign in again and keep every permission ticked" if code.startswith("scope_") else ""
            return self.fail(
                AuthFailed, f"{host} refused the access token while {what} ({said})", hint=_reconnect_hint(extra)
            )
        if code == "rate_limit_exceeded" or status == 429:
            return self.rate_limited(f"{host} rate limit reached while {what} ({said})")
        if code == SPAM_CAP:
            return self.fail(
                PlatformRateLimited,
                f"TikTok's daily cap of posts made through the API is reached for this account ({said})",
                hint="try again tomorrow",
            )
        if code in EXPLAINED:
            why, fix = EXPLAINED[code]
            return self.fail(PlatformRejected, f"{why} ({code}) while {what}", hint=fix)
        if status in (404, 410):
            return self.fail(RemoteNotFound, f"not found on {host} while {what} ({said})")
        if status >= 500 or code == "internal_error":
            return self.fail(PlatformUnavailable, f"{host} answered HTTP {status} while {what} ({said})")
        if 400 <= status < 500 or code:
            return self.fail(PlatformRejected, f"{host} refused the request while {what}: {said}")
        return self.fail(MalformedResponse, f"{host} answered HTTP {status} while {what}")

    def rate_limited(self, message: str) -> PlatformError:
        at = datetime.now(timezone.utc) + timedelta(seconds=WINDOW_S)
        return self.fail(
            PlatformRateLimited,
            f"{message}; TikTok counts requests per token over a sliding minute and says no more, so the "
            f"next try is after {at:%H:%M:%S} UTC",
            retry_after=WINDOW_S,
        )

    def call(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> dict[str, Any]:
        """An authenticated API call; its `data` object. A refused token is refreshed once and
        the request sent again (TikTok refused it, so it cannot have been done twice)."""
        self.refresh_if_due()
        url = self.host("api") + path
        kw: dict[str, Any] = {"params": params}
        if json is not None:
            kw["json"] = json
            kw["headers"] = {"Content-Type": "application/json; charset=UTF-8"}
        token = self.access_token()
        response = self.send(method, url, what, token=token, **kw)
        if (
            response.status_code == 401
            and self.can_refresh()
            and _error_of(self.decode(response))[0]
            in (
                "access_token_invalid",
                "",
            )
        ):
            with self._lock:
                if self.access_token() == token:  # else another thread refreshed meanwhile
                    self.refresh()
            response = self.send(method, url, what, token=self.access_token(), **kw)
        body = self.decode(response)
        code, _ = _error_of(body)
        if not 200 <= response.status_code < 300 or (code and code != "ok"):
            raise self.error(response, body, what)
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            raise self.fail(MalformedResponse, f"{self.host_of(url)} sent an answer postcli cannot read while {what}")
        return body["data"]

    # -- tokens -------------------------------------------------------------------

    def access_token(self) -> str:
        token = (self.ctx.secrets or {}).get("access_token")
        if not token:
            raise self.fail(AuthFailed, "no TikTok access token is stored for this account", hint=_reconnect_hint())
        return str(token)

    def client_key(self) -> str | None:
        return as_str((self.ctx.settings or {}).get("client_key"))

    def can_refresh(self) -> bool:
        s = self.ctx.secrets or {}
        return bool(s.get("refresh_token") and s.get("client_secret") and self.client_key())

    def access_expires_at(self) -> datetime | None:
        return _at((self.ctx.secrets or {}).get("expires_at"))

    def reconnect_by(self) -> datetime | None:
        """When the user must sign in again: the refresh token's end where postcli can refresh,
        else the access token's (accounts.token_expires_at, shown by `accounts list|health`)."""
        if self.can_refresh():
            return _at((self.ctx.secrets or {}).get("refresh_expires_at")) or self.ctx.token_expires_at
        return self.access_expires_at() or self.ctx.token_expires_at

    def refresh_due(self) -> bool:
        expires = self.access_expires_at()
        return expires is not None and datetime.now(timezone.utc) >= expires - REFRESH_MARGIN

    def refresh_if_due(self) -> None:
        if not self.can_refresh() or not self.refresh_due():
            return
        with self._lock:
            if not self.refresh_due():  # another thread did it
                return
            try:
                self.refresh()
            except (PlatformUnavailable, PlatformRateLimited):
                expires = self.access_expires_at()
                if expires is None or datetime.now(timezone.utc) >= expires:
                    raise
                # The current token still works for a few minutes: go on with it.

    def refresh(self) -> None:
        """Trade the refresh token for new tokens, under the account's lock across processes."""
        from postcli.platforms.rotation import rotating_refresh

        with self._lock, rotating_refresh(self.ctx) as adopted:
            if adopted and not self.refresh_due():
                self.ctx.token_expires_at = self.reconnect_by()
                return  # another process refreshed while we waited for the lock
            self._refresh_now()

    def _refresh_now(self) -> None:
        what = "refreshing the access token"
        secrets = dict(self.ctx.secrets or {})
        self.hold_secrets(secrets)
        url = self.host("oauth") + TOKEN_PATH
        form = {
            "client_key": self.client_key(),
            "client_secret": secrets.get("client_secret"),
            "grant_type": "refresh_token",
            "refresh_token": secrets.get("refresh_token"),
        }
        response = self.send(
            "POST", url, what, data=form, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        body = self.decode(response)
        code, message = _error_of(body)
        if (code and code != "ok") or not 200 <= response.status_code < 300:
            if response.status_code >= 500 or response.status_code == 429:
                raise self.error(response, body, what)
            raise self.fail(
                AuthFailed,
                f"{self.host_of(url)} refused to refresh the access token ({code or response.status_code}"
                + (f": {message}" if message else "")
                + ")",
                hint=_reconnect_hint("TikTok refresh tokens last 365 days and end when the user removes the app"),
            )
        body = as_dict(body)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise self.fail(MalformedResponse, f"{self.host_of(url)} sent no access token while {what}")
        self.adopt_tokens(body)

    def adopt_tokens(self, body: dict[str, Any]) -> None:
        """Keep a token answer (the code exchange's or a refresh's) with its two expiries; saved at once."""
        now = datetime.now(timezone.utc)
        access_s = int_or_none(body.get("expires_in"))
        refresh_s = int_or_none(body.get("refresh_expires_in"))
        new = {
            **(self.ctx.secrets or {}),
            "access_token": body["access_token"],
            "expires_at": (now + (timedelta(seconds=access_s) if access_s else ACCESS_TTL)).isoformat(),
        }
        if isinstance(body.get("refresh_token"), str) and body["refresh_token"]:
            new["refresh_token"] = body["refresh_token"]
            new["refresh_expires_at"] = (now + (timedelta(seconds=refresh_s) if refresh_s else REFRESH_TTL)).isoformat()
        self.ctx.secrets = new
        self.hold_secrets(new)
        self.ctx.save_secrets(dict(new))
        self.ctx.token_expires_at = self.reconnect_by()
