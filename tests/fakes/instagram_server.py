"""A stateful fake of the Instagram API with Instagram Login on a real loopback socket.

It speaks graph.instagram.com's wire format as Meta documents it (no recorded
fixtures exist for Instagram; every shape below comes from these pages):

- GET /<v>/me, GET /<v>/<IG_USER_ID>: developers.facebook.com/docs/instagram-platform/reference/me
  and .../instagram-graph-api/reference/ig-user (fields user_id, username, name,
  account_type, followers_count, follows_count, media_count; `id` is app-scoped).
- POST /<v>/<IG_USER_ID>/media, POST /<v>/<IG_USER_ID>/media_publish:
  .../instagram-platform/content-publishing (image_url + alt_text, video_url with
  media_type=REELS, carousel children with is_carousel_item=true, then
  media_type=CAROUSEL&children=...; `{"id": ...}` answers; 2 to 10 carousel items;
  9007/2207027 when a container is not ready).
- GET /<v>/<IG_CONTAINER_ID>?fields=status_code,status: .../reference/ig-container
  (EXPIRED, ERROR, FINISHED, IN_PROGRESS, PUBLISHED; `status` carries the reason on ERROR).
- GET /<v>/<IG_USER_ID>/content_publishing_limit: .../reference/ig-user/content_publishing_limit
  ({"data": [{"quota_usage": 2, "config": {"quota_total": 50, "quota_duration": 86400}}]};
  publishing past it is error 9 / subcode 2207042).
- GET /<v>/<IG_USER_ID>/media (newest first, cursor paging), GET /<v>/<IG_MEDIA_ID>:
  .../reference/instagram-media (caption, media_type, media_product_type, permalink,
  shortcode, timestamp "2017-08-31T18:10:00+0000", like_count, comments_count).
- GET /<v>/<IG_MEDIA_ID>/insights?metric=...: .../reference/instagram-media/insights
  ({"data": [{"name", "period": "lifetime", "values": [{"value"}], "title", "description", "id"}]};
  a metric without data is left out, not 0; "(#10) Not enough viewers for the media to
  show insights"; a metric a media type does not support is error 100 "The Media
  Insights API does not support the <names> metric for this media product type." — that
  text as seen in public client code, not in Meta's pages).
- GET /<v>/<IG_USER_ID>/insights?metric=reach,views,profile_views&period=day&metric_type=total_value:
  .../api-reference/instagram-user/insights ({"data": [{"name", "period", "total_value": {"value"}}]}).
- GET /access_token?grant_type=ig_exchange_token&client_secret=...&access_token=<short-lived>
  (no version): developers.facebook.com/docs/instagram-platform/reference/access_token
  ({"access_token", "token_type": "bearer", "expires_in": 5183944}); a long-lived token
  or a wrong secret is refused (the refusal's shape is this fake's choice: code 190 / code 1).
- GET /refresh_access_token?grant_type=ig_refresh_token (no version):
  .../reference/refresh_access_token ({"access_token", "token_type": "bearer", "expires_in"}).
- Errors: developers.facebook.com/docs/graph-api/guides/error-handling
  ({"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}; 190 for a bad
  or expired token, 100/33 for an object that does not exist), and the
  X-Business-Use-Case-Usage header on every answer.

Which metric each kind of media supports is this fake's model (a carousel refuses
`views`, as reported by client code in the wild); the adapter must cope with any.

    with FakeInstagram() as server:
        ctx = server.account_context()
        server.set_container_statuses(["IN_PROGRESS", "FINISHED"])
        server.requests_to("POST", "/media")
"""

from __future__ import annotations

import itertools
import json as jsonlib
import re
import threading
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

import pytest
from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from fakes.loopback import Delay, Failure, LoopbackServer, RecordedRequest
from fakes.oauth_server import AuthorizationServer

DEFAULT_TOKEN = "IGAAfake-long-lived-token-0123456789abcdef"
USER_ID = "17841400000000001"
APP_SCOPED_ID = "25900000000000001"
JPEG_MAGIC = b"\xff\xd8\xff"

