"""A stateful fake Reddit (www.reddit.com's OAuth2 endpoints and oauth.reddit.com's Data API) on
one loopback socket.

Shapes follow Reddit's own reference and the answers PRAW recorded from the live API:

- www.reddit.com/dev/api, whose source is github.com/reddit-archive/reddit
  (r2/r2/controllers/oauth2.py: GET /api/v1/authorize, POST /api/v1/access_token;
  r2/r2/controllers/api.py: POST /api/submit, POST /api/del; POST /api/comment and
  GET /user/{name}/comments in tests/fakes/reddit_comments.py);
- github.com/reddit-archive/reddit/wiki/OAuth2 (installed apps have no secret: HTTP Basic with
  the client id and an empty password; duration=permanent gives a refresh token; tokens last
  3600 s) and wiki/API with the Data API wiki
  (support.reddithelp.com/hc/en-us/articles/16160319875092: the User-Agent form
  "<platform>:<app ID>:<version string> (by /u/<reddit username>)", X-Ratelimit-Used/-Remaining/
  -Reset);
- PRAW's recorded cassettes (github.com/praw-dev/praw, tests/integration/cassettes):
  TestSubreddit.test_submit__selftext / __url_selftext (the submit answer
  {"json": {"errors": [], "data": {"url", "drafts_count", "id", "name"}}} and
  x-ratelimit-remaining as a float, "599.0"), TestSubredditLinkFlairTemplates.test__iter
  (link_flair_v2 is a bare array of {"id", "text", "mod_only", "text_editable", "type", ...}),
  TestComment.test_invalid (/api/info leaves out an unknown id: an empty Listing),
  TestInbox.test_sent (/api/v1/me with karma and "subreddit": {"subscribers"}), a 401 body
  {"message": "Unauthorized", "error": 401} with www-authenticate Bearer ... invalid_token, and
  a refresh answer carrying "refresh_token".

What the fake assumes where no example was found (docs/platforms/reddit.md says so too): the
token endpoint answers an unknown refresh token with HTTP 200 {"error": "invalid_grant"}
(prawcore: "Why are these OKAY responses?"); SUBMIT_VALIDATION_FLAIR_REQUIRED arrives in
json.errors with field "flair"; a User-Agent not in Reddit's form gets 429 (the rules say such
clients are "drastically limited").

    with FakeReddit() as reddit:
        ctx = reddit.account_context()
        reddit.add_subreddit("pics", link_type="link")
        reddit.fail_next("GET", "/api/info", 503)
"""

from __future__ import annotations

import itertools
import json as jsonlib
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import pytest
from werkzeug.wrappers import Request, Response

from fakes import reddit_comments
from fakes.loopback import BearerTokens, Delay, Failure, LoopbackServer, RecordedRequest
from fakes.oauth_server import AuthorizationServer, Client

