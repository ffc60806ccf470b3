"""A stateful fake Tumblr API v2 on a real loopback socket.

Shapes follow Tumblr's own documentation (github.com/tumblr/docs, api.md and
npf-spec.md, published at https://www.tumblr.com/docs/en/api/v2 and
https://www.tumblr.com/docs/npf):

- every answer is {"meta": {"status", "msg"}, "response": ...}; errors add
  "errors": [{"title", "code", "detail"}] with "response": [] ("Response Format",
  "Errors and Error Subcodes"; the 401 body is the one quoted in tumblr/docs#72);
- GET /v2/user/info (user.name, user.blogs[] with name, url, title, primary,
  followers, tweet, type: "/user/info" lists blogs.followers as the blog's
  follower count; uuid is not listed there but other responses carry it);
- the endpoints the docs mark "API Key" (GET /info, /posts, /notes) take the
  bearer token with or without `api_key`; an `api_key` that is not the app's
  client id (the OAuth consumer key) is refused like a bad token (an assumption:
  the docs do not show that answer);
- GET /v2/blog/{id}/info (blog.posts, blog.name, blog.uuid, ...), /followers
  (total_users, users[]), /posts (?id= answers one post or 404; npf=true gives
  NPF "content"; id, id_string, post_url, timestamp, note_count), /notes
  (mode=conversation: notes, rollup_notes, total_notes, total_likes,
  total_reblogs, _links.next when there are more);
- POST /v2/blog/{id}/posts (NPF; JSON body, or multipart with a "json" part and
  one part per media "identifier") answers 201 {"id": "<string>"};
- POST /v2/blog/{id}/post/delete (id);
- POST /v2/oauth2/token grant_type=refresh_token answers the bare OAuth2 object
  {"access_token", "expires_in": 2520, "id_token": false, "refresh_token",
  "scope", "token_type"}; the refresh token rotates (the old one stops working).
  Its error body is not documented: the fake answers RFC 6749's
  {"error": "invalid_grant", "error_description": ...} with 400 (an assumption);
- X-Ratelimit-Per{day,hour}-{Limit,Remaining,Reset} headers (reset = seconds
  from now), as Tumblr clients read them; 429 "Limit Exceeded".

Blog identifiers in paths may be the name, NAME.tumblr.com or the uuid.

    with FakeTumblr() as server:
        ctx = server.account_context()
        server.fail_next("GET", "/v2/blog/", 503)
        server.requests_to("POST", "/v2/oauth2/token")
"""

from __future__ import annotations

import itertools
import json as jsonlib
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from fakes.loopback import BearerTokens, Delay, Failure, LoopbackServer, RecordedRequest
from fakes.oauth_server import AuthorizationServer

ACCESS_TOKEN = "fake-tumblr-access-token-0123456789"
REFRESH_TOKEN = "fake-tumblr-refresh-token-0123456789"
CLIENT_ID = "fake-tumblr-client-id"
CLIENT_SECRET = "fake-tumblr-client-secret-0123456789"
EXPIRES_IN = 2520  # 42 minutes, as in the docs' token response

_REASONS = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Limit Exceeded",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
VIDEO_TYPES = {"video/mp4", "video/quicktime"}
NOTES_PAGE = 20  # the real page size is not documented


