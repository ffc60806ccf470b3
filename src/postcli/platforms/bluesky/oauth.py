"""The Bluesky adapter's AT Protocol OAuth session: DPoP-bound tokens on the atproto SDK.

The SDK's `Client` sends every XRPC call through its `Request` object; `DPoPRequest`
replaces it for OAuth accounts, so the adapter's calls stay the SDK's calls. Per request
it sets `Authorization: DPoP <access token>` and a fresh `DPoP` proof (with `ath`),
retries once with the server's new nonce on `use_dpop_nonce`, and refreshes once at the
authorization server's token endpoint when the PDS refuses the access token.

Refresh tokens rotate (each works once): a refresh runs under platforms/rotation.py's
lock and the new pair is saved before the lock is released.

Secrets (credentials store only): access_token, refresh_token, dpop_key (private JWK).
Also kept there, not secret: auth="oauth", issuer, token_endpoint, client_id, expires_at.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from postcli.platforms.base import AccountContext, AuthFailed, PlatformUnavailable
from postcli.platforms.bluesky.dpop import DPoPSigner, wants_nonce
from postcli.secrets_redact import register_secret

PLATFORM = "bluesky"
# Refresh this long before the access token expires (Bluesky's access tokens live minutes).
REFRESH_MARGIN = 60


def is_oauth(secrets: dict[str, Any]) -> bool:
    return (secrets or {}).get("auth") == "oauth"


def login_hint(handle: str | None) -> str:
    return f"Sign in again: postcli accounts login bluesky --handle {handle or 'HANDLE'}"


class TokenRefused(Exception):
    def __init__(self, error: str, description: str | None) -> None:
        super().__init__(error)
        self.error = error
        self.description = description


def token_request(http: Any, signer: DPoPSigner, url: str, form: dict[str, str]) -> dict[str, Any]:
    """POST to a DPoP-protected authorization-server endpoint (PAR or token), nonce retry once."""
    for attempt in (1, 2):
        response = http.post(url, data=form, headers={"DPoP": signer.proof("POST", url)})
        signer.remember_nonce(url, response.headers)
        try:
            body = response.json()
        except ValueError:
            body = None
        if attempt == 1 and wants_nonce(response.status_code, response.headers, body):
            continue
        if 200 <= response.status_code < 300 and isinstance(body, dict):
            return body
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            raise TokenRefused(body["error"], body.get("error_description"))
        raise TokenRefused(f"HTTP {response.status_code}", None)
    raise AssertionError("unreachable")


class OAuthSession:
    """The account's DPoP key and token pair; shared by every request of one adapter."""

    def __init__(self, ctx: AccountContext) -> None:
        self.ctx = ctx
        self.signer = DPoPSigner(ctx.secrets["dpop_key"])
        self._lock = threading.RLock()
        register_secret(ctx.secrets.get("access_token"))
        register_secret(ctx.secrets.get("refresh_token"))

    @property
    def access_token(self) -> str:
        return self.ctx.secrets["access_token"]

    def ensure_fresh(self) -> None:
        expires_at = self.ctx.secrets.get("expires_at")
        if isinstance(expires_at, (int, float)) and expires_at - REFRESH_MARGIN <= time.time():
            self.refresh()

    def refresh(self, refused: str | None = None) -> None:
        """Trade the refresh token for a new pair; `refused` is the access token the PDS refused
        (when another thread already replaced it, there is nothing to do)."""
        from postcli.platforms.rotation import rotating_refresh

        with self._lock:
            if refused is not None and self.ctx.secrets.get("access_token") != refused:
                return
            with rotating_refresh(self.ctx) as newer:
                if newer:
                    return  # another process rotated the pair: it is in ctx.secrets now
                self._refresh_locked()

    def _refresh_locked(self) -> None:
        import httpx

        from postcli.platforms import tls

        s = self.ctx.secrets
        form = {"grant_type": "refresh_token", "refresh_token": s["refresh_token"], "client_id": s["client_id"]}
        try:
            with httpx.Client(timeout=self.ctx.timeout, verify=tls.context()) as http:
                body = token_request(http, self.signer, s["token_endpoint"], form)
        except TokenRefused as exc:
            raise AuthFailed(
                f"Bluesky's authorization server refused to renew the session ({exc.error}).",
                platform=PLATFORM,
                hint=login_hint(s.get("handle")),
            ) from None
        except httpx.HTTPError as exc:
            raise PlatformUnavailable(
                f"could not reach Bluesky's authorization server to renew the session ({type(exc).__name__}).",
                platform=PLATFORM,
                hint="Check your network, then try again.",
            ) from None
        if body.get("sub") != s.get("did") or not body.get("access_token") or not body.get("refresh_token"):
            raise AuthFailed(
                "Bluesky's authorization server renewed the session for another account.",
                platform=PLATFORM,
                hint=login_hint(s.get("handle")),
            )
        new = dict(s)
        new.update(apply_token(body))
        register_secret(new["access_token"])
        register_secret(new["refresh_token"])
        self.ctx.secrets = new
        self.ctx.save_secrets(new)  # at once: the old refresh token is spent


def apply_token(body: dict[str, Any]) -> dict[str, Any]:
    """The stored fields of a token response."""
    out = {"access_token": body["access_token"], "refresh_token": body["refresh_token"]}
    expires_in = body.get("expires_in")
    out["expires_at"] = int(time.time() + expires_in) if isinstance(expires_in, (int, float)) else None
    return out


def dpop_request_class() -> type:
    """Built lazily: the atproto SDK is imported only when a Bluesky client is made."""
    from atproto_client import request as sdk

    class DPoPRequest(sdk.Request):
        def __init__(self, session: OAuthSession, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._session = session

        def _new_instance(self) -> DPoPRequest:
            return type(self)(self._session, **self._client_kwargs)

        def _send_request(self, method: str, url: str, **kwargs: Any) -> Any:
            headers = self.get_headers(kwargs.pop("headers", None))
            session = self._session
            try:
                session.ensure_fresh()
                nonce_retries, refreshed = 0, False
                while True:
                    token = session.access_token
                    headers["Authorization"] = f"DPoP {token}"
                    headers["DPoP"] = session.signer.proof(method, url, token)
                    response = self._client.request(method=method, url=url, headers=headers, **kwargs)
                    session.signer.remember_nonce(url, response.headers)
                    if response.status_code in (400, 401):
                        body = _json_or_none(response)
                        # Once per token: a refresh at the same origin may have moved the nonce on.
                        if nonce_retries < 1 + refreshed and wants_nonce(response.status_code, response.headers, body):
                            nonce_retries += 1
                            continue
                        if response.status_code == 401 and not refreshed:
                            refreshed = True
                            session.refresh(refused=token)
                            continue
                    return sdk._handle_response(response)
            except Exception as e:  # the SDK's own error mapping (timeouts, network)
                sdk._handle_request_errors(e)
                raise

    return DPoPRequest


def _json_or_none(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
