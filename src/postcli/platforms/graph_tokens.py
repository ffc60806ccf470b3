"""User tokens of Threads and Instagram: the short- to long-lived exchange, and keeping a token.

Both exchange on their host's unversioned /access_token with the app secret:
  Threads:   GET https://graph.threads.net/access_token?grant_type=th_exchange_token&client_secret=...
             (developers.facebook.com/docs/threads/get-started/long-lived-tokens)
  Instagram: GET https://graph.instagram.com/access_token?grant_type=ig_exchange_token&client_secret=...
             (developers.facebook.com/docs/instagram-platform/reference/access_token)
and answer {"access_token": "...", "token_type": "bearer", "expires_in": 5183944}
(a long-lived token lives 60 days). A token that is long-lived already is refused.

Both refresh on the same unversioned path, GET {host}/refresh_access_token?grant_type=
th_refresh_token | ig_refresh_token (Threads long-lived-tokens; Instagram
reference/refresh_access_token), and keep a token the same way: `check_health` is theirs in
common (it used to be two copies, and they had drifted apart).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any, Callable, ClassVar, ContextManager
from urllib.parse import urlparse

from postcli.platforms.base import (
    AccountContext,
    AdapterBase,
    AuthFailed,
    HealthResult,
    MalformedResponse,
    PlatformError,
    PlatformRateLimited,
    PlatformUnavailable,
)
from postcli.platforms.graph import GraphClient, typed_calls
from postcli.platforms.values import as_utc, int_or_none, utc_now

# Long-lived user tokens of both (Threads get-started/long-lived-tokens, Instagram
# reference/refresh_access_token): 60 days, refreshable once 24 hours old; postcli refreshes
# within 7 days of the expiry.
TOKEN_LIFETIME = timedelta(days=60)
REFRESH_WITHIN = timedelta(days=7)
REFRESH_MIN_AGE = timedelta(hours=24)

# Looking for a post among the account's newest (reconciling an unknown outcome, importing
# by URL): both list media newest first, 50 a page at most.
RECONCILE_MARGIN = timedelta(minutes=5)
PAGE_SIZE = 50
RECONCILE_PAGES = 4  # the 200 newest posts since the first attempt
RESOLVE_PAGES = 10  # the 500 newest posts


class UserTokenAdapter(AdapterBase):
    """What Threads and Instagram share: one GraphClient acting with the account's user token,
    calls that leave only as typed errors with every secret masked, and keeping a new token."""

    label: ClassVar[str]  # the platform's name in messages: "Threads", "Instagram"
    default_base_url: ClassVar[str]
    # The hint for "no token is stored", and the one typed_calls adds to an AuthFailed.
    token_hint: ClassVar[str]
    calls_hint: ClassVar[str | None] = None
    refresh_grant: ClassVar[str]  # th_refresh_token | ig_refresh_token
    identity_fields: ClassVar[str]  # what the health check asks /me for

    def __init__(self, ctx: AccountContext) -> None:
        super().__init__(ctx)
        self._client: GraphClient | None = None
        self._client_lock = threading.Lock()
        self._pending_token: str | None = None  # a token connect() is still verifying

    def _graph_version(self) -> str:
        raise NotImplementedError

    def _graph(self) -> GraphClient:
        with self._client_lock:
            if self._client is None:
                self._client = GraphClient(
                    base_url=self.ctx.api_base_url or self.default_base_url,
                    version=self._graph_version(),
                    token=self._token,
                    platform=self.platform,
                    timeout=self.ctx.timeout,
                )
            return self._client

    def _token(self) -> str:
        token = (self.ctx.secrets or {}).get("access_token")
        if not token:
            raise AuthFailed(
                f"no {self.label} access token is stored for this account", platform=self.platform, hint=self.token_hint
            )
        return str(token)

    def secrets_in_play(self) -> list[object]:
        return [self._pending_token, *super().secrets_in_play()]

    def _calls(self, what: str) -> Any:
        """Typed errors only, and never a secret in their text (graph.typed_calls)."""
        return typed_calls(
            platform=self.platform,
            host=urlparse(self._graph().base_url).netloc,
            what=what,
            secrets=self.secrets_in_play,
            reconnect_hint=self.calls_hint,
        )

    def _own_id(self, setting: str, *, field: str, what: str) -> str:
        """The id the account's calls hang on: settings[setting] (or the external id), else
        read once from /me (its `field`) and kept in the settings."""
        settings = self.ctx.settings or {}
        own = settings.get(setting) or self.ctx.external_id
        if not own:
            with self._calls(f"reading {what}"):
                own = str(self._graph().get("me", fields=field)[field])
            self.ctx.settings = {**settings, setting: own}
            self.ctx.settings_changed = True
        return str(own)

    def _store_token(self, token: str, obtained: datetime, expires: datetime, *, estimated: bool) -> None:
        store_token(self.ctx, token, obtained, expires, estimated=estimated)

    # -- health ---------------------------------------------------------------------

    def check_health(self) -> HealthResult:
        """Refresh the token first when it ends within REFRESH_WITHIN, or when its end is only
        an estimate and it is old enough to refresh (to learn the real end); then GET /me decides.

        A refresh that is due and refused is AuthFailed: the token is about to die. A refused
        optional refresh (AuthFailed included) changes nothing: a token can be too young to
        refresh, or of a kind that cannot be, and still work; the identity call that follows
        says whether it does, as for Facebook's user token. (Instagram used to re-raise an
        AuthFailed from it, marking a working account as needing a reconnect.) A refresh that
        cannot reach the host (timeout, 5xx, rate limit) is raised as that error: the network
        is at fault, not the token.
        """
        now = utc_now()
        secrets = self.ctx.secrets or {}
        expires = self.ctx.token_expires_at or as_utc(secrets.get("token_expires_at"))
        # The flag lives beside the token; older Threads accounts kept it in their settings.
        legacy = (self.ctx.settings or {}).get("token_expires_estimated", expires is None)
        estimated = bool(secrets.get("token_expires_estimated", legacy))
        obtained = as_utc(secrets.get("token_obtained_at"))
        due = expires is not None and expires - now <= REFRESH_WITHIN
        learn = estimated and (obtained is None or now - obtained >= REFRESH_MIN_AGE)
        if due or learn:
            try:
                expires = self._refresh(now)
            except (PlatformUnavailable, PlatformRateLimited):
                raise
            except PlatformError as exc:
                if due:
                    raise AuthFailed(
                        f"the {self.label} access token could not be refreshed: {self.label} refused to "
                        f"refresh it ({exc.message})",
                        platform=self.platform,
                        hint=self.token_hint,
                    ) from None
        with self._calls("checking the access token"):
            self._graph().get("me", fields=self.identity_fields)
        return HealthResult(ok=True, token_expires_at=expires)

    def _refresh(self, now: datetime) -> datetime:
        """A new token for the stored one (kept at once); its end."""
        graph = self._graph()
        with self._calls("refreshing the access token"):
            body = graph.request(
                "GET", f"{graph.base_url}/refresh_access_token", params={"grant_type": self.refresh_grant}
            )
            token, lifetime = str(body["access_token"]), int_or_none(body.get("expires_in"))
        if not token:
            raise MalformedResponse(f"{self.label} answered the token refresh without a token", platform=self.platform)
        expires = now + (timedelta(seconds=lifetime) if lifetime else TOKEN_LIFETIME)
        self._store_token(token, now, expires, estimated=not lifetime)
        return expires

    def _keep_identity(self, settings: dict[str, Any], note: str | None, user_id: str, username: str) -> None:
        """What connect learned: the settings (with why the token exchange failed, if it did) and who it is."""
        settings.pop("token_exchange_error", None)
        if note:
            settings["token_exchange_error"] = note
        self.ctx.settings = settings
        self.ctx.settings_changed = True
        self.ctx.external_id = user_id
        self.ctx.handle = username


def exchange_token(
    graph: GraphClient,
    calls: Callable[[str], ContextManager[None]],
    *,
    grant_type: str,
    app_secret: str,
    token: str,
) -> tuple[str, int | None]:
    """(the long-lived token, its lifetime in seconds if reported); a typed error when refused."""
    with calls("exchanging the token for a long-lived one"):
        body: Any = graph.request(
            "GET",
            f"{graph.base_url}/access_token",
            params={"grant_type": grant_type, "client_secret": app_secret},
            token=token,
        )
        return str(body["access_token"]), int_or_none(body.get("expires_in"))


def store_token(ctx: AccountContext, token: str, obtained: datetime, expires: datetime, *, estimated: bool) -> None:
    """Keep a (new) user token in the account's secrets, saved at once.

    Its dates live beside it in the secrets: save_secrets persists them at once
    (a refreshed token must survive a crash), and check_health reads them (the
    health service does not save settings).
    """
    ctx.secrets = {
        **(ctx.secrets or {}),
        "access_token": token,
        "token_obtained_at": obtained.isoformat(),
        "token_expires_at": expires.isoformat(),
        "token_expires_estimated": estimated,
    }
    ctx.save_secrets(dict(ctx.secrets))
    ctx.token_expires_at = expires
