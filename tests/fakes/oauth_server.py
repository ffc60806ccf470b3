"""An OAuth 2.0 authorization server to plug into a fake platform: the consent page
(GET authorize: consents, or declines, and redirects) and the token endpoint.

It checks what real servers check (RFC 6749, RFC 7636, RFC 8252):
- the client id is known and the redirect URI is one registered for it, exactly
  (a loopback IP's port excepted, as Doorkeeper/Mastodon do); else an error page,
  no redirect (RFC 6749 4.1.2.1);
- the state is echoed unchanged;
- the token request authenticates the client (client_secret_post or _basic),
  repeats the exact redirect URI, and, when a code_challenge was sent, carries a
  code_verifier whose S256 hash matches (RFC 7636 4.6);
- a code works once (a reused one is invalid_grant).

`issue_token(client, scopes)` (given by the platform fake) returns the token body;
`token_error(status, error, description)`, when given, renders the token endpoint's
errors in the platform's own format (Meta's Graph error object).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlencode, urlsplit, urlunsplit

from werkzeug.wrappers import Request, Response


@dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    scopes: list[str]
    name: str = ""


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    scopes: list[str]
    code_challenge: str | None
    code_challenge_method: str | None
    used: bool = False


def _loopback(host: str | None) -> bool:
    return host in ("127.0.0.1", "::1", "[::1]")


def redirect_matches(given: str, registered: str) -> bool:
    g, r = urlsplit(given), urlsplit(registered)
    if g.scheme == "http" and _loopback(g.hostname) and _loopback(r.hostname):
        # RFC 8252 7.3: any port for loopback IP redirects; everything else exact.
        return (g.scheme, g.hostname, g.path, g.query) == (r.scheme, r.hostname, r.path, r.query)
    return given == registered


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def s256_hex(verifier: str) -> str:
    """TikTok's Login Kit for desktop: the challenge is the hex SHA-256 of the verifier."""
    return hashlib.sha256(verifier.encode("ascii")).hexdigest()


