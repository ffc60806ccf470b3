"""A stateful fake TikTok (Login Kit, Content Posting API, Display API) on a loopback socket.

One server plays every host: www.tiktok.com (the consent page), open.tiktokapis.com (API and
token endpoint) and open-upload.tiktokapis.com (the upload URL init hands out, served here:
a URL the platform returns is used as returned). Shapes follow TikTok's documentation, cited
beside each route below (developers.tiktok.com/doc/...):

- every API answer is {"data": {...}, "error": {"code": "ok"|..., "message", "log_id"}}
  (tiktok-api-v2-error-handling); a bad token is 401 access_token_invalid, a limit 429
  rate_limit_exceeded with no reset header (tiktok-api-v2-rate-limit);
- sign-in: GET /v2/auth/authorize/ with client_key, comma-separated scope, a loopback
  redirect with a port and a PKCE challenge that is the hex SHA-256 of the verifier
  (login-kit-desktop); codes carry "*" and "!" and travel percent-encoded; POST
  /v2/oauth/token/ (form: client_key, client_secret, code, grant_type, redirect_uri,
  code_verifier) answers {access_token, expires_in 86400, open_id, refresh_expires_in
  31536000, refresh_token, scope, token_type} (oauth-user-access-token-management); a
  refresh (grant_type=refresh_token) rotates the refresh token when `rotate` is set;
- Content Posting API: creator_info/query, video/init (FILE_UPLOAD: video_size, chunk_size,
  total_chunk_count checked by the Media Transfer Guide's rules), PUT chunks to the upload
  URL (Content-Range; 206 then 201), content/init for photos (PULL_FROM_URL from a verified
  URL prefix), status/fetch (PROCESSING_UPLOAD, PUBLISH_COMPLETE, FAILED with fail_reason;
  publicaly_available_post_id, so spelled, for a public post once moderated);
- Display API: user/info (?fields=), video/query (20 ids; the user's public videos only),
  video/list (newest first, cursor, has_more).

    with FakeTikTok() as tt:
        ctx = tt.account_context()
        tt.drop_chunk(1)                      # hang up during the second chunk, once
        tt.fail_next("POST", "/v2/video/query/", 429, code="rate_limit_exceeded")
"""

from __future__ import annotations

import itertools
import json as jsonlib
import re
import secrets
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from fakes.loopback import BearerTokens, Delay, Failure, LoopbackServer, RecordedRequest
from fakes.oauth_server import AuthorizationServer

CLIENT_KEY = "awfaketiktokclientkey"
CLIENT_SECRET = "fake-tiktok-client-secret-0123456789"
ACCESS_TOKEN = "act.fake-tiktok-access-0123456789"
REFRESH_TOKEN = "rft.fake-tiktok-refresh-0123456789"
SCOPES = [
    "user.info.basic",
    "user.info.profile",
    "user.info.stats",
    "video.publish",
    "video.upload",
    "video.list",
]
MB = 1024 * 1024
LEVELS = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"]
STATUS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests"}


def tiktok_code() -> str:
    """An authorization code as TikTok's look: with "*" and "!" (sent percent-encoded)."""
    return f"{secrets.token_urlsafe(18)}*3!{secrets.token_hex(3)}.va"


@dataclass
class Publish:
    publish_id: str
    kind: str  # video | photos
    privacy: str
    title: str
    description: str
    size: int = 0
    chunk_size: int = 0
    chunks: int = 0
    upload_id: str = ""
    upload_token: str = ""
    received: int = 0  # bytes, whole chunks only
    status: str = "PROCESSING_UPLOAD"
    fail_reason: str | None = None
    post_id: str | None = None
    polls_left: int = 0  # status calls still answered "processing" once the media is in
    body: dict[str, Any] = field(default_factory=dict)


