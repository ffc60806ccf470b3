"""What every adapter of an OAuth 2.0 bearer-token HTTP API shares (Tumblr, X, LinkedIn, TikTok,
Pinterest, Reddit, the Google platforms): one HTTP client per adapter, every token it has held
masked out of its messages, and an access token refreshed shortly before it ends.

The refresh rule, the same everywhere: refresh when the token ends within `refresh_margin`,
once per process (under `_lock`, checking again once inside), and when the platform cannot be
reached for the refresh, keep using a token that still works rather than failing the request.
Each platform says how it refreshes (`_refresh`) and whether it can (`_can_refresh`).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

from postcli.platforms import tls
from postcli.platforms.base import (
    AccountContext,
    AdapterBase,
    MalformedResponse,
    PlatformError,
    PlatformRateLimited,
    PlatformUnavailable,
)
from postcli.platforms.values import as_utc, int_or_none


class BearerApi(AdapterBase):
    refresh_margin: ClassVar[timedelta] = timedelta(minutes=5)

    def __init__(self, ctx: AccountContext) -> None:
        super().__init__(ctx)
        self._http: Any = None
        # One refresh at a time in this process (a refresh may rotate the refresh token), and
        # one HTTP client.
        self._lock = threading.RLock()
        self._held: set[str] = set()

    # -- plumbing --------------------------------------------------------------------

    def _now(self) -> datetime:
        return datetime.now(timezone.utc)

    def _client_base_url(self) -> str | None:
        """The client's base URL, for an adapter that sends paths rather than whole URLs."""
        return None

    def _client(self) -> Any:
        with self._lock:
            if self._http is None:
                base = self._client_base_url()
                kw = {"base_url": base} if base else {}
                self._http = tls.client(timeout=self.ctx.timeout, **kw)
            return self._http

    def _fail(self, cls: type[PlatformError], message: str, **kw: Any) -> PlatformError:
        return cls(self.scrub(message), platform=self.platform, **kw)

    def _request(self, method: str, url: str, what: str, *, host: str, unknown_hint: str, **kwargs: Any) -> Any:
        """One HTTP exchange. No answer in time is PlatformUnavailable whose hint says what a retry
        does about the unknown outcome (`unknown_hint`); no connection at all, PlatformUnavailable
        naming `host` and the failure."""
        import httpx

        try:
            return self._client().request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise self._fail(
                PlatformUnavailable,
                f"{host} did not answer within {self.ctx.timeout:g} s while {what}",
                hint=unknown_hint,
            ) from None
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
            raise self._fail(
                PlatformUnavailable, f"could not reach {host} while {what} ({type(exc).__name__})"
            ) from None

    @staticmethod
    def decode(response: Any) -> Any:
        """An answer's JSON body, or None when it has none."""
        try:
            return response.json()
        except ValueError:
            return None

    # -- secrets ---------------------------------------------------------------------

    def hold(self, *secrets: Any) -> None:
        """Mask these in every message from now on (a token refreshed away, an upload URL)."""
        self._held.update(s for s in secrets if isinstance(s, str) and len(s) >= 4)

    def _remember_secrets(self) -> None:
        self.hold(*(v for k, v in (self.ctx.secrets or {}).items() if not k.endswith("_at")))

    def secrets_in_play(self) -> set[str]:
        # Every token this adapter has held: a message may quote one refreshed away since.
        self._remember_secrets()
        return set(self._held)

    # -- refreshing before the end ---------------------------------------------------

    def _can_refresh(self) -> bool:
        return False

    def _refresh(self) -> Any:
        raise NotImplementedError

    def _expires_at(self) -> datetime | None:
        """The later of the account's known expiry and the one saved with the last refresh."""
        known = [as_utc(self.ctx.token_expires_at), as_utc((self.ctx.secrets or {}).get("expires_at"))]
        dates = [d for d in known if d is not None]
        return max(dates) if dates else None

    def _refresh_due(self) -> bool:
        expires = self._expires_at()
        return expires is not None and self._now() >= expires - self.refresh_margin

    def _still_fresh(self) -> datetime | None:
        """After another process's refresh was adopted: the access token's end when it is further
        off than `refresh_margin` (then that refresh is enough: nothing is sent), else None."""
        expires = self._expires_at()
        if expires is not None and self._now() < expires - self.refresh_margin:
            self.ctx.token_expires_at = expires
            return expires
        return None

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

    def _refreshed_secrets(
        self, body: Any, secrets: dict[str, Any], *, lifetime: int, host: str, what: str
    ) -> tuple[dict[str, Any], datetime]:
        """The secrets a token answer makes, and the access token's end: its `expires_in`, else
        the platform's documented `lifetime` (seconds; a stale expiry would refresh on every call);
        a refresh token it hands back replaces the spent one. MalformedResponse without a token."""
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise self._fail(MalformedResponse, f"{host} sent no access token while {what}")
        assert isinstance(body, dict)
        expires_at = self._now() + timedelta(seconds=int_or_none(body.get("expires_in")) or lifetime)
        new = {**secrets, "access_token": token, "expires_at": expires_at.isoformat()}
        if isinstance(body.get("refresh_token"), str) and body["refresh_token"]:
            new["refresh_token"] = body["refresh_token"]
        return new, expires_at

    def _keep_secrets(self, new: dict[str, Any]) -> None:
        """Hold and save `new` at once: the refresh token it replaced may be spent already."""
        self.ctx.secrets = new
        self._remember_secrets()
        self.ctx.save_secrets(dict(new))

    def _adopt_stored_pair(self, secrets: dict[str, Any]) -> bool:
        """After a refused refresh: when another process refreshed first and stored a new pair
        (each refresh token works once), take it instead of calling the account dead."""
        stored = dict(self.ctx.load_secrets() or {})
        if not stored.get("refresh_token") or stored.get("refresh_token") == secrets.get("refresh_token"):
            return False
        self.ctx.secrets = {**secrets, **stored}
        self._remember_secrets()
        return True
