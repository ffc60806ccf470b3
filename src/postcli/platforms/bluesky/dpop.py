"""DPoP (RFC 9449) for AT Protocol OAuth: one ES256 key per session, a signed proof per request.

joserfc (authlib's JOSE library) generates the key and signs the proofs; nothing here is
hand-rolled crypto. The key is a secret of the account: it lives in the credentials store
(as a private JWK) next to the tokens it binds, never in the database.

Servers hand out nonces (`DPoP-Nonce` response header) and rotate them; a request with a
missing or stale nonce is answered `use_dpop_nonce` (400 from an authorization server, 401
with `WWW-Authenticate: DPoP error="use_dpop_nonce"` from a resource server) and is retried
once with the new nonce. Nonces are kept per origin: the PDS and the authorization server
each have their own.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit


def new_key() -> dict[str, Any]:
    """A fresh P-256 private key as a JWK dict (what the credentials store keeps)."""
    from joserfc.jwk import ECKey

    return dict(ECKey.generate_key("P-256", private=True).as_dict(private=True))


def thumbprint(jwk: dict[str, Any]) -> str:
    """The RFC 7638 thumbprint: what a DPoP-bound token carries as `cnf.jkt`."""
    from joserfc.jwk import ECKey

    return ECKey.import_key(public_jwk(jwk)).thumbprint()


def public_jwk(jwk: dict[str, Any]) -> dict[str, Any]:
    return {k: jwk[k] for k in ("kty", "crv", "x", "y")}


def access_token_hash(token: str) -> str:
    """`ath`: base64url(SHA-256(access token)), no padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).rstrip(b"=").decode()


def htu(url: str) -> str:
    """The proof's `htu`: the request URL without query and fragment (RFC 9449 section 4.2)."""
    parts = urlsplit(str(url))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def origin(url: str) -> str:
    parts = urlsplit(str(url))
    return f"{parts.scheme}://{parts.netloc}"


class DPoPSigner:
    """Signs proofs with one key and remembers the newest nonce of each server."""

    def __init__(self, jwk: dict[str, Any]) -> None:
        from joserfc.jwk import ECKey

        self._key = ECKey.import_key(jwk)
        self._public = public_jwk(jwk)
        self._nonces: dict[str, str] = {}
        self._lock = threading.Lock()

    def proof(self, method: str, url: str, access_token: str | None = None) -> str:
        return self.proof_and_nonce(method, url, access_token)[0]

    def proof_and_nonce(self, method: str, url: str, access_token: str | None = None) -> tuple[str, str | None]:
        """A proof, and the nonce it carries: a refusal is worth a retry only when the server
        has since handed out another one (the reference client's rule)."""
        from joserfc import jwt

        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method.upper(),
            "htu": htu(url),
            "iat": int(time.time()),
        }
        with self._lock:
            nonce = self._nonces.get(origin(url))
        if nonce:
            claims["nonce"] = nonce
        if access_token is not None:
            claims["ath"] = access_token_hash(access_token)
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self._public}
        return jwt.encode(header, claims, self._key), nonce

    def remember_nonce(self, url: str, headers: Any) -> bool:
        """Keep the `DPoP-Nonce` a response carried; True when it is a new one."""
        nonce = headers.get("dpop-nonce") if headers is not None else None
        if not nonce:
            return False
        key = origin(url)
        with self._lock:
            changed = self._nonces.get(key) != nonce
            self._nonces[key] = nonce
        return changed


def wants_nonce(status: int, headers: Any, body: Any) -> bool:
    """Did the server refuse the proof for want of its (new) nonce?"""
    if status == 400 and isinstance(body, dict) and body.get("error") == "use_dpop_nonce":
        return True
    if status == 401:
        challenge = (headers.get("www-authenticate") or "") if headers is not None else ""
        return "use_dpop_nonce" in challenge
    return False