class FakeTikTok(BearerTokens, LoopbackServer):
    thread_name = "fake-tiktok"
    expired_token = "act.expired-{n}"
    revoked_token = "act.revoked-{n}"
    revoked_refresh_token = "rft.revoked-{n}"

    def __init__(
        self,
        *,
        open_id: str = "-000-alice-open-id",
        username: str = "alice.makes",
        display_name: str = "Alice Makes",
        privacy_levels: list[str] | None = None,
        comment_disabled: bool = False,
        duet_disabled: bool = False,
        stitch_disabled: bool = False,
        max_seconds: int = 600,
        followers: int | None = 1200,
        unaudited: bool = False,
        account_private: bool = False,
    ) -> None:
        self.open_id, self.username, self.display_name = open_id, username, display_name
        self.creator = {
            "creator_avatar_url": "https://p16-sign.tiktokcdn-us.com/avatar.jpeg",
            "creator_username": username,
            "creator_nickname": display_name,
            "privacy_level_options": list(privacy_levels or LEVELS),
            "comment_disabled": comment_disabled,
            "duet_disabled": duet_disabled,
            "stitch_disabled": stitch_disabled,
            "max_video_post_duration_sec": max_seconds,
        }
        self.stats: dict[str, int | None] = {
            "follower_count": followers,
            "following_count": 31,
            "likes_count": 4800,
            "video_count": 0,
        }
        self.unaudited, self.account_private = unaudited, account_private
        self.access_token, self.refresh_token = ACCESS_TOKEN, REFRESH_TOKEN
        self.rotate = True  # a refresh hands out a new refresh token
        self.issued: list[tuple[str, str]] = []
        self.verified_prefixes = ["https://bucket.example/"]
        # Status calls answered "processing" after the media is in, and further calls before a
        # public post's moderation gives it its id (None: only `moderate()` does).
        self.processing_polls = 0
        self.moderation_polls: int | None = 0
        self.next_failure: str | None = None  # fail_reason of the next publish
        self.oauth = AuthorizationServer(
            issue_token=self._issue_from_code,
            token_error=self._token_error,
            scope_separator=",",
            require_pkce=True,
            client_id_param="client_key",
            pkce_encoding="hex",
            new_code=tiktok_code,
        )
        self.oauth.add_client(CLIENT_KEY, CLIENT_SECRET, ["http://127.0.0.1:0/callback"], SCOPES)
        self.publishes: dict[str, Publish] = {}
        self.videos: dict[str, dict[str, Any]] = {}
        self.requests: list[RecordedRequest] = []
        self.counts: Counter[str] = Counter()
        self._drops: list[int] = []
        self._cuts: dict[int, threading.Event] = {}
        self._lock = threading.RLock()
        self._failures: list[Failure] = []
        self._delays: list[Delay] = []
        self._stopping = threading.Event()
        self._seq = itertools.count(1)
        self._next_video = 7310000000000000000  # 19 digits, past 2**53 like real ids

    def account_context(self, **overrides: Any) -> Any:
        """An AccountContext as `accounts login tiktok` leaves it."""
        from datetime import datetime, timedelta, timezone

        from postcli.platforms.base import AccountContext

        now = datetime.now(timezone.utc)
        values: dict[str, Any] = {
            "platform": "tiktok",
            "api_base_url": self.url,
            "handle": self.username,
            "external_id": self.open_id,
            "secrets": {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "client_secret": CLIENT_SECRET,
                "expires_at": (now + timedelta(hours=24)).isoformat(),
                "refresh_expires_at": (now + timedelta(days=365)).isoformat(),
            },
            "settings": {"client_key": CLIENT_KEY, "open_id": self.open_id, "username": self.username},
            "timeout": 5.0,
        }
        values.update(overrides)
        return AccountContext(**values)

    # -- test controls -------------------------------------------------------------------

    def register_redirect(self, uri: str) -> None:
        self.oauth.clients[CLIENT_KEY].redirect_uris.append(uri)

    def drop_chunk(self, index: int) -> None:
        """Hang up during chunk `index` (0-based) of the next upload that reaches it, once."""
        with self._lock:
            self._drops.append(index)

    def cut_chunk(self, index: int) -> threading.Event:
        """Keep chunk `index` of the next upload unanswered until the returned event is set,
        then throw it away: the connection died before the chunk was whole (a killed client)."""
        gate = threading.Event()
        with self._lock:
            self._cuts[index] = gate
        return gate

    def moderate(self, publish_id: str) -> str:
        """Moderation is done: a public post gets its post id now."""
        with self._lock:
            return self._give_id(self.publishes[publish_id])

    def add_video(self, title: str = "", *, public: bool = True, **counts: int | None) -> str:
        with self._lock:
            return self._new_video(title, public=public, kind="video", counts=counts)

    def set_counts(self, video_id: str, **counts: int | None) -> None:
        """Counts of a video; a count given as None is left out of video/query's answer."""
        with self._lock:
            self.videos[video_id]["counts"].update(counts)

    def hide(self, video_id: str, hidden: bool = True) -> None:
        """Under review, or made private: TikTok stops listing it."""
        with self._lock:
            self.videos[video_id]["visible"] = not hidden

    def fail_next(
        self,
        method: str,
        path_prefix: str,
        status: int,
        *,
        code: str | None = None,
        message: str = "",
        json: Any = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` matching requests get `status` with TikTok's error body."""
        body = json if json is not None else self._error_body(code or STATUS.get(status, "error").lower(), message)
        with self._lock:
            self._failures.append(Failure(method.upper(), path_prefix, status, body, dict(headers or {}), times))

    def requests_to(self, method: str, path_prefix: str = "") -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == method.upper() and r.path.startswith(path_prefix)]

    def count(self, route: str) -> int:
        with self._lock:
            return self.counts[route]

    def only_publish(self) -> Publish:
        (publish,) = self.publishes.values()
        return publish

    # -- answers ----------------------------------------------------------------------

    @staticmethod
    def _log_id() -> str:
        return time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(8).upper()

    def _error_body(self, code: str, message: str = "") -> dict[str, Any]:
        return {"data": {}, "error": {"code": code, "message": message, "log_id": self._log_id()}}

    def _json(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(
            jsonlib.dumps(body), status=status, headers=headers or {}, content_type="application/json; charset=UTF-8"
        )

    def _ok(self, data: dict[str, Any]) -> Response:
        return self._json({"data": data, "error": {"code": "ok", "message": "", "log_id": self._log_id()}})

    def _fail(self, status: int, code: str, message: str = "") -> Response:
        return self._json(self._error_body(code, message), status)

    # -- the server -----------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data(cache=True)
        json_body = None
        if request.mimetype == "application/json" and body:
            try:
                json_body = jsonlib.loads(body)
            except ValueError:
                json_body = None
        form = {k: request.form.getlist(k) for k in request.form.keys()} if request.form else {}
        req = self._remember(
            RecordedRequest(
                method=request.method,
                path=request.path,
                query={k: request.args.getlist(k) for k in request.args.keys()},
                headers=Headers(list(request.headers.items())),
                form=form,
                json=json_body,
                body=body,
                request=request,
            )
        )
        self._maybe_delay(req)
        try:
            with self._lock:
                failure = self._take_failure(req.method, req.path)
            if failure is not None:
                response = self._json(failure.json, failure.status, failure.headers)
            else:
                response = self._route(request, req, environ)
        except Exception as exc:  # a bug in the fake is a loud 500
            response = self._fail(500, "internal_error", f"fake server error: {type(exc).__name__}: {exc}")
        req.status = response.status_code
        return response(environ, start_response)

    def _route(self, request: Request, req: RecordedRequest, environ: dict[str, Any]) -> Response:
        method, path = request.method, request.path

        def hit(route: str) -> None:
            with self._lock:
                self.counts[route] += 1

        # developers.tiktok.com/doc/login-kit-desktop: the consent page (www.tiktok.com).
        if method == "GET" and path == "/v2/auth/authorize/":
            hit("GET /v2/auth/authorize/")
            if urlsplit(request.args.get("redirect_uri", "")).port is None:
                return Response("redirect_uri must carry a port", status=400)  # "URIs must have a port number"
            return self.oauth.authorize(request)
        # .../oauth-user-access-token-management: the code exchange and the refresh.
        if method == "POST" and path == "/v2/oauth/token/":
            grant = req.param("grant_type")
            hit(f"POST /v2/oauth/token/ ({grant})")
            with self._lock:
                return self.oauth.token(request) if grant == "authorization_code" else self._refresh(req)
        # The upload URL video/init hands out (open-upload.tiktokapis.com/video/?upload_id=&upload_token=).
        if method == "PUT" and path == "/video/":
            hit("PUT /video/")
            if self._cut(req):
                return Response("", status=500)
            with self._lock:
                return self._put_chunk(req, environ)
        if req.bearer != self.access_token:
            hit(f"{method} {path} (401)")
            return self._fail(401, "access_token_invalid", "The access token is invalid or not found in the request.")
        routes = {
            ("GET", "/v2/user/info/"): self._user_info,  # .../tiktok-api-v2-get-user-info
            ("POST", "/v2/post/publish/creator_info/query/"): self._creator_info,  # ...-query-creator-info
            ("POST", "/v2/post/publish/video/init/"): self._video_init,  # ...-reference-direct-post
            ("POST", "/v2/post/publish/content/init/"): self._content_init,  # ...-reference-photo-post
            ("POST", "/v2/post/publish/status/fetch/"): self._status,  # ...-reference-get-video-status
            ("POST", "/v2/video/query/"): self._video_query,  # .../tiktok-api-v2-video-query
            ("POST", "/v2/video/list/"): self._video_list,  # .../tiktok-api-v2-video-list
        }
        handler = routes.get((method, path))
        hit(f"{method} {path}")
        if handler is None:
            return self._fail(404, "not_found", "the path is not an API endpoint")
        with self._lock:
            return handler(req)

    # -- tokens (lock held) --------------------------------------------------------------------

    def _token_body(self, scopes: list[str]) -> dict[str, Any]:
        n = next(self._seq)
        self.access_token = f"act.fake-access-{n}-{secrets.token_hex(4)}"
        if self.rotate or not self.issued:
            self.refresh_token = f"rft.fake-refresh-{n}-{secrets.token_hex(4)}"
        self.issued.append((self.access_token, self.refresh_token))
        return {
            "access_token": self.access_token,
            "expires_in": 86400,
            "open_id": self.open_id,
            "refresh_expires_in": 31536000,
            "refresh_token": self.refresh_token,
            "scope": ",".join(scopes),
            "token_type": "Bearer",
        }

    def _issue_from_code(self, client: Any, scopes: list[str]) -> dict[str, Any]:
        return self._token_body(scopes)

    def _token_error(self, status: int, error: str, description: str) -> Response:
        return self._json({"error": error, "error_description": description, "log_id": self._log_id()}, status)

    def _refresh(self, req: RecordedRequest) -> Response:
        if req.param("grant_type") != "refresh_token":
            return self._token_error(400, "invalid_request", "grant_type is not supported")
        if req.param("client_key") != CLIENT_KEY or req.param("client_secret") != CLIENT_SECRET:
            return self._token_error(401, "invalid_client", "Client key or secret is incorrect.")
        if req.param("refresh_token") != self.refresh_token:
            return self._token_error(400, "invalid_grant", "Refresh token is invalid or expired.")
        return self._json(self._token_body(SCOPES))

    # -- Display API (lock held) ----------------------------------------------------------------

    def _user_info(self, req: RecordedRequest) -> Response:
        fields = (req.param("fields") or "").split(",")
        user = {
            "open_id": self.open_id,
            "union_id": "union-" + self.open_id,
            "display_name": self.display_name,
            "username": self.username,
            "avatar_url": "https://p16-sign.tiktokcdn-us.com/avatar.jpeg",
            **{k: v for k, v in self.stats.items() if v is not None},
        }
        return self._ok({"user": {k: v for k, v in user.items() if k in fields}})

    def _listed(self) -> list[dict[str, Any]]:
        return [v for v in self.videos.values() if v["public"] and v["visible"]]

    def _render(self, v: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        kind = "photo" if v["kind"] == "photos" else "video"
        out = {
            "id": v["id"],
            "create_time": v["create_time"],
            "title": v["title"],
            "video_description": v["description"],
            "share_url": f"https://www.tiktok.com/@{self.username}/{kind}/{v['id']}?utm_campaign=tt4d_open_api",
            **{k: c for k, c in v["counts"].items() if c is not None},
        }
        return {k: val for k, val in out.items() if k in fields}

    def _video_query(self, req: RecordedRequest) -> Response:
        fields = (req.param("fields") or "").split(",")
        ids = ((req.json or {}).get("filters") or {}).get("video_ids") or []
        if not ids or len(ids) > 20:
            return self._fail(400, "invalid_params", "video_ids must hold 1 to 20 ids")
        listed = {v["id"]: v for v in self._listed()}
        videos = [self._render(listed[i], fields) for i in ids if i in listed]
        return self._ok({"videos": videos, "cursor": 0, "has_more": False})

    def _video_list(self, req: RecordedRequest) -> Response:
        fields = (req.param("fields") or "").split(",")
        body = req.json or {}
        size = int(body.get("max_count") or 10)
        cursor = body.get("cursor")
        listed = sorted(self._listed(), key=lambda v: v["create_time"], reverse=True)
        if cursor is not None:
            listed = [v for v in listed if v["create_time"] * 1000 < int(cursor)]
        page = listed[:size]
        more = len(listed) > size
        return self._ok(
            {
                "videos": [self._render(v, fields) for v in page],
                "cursor": page[-1]["create_time"] * 1000 if page else 0,
                "has_more": more,
            }
        )

    # -- Content Posting API (lock held) --------------------------------------------------------

    def _creator_info(self, req: RecordedRequest) -> Response:
        return self._ok(dict(self.creator))

    def _refuse_post(self, info: dict[str, Any]) -> Response | None:
        if self.unaudited and not self.account_private:
            return self._fail(
                403,
                "unaudited_client_can_only_post_to_private_accounts",
                "Unaudited clients can only post to a private account",
            )
        if info.get("privacy_level") not in self.creator["privacy_level_options"]:
            return self._fail(400, "privacy_level_option_mismatch", "privacy_level is not one of the options")
        return None

    def _video_init(self, req: RecordedRequest) -> Response:
        body = req.json or {}
        info, source = body.get("post_info") or {}, body.get("source_info") or {}
        refused = self._refuse_post(info)
        if refused is not None:
            return refused
        size, chunk, count = source.get("video_size"), source.get("chunk_size"), source.get("total_chunk_count")
        if source.get("source") != "FILE_UPLOAD" or not all(isinstance(x, int) and x > 0 for x in (size, chunk, count)):
            return self._fail(400, "invalid_params", "source_info is incomplete")
        # Media Transfer Guide, "Chunk restrictions".
        whole_ok = size < 5 * MB and chunk == size and count == 1
        chunked_ok = 5 * MB <= chunk <= 64 * MB and count == size // chunk and size - chunk * (count - 1) <= 128 * MB
        if not (whole_ok or (size >= 5 * MB and chunked_ok)) or count > 1000:
            return self._fail(400, "invalid_params", "chunk_size and total_chunk_count break the chunk rules")
        n = next(self._seq)
        publish = Publish(
            publish_id=f"v_pub_file~v2-1.{7300000000000000000 + n}",
            kind="video",
            privacy=info["privacy_level"],
            title=str(info.get("title") or ""),
            description="",
            size=size,
            chunk_size=chunk,
            chunks=count,
            upload_id=str(67890 + n),
            upload_token=secrets.token_urlsafe(12),
            body=body,
        )
        self.publishes[publish.publish_id] = publish
        url = f"{self.url}/video/?upload_id={publish.upload_id}&upload_token={publish.upload_token}"
        return self._ok({"publish_id": publish.publish_id, "upload_url": url})

    def _cut(self, req: RecordedRequest) -> bool:
        """A chunk `cut_chunk` named: held (outside the lock) until released, then lost."""
        m = re.match(r"bytes (\d+)-", req.headers.get("Content-Range", ""))
        with self._lock:
            publish = next((p for p in self.publishes.values() if p.upload_id == req.param("upload_id")), None)
            if m is None or publish is None or not publish.chunk_size:
                return False
            gate = self._cuts.pop(int(m.group(1)) // publish.chunk_size, None)
        if gate is None:
            return False
        while not gate.wait(0.05) and not self._stopping.is_set():
            pass
        return True

    def _put_chunk(self, req: RecordedRequest, environ: dict[str, Any]) -> Response:
        upload_id, token = req.param("upload_id"), req.param("upload_token")
        publish = next((p for p in self.publishes.values() if p.upload_id == upload_id), None)
        if publish is None or publish.upload_token != token:
            return self._fail(404, "not_found", "upload_url is not valid")
        m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", req.headers.get("Content-Range", ""))
        if m is None or int(m.group(3)) != publish.size:
            return self._fail(400, "invalid_params", "Content-Range is missing or wrong")
        first, last = int(m.group(1)), int(m.group(2))
        index = first // publish.chunk_size
        final = index == publish.chunks - 1
        expected_last = publish.size - 1 if final else first + publish.chunk_size - 1
        if first != publish.received or last != expected_last or len(req.body) != last - first + 1:
            return self._fail(416, "invalid_params", "chunks must come in order and whole")
        if index in self._drops:
            self._drops.remove(index)
            # Hang up without an answer: the client sees the connection drop mid-request.
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
            return Response("", status=500)
        publish.received = last + 1
        if publish.received < publish.size:
            return Response("", status=206)
        self._media_in(publish)
        return Response("", status=201)

    def _content_init(self, req: RecordedRequest) -> Response:
        body = req.json or {}
        info, source = body.get("post_info") or {}, body.get("source_info") or {}
        refused = self._refuse_post(info)
        if refused is not None:
            return refused
        urls = source.get("photo_images") or []
        if body.get("media_type") != "PHOTO" or source.get("source") != "PULL_FROM_URL" or not urls:
            return self._fail(400, "invalid_params", "a photo post needs PULL_FROM_URL photo_images")
        if not all(any(str(u).startswith(p) for p in self.verified_prefixes) for u in urls):
            return self._fail(403, "url_ownership_unverified", "the URL prefix is not verified for this app")
        n = next(self._seq)
        publish = Publish(
            publish_id=f"p_pub_url~v2.{7300000000000000000 + n}",
            kind="photos",
            privacy=info["privacy_level"],
            title=str(info.get("title") or ""),
            description=str(info.get("description") or ""),
            body=body,
        )
        self.publishes[publish.publish_id] = publish
        self._media_in(publish)
        return self._ok({"publish_id": publish.publish_id})

    def _media_in(self, publish: Publish) -> None:
        publish.status = "PROCESSING_DOWNLOAD" if publish.kind == "photos" else "PROCESSING_UPLOAD"
        publish.polls_left = self.processing_polls
        if self.next_failure is not None:
            publish.fail_reason, self.next_failure = self.next_failure, None

    def _give_id(self, publish: Publish) -> str:
        if publish.post_id is None:
            video_id = self._new_video(
                publish.title, public=True, kind=publish.kind, counts={}, description=publish.description
            )
            publish.post_id = video_id
        return publish.post_id

    def _new_video(self, title: str, *, public: bool, kind: str, counts: dict[str, Any], description: str = "") -> str:
        self._next_video += 1 + next(self._seq) % 5
        vid = str(self._next_video)
        base = {"view_count": 0, "like_count": 0, "comment_count": 0, "share_count": 0}
        self.videos[vid] = {
            "id": vid,
            "title": title if kind == "photos" else title[:150],
            "description": description or title,
            "create_time": int(time.time()),
            "public": public,
            "visible": True,
            "kind": kind,
            "counts": {**base, **counts},
        }
        if self.stats["video_count"] is not None:
            self.stats["video_count"] += 1
        return vid

    def _status(self, req: RecordedRequest) -> Response:
        publish = self.publishes.get(str((req.json or {}).get("publish_id")))
        if publish is None:
            return self._fail(400, "invalid_params", "publish_id is not valid")
        data: dict[str, Any] = {"status": publish.status}
        if publish.kind == "video":
            data["uploaded_bytes"] = publish.received
        media_in = publish.kind == "photos" or publish.received == publish.size
        if media_in and publish.status not in ("PUBLISH_COMPLETE", "FAILED"):
            if publish.polls_left > 0:
                publish.polls_left -= 1
            elif publish.fail_reason:
                publish.status = "FAILED"
            else:
                publish.status = "PUBLISH_COMPLETE"
                publish.polls_left = self.moderation_polls if self.moderation_polls is not None else -1
            data["status"] = publish.status
        if publish.status == "FAILED":
            data["fail_reason"] = publish.fail_reason
        if publish.status == "PUBLISH_COMPLETE" and publish.privacy == "PUBLIC_TO_EVERYONE":
            if publish.post_id is None and publish.polls_left == 0:
                self._give_id(publish)
            elif publish.polls_left > 0:
                publish.polls_left -= 1
            if publish.post_id is not None:
                data["publicaly_available_post_id"] = [int(publish.post_id)]
        return self._ok(data)
