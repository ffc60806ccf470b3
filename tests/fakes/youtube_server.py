"""A stateful fake of the YouTube Data API v3 and Google's OAuth endpoints on a loopback socket.

Shapes follow Google's documentation:

- Sign-in (developers.google.com/identity/protocols/oauth2/native-app): GET /o/oauth2/v2/auth
  (accounts.google.com) with a loopback redirect on any port and PKCE S256 ("Step 2");
  POST /token (oauth2.googleapis.com) with the code, code_verifier, client_id and
  client_secret in the form ("Step 5"), answering access_token, expires_in 3599,
  refresh_token, scope, token_type "Bearer" (and refresh_token_expires_in when the
  fake is told the grant is time-limited). A refresh ("Refreshing an access token")
  answers the same without a refresh_token; a revoked or expired refresh token is
  400 {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}.
- Errors (developers.google.com/youtube/v3/docs/errors): {"error": {"code", "message",
  "errors": [{"message", "domain", "reason", ...}]}}; an unusable access token is 401
  authError ("Invalid Credentials"); quotaExceeded (403, youtube.quota) and
  uploadLimitExceeded (400, youtube.video) come through `quota_exhausted`/`fail_next`.
- GET /youtube/v3/channels?part=...&mine=true (docs/channels/list; the channel resource:
  snippet.title, snippet.customUrl, contentDetails.relatedPlaylists.uploads,
  statistics.viewCount/subscriberCount/hiddenSubscriberCount/videoCount, counts as strings;
  subscriberCount is left out when hidden, an assumption the resource page allows).
- GET /youtube/v3/videos?part=...&id=a,b (docs/videos/list; a video that does not exist is
  simply absent from items; maxResults is refused beside id, as the reference says it is not
  supported there; more than 50 ids is refused, an assumption: the reference states no maximum), statistics.viewCount/likeCount/favoriteCount/commentCount
  as strings (each can be left out), status.privacyStatus/uploadStatus/failureReason/
  rejectionReason, processingDetails.processingStatus/processingFailureReason.
- DELETE /youtube/v3/videos?id= (docs/videos/delete): 204; an unknown id is 404 videoNotFound.
- GET /youtube/v3/playlistItems?playlistId=UU...&part=... (docs/playlistItems/list): the
  channel's uploads, newest first, 50 a page with nextPageToken.
- commentThreads insert and list (docs/commentThreads/insert, /list): tests/fakes/youtube_comments.py.
- The resumable upload (guides/using_resumable_upload_protocol):
  POST /upload/youtube/v3/videos?uploadType=resumable&part=snippet,status with the video
  resource, X-Upload-Content-Length and X-Upload-Content-Type answers 200 and Location (the
  session URI, "Step 2"); PUT to it with Content-Range: bytes a-b/N adds a chunk (sizes a
  multiple of 256 KiB but the last, "Upload a video in chunks"), answering 308 with
  Range: bytes=0-M until the last byte, then 201 and the video (parts snippet, status);
  PUT with Content-Range: bytes */N and no body asks for the status ("Step 4": 308 with
  Range, no Range when nothing arrived, or 201); an expired session is 404. Assumptions
  (not documented): a chunk that does not start where the received bytes end, or is not
  a multiple of 256 KiB, is 400.
- Videos uploaded from a project that has not passed the API audit are private whatever
  was asked (docs/videos/insert, the note on projects created after 28 July 2020): `audited=False`.

    with FakeYouTube() as yt:
        ctx = yt.account_context()
        yt.drop_connection_after(100_000)    # the next chunk: keep 100,000 bytes, then hang up
        yt.quota_exhausted()                 # the next upload start: 403 quotaExceeded
"""

from __future__ import annotations

import itertools
import json as jsonlib
import re
import secrets
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from werkzeug.wrappers import Request, Response

from fakes import youtube_comments
from fakes.loopback import BearerTokens, Delay, Failure, LoopbackServer, RecordedRequest
from fakes.oauth_server import AuthorizationServer, Client