# metric -> the (media_product_type, media_type) pairs that support it (this fake's model).
_ALL = {("FEED", "IMAGE"), ("FEED", "CAROUSEL_ALBUM"), ("REELS", "VIDEO")}
SUPPORTED_METRICS = {
    "views": {("FEED", "IMAGE"), ("REELS", "VIDEO")},
    "reach": _ALL,
    "likes": _ALL,
    "comments": _ALL,
    "shares": _ALL,
    "saved": _ALL,
    "total_interactions": _ALL,
    "profile_visits": {("FEED", "IMAGE")},
}
ACCOUNT_METRICS = {"reach", "views", "profile_views", "accounts_engaged", "total_interactions"}


def graph_time(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


class FakeInstagram(LoopbackServer):
    """One Instagram professional account, served on 127.0.0.1:<random port>."""

    thread_name = "fake-instagram"

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        username: str = "postcli.test",
        name: str = "Postcli Test",
        followers_count: int = 1200,
        follows_count: int = 80,
        quota_total: int = 100,
        app_secret: str = "fake-instagram-app-secret-7",
    ) -> None:
        self.token = token
        self.valid_tokens = {token}
        self.expired_tokens: set[str] = set()
        self.refused_refresh = False  # refresh_access_token answers an error
        self.refresh_expires_in = 5183944  # ~60 days, like Meta's examples
        self.app_secret = app_secret
        self.short_tokens: set[str] = set()  # short-lived (1 hour): exchangeable, not refreshable
        # Sign-in (developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/
        # business-login): the dialog www.instagram.com/oauth/authorize and the code exchange
        # POST api.instagram.com/oauth/access_token, both served here; the exchange answers
        # {"data": [{"access_token", "user_id", "permissions"}]} (a short-lived token), errors
        # {"error_type": "OAuthException", "code": 400, "error_message"}. https redirects only.
        self.oauth = AuthorizationServer(
            issue_token=self._issue_short_token,
            scope_separator=",",
            loopback_any_port=False,
            token_error=self._oauth_error,
        )
        self.username = username
        self.name = name
        self.followers_count = followers_count
        self.follows_count = follows_count
        self.quota_total = quota_total
        self.quota_usage = 0
        self.account_insights: dict[str, int] = {"reach": 321, "views": 4567, "profile_views": 12}
        self.requests: list[RecordedRequest] = []
        self.files: dict[str, tuple[bytes, str]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.containers: dict[str, dict[str, Any]] = {}
        self.not_enough_viewers: set[str] = set()
        self._container_statuses: list[str] = ["FINISHED"]
        self._error_reason = "Error: Media upload has failed with error code 2207026"
        self._failures: list[Failure] = []
        self._delays: list[Delay] = []
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._seq = itertools.count(1)

    @property
    def user_id(self) -> str:
        return USER_ID

    def account_context(self, **overrides: Any) -> Any:
        from postcli.platforms.base import AccountContext

        values: dict[str, Any] = {
            "platform": "instagram",
            "api_base_url": self.url,
            "secrets": {"access_token": self.token},
            "settings": {"ig_user_id": USER_ID},
            "external_id": USER_ID,
            "timeout": 5.0,
        }
        values.update(overrides)
        return AccountContext(**values)

    # -- test controls ---------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        path_prefix: str,
        status: int = 400,
        json: Any = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next matching requests (path without /vNN.N) with `json`."""
        if json is None:
            json = self.error_body(1, "An unknown error has occurred.", type_="OAuthException")
        with self._lock:
            self._failures.append(Failure(method.upper(), path_prefix, status, json, dict(headers or {}), times))

    def set_container_statuses(self, statuses: list[str], reason: str | None = None) -> None:
        """Status codes the next containers go through, one per poll (the last one stays)."""
        with self._lock:
            self._container_statuses = list(statuses)
            if reason:
                self._error_reason = reason

    def expire_token(self, token: str | None = None) -> None:
        with self._lock:
            self.expired_tokens.add(token or self.token)

    def serve_file(self, name: str, data: bytes, content_type: str) -> str:
        """Host a media file the way S3 would; returns its public URL."""
        with self._lock:
            self.files[name] = (data, content_type)
        return f"{self.url}/files/{name}"

    def add_media(
        self,
        caption: str = "",
        *,
        media_type: str = "IMAGE",
        product: str | None = None,
        timestamp: datetime | None = None,
        like_count: int = 0,
        comments_count: int = 0,
        insights: dict[str, int] | None = None,
    ) -> dict[str, Any]:
        """Put a post on the account directly (as if made in the app); returns it."""
        with self._lock:
            return self._new_media(
                caption,
                media_type,
                product or ("REELS" if media_type == "VIDEO" else "FEED"),
                timestamp or datetime.now(timezone.utc),
                like_count,
                comments_count,
                dict(insights or {}),
            )

    def delete_media(self, media_id: str) -> None:
        with self._lock:
            self.media[media_id]["deleted"] = True

    def requests_to(self, method: str, path_suffix: str = "") -> list[RecordedRequest]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (method == "*" or r.method == method.upper()) and r.path.endswith(path_suffix)
            ]

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()

    @staticmethod
    def error_body(
        code: int, message: str, *, subcode: int | None = None, type_: str = "OAuthException", **extra: Any
    ) -> dict[str, Any]:
        err: dict[str, Any] = {"message": message, "type": type_, "code": code}
        if subcode is not None:
            err["error_subcode"] = subcode
        err.update(extra)
        err["fbtrace_id"] = "AbCdEfGhIjKlMnOp"
        return {"error": err}

    # -- model ---------------------------------------------------------------------------

    def _new_media(
        self,
        caption: str,
        media_type: str,
        product: str,
        when: datetime,
        likes: int,
        comments: int,
        insights: dict[str, int],
    ) -> dict[str, Any]:
        n = next(self._seq)
        media_id = str(17900000000000000 + n)
        shortcode = f"DF{n:09d}"
        kind = "reel" if product == "REELS" else "p"
        media = {
            "id": media_id,
            "caption": caption,
            "media_type": media_type,
            "media_product_type": product,
            "timestamp": when,
            "shortcode": shortcode,
            "permalink": f"https://www.instagram.com/{kind}/{shortcode}/",
            "like_count": likes,
            "comments_count": comments,
            "insights": insights,
            "deleted": False,
        }
        self.media[media_id] = media
        return media

    def _media_json(self, media: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields:
            if f == "timestamp":
                out[f] = graph_time(media["timestamp"])
            elif f == "username":
                out[f] = self.username
            elif f in media and f not in ("insights", "deleted"):
                out[f] = media[f]
        out["id"] = media["id"]
        return out

    def _user_json(self, fields: list[str]) -> dict[str, Any]:
        values = {
            "user_id": USER_ID,
            "username": self.username,
            "name": self.name,
            "account_type": "BUSINESS",
            "profile_picture_url": f"{self.url}/files/avatar.jpg",
            "followers_count": self.followers_count,
            "follows_count": self.follows_count,
            "media_count": sum(1 for m in self.media.values() if not m["deleted"]),
        }
        out = {f: values[f] for f in fields if f in values}
        out["id"] = APP_SCOPED_ID
        return out

    # -- HTTP ------------------------------------------------------------------------------

    def _json(self, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        usage = {
            USER_ID: [
                {
                    "type": "instagram",
                    "call_count": 1,
                    "total_cputime": 1,
                    "total_time": 1,
                    "estimated_time_to_regain_access": 0,
                }
            ]
        }
        hdrs = {
            "X-Business-Use-Case-Usage": jsonlib.dumps(usage),
            "x-fb-trace-id": "AbCdEfGh",
            "Cache-Control": "private, no-cache, no-store, must-revalidate",
        }
        hdrs.update(headers or {})
        return Response(
            jsonlib.dumps(payload), status=status, headers=hdrs, content_type="application/json; charset=UTF-8"
        )

    def _error(
        self,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        status: int = 400,
        type_: str = "OAuthException",
        **extra: Any,
    ) -> Response:
        return self._json(self.error_body(code, message, subcode=subcode, type_=type_, **extra), status)

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        m = re.match(r"^/(v\d+\.\d+)(/.*)$", request.path)
        version, path = (m.group(1), m.group(2)) if m else (None, request.path)
        recorded = RecordedRequest(
            method=request.method,
            path=path,
            version=version,
            query={k: request.args.getlist(k) for k in request.args.keys()},
            form={k: request.form.getlist(k) for k in request.form.keys()},
            headers=Headers(list(request.headers.items())),
            form_first=True,
            request=request,
        )
        self._remember(recorded)
        self._maybe_delay(recorded)
        try:
            response = self._injected(recorded) or self._route(recorded)
        except Exception as exc:  # a fake bug must be loud
            response = self._error(1, f"fake server error: {type(exc).__name__}: {exc}", status=500)
        recorded.status = response.status_code
        return response(environ, start_response)

    def _issue_short_token(self, client: Any, scopes: list[str]) -> dict[str, Any]:
        new = f"IGAAfakeShort{len(self.valid_tokens):04d}"
        self.valid_tokens.add(new)
        self.short_tokens.add(new)
        return {"data": [{"access_token": new, "user_id": USER_ID, "permissions": ",".join(scopes)}]}

    def _oauth_error(self, status: int, error: str, description: str) -> Response:
        message = "Error validating client secret." if error == "invalid_client" else "Invalid authorization code"
        return self._json({"error_type": "OAuthException", "code": 400, "error_message": message}, 400)

    def _injected(self, req: RecordedRequest) -> Response | None:
        f = self._take_failure(req.method, req.path)
        return None if f is None else self._json(f.json, f.status, f.headers)

    def _route(self, req: RecordedRequest) -> Response:
        parts = [p for p in req.path.split("/") if p]
        if req.method == "GET" and len(parts) == 2 and parts[0] == "files":
            with self._lock:
                if parts[1] not in self.files:
                    return Response("not found", status=404)
                data, ctype = self.files[parts[1]]
            return Response(data, content_type=ctype)
        if (req.method, req.path) == ("GET", "/oauth/authorize"):
            return self.oauth.authorize(req.request)
        if (req.method, req.path) == ("POST", "/oauth/access_token"):
            return self.oauth.token(req.request)
        token = req.param("access_token")
        with self._lock:
            if token in self.expired_tokens:
                return self._error(
                    190,
                    "Error validating access token: Session has expired on Sunday, "
                    "22-Nov-26 10:00:00 PST. The current time is Monday, 23-Nov-26 "
                    "03:51:48 PST.",
                    subcode=463,
                )
            if token not in self.valid_tokens:
                return self._error(190, "Invalid OAuth access token - Cannot parse access token")
            if parts == ["refresh_access_token"] and req.method == "GET":
                return self._refresh(req, token)
            if parts == ["access_token"] and req.method == "GET" and req.version is None:
                return self._exchange(req, token)
            if req.version is None:
                return self._error(2500, "Unknown path components: " + req.path, type_="IGApiException")
            return self._dispatch(req, parts)

    def _dispatch(self, req: RecordedRequest, parts: list[str]) -> Response:
        fields = [f for f in (req.param("fields") or "").split(",") if f]
        node = parts[0] if parts else ""
        if node == "me":
            node = USER_ID
        edge = parts[1] if len(parts) > 1 else None
        if node == USER_ID:
            if edge is None and req.method == "GET":
                return self._json(self._user_json(fields or ["username"]))
            if edge == "media" and req.method == "POST":
                return self._create_container(req)
            if edge == "media" and req.method == "GET":
                return self._list_media(req, fields or ["id"])
            if edge == "media_publish" and req.method == "POST":
                return self._publish(req)
            if edge == "content_publishing_limit" and req.method == "GET":
                entry: dict[str, Any] = {"quota_usage": self.quota_usage}
                if "config" in fields:
                    entry["config"] = {"quota_total": self.quota_total, "quota_duration": 86400}
                return self._json({"data": [entry]})
            if edge == "insights" and req.method == "GET":
                return self._account_insights(req)
        if node in self.containers and edge is None and req.method == "GET":
            return self._container_status(node, fields)
        media = self.media.get(node)
        if media is not None and not media["deleted"] and edge == "comments":
            return self._comments(req, media, fields or ["id", "timestamp", "text"])
        if media is not None and not media["deleted"] and req.method == "GET":
            if edge is None:
                return self._json(self._media_json(media, fields or ["id"]))
            if edge == "insights":
                return self._media_insights(media, req)
        return self._error(
            100,
            f"Unsupported get request. Object with ID '{node}' does not exist, cannot be "
            "loaded due to missing permissions, or does not support this operation. Please "
            "read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
            subcode=33,
            type_="GraphMethodException",
        )

    # -- handlers (lock held) ---------------------------------------------------------

    def add_short_token(self, token: str) -> None:
        with self._lock:
            self.valid_tokens.add(token)
            self.short_tokens.add(token)

    def _exchange(self, req: RecordedRequest, token: str) -> Response:
        if req.param("grant_type") != "ig_exchange_token":
            return self._error(100, "Invalid grant_type", type_="OAuthException")
        if req.param("client_secret") != self.app_secret:
            return self._error(1, "Error validating client secret.", type_="OAuthException")
        if token not in self.short_tokens:
            return self._error(190, "Cannot exchange a long-lived access token", type_="OAuthException")
        new = f"IGAAexchanged-{next(self._seq)}-long-lived-token"
        self.valid_tokens.add(new)
        return self._json({"access_token": new, "token_type": "bearer", "expires_in": 5183944})

    def _refresh(self, req: RecordedRequest, token: str) -> Response:
        if req.param("grant_type") != "ig_refresh_token":
            return self._error(100, "Invalid grant_type", type_="OAuthException")
        if self.refused_refresh:
            return self._error(
                190, "Error validating access token: the user has not authorized application", subcode=458
            )
        new = f"IGAArefreshed-{next(self._seq)}-token-abcdef"
        self.valid_tokens.add(new)
        return self._json({"access_token": new, "token_type": "bearer", "expires_in": self.refresh_expires_in})

    def _fetch(self, url: str | None, *, image: bool) -> Response | tuple[bytes, str]:
        """Instagram cURLs the media URL when the container is created."""
        prefix = f"{self.url}/files/"
        name = url[len(prefix) :] if url and url.startswith(prefix) else None
        fetched = self.files.get(name) if name is not None else None
        if fetched is None and name is None and url and url.startswith("http://127.0.0.1:"):
            fetched = self._fetch_elsewhere(url)  # another loopback server (a fake S3's presigned URL)
        if fetched is None:
            return self._error(
                9004,
                "Only photo or video can be accepted as media type.",
                subcode=2207052,
                error_user_title="Media download has failed.",
                error_user_msg=f"The media could not be fetched from this URI: {url}. "
                "Please check the URI and try again.",
            )
        data, ctype = fetched
        if image and not data.startswith(JPEG_MAGIC):
            return self._error(
                36001,
                "The image format is not supported.",
                subcode=2207005,
                error_user_title="Unsupported format",
                error_user_msg="The image format is not supported. Supported formats are: JPEG",
            )
        return data, ctype

    @staticmethod
    def _fetch_elsewhere(url: str) -> tuple[bytes, str] | None:
        import httpx

        try:
            response = httpx.get(url, timeout=10)
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        return response.content, response.headers.get("content-type", "")

    def _create_container(self, req: RecordedRequest) -> Response:
        media_type = req.param("media_type")
        caption = req.param("caption") or ""
        carousel_item = req.param("is_carousel_item") == "true"
        if len(caption) > 2200:
            return self._error(36004, "The caption is too long.", subcode=2207010)
        children: list[str] = []
        if media_type == "CAROUSEL":
            children = [c for c in (req.param("children") or "").split(",") if c]
            if not 2 <= len(children) <= 10:
                return self._error(100, "The carousel must have between 2 and 10 items.", subcode=2207028)
            for child in children:
                c = self.containers.get(child)
                if c is None or not c["carousel_item"]:
                    return self._error(100, f"Invalid child {child}", subcode=2207028)
                if self._state(c) != "FINISHED":
                    return self._error(
                        9007,
                        "Media ID is not available",
                        subcode=2207027,
                        error_user_msg="The media is not ready for publishing, please wait for a moment",
                    )
            kind = "CAROUSEL_ALBUM"
        elif media_type in ("REELS", "VIDEO"):
            fetched = self._fetch(req.param("video_url"), image=False)
            if isinstance(fetched, Response):
                return fetched
            kind = "VIDEO"
        elif media_type is None:
            fetched = self._fetch(req.param("image_url"), image=True)
            if isinstance(fetched, Response):
                return fetched
            kind = "IMAGE"
        else:
            return self._error(100, f"Unsupported media_type {media_type}", type_="IGApiException")
        cid = str(17800000000000000 + next(self._seq))
        self.containers[cid] = {
            "id": cid,
            "kind": kind,
            "product": "REELS" if media_type == "REELS" else "FEED",
            "caption": caption,
            "alt_text": req.param("alt_text"),
            "carousel_item": carousel_item,
            "children": children,
            "statuses": list(self._container_statuses),
            "polls": 0,
            "published": False,
        }
        return self._json({"id": cid})

    @staticmethod
    def _state(c: dict[str, Any]) -> str:
        """What the container is now: the status its last poll showed (the first before any)."""
        return c["statuses"][min(max(c["polls"] - 1, 0), len(c["statuses"]) - 1)]

    def _container_status(self, cid: str, fields: list[str]) -> Response:
        c = self.containers[cid]
        if c["published"]:
            code = "PUBLISHED"
        else:
            c["polls"] += 1
            code = self._state(c)
        status = {
            "FINISHED": "Finished: Media has been uploaded and it is ready to be published.",
            "IN_PROGRESS": "In Progress: Media is still being processed.",
            "ERROR": self._error_reason,
            "EXPIRED": "Expired: the container was not published within 24 hours.",
            "PUBLISHED": "Published: Media has been successfully published.",
        }[code]
        out = {"id": cid}
        if "status_code" in fields:
            out["status_code"] = code
        if "status" in fields:
            out["status"] = status
        return self._json(out)

    def _publish(self, req: RecordedRequest) -> Response:
        cid = req.param("creation_id") or ""
        c = self.containers.get(cid)
        if c is None or c["carousel_item"]:
            return self._error(24, "The requested resource does not exist", subcode=2207008)
        if self.quota_usage >= self.quota_total:
            return self._error(
                9,
                "Application request limit reached",
                subcode=2207042,
                error_user_title="Max number of posts reached",
                error_user_msg="You reached maximum number of posts that is allowed to be "
                "published by Content Publishing API.",
            )
        if c["published"] or self._state(c) != "FINISHED":
            return self._error(
                9007,
                "Media ID is not available",
                subcode=2207027,
                error_user_msg="The media is not ready for publishing, please wait for a moment",
            )
        c["published"] = True
        self.quota_usage += 1
        media = self._new_media(c["caption"], c["kind"], c["product"], datetime.now(timezone.utc), 0, 0, {})
        media["container"] = cid
        return self._json({"id": media["id"]})

    def _comments(self, req: RecordedRequest, media: dict[str, Any], fields: list[str]) -> Response:
        """POST /<IG_MEDIA_ID>/comments?message=... -> {"id"}; GET -> {"data": [{"timestamp",
        "text", "id"}, ...]} (.../instagram-graph-api/reference/ig-media/comments and the comment
        moderation guide), comments by the account itself carrying `from` {id, username}."""
        comments = media.setdefault("comments_list", [])
        if req.method == "POST":
            message = req.param("message")
            if not message:
                return self._error(100, "(#100) The parameter message is required")
            comment = {
                "id": str(17870000000000000 + next(self._seq)),
                "text": message,
                "timestamp": graph_time(datetime.now(timezone.utc)),
                "from": {"id": USER_ID, "username": self.username},
                "username": self.username,
            }
            comments.append(comment)
            media["comments_count"] = media.get("comments_count", 0) + 1
            return self._json({"id": comment["id"]})
        data = [{k: c[k] for k in fields if k in c} | {"id": c["id"]} for c in comments]
        return self._json({"data": data})

    def _list_media(self, req: RecordedRequest, fields: list[str]) -> Response:
        live = sorted(
            (m for m in self.media.values() if not m["deleted"]), key=lambda m: (m["timestamp"], m["id"]), reverse=True
        )
        limit = int(req.param("limit") or 25)
        start = int(req.param("after") or 0)
        page = live[start : start + limit]
        body: dict[str, Any] = {"data": [self._media_json(m, fields) for m in page]}
        if page:
            body["paging"] = {"cursors": {"before": str(start), "after": str(start + len(page))}}
            if start + len(page) < len(live):
                query = {
                    "fields": ",".join(fields),
                    "limit": limit,
                    "after": start + len(page),
                    "access_token": req.param("access_token"),
                }
                body["paging"]["next"] = f"{self.url}/{req.version}/{USER_ID}/media?{urlencode(query)}"
        return self._json(body)

    def _media_insights(self, media: dict[str, Any], req: RecordedRequest) -> Response:
        metrics = [m for m in (req.param("metric") or "").split(",") if m]
        if not metrics:
            return self._error(100, "(#100) The parameter metric is required", type_="IGApiException")
        unknown = [m for m in metrics if m not in SUPPORTED_METRICS]
        if unknown:
            return self._error(
                100,
                f"(#100) metric[0] must be one of the following values: {', '.join(SUPPORTED_METRICS)}",
                type_="IGApiException",
            )
        kind = (media["media_product_type"], media["media_type"])
        refused = [m for m in metrics if kind not in SUPPORTED_METRICS[m]]
        if refused:
            return self._error(
                100,
                f"The Media Insights API does not support the {', '.join(refused)} metric for this media product type.",
                type_="IGApiException",
            )
        if media["id"] in self.not_enough_viewers:
            return self._error(10, "(#10) Not enough viewers for the media to show insights", type_="OAuthException")
        data = [
            {
                "name": m,
                "period": "lifetime",
                "values": [{"value": media["insights"][m]}],
                "title": m.replace("_", " ").title(),
                "description": f"The number of {m}.",
                "id": f"{media['id']}/insights/{m}/lifetime",
            }
            for m in metrics
            if m in media["insights"]
        ]
        return self._json({"data": data})

    def _account_insights(self, req: RecordedRequest) -> Response:
        metrics = [m for m in (req.param("metric") or "").split(",") if m]
        bad = [m for m in metrics if m not in ACCOUNT_METRICS]
        if bad:
            return self._error(
                100,
                f"(#100) metric[0] must be one of the following values: {', '.join(sorted(ACCOUNT_METRICS))}",
                type_="IGApiException",
            )
        if req.param("metric_type") != "total_value" and {"views", "profile_views"} & set(metrics):
            return self._error(
                100,
                "(#100) The following metrics (views, profile_views) should be specified "
                "with parameter metric_type=total_value",
                type_="IGApiException",
            )
        data = [
            {
                "name": m,
                "period": req.param("period") or "day",
                "title": m.replace("_", " ").title(),
                "description": f"The number of {m}.",
                "total_value": {"value": self.account_insights[m]},
                "id": f"{USER_ID}/insights/{m}/day",
            }
            for m in metrics
            if m in self.account_insights
        ]
        return self._json({"data": data})


@pytest.fixture
def fake_instagram() -> Any:
    with FakeInstagram() as server:
        yield server


__all__ = ["FakeInstagram", "RecordedRequest", "fake_instagram", "graph_time", "DEFAULT_TOKEN", "USER_ID"]
