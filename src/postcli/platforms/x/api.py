"""The X API v2 over httpx: bearer tokens that refresh themselves, X's error bodies, and the
x-rate-limit-* windows and usage cap that decide whether a request may go at all.

References (docs/platforms/x.md lists them with what was verified):
  docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token  (token and refresh)
  docs.x.com/x-api/fundamentals/response-codes-and-errors             (problem bodies)
  docs.x.com/x-api/fundamentals/rate-limits                           (x-rate-limit-* headers)

Access tokens live 2 hours and every refresh hands out a new refresh token (the old one
stops working), so refreshing happens under the account's inter-process lock and the new
pair is saved before anything else (platforms/rotation.py). No message holds a token.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any

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
from postcli.platforms.values import as_dict, int_or_none, retry_after_seconds

ACCESS_TOKEN_SECONDS = 7200  # "valid for two hours" (authorization-code page)
REFRESH_MARGIN = timedelta(minutes=10)
RECONNECT = "reconnect the account: postcli accounts login x (or postcli accounts add x with a new token)"
NO_REFRESH = (
    "X access tokens expire after 2 hours; for postcli to refresh them, sign in with "
    "`postcli accounts login x` (scope offline.access), or give POSTCLI_X_REFRESH_TOKEN and --client-id"
)
ACCESS_LEVEL = "your X app's access level does not include this endpoint"
ACCESS_LEVEL_HINT = (
    "check the app's plan and its permissions (Read and write) in the Developer Console "
    "(console.x.com); signing in again does not change what the app may use"
)


CAP_HINT = (
    "raise the spending limit or add credits in the Developer Console, then run "
    "`postcli accounts health` to try again before then"
)
# x-rate-limit-* (documented: the endpoint's 15-minute window) and the 24-hour windows X adds
# to some answers (POST /2/tweets) without documenting them: x-user-limit-24hour-* and
# x-app-limit-24hour-*, each -limit, -remaining and -reset (epoch seconds).
WINDOW_HEADERS = ("x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour")


def spent_until(headers: Any) -> float | None:
    """The latest reset among the windows an answer says are spent (remaining 0), or None."""
    resets = []
    for prefix in WINDOW_HEADERS:
        remaining = int_or_none(headers.get(f"{prefix}-remaining"))
        reset = int_or_none(headers.get(f"{prefix}-reset"))
        if remaining is not None and remaining <= 0 and reset is not None:
            resets.append(float(reset))
    return max(resets) if resets else None


def problem_type(problem: dict[str, Any]) -> str:
    """The last part of a problem's type URI ("usage-capped", "resource-not-found"...): X
    writes them under api.twitter.com/2/problems/ or api.x.com/2/problems/."""
    return str(problem.get("type") or "").rstrip("/").rsplit("/", 1)[-1]


def problems(body: Any) -> list[dict[str, Any]]:
    """Every problem an answer carries: the body itself (RFC 7807: type, title, detail) and the
    entries of `errors` (v2 problems, or the v1.1 {"code", "message"} the rate-limit page shows)."""
    body = as_dict(body)
    found = [body] if body.get("type") or body.get("title") or body.get("reason") else []
    found += [e for e in body.get("errors") or [] if isinstance(e, dict)]
    return found


def describe(body: Any) -> str | None:
    """What an error answer says, for a message."""
    parts = []
    for p in problems(body):
        text = p.get("detail") or p.get("message") or p.get("title") or p.get("reason")
        if text and str(text) not in parts:
            parts.append(str(text))
    body = as_dict(body)
    if not parts and (body.get("error_description") or body.get("error")):
        parts.append(str(body.get("error_description") or body.get("error")))
    return "; ".join(parts)[:500] or None


def cap_ends(period: str | None, now: datetime) -> datetime:
    """When a usage cap's period ends. X says "Monthly" (or "Daily") but not when the app's
    billing cycle turns over: the next calendar month (day) in UTC is taken as the end."""
    day = now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    if (period or "").lower().startswith("day"):
        return day + timedelta(days=1)
    if (period or "").lower().startswith("month"):
        first = day.replace(day=1)
        return (first + timedelta(days=32)).replace(day=1)
    return now + timedelta(days=1)


class XApi(BearerApi):
    """The plumbing of XAdapter (adapter.py): HTTP, errors, windows, tokens."""

    refresh_margin = REFRESH_MARGIN

    # -- plumbing ----------------------------------------------------------------------

    def _host_name(self, kind: str = "api") -> str:
        from urllib.parse import urlparse

        return urlparse(self.host(kind)).netloc or "api.x.com"

    def _settings(self, **changes: Any) -> None:
        """Keep what the adapter learned (a spent window, the fields parameter's name)."""
        with self._lock:
            settings = dict(self.ctx.settings or {})
            for key, value in changes.items():
                if value is None:
                    settings.pop(key, None)
                else:
                    settings[key] = value
            if settings != (self.ctx.settings or {}):
                self.ctx.settings = settings
                self.ctx.settings_changed = True

    def _send(self, method: str, url: str, what: str, *, kind: str = "api", **kwargs: Any) -> Any:
        """One HTTP exchange; network failures leave as PlatformUnavailable naming the host."""

        return self._request(
            method,
            url,
            what,
            host=self._host_name(kind),
            unknown_hint="the outcome is unknown; postcli checks the account's posts before sending again",
            **kwargs,
        )

    def _windows(self) -> dict[str, float]:
        found = (self.ctx.settings or {}).get("spent_windows")
        return {str(k): float(v) for k, v in found.items()} if isinstance(found, dict) else {}

    def _guard(self, endpoint: str) -> None:
        """Refuse, before sending, a request the answers so far say X would refuse: its window is
        spent (x-rate-limit-remaining 0 until x-rate-limit-reset) or the app's usage cap is."""
        now = time.time()
        capped = float((self.ctx.settings or {}).get("usage_capped_until") or 0)
        if capped > now:
            raise self._fail(
                PlatformRateLimited,
                f"X's usage cap for your app is spent until {_utc(capped)}; nothing was sent ({endpoint})",
                retry_after=capped - now,
                hint=CAP_HINT,
            )
        reset = self._windows().get(endpoint, 0.0)
        if reset > now:
            raise self._fail(
                PlatformRateLimited,
                f"X's rate limit for {endpoint} is used up until {_utc(reset)}; nothing was sent",
                retry_after=reset - now,
            )

    def _note_window(self, endpoint: str, response: Any) -> None:
        """Remember a window the answer says is spent, forget one it says is open again."""
        until = spent_until(response.headers)
        if until is None and response.headers.get("x-rate-limit-remaining") is None:
            return
        with self._lock:
            windows = {k: v for k, v in self._windows().items() if v > time.time()}
            if until is not None and until > time.time():
                windows[endpoint] = until
            else:
                windows.pop(endpoint, None)
            self._settings(spent_windows=windows or None)

    def _rate_limited(self, response: Any, body: Any, what: str, endpoint: str) -> PlatformError:
        for p in problems(body):
            if problem_type(p) == "usage-capped":
                until = cap_ends(p.get("period"), datetime.now(timezone.utc))
                self._settings(usage_capped_until=until.timestamp())
                return self._fail(
                    PlatformRateLimited,
                    f"X's usage cap for your app is spent ({p.get('detail') or 'usage cap exceeded'}) "
                    f"while {what}; postcli sends nothing to X before {until:%Y-%m-%d %H:%M} UTC",
                    retry_after=(until - datetime.now(timezone.utc)).total_seconds(),
                    hint=CAP_HINT,
                )
        reset = spent_until(response.headers) or int_or_none(response.headers.get("x-rate-limit-reset"))
        retry = max(0.0, reset - time.time()) if reset is not None else None
        if retry is None:
            retry = retry_after_seconds(response.headers.get("retry-after"))
        if reset is not None and reset > time.time():
            with self._lock:
                windows = self._windows()
                windows[endpoint] = float(reset)
                self._settings(spent_windows=windows)
        return self._fail(
            PlatformRateLimited,
            f"X's rate limit for {endpoint} was reached while {what}"
            + (f"; it resets at {_utc(time.time() + retry)}" if retry is not None else ""),
            retry_after=retry,
        )

    # -- errors --------------------------------------------------------------------------

    def _error(self, response: Any, body: Any, what: str, endpoint: str) -> PlatformError:
        """The one place an HTTP error answer becomes a postcli error."""
        status = response.status_code
        detail = describe(body)
        host = self._host_name()
        kinds = {problem_type(p) for p in problems(body)} | {str(p.get("reason")) for p in problems(body)}
        if status == 401:
            hint = RECONNECT + ("" if self._can_refresh() else ". " + NO_REFRESH)
            return self._fail(
                AuthFailed, f"{host} refused the access token while {what} ({detail or 'Unauthorized'})", hint=hint
            )
        if status == 429:
            return self._rate_limited(response, body, what, endpoint)
        if status == 403 and ("client-forbidden" in kinds or "client-not-enrolled" in kinds):
            return self._fail(
                PlatformRejected,
                f"{ACCESS_LEVEL} ({endpoint}) while {what}" + (f": {detail}" if detail else ""),
                hint=ACCESS_LEVEL_HINT,
            )
        if status == 403 and "duplicate" not in (detail or "").lower():
            return self._fail(
                PlatformRejected,
                f"{host} does not allow this while {what}: {detail or 'Forbidden'}",
                hint="the app needs Read and write permissions and the token the tweet.write and media.write "
                "scopes (after changing the app's permissions, sign in again: postcli accounts login x)",
            )
        if status in (404, 410):
            return self._fail(RemoteNotFound, f"not found on {host} while {what}" + (f" ({detail})" if detail else ""))
        if status >= 500:
            return self._fail(
                PlatformUnavailable, f"{host} answered HTTP {status} while {what}" + (f" ({detail})" if detail else "")
            )
        if 400 <= status < 500:
            return self._fail(PlatformRejected, f"{host} refused this while {what}: {detail or f'HTTP {status}'}")
        return self._fail(MalformedResponse, f"{host} answered HTTP {status} while {what}")

    def _api(
        self,
        method: str,
        path: str,
        what: str,
        *,
        endpoint: str,
        kind: str = "api",
        guard: bool = True,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """An authenticated call; the decoded JSON object. `endpoint` names the rate-limit window
        ("GET /2/tweets"). A 401 is answered by one refresh and one retry: X refused the request,
        so sending it again cannot make a second post. `files` are rebuilt by the caller."""
        if guard:
            self._guard(endpoint)
        self._refresh_if_due()
        url = self.host(kind) + path
        token = self._access_token()
        response = self._send(method, url, what, kind=kind, headers=_bearer(token), **kwargs)
        if response.status_code == 401 and self._can_refresh():
            self._refresh(rejected=token)
            response = self._send(method, url, what, kind=kind, headers=_bearer(self._access_token()), **kwargs)
        self._note_window(endpoint, response)
        body = self.decode(response)
        if not 200 <= response.status_code < 300:
            raise self._error(response, body, what, endpoint)
        if response.status_code == 204 or (body is None and not response.content):
            return {}
        if not isinstance(body, dict):
            raise self._fail(
                MalformedResponse, f"{self._host_name(kind)} sent an answer postcli cannot read while {what}"
            )
        return body

    # -- tokens --------------------------------------------------------------------------

    def _access_token(self) -> str:
        token = (self.ctx.secrets or {}).get("access_token")
        if not token:
            raise self._fail(AuthFailed, "no X access token is stored for this account", hint=RECONNECT)
        return str(token)

    def _can_refresh(self) -> bool:
        return bool((self.ctx.secrets or {}).get("refresh_token") and (self.ctx.settings or {}).get("client_id"))

    def _refresh(self, *, rejected: str | None = None) -> None:
        """New tokens for old: under this adapter's lock and the account's inter-process lock.

        `rejected` is the access token X just refused (None: refreshing because it is due).
        Another thread or process may have refreshed meanwhile; then its tokens are used and
        the spent refresh token is never sent (X would refuse it and the account would die).
        """
        from postcli.platforms.rotation import rotating_refresh

        with self._lock:
            mine = (self.ctx.secrets or {}).get("access_token")
            if rejected is not None and mine != rejected:
                return  # another thread refreshed while this one waited for the lock
            if rejected is None and not self._refresh_due():
                return
            with rotating_refresh(self.ctx) as adopted:
                if adopted and not self._refresh_due():
                    self.secrets_in_play()
                    self.ctx.token_expires_at = self._expires_at()
                    return
                self._refresh_now()

    def _refresh_now(self) -> None:
        """POST /2/oauth2/token grant_type=refresh_token: HTTP Basic for a confidential app,
        client_id in the body for a public one. The caller holds both locks."""
        what = "refreshing the access token"
        secrets = dict(self.ctx.secrets or {})
        self.secrets_in_play()
        client_id = str((self.ctx.settings or {}).get("client_id"))
        form = {"grant_type": "refresh_token", "refresh_token": secrets.get("refresh_token")}
        auth = None
        if secrets.get("client_secret"):
            auth = (client_id, str(secrets["client_secret"]))
        else:
            form["client_id"] = client_id
        response = self._send("POST", self.host("oauth") + "/2/oauth2/token", what, kind="oauth", data=form, auth=auth)
        body = self.decode(response)
        if response.status_code in (400, 401, 403):
            # invalid_request "Value passed for the token was invalid." (spent or revoked) or a
            # wrong client. A sign-in that ran meanwhile (it takes no lock) may have stored a
            # new pair: use that; otherwise the account has to sign in again.
            if self._adopt_stored_pair(secrets):
                self.ctx.token_expires_at = self._expires_at()
                return
            raise self._fail(
                AuthFailed,
                f"{self._host_name('oauth')} refused to refresh the access token ({describe(body) or response.status_code})",
                hint=RECONNECT + ". Each X refresh token works once; a revoked app access ends them all",
            )
        if not 200 <= response.status_code < 300:
            raise self._error(response, body, what, "POST /2/oauth2/token")
        new, expires = self._refreshed_secrets(
            as_dict(body), secrets, lifetime=ACCESS_TOKEN_SECONDS, host=self._host_name("oauth"), what=what
        )
        self._keep_secrets(new)  # before anything else: the old refresh token is dead
        self.ctx.token_expires_at = expires


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