ACCESS_TOKEN = "ya29.fake-youtube-access-token-0123456789"
REFRESH_TOKEN = "1//fake-youtube-refresh-token-0123456789"
CLIENT_ID = "1234567890-fakeclient.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-fake-youtube-client-secret-0123"
SCOPE = "https://www.googleapis.com/auth/youtube"
FORCE_SSL = "https://www.googleapis.com/auth/youtube.force-ssl"
SCOPES = (SCOPE, FORCE_SSL)
UNIT = 256 * 1024
CHANNEL_ID = "UCfakeChannel00000000001"
EXPIRES_IN = 3599


def google_error(code: int, reason: str, message: str, domain: str = "youtube.api", **extra: Any) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason, **extra}],
        }
    }


QUOTA_MESSAGE = 'The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.'
UNAUTHORIZED = {
    "error": {
        "code": 401,
        "message": "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
        "or other valid authentication credential.",
        "errors": [
            {
                "message": "Invalid Credentials",
                "domain": "global",
                "reason": "authError",
                "location": "Authorization",
                "locationType": "header",
            }
        ],
        "status": "UNAUTHENTICATED",
    }
}


@dataclass
class Session:
    upload_id: str
    resource: dict[str, Any]
    size: int
    mime: str
    data: bytearray = field(default_factory=bytearray)
    video_id: str | None = None
    expired: bool = False


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeYouTube(BearerTokens, LoopbackServer):
    """One Google account with one YouTube channel, served on 127.0.0.1:<random port>."""

    expired_token = "ya29.expired-{n}"
    revoked_token = "ya29.revoked-{n}"
    revoked_refresh_token = "1//revoked-{n}"

    thread_name = "fake-youtube"

    def __init__(
        self,
        *,
        channel_id: str = CHANNEL_ID,
        title: str = "Alice Makes Videos",
        custom_url: str | None = "@alicevideos",
        subscribers: int = 1200,
        hidden_subscribers: bool = False,
        audited: bool = True,
        refresh_token_expires_in: int | None = None,
        scopes: tuple[str, ...] = SCOPES,
    ) -> None:
        self.scopes = set(scopes)  # what the current token was granted (commentThreads.insert needs force-ssl)
        self.comments: dict[str, list[dict[str, Any]]] = {}  # video id -> its comment threads, oldest first
        self.comments_disabled = False
        self.lose_comment_answers = 0  # make the comment, then hold the answer
        self.channel_id = channel_id
        self.title = title
        self.custom_url = custom_url
        self.subscribers = subscribers
        self.hidden_subscribers = hidden_subscribers
        self.audited = audited
        self.refresh_token_expires_in = refresh_token_expires_in
        self.access_token = ACCESS_TOKEN
        self.refresh_token = REFRESH_TOKEN
        self.client_id, self.client_secret = CLIENT_ID, CLIENT_SECRET
        self.issued: list[tuple[str, str | None]] = []  # (access, refresh) in the order handed out
        self.oauth = AuthorizationServer(issue_token=self._issue_from_code, require_pkce=True)
        self.requests: list[RecordedRequest] = []
        self.counts: Counter[str] = Counter()
        self._lock = threading.RLock()
        self._failures: list[Failure] = []
        self._delays: list[Delay] = []
        self._stopping = threading.Event()
        self._seq = itertools.count(1)
        self._drops: list[tuple[int, bool]] = []
        self._status_failures: list[int] = []
        self.videos: dict[str, dict[str, Any]] = {}  # id -> video record, in upload order
        self.sessions: dict[str, Session] = {}

    # -- test controls -----------------------------------------------------------------

    def add_client(self, redirect: str = "http://127.0.0.1/callback") -> Client:
        """The user's Desktop OAuth client (Google accepts any loopback port for it)."""
        return self.oauth.add_client(CLIENT_ID, CLIENT_SECRET, [redirect], list(SCOPES))

    def account_context(self, **overrides: Any) -> Any:
        """An AccountContext as `accounts login youtube` leaves it for this channel."""
        from postcli.platforms.base import AccountContext

        values: dict[str, Any] = {
            "platform": "youtube",
            "api_base_url": self.url,
            "handle": (self.custom_url or self.title).lstrip("@"),
            "external_id": self.channel_id,
            "secrets": {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "client_secret": CLIENT_SECRET,
            },
            "settings": {"client_id": CLIENT_ID, "channel_id": self.channel_id, "app_status": "production"},
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
        text: str | None = None,
    ) -> None:
        """Answer the next `times` matching requests with `status` and a Google error body
        (`json`), or with `text` as it is (a proxy's HTML page)."""
        body = json if json is not None else google_error(status, "backendError", "Backend Error", "global")
        with self._lock:
            self._failures.append(
                Failure(method.upper(), path_prefix, status, body, dict(headers or {}), times, detail=text)
            )

    def quota_exhausted(self, method: str = "POST", path_prefix: str = "/upload/youtube/v3/videos") -> None:
        """The project's daily quota is spent: 403 quotaExceeded (docs/errors, "Core API errors")."""
        self.fail_next(
            method, path_prefix, 403, json=google_error(403, "quotaExceeded", QUOTA_MESSAGE, "youtube.quota")
        )

    def upload_limit_reached(self) -> None:
        """The channel's daily upload limit: 400 uploadLimitExceeded (docs/videos/insert "Errors")."""
        message = "The user has exceeded the number of videos they may upload."
        self.fail_next(
            "POST",
            "/upload/youtube/v3/videos",
            400,
            json=google_error(400, "uploadLimitExceeded", message, "youtube.video"),
        )

    def drop_connection_after(self, keep: int, *, final: bool = False) -> None:
        """The next chunk PUT (the next one carrying the last byte, when `final`): keep its first
        `keep` bytes, then close the connection unanswered."""
        with self._lock:
            self._drops.append((keep, final))

    def fail_status_queries(self, times: int, status: int = 503) -> None:
        """The next `times` status queries (PUT with Content-Range: bytes */N) answer `status`."""
        with self._lock:
            self._status_failures += [status] * times

    def expire_sessions(self) -> None:
        """Every upload session URI answers 404 from now on (sessions expire after a week)."""
        with self._lock:
            for session in self.sessions.values():
                session.expired = True

    def add_video(self, title: str = "Earlier video", description: str = "", **record: Any) -> str:
        with self._lock:
            video_id = self._new_video({"snippet": {"title": title, "description": description}, "status": {}}, 0)
            self.videos[video_id].update(record)
            return video_id

    def set_stats(self, video_id: str, **counts: int | None) -> None:
        """views, likes, comments, favorites; None leaves the count out of the answer."""
        with self._lock:
            self.videos[video_id]["stats"].update(counts)

    def set_processing(
        self, video_id: str, status: str, reason: str | None = None, upload_status: str | None = None
    ) -> None:
        with self._lock:
            video = self.videos[video_id]
            video["processing"] = {
                "processingStatus": status,
                **({"processingFailureReason": reason} if reason else {}),
            }
            if upload_status:
                video["status"]["uploadStatus"] = upload_status

    def delete_video(self, video_id: str) -> None:
        with self._lock:
            del self.videos[video_id]

    # -- inspection --------------------------------------------------------------------

    def requests_to(self, method: str, path_prefix: str = "") -> list[RecordedRequest]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (method == "*" or r.method == method.upper()) and r.path.startswith(path_prefix)
            ]

    def count(self, route: str) -> int:
        with self._lock:
            return self.counts[route]

    def chunk_puts(self) -> list[RecordedRequest]:
        """The PUTs that carried bytes of a video (status queries left out)."""
        return [r for r in self.requests_to("PUT", "/upload/youtube/v3/videos") if r.body]

    @property
    def bytes_sent(self) -> int:
        """Every byte of video the client sent, resends included."""
        return sum(len(r.body) for r in self.chunk_puts())

    # -- tokens ------------------------------------------------------------------------

    def _issue_from_code(self, client: Client, scopes: list[str]) -> dict[str, Any]:
        self.access_token = f"ya29.code-{next(self._seq)}-{secrets.token_urlsafe(12)}"
        self.refresh_token = f"1//code-{next(self._seq)}-{secrets.token_urlsafe(12)}"
        self.issued.append((self.access_token, self.refresh_token))
        self.scopes = set(scopes)
        return self._token_body(scopes, refresh=self.refresh_token)

    def _token_body(self, scopes: list[str], refresh: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "access_token": self.access_token,
            "expires_in": EXPIRES_IN,
            "scope": " ".join(scopes),
            "token_type": "Bearer",
        }
        if refresh:
            body["refresh_token"] = refresh
        if self.refresh_token_expires_in is not None:
            body["refresh_token_expires_in"] = self.refresh_token_expires_in
        return body

    def _refresh(self, req: RecordedRequest) -> Response:
        if (req.param("client_id"), req.param("client_secret")) != (self.client_id, self.client_secret):
            return self._json({"error": "invalid_client", "error_description": "The OAuth client was not found."}, 401)
        if req.param("refresh_token") != self.refresh_token:
            return self._json(
                {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}, 400
            )
        self.access_token = f"ya29.refreshed-{next(self._seq)}-{secrets.token_urlsafe(12)}"
        self.issued.append((self.access_token, None))
        return self._json(self._token_body(sorted(self.scopes), refresh=None))

    # -- resources ---------------------------------------------------------------------

    def _new_video(self, resource: dict[str, Any], size: int) -> str:
        video_id = secrets.token_urlsafe(8)[:11]
        asked = (resource.get("status") or {}).get("privacyStatus") or "public"
        snippet = dict(resource.get("snippet") or {})
        self.videos[video_id] = {
            "snippet": {**snippet, "publishedAt": _now(), "channelId": self.channel_id, "channelTitle": self.title},
            # An unaudited project's uploads stay private whatever was asked.
            "status": {"privacyStatus": asked if self.audited else "private", "uploadStatus": "uploaded"},
            "processing": {"processingStatus": "processing"},
            "stats": {"views": 0, "likes": 0, "favorites": 0, "comments": 0},
            "size": size,
        }
        return video_id

    def _video_json(self, video_id: str, parts: set[str]) -> dict[str, Any]:
        v = self.videos[video_id]
        out: dict[str, Any] = {"kind": "youtube#video", "etag": f"etag-{video_id}", "id": video_id}
        if "snippet" in parts:
            out["snippet"] = dict(v["snippet"])
        if "status" in parts:
            out["status"] = {**v["status"], "license": "youtube", "embeddable": True, "publicStatsViewable": True}
        if "processingDetails" in parts:
            out["processingDetails"] = dict(v["processing"])
        if "statistics" in parts:
            names = {
                "views": "viewCount",
                "likes": "likeCount",
                "favorites": "favoriteCount",
                "comments": "commentCount",
            }
            out["statistics"] = {names[k]: str(n) for k, n in v["stats"].items() if n is not None}
        return out

    def _channel_json(self, parts: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": "youtube#channel", "etag": "etag-channel", "id": self.channel_id}
        if "snippet" in parts:
            out["snippet"] = {"title": self.title, "description": "", "publishedAt": "2020-01-01T00:00:00Z"}
            if self.custom_url:
                out["snippet"]["customUrl"] = self.custom_url
        if "contentDetails" in parts:
            out["contentDetails"] = {"relatedPlaylists": {"likes": "", "uploads": "UU" + self.channel_id[2:]}}
        if "statistics" in parts:
            stats: dict[str, Any] = {"viewCount": str(sum(v["stats"]["views"] or 0 for v in self.videos.values()))}
            stats["hiddenSubscriberCount"] = self.hidden_subscribers
            if not self.hidden_subscribers:
                stats["subscriberCount"] = str(self.subscribers)
            stats["videoCount"] = str(len(self.videos))
            out["statistics"] = stats
        return out

    # -- HTTP --------------------------------------------------------------------------

    def _json(self, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(
            jsonlib.dumps(payload), status=status, headers=headers or {}, content_type="application/json; charset=UTF-8"
        )

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        recorded = self._record(request)
        self._maybe_delay(recorded)
        try:
            response = self._injected(recorded) or self._route(request, recorded, environ)
        except Exception as exc:  # a fake bug must show up as a loud 500
            response = self._json(
                google_error(500, "backendError", f"fake server error: {type(exc).__name__}: {exc}"), 500
            )
        recorded.status = response.status_code
        return response(environ, start_response)

    def _record(self, request: Request) -> RecordedRequest:
        return self._record_request(request, form_first=True)

    def _injected(self, req: RecordedRequest) -> Response | None:
        with self._lock:
            failure = self._take_failure(req.method, req.path)
            if failure is None:
                return None
            self.counts[f"{req.method} {req.path} (injected {failure.status})"] += 1
        if isinstance(failure.detail, str):
            return Response(failure.detail, status=failure.status, headers=failure.headers, content_type="text/html")
        return self._json(failure.json, failure.status, failure.headers)

    def _route(self, request: Request, req: RecordedRequest, environ: dict[str, Any]) -> Response:
        method, path = request.method, request.path

        def hit(route: str) -> None:
            with self._lock:
                self.counts[route] += 1

        if method == "GET" and path == "/o/oauth2/v2/auth":
            hit("GET /o/oauth2/v2/auth")
            return self.oauth.authorize(request)
        if method == "POST" and path == "/token":
            grant = req.param("grant_type")
            hit(f"POST /token ({grant})")
            with self._lock:
                return self.oauth.token(request) if grant == "authorization_code" else self._refresh(req)
        if req.bearer != self.access_token:
            hit(f"{method} {path} (401)")
            return self._json(UNAUTHORIZED, 401, {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})
        route = {
            ("GET", "/youtube/v3/channels"): self._channels,
            ("GET", "/youtube/v3/videos"): self._videos,
            ("DELETE", "/youtube/v3/videos"): self._delete,
            ("GET", "/youtube/v3/playlistItems"): self._playlist_items,
            ("POST", "/upload/youtube/v3/videos"): self._start_upload,
            ("POST", "/youtube/v3/commentThreads"): lambda r: youtube_comments.insert(self, r),
            ("GET", "/youtube/v3/commentThreads"): lambda r: youtube_comments.list_threads(self, r),
        }.get((method, path))
        hit(f"{method} {path}")
        with self._lock:
            if route is not None:
                return route(req)
            if method == "PUT" and path == "/upload/youtube/v3/videos":
                return self._put(req, environ)
        return self._json(google_error(404, "notFound", "Not Found", "global"), 404)

    def _parts(self, req: RecordedRequest) -> set[str] | Response:
        part = req.param("part")
        if not part:
            return self._json(
                google_error(400, "missingRequiredParameter", "No filter selected.", "youtube.parameter"), 400
            )
        return {p.strip() for p in str(part).split(",")}

    def _channels(self, req: RecordedRequest) -> Response:
        parts = self._parts(req)
        if isinstance(parts, Response):
            return parts
        items = [self._channel_json(parts)] if req.param("mine") == "true" else []
        return self._json(
            {
                "kind": "youtube#channelListResponse",
                "pageInfo": {"totalResults": len(items), "resultsPerPage": 5},
                "items": items,
            }
        )

    def _videos(self, req: RecordedRequest) -> Response:
        parts = self._parts(req)
        if isinstance(parts, Response):
            return parts
        ids = [i for i in str(req.param("id") or "").split(",") if i]
        if ids and req.param("maxResults"):  # "not supported for use in conjunction with the id parameter"
            message = "The request specifies two or more parameters that cannot be used in the same request."
            return self._json(google_error(400, "incompatibleParameters", message, "youtube.parameter"), 400)
        if len(ids) > 50:
            return self._json(google_error(400, "invalidParameter", "Too many ids.", "youtube.parameter"), 400)
        items = [self._video_json(i, parts) for i in ids if i in self.videos]
        return self._json(
            {
                "kind": "youtube#videoListResponse",
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
                "items": items,
            }
        )

    def _delete(self, req: RecordedRequest) -> Response:
        video_id = str(req.param("id") or "")
        if video_id not in self.videos:
            message = "The video identified by the <code>id</code> parameter could not be found."
            return self._json(
                google_error(404, "videoNotFound", message, "youtube.video", location="id", locationType="parameter"),
                404,
            )
        del self.videos[video_id]
        return Response(status=204)

    def _playlist_items(self, req: RecordedRequest) -> Response:
        if req.param("playlistId") != "UU" + self.channel_id[2:]:
            return self._json(google_error(404, "playlistNotFound", "Playlist not found.", "youtube.playlistItem"), 404)
        newest = list(reversed(self.videos))
        start = int(req.param("pageToken") or 0)
        limit = int(req.param("maxResults") or 5)
        page = newest[start : start + limit]
        items = []
        for video_id in page:
            v = self.videos[video_id]
            items.append(
                {
                    "kind": "youtube#playlistItem",
                    "id": f"item-{video_id}",
                    "snippet": {
                        "publishedAt": v["snippet"]["publishedAt"],
                        "channelId": self.channel_id,
                        "title": v["snippet"].get("title", ""),
                        "description": v["snippet"].get("description", ""),
                        "playlistId": req.param("playlistId"),
                        "resourceId": {"kind": "youtube#video", "videoId": video_id},
                    },
                    "contentDetails": {"videoId": video_id, "videoPublishedAt": v["snippet"]["publishedAt"]},
                    "status": {"privacyStatus": v["status"]["privacyStatus"]},
                }
            )
        body: dict[str, Any] = {"kind": "youtube#playlistItemListResponse", "items": items}
        if start + limit < len(newest):
            body["nextPageToken"] = str(start + limit)
        return self._json(body)

    def _start_upload(self, req: RecordedRequest) -> Response:
        if req.param("uploadType") != "resumable":
            return self._json(google_error(400, "badRequest", "This fake takes resumable uploads only.", "global"), 400)
        try:
            size = int(req.headers.get("X-Upload-Content-Length", ""))
        except ValueError:
            return self._json(google_error(400, "badRequest", "X-Upload-Content-Length is required.", "global"), 400)
        resource = req.json if isinstance(req.json, dict) else {}
        title = str((resource.get("snippet") or {}).get("title") or "")
        description = str((resource.get("snippet") or {}).get("description") or "")
        if not title or len(title) > 100 or set(title) & set("<>"):
            return self._json(
                google_error(
                    400,
                    "invalidTitle",
                    "The request metadata specifies an invalid or empty video title.",
                    "youtube.video",
                ),
                400,
            )
        if len(description.encode()) > 5000 or set(description) & set("<>"):
            return self._json(
                google_error(
                    400,
                    "invalidDescription",
                    "The request metadata specifies an invalid video description.",
                    "youtube.video",
                ),
                400,
            )
        upload_id = f"ADPycd{secrets.token_urlsafe(16)}"
        mime = req.headers.get("X-Upload-Content-Type", "application/octet-stream")
        self.sessions[upload_id] = Session(upload_id, resource, size, mime)
        location = f"{self.url}/upload/youtube/v3/videos?uploadType=resumable&upload_id={upload_id}"
        return Response("", status=200, headers={"Location": location, "X-GUploader-UploadID": upload_id})

    def _put(self, req: RecordedRequest, environ: dict[str, Any]) -> Response:
        session = self.sessions.get(str(req.param("upload_id") or ""))
        if session is None or session.expired:
            return Response("Not Found", status=404, content_type="text/plain")
        spec = req.headers.get("Content-Range", "")
        if spec.startswith("bytes */") and self._status_failures:
            status = self._status_failures.pop(0)
            return self._json(google_error(status, "backendError", "Backend Error", "global"), status)
        if session.video_id is not None and spec == f"bytes */{session.size}":
            return self._json(self._video_json(session.video_id, {"snippet", "status"}), 201)
        if spec == f"bytes */{session.size}" and not req.body:
            return self._resume_incomplete(session)
        m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", spec)
        if not m or int(m.group(3)) != session.size or session.video_id is not None:
            return self._json(google_error(400, "badContent", "Failed to parse Content-Range header.", "global"), 400)
        first, last = int(m.group(1)), int(m.group(2))
        final = last == session.size - 1
        if first != len(session.data) or len(req.body) != last - first + 1 or (not final and len(req.body) % UNIT):
            return self._json(google_error(400, "badContent", "Invalid chunk: wrong start or size.", "global"), 400)
        drop = None
        due = next((d for d in self._drops if final or not d[1]), None)
        if due is not None:
            self._drops.remove(due)
            drop = due[0]
        session.data.extend(req.body if drop is None else req.body[:drop])
        if len(session.data) == session.size:
            session.video_id = self._new_video(session.resource, session.size)
        if drop is not None:
            # Hang up without an answer: the client sees the connection drop mid-request
            # (what arrived is kept, and a complete upload is a video all the same).
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
            return Response("", status=500)
        if session.video_id is None:
            return self._resume_incomplete(session)
        return self._json(self._video_json(session.video_id, {"snippet", "status"}), 201)

    def _resume_incomplete(self, session: Session) -> Response:
        headers = {"Range": f"bytes=0-{len(session.data) - 1}"} if session.data else {}
        return Response("", status=308, headers=headers)
