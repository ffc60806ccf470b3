"""A stateful fake of the Meta Threads API (graph.threads.net) on a real loopback socket.

It speaks the wire format of the Threads docs (developers.facebook.com/docs/threads):

- GET  /v1.0/me?fields=id,username,name,...                         (threads-profiles)
- GET  /access_token?grant_type=th_exchange_token&client_secret=...  and
  GET  /refresh_access_token?grant_type=th_refresh_token              (get-started/long-lived-tokens)
  -> {"access_token", "token_type": "bearer", "expires_in": 5183944}. Both live
  outside /v1.0: /v1.0/access_token answers code 100 "Unsupported request - method
  type: get" (the answer reported in restfb/restfb#1450).
- POST /v1.0/{user}/threads  media_type=TEXT|IMAGE|VIDEO|CAROUSEL, text, image_url,
  video_url, alt_text, is_carousel_item, children -> {"id"}     (posts)
- GET  /v1.0/{container}?fields=status,error_message -> {"status", "id"[, "error_message"]}
  IN_PROGRESS | FINISHED | PUBLISHED | ERROR | EXPIRED          (troubleshooting; an
  ERROR comes with HTTP 200, restfb/restfb#1591)
- POST /v1.0/{user}/threads_publish  creation_id -> {"id"}     (posts)
- GET  /v1.0/{user}/threads_publishing_limit?fields=quota_usage,config
  -> {"data": [{"quota_usage": 4, "config": {"quota_total": 250, "quota_duration": 86400}}]}  (overview)
- GET  /v1.0/{media}?fields=...; GET /v1.0/{user}/threads?fields&since&until&limit&after
  -> {"data": [...], "paging": {"cursors": {"before", "after"}, "next"}}  (threads-media)
- DELETE /v1.0/{media} -> {"success": true, "deleted_id": "..."}  (posts/delete-posts)
- GET  /v1.0/{media}/insights?metric=... -> {"data": [{"name", "period": "lifetime",
  "values": [{"value"}], "title", "description", "id"}]}        (insights)
- GET  /v1.0/{user}/threads_insights?metric=... -> "views" as daily `values` with
  end_time, "clicks" as `link_total_values`, the rest as `total_value` (insights, and
  Meta's own sample app fbsamples/threads_api reads them this way).
- errors: {"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}:
  an unknown or deleted object is code 100 subcode 33 "Unsupported get request.
  Object with ID '...' does not exist, ..." (THApiException, restfb/restfb#1502); a
  bad token is code 190 (OAuthException).

Not in the docs, so chosen here (and named in docs/platforms/threads.md): the
HTTP status of errors (400), what refusing a refresh or an exchange looks like
(code 190 / code 1), and the rate-limit header (X-Business-Use-Case-Usage, as
for the Graph API).

    with FakeThreads() as server:
        ctx = server.account_context()
        server.container_polls = 2                      # IN_PROGRESS twice
        server.fail_next("GET", "/v1.0/me", 400, json=..., headers=...)
        server.requests_to("POST", "/v1.0/")            # what the adapter sent
"""

from __future__ import annotations

import base64
import itertools
import json as jsonlib
import re
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import pytest
from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from fakes.loopback import Delay, Failure, LoopbackServer, RecordedRequest
from fakes.oauth_server import AuthorizationServer

DEFAULT_TOKEN = "THAAfakeLongLivedToken0123456789"
DEFAULT_APP_SECRET = "fake-threads-app-secret-42"
LONG_LIVED_SECONDS = 5183944  # the docs' example expires_in
MEDIA_METRICS = ("views", "likes", "replies", "reposts", "quotes", "shares")
USER_METRICS = ("views", "likes", "replies", "reposts", "quotes", "clicks", "followers_count", "follower_demographics")