@dataclass
class AuthorizationServer:
    issue_token: Callable[[Client, list[str]], dict[str, Any]]
    token_error: Callable[[int, str, str], Response] | None = None
    scope_separator: str = " "
    require_pkce: bool = False
    # RFC 8252's any-port rule for loopback redirects (Doorkeeper/Mastodon); False = exact match.
    loopback_any_port: bool = True
    # What the user does on the consent page: "approve" or "deny".
    decision: str = "approve"
    # Make the redirect carry another state (an attacker's redirect).
    tamper_state: str | None = None
    clients: dict[str, Client] = field(default_factory=dict)
    # The client id's parameter name on the consent page and in the token form (TikTok: client_key).
    client_id_param: str = "client_id"
    # How the S256 challenge is written: "base64url" (RFC 7636) or "hex" (TikTok's desktop apps).
    pkce_encoding: str = "base64url"
    # Makes an authorization code (TikTok's carry "*" and "!", sent percent-encoded).
    new_code: Callable[[], str] = field(default=lambda: secrets.token_urlsafe(24))
    # Facebook Login for Business: a configuration made in the app dashboard stands for the
    # permissions; the dialog takes `config_id` and no `scope`
    # (developers.facebook.com/docs/facebook-login/facebook-login-for-business).
    configs: dict[str, list[str]] = field(default_factory=dict)
    grants: dict[str, _Grant] = field(default_factory=dict)
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _seq: Any = field(default_factory=lambda: itertools.count(1))

    def add_client(
        self, client_id: str, client_secret: str, redirect_uris: list[str], scopes: list[str], name: str = ""
    ) -> Client:
        client = Client(client_id, client_secret, redirect_uris, scopes, name)
        with self._lock:
            self.clients[client_id] = client
        return client

    def remove_client(self, client_id: str) -> None:
        """The instance forgets the app (an admin deleted it)."""
        with self._lock:
            self.clients.pop(client_id, None)

    def register(self, name: str, redirect_uris: list[str], scopes: list[str]) -> Client:
        n = next(self._seq)
        return self.add_client(
            f"client-{n}-{secrets.token_hex(4)}", secrets.token_urlsafe(24), redirect_uris, scopes, name
        )

    # -- the consent page ------------------------------------------------------------

    def authorize(self, request: Request) -> Response:
        args = {k: request.args[k] for k in request.args}
        with self._lock:
            self.authorize_requests.append(args)
            client = self.clients.get(args.get(self.client_id_param, ""))
        if client is None:
            return _page(400, "Client authentication failed due to unknown client.")
        redirect_uri = args.get("redirect_uri", "")
        if not any(
            redirect_matches(redirect_uri, r) if self.loopback_any_port else redirect_uri == r
            for r in client.redirect_uris
        ):
            return _page(400, "The redirect uri included is not valid.")
        state = self.tamper_state if self.tamper_state is not None else args.get("state")
        if args.get("response_type") != "code":
            return _redirect(redirect_uri, {"error": "unsupported_response_type", "state": state})
        scopes = [s for s in args.get("scope", "").split(self.scope_separator) if s]
        if "config_id" in args:
            if scopes or args["config_id"] not in self.configs:  # a configuration replaces scopes
                return _redirect(redirect_uri, {"error": "invalid_request", "state": state})
            scopes = self.configs[args["config_id"]]
        if not scopes or not set(scopes) <= set(client.scopes):
            return _redirect(redirect_uri, {"error": "invalid_scope", "state": state})
        challenge, method = args.get("code_challenge"), args.get("code_challenge_method")
        if challenge and method != "S256":
            return _redirect(redirect_uri, {"error": "invalid_request", "state": state})
        if self.require_pkce and not challenge:
            return _redirect(
                redirect_uri, {"error": "invalid_request", "error_description": "PKCE required", "state": state}
            )
        if self.decision == "deny":
            return _redirect(
                redirect_uri,
                {
                    "error": "access_denied",
                    "error_description": "The resource owner or authorization server denied the request.",
                    "state": state,
                },
            )
        code = self.new_code()
        with self._lock:
            self.grants[code] = _Grant(client.client_id, redirect_uri, scopes, challenge, method)
        return _redirect(redirect_uri, {"code": code, "state": state})

    # -- the token endpoint ----------------------------------------------------------

    def token(self, request: Request) -> Response:
        response = self._token(request)
        if response.status_code != 200 and self.token_error is not None:
            import json

            body = json.loads(response.get_data())
            return self.token_error(response.status_code, body["error"], body["error_description"])
        return response

    def _token(self, request: Request) -> Response:
        form = {k: request.form[k] for k in request.form}
        client_id, client_secret = form.get(self.client_id_param), form.get("client_secret")
        if request.authorization and request.authorization.type == "basic":
            client_id, client_secret = request.authorization.username, request.authorization.password
        with self._lock:
            self.token_requests.append({**form, "_auth": "basic" if request.authorization else "post"})
            client = self.clients.get(client_id or "")
            if client is None or not secrets.compare_digest(client.client_secret, client_secret or ""):
                return _error(
                    401,
                    "invalid_client",
                    "Client authentication failed due to unknown client, "
                    "no client authentication included, or unsupported authentication method.",
                )
            if form.get("grant_type") == "client_credentials":
                # An app-only token (Mastodon: what GET /api/v1/apps/verify_credentials takes).
                return _json(
                    200,
                    {
                        "access_token": secrets.token_urlsafe(24),
                        "token_type": "Bearer",
                        "scope": form.get("scope") or "read",
                        "created_at": 0,
                    },
                )
            if form.get("grant_type") != "authorization_code":
                return _error(400, "unsupported_grant_type", "The authorization grant type is not supported.")
            grant = self.grants.get(form.get("code", ""))
            if grant is None or grant.used or grant.client_id != client.client_id:
                return _error(
                    400,
                    "invalid_grant",
                    "The provided authorization grant is invalid, expired, "
                    "revoked, does not match the redirection URI used in the authorization request, "
                    "or was issued to another client.",
                )
            grant.used = True  # single use, even when the rest of the request fails
            if form.get("redirect_uri") != grant.redirect_uri:
                return _error(400, "invalid_grant", "redirect_uri does not match the authorization request.")
            if grant.code_challenge:
                verifier = form.get("code_verifier") or ""
                encode = s256_hex if self.pkce_encoding == "hex" else s256
                if not verifier or encode(verifier) != grant.code_challenge:
                    return _error(400, "invalid_grant", "The PKCE code verifier does not match.")
            body = self.issue_token(client, grant.scopes)
        return _json(200, body)


def _redirect(uri: str, params: dict[str, str | None]) -> Response:
    parts = urlsplit(uri)
    query = "&".join(p for p in (parts.query, urlencode({k: v for k, v in params.items() if v is not None})) if p)
    return Response("", status=302, headers={"Location": urlunsplit(parts._replace(query=query))})


def _page(status: int, message: str) -> Response:
    return Response(
        f"<!DOCTYPE html><html><body><h1>An error has occurred</h1><p>{message}</p></body></html>",
        status=status,
        content_type="text/html; charset=utf-8",
    )


def _json(status: int, body: dict[str, Any]) -> Response:
    import json

    return Response(
        json.dumps(body),
        status=status,
        content_type="application/json; charset=utf-8",
        headers={"Cache-Control": "no-store"},
    )


def _error(status: int, error: str, description: str) -> Response:
    return _json(status, {"error": error, "error_description": description})
