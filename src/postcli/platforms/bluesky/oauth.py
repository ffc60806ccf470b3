"""The Bluesky adapter's AT Protocol OAuth session: DPoP-bound tokens on the atproto SDK.

The SDK's `Client` sends every XRPC call through its `Request` object; `DPoPRequest`
replaces it for OAuth accounts, so the adapter's calls stay the SDK's calls. Per request
it sets `Authorization: DPoP <access token>` and a fresh `DPoP` proof (with `ath`),
retries once when the server refuses the proof for a nonce it has just handed out
(`use_dpop_nonce` with a new `DPoP-Nonce`, as the reference client does), and refreshes
when the PDS refuses the access token: once for that refusal, and never again for a token
that no request has been accepted with yet (a refusal that survives a refresh is not the
token's age; spending more single-use refresh tokens on it would not help).

"Clients must reject responses missing a `DPoP-Nonce` header (case insensitive), if the
request included DPoP" (atproto.com/specs/oauth, "Demonstrating Proof of Possession"):
such an answer, from the PDS or the authorization server, is not used.

Refresh tokens rotate (each works once): a refresh runs under platforms/rotation.py's
lock and the new pair is saved before the lock is released. Before it, the account's DID
must still lead to the authorization server that issued the session (identity.py), as the
reference client checks.

The session ends SESSION_LIFETIME after sign-in: AT Protocol OAuth limits the sessions of
"untrusted" public clients, such as postcli's loopback client, to two weeks ("Tokens and
Session Lifetime": "overall session lifetime and the lifetime of individual refresh tokens
should both be limited to 2 weeks"; the reference server's SESSION_LIFETIME, after which it
answers "Session expired"). The end is shown as the account's token expiry.

Secrets (credentials store only): access_token, refresh_token, dpop_key (private JWK).
Also kept there, not secret: auth="oauth", issuer, token_endpoint, client_id, expires_at,
session_started_at (epoch seconds), plc_directory.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from postcli.platforms.base import AccountContext, AuthFailed, MalformedResponse, PlatformUnavailable
from postcli.platforms.bluesky.dpop import DPoPSigner, origin, wants_nonce
from postcli.secrets_redact import register_secret

PLATFORM = "bluesky"
# Refresh this long before the access token expires (Bluesky's access tokens live minutes).
REFRESH_MARGIN = 60
SESSION_LIFETIME = timedelta(weeks=2)
# `accounts health` says the session is ending this long before it does.
WARN_BEFORE = timedelta(days=3)
_TOKEN_ERRORS = ("ExpiredToken", "InvalidToken")


def is_oauth(secrets: dict[str, Any]) -> bool:
    return (secrets or {}).get("auth") == "oauth"


def login_hint(handle: str | None) -> str:
    return f"Sign in again: postcli accounts login bluesky --handle {handle or 'HANDLE'}"


def session_ends_at(secrets: dict[str, Any]) -> datetime | None:
    """When the sign-in stops working; None when unknown (signed in before postcli kept its
    start, or a server that kept it longer than two weeks)."""
    start = (secrets or {}).get("session_started_at")
    if (secrets or {}).get("session_end_unknown") or not isinstance(start, (int, float)):
        return None
    return datetime.fromtimestamp(start, UTC) + SESSION_LIFETIME


def said(text: object, limit: int = 200) -> str:
    """What a server said, as one printable line (it reaches messages and the store)."""
    return "".join(ch if ch.isprintable() else " " for ch in str(text))[:limit].strip()


def missing_nonce(url: str) -> str:
    return (
        f"{origin(url)} answered without the DPoP-Nonce header AT Protocol OAuth requires, so the "
        "answer was not used (atproto.com/specs/oauth: clients must reject such responses)"
    )


class TokenRefused(Exception):
    def __init__(self, error: str, description: str | None) -> None:
        super().__init__(error)
        self.error = error
        self.description = description


def token_request(http: Any, signer: DPoPSigner, url: str, form: dict[str, str]) -> dict[str, Any]:
    """POST to a DPoP-protected authorization-server endpoint (PAR or token); one retry when
    the server refuses the proof for a nonce it has just handed out."""
    for attempt in (1, 2):
        proof, sent = signer.proof_and_nonce("POST", url)
        response = http.post(url, data=form, headers={"DPoP": proof})
        got = response.headers.get("dpop-nonce")
        if not got:
            raise TokenRefused("missing_dpop_nonce", missing_nonce(url))
        signer.remember_nonce(url, response.headers)
        fresh = got != sent
        try:
            body = response.json()
        except ValueError:
            body = None
        if attempt == 1 and fresh and wants_nonce(response.status_code, response.headers, body):
            continue
        if 200 <= response.status_code < 300 and isinstance(body, dict):
            return body
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            description = body.get("error_description")
            raise TokenRefused(body["error"], description if isinstance(description, str) else None)
        raise TokenRefused(f"HTTP {response.status_code}", None)
    raise AssertionError("unreachable")


class OAuthSession:
    """The account's DPoP key and token pair; shared by every request of one adapter."""

    def __init__(self, ctx: AccountContext) -> None:
        self.ctx = ctx
        self.signer = DPoPSigner(ctx.secrets["dpop_key"])
        self._lock = threading.RLock()
        # An access token this process got by refreshing, not yet accepted by any request.
        self._unproven: str | None = None
        register_secret(ctx.secrets.get("access_token"))
        register_secret(ctx.secrets.get("refresh_token"))

    @property
    def access_token(self) -> str:
        return self.ctx.secrets["access_token"]

    @property
    def hint(self) -> str:
        return login_hint(self.ctx.secrets.get("handle") or self.ctx.handle)

    def ensure_fresh(self) -> None:
        expires_at = self.ctx.secrets.get("expires_at")
        if isinstance(expires_at, (int, float)) and expires_at - REFRESH_MARGIN <= time.time():
            self.refresh()

    def accepted(self, token: str) -> None:
        if token == self._unproven:
            self._unproven = None

    def refresh(self, refused: str | None = None, why: str | None = None) -> None:
        """Trade the refresh token for a new pair. `refused` is the access token the PDS refused
        (`why`, its reason): when another thread already replaced it there is nothing to do, and
        when it is one this process has just got by refreshing, a refresh would not help."""
        from postcli.platforms.rotation import rotating_refresh

        with self._lock:
            if refused is not None and self.ctx.secrets.get("access_token") != refused:
                return
            if refused is not None and refused == self._unproven:
                raise AuthFailed(
                    f"the PDS refused the session again right after it was renewed ({said(why or 'no reason')}).",
                    platform=PLATFORM,
                    hint=self.hint,
                )
            with rotating_refresh(self.ctx) as newer:
                if not newer:  # else another process rotated the pair: it is in ctx.secrets now
                    self._refresh_locked()
                self._unproven = self.ctx.secrets.get("access_token")

    def _refresh_locked(self) -> None:
        import httpx

        from postcli.platforms import tls
        from postcli.platforms.bluesky.identity import verify_issuer

        s = self.ctx.secrets
        form = {"grant_type": "refresh_token", "refresh_token": s["refresh_token"], "client_id": s["client_id"]}
        try:
            with httpx.Client(timeout=self.ctx.timeout, verify=tls.context()) as http:
                verify_issuer(http, s, self.hint)
                body = token_request(http, self.signer, s["token_endpoint"], form)
        except TokenRefused as exc:
            reason = said(f"{exc.error}: {exc.description}" if exc.description else exc.error)
            ended = session_ends_at(s)
            why = (
                f" Its sign-in was on {ended - SESSION_LIFETIME:%Y-%m-%d %H:%M} UTC, and AT Protocol OAuth "
                "sessions of an app without a server of its own, like postcli, last two weeks."
                if ended is not None and ended <= datetime.now(UTC) + timedelta(hours=1)
                else ""
            )
            raise AuthFailed(
                f"Bluesky's authorization server refused to renew the session ({reason}).{why}",
                platform=PLATFORM,
                hint=self.hint,
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
                hint=self.hint,
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
                    headers["DPoP"], sent = session.signer.proof_and_nonce(method, url, token)
                    response = self._client.request(method=method, url=url, headers=headers, **kwargs)
                    got = response.headers.get("dpop-nonce")
                    if not got:
                        raise MalformedResponse(missing_nonce(url) + ".", platform=PLATFORM)
                    session.signer.remember_nonce(url, response.headers)
                    fresh = got != sent
                    if 200 <= response.status_code < 300:
                        session.accepted(token)
                    elif response.status_code in (400, 401):
                        body = _json_or_none(response)
                        if wants_nonce(response.status_code, response.headers, body):
                            # Only a nonce handed out with this refusal can make the retry work
                            # (once per token: a refresh at the same origin may move it on); the
                            # token is not at fault either way.
                            if fresh and nonce_retries < 1 + refreshed:
                                nonce_retries += 1
                                continue
                        elif not refreshed and _token_refused(response.status_code, body):
                            refreshed = True
                            session.refresh(refused=token, why=_reason(response, body))
                            continue
                    return sdk._handle_response(response)
            except Exception as e:  # the SDK's own error mapping (timeouts, network)
                sdk._handle_request_errors(e)
                raise

    return DPoPRequest


def _token_refused(status: int, body: Any) -> bool:
    name = body.get("error") if isinstance(body, dict) else None
    return status == 401 or (status == 400 and name in _TOKEN_ERRORS)


def _reason(response: Any, body: Any) -> str:
    if isinstance(body, dict):
        parts = [body.get("error"), body.get("message") or body.get("error_description")]
        text = ": ".join(str(p) for p in parts if isinstance(p, str) and p)
        if text:
            return text
    return f"HTTP {response.status_code}"


def _json_or_none(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
