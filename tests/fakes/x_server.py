"""A stateful fake X API v2 on a real loopback socket.

Shapes follow X's documentation (docs.x.com; its source github.com/xdevplatform/docs) and
the X API v2 OpenAPI (github.com/xdevplatform/xdk specs/openapi.json, version 2.167); each
route cites its page. Where the docs show no answer, the fake's answer is marked as an
assumption.

- Sign-in (fundamentals/authentication/oauth-2-0/authorization-code, user-access-token):
  GET /i/oauth2/authorize (x.com) with PKCE required and the callback compared exactly;
  POST /2/oauth2/token: a confidential app authenticates with HTTP Basic only (a secret in
  the body is refused as "Missing valid authorization header", an assumption of the exact
  words), a public app sends client_id in the body; {"token_type": "bearer", "expires_in":
  7200, "access_token", "scope", "refresh_token"}; every refresh rotates the refresh token
  and the old one answers 400 {"error": "invalid_request", "error_description": "Value
  passed for the token was invalid."}.
- Every API answer carries x-rate-limit-limit/-remaining/-reset (epoch seconds) for its
  endpoint (x-api/fundamentals/rate-limits); 401 is {"title": "Unauthorized", "type":
  "about:blank", "status": 401, "detail": "Unauthorized"}; problems are RFC 7807 bodies
  with type https://api.twitter.com/2/problems/... (x-api/fundamentals/response-codes-and-errors).
- POST /2/tweets (x-api/posts/manage-tweets/quickstart) -> 201 {"data": {"id", "text",
  "edit_history_tweet_ids"}}; a text identical to a recent post -> 403 "You are not allowed
  to create a Tweet with duplicate content." (an assumption of X's long-standing answer);
  DELETE /2/tweets/:id -> {"data": {"deleted": true}} ({"deleted": false} for a post
  already deleted: an assumption).
- GET /2/tweets?ids= (x-api/posts/lookup, x-api/fundamentals/metrics): public_metrics,
  non_public_metrics, organic_metrics; a deleted post is a resource-not-found entry in
  `errors`; private fields of a post older than 30 days (or not the user's, or withheld by
  the app's access level) drop the post from `data` with "Field Authorization Error"
  entries (type not-authorized-for-field; the shape quoted in several client libraries);
  includes.media[].public_metrics.view_count with expansions=attachments.media_keys.
  The fields parameter is tweet.fields (guides) or post.fields (OpenAPI): the fake takes
  one and refuses the other with the invalid-request body X gives for an unknown parameter.
- GET /2/users/:id/tweets (x-api/posts/timelines): newest first, start_time,
  max_results 5..100, pagination_token, meta.next_token; `text` holds t.co links and
  HTML-escaped &, <, >; entities.urls[] {start, end, url, expanded_url, display_url} and,
  for media, one more t.co link with a media_key (x-api/fundamentals/data-dictionary).
- GET /2/users/me (x-api/users/lookup) with user.fields=public_metrics.
- Media (x-api/media/quickstart/media-upload-chunked and the OpenAPI): POST
  /2/media/upload/initialize (JSON), /2/media/upload/{id}/append (multipart: media,
  segment_index), /2/media/upload/{id}/finalize, GET /2/media/upload?command=STATUS&media_id=
  (pending -> in_progress -> succeeded or failed), POST /2/media/metadata (alt_text up to
  1000 characters); sizes of x-api/media/introduction (image 5 MB, GIF 15 MB, video 512 MB).

    with FakeX() as server:
        ctx = server.account_context()
        server.fail_next("GET", "/2/tweets", 503)
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import json as jsonlib
import re
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from typing import Any

from werkzeug.wrappers import Request, Response

from fakes.loopback import BearerTokens, Delay, Failure, LoopbackServer, RecordedRequest, take_failure
from fakes.oauth_server import AuthorizationServer

ACCESS_TOKEN = "fake-x-access-token-0123456789"
REFRESH_TOKEN = "fake-x-refresh-token-0123456789"
CLIENT_ID = "fake-x-client-id-0123"
CLIENT_SECRET = "fake-x-client-secret-0123456789"
USER_ID = "1500000000000000001"
USERNAME = "alice_x"
EXPIRES_IN = 7200
SCOPES = ["tweet.read", "tweet.write", "users.read", "media.write", "offline.access"]
PROBLEMS = "https://api.twitter.com/2/problems/"
_EPOCH_MS = 1288834974657
_WINDOW = 900
_LIMITS = {  # per user and 15 minutes (x-api/fundamentals/rate-limits)
    "GET /2/tweets": 5000,
    "POST /2/tweets": 100,
    "DELETE /2/tweets/:id": 50,
    "GET /2/users/:id/tweets": 900,
    "GET /2/users/me": 75,
    "GET /2/media/upload": 1000,
    "POST /2/media/upload/initialize": 1875,
    "POST /2/media/upload/:id/append": 1875,
    "POST /2/media/upload/:id/finalize": 1875,
    "POST /2/media/metadata": 500,
}
_MEDIA_CAPS = {"tweet_image": 5 * 1024 * 1024, "tweet_gif": 15 * 1024 * 1024, "tweet_video": 512 * 1024 * 1024}
_MEDIA_KEY = {"tweet_image": "3", "tweet_gif": "16", "tweet_video": "7"}  # photo, animated_gif, video
_MEDIA_TYPE = {"tweet_image": "photo", "tweet_gif": "animated_gif", "tweet_video": "video"}
# The fake's own idea of a link in a post (not twitter-text's): enough for the tests' texts.
_LINK = re.compile(r"https?://[^\s]+|\b[a-z0-9-]+\.(?:com|org|net|io)(?:/[^\s]*)?", re.IGNORECASE)


def problem(status: int, title: str, detail: str, kind: str | None = None, **extra: Any) -> dict[str, Any]:
    """An RFC 7807 problem as X writes them."""
    return {
        "title": title,
        "detail": detail,
        "type": PROBLEMS + kind if kind else "about:blank",
        "status": status,
        **extra,
    }


USAGE_CAPPED = {  # the 429 quoted in github.com/xdevplatform/xdk/issues/25
    "account_id": "1234",
    "product_name": "standard-basic",
    "title": "UsageCapExceeded",
    "period": "Monthly",
    "scope": "Product",
    "detail": "Usage cap exceeded: Monthly product cap",
    "type": PROBLEMS + "usage-capped",
}
CLIENT_FORBIDDEN = {  # the 403 X gives an app whose access does not cover the endpoint
    "client_id": "28659504",
    "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens "
    "from a Twitter developer App that is attached to a Project. You can create a project via the developer portal.",
    "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
    "title": "Client Forbidden",
    "required_enrollment": "Appropriate Level of API Access",
    "reason": "client-not-enrolled",
    "type": PROBLEMS + "client-forbidden",
}
TOO_MANY = {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}


def snowflake(when: datetime, seq: int) -> str:
    return str(((int(when.timestamp() * 1000) - _EPOCH_MS) << 22) | (seq & 0x3FFFFF))


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class FakeX(BearerTokens, LoopbackServer):
    """One X user (and the strangers whose posts a test adds), on 127.0.0.1:<random port>."""

    thread_name = "fake-x"

    def __init__(
        self,
        *,
        username: str = USERNAME,
        user_id: str = USER_ID,
        followers: int = 321,
        confidential: bool = True,
        fields_param: str = "tweet.fields",
        renamed: bool = False,
        private_metrics: bool = True,
        processing_checks: int = 2,
    ) -> None:
        self.username, self.user_id, self.followers = username, user_id, followers
        self.client_id = CLIENT_ID
        self.client_secret = CLIENT_SECRET if confidential else ""
        self.access_token, self.refresh_token = ACCESS_TOKEN, REFRESH_TOKEN
        self.issued_tokens: list[tuple[str, str]] = []
        self.fields_param = fields_param  # the name of the post fields parameter this fake takes
        self.renamed = renamed  # answer with the OpenAPI's names (repost_count, post_count...)
        self.private_metrics = private_metrics  # the app's access level gives non-public metrics
        self.processing_checks = processing_checks  # STATUS calls before a video is processed
        self.processing_fails = False
        self.oauth = AuthorizationServer(issue_token=self._issue, loopback_any_port=False, require_pkce=True)
        self.requests: list[RecordedRequest] = []
        self.counts: Counter[str] = Counter()
        self._lock = threading.RLock()
        self._failures: list[Failure] = []
        self._delays: list[Delay] = []
        self._lost: list[list[Any]] = []  # [method, path, times]: answered only after the client gave up
        self._stopping = threading.Event()
        self._seq = itertools.count(1)
        self._posts: dict[str, dict[str, Any]] = {}
        self._deleted: set[str] = set()
        self._media: dict[str, dict[str, Any]] = {}
        self._windows: dict[str, list[int]] = {}  # endpoint -> [remaining, reset]

    def account_context(self, **overrides: Any) -> Any:
        """An AccountContext as `accounts add x` leaves it for this fake's user."""
        from postcli.platforms.base import AccountContext

        secrets = {"access_token": self.access_token, "refresh_token": self.refresh_token}
        if self.client_secret:
            secrets["client_secret"] = self.client_secret
        values: dict[str, Any] = {
            "platform": "x",
            "api_base_url": self.url,
            "handle": self.username,
            "external_id": self.user_id,
            "secrets": secrets,
            "settings": {"client_id": self.client_id, "user_id": self.user_id, "username": self.username},
            "timeout": 5.0,
        }
        values.update(overrides)
        return AccountContext(**values)

    # -- test controls --------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        path_prefix: str,
        status: int,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
        exact: bool = False,
        after: int = 0,
    ) -> None:
        """Answer the next `times` matching requests with `status` and an X problem body (after
        letting `after` of them through: the third part of a thread)."""
        body = json if json is not None else problem(status, "Error", f"HTTP {status}")
        self._add_failure(
            Failure(method.upper(), path_prefix, status, body, dict(headers or {}), times, exact, after=after)
        )

    def lose_answer(self, method: str, path: str, times: int = 1, after: int = 0) -> None:
        """Do what the next matching request asks (after letting `after` of them through), then
        keep its answer until the client gave up (a lost answer: the post exists, the caller
        cannot know)."""
        with self._lock:
            self._lost.append([method.upper(), path, times, after])

    def spend_window(self, endpoint: str, reset_in: float = 600) -> None:
        """The next answer of `endpoint` ("GET /2/tweets") says no request is left until the reset."""
        with self._lock:
            self._windows[endpoint] = [1, int(time.time() + reset_in)]

    def add_post(
        self,
        text: str,
        *,
        created_at: datetime | None = None,
        media: tuple[str, ...] = (),
        author_id: str | None = None,
        **metrics: int,
    ) -> str:
        """A post on X made elsewhere; `media` are media categories (tweet_image...); its id."""
        with self._lock:
            keys = [self._new_media(category, ready=True)["media_key"] for category in media]
            post = self._new_post(text, keys, created_at or datetime.now(timezone.utc), author_id or self.user_id)
            post["metrics"].update(metrics)
            return post["id"]

    def set_metrics(self, post_id: str, **counts: int | None) -> None:
        """Counts of a post (like_count, impression_count, url_link_clicks, view_count...);
        None leaves one out of the answer."""
        with self._lock:
            self._posts[post_id]["metrics"].update(counts)

    def delete_post(self, post_id: str) -> None:
        with self._lock:
            self._posts.pop(post_id)
            self._deleted.add(post_id)

    # -- inspection -----------------------------------------------------------------------

    @property
    def posts(self) -> list[dict[str, Any]]:
        """The user's posts, oldest first: {id, text, media_keys, reply_settings, created_at}."""
        with self._lock:
            return [
                dict(p) for p in sorted(self._posts.values(), key=lambda p: int(p["id"])) if p["author"] == self.user_id
            ]

    def media(self, media_id: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._media[media_id])

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

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()
            self.counts.clear()

    # -- state ----------------------------------------------------------------------------

    def _issue(self, client: Any, scopes: list[str]) -> dict[str, Any]:
        """A new token pair (from a code or a refresh), the old refresh token dead."""
        from fakes.x_routes import issue

        return issue(self, scopes)

    def _new_post(self, text: str, media_keys: list[str], when: datetime, author: str) -> dict[str, Any]:
        post_id = snowflake(when, next(self._seq))
        post = {
            "id": post_id,
            "text": text,
            "media_keys": media_keys,
            "created_at": when,
            "author": author,
            "reply_settings": "everyone",
            "in_reply_to": None,  # the id of the post it replies to (body.reply.in_reply_to_tweet_id)
            "metrics": {
                "retweet_count": 0,
                "reply_count": 0,
                "like_count": 0,
                "quote_count": 0,
                "bookmark_count": 0,
                "impression_count": 0,
                "url_link_clicks": 0,
                "user_profile_clicks": 0,
            },
        }
        self._posts[post_id] = post
        return post

    def _new_media(self, category: str, *, ready: bool = False, total: int = 0) -> dict[str, Any]:
        media_id = str(1880028106020515840 + next(self._seq))
        item = {
            "id": media_id,
            "media_key": f"{_MEDIA_KEY[category]}_{media_id}",
            "category": category,
            "total_bytes": total,
            "received": {},
            "state": "succeeded" if ready else "uploading",
            "checks": 0,
            "alt_text": None,
            "view_count": 0 if category != "tweet_image" else None,
        }
        self._media[media_id] = item
        return item

    # -- rendering --------------------------------------------------------------------------

    def _tco(self, value: str) -> str:
        return "https://t.co/" + base64.urlsafe_b64encode(hashlib.sha1(value.encode()).digest())[:10].decode().replace(
            "-", "a"
        ).replace("_", "b")

    def _rendered(self, post: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        """The post's text as X shows it: t.co links, the media link, &<> escaped; entities.urls."""
        out, urls, last = "", [], 0
        for m in _LINK.finditer(post["text"]):
            out += html.escape(post["text"][last : m.start()], quote=False)
            link = m.group(0)
            short = self._tco(link)
            expanded = link if "://" in link else f"http://{link}"
            urls.append(
                {
                    "start": len(out),
                    "end": len(out) + len(short),
                    "url": short,
                    "expanded_url": expanded,
                    "display_url": link.split("://")[-1][:25],
                }
            )
            out += short
            last = m.end()
        out += html.escape(post["text"][last:], quote=False)
        if post["media_keys"]:
            short = self._tco(post["id"] + "/media")
            kind = "video" if post["media_keys"][0].startswith("7_") else "photo"
            out = (out + " " if out else "") + short
            urls.append(
                {
                    "start": len(out) - len(short),
                    "end": len(out),
                    "url": short,
                    "expanded_url": f"https://x.com/{self.username}/status/{post['id']}/{kind}/1",
                    "display_url": f"pic.x.com/{post['id'][-10:]}",
                    "media_key": post["media_keys"][0],
                }
            )
        return out, urls

    def _post_json(self, post: dict[str, Any], fields: set[str]) -> dict[str, Any]:
        text, urls = self._rendered(post)
        history = "edit_history_post_ids" if self.renamed else "edit_history_tweet_ids"
        out: dict[str, Any] = {"id": post["id"], "text": text, history: [post["id"]]}
        m = post["metrics"]
        shares = "repost_count" if self.renamed else "retweet_count"
        if "created_at" in fields:
            out["created_at"] = _iso(post["created_at"])
        if "author_id" in fields:
            out["author_id"] = post["author"]
        if "entities" in fields and urls:
            out["entities"] = {"urls": urls}
        if "referenced_tweets" in fields and post["in_reply_to"]:
            # docs.x.com/x-api/fundamentals/data-dictionary (Post: referenced_tweets, type replied_to)
            out["referenced_tweets"] = [{"type": "replied_to", "id": post["in_reply_to"]}]
        if "in_reply_to_user_id" in fields and post["in_reply_to"]:
            parent = self._posts.get(post["in_reply_to"])
            out["in_reply_to_user_id"] = parent["author"] if parent else self.user_id
        if "attachments" in fields and post["media_keys"]:
            out["attachments"] = {"media_keys": list(post["media_keys"])}
        if "public_metrics" in fields:
            public = {
                shares: m["retweet_count"],
                "reply_count": m["reply_count"],
                "like_count": m["like_count"],
                "quote_count": m["quote_count"],
                "bookmark_count": m["bookmark_count"],
                "impression_count": m["impression_count"],
            }
            out["public_metrics"] = {k: v for k, v in public.items() if v is not None}
        private = {
            k: m[k] for k in ("impression_count", "url_link_clicks", "user_profile_clicks") if m.get(k) is not None
        }
        if "non_public_metrics" in fields:
            out["non_public_metrics"] = private
        if "organic_metrics" in fields:
            organic = {
                **private,
                "like_count": m["like_count"],
                "reply_count": m["reply_count"],
                shares: m["retweet_count"],
            }
            out["organic_metrics"] = {k: v for k, v in organic.items() if v is not None}
        return out

    def _media_json(self, key: str) -> dict[str, Any] | None:
        item = next((m for m in self._media.values() if m["media_key"] == key), None)
        if item is None:
            return None
        out: dict[str, Any] = {"media_key": key, "type": _MEDIA_TYPE[item["category"]]}
        if item["view_count"] is not None:
            out["public_metrics"] = {"view_count": item["view_count"]}
        return out

    def set_views(self, post_id: str, views: int) -> None:
        """The video of a post was viewed `views` times."""
        with self._lock:
            for key in self._posts[post_id]["media_keys"]:
                item = next(m for m in self._media.values() if m["media_key"] == key)
                item["view_count"] = views

    # -- HTTP -------------------------------------------------------------------------------

    def _json(self, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(
            jsonlib.dumps(payload), status=status, headers=headers or {}, content_type="application/json; charset=utf-8"
        )

    def _limit_headers(self, endpoint: str) -> dict[str, str]:
        """x-rate-limit-* of `endpoint`'s window, this request counted."""
        now = int(time.time())
        with self._lock:
            window = self._windows.get(endpoint)
            if window is None or window[1] <= now:
                window = self._windows[endpoint] = [_LIMITS.get(endpoint, 900), now + _WINDOW]
            window[0] = max(0, window[0] - 1)
            return {
                "x-rate-limit-limit": str(_LIMITS.get(endpoint, 900)),
                "x-rate-limit-remaining": str(window[0]),
                "x-rate-limit-reset": str(window[1]),
            }

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        recorded = self._record(request)
        self._maybe_delay(recorded)
        try:
            response = self._injected(recorded) or self._route(request, recorded)
        except Exception as exc:  # a fake bug must show up as a loud 500
            response = self._json(
                problem(500, "Internal Error", f"fake server error: {type(exc).__name__}: {exc}"), 500
            )
        recorded.status = response.status_code
        if self._take_lost(recorded):
            self._stopping.wait(30)
        return response(environ, start_response)

    def _take_lost(self, req: RecordedRequest) -> bool:
        with self._lock:
            for lost in self._lost:
                if lost[2] > 0 and lost[0] == req.method and req.path == lost[1]:
                    if lost[3] > 0:
                        lost[3] -= 1
                        continue
                    lost[2] -= 1
                    return True
        return False

    def _record(self, request: Request) -> RecordedRequest:
        request.get_data(cache=True)  # before the files are parsed: the body is recorded as sent
        files = {}
        for name, upload in request.files.items():
            data = upload.read()
            files[name] = {
                "filename": upload.filename,
                "content_type": upload.content_type,
                "size": len(data),
                "data": data,
            }
        return self._record_request(request, files=files)

    def _injected(self, req: RecordedRequest) -> Response | None:
        with self._lock:
            failure = take_failure(self._failures, req.method, req.path)
            if failure is None:
                return None
            self.counts[f"{req.method} {req.path} (injected {failure.status})"] += 1
        return self._json(failure.json, failure.status, failure.headers)

    def _route(self, request: Request, req: RecordedRequest) -> Response:
        from fakes.x_routes import route

        return route(self, request, req)
