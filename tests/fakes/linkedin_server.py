"""A stateful fake of LinkedIn's OAuth 2.0 and versioned REST API on a real loopback socket.

Shapes follow LinkedIn's documentation on learn.microsoft.com/en-us/linkedin (cited beside
each route as .../PATH); what the docs do not show is marked "assumption":

- OAuth: GET /oauth/v2/authorization (exact redirect match; a scope the app lacks redirects
  back with error=unauthorized_scope_error) and POST /oauth/v2/accessToken with client_id and
  client_secret in the form (HTTP Basic is refused: an assumption, the docs only show the
  form), answering {"access_token", "expires_in": 5184000, "scope", ["refresh_token",
  "refresh_token_expires_in"]}; POST /oauth/v2/introspectToken
  (.../shared/authentication/authorization-code-flow, .../programmatic-refresh-tokens,
  .../token-introspection). The scope answer is comma separated (as the OpenID Connect page shows).
- GET /v2/userinfo (.../consumer/integrations/self-serve/sign-in-with-linkedin-v2).
- Every /rest/ request must carry LinkedIn-Version (a served YYYYMM; a sunset one answers 426
  NONEXISTENT_VERSION) and X-Restli-Protocol-Version: 2.0.0 (.../marketing/versioning).
- Errors are {"status", "serviceErrorCode", "code", "message"}; 401s carry 65600 (invalid),
  65601 (revoked) or 65602 (expired) (.../shared/api-guide/concepts/error-handling).
- Posts, Images, Videos, memberCreatorPostAnalytics, organizationalEntityShareStatistics,
  socialActions, memberFollowersCount, networkSizes, organizationAcls, organizations: below.

    with FakeLinkedIn() as li:
        ctx = li.account_context()
        li.fail_next("POST", "/rest/posts", 500)
"""

from __future__ import annotations

import itertools
import json as jsonlib
import re
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from werkzeug.wrappers import Request, Response

from fakes.loopback import Delay, Failure, LoopbackServer, RecordedRequest
from fakes.oauth_server import AuthorizationServer

CLIENT_ID = "fake-linkedin-client-id"
CLIENT_SECRET = "fake-linkedin-client-secret-0123456789"
ACCESS_TOKEN = "fake-linkedin-access-token-0123456789"
MEMBER_SUB = "782bbtaQ"
MEMBER_URN = f"urn:li:person:{MEMBER_SUB}"
ORG_ID = "2414183"
ORG_URN = f"urn:li:organization:{ORG_ID}"
MEMBER_SCOPES = ["openid", "profile", "w_member_social"]
ORG_SCOPES = ["w_organization_social", "r_organization_social", "rw_organization_admin"]
ALL_SCOPES = MEMBER_SCOPES + ["r_member_social", "r_member_postAnalytics", "r_member_profileAnalytics"] + ORG_SCOPES
SERVED_VERSIONS = {"202605", "202604", "202603", "202601"}
PART = 4 * 1024 * 1024
RESERVED = set("\\|{}@[]()<>#*_~")
POSTING_ROLES = {"ADMINISTRATOR", "CONTENT_ADMIN", "DIRECT_SPONSORED_CONTENT_POSTER"}
_METRIC_UNION = "com.linkedin.adsexternalapi.memberanalytics.v1.CreatorPostAnalyticsMetricTypeV1"


def rendered(commentary: str) -> str:
    """What a little-text commentary reads as on LinkedIn, by the grammar of
    .../community-management/shares/little-text-format: a backslash makes the next character
    plain text; @[Name](urn) is a mention (reads as Name); {hashtag|#|tag} and #tag are
    hashtags (read as #tag). Any other unescaped reserved character is a syntax error
    (ValueError): the fake refuses such a post (an assumption; LinkedIn's answer is not shown)."""
    out: list[str] = []
    i = 0
    while i < len(commentary):
        c = commentary[i]
        if c == "\\":
            if i + 1 >= len(commentary):
                raise ValueError("a lone backslash at the end")
            out.append(commentary[i + 1])
            i += 2
            continue
        if c == "@":
            m = re.match(r"@\[([^\]\\]*)\]\((urn:li:[a-zA-Z]+:[^)]+)\)", commentary[i:])
            if not m:
                raise ValueError(f"an unescaped @ at {i}")
            out.append(m.group(1))
            i += m.end()
            continue
        if c == "{":
            m = re.match(r"\{hashtag\|\\?([#＃])\|([^}|\\]+)\}", commentary[i:])
            if not m:
                raise ValueError(f"an unescaped {{ at {i}")
            out.append(m.group(1) + m.group(2))
            i += m.end()
            continue
        if c == "#":
            m = re.match(r"#(\w+)", commentary[i:])
            if not m:
                raise ValueError(f"an unescaped # at {i}")
            out.append(m.group(0))
            i += m.end()
            continue
        if c in RESERVED:
            raise ValueError(f"an unescaped {c!r} at {i}")
        out.append(c)
        i += 1
    return "".join(out)