CLIENT_ID = "fakeRedditClient1"
ACCESS_TOKEN = "fake-reddit-access-token-0123456789"
REFRESH_TOKEN = "fake-reddit-refresh-token-0123456789"
USER_ID36 = "3ebyblla"
EXPIRES_IN = 3600
# Reddit's required form (the Data API wiki).
USER_AGENT = re.compile(r"[^:\s]+:[^:\s]+:[^:\s]+ \(by /u/[A-Za-z0-9_-]{3,20}\)")
_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests"}
_REASONS.update({500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"})


@dataclass
class Subreddit:
    name: str
    link_type: str = "any"  # "any", "self" (text posts only), "link" (links only)
    flair_required: bool = False
    flairs: list[dict[str, Any]] = field(default_factory=list)


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


class FakeReddit(BearerTokens, LoopbackServer):
    """One Reddit user and the subreddits it may post to, served on 127.0.0.1:<random port>."""

    thread_name = "fake-reddit"

    def __init__(self, *, username: str = "alice_writes", subscribers: int | None = 42) -> None:
        self.username = username
        self.subscribers = subscribers  # the profile's followers; None: me.subreddit is null
        self.karma = {"link_karma": 120, "comment_karma": 30, "total_karma": 150, "awardee_karma": 0}
        self.client_id = CLIENT_ID
        self.access_token = ACCESS_TOKEN
        self.refresh_token = REFRESH_TOKEN
        self.expires_in = EXPIRES_IN
        self.rotate_refresh = False  # hand out a new refresh token on each refresh
        self.issued: list[tuple[str, str | None]] = []
        self.subreddits: dict[str, Subreddit] = {}
        self.add_subreddit("test")
        self.ratelimit = {"used": 0, "remaining": 600.0, "reset": 300}
        self.submit_errors: list[list[Any]] = []  # json.errors the next submit answers with
        self.lose_submit_answers = 0  # submits carried out whose answer is held back
        self.comments: dict[str, dict[str, Any]] = {}  # t1_ fullname -> comment (reddit_comments.py)
        self.comment_errors: list[list[Any]] = []  # json.errors the next comment answers with
        self.lose_comment_answers = 0
        # The consent page and the code exchange (oauth2.py); Reddit compares redirect URIs whole.
        self.oauth = AuthorizationServer(
            issue_token=self._issue_from_code, token_error=self._token_error, loopback_any_port=False
        )
        self._permanent: set[str] = set()
        self._code_permanent = False
        self.requests: list[RecordedRequest] = []
        self.counts: Counter[str] = Counter()
        self._lock = threading.RLock()
        self._posts: dict[str, dict[str, Any]] = {}
        self._failures: list[Failure] = []
        self._delays: list[Delay] = []
        self._stopping = threading.Event()
        self._seq = itertools.count(1)
        self._next = 36**6 * 3  # seven-character ids, as Reddit's are now

    def account_context(self, **overrides: Any) -> Any:
        """An AccountContext as `accounts login reddit` leaves it."""
        from postcli.platforms.base import AccountContext

        values: dict[str, Any] = {
            "platform": "reddit",
            "api_base_url": self.url,
            "handle": self.username,
            "external_id": f"t2_{USER_ID36}",
            "secrets": {"access_token": self.access_token, "refresh_token": self.refresh_token},
            "settings": {"client_id": self.client_id, "username": self.username, "user_id": f"t2_{USER_ID36}"},
            "timeout": 5.0,
        }
        values.update(overrides)
        return AccountContext(**values)

    def register_app(self, redirect_uri: str) -> Client:
        """The installed app, as made at reddit.com/prefs/apps: no secret, one redirect URI."""
        scopes = ["identity", "submit", "read", "history", "edit", "flair"]
        return self.oauth.add_client(self.client_id, "", [redirect_uri], scopes)

    # -- test controls -----------------------------------------------------------

    def add_subreddit(self, name: str, **kw: Any) -> Subreddit:
        sub = Subreddit(name, **kw)
        self.subreddits[name.lower()] = sub
        return sub

    def set_ratelimit(self, *, used: int, remaining: float, reset: int) -> None:
        with self._lock:
            self.ratelimit = {"used": used, "remaining": remaining, "reset": reset}

    def fail_next(
        self,
        method: str,
        path_prefix: str,
        status: int,
        json: Any = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` matching requests with `status` (method "*" = any); without
        `json`, Reddit's {"message": <reason>, "error": <status>}."""
        if json is None:
            json = {"message": _REASONS.get(status, "Error"), "error": status}
        with self._lock:
            self._add_failure(Failure(method.upper(), path_prefix, status, json, dict(headers or {}), times))

    def fail_next_text(self, method: str, path_prefix: str, status: int, text: str) -> None:
        """Answer the next matching request with a body that is not JSON (a proxy's error page)."""
        with self._lock:
            self._add_failure(Failure(method.upper(), path_prefix, status, text, {}, 1, detail="text"))

    def add_post(
        self,
        title: str,
        text: str = "",
        *,
        subreddit: str = "test",
        link: str | None = None,
        created: float | None = None,
    ) -> str:
        """A post of the user made elsewhere; its fullname."""
        with self._lock:
            return self._new_post(subreddit, title, text, link, created or time.time())["name"]

    def set_numbers(self, name: str, **numbers: Any) -> None:
        """score, num_comments, num_crossposts, upvote_ratio, view_count..."""
        with self._lock:
            self._posts[name].update(numbers)

    def remove(self, name: str, category: str = "moderator") -> None:
        """Moderators (or Reddit) removed the post: it stays, listed as removed."""
        with self._lock:
            self._posts[name]["removed_by_category"] = category

    def delete_by_author(self, name: str) -> None:
        with self._lock:
            self._deleted(self._posts[name])

    def purge(self, name: str) -> None:
        """Gone from every listing (what /api/info answers for an id it does not know)."""
        with self._lock:
            self._posts.pop(name)

    # -- inspection ----------------------------------------------------------------

    @property
    def posts(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(p) for p in sorted(self._posts.values(), key=lambda p: p["created_utc"])]

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

    # -- HTTP --------------------------------------------------------------------------

    def _json(self, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(
            jsonlib.dumps(payload), status=status, headers=headers or {}, content_type="application/json; charset=UTF-8"
        )

    def _api_json(self, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        """An oauth.reddit.com answer: each one counts against the window it reports."""
        with self._lock:
            self.ratelimit["used"] += 1
            self.ratelimit["remaining"] = max(0.0, float(self.ratelimit["remaining"]) - 1)
            hdrs = {
                "x-ratelimit-used": str(self.ratelimit["used"]),
                "x-ratelimit-remaining": f"{float(self.ratelimit['remaining']):.1f}",
                "x-ratelimit-reset": str(self.ratelimit["reset"]),
            }
        hdrs.update(headers or {})
        return self._json(payload, status, hdrs)

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        recorded = self._record(request)
        self._maybe_delay(recorded)
        try:
            response = self._injected(recorded) or self._route(request, recorded)
        except Exception as exc:  # a fake bug must show up as a loud 500
            response = self._json({"message": f"fake server error: {type(exc).__name__}: {exc}", "error": 500}, 500)
        recorded.status = response.status_code
        return response(environ, start_response)

    def _record(self, request: Request) -> RecordedRequest:
        return self._record_request(request)

    def _injected(self, req: RecordedRequest) -> Response | None:
        with self._lock:
            failure = self._take_failure(req.method, req.path)
            if failure is None:
                return None
            self.counts[f"{req.method} {req.path} (injected {failure.status})"] += 1
        if failure.detail == "text":
            return Response(failure.json, status=failure.status, content_type="text/html")
        if req.path.startswith("/api/v1/access_token"):
            return self._json(failure.json, failure.status, failure.headers)
        return self._api_json(failure.json, failure.status, failure.headers)

    def _route(self, request: Request, req: RecordedRequest) -> Response:
        method, path = request.method, request.path.rstrip("/") or "/"

        def hit(route: str) -> None:
            with self._lock:
                self.counts[route] += 1

        if method == "GET" and path == "/api/v1/authorize":
            hit("GET /api/v1/authorize")
            return self._authorize(request)
        if not USER_AGENT.fullmatch(request.headers.get("User-Agent", "")):
            hit(f"{method} {path} (bad User-Agent)")
            return self._json({"message": "Too Many Requests", "error": 429}, 429)
        if method == "POST" and path == "/api/v1/access_token":
            hit(f"POST /api/v1/access_token ({req.param('grant_type')})")
            return self._access_token(request, req)
        if req.headers.get("Authorization", "") != f"bearer {self.access_token}":
            hit(f"{method} {path} (401)")
            return self._api_json(
                {"message": "Unauthorized", "error": 401},
                401,
                {"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'},
            )
        routes = {
            ("GET", "/api/v1/me"): self._me,
            ("POST", "/api/submit"): self._submit,
            ("GET", "/api/info"): self._info,
            ("POST", "/api/del"): self._del,
            ("POST", "/api/comment"): lambda r: reddit_comments.comment(self, r),
        }
        handler = routes.get((method, path))
        name = f"{method} {path}"
        if handler is None:
            m = re.fullmatch(r"/user/([^/]+)/submitted", path)
            if method == "GET" and m:
                handler, name = (lambda r: self._submitted(m.group(1), r)), "GET /user/:name/submitted"
            m3 = re.fullmatch(r"/user/([^/]+)/comments", path)
            if method == "GET" and m3:
                handler, name = (
                    (lambda r: reddit_comments.user_comments(self, m3.group(1), r)),
                    "GET /user/:name/comments",
                )
            m2 = re.fullmatch(r"/r/([^/]+)/api/link_flair_v2", path)
            if method == "GET" and m2:
                handler, name = (lambda r: self._flairs(m2.group(1))), "GET /r/:sr/api/link_flair_v2"
        hit(name)
        if handler is None:
            return self._api_json({"message": "Not Found", "error": 404}, 404)
        return handler(req)

    # -- OAuth2 (oauth2.py) ---------------------------------------------------------------

    def _authorize(self, request: Request) -> Response:
        response = self.oauth.authorize(request)
        location = response.headers.get("Location", "")
        code = dict(p.split("=", 1) for p in urlparse(location).query.split("&") if "=" in p).get("code")
        if code and request.args.get("duration") == "permanent":
            with self._lock:
                self._permanent.add(code)
        return response

    def _access_token(self, request: Request, req: RecordedRequest) -> Response:
        # _get_client_auth: the Basic header names the client; an installed app has no secret.
        auth = request.authorization
        if auth is None or auth.type != "basic" or auth.username != self.client_id or (auth.password or ""):
            return self._json(
                {"message": "Unauthorized", "error": 401}, 401, {"WWW-Authenticate": 'Basic realm="reddit"'}
            )
        grant = req.param("grant_type")
        with self._lock:
            if grant == "authorization_code":
                self._code_permanent = req.param("code") in self._permanent
                return self.oauth.token(request)
            if grant != "refresh_token":
                return self._json({"error": "unsupported_grant_type"})
            if req.param("refresh_token") != self.refresh_token:
                return self._json({"error": "invalid_grant"})  # with HTTP 200, as Reddit does
            n = next(self._seq)
            self.access_token = f"fake-reddit-access-{n}-refreshed"
            if self.rotate_refresh:
                self.refresh_token = f"fake-reddit-refresh-{n}-rotated"
            self.issued.append((self.access_token, self.refresh_token))
            return self._json(
                {
                    "access_token": self.access_token,
                    "token_type": "bearer",
                    "expires_in": self.expires_in,
                    "refresh_token": self.refresh_token,
                    "scope": "edit flair history identity read submit",
                }
            )

    def _issue_from_code(self, client: Client, scopes: list[str]) -> dict[str, Any]:
        n = next(self._seq)
        self.access_token = f"fake-reddit-access-{n}-fromcode"
        body: dict[str, Any] = {
            "access_token": self.access_token,
            "token_type": "bearer",
            "expires_in": self.expires_in,
            "scope": " ".join(scopes),
        }
        if self._code_permanent:  # only a permanent grant is refreshable
            self.refresh_token = f"fake-reddit-refresh-{n}-fromcode"
            body["refresh_token"] = self.refresh_token
        self.issued.append((self.access_token, body.get("refresh_token")))
        return body

    def _token_error(self, status: int, error: str, description: str) -> Response:
        # A refused code is {"error": "invalid_grant"} with HTTP 200 (_make_token_dict, api_wrapper).
        if error == "invalid_client":
            return self._json({"message": "Unauthorized", "error": 401}, 401)
        return self._json({"error": error})

    # -- the Data API (api.py) ----------------------------------------------------------

    def _me(self, req: RecordedRequest) -> Response:
        profile = None
        if self.subscribers is not None:
            profile = {
                "display_name": f"u_{self.username}",
                "display_name_prefixed": f"u/{self.username}",
                "name": "t5_y1k6h",
                "subscribers": self.subscribers,
                "title": "Alice writes",
                "url": f"/user/{self.username}/",
            }
        return self._api_json(
            {
                "name": self.username,
                "id": USER_ID36,
                **self.karma,
                "awarder_karma": 0,
                "created_utc": 1552433444.0,
                "has_verified_email": True,
                "is_suspended": False,
                "verified": True,
                "subreddit": profile,
            }
        )

    def _new_post(self, sr: str, title: str, text: str, link: str | None, created: float) -> dict[str, Any]:
        self._next += 1 + next(self._seq) % 5
        id36 = _base36(self._next)
        sub = self.subreddits.get(sr.lower())
        display = sub.name if sub else sr
        slug = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:50]
        permalink = f"/r/{display}/comments/{id36}/{slug}/"
        post = {
            "id": id36,
            "name": f"t3_{id36}",
            "title": title,
            "selftext": text,
            "is_self": link is None,
            # The fake is www.reddit.com too (--api-base stands in for every host).
            "url": link if link is not None else self.url + permalink,
            "permalink": permalink,
            "subreddit": display,
            "subreddit_name_prefixed": f"r/{display}",
            "author": self.username,
            "author_fullname": f"t2_{USER_ID36}",
            "created_utc": float(int(created)),
            "score": 1,
            "ups": 1,
            "downs": 0,
            "upvote_ratio": 1.0,
            "num_comments": 0,
            "num_crossposts": 0,
            "view_count": None,
            "removed_by_category": None,
            "removed_by": None,
            "banned_by": None,
            "locked": False,
            "archived": False,
            "link_flair_template_id": None,
        }
        self._posts[post["name"]] = post
        return post

    @staticmethod
    def _deleted(post: dict[str, Any]) -> None:
        post.update(author="[deleted]", selftext="[deleted]", removed_by_category="deleted", author_fullname=None)

    def _submit(self, req: RecordedRequest) -> Response:
        form = {k: v[0] for k, v in req.form.items()}
        errors = self._submit_problems(form)
        with self._lock:
            if not errors and self.submit_errors:
                errors = [self.submit_errors.pop(0)]
            if errors:
                return self._api_json({"json": {"errors": errors}})  # HTTP 200: a refusal all the same
            sub = self.subreddits[form["sr"].lower()]
            kind = form["kind"]
            post = self._new_post(
                sub.name,
                re.sub(r"\s+", " ", form["title"]).strip(),
                form.get("text", ""),
                form.get("url") if kind == "link" else None,
                time.time(),
            )
            if form.get("flair_id"):
                post["link_flair_template_id"] = form["flair_id"]
            lose = self.lose_submit_answers > 0
            if lose:
                self.lose_submit_answers -= 1
        if lose:  # carried out, but the answer never arrives (until the server stops)
            self._stopping.wait()
        return self._api_json(
            {
                "json": {
                    "errors": [],
                    "data": {
                        "url": self.url + post["permalink"],
                        "drafts_count": 0,
                        "id": post["id"],
                        "name": post["name"],
                    },
                }
            }
        )

    def _submit_problems(self, form: dict[str, str]) -> list[list[Any]]:
        """POST_submit's checks, in its order, with its error codes and messages."""
        if form.get("api_type") != "json":
            return [["BAD_REQUEST", "postcli's fake only speaks api_type=json", "api_type"]]
        sub = self.subreddits.get((form.get("sr") or "").lower())
        if not form.get("sr"):
            return [["SUBREDDIT_REQUIRED", "you must specify a subreddit", "sr"]]
        if sub is None:
            return [["SUBREDDIT_NOEXIST", "that subreddit doesn't exist", "sr"]]
        kind = form.get("kind")
        if kind not in ("link", "self"):
            return [["INVALID_OPTION", "that option is not valid", "kind"]]
        if kind == "link" and sub.link_type == "self":
            return [["NO_LINKS", "that subreddit only allows text posts", "sr"]]
        if kind == "self" and sub.link_type == "link":
            return [["NO_SELFS", "that subreddit doesn't allow text posts", "sr"]]
        title = (form.get("title") or "").strip()
        if not title:
            return [["NO_TEXT", "we need something here", "title"]]
        if len(title) > 300:
            return [["TOO_LONG", "this is too long (max: 300)", "title"]]
        if kind == "link" and not re.match(r"https?://[^/\s]+", form.get("url") or ""):
            return [["BAD_URL", "you should check that url", "url"]]
        if len(form.get("text") or "") > 40000:
            return [["TOO_LONG", "this is too long (max: 40000)", "text"]]
        if sub.flair_required and not form.get("flair_id"):
            return [["SUBMIT_VALIDATION_FLAIR_REQUIRED", "Your post must contain post flair.", "flair"]]
        if form.get("flair_id") and form["flair_id"] not in {f["id"] for f in sub.flairs}:
            return [["BAD_FLAIR_TEMPLATE_ID", "that flair template doesn't exist", "flair_id"]]
        return []

    def _listing(self, posts: list[dict[str, Any]], after: str | None = None) -> dict[str, Any]:
        return {
            "kind": "Listing",
            "data": {
                "after": after,
                "dist": len(posts),
                "modhash": None,
                "geo_filter": "",
                "children": [{"kind": "t3", "data": dict(p)} for p in posts],
                "before": None,
            },
        }

    def _info(self, req: RecordedRequest) -> Response:
        names = [n for n in (req.param("id") or "").split(",") if n]
        if len(names) > 100:
            return self._api_json({"message": "Bad Request", "error": 400}, 400)
        with self._lock:
            found = [self._posts[n] for n in names if n in self._posts]
            return self._api_json(self._listing(found))

    def _submitted(self, user: str, req: RecordedRequest) -> Response:
        limit = max(1, min(100, int(req.param("limit") or 25)))
        with self._lock:
            mine = [
                p
                for p in self._posts.values()
                if user.lower() == self.username.lower() and p["author"] == self.username
            ]
            mine.sort(key=lambda p: (p["created_utc"], p["name"]), reverse=True)
            after = req.param("after")
            if after:
                names = [p["name"] for p in mine]
                mine = mine[names.index(after) + 1 :] if after in names else []
            page = mine[:limit]
            more = len(mine) > limit
            return self._api_json(self._listing(page, page[-1]["name"] if more and page else None))

    def _flairs(self, sr: str) -> Response:
        sub = self.subreddits.get(sr.lower())
        if sub is None:
            return self._api_json({"message": "Not Found", "error": 404}, 404)
        return self._api_json([dict(f) for f in sub.flairs])

    def _del(self, req: RecordedRequest) -> Response:
        with self._lock:
            thing_id = str(req.param("id") or "")
            post = self._posts.get(thing_id) or self.comments.get(thing_id)
            if post is not None and post["author"] == self.username:
                if thing_id.startswith("t1_"):
                    post.update(author="[deleted]", body="[deleted]", author_fullname=None)
                else:
                    self._deleted(post)
        return self._api_json({})


def flair(flair_id: str, text: str, *, mod_only: bool = False) -> dict[str, Any]:
    """A link flair template as link_flair_v2 lists it."""
    return {
        "type": "text",
        "mod_only": mod_only,
        "text": text,
        "text_color": "dark",
        "text_editable": False,
        "css_class": "",
        "richtext": [],
        "background_color": "",
        "allowable_content": "all",
        "max_emojis": 10,
        "override_css": False,
        "id": flair_id,
    }


@pytest.fixture
def fake_reddit() -> Any:
    with FakeReddit() as server:
        yield server
