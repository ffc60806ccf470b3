"""Bluesky sign-in: AT Protocol OAuth with the native-app loopback client (atproto.com/specs/oauth).

handle -> DID (com.atproto.identity.resolveHandle on the --api-base service, bsky.social by
default) -> DID document (the PLC directory, POSTCLI_PLC_DIRECTORY, or did:web) -> PDS ->
its /.well-known/oauth-protected-resource -> the authorization server ->
/.well-known/oauth-authorization-server -> PAR (PKCE S256, DPoP) -> the browser -> the
code on the loopback redirect (state and `iss` checked) -> the token request (DPoP) ->
a DPoP-bound access token and refresh token whose `sub` must be the resolved DID.

The client is the spec's localhost client: its client_id is `http://localhost` with the
redirect URI and scope as query parameters; the authorization server derives the client
metadata from it (no document is fetched). Its redirect is http://127.0.0.1:<port>/callback.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from postcli.errors import InvalidInput, PlatformUnavailable, SignInFailed
from postcli.platforms.bluesky.dpop import DPoPSigner, new_key
from postcli.platforms.bluesky.oauth import TokenRefused, apply_token, token_request
from postcli.platforms.bluesky.spec import DEFAULT_SERVICE
from postcli.platforms.spec import Connection, SignInContext, SignInHooks
from postcli.platforms.values import printable

SCOPE = "atproto transition:generic"
DEFAULT_PLC = "https://plc.directory"
_DID_RE = re.compile(r"^did:(plc|web):[A-Za-z0-9._:%-]+$")


@dataclass
class Identity:
    did: str
    handle: str
    pds: str


@dataclass
class AuthServer:
    issuer: str
    par_endpoint: str
    authorization_endpoint: str
    token_endpoint: str
    iss_parameter: bool


def loopback_client_id(redirect_uri: str, scope: str = SCOPE) -> str:
    """`http://localhost?redirect_uri=…&scope=…` (percent-encoded, spaces as %20)."""
    return "http://localhost?" + urlencode({"redirect_uri": redirect_uri, "scope": scope}, quote_via=quote)


def plc_directory() -> str:
    return os.environ.get("POSTCLI_PLC_DIRECTORY", DEFAULT_PLC).rstrip("/")


def _get_json(http: Any, url: str, what: str) -> dict[str, Any]:
    import httpx

    try:
        response = http.get(url)
    except httpx.HTTPError as exc:
        raise PlatformUnavailable(f"could not reach {url} for {what} ({type(exc).__name__}).") from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code == 200 and isinstance(body, dict):
        return body
    if response.status_code == 400 and isinstance(body, dict) and what == "the handle":
        raise InvalidInput(
            f"no Bluesky account has that handle ({body.get('message') or body.get('error')}).",
            hint="Check the handle, e.g. name.bsky.social.",
        )
    raise SignInFailed(f"{url} answered HTTP {response.status_code} for {what}; nothing was stored.")


def resolve_identity(http: Any, handle: str, service: str) -> Identity:
    handle = handle.strip().lstrip("@").lower()
    did: object
    if handle.startswith("did:"):
        did = handle
    else:
        query = urlencode({"handle": handle})
        did = _get_json(http, f"{service}/xrpc/com.atproto.identity.resolveHandle?{query}", "the handle").get("did")
    if not isinstance(did, str) or not _DID_RE.match(did):
        raise SignInFailed(f"the handle resolved to {str(did)[:80]!r}, which is not a did:plc or did:web.")
    if did.startswith("did:plc:"):
        doc = _get_json(http, f"{plc_directory()}/{did}", "the DID document")
    else:  # did:web:host -> https://host/.well-known/did.json (a port is %3A-encoded)
        host = did.removeprefix("did:web:").replace("%3A", ":")
        doc = _get_json(http, f"https://{host}/.well-known/did.json", "the DID document")
    if doc.get("id") != did:
        raise SignInFailed("the DID document is not the handle's; nothing was stored.")
    aka = [a.lower() for a in doc.get("alsoKnownAs") or [] if isinstance(a, str)]
    doc_handle = next((a.removeprefix("at://") for a in aka if a.startswith("at://")), None)
    if not handle.startswith("did:") and f"at://{handle}" not in aka:
        # Handles are claims both ways: the DID must claim the handle back.
        raise SignInFailed(f"the account {did} does not claim the handle {handle!r}; nothing was stored.")
    pds = None
    for service_entry in doc.get("service") or []:
        if (
            isinstance(service_entry, dict)
            and str(service_entry.get("id", "")).endswith("#atproto_pds")
            and service_entry.get("type") == "AtprotoPersonalDataServer"
        ):
            pds = service_entry.get("serviceEndpoint")
    if not isinstance(pds, str) or not pds.startswith(("https://", "http://")):
        raise SignInFailed(f"the DID document of {did} names no PDS; nothing was stored.")
    return Identity(
        did=did, handle=doc_handle if handle.startswith("did:") and doc_handle else handle, pds=pds.rstrip("/")
    )


def discover(http: Any, pds: str) -> AuthServer:
    try:
        resource = _get_json(http, f"{pds}/.well-known/oauth-protected-resource", "the PDS's OAuth metadata")
    except SignInFailed as exc:  # a PDS from before OAuth (or one with it turned off)
        raise SignInFailed(
            f"{exc.message.removesuffix('; nothing was stored.')}: the PDS {pds} may not offer "
            "OAuth sign-in; nothing was stored.",
            hint="Use an app password: postcli accounts add bluesky --handle …",
        ) from None
    servers = resource.get("authorization_servers")
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], str):
        raise SignInFailed(
            f"the PDS {pds} names no OAuth authorization server; nothing was stored.",
            hint="Use an app password: postcli accounts add bluesky --handle …",
        )
    issuer = servers[0].rstrip("/")
    meta = _get_json(http, f"{issuer}/.well-known/oauth-authorization-server", "the authorization server's metadata")
    if meta.get("issuer") != issuer:
        raise SignInFailed(
            f"the authorization server's metadata names issuer {str(meta.get('issuer'))[:80]!r}, "
            f"not {issuer!r}; nothing was stored."
        )
    missing = [
        k
        for k in ("pushed_authorization_request_endpoint", "authorization_endpoint", "token_endpoint")
        if not isinstance(meta.get(k), str)
    ]
    if missing:
        raise SignInFailed(f"the authorization server's metadata lacks {', '.join(missing)}; nothing was stored.")
    if "ES256" not in (meta.get("dpop_signing_alg_values_supported") or []):
        raise SignInFailed("the authorization server does not accept ES256 DPoP proofs; nothing was stored.")
    return AuthServer(
        issuer=issuer,
        par_endpoint=meta["pushed_authorization_request_endpoint"],
        authorization_endpoint=meta["authorization_endpoint"],
        token_endpoint=meta["token_endpoint"],
        iss_parameter=bool(meta.get("authorization_response_iss_parameter_supported")),
    )


class BlueskySignIn(SignInHooks):
    """The whole AT Protocol flow is Bluesky's own: the shared code flow is not used."""

    def sign_in(self, ctx: SignInContext) -> Connection:
        handle = ctx.option("handle")
        if not handle:
            raise InvalidInput("signing in to Bluesky needs your handle.", hint="Add --handle name.bsky.social")
        service = (ctx.api_base or ctx.option("service") or DEFAULT_SERVICE).rstrip("/")
        stored = sign_in(ctx, handle, service)
        pds = stored.pop("pds")
        return Connection(
            identifier=stored["handle"], secret=stored["access_token"], base_url=pds, extra_secrets=stored
        )


