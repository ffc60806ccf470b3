"""A stateful fake Mastodon instance on a real loopback socket.

It answers with the shapes recorded from a real Mastodon 4.6.4 server
(/work/shared/fixtures/mastodon): statuses, accounts, instance info, media, the
x-ratelimit-* headers, 401 {"error": "The access token is invalid"} and
404 {"error": "Record not found"}. Behaviour that matters to a client is real:
Idempotency-Key replay, asynchronous media processing (202, then 206 until
ready), the 20-id cap of the multi-status endpoint, max_id/since_id/min_id
paging with a Link header, and version-dependent features (quotes_count from
4.5, GET /api/v1/statuses?id[]= from 4.3, /api/v2/instance from 4.0).

    with FakeMastodon(max_characters=1000) as server:
        ctx = server.account_context()          # an AccountContext for the adapter
        ...
        server.fail_next("POST", "/api/v1/statuses", 500)
        server.requests_to("POST", "/api/v1/statuses")[0].headers["Idempotency-Key"]

or with the pytest fixture `fake_mastodon` (import it into a test module).
"""

from __future__ import annotations

import html
import itertools
import json as jsonlib
import re
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import pytest
from werkzeug.wrappers import Request, Response

from fakes.loopback import Delay, Failure, LoopbackServer, RecordedRequest
from fakes.oauth_server import AuthorizationServer

DEFAULT_TOKEN = "fake-mastodon-token-0123456789"

SUPPORTED_MIME_TYPES = [
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/heic",
    "image/heif",
    "image/webp",
    "image/avif",
    "video/webm",
    "video/mp4",
    "video/quicktime",
    "video/ogg",
    "audio/wave",
    "audio/wav",
    "audio/x-wav",
    "audio/x-pn-wave",
    "audio/vnd.wave",
    "audio/ogg",
    "audio/vorbis",
    "audio/mpeg",
    "audio/mp3",
    "audio/webm",
    "audio/flac",
    "audio/aac",
    "audio/m4a",
    "audio/x-m4a",
    "audio/mp4",
    "audio/3gpp",
    "video/x-ms-asf",
]

_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    410: "Gone",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

_URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?')\]]", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w/@])@([a-z0-9_]+)(?:@([a-z0-9.\-]+[a-z0-9]+))?", re.IGNORECASE)


def _version_tuple(version: str) -> tuple[int, int, int]:
    m = re.match(r"(\d+)\.(\d+)\.(\d+)", version)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else (0, 0, 0)


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


