"""A stateful fake Pinterest API v5 (and its consent page and upload bucket) on a loopback socket.

Shapes come from Pinterest's API description (github.com/pinterest/api-description,
v5/openapi.yaml, release 5.23.0; published as https://developers.pinterest.com/docs/api/v5/)
and its guides; each route cites its operation. Where neither says, the fake's choice is
marked "assumption" (docs/platforms/pinterest.md lists them):

- errors are {"code": int, "message": str} (schemas Error / Pinterest.Lib.Error);
- GET /oauth/ is www.pinterest.com's consent page: client_id, redirect_uri (registered,
  compared exactly), response_type=code, comma-separated scope, state
  (developers.pinterest.com/docs/getting-started/set-up-authentication-and-authorization/);
- POST /v5/oauth/token (operation oauth/token, security `basic`,
  https://developers.pinterest.com/docs/api/v5/oauth-token/): HTTP Basic app id:secret,
  form-encoded; a secret in the form instead is refused (assumption: the description allows
  only Basic). Answers OauthAccessTokenResponseCode / ...Refresh: access_token,
  refresh_token, expires_in 2592000 (30 days), refresh_token_expires_in 5184000 (60 days,
  continuous refresh), refresh_token_expires_at, scope, token_type. Each refresh hands back a
  new refresh token and the old one stops working (continuous refresh). A bad refresh token
  is 400 {"code": 1, ...} (assumption: the error is not documented);
- rate limits: every answer carries X-RateLimit-Limit / -Remaining, a 429 X-RateLimit-Reset
  in seconds (assumption: developers.pinterest.com/docs/reference/rate-limits/ names no headers).

    with FakePinterest() as server:
        ctx = server.account_context()
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json as jsonlib
import re
import threading
import time
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from typing import Any

from werkzeug.wrappers import Request, Response

from fakes.loopback import BearerTokens, Delay, Failure, LoopbackServer, RecordedRequest
from fakes.oauth_server import AuthorizationServer
from fakes.tumblr_server import _multipart

CLIENT_ID = "1234567"  # Pinterest app ids are numbers
CLIENT_SECRET = "fake-pinterest-app-secret-0123456789abcdef"
ACCESS_TOKEN = "pina_fakeACCESStoken0123456789abcdefghijklmnop"
REFRESH_TOKEN = "pinr_fakeREFRESHtoken0123456789abcdefghijklmno"
SCOPES = ["boards:read", "boards:write", "pins:read", "pins:write", "user_accounts:read"]
BOARD_ID = "549755885175"  # the description's example board id
OTHER_BOARD_ID = "549755885176"
STANDARD = ("IMPRESSION", "OUTBOUND_CLICK", "PIN_CLICK", "SAVE", "SAVE_RATE", "TOTAL_COMMENTS", "TOTAL_REACTIONS")
VIDEO_ONLY = ("VIDEO_MRC_VIEW", "VIDEO_10S_VIEW", "QUARTILE_95_PERCENT_VIEW", "VIDEO_V50_WATCH_TIME", "VIDEO_START")
# MediaUploadParameters' documented keys (values made up).
UPLOAD_PARAMETERS = {
    "x-amz-date": "20220127T185143Z",
    "x-amz-signature": "fcd6309a6aaee213348666a72abed8b44552a43acb6b340e8e1b288d21a5fe92",
    "x-amz-security-token": "IQoJb3JpZ2luX2VjEJr==",
    "x-amz-algorithm": "AWS4-HMAC-SHA256",
    "key": "uploads/11/aa/22/3:video:203014033110991560:5212123920968240771",
    "policy": "eyJleHBpcmF0aW9uIjoiMj..==",
    "x-amz-credential": "ASIA6QZJ64OPIKV7FRVX/20220127/us-east-1/s3/aws4_request",
    "Content-Type": "multipart/form-data",
}
UPLOAD_PATH = "/pinterest-media-upload/"


def _pin_time(when: datetime) -> str:
    # Pins' created_at as the API shows it: date-time without an offset (UTC). Assumption from
    # the quickstart's printed Pins; the description only says format date-time.
    return when.astimezone(timezone.utc).replace(tzinfo=None, microsecond=0).isoformat()


class FakePinterest(BearerTokens, LoopbackServer):
    """One Pinterest user with two boards, served on 127.0.0.1:<random port>."""

    expired_token = "pina_expired{n}"
    revoked_token = "pina_revoked{n}"
    revoked_refresh_token = "pinr_revoked{n}"

    thread_name = "fake-pinterest"

    def __init__(self, *, username: str = "alicepins", user_id: str = "2783136121146311751") -> None:
        self.username = username
        self.user_id = user_id
        self.counters = {"follower_count": 10, "following_count": 347, "pin_count": 339, "monthly_views": 163}
        self.boards: dict[str, dict[str, Any]] = {
            BOARD_ID: {"id": BOARD_ID, "name": "Summer recipes", "privacy": "PUBLIC"},
            OTHER_BOARD_ID: {"id": OTHER_BOARD_ID, "name": "Garden", "privacy": "SECRET"},
        }
        self.client_id, self.client_secret = CLIENT_ID, CLIENT_SECRET
        self.access_token, self.refresh_token = ACCESS_TOKEN, REFRESH_TOKEN
        self.issued_tokens: list[tuple[str, str]] = []
        # Media: media_id -> {"status", "polls_left", "uploaded"}; processing takes this many polls.
        self.processing_polls = 2
        self.media_outcome = "succeeded"
        self.media: dict[str, dict[str, Any]] = {}
        self.uploads: list[dict[str, Any]] = []
        # The consent page (www.pinterest.com/oauth/) and the code exchange; the redirect URI
        # must be one registered with the app, exactly.
        self.oauth = AuthorizationServer(
            issue_token=self._issue_from_code, scope_separator=",", loopback_any_port=False
        )
        self.requests: list[RecordedRequest] = []
        self.counts: Counter[str] = Counter()
        self._lock = threading.RLock()
        self._pins: dict[str, dict[str, Any]] = {}
        self._failures: list[Failure] = []
        self._delays: list[Delay] = []
        self._lost: list[tuple[str, str, float]] = []
        self._stopping = threading.Event()
        self._seq = itertools.count(1)
        self._next_id = 1125968647761564  # Pin ids are long digit strings

    def account_context(self, **overrides: Any) -> Any:
        """An AccountContext as `accounts login pinterest --board BOARD_ID` leaves it."""
        from postcli.platforms.base import AccountContext

        values: dict[str, Any] = {
            "platform": "pinterest",
            "api_base_url": self.url,
            "handle": self.username,
            "external_id": self.user_id,
            "secrets": {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "client_secret": self.client_secret,
            },
            "settings": {"client_id": self.client_id, "board_id": BOARD_ID, "username": self.username},
            "timeout": 5.0,
        }
        values.update(overrides)
        return AccountContext(**values)

    # -- test controls -------------------------------------------------------------------

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
        """Answer the next `times` matching requests with `status` and Pinterest's error body."""
        body = json if json is not None else {"code": status, "message": "Injected failure."}
        self._add_failure(Failure(method.upper(), path_prefix, status, body, dict(headers or {}), times))

    def lose_answer(self, method: str, path: str, seconds: float = 3.0) -> None:
        """The next `method path` is carried out, then its answer is held `seconds` (longer than
        the client waits): the Pin exists, the client never hears of it."""
        with self._lock:
            self._lost.append((method.upper(), path, seconds))

    def add_pin(
        self,
        description: str = "",
        *,
        board_id: str = BOARD_ID,
        title: str | None = None,
        link: str | None = None,
        video: bool = False,
        created_at: datetime | None = None,
    ) -> str:
        with self._lock:
            return self._new_pin(board_id, description or None, title, link, video, created_at)["id"]

    def delete_pin(self, pin_id: str) -> None:
        with self._lock:
            self._pins.pop(pin_id)

    def settle(self, pin_id: str, day: date | None = None, **metrics: int) -> None:
        """Analytics of one day (default: the Pin's first) become READY with these numbers."""
        with self._lock:
            pin = self._pins[pin_id]
            when = (day or pin["_created"].date()).isoformat()
            pin["_days"][when] = dict(metrics)

    @property
    def pins(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self._render(p) for p in self._pins.values()]

    def requests_to(self, method: str, path_prefix: str = "") -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == method.upper() and r.path.startswith(path_prefix)]

    def count(self, route: str) -> int:
        with self._lock:
            return self.counts[route]

    # -- shapes --------------------------------------------------------------------------

    def _new_pin(
        self,
        board_id: str,
        description: str | None,
        title: str | None,
        link: str | None,
        video: bool,
        created_at: datetime | None = None,
        alt_text: str | None = None,
    ) -> dict[str, Any]:
        self._next_id += 1 + next(self._seq) % 5
        created = created_at or datetime.now(timezone.utc)
        pin = {
            "id": str(self._next_id),
            "board_id": board_id,
            "title": title,
            "description": description,
            "link": link,
            "alt_text": alt_text,
            "_video": video,
            "_created": created,
            "_days": {},  # date -> READY metrics; every other day since creation is PROCESSING
        }
        self._pins[pin["id"]] = pin
        return pin

    def _render(self, pin: dict[str, Any]) -> dict[str, Any]:
        """The Pin schema: media is PinMediaWithImage or PinMediaWithVideo."""
        media: dict[str, Any] = {"media_type": "video" if pin["_video"] else "image"}
        if pin["_video"]:
            media.update(cover_image_url="https://i.pinimg.com/videos/thumbnails/originals/x.jpg", duration=4000.0)
        else:
            media["images"] = {"150x150": {"width": 150, "height": 150, "url": "https://i.pinimg.com/150x150/x.jpg"}}
        return {
            "id": pin["id"],
            "created_at": _pin_time(pin["_created"]),
            "link": pin["link"],
            "title": pin["title"],
            "description": pin["description"],
            "dominant_color": "#6E7874",
            "alt_text": pin["alt_text"],
            "creative_type": "VIDEO" if pin["_video"] else "REGULAR",
            "board_id": pin["board_id"],
            "board_section_id": None,
            "board_owner": {"username": self.username},
            "is_owner": True,
            "media": media,
            "parent_pin_id": None,
            "is_standard": True,
            "has_been_promoted": False,
            "note": "",
            "pin_metrics": None,
        }

    # -- HTTP ----------------------------------------------------------------------------

    def _json(self, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        hdrs = {"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "990", **(headers or {})}
        return Response(jsonlib.dumps(payload), status=status, headers=hdrs, content_type="application/json")

    def _error(self, status: int, message: str, code: int | None = None) -> Response:
        return self._json({"code": status if code is None else code, "message": message}, status)

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        recorded = self._record(request)
        self._maybe_delay(recorded)
        try:
            response = self._injected(recorded) or self._route(request, recorded)
        except Exception as exc:  # a fake bug must show up as a loud 500
            response = self._error(500, f"fake server error: {type(exc).__name__}: {exc}")
        recorded.status = response.status_code
        with self._lock:
            lost = next((x for x in self._lost if x[:2] == (recorded.method, recorded.path)), None)
            if lost is not None:
                self._lost.remove(lost)
        if lost is not None:
            self._stopping.wait(lost[2])
        return response(environ, start_response)

    def _record(self, request: Request) -> RecordedRequest:
        return self._record_request(request, parts=_multipart)

    def _injected(self, req: RecordedRequest) -> Response | None:
        failure = self._take_failure(req.method, req.path)
        if failure is None:
            return None
        with self._lock:
            self.counts[f"{req.method} {req.path} (injected {failure.status})"] += 1
        return self._json(failure.json, failure.status, failure.headers)

    def _route(self, request: Request, req: RecordedRequest) -> Response:
        from fakes.pinterest_routes import route

        method, path = request.method, request.path
        if method == "GET" and path == "/oauth/":
            self._hit("GET /oauth/")
            return self.oauth.authorize(request)
        if method == "POST" and path == "/v5/oauth/token":
            return self._token(request, req)
        if method == "POST" and path == UPLOAD_PATH:
            self._hit(f"POST {UPLOAD_PATH}")
            with self._lock:
                return self._upload(req)
        if req.bearer != self.access_token:
            self._hit(f"{method} {path} (401)")
            return self._error(401, "Authentication failed.", 2)
        with self._lock:
            return route(self, req)

    def _hit(self, route: str) -> None:
        with self._lock:
            self.counts[route] += 1

    # -- the token endpoint (operation oauth/token) ---------------------------------------

    def _token(self, request: Request, req: RecordedRequest) -> Response:
        grant = req.param("grant_type")
        self._hit(f"POST /v5/oauth/token ({grant})")
        auth = request.authorization
        if auth is None or auth.type != "basic" or "client_secret" in req.form:
            return self._error(401, "Authentication failed: use HTTP Basic with the app id and secret.", 2)
        with self._lock:
            if grant == "authorization_code":
                return self.oauth.token(request)
            if (auth.username, auth.password) != (self.client_id, self.client_secret):
                return self._error(401, "Authentication failed.", 2)
            if grant != "refresh_token":
                return self._error(400, f"Unsupported grant_type {grant!r}.", 1)
            if req.param("refresh_token") != self.refresh_token:
                return self._error(400, "Invalid refresh token.", 1)
            return self._json(self._issue("refresh_token", " ".join(SCOPES)))

    def _issue(self, response_type: str, scope: str) -> dict[str, Any]:
        n = next(self._seq)
        self.access_token = f"pina_fake{n}ACCESS{'x' * 24}"
        self.refresh_token = f"pinr_fake{n}REFRESH{'y' * 24}"
        self.issued_tokens.append((self.access_token, self.refresh_token))
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "response_type": response_type,
            "token_type": "bearer",
            "expires_in": 2592000,
            "refresh_token_expires_in": 5184000,
            "refresh_token_expires_at": int(time.time()) + 5184000,
            "scope": scope,
        }

    def _issue_from_code(self, client: Any, scopes: list[str]) -> dict[str, Any]:
        return self._issue("authorization_code", ",".join(scopes))

    # -- the upload bucket (upload_url): an S3 POST policy upload ---------------------------

    def _upload(self, req: RecordedRequest) -> Response:
        fields = {p.name: p.data.decode() for p in req.parts if p.filename is None}
        files = [p for p in req.parts if p.filename is not None]
        media = next((m for m in self.media.values() if m["key"] == fields.get("key")), None)
        wrong = [k for k, v in UPLOAD_PARAMETERS.items() if k != "key" and fields.get(k) != v]
        if media is None or wrong or len(files) != 1 or req.parts[-1].name != "file" or req.bearer:
            # S3 wants every policy field before the file, the file last, and no other credentials.
            return Response("<Error><Code>AccessDenied</Code></Error>", status=403, content_type="application/xml")
        media["status"] = "processing"
        self.uploads.append({"media_id": media["media_id"], "size": len(files[0].data), "fields": list(fields)})
        return Response("", status=204)


def valid_base64(value: Any) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"[a-zA-Z0-9+/=]+", value):
        return False
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]