def _ts(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _emoji_aware_length(text: str) -> int:
    import regex

    total = 0
    for cluster in regex.findall(r"\X", text):
        if regex.search(r"[\p{Extended_Pictographic}\p{Regional_Indicator}]", cluster):
            total += len(cluster.encode("utf-8"))
        else:
            total += len(cluster)
    return total


class FakeThreads(LoopbackServer):
    """One Threads profile and its app, served on 127.0.0.1:<random port>."""

    thread_name = "fake-threads"

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        app_secret: str = DEFAULT_APP_SECRET,
        user_id: str = "17841400000000001",
        username: str = "threadsapitestuser",
        name: str = "Threads Tester",
        followers_count: int | None = 1234,
        version: str = "v1.0",
    ) -> None:
        self.app_secret = app_secret
        self.user_id = user_id
        self.username = username
        self.name = name
        self.followers_count = followers_count
        self.version = version
        # token -> {"kind": "short" | "long"}
        self.tokens: dict[str, dict[str, Any]] = {token: {"kind": "long"}}
        self.token = token
        # A refresh needs a long-lived token at least 24 hours old; False = refuse.
        self.refresh_allowed = True
        # Containers answer IN_PROGRESS this many times, then `container_outcome`.
        self.container_polls = 0
        self.container_outcome = "FINISHED"
        self.container_error = "FAILED_DOWNLOADING_VIDEO"
        self.quota_usage = 0
        self.quota_total = 250
        # Profile insights (None = not reported).
        self.profile_views: list[int] = [7, 5]
        self.user_totals: dict[str, int | None] = {"likes": 40, "replies": 6, "reposts": 3, "quotes": 1}
        self.clicks: list[dict[str, Any]] | None = [{"value": 2, "link_url": "https://example.com/"}]

        self.requests: list[RecordedRequest] = []
        self.counts: Counter[str] = Counter()
        self.containers: dict[str, dict[str, Any]] = {}
        self.posts: dict[str, dict[str, Any]] = {}
        self.deleted: set[str] = set()
        self._failures: list[Failure] = []
        self._delays: list[Delay] = []
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._container_seq = itertools.count(17900000000000001)
        self._media_seq = itertools.count(18000000000000001)
        self._token_seq = itertools.count(1)
        # Sign-in (developers.facebook.com/docs/threads/get-started/get-access-tokens-and-permissions):
        # the dialog at threads.net/oauth/authorize (served here) redirects with ?code=&state=;
        # POST /oauth/access_token (client_id, client_secret, grant_type=authorization_code,
        # redirect_uri, code) -> {"access_token": <short-lived>, "user_id": ...}. The app's client
        # id is registered with `self.oauth.add_client(app_id, self.app_secret, [redirect], scopes)`.
        self.oauth = AuthorizationServer(
            issue_token=self._issue_short_token, scope_separator=",", token_error=self._oauth_error
        )

    def account_context(self, **overrides: Any) -> Any:
        """An AccountContext for this profile as `accounts add` leaves it (token included)."""
        from postcli.platforms.base import AccountContext

        values: dict[str, Any] = {
            "platform": "threads",
            "api_base_url": self.url,
            "external_id": self.user_id,
            "handle": self.username,
            "settings": {"user_id": self.user_id, "api_version": self.version},
            "secrets": {"access_token": self.token},
            "timeout": 5.0,
        }
        values.update(overrides)
        return AccountContext(**values)

    # -- test controls -----------------------------------------------------------

    def add_token(self, token: str, kind: str = "long") -> None:
        with self._lock:
            self.tokens[token] = {"kind": kind}

    def revoke_token(self, token: str | None = None) -> None:
        with self._lock:
            if token is None:
                self.tokens.clear()
            else:
                self.tokens.pop(token, None)

    def fail_next(
        self,
        method: str,
        path_prefix: str,
        status: int,
        json: Any = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` matching requests with `status` and a Graph error body."""
        if json is None:
            json = {
                "error": {
                    "message": "An unknown error has occurred.",
                    "type": "OAuthException",
                    "code": 1,
                    "is_transient": True,
                    "fbtrace_id": "FakeTrace",
                }
            }
        with self._lock:
            self._failures.append(Failure(method.upper(), path_prefix, status, json, dict(headers or {}), times))

    def add_post(
        self,
        text: str | None,
        *,
        created_at: datetime | None = None,
        media_type: str = "TEXT_POST",
        insights: dict[str, int] | None = None,
    ) -> dict[str, Any]:
        """A thread on the profile (as if posted earlier, or in the app); returns its JSON."""
        with self._lock:
            post = self._new_post(text, media_type, created_at or datetime.now(timezone.utc))
            post["_insights"] = dict(insights or {})
            return self._render(post, MEDIA_FIELDS_ALL)

    def set_insights(self, media_id: str, **metrics: int) -> None:
        """Media insights the API reports for a post; metrics left out are not reported."""
        with self._lock:
            self.posts[str(media_id)]["_insights"] = dict(metrics)

    def delete_post(self, media_id: str) -> None:
        with self._lock:
            self.posts.pop(str(media_id))
            self.deleted.add(str(media_id))

    def requests_to(self, method: str, path_prefix: str = "") -> list[RecordedRequest]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (method == "*" or r.method == method.upper()) and r.path.startswith(path_prefix)
            ]

    def calls(self, method: str, path: str) -> list[RecordedRequest]:
        """Requests to exactly `path` (requests_to matches a prefix)."""
        with self._lock:
            return [r for r in self.requests if r.method == method.upper() and r.path == path]

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()
            self.counts.clear()

    @property
    def published(self) -> list[dict[str, Any]]:
        """Posts published through the API, oldest first."""
        with self._lock:
            return [self._render(p, MEDIA_FIELDS_ALL) for p in self.posts.values() if p.get("_via_api")]

    # -- JSON shapes ----------------------------------------------------------------

    def _error(
        self,
        status: int,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        type_: str = "THApiException",
        headers: dict[str, str] | None = None,
    ) -> Response:
        err: dict[str, Any] = {"message": message, "type": type_, "code": code, "fbtrace_id": "AbCdEfFakeTrace"}
        if subcode is not None:
            err["error_subcode"] = subcode
        return self._json({"error": err}, status, headers)

    def _not_found(self, object_id: str) -> Response:
        return self._error(
            400,
            100,
            f"Unsupported get request. Object with ID '{object_id}' does not exist, "
            "cannot be loaded due to missing permissions, or does not support this "
            "operation",
            subcode=33,
        )

    def _json(self, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(
            jsonlib.dumps(payload), status=status, headers=headers or {}, content_type="application/json; charset=UTF-8"
        )

    def _new_post(self, text: str | None, media_type: str, created: datetime) -> dict[str, Any]:
        media_id = str(next(self._media_seq))
        shortcode = base64.urlsafe_b64encode(int(media_id).to_bytes(8, "big")).decode().rstrip("=")
        post = {
            "id": media_id,
            "media_product_type": "THREADS",
            "media_type": media_type,
            "permalink": f"https://www.threads.net/@{self.username}/post/{shortcode}",
            "owner": {"id": self.user_id},
            "username": self.username,
            "text": text,
            "timestamp": _ts(created),
            "shortcode": shortcode,
            "is_quote_post": False,
            "_created": created,
            "_insights": {},
        }
        self.posts[media_id] = post
        return post

    def _render(self, post: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        out = {"id": post["id"]}
        for name in fields:
            if name in post and not name.startswith("_") and post[name] is not None:
                out[name] = post[name]
        return out

    # -- HTTP -----------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            query={k: request.args.getlist(k) for k in request.args.keys()},
            form={k: request.form.getlist(k) for k in request.form.keys()},
            headers=Headers(list(request.headers.items())),
            request=request,
        )
        self._remember(recorded)
        self._maybe_delay(recorded)
        try:
            response = self._injected(recorded) or self._route(recorded)
        except Exception as exc:  # a fake bug must show up loudly
            response = self._error(500, 2, f"fake server error: {type(exc).__name__}: {exc}")
        recorded.status = response.status_code
        return response(environ, start_response)

    def _injected(self, req: RecordedRequest) -> Response | None:
        f = self._take_failure(req.method, req.path)
        return None if f is None else self._json(f.json, f.status, f.headers)

    def _route(self, req: RecordedRequest) -> Response:
        path = req.path.rstrip("/")
        with self._lock:
            self.counts[f"{req.method} {path}"] += 1
            token = req.param("access_token")
            if (req.method, path) == ("GET", "/oauth/authorize"):
                return self.oauth.authorize(req.request)
            if (req.method, path) == ("POST", "/oauth/access_token"):
                return self.oauth.token(req.request)
            if path in ("/access_token", "/refresh_access_token"):
                return self._token_endpoint(req, path, token)
            prefix = f"/{self.version}/"
            if not path.startswith(prefix):
                return self._error(400, 100, f"Unknown path components: {path}", type_="OAuthException")
            parts = path[len(prefix) :].split("/")
            if parts == ["access_token"] or parts == ["refresh_access_token"]:
                return self._error(400, 100, "Unsupported request - method type: get")
            if token not in self.tokens:
                return self._error(
                    400, 190, "Invalid OAuth access token - Cannot parse access token", type_="OAuthException"
                )
            if parts[0] == "me":
                parts[0] = self.user_id
            return self._graph(req, parts)

    def _issue_short_token(self, client: Any, scopes: list[str]) -> dict[str, Any]:
        new = f"THQVJfakeShort{next(self._token_seq):04d}Token"
        self.add_token(new, kind="short")
        return {"access_token": new, "user_id": int(self.user_id)}

    def _oauth_error(self, status: int, error: str, description: str) -> Response:
        # Graph-style errors (chosen here, the docs show none): a bad secret is code 1, a bad
        # or reused code or another redirect_uri code 100 (subcode 36008 for the redirect).
        if error == "invalid_client":
            return self._error(400, 1, "Error validating client secret.", type_="OAuthException")
        if "redirect" in description:
            return self._error(
                400,
                100,
                "Error validating verification code. Please make sure your "
                "redirect_uri is identical to the one you used in the OAuth dialog request",
                type_="OAuthException",
                subcode=36008,
            )
        return self._error(400, 100, "This authorization code has been used.", type_="OAuthException", subcode=36009)

    def _token_endpoint(self, req: RecordedRequest, path: str, token: str | None) -> Response:
        grant = req.param("grant_type")
        info = self.tokens.get(token or "")
        if info is None:
            return self._error(
                400, 190, "Invalid OAuth access token - Cannot parse access token", type_="OAuthException"
            )
        if path == "/access_token":
            if grant != "th_exchange_token":
                return self._error(400, 100, "Invalid grant_type", type_="OAuthException")
            if req.param("client_secret") != self.app_secret:
                return self._error(400, 1, "Error validating client secret.", type_="OAuthException")
            if info["kind"] != "short":
                return self._error(400, 190, "Cannot exchange a long-lived access token", type_="OAuthException")
        else:
            if grant != "th_refresh_token":
                return self._error(400, 100, "Invalid grant_type", type_="OAuthException")
            if info["kind"] != "long" or not self.refresh_allowed:
                return self._error(
                    400,
                    190,
                    "Error validating access token: the token cannot be refreshed",
                    type_="OAuthException",
                    subcode=463,
                )
        new = f"THAAfakeIssued{next(self._token_seq):04d}Token"
        self.tokens[new] = {"kind": "long"}
        return self._json({"access_token": new, "token_type": "bearer", "expires_in": LONG_LIVED_SECONDS})

    def _graph(self, req: RecordedRequest, parts: list[str]) -> Response:
        method = req.method
        if parts[0] == self.user_id and len(parts) == 1 and method == "GET":
            return self._json(
                {
                    "id": self.user_id,
                    "username": self.username,
                    "name": self.name,
                    "threads_profile_picture_url": f"{self.url}/pic.jpg",
                    "threads_biography": "Testing the Threads API",
                }
            )
        if parts[0] == self.user_id and len(parts) == 2:
            edge = parts[1]
            if edge == "threads" and method == "POST":
                return self._create_container(req)
            if edge == "threads" and method == "GET":
                return self._list_threads(req)
            if edge == "replies" and method == "GET":
                return self._list_threads(req, replies=True)
            if edge == "threads_publish" and method == "POST":
                return self._publish(req)
            if edge == "threads_publishing_limit" and method == "GET":
                return self._json(
                    {
                        "data": [
                            {
                                "quota_usage": self.quota_usage,
                                "config": {"quota_total": self.quota_total, "quota_duration": 86400},
                            }
                        ]
                    }
                )
            if edge == "threads_insights" and method == "GET":
                return self._user_insights(req)
        object_id = parts[0]
        if len(parts) == 2 and parts[1] == "insights" and method == "GET":
            return self._media_insights(req, object_id)
        if len(parts) == 1 and object_id in self.containers and method == "GET":
            return self._container_status(object_id)
        if len(parts) == 1 and method == "GET":
            post = self.posts.get(object_id)
            if post is None:
                return self._not_found(object_id)
            return self._json(self._render(post, (req.param("fields") or "id").split(",")))
        if len(parts) == 1 and method == "DELETE":
            if object_id not in self.posts:
                return self._not_found(object_id)
            self.delete_post(object_id)
            return self._json({"success": True, "deleted_id": object_id})
        return self._error(400, 100, f"Unsupported {method.lower()} request.")

    def _create_container(self, req: RecordedRequest) -> Response:
        media_type = (req.param("media_type") or "").upper()
        text = req.param("text")
        carousel_item = (req.param("is_carousel_item") or "false").lower() == "true"
        if text is not None and _emoji_aware_length(text) > 500:
            return self._error(400, 100, "Param text must be at most 500 characters long.")
        if text and len(set(re.findall(r"https?://\S+", text))) > 5:
            return self._error(400, 100, "THREADS_API__LINK_LIMIT_EXCEEDED")
        reply_to = req.param("reply_to_id")
        # create-replies: reply_to_id names the post replied to (the profile's own thread here).
        if reply_to and reply_to not in self.posts:
            return self._error(400, 100, f"Param reply_to_id {reply_to} is not a valid media id.")
        container: dict[str, Any] = {
            "reply_to_id": reply_to,
            "media_type": media_type,
            "text": text,
            "is_carousel_item": carousel_item,
            "alt_text": req.param("alt_text"),
            "_polls": self.container_polls,
            "_outcome": self.container_outcome,
            "_published": None,
        }
        if media_type == "TEXT":
            if not text:
                return self._error(400, 100, "Param text is required for media_type TEXT.")
        elif media_type == "IMAGE":
            if not req.param("image_url"):
                return self._error(400, 100, "Param image_url is required for media_type IMAGE.")
            container["image_url"] = req.param("image_url")
        elif media_type == "VIDEO":
            if not req.param("video_url"):
                return self._error(400, 100, "Param video_url is required for media_type VIDEO.")
            container["video_url"] = req.param("video_url")
        elif media_type == "CAROUSEL":
            children = [c for c in (req.param("children") or "").split(",") if c]
            if not 2 <= len(children) <= 20:
                return self._error(400, 100, "A carousel needs 2 to 20 children.")
            for child in children:
                item = self.containers.get(child)
                if item is None or not item["is_carousel_item"] or self._status(child) != "FINISHED":
                    return self._error(400, 100, f"Invalid carousel child {child}.")
            container["children"] = children
        else:
            return self._error(400, 100, "Param media_type must be one of {TEXT, IMAGE, VIDEO, CAROUSEL}.")
        container_id = str(next(self._container_seq))
        self.containers[container_id] = container
        return self._json({"id": container_id})

    def _status(self, container_id: str) -> str:
        c = self.containers[container_id]
        if c["_published"]:
            return "PUBLISHED"
        return "IN_PROGRESS" if c["_polls"] > 0 else c["_outcome"]

    def _container_status(self, container_id: str) -> Response:
        c = self.containers[container_id]
        status = self._status(container_id)
        if c["_polls"] > 0:
            c["_polls"] -= 1
        body: dict[str, Any] = {"status": status, "id": container_id}
        if status == "ERROR":
            body["error_message"] = self.container_error
        return self._json(body)

    def _publish(self, req: RecordedRequest) -> Response:
        creation_id = req.param("creation_id") or ""
        c = self.containers.get(creation_id)
        if c is None:
            return self._not_found(creation_id)
        if c["is_carousel_item"]:
            return self._error(400, 100, "A carousel item cannot be published on its own.")
        if self.quota_usage >= self.quota_total:
            return self._error(400, 4, "The profile has reached its limit of API-published posts for 24 hours.")
        if c["_published"]:
            return self._error(400, 100, "The media container has already been published.")
        if self._status(creation_id) != "FINISHED":
            return self._error(
                400, 24, "The media is not ready for publishing, please wait for a moment", subcode=4279009
            )
        kind = {"TEXT": "TEXT_POST", "IMAGE": "IMAGE", "VIDEO": "VIDEO", "CAROUSEL": "CAROUSEL_ALBUM"}[c["media_type"]]
        post = self._new_post(c["text"], kind, datetime.now(timezone.utc))
        post["_via_api"] = True
        if c.get("reply_to_id"):
            # Reply fields (retrieve-and-manage-replies): the parent as `replied_to`, `is_reply`.
            post["replied_to"] = {"id": c["reply_to_id"]}
            post["root_post"] = {"id": self.posts[c["reply_to_id"]].get("root_post", {"id": c["reply_to_id"]})["id"]}
            post["is_reply"] = True
        post["_container"] = dict(c)
        if "children" in c:
            post["_children"] = [dict(self.containers[ch]) for ch in c["children"]]
        c["_published"] = post["id"]
        self.quota_usage += 1
        return self._json({"id": post["id"]})

    def _list_threads(self, req: RecordedRequest, replies: bool = False) -> Response:
        """GET /{user}/threads (the profile's threads) or /{user}/replies (its replies: the
        retrieve-and-manage-replies docs' "a list of all of a user's replies")."""
        fields = (req.param("fields") or "id").split(",")
        limit = min(max(int(req.param("limit") or 25), 1), 100)
        posts = sorted(self.posts.values(), key=lambda p: (p["_created"], p["id"]), reverse=True)
        posts = [p for p in posts if bool(p.get("is_reply")) == replies]
        since = req.param("since")
        if since:
            floor = datetime.fromtimestamp(int(since), timezone.utc)
            posts = [p for p in posts if p["_created"] >= floor]
        until = req.param("until")
        if until:
            ceiling = datetime.fromtimestamp(int(until), timezone.utc)
            posts = [p for p in posts if p["_created"] <= ceiling]
        start = int(base64.b64decode(req.param("after")).decode()) if req.param("after") else 0
        page = posts[start : start + limit]
        body: dict[str, Any] = {"data": [self._render(p, fields) for p in page]}
        if page:
            after = base64.b64encode(str(start + len(page)).encode()).decode()
            before = base64.b64encode(str(start).encode()).decode()
            body["paging"] = {"cursors": {"before": before, "after": after}}
            if start + len(page) < len(posts):
                query = {k: v[0] for k, v in req.query.items() if k != "after"}
                body["paging"]["next"] = f"{self.url}{req.path}?{urlencode({**query, 'after': after})}"
        return self._json(body)

    def _media_insights(self, req: RecordedRequest, media_id: str) -> Response:
        post = self.posts.get(media_id)
        if post is None:
            return self._not_found(media_id)
        asked = [m for m in (req.param("metric") or "").split(",") if m]
        bad = [m for m in asked if m not in MEDIA_METRICS]
        if not asked or bad:
            return self._error(400, 100, f"Param metric must be one of {{{', '.join(MEDIA_METRICS)}}}")
        data = []
        for name in asked:
            if name in post["_insights"]:
                data.append(
                    {
                        "name": name,
                        "period": "lifetime",
                        "values": [{"value": post["_insights"][name]}],
                        "title": name.capitalize(),
                        "description": f"The number of {name} on your post.",
                        "id": f"{media_id}/insights/{name}/lifetime",
                    }
                )
        return self._json({"data": data})

    def _user_insights(self, req: RecordedRequest) -> Response:
        asked = [m for m in (req.param("metric") or "").split(",") if m]
        bad = [m for m in asked if m not in USER_METRICS]
        if not asked or bad:
            return self._error(400, 100, f"Param metric must be one of {{{', '.join(USER_METRICS)}}}")
        today = datetime.now(timezone.utc).replace(hour=7, minute=0, second=0, microsecond=0)
        data = []
        for name in asked:
            item: dict[str, Any] = {
                "name": name,
                "period": "day",
                "title": name,
                "description": name,
                "id": f"{self.user_id}/insights/{name}/day",
            }
            if name == "views":
                if not self.profile_views:
                    continue
                item["values"] = [
                    {"value": v, "end_time": _ts(today - timedelta(days=len(self.profile_views) - i - 1))}
                    for i, v in enumerate(self.profile_views)
                ]
            elif name == "clicks":
                if self.clicks is None:
                    continue
                item["link_total_values"] = self.clicks
            elif name == "followers_count":
                if self.followers_count is None:
                    continue
                item["total_value"] = {"value": self.followers_count}
            else:
                if self.user_totals.get(name) is None:
                    continue
                item["total_value"] = {"value": self.user_totals[name]}
            data.append(item)
        return self._json({"data": data})


MEDIA_FIELDS_ALL = [
    "id",
    "media_product_type",
    "media_type",
    "permalink",
    "owner",
    "username",
    "text",
    "timestamp",
    "shortcode",
    "is_quote_post",
]


def usage_header(minutes: int) -> dict[str, str]:
    """X-Business-Use-Case-Usage as the Graph API sends it when a limit is hit."""
    return {
        "X-Business-Use-Case-Usage": jsonlib.dumps(
            {
                "17841400000000001": [
                    {
                        "type": "threads",
                        "call_count": 100,
                        "total_cputime": 12,
                        "total_time": 30,
                        "estimated_time_to_regain_access": minutes,
                    }
                ]
            }
        )
    }


@pytest.fixture
def fake_threads() -> Any:
    with FakeThreads() as server:
        yield server