class FakeMastodon(LoopbackServer):
    """A Mastodon instance for one logged-in account, served on 127.0.0.1:<random port>."""

    thread_name = "fake-mastodon"

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        version: str = "4.6.4",
        max_characters: int = 500,
        characters_reserved_per_url: int = 23,
        max_media_attachments: int = 4,
        image_size_limit: int = 16777216,
        video_size_limit: int = 103809024,
        description_limit: int = 1500,
        username: str = "mastodonpy_test",
        display_name: str = "John Lennon",
        account_id: str = "117020565966271181",
        followers_count: int = 0,
        following_count: int = 0,
        domain: str | None = None,
        media_processing_polls: int = 0,
        ratelimit_limit: int = 300,
    ) -> None:
        self.token = token
        self.version = version
        self.max_characters = max_characters
        self.characters_reserved_per_url = characters_reserved_per_url
        self.max_media_attachments = max_media_attachments
        self.image_size_limit = image_size_limit
        self.video_size_limit = video_size_limit
        self.description_limit = description_limit
        self.username = username
        self.display_name = display_name
        self.account_id = account_id
        self.followers_count = followers_count
        self.following_count = following_count
        self._domain = domain
        # Uploads answer 202 and GET /api/v1/media/:id answers 206 this many times
        # before 200; 0 = processed synchronously (200 on upload, like small images).
        self.media_processing_polls = media_processing_polls
        self.media_processing_fails = False
        self.ratelimit_limit = ratelimit_limit
        # Force features regardless of version (None = follow the version).
        self.multi_get_enabled: bool | None = None
        self.quotes_enabled: bool | None = None
        self.instance_v2_enabled: bool | None = None

        self.requests: list[RecordedRequest] = []
        self.counts: Counter[str] = Counter()
        self.idempotent_replays = 0
        self._lock = threading.RLock()
        self._statuses: dict[str, dict[str, Any]] = {}
        self._deleted: set[str] = set()
        self._media: dict[str, dict[str, Any]] = {}
        self._idempotency: dict[str, str] = {}
        self._failures: list[Failure] = []
        self._delays: list[Delay] = []
        self._revoked = False
        self._stopping = threading.Event()
        self._seq = itertools.count(1)
        self._ratelimit_remaining = ratelimit_limit
        # Sign-in (https://docs.joinmastodon.org/methods/apps/, /methods/oauth/): apps registered
        # with POST /api/v1/apps, the consent page and the token endpoint. Issued tokens are
        # `self.token`, the one the API accepts. The consent page consents at once
        # (`self.oauth.decision = "deny"` declines).
        self.oauth = AuthorizationServer(issue_token=self._issue_token)

    @property
    def domain(self) -> str:
        """The instance's LOCAL_DOMAIN, as /api/v2/instance reports it."""
        return self._domain or self.host

    @property
    def handle(self) -> str:
        return f"{self.username}@{self.domain}"

    def account_context(self, **overrides: Any) -> Any:
        """An AccountContext for this server's account, token included."""
        from postcli.platforms.base import AccountContext

        values: dict[str, Any] = {
            "platform": "mastodon",
            "api_base_url": self.url,
            "secrets": {"access_token": self.token},
            "timeout": 5.0,
        }
        values.update(overrides)
        return AccountContext(**values)

    # -- features by version ---------------------------------------------------

    @property
    def has_quotes(self) -> bool:
        if self.quotes_enabled is not None:
            return self.quotes_enabled
        return _version_tuple(self.version) >= (4, 5, 0)

    @property
    def has_multi_get(self) -> bool:
        if self.multi_get_enabled is not None:
            return self.multi_get_enabled
        return _version_tuple(self.version) >= (4, 3, 0)

    @property
    def has_instance_v2(self) -> bool:
        if self.instance_v2_enabled is not None:
            return self.instance_v2_enabled
        return _version_tuple(self.version) >= (4, 0, 0)

    # -- test controls -----------------------------------------------------------

    def fail_next(
        self,
        method: str,
        path_prefix: str,
        status: int,
        json: Any = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
        after: int = 0,
    ) -> None:
        """Answer the next `times` matching requests with `status` (method "*" = any), once
        `after` of them have gone through (a thread's third part).

        Without `json` the body is {"error": <reason>} as Mastodon sends; a 429
        gets x-ratelimit-remaining 0 and a reset 30 s ahead unless `headers` say
        otherwise.
        """
        if json is None:
            json = {"error": "Too many requests" if status == 429 else _REASONS.get(status, "Error")}
        hdrs = dict(headers or {})
        if status == 429:
            reset = datetime.now(timezone.utc) + timedelta(seconds=30)
            hdrs.setdefault("X-RateLimit-Limit", str(self.ratelimit_limit))
            hdrs.setdefault("X-RateLimit-Remaining", "0")
            hdrs.setdefault("X-RateLimit-Reset", reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        with self._lock:
            self._failures.append(Failure(method.upper(), path_prefix, status, json, hdrs, times, after=after))

    def clear_faults(self) -> None:
        with self._lock:
            self._failures.clear()
            self._delays.clear()

    def revoke_token(self) -> None:
        """From now on every authenticated call answers 401."""
        self._revoked = True

    def set_counts(
        self,
        status_id: str,
        *,
        favourites: int | None = None,
        reblogs: int | None = None,
        replies: int | None = None,
        quotes: int | None = None,
    ) -> None:
        with self._lock:
            status = self._statuses[str(status_id)]
            for key, value in (
                ("favourites_count", favourites),
                ("reblogs_count", reblogs),
                ("replies_count", replies),
                ("quotes_count", quotes),
            ):
                if value is not None:
                    status[key] = value

    def delete_status(self, status_id: str) -> None:
        """Delete a status server-side (as if removed on the web)."""
        with self._lock:
            self._statuses.pop(str(status_id))
            self._deleted.add(str(status_id))

    def add_status(self, text: str, *, created_at: datetime | None = None, **counts: int) -> dict[str, Any]:
        """Put a status on the account directly (no request recorded); returns its JSON."""
        with self._lock:
            status = self._new_status(text, [], created_at or datetime.now(timezone.utc))
            for key, value in counts.items():
                status[f"{key}_count" if not key.endswith("_count") else key] = value
            return self._render_status(status)

    def media_processing(self, polls: int, fail: bool = False) -> None:
        """Next uploads: 202, then `polls` x 206, then 200 (or 422 when `fail`)."""
        self.media_processing_polls = polls
        self.media_processing_fails = fail

    # -- inspection ----------------------------------------------------------------

    @property
    def statuses(self) -> list[dict[str, Any]]:
        """The statuses the server holds (not deleted), oldest first, as JSON."""
        with self._lock:
            held = sorted(self._statuses.values(), key=lambda s: int(s["id"]))
            return [self._render_status(s) for s in held]

    def status(self, status_id: str) -> dict[str, Any] | None:
        with self._lock:
            s = self._statuses.get(str(status_id))
            return self._render_status(s) if s else None

    @property
    def media(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(m) for m in self._media.values()]

    def requests_to(self, method: str, path_prefix: str = "") -> list[RecordedRequest]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (method == "*" or r.method == method.upper()) and r.path.startswith(path_prefix)
            ]

    def count(self, route: str) -> int:
        """Requests answered per route, e.g. count("GET /api/v1/statuses/:id")."""
        with self._lock:
            return self.counts[route]

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()
            self.counts.clear()
            self.idempotent_replays = 0

    # -- JSON shapes (from the 4.6.4 recordings) -----------------------------------

    def _account_json(self, *, credentials: bool = False) -> dict[str, Any]:
        base = self.url
        account = {
            "id": self.account_id,
            "username": self.username,
            "acct": self.username,
            "display_name": self.display_name,
            "locked": False,
            "bot": False,
            "discoverable": None,
            "indexable": True,
            "group": False,
            "created_at": "2026-08-01T00:00:00.000Z",
            "note": "<p>I walk funny</p>",
            "url": f"{base}/@{self.username}",
            "uri": f"{base}/ap/users/{self.account_id}",
            "avatar": f"{base}/avatars/original/missing.png",
            "avatar_static": f"{base}/avatars/original/missing.png",
            "avatar_description": "",
            "header": f"{base}/headers/original/missing.png",
            "header_static": f"{base}/headers/original/missing.png",
            "header_description": "",
            "followers_count": self.followers_count,
            "following_count": self.following_count,
            "statuses_count": len(self._statuses),
            "last_status_at": datetime.now(timezone.utc).strftime("%Y-%m-%d") if self._statuses else None,
            "hide_collections": None,
            "show_media": True,
            "show_media_replies": True,
            "show_featured": True,
            "noindex": False,
            "feature_approval": {"automatic": [], "manual": [], "current_user": "denied"},
            "emojis": [],
            "roles": [],
            "fields": [],
        }
        if credentials:
            account["source"] = {
                "privacy": "public",
                "sensitive": False,
                "language": None,
                "note": "I walk funny",
                "fields": [],
                "follow_requests_count": 0,
                "hide_collections": None,
                "discoverable": None,
                "indexable": True,
                "attribution_domains": [],
                "quote_policy": "public",
            }
            account["role"] = {
                "id": "-99",
                "name": "",
                "permissions": "65536",
                "color": "",
                "highlighted": False,
                "collection_limit": 10,
            }
        return account

    def _content_html(self, text: str) -> str:
        """Mastodon's plain-text formatter: escaped, linkified, <p>/<br />."""
        base = self.url

        def link(url: str) -> str:
            prefix = re.match(r"https?://(www\.)?", url).group(0)
            rest = url[len(prefix) :]
            shown, hidden = rest[:30], rest[30:]
            cls = "ellipsis" if hidden else ""
            return (
                f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener">'
                f'<span class="invisible">{html.escape(prefix)}</span>'
                f'<span class="{cls}">{html.escape(shown)}</span>'
                f'<span class="invisible">{html.escape(hidden)}</span></a>'
            )

        def render_line(line: str) -> str:
            out, last = [], 0
            tokens = sorted(
                [(m.start(), m.end(), "url", m) for m in _URL.finditer(line)]
                + [(m.start(), m.end(), "mention", m) for m in _MENTION.finditer(line)]
            )
            for start, end, kind, m in tokens:
                if start < last:
                    continue
                out.append(html.escape(line[last:start]))
                if kind == "url":
                    out.append(link(m.group(0)))
                else:
                    user = m.group(1)
                    out.append(
                        f'<span class="h-card" translate="no"><a href="{base}/@{m.group(0)[1:]}" '
                        f'class="u-url mention">@<span>{html.escape(user)}</span></a></span>'
                    )
                last = end
            out.append(html.escape(line[last:]))
            return "".join(out)

        paragraphs = re.split(r"\n{2,}", text.replace("\r\n", "\n").strip())
        return "".join("<p>" + "<br />".join(render_line(ln) for ln in p.split("\n")) + "</p>" for p in paragraphs)

    def _new_status(self, text: str, media: list[dict[str, Any]], created_at: datetime) -> dict[str, Any]:
        # Snowflake ids like Mastodon's: milliseconds << 16 plus a sequence.
        sid = str((int(created_at.timestamp() * 1000) << 16) + (next(self._seq) & 0xFFFF))
        status = {
            "id": sid,
            "created_at": created_at,
            "text": text,
            "favourites_count": 0,
            "reblogs_count": 0,
            "replies_count": 0,
            "quotes_count": 0,
            "media": media,
            "in_reply_to_id": None,
            "visibility": "public",
        }
        self._statuses[sid] = status
        return status

    def _render_status(self, s: dict[str, Any], *, source: bool = False) -> dict[str, Any]:
        base = self.url
        sid = s["id"]
        out: dict[str, Any] = {
            "id": sid,
            "created_at": _iso(s["created_at"]),
            "in_reply_to_id": s.get("in_reply_to_id"),
            "in_reply_to_account_id": self.account_id if s.get("in_reply_to_id") else None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": s.get("visibility", "public"),
            "language": "en",
            "uri": f"{base}/ap/users/{self.account_id}/statuses/{sid}",
            "url": f"{base}/@{self.username}/{sid}",
            "replies_count": s["replies_count"],
            "reblogs_count": s["reblogs_count"],
            "favourites_count": s["favourites_count"],
        }
        if self.has_quotes:
            out["quotes_count"] = s["quotes_count"]
        out.update(
            {
                "edited_at": None,
                "favourited": False,
                "reblogged": False,
                "muted": False,
                "bookmarked": False,
                "pinned": False,
            }
        )
        # DELETE answers with the source text instead of the rendered content.
        if source:
            out["text"] = s["text"]
        else:
            out["content"] = self._content_html(s["text"])
        out.update(
            {
                "filtered": [],
                "reblog": None,
                "application": {"name": "postcli", "website": None},
                "account": self._account_json(),
                "media_attachments": [dict(m) for m in s["media"]],
                "mentions": [],
                "tags": [],
                "emojis": [],
                "card": None,
                "poll": None,
            }
        )
        if self.has_quotes:
            out["tagged_collections"] = []
            out["quote"] = None
            out["quote_approval"] = {"automatic": ["public"], "manual": [], "current_user": "automatic"}
        return out

    def _instance_v2_json(self) -> dict[str, Any]:
        base = self.url
        return {
            "domain": self.domain,
            "title": "Mastodon",
            "version": self.version,
            "source_url": "https://github.com/mastodon/mastodon",
            "description": "",
            "usage": {"users": {"active_month": 3}},
            "thumbnail": {"url": f"{base}/packs/media/images/preview.png"},
            "icon": [],
            "languages": ["en"],
            "configuration": {
                "urls": {
                    "streaming": f"ws://{self.host}",
                    "status": None,
                    "about": f"{base}/about",
                    "privacy_policy": f"{base}/privacy-policy",
                    "terms_of_service": None,
                },
                "vapid": {"public_key": "BFakeVapidKey="},
                "accounts": {
                    "max_featured_tags": 10,
                    "max_pinned_statuses": 5,
                    "max_profile_fields": 4,
                    "profile_field_name_limit": 255,
                    "profile_field_value_limit": 255,
                },
                "statuses": {
                    "max_characters": self.max_characters,
                    "max_media_attachments": self.max_media_attachments,
                    "characters_reserved_per_url": self.characters_reserved_per_url,
                },
                "media_attachments": {
                    "description_limit": self.description_limit,
                    "image_matrix_limit": 33177600,
                    "image_size_limit": self.image_size_limit,
                    "supported_mime_types": SUPPORTED_MIME_TYPES,
                    "video_frame_rate_limit": 120,
                    "video_matrix_limit": 8294400,
                    "video_size_limit": self.video_size_limit,
                },
                "polls": {
                    "max_options": 4,
                    "max_characters_per_option": 50,
                    "min_expiration": 300,
                    "max_expiration": 2629746,
                },
                "translation": {"enabled": False},
                "timelines_access": {
                    "live_feeds": {"local": "public", "remote": "public"},
                    "hashtag_feeds": {"local": "public", "remote": "public"},
                    "trending_link_feeds": {"local": "public", "remote": "public"},
                },
                "limited_federation": False,
            },
            "registrations": {"enabled": False, "approval_required": False, "message": None, "url": None},
            "api_versions": {"mastodon": 7},
            "contact": {"email": "admin@example.invalid", "account": None},
            "rules": [],
        }

    def _instance_v1_json(self) -> dict[str, Any]:
        v2 = self._instance_v2_json()["configuration"]
        media = dict(v2["media_attachments"])
        media.pop("description_limit")  # v1 never had it
        return {
            "uri": self.domain,
            "title": "Mastodon",
            "short_description": "",
            "description": "",
            "email": "admin@example.invalid",
            "version": self.version,
            "urls": {"streaming_api": f"ws://{self.host}"},
            "stats": {"user_count": 3, "status_count": len(self._statuses), "domain_count": 1},
            "thumbnail": f"{self.url}/packs/media/images/preview.png",
            "languages": ["en"],
            "registrations": False,
            "approval_required": False,
            "invites_enabled": True,
            "configuration": {
                "accounts": {"max_featured_tags": 10},
                "statuses": dict(v2["statuses"]),
                "media_attachments": media,
                "polls": dict(v2["polls"]),
            },
            "contact_account": None,
            "rules": [],
        }

    # -- HTTP --------------------------------------------------------------------

    def _ratelimit_headers(self) -> dict[str, str]:
        now = datetime.now(timezone.utc)
        # Mastodon's windows end on 5-minute boundaries.
        reset = now.replace(second=0, microsecond=0) + timedelta(minutes=5 - now.minute % 5)
        self._ratelimit_remaining = max(0, self._ratelimit_remaining - 1)
        return {
            "X-RateLimit-Limit": str(self.ratelimit_limit),
            "X-RateLimit-Remaining": str(self._ratelimit_remaining),
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }

    def _json(self, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        hdrs = {
            "Cache-Control": "private, no-store",
            "Vary": "Authorization, Origin",
            "X-Request-Id": f"fake-{next(self._seq)}",
        }
        hdrs.update(self._ratelimit_headers())
        hdrs.update(headers or {})
        return Response(
            jsonlib.dumps(payload),
            status=status,
            headers=hdrs,
            content_type="application/json; charset=utf-8",
        )

    def _error(self, status: int, message: str) -> Response:
        return self._json({"error": message}, status)

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
        request.get_data(cache=True)  # before the files are parsed: the body is recorded as sent
        files: dict[str, dict[str, Any]] = {}
        for name in request.files.keys():
            storage = request.files[name]
            data = storage.read()
            storage.seek(0)
            files[name] = {"filename": storage.filename, "content_type": storage.mimetype, "size": len(data)}
        return self._record_request(request, files=files)

    def _injected(self, req: RecordedRequest) -> Response | None:
        with self._lock:
            f = self._take_failure(req.method, req.path)
            if f is not None:
                self.counts[f"{req.method} {req.path} (injected {f.status})"] += 1
        return None if f is None else self._json(f.json, f.status, f.headers)

    def _authorized(self, request: Request) -> bool:
        auth = request.headers.get("Authorization", "")
        return not self._revoked and auth == f"Bearer {self.token}"

    def _route(self, request: Request, req: RecordedRequest) -> Response:
        method = request.method
        path = request.path.rstrip("/") or "/"

        def hit(route: str) -> None:
            with self._lock:
                self.counts[route] += 1

        # Instance information is public.
        if method == "GET" and path == "/api/v2/instance":
            hit("GET /api/v2/instance")
            if not self.has_instance_v2:
                return self._html_not_found()
            with self._lock:
                return self._json(self._instance_v2_json())
        if method == "GET" and path == "/api/v1/instance":
            hit("GET /api/v1/instance")
            with self._lock:
                return self._json(self._instance_v1_json())

        if (method, path) == ("GET", "/oauth/authorize"):
            hit("GET /oauth/authorize")
            return self.oauth.authorize(request)
        if (method, path) == ("POST", "/oauth/token"):
            hit("POST /oauth/token")
            return self.oauth.token(request)
        if (method, path) == ("POST", "/api/v1/apps"):
            hit("POST /api/v1/apps")
            return self._create_app(request)
        if not path.startswith("/api/"):
            hit(f"{method} {path}")
            return self._html_not_found()
        if not self._authorized(request):
            hit(f"{method} {path} (401)")
            return self._error(401, "The access token is invalid")

        for route_method, route, handler in self._routes():
            m = re.fullmatch(re.sub(r":(\w+)", r"(?P<\1>[^/]+)", route), path)
            if route_method == method and m:
                hit(f"{method} {route}")
                with self._lock:
                    return handler(request, req, **m.groupdict())
        hit(f"{method} {path}")
        return self._html_not_found()

    def _routes(self) -> list[tuple[str, str, Any]]:
        # Route names double as the keys of `counts`.
        return [
            ("GET", "/api/v1/accounts/verify_credentials", self._verify_credentials),
            ("GET", "/api/v1/accounts/:id/statuses", self._account_statuses),
            ("POST", "/api/v1/statuses", self._post_status),
            ("GET", "/api/v1/statuses", self._multi_get),
            ("GET", "/api/v1/statuses/:id", self._get_status),
            ("DELETE", "/api/v1/statuses/:id", self._delete_status),
            ("POST", "/api/v2/media", self._post_media),
            ("POST", "/api/v1/media", self._post_media),
            ("GET", "/api/v1/media/:id", self._get_media),
        ]

    def _html_not_found(self) -> Response:
        # Unknown routes get Rails' HTML 404 page, not JSON.
        hdrs = self._ratelimit_headers()
        return Response(
            "<!DOCTYPE html><html><body>404</body></html>",
            status=404,
            headers=hdrs,
            content_type="text/html; charset=utf-8",
        )

    # -- sign-in ---------------------------------------------------------------------

    def _create_app(self, request: Request) -> Response:
        """POST /api/v1/apps (form or JSON); the 4.3+ response shape."""
        data = request.get_json(silent=True) if request.mimetype == "application/json" else None
        get = (lambda k: data.get(k)) if isinstance(data, dict) else (lambda k: request.form.get(k))
        name, uris, scopes = get("client_name"), get("redirect_uris"), get("scopes") or "read"
        if not name:
            return self._error(422, "Validation failed: Application name can't be blank")
        if not uris:
            return self._error(422, "Validation failed: Redirect URI can't be blank")
        uri_list = uris if isinstance(uris, list) else str(uris).split()
        client = self.oauth.register(name, uri_list, str(scopes).split())
        return self._json(
            {
                "id": str(next(self._seq)),
                "name": name,
                "website": get("website"),
                "scopes": client.scopes,
                "redirect_uris": uri_list,
                "redirect_uri": "\n".join(uri_list),
                "vapid_key": "BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z-HiTU5T9eTG5GxVA0_OH5mMlI4UkkDTpaZwozy0TzdZ2M=",
                "client_id": client.client_id,
                "client_secret": client.client_secret,
                "client_secret_expires_at": 0,
            }
        )

    def _issue_token(self, client: Any, scopes: list[str]) -> dict[str, Any]:
        return {
            "access_token": self.token,
            "token_type": "Bearer",
            "scope": " ".join(scopes),
            "created_at": int(time.time()),
        }

    # -- handlers (called with the lock held) ---------------------------------------

    def _verify_credentials(self, request: Request, req: RecordedRequest) -> Response:
        return self._json(self._account_json(credentials=True))

    def _countable_length(self, text: str) -> int:
        import regex

        text = _URL.sub("x" * self.characters_reserved_per_url, text)
        text = _MENTION.sub(lambda m: "@" + m.group(1), text)
        return len(regex.findall(r"\X", text))

    def _post_status(self, request: Request, req: RecordedRequest) -> Response:
        key = request.headers.get("Idempotency-Key")
        if key and key in self._idempotency:
            sid = self._idempotency[key]
            self.idempotent_replays += 1
            if sid not in self._statuses:
                return self._error(404, "Record not found")
            return self._json(self._render_status(self._statuses[sid]))
        text = req.param("status") or ""
        if isinstance(req.json, dict):
            media_ids = [str(i) for i in req.json.get("media_ids") or []]
        else:
            media_ids = req.form.get("media_ids[]", [])
        if not text.strip() and not media_ids:
            return self._error(422, "Validation failed: Text can't be blank")
        if self._countable_length(text) > self.max_characters:
            return self._error(422, f"Validation failed: Text character limit of {self.max_characters} exceeded")
        if len(media_ids) > self.max_media_attachments:
            return self._error(422, f"Validation failed: Cannot attach more than {self.max_media_attachments} files")
        media = []
        for mid in media_ids:
            m = self._media.get(mid)
            if m is None or m.get("_status_id"):
                return self._error(422, f"Media ({mid}) does not exist or has already been attached to a post")
            if m["url"] is None:
                return self._error(422, "Cannot attach files that have not finished processing. Try again in a moment!")
            media.append(m)
        # POST /api/v1/statuses in_reply_to_id (docs.joinmastodon.org/methods/statuses/#create):
        # a parent that does not exist is 404 with statuses.errors.in_reply_not_found
        # (Api::V1::StatusesController#set_thread).
        parent_id = req.param("in_reply_to_id")
        if parent_id and str(parent_id) not in self._statuses:
            return self._error(404, "The post you are trying to reply to does not appear to exist.")
        visibility = req.param("visibility") or "public"
        if visibility not in ("public", "unlisted", "private", "direct"):
            return self._error(422, "Validation failed: Visibility is not included in the list")
        status = self._new_status(text, [], datetime.now(timezone.utc))
        status["visibility"] = visibility
        if parent_id:
            status["in_reply_to_id"] = str(parent_id)
            self._statuses[str(parent_id)]["replies_count"] += 1
        for m in media:
            m["_status_id"] = status["id"]
            status["media"].append({k: v for k, v in m.items() if not k.startswith("_")})
        if key:
            self._idempotency[key] = status["id"]
        return self._json(self._render_status(status))

    def _get_status(self, request: Request, req: RecordedRequest, id: str) -> Response:
        status = self._statuses.get(id)
        if status is None:
            return self._error(404, "Record not found")
        return self._json(self._render_status(status))

    def _delete_status(self, request: Request, req: RecordedRequest, id: str) -> Response:
        status = self._statuses.pop(id, None)
        if status is None:
            return self._error(404, "Record not found")
        self._deleted.add(id)
        return self._json(self._render_status(status, source=True))

    def _multi_get(self, request: Request, req: RecordedRequest) -> Response:
        if not self.has_multi_get:
            return self._html_not_found()
        ids = list(dict.fromkeys(request.args.getlist("id[]") or request.args.getlist("id")))
        if len(ids) > 20:  # Api::BaseController::DEFAULT_STATUSES_LIMIT
            return self._error(422, "Mastodon::ValidationError")
        found = [self._render_status(self._statuses[i]) for i in ids if i in self._statuses]
        return self._json(found)

    def _account_statuses(self, request: Request, req: RecordedRequest, id: str) -> Response:
        if id != self.account_id:
            return self._error(404, "Record not found")
        try:
            limit = min(max(int(request.args.get("limit", 20)), 1), 40)
        except ValueError:
            limit = 20
        max_id = request.args.get("max_id")
        since_id = request.args.get("since_id")
        min_id = request.args.get("min_id")
        held = sorted(self._statuses.values(), key=lambda s: int(s["id"]), reverse=True)
        if max_id:
            held = [s for s in held if int(s["id"]) < int(max_id)]
        if since_id:
            held = [s for s in held if int(s["id"]) > int(since_id)]
        if min_id:
            # min_id pages forward: the statuses just after min_id, still newest first.
            held = [s for s in held if int(s["id"]) > int(min_id)][-limit:]
        page = held[:limit]
        headers = {}
        if page:
            path = f"{self.url}/api/v1/accounts/{id}/statuses"
            nxt = urlencode({"limit": limit, "max_id": page[-1]["id"]})
            prv = urlencode({"limit": limit, "min_id": page[0]["id"]})
            headers["Link"] = f'<{path}?{nxt}>; rel="next", <{path}?{prv}>; rel="prev"'
        return self._json([self._render_status(s) for s in page], headers=headers)

    def _post_media(self, request: Request, req: RecordedRequest) -> Response:
        info = req.files.get("file")
        if info is None:
            return self._error(422, "Validation failed: File can't be blank")
        mime = info["content_type"] or "application/octet-stream"
        if mime not in SUPPORTED_MIME_TYPES:
            return self._error(422, "Validation failed: File content type is invalid, File is invalid")
        mid = str((int(time.time() * 1000) << 16) + (next(self._seq) & 0xFFFF))
        kind = "video" if mime.startswith("video/") else "audio" if mime.startswith("audio/") else "image"
        file_url = f"{self.url}/system/media_attachments/files/{mid}/original/file"
        asynchronous = self.media_processing_polls > 0 or self.media_processing_fails
        media = {
            "id": mid,
            "type": kind,
            "url": None if asynchronous else file_url,
            "preview_url": f"{self.url}/system/media_attachments/files/{mid}/small/file",
            "remote_url": None,
            "preview_remote_url": None,
            "text_url": None,
            "meta": {"original": {"width": 640, "height": 640}, "focus": {"x": 0.0, "y": 0.0}},
            "description": req.param("description"),
            "blurhash": "UPN1Ddxup{IT9an~.8RjK-oy%gkE%#W?i^t6",
            "_polls_left": self.media_processing_polls,
            "_fails": self.media_processing_fails,
            "_file_url": file_url,
            "_status_id": None,
            "_size": info["size"],
            "_filename": info["filename"],
        }
        self._media[mid] = media
        public = {k: v for k, v in media.items() if not k.startswith("_")}
        return self._json(public, 202 if asynchronous else 200)

    def _get_media(self, request: Request, req: RecordedRequest, id: str) -> Response:
        media = self._media.get(id)
        if media is None or media.get("_status_id"):
            return self._error(404, "Record not found")
        if media["url"] is None:
            if media["_polls_left"] > 0:
                media["_polls_left"] -= 1
                return self._json({k: v for k, v in media.items() if not k.startswith("_")}, 206)
            if media["_fails"]:
                return self._error(422, "Error processing thumbnail for uploaded media")
            media["url"] = media["_file_url"]
        return self._json({k: v for k, v in media.items() if not k.startswith("_")})


@pytest.fixture
def fake_mastodon() -> Any:
    """A running FakeMastodon with default settings (4.6.4, 500 characters)."""
    with FakeMastodon() as server:
        yield server