@dataclass
class Part:
    """One part of a multipart body as the server received it."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes


class FakeTumblr(BearerTokens, LoopbackServer):
    """One Tumblr user with one or more blogs, served on 127.0.0.1:<random port>."""

    thread_name = "fake-tumblr"

    def __init__(
        self,
        *,
        user_name: str = "alice",
        blog_name: str = "alice-writes",
        blog_uuid: str = "t:aLiCe0xL2Fi1OFJg4Yxpme",
        other_blogs: tuple[str, ...] = ("alice-side",),
        followers: int = 120,
        followers_in_info: bool = False,
        followers_in_user_info: bool = True,
        access_token: str = ACCESS_TOKEN,
        refresh_token: str = REFRESH_TOKEN,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
    ) -> None:
        self.user_name = user_name
        self.blog_name = blog_name
        self.blog_uuid = blog_uuid
        self.followers = followers
        # Blog info documents no follower count; some answers may carry one.
        self.followers_in_info = followers_in_info
        self.followers_in_user_info = followers_in_user_info
        self.blogs = [self._blog_record(blog_name, blog_uuid, primary=True)] + [
            self._blog_record(name, f"t:{name.replace('-', '')}Uuid", primary=False) for name in other_blogs
        ]
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.client_id = client_id
        self.client_secret = client_secret
        self.expires_in = EXPIRES_IN
        self.issued_tokens: list[tuple[str, str]] = []
        self.refresh_fails_with: tuple[int, Any] | None = None
        # Sign-in (www.tumblr.com/docs/en/api/v2#oauth2-authorization): GET /oauth2/authorize
        # (www.tumblr.com, served here) and POST /v2/oauth2/token grant_type=authorization_code,
        # answering the same OAuth2 object as a refresh. Redirect URLs must match exactly.
        self.oauth = AuthorizationServer(issue_token=self._issue_from_code, loopback_any_port=False)

        self.requests: list[RecordedRequest] = []
        self.counts: Counter[str] = Counter()
        self._lock = threading.RLock()
        self._posts: dict[str, dict[str, Any]] = {}
        self._deleted: set[str] = set()
        self._failures: list[Failure] = []
        self._delays: list[Delay] = []
        self._stopping = threading.Event()
        self._seq = itertools.count(1)
        self._next_id = 788338580402716673  # > 2**53, like real ids

    def account_context(self, **overrides: Any) -> Any:
        """An AccountContext as `accounts add tumblr` leaves it for this server's blog."""
        from postcli.platforms.base import AccountContext

        values: dict[str, Any] = {
            "platform": "tumblr",
            "api_base_url": self.url,
            "handle": self.blog_name,
            "external_id": self.blog_uuid,
            "secrets": {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "client_secret": self.client_secret,
            },
            "settings": {"client_id": self.client_id, "blog_name": self.blog_name, "blog_uuid": self.blog_uuid},
            "timeout": 5.0,
        }
        values.update(overrides)
        return AccountContext(**values)

    # -- test controls -----------------------------------------------------------

    def fail_next(
        self,
        method: str,
        path_prefix: str,
        status: int,
        *,
        detail: str | None = None,
        code: int = 0,
        body: Any = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` matching requests with a Tumblr-shaped error (method "*" = any)."""
        if body is None:
            body = self._error_body(status, detail or _REASONS.get(status, "Error"), code)
        hdrs = dict(headers or {})
        with self._lock:
            self._failures.append(Failure(method.upper(), path_prefix, status, body, hdrs, times))

    def add_post(
        self,
        text: str,
        *,
        timestamp: int | None = None,
        media: list[dict[str, Any]] | None = None,
        likes: int | None = 0,
        reblogs: int | None = 0,
        replies: int = 0,
    ) -> str:
        """Put a published post on the main blog directly; returns its id (string)."""
        content = [{"type": "text", "text": line} for line in text.split("\n")] + list(media or [])
        with self._lock:
            post = self._new_post(content, timestamp or int(time.time()))
            self.set_notes(post["id_string"], likes=likes, reblogs=reblogs, replies=replies)
            return post["id_string"]

    def set_notes(self, post_id: str, *, likes: int | None = 0, reblogs: int | None = 0, replies: int = 0) -> None:
        """A post's notes; likes/reblogs None = leave that total out of the notes answer."""
        with self._lock:
            self._posts[str(post_id)]["_notes"] = {"likes": likes, "reblogs": reblogs, "replies": replies}

    def delete_post(self, post_id: str) -> None:
        with self._lock:
            self._posts.pop(str(post_id))
            self._deleted.add(str(post_id))

    # -- inspection ----------------------------------------------------------------

    @property
    def posts(self) -> list[dict[str, Any]]:
        """Published posts of the main blog, oldest first, as GET /posts?npf=true shows them."""
        with self._lock:
            return [self._render_post(p) for p in sorted(self._posts.values(), key=lambda p: int(p["id_string"]))]

    def requests_to(self, method: str, path_prefix: str = "") -> list[RecordedRequest]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (method == "*" or r.method == method.upper()) and r.path.startswith(path_prefix)
            ]

    def count(self, route: str) -> int:
        """Requests answered per route, e.g. count("GET /v2/blog/:blog/notes")."""
        with self._lock:
            return self.counts[route]

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()
            self.counts.clear()

    # -- JSON shapes ------------------------------------------------------------------

    def _blog_record(self, name: str, uuid: str, *, primary: bool) -> dict[str, Any]:
        record = {
            "name": name,
            "title": f"{name.replace('-', ' ').title()}",
            "url": f"https://{name}.tumblr.com/",
            "uuid": uuid,
            "primary": primary,
            "followers": self.followers if primary else 3,
            "tweet": "N",
            "type": "public",
        }
        if primary and not self.followers_in_user_info:
            del record["followers"]
        return record

    def _blog_info(self) -> dict[str, Any]:
        blog = {
            "title": self.blogs[0]["title"],
            "posts": len(self._posts),
            "name": self.blog_name,
            "url": self.blogs[0]["url"],
            "uuid": self.blog_uuid,
            "updated": max((p["timestamp"] for p in self._posts.values()), default=0),
            "description": "",
            "ask": False,
        }
        if self.followers_in_info:
            blog["followers"] = self.followers
        return blog

    def _new_post(self, content: list[dict[str, Any]], timestamp: int) -> dict[str, Any]:
        self._next_id += 1 + next(self._seq) % 7
        pid = str(self._next_id)
        first = next((b.get("text", "") for b in content if b.get("type") == "text"), "")
        slug = re.sub(r"[^a-z0-9]+", "-", first.lower()).strip("-")[:40]
        post = {
            "id_string": pid,
            "content": content,
            "timestamp": timestamp,
            "slug": slug,
            "_notes": {"likes": 0, "reblogs": 0, "replies": 0},
        }
        self._posts[pid] = post
        return post

    def _render_post(self, p: dict[str, Any]) -> dict[str, Any]:
        notes = p["_notes"]
        stamp = p["timestamp"]
        return {
            "type": "blocks",
            "is_blocks_post_format": True,
            "blog_name": self.blog_name,
            "blog": {
                "name": self.blog_name,
                "title": self.blogs[0]["title"],
                "url": self.blogs[0]["url"],
                "uuid": self.blog_uuid,
                "updated": stamp,
            },
            "id": int(p["id_string"]),
            "id_string": p["id_string"],
            "post_url": f"https://{self.blog_name}.tumblr.com/post/{p['id_string']}/{p['slug']}".rstrip("/"),
            "slug": p["slug"],
            "date": datetime.fromtimestamp(stamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S GMT"),
            "timestamp": stamp,
            "state": "published",
            "format": "html",
            "reblog_key": "PSjcRRAS",
            "tags": [],
            "short_url": f"https://tmblr.co/Z{p['id_string'][-8:]}",
            "summary": next((b.get("text", "") for b in p["content"] if b.get("type") == "text"), ""),
            "note_count": (notes["likes"] or 0) + (notes["reblogs"] or 0) + notes["replies"],
            "content": p["content"],
            "layout": [],
            "trail": [],
        }

    def _notes_json(self, p: dict[str, Any], mode: str) -> dict[str, Any]:
        n = p["_notes"]
        base = {
            "blog_name": "fan",
            "blog_uuid": "t:fan",
            "blog_url": "https://fan.tumblr.com/",
            "followed": False,
            "avatar_shape": "square",
        }
        replies = [
            {**base, "type": "reply", "timestamp": p["timestamp"] + 60 + i, "reply_text": f"reply {i}"}
            for i in range(n["replies"])
        ]
        likes = [{**base, "type": "like", "timestamp": p["timestamp"] + 30} for _ in range(n["likes"] or 0)]
        reblogs = [
            {
                **base,
                "type": "reblog",
                "timestamp": p["timestamp"] + 40,
                "post_id": "1",
                "reblog_parent_blog_name": self.blog_name,
            }
            for _ in range(n["reblogs"] or 0)
        ]
        if mode == "conversation":
            listed, rollup = replies, likes + reblogs
        else:
            listed, rollup = replies + likes + reblogs, []
        out: dict[str, Any] = {"notes": listed[:NOTES_PAGE], "total_notes": len(listed)}
        if mode == "conversation":
            out["rollup_notes"] = rollup[:NOTES_PAGE]
            if n["likes"] is not None:
                out["total_likes"] = n["likes"]
            if n["reblogs"] is not None:
                out["total_reblogs"] = n["reblogs"]
        if len(listed) > NOTES_PAGE:
            out["_links"] = {
                "next": {
                    "type": "api",
                    "method": "GET",
                    "href": f"/v2/blog/{self.blog_name}/notes?id={p['id_string']}&mode={mode}",
                    "query_params": {"mode": mode, "before_timestamp": str(listed[NOTES_PAGE - 1]["timestamp"])},
                }
            }
        return out

    def _error_body(self, status: int, detail: str, code: int = 0) -> dict[str, Any]:
        reason = _REASONS.get(status, "Error")
        return {
            "meta": {"status": status, "msg": reason},
            "response": [],
            "errors": [{"title": reason, "code": code, "detail": detail}],
        }

    # -- HTTP --------------------------------------------------------------------------

    def _ratelimit_headers(self) -> dict[str, str]:
        return {
            "X-Ratelimit-Perday-Limit": "5000",
            "X-Ratelimit-Perday-Remaining": "4990",
            "X-Ratelimit-Perday-Reset": "40000",
            "X-Ratelimit-Perhour-Limit": "1000",
            "X-Ratelimit-Perhour-Remaining": "990",
            "X-Ratelimit-Perhour-Reset": "1800",
        }

    def _json(self, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        hdrs = self._ratelimit_headers()
        hdrs.update(headers or {})
        return Response(
            jsonlib.dumps(payload), status=status, headers=hdrs, content_type="application/json; charset=utf-8"
        )

    def _ok(self, response: Any, status: int = 200) -> Response:
        return self._json({"meta": {"status": status, "msg": _REASONS[status]}, "response": response}, status)

    def _error(self, status: int, detail: str, code: int = 0) -> Response:
        return self._json(self._error_body(status, detail, code), status)

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
        return self._record_request(request, parts=_multipart)

    def _injected(self, req: RecordedRequest) -> Response | None:
        with self._lock:
            failure = self._take_failure(req.method, req.path)
            if failure is None:
                return None
            self.counts[f"{req.method} {req.path} (injected {failure.status})"] += 1
        return self._json(failure.json, failure.status, failure.headers)

    def _route(self, request: Request, req: RecordedRequest) -> Response:
        method, path = request.method, request.path.rstrip("/")

        def hit(route: str) -> None:
            with self._lock:
                self.counts[route] += 1

        if method == "GET" and path == "/oauth2/authorize":
            hit("GET /oauth2/authorize")
            return self.oauth.authorize(request)
        if method == "POST" and path == "/v2/oauth2/token" and req.param("grant_type") == "authorization_code":
            hit("POST /v2/oauth2/token (code)")
            with self._lock:
                return self.oauth.token(request)
        if method == "POST" and path == "/v2/oauth2/token":
            hit("POST /v2/oauth2/token")
            with self._lock:
                return self._token(req)
        api_key = req.query.get("api_key", [None])[0]
        if req.bearer != self.access_token or (api_key is not None and api_key != self.client_id):
            hit(f"{method} {path} (401)")
            # The body tumblr/docs#72 quotes for a refused authorization.
            return self._error(401, "Unable to authorize", 1016)
        if method == "GET" and path == "/v2/user/info":
            hit("GET /v2/user/info")
            with self._lock:
                return self._ok(
                    {
                        "user": {
                            "following": 12,
                            "default_post_format": "html",
                            "name": self.user_name,
                            "likes": 40,
                            "blogs": [dict(b) for b in self.blogs],
                        }
                    }
                )
        m = re.fullmatch(r"/v2/blog/([^/]+)/(.+)", path)
        if not m:
            hit(f"{method} {path}")
            return self._error(404, "Not Found")
        blog, tail = m.group(1), m.group(2)
        routes = {
            ("GET", "info"): self._get_info,
            ("GET", "followers"): self._get_followers,
            ("GET", "posts"): self._get_posts,
            ("POST", "posts"): self._create_post,
            ("POST", "post/delete"): self._delete_post,
            ("GET", "notes"): self._get_notes,
        }
        handler = routes.get((method, tail))
        hit(f"{method} /v2/blog/:blog/{tail}")
        if handler is None:
            return self._error(404, "Not Found")
        with self._lock:
            if blog not in (self.blog_name, f"{self.blog_name}.tumblr.com", self.blog_uuid):
                return self._error(404, "Blog not found", 0)
            return handler(req)

    # -- handlers (lock held) ---------------------------------------------------------

    def _issue_from_code(self, client: Any, scopes: list[str]) -> dict[str, Any]:
        n = next(self._seq)
        self.access_token = f"fake-tumblr-access-{n}-fromcode"
        self.refresh_token = f"fake-tumblr-refresh-{n}-fromcode"
        self.issued_tokens.append((self.access_token, self.refresh_token))
        return {
            "access_token": self.access_token,
            "expires_in": self.expires_in,
            "id_token": False,
            "refresh_token": self.refresh_token,
            "scope": " ".join(scopes),
            "token_type": "bearer",
        }

    def _token(self, req: RecordedRequest) -> Response:
        if self.refresh_fails_with is not None:
            status, body = self.refresh_fails_with
            return self._json(body, status)
        if req.param("grant_type") != "refresh_token":
            return self._json(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "The authorization grant type is not supported.",
                },
                400,
            )
        if req.param("client_id") != self.client_id or req.param("client_secret") != self.client_secret:
            return self._json({"error": "invalid_client", "error_description": "Client authentication failed"}, 401)
        if req.param("refresh_token") != self.refresh_token:
            return self._json({"error": "invalid_grant", "error_description": "The refresh token is invalid."}, 400)
        n = next(self._seq)
        self.access_token = f"fake-tumblr-access-{n}-abcdef"
        self.refresh_token = f"fake-tumblr-refresh-{n}-abcdef"
        self.issued_tokens.append((self.access_token, self.refresh_token))
        return self._json(
            {
                "access_token": self.access_token,
                "expires_in": self.expires_in,
                "id_token": False,
                "refresh_token": self.refresh_token,
                "scope": "basic write offline_access",
                "token_type": "bearer",
            }
        )

    def _get_info(self, req: RecordedRequest) -> Response:
        return self._ok({"blog": self._blog_info()})

    def _get_followers(self, req: RecordedRequest) -> Response:
        limit = int(req.param("limit") or 20)
        users = [
            {"name": f"fan{i}", "following": False, "url": f"https://fan{i}.tumblr.com/", "updated": 1308781073}
            for i in range(min(limit, self.followers, 20))
        ]
        return self._ok({"total_users": self.followers, "users": users})

    def _get_posts(self, req: RecordedRequest) -> Response:
        pid = req.param("id")
        if pid is not None:
            post = self._posts.get(str(pid))
            if post is None:
                return self._error(404, "Post not found", 0)
            return self._ok({"blog": self._blog_info(), "posts": [self._render_post(post)], "total_posts": 1})
        limit = max(1, min(20, int(req.param("limit") or 20)))
        offset = int(req.param("offset") or 0)
        ordered = sorted(self._posts.values(), key=lambda p: (p["timestamp"], int(p["id_string"])), reverse=True)
        page = ordered[offset : offset + limit]
        return self._ok(
            {"blog": self._blog_info(), "posts": [self._render_post(p) for p in page], "total_posts": len(ordered)}
        )

    def _create_post(self, req: RecordedRequest) -> Response:
        body = req.npf
        if not isinstance(body, dict) or not isinstance(body.get("content"), list):
            return self._error(400, "'content' must be an array'", 8001)
        files = {p.name: p for p in req.parts if p.filename is not None}
        content = []
        for block in body["content"]:
            kind = block.get("type") if isinstance(block, dict) else None
            if kind == "text":
                if not isinstance(block.get("text"), str) or len(block["text"]) > 4096:
                    return self._error(400, "Text block is invalid or too long", 8001)
                content.append({"type": "text", "text": block["text"]})
            elif kind in ("image", "video"):
                media = block.get("media")
                media_list = media if kind == "image" else [media]
                if kind == "image" and not isinstance(media, list):
                    return self._error(400, "Image media must be an array", 8001)
                rendered = []
                for obj in media_list:
                    ident = obj.get("identifier") if isinstance(obj, dict) else None
                    part = files.get(ident or "")
                    allowed = IMAGE_TYPES if kind == "image" else VIDEO_TYPES
                    if part is None or part.content_type not in allowed:
                        return self._error(400, "Uploaded media is an invalid format", 8005)
                    rendered.append(
                        {
                            "type": part.content_type,
                            "url": f"https://64.media.tumblr.com/{ident}",
                            "width": obj.get("width", 540),
                            "height": obj.get("height", 405),
                        }
                    )
                if kind == "image":
                    out = {"type": "image", "media": rendered}
                    if block.get("alt_text"):
                        out["alt_text"] = block["alt_text"]
                else:
                    out = {"type": "video", "provider": "tumblr", "media": rendered[0]}
                content.append(out)
            else:
                return self._error(400, f"Unknown block type {kind!r}", 8001)
        # Tumblr trims empty text blocks at the edges.
        while content and content[0] == {"type": "text", "text": ""}:
            content.pop(0)
        while content and content[-1] == {"type": "text", "text": ""}:
            content.pop()
        post = self._new_post(content, int(time.time()))
        return self._ok({"id": post["id_string"]}, 201)

    def _delete_post(self, req: RecordedRequest) -> Response:
        pid = str(req.param("id") or "")
        if pid not in self._posts:
            return self._error(404, "Post not found", 0)
        self._posts.pop(pid)
        self._deleted.add(pid)
        return self._ok({"id": pid})

    def _get_notes(self, req: RecordedRequest) -> Response:
        post = self._posts.get(str(req.param("id") or ""))
        if post is None:
            return self._error(404, "Post not found", 0)
        return self._ok(self._notes_json(post, req.param("mode") or "all"))


def _multipart(body: bytes, boundary: str) -> list[Part]:
    """Every part of a multipart/form-data body, headers included."""
    from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

    decoder = MultipartDecoder(boundary.encode())
    decoder.receive_data(body)
    decoder.receive_data(None)
    parts: list[Part] = []
    current: Part | None = None
    while True:
        event = decoder.next_event()
        if isinstance(event, (NeedData, Epilogue)):
            break
        if isinstance(event, (Field, File)):
            current = Part(
                name=event.name,
                filename=event.filename if isinstance(event, File) else None,
                content_type=event.headers.get("Content-Type"),
                data=b"",
            )
            parts.append(current)
        elif isinstance(event, Data) and current is not None:
            current.data += event.data
    return parts


@pytest.fixture
def fake_tumblr() -> Any:
    with FakeTumblr() as server:
        yield server
