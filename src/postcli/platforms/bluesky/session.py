"""The Bluesky adapter's session: one SDK client per adapter, restored, refreshed and recovered.

`connect` calls createSession once (the PDS allows 30 per 5 minutes per account) and stores
the exported session string. Every later command imports that string; the SDK refreshes the
access JWT when it is within 15 minutes of expiry, and `on_session_change` persists the rotated
tokens at once through `ctx.save_secrets`. Only when the stored session is dead (refresh token
revoked/expired) does the adapter try a single createSession with the stored app password; if
that fails too the account must be reconnected (AuthFailed).

Host: the SDK switches to the PDS named in the session's DID document. For the bsky.social
entryway that is Bluesky's recommended behaviour (it names the account's real PDS), so it is
followed there; for any other base URL (a self-hosted PDS, a test server) the user-given
`api_base_url` wins, because the DID document may name a host this machine cannot reach (e.g.
`localhost` vs the address the user configured).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlparse

from postcli.errors import PostcliError
from postcli.platforms import tls
from postcli.platforms.base import AccountContext, AuthFailed
from postcli.platforms.bluesky.errors import NSID_REFRESH, RECONNECT_HINT, is_token_error, map_error
from postcli.platforms.bluesky.oauth import OAuthSession, is_oauth, login_hint
from postcli.platforms.bluesky.values import PLATFORM

if TYPE_CHECKING:  # pragma: no cover
    from atproto_client import Client

T = TypeVar("T")

# Hosts whose DID-document PDS endpoint is followed (see module docstring).
ENTRYWAY_HOSTS = frozenset({"bsky.social"})


class BlueskySession:
    """Client and session handling for BlueskyAdapter, which supplies `_scrub` (its secrets)."""

    ctx: AccountContext
    _scrub: Callable[[str], str]

    def _init_session(self, ctx: AccountContext, base_url: str) -> None:
        self.ctx = ctx
        self._base_url = base_url.rstrip("/")
        parsed = urlparse(self._base_url)
        self._follow_did_doc = parsed.hostname in ENTRYWAY_HOSTS
        self._host = parsed.netloc or self._base_url
        self._client: Client | None = None
        self._pending_password: str | None = None
        self._last_nsid: str | None = None
        self._refresh_expires_at: datetime | None = None
        # Collection may share one adapter between threads; the session must be built/recovered once.
        self._lock = threading.RLock()
        self._oauth: OAuthSession | None = None
        if is_oauth(ctx.secrets):
            self._oauth = OAuthSession(ctx)

    def _map_error(self, exc: BaseException, action: str) -> PostcliError:
        return map_error(
            exc,
            action,
            host=self._host,
            timeout=self.ctx.timeout,
            reconnect_hint=self._reconnect_hint,
            scrub=self._scrub,
        )

    def _new_client(self) -> Client:
        from atproto_client import Client
        from atproto_client.request import Request

        kwargs = {
            "timeout": self.ctx.timeout,
            "event_hooks": {"request": [self._note_request]},
            "verify": tls.context(),
        }
        if self._oauth is not None:  # AT Protocol OAuth: DPoP-bound tokens, no SDK session
            from postcli.platforms.bluesky.oauth import dpop_request_class

            request = dpop_request_class()(self._oauth, **kwargs)
        else:
            request = Request(**kwargs)
        client = Client(base_url=self._base_url, request=request)
        client.on_session_change(lambda event, session: self._on_session_change(client, event, session))
        return client

    def _note_request(self, request: Any) -> None:
        # Remembered so a token error can be told apart: did the refresh fail, or the call?
        path = request.url.path
        self._last_nsid = path.rsplit("/", 1)[-1]
        self._host = request.url.netloc.decode() if isinstance(request.url.netloc, bytes) else request.url.netloc

    def _on_session_change(self, client: Client, event: Any, session: Any) -> None:
        from atproto_client.client.session import SessionEvent

        base = self._base_url
        if self._follow_did_doc and (session.pds_endpoint or "").startswith("https://"):
            base = session.pds_endpoint.rstrip("/")
        client.update_base_url(base)
        try:
            exp = session.refresh_jwt_payload.exp
            self._refresh_expires_at = datetime.fromtimestamp(exp, tz=UTC) if exp else None
        except Exception:  # an undecodable token is the server's business, not a crash here
            self._refresh_expires_at = None
        if event == SessionEvent.IMPORT:
            return
        new = dict(self.ctx.secrets)
        new.update(session=session.export(), did=session.did, handle=session.handle)
        if self._pending_password is not None:
            new["app_password"] = self._pending_password
        self.ctx.secrets = new
        # Persist at once: the old refresh token is rotated away on the server.
        self.ctx.save_secrets(new)

    @property
    def _reconnect_hint(self) -> str:
        if self._oauth is not None:
            return login_hint(self.ctx.secrets.get("handle") or self.ctx.handle)
        return RECONNECT_HINT

    @property
    def _did(self) -> str:
        did = self.ctx.external_id or self.ctx.secrets.get("did")
        if not did:
            raise AuthFailed(
                "this Bluesky account has no stored identity (DID).",
                platform=PLATFORM,
                hint=self._reconnect_hint,
            )
        return did

    @property
    def _handle(self) -> str:
        return self.ctx.secrets.get("handle") or self.ctx.handle or self._did

    def _session_client(self) -> Client:
        with self._lock:
            if self._client is None:
                self._client = self._restore_client()
            return self._client

    def _restore_client(self) -> Client:
        client = self._new_client()
        if self._oauth is not None:
            return client
        session = self.ctx.secrets.get("session")
        if session:
            try:
                client.login(session_string=session, fetch_bsky_profile=False)
            except Exception:  # a corrupt stored session: fall back to the app password below
                session = None
                client = self._new_client()
        if not session:
            self._login_with_stored_password(client, "restoring the session")
        return client

    def _login_with_stored_password(self, client: Client, action: str) -> None:
        password = self.ctx.secrets.get("app_password")
        ident = self.ctx.secrets.get("handle") or self.ctx.handle or self.ctx.secrets.get("did") or self.ctx.external_id
        if not password or not ident:
            raise AuthFailed(
                f"the Bluesky session for {ident or 'this account'} expired or was revoked.",
                platform=PLATFORM,
                hint=self._reconnect_hint,
            )
        try:
            client.login(ident, password, fetch_bsky_profile=False)
        except Exception as exc:
            err = self._map_error(exc, action)
            if isinstance(err, AuthFailed):
                raise AuthFailed(
                    f"Bluesky no longer accepts the stored app password for {ident}; the account must be reconnected.",
                    platform=PLATFORM,
                    hint=self._reconnect_hint,
                ) from None
            raise err from None

    def _run(self, action: str, fn: Callable[[Client], T]) -> T:
        """Run `fn(client)`; on a dead session recover once (refresh, then app password)."""
        client = self._session_client()
        try:
            return fn(client)
        except PostcliError:
            raise
        except Exception as exc:
            # An OAuth session has had its one refresh for this refusal in DPoPRequest already.
            if self._oauth is not None or not is_token_error(exc):
                raise self._map_error(exc, action) from exc
        self._recover_session(client, action)
        try:
            return fn(client)
        except PostcliError:
            raise
        except Exception as exc:
            raise self._map_error(exc, action) from exc

    def _recover_session(self, client: Client, action: str) -> None:
        with self._lock:
            self._recover_session_locked(client, action)

    def _recover_session_locked(self, client: Client, action: str) -> None:
        if self._last_nsid != NSID_REFRESH:
            # The access token was refused although the SDK thought it fresh (clock
            # skew, server restart): a refresh is far cheaper than createSession.
            refresh = getattr(client, "_refresh_and_set_session", None)
            if refresh is not None:
                try:
                    refresh()
                    return
                except Exception as exc:
                    if not is_token_error(exc):
                        raise self._map_error(exc, action) from exc
        self._login_with_stored_password(client, action)