@dataclass
class Token:
    value: str
    scopes: set[str]
    sub: str = MEMBER_SUB
    expires_at: float = field(default_factory=lambda: time.time() + 5184000)
    revoked: bool = False
    refresh: str | None = None


class FakeLinkedIn(LoopbackServer):
    """One member (and the Pages they have roles on), served on 127.0.0.1:<random port>."""

    thread_name = "fake-linkedin"

    def __init__(
        self,
        *,
        scopes: list[str] | None = None,
        app_scopes: list[str] | None = None,
        member_name: str = "Alice Example",
        org_roles: dict[str, str] | None = None,
        followers: int | None = 321,
        org_followers: int = 4200,
        metric_type_union: bool = True,
        refresh_tokens: bool = False,
        video_polls: int = 2,
    ) -> None:
        self.member_name = member_name
        self.org_roles = dict({ORG_ID: "ADMINISTRATOR"} if org_roles is None else org_roles)
        self.followers = followers
        self.org_followers = org_followers
        self.metric_type_union = metric_type_union
        self.refresh_tokens = refresh_tokens
        self.video_polls = video_polls
        self.served_versions = set(SERVED_VERSIONS)
        self.app_scopes = list(app_scopes or ALL_SCOPES)  # the scopes the app's products grant
        self._lock = threading.RLock()
        self.tokens: dict[str, Token] = {}
        self.add_token(ACCESS_TOKEN, scopes or MEMBER_SCOPES)
        self.issued: list[dict[str, Any]] = []  # token answers, in order
        # The sign-in (.../authorization-code-flow): exact redirect match, no PKCE.
        self.oauth = AuthorizationServer(
            issue_token=self._issue_from_code, loopback_any_port=False, scope_separator=" "
        )
        self.requests: list[RecordedRequest] = []
        self.counts: Counter[str] = Counter()
        self._failures: list[Failure] = []
        self._delays: list[Delay] = []
        self._stopping = threading.Event()
        self._seq = itertools.count(7_100_000_000_000_000_001)
        self.posts: dict[str, dict[str, Any]] = {}  # urn -> post as GET /rest/posts shows it
        self.deleted: set[str] = set()
        self.images: dict[str, dict[str, Any]] = {}
        self.videos: dict[str, dict[str, Any]] = {}
        self._slots: dict[str, tuple[str, str, int]] = {}  # upload id -> (kind, urn, part)
        self.analytics: dict[str, dict[str, int]] = {}  # urn -> {IMPRESSION: n, ...}
        self.org_stats: dict[str, dict[str, int]] = {}  # urn -> totalShareStatistics
        self.social: dict[str, tuple[int, int]] = {}  # urn -> (likes, comments)
        self.lose_post_answers = 0  # make the post, then hold the answer until the client gives up
        self.comments: dict[str, list[dict[str, Any]]] = {}  # post urn -> its comments, oldest first
        self.lose_comment_answers = 0  # make the comment, then hold the answer

    # -- test controls -------------------------------------------------------------------------

    def add_token(self, value: str, scopes: list[str], **kw: Any) -> Token:
        token = Token(value, set(scopes), **kw)
        with self._lock:
            self.tokens[value] = token
        return token

    def account_context(self, *, org: str | None = None, scopes: list[str] | None = None, **overrides: Any) -> Any:
        """An AccountContext as `accounts add linkedin` leaves it (the token's scopes known)."""
        from postcli.platforms.base import AccountContext

        author = f"urn:li:organization:{org}" if org else MEMBER_URN
        token = self.tokens[ACCESS_TOKEN]
        values: dict[str, Any] = {
            "platform": "linkedin",
            "api_base_url": self.url,
            "handle": self.member_name,
            "external_id": author,
            "secrets": {"access_token": ACCESS_TOKEN, "client_secret": CLIENT_SECRET},
            "settings": {
                "client_id": CLIENT_ID,
                "member": MEMBER_URN,
                "author": author,
                "scopes": sorted(scopes if scopes is not None else token.scopes),
            },
            "timeout": 5.0,
        }
        values.update(overrides)
        return AccountContext(**values)

    def fail_next(
        self,
        method: str,
        path_prefix: str,
        status: int,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` matching requests with `status` and LinkedIn's error body."""
        body = json if json is not None else _error_body(status, "injected failure")
        with self._lock:
            self._failures.append(Failure(method.upper(), path_prefix, status, body, dict(headers or {}), times))

    def add_post(self, text: str, *, author: str = MEMBER_URN, created_ms: int | None = None, media: int = 0) -> str:
        """A post made elsewhere (as LinkedIn lists it); its URN."""
        with self._lock:
            urn = f"urn:li:share:{next(self._seq)}"
            content: dict[str, Any] | None = None
            if media == 1:
                content = {"media": {"id": "urn:li:image:C4E10AQ"}}
            elif media > 1:
                content = {"multiImage": {"images": [{"id": f"urn:li:image:C4E{i}"} for i in range(media)]}}
            self._store_post(urn, author, _escape(text), content, created_ms or int(time.time() * 1000))
            return urn

    def delete_post(self, urn: str) -> None:
        with self._lock:
            self.posts.pop(urn, None)
            self.deleted.add(urn)

    def set_analytics(self, urn: str, **counts: int) -> None:
        """Member post counts by queryType: IMPRESSION=…, MEMBERS_REACHED=…, REACTION=…, COMMENT=…, RESHARE=…"""
        with self._lock:
            self.analytics[urn] = dict(counts)

    def requests_to(self, method: str, path_prefix: str = "") -> list[RecordedRequest]:
        with self._lock:
            return [
                r for r in self.requests if (method == "*" or r.method == method) and r.path.startswith(path_prefix)
            ]

    def count(self, route: str) -> int:
        with self._lock:
            return self.counts[route]

    # -- HTTP -----------------------------------------------------------------------------------

    def _json(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(jsonlib.dumps(body), status=status, headers=headers or {}, content_type="application/json")

    def _error(self, status: int, message: str, code: str | None = None, service: int | None = None) -> Response:
        return self._json(_error_body(status, message, code, service), status)

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        recorded = self._record(request)
        self._maybe_delay(recorded)
        try:
            response = self._injected(recorded) or self._route(request, recorded)
        except Exception as exc:  # a fake bug must show up as a loud 500
            response = self._error(500, f"fake server error: {type(exc).__name__}: {exc}")
        recorded.status = response.status_code
        return response(environ, start_response)

    def _record(self, request: Request) -> RecordedRequest:
        return self._record_request(request)

    def _injected(self, req: RecordedRequest) -> Response | None:
        failure = self._take_failure(req.method, req.path)
        if failure is None:
            return None
        with self._lock:
            self.counts[f"{req.method} {req.path} (injected {failure.status})"] += 1
        return self._json(failure.json, failure.status, failure.headers)

    def _hit(self, route: str) -> None:
        with self._lock:
            self.counts[route] += 1

    def _route(self, request: Request, req: RecordedRequest) -> Response:
        method, path = request.method, request.path
        if method == "GET" and path == "/oauth/v2/authorization":
            self._hit("GET /oauth/v2/authorization")
            return self._authorize(request)
        if method == "POST" and path == "/oauth/v2/accessToken":
            self._hit(f"POST /oauth/v2/accessToken ({req.param('grant_type')})")
            return self._access_token(request, req)
        if method == "POST" and path == "/oauth/v2/introspectToken":
            self._hit("POST /oauth/v2/introspectToken")
            return self._introspect(req)
        if method == "PUT" and path.startswith("/dms-uploads/"):
            self._hit(f"PUT {path.rsplit('/', 1)[0]}")
            return self._upload(path, req)
        token, refused = self._token_of(req)
        if refused is not None:
            self._hit(f"{method} {path} (401)")
            return refused
        assert token is not None
        if method == "GET" and path == "/v2/userinfo":
            # .../sign-in-with-linkedin-v2: {"sub", "name", "given_name", "family_name", "picture", "locale"}
            self._hit("GET /v2/userinfo")
            first, _, last = self.member_name.partition(" ")
            return self._json(
                {
                    "sub": token.sub,
                    "name": self.member_name,
                    "given_name": first,
                    "family_name": last,
                    "picture": "https://media.licdn.com/dms/image/C4E03AQ/profile-displayphoto-shrink_100_100/0/",
                    "locale": {"country": "US", "language": "en"},
                }
            )
        if not path.startswith("/rest/"):
            return self._error(404, f"No route {path}")
        version = req.headers.get("LinkedIn-Version")
        if req.headers.get("X-Restli-Protocol-Version") != "2.0.0":
            return self._error(400, "X-Restli-Protocol-Version 2.0.0 is required", "INVALID_PROTOCOL")
        if not version:
            return self._error(
                400,
                "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
                "VERSION_MISSING",
            )
        if version not in self.served_versions:
            # .../marketing/versioning: a sunset version answers 426.
            return self._error(426, f"Requested version {version} is not active", "NONEXISTENT_VERSION")
        return self._rest(method, path, request, req, token)

    def _token_of(self, req: RecordedRequest) -> tuple[Token | None, Response | None]:
        with self._lock:
            token = self.tokens.get(req.bearer or "")
        if token is None:
            return None, self._error(401, "Invalid access token", "INVALID_ACCESS_TOKEN", 65600)
        if token.revoked:
            return None, self._error(
                401, "The token used in the request has been revoked by the user", "REVOKED_ACCESS_TOKEN", 65601
            )
        if token.expires_at < time.time():
            return None, self._error(401, "The token used in the request has expired", "EXPIRED_ACCESS_TOKEN", 65602)
        return token, None

    def _denied(self, what: str) -> Response:
        # .../error-handling: 403 ACCESS_DENIED, serviceErrorCode 100.
        return self._error(403, f"Not enough permissions to access: {what}", "ACCESS_DENIED", 100)

    # -- OAuth ------------------------------------------------------------------------------------

    def _authorize(self, request: Request) -> Response:
        asked = [s for s in (request.args.get("scope") or "").split(" ") if s]
        lacking = [s for s in asked if s not in self.app_scopes]
        client = self.oauth.clients.get(request.args.get("client_id", ""))
        redirect = request.args.get("redirect_uri", "")
        if lacking and client is not None and redirect in client.redirect_uris:
            query = urlencode(
                {
                    "error": "unauthorized_scope_error",
                    "error_description": f"Scope &quot;{lacking[0]}&quot; is not authorized for your application",
                    "state": request.args.get("state", ""),
                }
            )
            return Response("", status=302, headers={"Location": f"{redirect}?{query}"})
        return self.oauth.authorize(request)

    def _issue_from_code(self, client: Any, scopes: list[str]) -> dict[str, Any]:
        value = f"fake-linkedin-access-{secrets.token_hex(6)}"
        token = self.add_token(value, scopes)
        body: dict[str, Any] = {"access_token": value, "expires_in": 5184000, "scope": ",".join(scopes)}
        if self.refresh_tokens:
            token.refresh = f"fake-linkedin-refresh-{secrets.token_hex(6)}"
            body.update(refresh_token=token.refresh, refresh_token_expires_in=31536000)
        self.issued.append(body)
        return body

    def _access_token(self, request: Request, req: RecordedRequest) -> Response:
        if request.authorization is not None:
            return self._json(
                {"error": "invalid_request", "error_description": "client_id and client_secret go in the body"}, 400
            )
        if req.param("grant_type") == "authorization_code":
            with self._lock:
                return self.oauth.token(request)
        if req.param("grant_type") != "refresh_token":
            return self._json({"error": "unsupported_grant_type", "error_description": "Unsupported grant type"}, 400)
        if req.param("client_id") != CLIENT_ID or req.param("client_secret") != CLIENT_SECRET:
            return self._json({"error": "invalid_client", "error_description": "Client authentication failed"}, 401)
        with self._lock:
            old = next((t for t in self.tokens.values() if t.refresh and t.refresh == req.param("refresh_token")), None)
            if old is None or old.revoked:
                return self._json(
                    {"error": "invalid_request", "error_description": "The provided refresh token is invalid"}, 400
                )
            value = f"fake-linkedin-access-{secrets.token_hex(6)}"
            new = self.add_token(value, sorted(old.scopes), refresh=old.refresh)
            old.revoked = True
            # .../programmatic-refresh-tokens: the same refresh token comes back, its TTL running down.
            body = {
                "access_token": value,
                "expires_in": 5184000,
                "refresh_token": new.refresh,
                "refresh_token_expires_in": 31000000,
            }
            self.issued.append(body)
            return self._json(body)

    def _introspect(self, req: RecordedRequest) -> Response:
        # .../token-introspection: {"active", "client_id", "authorized_at", "created_at", "status", "expires_at", "scope", "auth_type"}
        if req.param("client_id") != CLIENT_ID or req.param("client_secret") != CLIENT_SECRET:
            return self._json({"error": "invalid_client", "error_description": "Client authentication failed"}, 401)
        token = self.tokens.get(req.param("token") or "")
        if token is None or token.revoked or token.expires_at < time.time():
            return self._json({"active": False})
        now = int(time.time())
        return self._json(
            {
                "active": True,
                "client_id": CLIENT_ID,
                "authorized_at": now - 60,
                "created_at": now - 60,
                "status": "active",
                "expires_at": int(token.expires_at),
                "scope": ",".join(sorted(token.scopes)),
                "auth_type": "3L",
            }
        )

    # -- /rest/ -------------------------------------------------------------------------------------

    def _rest(self, method: str, path: str, request: Request, req: RecordedRequest, token: Token) -> Response:
        from fakes.linkedin_routes import route

        return route(self, method, path, request, req, token)

    def _upload(self, path: str, req: RecordedRequest) -> Response:
        with self._lock:
            slot = self._slots.get(path.rsplit("/", 1)[-1])
            if slot is None:
                return self._error(404, "unknown upload")
            kind, urn, part = slot
            if kind == "image":
                self.images[urn].update(data=req.body, status="AVAILABLE")
                return Response("", status=201)
            video = self.videos[urn]
            first, last = video["ranges"][part]
            if len(req.body) != last - first + 1:
                return self._error(400, f"part {part} must be {last - first + 1} bytes, not {len(req.body)}")
            etag = f"/ambry-video/signedId/{secrets.token_hex(8)}"
            video["etags"][part] = etag
            return Response("", status=200, headers={"ETag": etag})

    def _store_post(
        self, urn: str, author: str, commentary: str, content: Any, created_ms: int, visibility: str = "PUBLIC"
    ) -> dict[str, Any]:
        post = {
            "id": urn,
            "author": author,
            "commentary": commentary,
            "visibility": visibility,
            "lifecycleState": "PUBLISHED",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "isReshareDisabledByAuthor": False,
            "createdAt": created_ms,
            "publishedAt": created_ms,
            "lastModifiedAt": created_ms,
        }
        if content is not None:
            post["content"] = content
        self.posts[urn] = post
        self.analytics.setdefault(urn, {})
        return post

    def upload_url(self, kind: str, urn: str, part: int = 0) -> str:
        upload_id = secrets.token_hex(8)
        self._slots[upload_id] = (kind, urn, part)
        return f"{self.url}/dms-uploads/{kind}/{upload_id}"

    def next_id(self) -> int:
        return next(self._seq)

    def host_matches(self, url: str) -> bool:
        return urlsplit(url).netloc == self.host


def _error_body(status: int, message: str, code: str | None = None, service: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status, "message": message}
    if service is not None:
        body["serviceErrorCode"] = service
    if code is not None:
        body["code"] = code
    return body


def _escape(text: str) -> str:
    return "".join("\\" + c if c in RESERVED else c for c in text)
