"""A fake AT Protocol OAuth stack on one loopback server: PDS + authorization server + PLC.

It extends FakeBlueskyServer (the PDS) with what atproto.com/specs/oauth and the reference
server (@atproto/oauth-provider) require, checked the way they check it:

- PLC directory: GET /<did:plc:…> -> the DID document (the account's PDS is this server).
- GET /.well-known/oauth-protected-resource and /.well-known/oauth-authorization-server.
- POST /oauth/par: the localhost client (`client_id=http://localhost?redirect_uri=…&scope=…`,
  no metadata document), the redirect URI must be one the client_id lists, on 127.0.0.1
  (http), PKCE S256 required, scope within the client_id's scope. Answers 201 with a
  single-use request_uri.
- GET /oauth/authorize?client_id&request_uri: consent ("approve" or "deny"); redirects with
  code, state and iss.
- POST /oauth/token: authorization_code (code once, exact redirect URI, PKCE verifier,
  same client_id, same DPoP key as the PAR) and refresh_token (rotating: each refresh token
  works once, and presenting a spent one is "Refresh token replayed", which ends the session;
  same DPoP key).
- Session lifetime as the reference server (@atproto/oauth-provider) sets it for a public
  client: SESSION_LIFETIME (2 weeks) from the code grant, REFRESH_LIFETIME (2 weeks) since the
  last refresh; past either a refresh is `invalid_grant` "Session expired" / "Refresh token
  expired", and an access token never outlives its session (`expires_in` is cut short). The
  session clock is `self.clock` (epoch seconds; tests put a FakeClock there and move it on
  instead of sleeping); DPoP proofs are still checked against real time, as the client
  signs them.
- DPoP everywhere (RFC 9449): the proof's signature against the JWK in its header, typ,
  alg ES256, htm, htu, iat within 5 minutes, jti never seen before, and the server's
  current nonce. A missing or old nonce is answered `use_dpop_nonce` with a DPoP-Nonce
  header (400 from the authorization server, 401 + WWW-Authenticate from the PDS). Every
  response carries the current nonce. On the PDS: `Authorization: DPoP <token>`, `ath`,
  and the token's `cnf.jkt` must be the proof key's thumbprint. A DPoP-bound token sent as
  Bearer is refused.
- Knobs for what real servers may do: `omit_nonce_on` (paths answered without a DPoP-Nonce
  header), `resource_auth_server` (the authorization server the PDS names, e.g. after the
  account moved), `refuse_all_tokens` (the PDS refuses every access token, refreshed or not).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets as _secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from werkzeug.wrappers import Request, Response

from fakes.bluesky_server import FakeBlueskyServer

SCOPE = "atproto transition:generic"
WEEK = 7 * 24 * 3600
SESSION_LIFETIME = 2 * WEEK
REFRESH_LIFETIME = 2 * WEEK


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class DPoPRefused(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


class FakeAtprotoOAuth(FakeBlueskyServer):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.decision = "approve"
        self.tamper_state: str | None = None
        self.tamper_iss: str | None = None
        self.token_delay = 0.0
        self.handle_claims: dict[str, str] = {}  # handle -> DID resolveHandle answers instead
        self.oauth_enabled = True  # False: a PDS from before OAuth (no protected-resource metadata)
        self.oauth_access_ttl = 3600
        self.clock: Any = time.time  # the session clock (FakeClock in tests that age sessions)
        self.omit_nonce_on: set[str] = set()
        self.resource_auth_server: str | None = None
        self.refuse_all_tokens = False
        # One nonce for the PDS and its authorization server: same origin, as with a
        # self-hosted reference PDS (the client keeps nonces per origin).
        self.nonce = "nonce-1"
        self.seen_jti: set[str] = set()
        self.expired_jti: set[str] = set()
        self.par_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self.dpop_refusals: list[tuple[str, str]] = []  # (path, error)
        self.issued: list[dict[str, Any]] = []  # token responses, in order
        self._par: dict[str, dict[str, Any]] = {}
        self._codes: dict[str, dict[str, Any]] = {}
        self._refresh_tokens: dict[str, dict[str, Any]] = {}

    # --- knobs -----------------------------------------------------------

    def rotate_nonce(self) -> None:
        with self._lock:
            self.nonce = "n-" + _secrets.token_urlsafe(8)

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is now past its expiry (new ones are fine)."""
        with self._lock:
            self.expired_jti.update(body["jti"] for body in self.issued)

    def revoke_refresh_tokens(self) -> None:
        """The sessions were revoked (signed out in the app): their refresh tokens are unknown now."""
        with self._lock:
            self._refresh_tokens.clear()

    # --- DPoP ------------------------------------------------------------

    def _check_proof(self, request: Request, nonce: str, access_token: str | None) -> dict[str, Any]:
        from joserfc import jws, jwt
        from joserfc.jwk import ECKey

        proof = request.headers.get("DPoP")
        if not proof:
            raise DPoPRefused("invalid_dpop_proof", "DPoP proof required")
        try:
            header = jws.extract_compact(proof.encode()).headers()
            if header.get("typ") != "dpop+jwt" or header.get("alg") != "ES256" or "d" in header.get("jwk", {}):
                raise DPoPRefused("invalid_dpop_proof", "bad DPoP header")
            key = ECKey.import_key(header["jwk"])
            claims = jwt.decode(proof, key, algorithms=["ES256"]).claims
        except DPoPRefused:
            raise
        except Exception as exc:
            raise DPoPRefused("invalid_dpop_proof", f"DPoP proof does not verify ({type(exc).__name__})") from None
        if claims.get("htm") != request.method:
            raise DPoPRefused("invalid_dpop_proof", "DPoP htm mismatch")
        if claims.get("htu") != request.base_url:
            raise DPoPRefused("invalid_dpop_proof", f"DPoP htu mismatch ({claims.get('htu')} != {request.base_url})")
        if not isinstance(claims.get("iat"), int) or abs(claims["iat"] - time.time()) > 300:
            raise DPoPRefused("invalid_dpop_proof", "DPoP iat too old or in the future")
        jti = claims.get("jti")
        if not isinstance(jti, str) or jti in self.seen_jti:
            raise DPoPRefused("invalid_dpop_proof", "DPoP jti reused")
        if claims.get("nonce") != nonce:
            raise DPoPRefused("use_dpop_nonce", "Authorization server requires nonce in DPoP proof")
        self.seen_jti.add(jti)
        if access_token is not None and claims.get("ath") != _s256(access_token):
            raise DPoPRefused("invalid_dpop_proof", "DPoP ath mismatch")
        return {"jkt": key.thumbprint(), "claims": claims}

    # --- routing ---------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        path = request.path
        if path == "/.well-known/oauth-protected-resource":
            if not self.oauth_enabled:
                return Response("Not Found", status=404)
            return self._json(
                {
                    "resource": self.url,
                    "authorization_servers": [self.resource_auth_server or self.url],
                    "scopes_supported": [],
                    "bearer_methods_supported": ["header"],
                }
            )
        if path == "/.well-known/oauth-authorization-server":
            # The issuer is the origin the metadata is fetched from (a second origin, e.g.
            # localhost for 127.0.0.1, is "another authorization server").
            return self._json(self._as_metadata(request.host_url.rstrip("/")))
        if path == "/xrpc/com.atproto.identity.resolveHandle" and request.args.get("handle") in self.handle_claims:
            return self._json({"did": self.handle_claims[request.args["handle"]]})
        if path.startswith("/did:plc:"):
            acc = self._accounts.get(path[1:])
            if acc is None:
                return self._json({"message": "DID not registered"}, 404)
            return self._json(self._did_doc(acc))
        if path in ("/oauth/par", "/oauth/token"):
            if path == "/oauth/token" and self.token_delay:
                self._stopping.wait(self.token_delay)
            with self._lock:
                response = self._as_endpoint(request, path)
            return self._with_nonce(path, response)
        if path == "/oauth/authorize":
            with self._lock:
                return self._authorize(request)
        auth = request.headers.get("Authorization", "")
        if auth.startswith("DPoP "):
            with self._lock:
                refused = self._check_resource(request, auth[5:])
            if refused is not None:
                return self._with_nonce(path, refused)
        response = super()._handle(request)
        return self._with_nonce(path, response)

    def _with_nonce(self, path: str, response: Response) -> Response:
        if path not in self.omit_nonce_on:
            response.headers["DPoP-Nonce"] = self.nonce
        return response

    def _as_metadata(self, issuer: str | None = None) -> dict[str, Any]:
        return {
            "issuer": issuer or self.url,
            "pushed_authorization_request_endpoint": f"{self.url}/oauth/par",
            "authorization_endpoint": f"{self.url}/oauth/authorize",
            "token_endpoint": f"{self.url}/oauth/token",
            "require_pushed_authorization_requests": True,
            "dpop_signing_alg_values_supported": ["ES256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"],
            "authorization_response_iss_parameter_supported": True,
            "scopes_supported": ["atproto", "transition:generic"],
            "client_id_metadata_document_supported": True,
        }

    # --- PDS: DPoP-bound tokens --------------------------------------------

    def _check_resource(self, request: Request, token: str) -> Response | None:
        payload = self._decode(token)
        if payload is None or "cnf" not in payload:
            return self._pds_refusal(request, "InvalidToken", "Bad token")
        try:
            proof = self._check_proof(request, self.nonce, token)
        except DPoPRefused as exc:
            return self._pds_refusal(request, exc.error, exc.description)
        if proof["jkt"] != payload["cnf"]["jkt"]:
            return self._pds_refusal(request, "InvalidToken", "DPoP key does not match the token")
        if self.refuse_all_tokens:
            return self._pds_refusal(request, "invalid_token", "Token is not valid for this resource")
        if payload["exp"] < self.clock() or payload.get("jti") in self.expired_jti:
            return self._pds_refusal(request, "invalid_token", '"exp" claim timestamp check failed')
        return None

    def _pds_refusal(self, request: Request, error: str, message: str) -> Response:
        self.dpop_refusals.append((request.path, error))
        challenge = f'DPoP error="{error}", error_description="{message}"'
        return self._json({"error": error, "message": message}, 401, {"WWW-Authenticate": challenge})

    def _classify_auth(self, request: Request) -> tuple[str, dict[str, Any] | None]:
        header = request.headers.get("Authorization", "")
        if header.startswith("DPoP "):  # verified in _handle before we get here
            payload = self._decode(header[5:])
            return ("access", payload) if payload else ("invalid", None)
        kind, payload = super()._classify_auth(request)
        if payload is not None and "cnf" in payload:
            return "invalid", None  # a DPoP-bound token used as a bearer token
        return kind, payload

    # --- authorization server ----------------------------------------------

    def _as_endpoint(self, request: Request, path: str) -> Response:
        form = {k: v for k, v in request.form.items()}
        try:
            proof = self._check_proof(request, self.nonce, None)
        except DPoPRefused as exc:
            self.dpop_refusals.append((path, exc.error))
            return self._oauth_error(400, exc.error, exc.description)
        if path == "/oauth/par":
            self.par_requests.append(form)
            return self._par_request(form, proof["jkt"])
        self.token_requests.append(form)
        if form.get("grant_type") == "authorization_code":
            return self._code_grant(form, proof["jkt"])
        if form.get("grant_type") == "refresh_token":
            return self._refresh_grant(form, proof["jkt"])
        return self._oauth_error(400, "unsupported_grant_type", "grant_type")

    @staticmethod
    def _oauth_error(status: int, error: str, description: str) -> Response:
        return Response(
            json.dumps({"error": error, "error_description": description}),
            status=status,
            content_type="application/json",
        )

    @staticmethod
    def _loopback_client(client_id: str) -> dict[str, Any] | None:
        parts = urlsplit(client_id)
        if parts.scheme != "http" or parts.netloc != "localhost" or parts.path not in ("", "/"):
            return None
        q = parse_qs(parts.query)
        redirects = q.get("redirect_uri") or ["http://127.0.0.1/", "http://[::1]/"]
        for r in redirects:
            rp = urlsplit(r)
            if rp.scheme != "http" or rp.hostname not in ("127.0.0.1", "::1"):
                return None
        scope = (q.get("scope") or ["atproto"])[0]
        return {"redirect_uris": redirects, "scope": scope.split()}

    def _par_request(self, form: dict[str, str], jkt: str) -> Response:
        client = self._loopback_client(form.get("client_id", ""))
        if client is None:
            return self._oauth_error(400, "invalid_client", "unknown client_id")
        if form.get("redirect_uri") not in client["redirect_uris"]:
            return self._oauth_error(400, "invalid_request", "redirect_uri not registered for this client")
        if form.get("response_type") != "code" or not form.get("state"):
            return self._oauth_error(400, "invalid_request", "response_type code and state required")
        if form.get("code_challenge_method") != "S256" or not form.get("code_challenge"):
            return self._oauth_error(400, "invalid_request", "PKCE S256 required")
        scopes = (form.get("scope") or "").split()
        if "atproto" not in scopes or not set(scopes) <= set(client["scope"]):
            return self._oauth_error(400, "invalid_scope", "scope not allowed for this client")
        request_uri = "urn:ietf:params:oauth:request_uri:req-" + _secrets.token_hex(16)
        self._par[request_uri] = {"form": form, "jkt": jkt, "used": False, "expires": time.time() + 299}
        return Response(
            json.dumps({"request_uri": request_uri, "expires_in": 299}), status=201, content_type="application/json"
        )

    def _authorize(self, request: Request) -> Response:
        par = self._par.get(request.args.get("request_uri", ""))
        if par is None or par["used"] or par["expires"] < time.time():
            return Response("This request has expired or was used", status=400)
        if request.args.get("client_id") != par["form"]["client_id"]:
            return Response("client_id does not match the pushed request", status=400)
        par["used"] = True  # a request_uri works once
        form = par["form"]
        state = self.tamper_state or form["state"]
        iss = self.tamper_iss or self.url
        if self.decision != "approve":
            params = {"error": "access_denied", "error_description": "Access denied", "state": state, "iss": iss}
        else:
            code = "cod-" + _secrets.token_hex(16)
            self._codes[code] = {"form": form, "jkt": par["jkt"], "used": False}
            params = {"code": code, "state": state, "iss": iss}
        return Response("", status=302, headers={"Location": form["redirect_uri"] + "?" + urlencode(params)})

    def _code_grant(self, form: dict[str, str], jkt: str) -> Response:
        grant = self._codes.get(form.get("code", ""))
        if grant is None or grant["used"]:
            return self._oauth_error(400, "invalid_grant", "Invalid code")
        grant["used"] = True
        par = grant["form"]
        if form.get("client_id") != par["client_id"]:
            return self._oauth_error(400, "invalid_grant", "client_id mismatch")
        if form.get("redirect_uri") != par["redirect_uri"]:
            return self._oauth_error(400, "invalid_grant", "redirect_uri mismatch")
        if _s256(form.get("code_verifier", "")) != par["code_challenge"]:
            return self._oauth_error(400, "invalid_grant", "Invalid code_verifier")
        if jkt != grant["jkt"]:
            return self._oauth_error(400, "invalid_dpop_key_binding", "DPoP key mismatch")
        acc = self._find_account(par["login_hint"])
        assert acc is not None
        session = {"created": self.clock(), "live": True}
        return self._issue_oauth(acc.did, par["client_id"], jkt, par["scope"], session)

    def _refresh_grant(self, form: dict[str, str], jkt: str) -> Response:
        rt = self._refresh_tokens.get(form.get("refresh_token", ""))
        if rt is None or not rt["session"]["live"]:
            return self._oauth_error(400, "invalid_grant", "Invalid refresh token")
        if rt["used"]:  # the reference server deletes the whole session then
            rt["session"]["live"] = False
            return self._oauth_error(400, "invalid_grant", "Refresh token replayed")
        if form.get("client_id") != rt["client_id"]:
            return self._oauth_error(400, "invalid_grant", "client_id mismatch")
        if jkt != rt["jkt"]:
            return self._oauth_error(400, "invalid_dpop_key_binding", "DPoP key mismatch")
        now = self.clock()
        if now - rt["session"]["created"] > SESSION_LIFETIME:
            rt["session"]["live"] = False
            return self._oauth_error(400, "invalid_grant", "Session expired")
        if now - rt["issued"] > REFRESH_LIFETIME:
            rt["session"]["live"] = False
            return self._oauth_error(400, "invalid_grant", "Refresh token expired")
        rt["used"] = True  # rotation: each refresh token works once
        return self._issue_oauth(rt["did"], rt["client_id"], jkt, rt["scope"], rt["session"])

    def _issue_oauth(self, did: str, client_id: str, jkt: str, scope: str, session: dict[str, Any]) -> Response:
        now = int(self.clock())
        # An access token never outlives its session (reference: createTokenExpiry).
        ttl = int(min(self.oauth_access_ttl, session["created"] + SESSION_LIFETIME - now))
        if ttl <= 0:
            session["live"] = False
            return self._oauth_error(400, "invalid_grant", "Session expired")
        access = self._jwt(
            {"typ": "at+jwt", "alg": "HS256"},
            {
                "scope": "com.atproto.access",
                "aud": self.url,
                "sub": did,
                "iat": now,
                "exp": now + ttl,
                "cnf": {"jkt": jkt},
                "client_id": client_id,
                "jti": _secrets.token_hex(8),
            },
        )
        refresh = "ref-" + _secrets.token_hex(24)
        self._refresh_tokens[refresh] = {
            "did": did,
            "client_id": client_id,
            "jkt": jkt,
            "scope": scope,
            "used": False,
            "issued": now,
            "session": session,
        }
        body = {
            "access_token": access,
            "token_type": "DPoP",
            "expires_in": ttl,
            "refresh_token": refresh,
            "scope": scope,
            "sub": did,
        }
        self.issued.append({**body, "jti": self._decode(access)["jti"]})
        return Response(
            json.dumps(body), status=200, content_type="application/json", headers={"Cache-Control": "no-store"}
        )
