"""Which authorization server speaks for an account now: DID -> DID document -> PDS -> its
protected-resource metadata -> the authorization server's metadata -> `issuer`.

An OAuth session is only good while the account's DID still points at the authorization
server that issued it. The reference client checks this before every refresh
(@atproto/oauth-client oauth-server-agent.ts, `verifyIssuer`, called "*before* we actually
try to refresh the token"): an account that moved to another PDS, or a DID document that
now names someone else's server, must not get new tokens from the old one. The same walk
happens at sign-in (signin/atproto_oauth.py); here it reads nothing but the DID.
"""

from __future__ import annotations

from typing import Any

from postcli.platforms.base import AuthFailed, PlatformUnavailable
from postcli.platforms.bluesky.values import PLATFORM

DEFAULT_PLC = "https://plc.directory"


class IdentityUnreadable(Exception):
    """An answer on the way was missing or not what the protocol says (not the network)."""


def _get_json(http: Any, url: str, what: str) -> dict[str, Any]:
    import httpx

    try:
        response = http.get(url)
    except httpx.HTTPError as exc:
        raise PlatformUnavailable(
            f"could not reach {url} to check the account's authorization server ({type(exc).__name__}).",
            platform=PLATFORM,
            hint="Check your network, then try again.",
        ) from None
    if response.status_code >= 500:
        raise PlatformUnavailable(
            f"{url} failed with HTTP {response.status_code} while checking the account's authorization server.",
            platform=PLATFORM,
            hint="Try again later.",
        )
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict):
        raise IdentityUnreadable(f"{url} answered HTTP {response.status_code} for {what}")
    return body


def did_document(http: Any, did: str, plc: str) -> dict[str, Any]:
    if did.startswith("did:plc:"):
        doc = _get_json(http, f"{plc.rstrip('/')}/{did}", "the DID document")
    elif did.startswith("did:web:"):  # did:web:host -> https://host/.well-known/did.json
        host = did.removeprefix("did:web:").replace("%3A", ":")
        doc = _get_json(http, f"https://{host}/.well-known/did.json", "the DID document")
    else:
        raise IdentityUnreadable(f"{did[:80]!r} is not a did:plc or did:web")
    if doc.get("id") != did:
        raise IdentityUnreadable("the DID document is not the account's")
    return doc


def pds_of(doc: dict[str, Any]) -> str:
    for entry in doc.get("service") or []:
        if (
            isinstance(entry, dict)
            and str(entry.get("id", "")).endswith("#atproto_pds")
            and entry.get("type") == "AtprotoPersonalDataServer"
            and isinstance(entry.get("serviceEndpoint"), str)
        ):
            return str(entry["serviceEndpoint"]).rstrip("/")
    raise IdentityUnreadable("the DID document names no PDS")


def current_issuer(http: Any, did: str, plc: str) -> str:
    """The `issuer` of the authorization server the account's PDS names today."""
    pds = pds_of(did_document(http, did, plc))
    resource = _get_json(http, f"{pds}/.well-known/oauth-protected-resource", "the PDS's OAuth metadata")
    servers = resource.get("authorization_servers")
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], str):
        raise IdentityUnreadable(f"the PDS {pds} names no authorization server")
    server = servers[0].rstrip("/")
    meta = _get_json(http, f"{server}/.well-known/oauth-authorization-server", "the authorization server's metadata")
    if meta.get("issuer") != server:
        raise IdentityUnreadable(f"the authorization server at {server} calls itself {str(meta.get('issuer'))[:80]!r}")
    return server


def verify_issuer(http: Any, secrets: dict[str, Any], hint: str) -> None:
    """AuthFailed (before any refresh token is spent) when the account's DID no longer leads
    to the authorization server its session came from; PlatformUnavailable when the way there
    cannot be read right now."""
    did, issuer = secrets.get("did"), secrets.get("issuer")
    if not isinstance(did, str) or not isinstance(issuer, str):
        return  # a session stored before the issuer was kept: nothing to compare with
    plc = secrets.get("plc_directory") or DEFAULT_PLC
    try:
        now = current_issuer(http, did, str(plc))
    except IdentityUnreadable as exc:
        raise AuthFailed(
            f"the account's identity no longer leads to its authorization server ({exc}); the session was not renewed.",
            platform=PLATFORM,
            hint=hint,
        ) from None
    if now != issuer.rstrip("/"):
        raise AuthFailed(
            f"the account's PDS now names the authorization server {now}, not {issuer}, which issued "
            "this session (the account moved, or its DID document changed); the session was not renewed.",
            platform=PLATFORM,
            hint=hint,
        )