def sign_in(ctx: SignInContext, handle: str, service: str) -> dict[str, Any]:
    """The whole browser sign-in; returns what the account's credentials hold (and its PDS)."""
    import httpx
    from authlib.common.security import generate_token
    from authlib.oauth2.rfc7636 import create_s256_code_challenge

    from postcli.platforms import tls

    with httpx.Client(timeout=ctx.timeout, verify=tls.context()) as http, ctx.redirect(0) as redirect:
        ident = resolve_identity(http, handle, service)
        server = discover(http, ident.pds)
        redirect_uri = redirect.redirect_uri
        scope = " ".join(ctx.scopes) if ctx.scopes else SCOPE
        client_id = loopback_client_id(redirect_uri, scope)
        key = new_key()
        ctx.register_secret(key["d"])
        signer = DPoPSigner(key)
        state, verifier = generate_token(32), generate_token(64)
        par = {
            "client_id": client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": state,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
            "login_hint": handle.strip().lstrip("@"),  # as typed (the spec: a hint, not a resolved name)
        }
        body = _as_auth_server(lambda: token_request(http, signer, server.par_endpoint, par), "the sign-in request")
        request_uri = body.get("request_uri")
        if not isinstance(request_uri, str):
            raise SignInFailed("the authorization server sent no request_uri; nothing was stored.")
        url = server.authorization_endpoint + "?" + urlencode({"client_id": client_id, "request_uri": request_uri})
        code, params = redirect.code(url, state)
        # RFC 9207: a server that announces `iss` must send its own (a pasted bare code has none).
        if server.iss_parameter and params and params.get("iss") != server.issuer:
            raise SignInFailed("the redirect comes from another authorization server (iss); nothing was stored.")
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
            "client_id": client_id,
        }
        token = _as_auth_server(lambda: token_request(http, signer, server.token_endpoint, form), "the code")
    ctx.register_secret(token)
    if str(token.get("token_type", "")).lower() != "dpop" or not token.get("access_token"):
        raise SignInFailed("the authorization server did not issue a DPoP-bound token; nothing was stored.")
    if token.get("sub") != ident.did:
        raise SignInFailed(f"the token is for {str(token.get('sub'))[:80]!r}, not {ident.did}; nothing was stored.")
    if "atproto" not in str(token.get("scope", "")).split():
        raise SignInFailed("the token lacks the atproto scope; nothing was stored.")
    if not token.get("refresh_token"):
        raise SignInFailed("the authorization server sent no refresh token; nothing was stored.")
    return {
        "auth": "oauth",
        **apply_token(token),
        "dpop_key": key,
        "did": ident.did,
        "handle": ident.handle,
        "client_id": client_id,
        "issuer": server.issuer,
        "token_endpoint": server.token_endpoint,
        "pds": ident.pds,
        # The adapter re-resolves the DID before each refresh, and ends the session two weeks on.
        "plc_directory": plc_directory(),
        "session_started_at": int(time.time()),
    }


def _as_auth_server(call: Any, what: str) -> dict[str, Any]:
    import httpx

    try:
        return call()
    except TokenRefused as exc:
        desc = f" ({printable(exc.description)})" if exc.description else ""
        exc.error = printable(exc.error, 80)
        if exc.error == "invalid_grant":
            raise SignInFailed(
                f"the authorization server refused {what}{desc}; nothing was stored.",
                hint="Codes work once and for minutes only: run the command again.",
            ) from None
        raise SignInFailed(f"the authorization server refused {what}: {exc.error}{desc}; nothing was stored.") from None
    except httpx.HTTPError as exc:
        raise PlatformUnavailable(
            f"could not reach the authorization server ({type(exc).__name__}); nothing was stored."
        ) from None
