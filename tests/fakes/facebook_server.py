"""A stateful fake of the Graph API for Facebook Pages, on a real loopback socket.

Shapes follow the Graph API documentation (v26.0):
- errors: {"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}
  (developers.facebook.com/docs/graph-api/guides/error-handling); an object
  that is gone answers code 100 / subcode 33 "Unsupported get request. Object
  with ID '...' does not exist"; an expired or revoked token code 190;
- GET /me, GET /me/accounts (data[] of id, name, access_token, category, tasks;
  paging.cursors) - .../reference/user/accounts; a Page token has no `accounts`
  edge: "(#100) Tried accessing nonexisting field (accounts) on node type (Page)";
- GET /me/businesses (data[] of id, name; needs business_management) -
  .../graph-api/reference/user/businesses; GET /{business}/owned_pages and
  /{business}/client_pages (data[] of Pages, fields as asked) -
  .../marketing-api/reference/business/owned_pages, .../business/client_pages: the Pages
  a user manages through Business Manager, which /me/accounts leaves out; a business whose
  client Pages the token may not read answers client_pages with code 100, subcode 33
  ("Unsupported get request. Object with ID '<business>' does not exist, cannot be loaded due
  to missing permissions, or does not support this operation"), as Graph does (issue 22);
- GET /{page}?fields=access_token,name with a user token that has a task on the
  Page -> the Page token (.../facebook-login/guides/access-tokens#pagetokens);
- GET /oauth/access_token?grant_type=fb_exchange_token -> {access_token,
  token_type, expires_in} - .../facebook-login/guides/access-tokens/get-long-lived;
- POST /{page}/feed (message, attached_media[i]={"media_fbid"}) -> {id};
  POST /{page}/photos (source | url, published, alt_text_custom) -> {id[, post_id]};
  POST /{page}/videos (source | file_url, description) -> {id}, then
  GET /{video}?fields=post_id,permalink_url,status - .../reference/page/feed,
  .../reference/page/photos, .../video-api/guides/publishing;
- GET /{page}/posts (since, limit, after) - .../reference/page/feed;
- field expansion reactions.limit(0).summary(total_count), comments..., shares
  (left out when nobody shared), insights.metric(...) - .../reference/post;
- GET /{post}/insights?metric=... ; an unknown metric fails the whole request
  with "(#100) The value must be a valid insights metric"; metrics with no data
  are left out (Page Insights: "only available on Pages with 100 or more likes");
  a value may be an object of breakdown values, {"value": {"page_uploaded": 0, ...},
  "end_time": ...} (developers.facebook.com/blog/post/2023/04/12/introducing-new-metric-to-the-page-insights-api)
  - .../reference/insights, .../platforminsights/page/deprecated-metrics;
- POST / with batch=[{method, relative_url}] -> [{code, headers?, body: "<json>"}]
  or null for a request the batch did not finish - .../graph-api/making-multiple-requests;
- X-Business-Use-Case-Usage on Page-token answers, X-App-Usage on user-token
  answers - .../graph-api/overview/rate-limiting.

Real permalinks are `pfbid...` URLs; the fake uses the numeric form
https://www.facebook.com/{page}/posts/{post}.

    with FakeFacebook() as fb:
        page = fb.add_page("Cafe Nova")
        ctx = fb.account_context(page)           # connected with the Page token
        fb.fail_next("POST", "/", code=80001, headers={...})
        fb.requests_to("POST", f"/{page.id}/feed")[0].form
"""

from __future__ import annotations

import base64
import itertools
import json as jsonlib
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from fakes.loopback import Delay, Failure, LoopbackServer, RecordedRequest
from fakes.oauth_server import AuthorizationServer

POST_METRICS = {
    "post_media_view",
    "post_total_media_view_unique",
    "post_clicks",
    "post_clicks_by_type",
    "post_reactions_by_type_total",
    "post_video_views",
}
PAGE_METRICS = {"page_media_view", "page_total_media_view_unique", "page_follows", "page_post_engagements"}
MAX_MESSAGE = 63_206
LONG_LIVED_SECONDS = 5183944


def _fmt(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _cursor(index: int) -> str:
    return base64.b64encode(str(index).encode()).decode()


def _uncursor(value: str | None) -> int:
    try:
        return int(base64.b64decode(value or "").decode() or 0)
    except Exception:
        return 0


def split_fields(text: str) -> list[str]:
    """Top-level comma split of a `fields` value (commas inside () and {} stay)."""
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def _field_name(spec: str) -> str:
    return re.split(r"[.{(]", spec, maxsplit=1)[0]


class GraphError(Exception):
    def __init__(
        self, code: int, message: str, *, subcode: int | None = None, status: int = 400, type: str = "OAuthException"
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.subcode, self.status, self.type = code, message, subcode, status, type

    def payload(self) -> dict[str, Any]:
        err: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            err["error_subcode"] = self.subcode
        err["fbtrace_id"] = "AfakeTrace01"
        return {"error": err}


def _gone(object_id: str) -> GraphError:
    return GraphError(
        100,
        f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be loaded due to "
        "missing permissions, or does not support this operation. Please read the Graph API documentation "
        "at https://developers.facebook.com/docs/graph-api",
        subcode=33,
        type="GraphMethodException",
    )


@dataclass
class Page:
    id: str
    name: str
    token: str  # read with a short-lived user token (or given directly)
    long_token: str  # read with a long-lived user token
    followers_count: int = 0
    fan_count: int = 0
    insights: dict[str, int] = field(default_factory=dict)  # days_28 values


@dataclass
class Post:
    id: str
    page_id: str
    message: str | None
    created: datetime
    photo_ids: list[str] = field(default_factory=list)
    video_id: str | None = None
    reactions: int = 0
    comments: int = 0
    shares: int = 0
    insights: dict[str, int] = field(default_factory=dict)
    comment_list: list[dict[str, Any]] = field(default_factory=list)  # made through /{post}/comments


class FakeFacebook(LoopbackServer):
    """Graph API for one app, its users and their Pages, on 127.0.0.1:<random port>."""

    thread_name = "fake-facebook"

    def __init__(self, *, app_id: str = "1234567890", app_secret: str = "fake-app-secret-abcdef") -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.pages: dict[str, Page] = {}
        self.posts: dict[str, Post] = {}
        self.photos: dict[str, dict[str, Any]] = {}
        self.videos: dict[str, dict[str, Any]] = {}
        self.deleted: set[str] = set()
        self.comments: dict[str, dict[str, Any]] = {}  # comment id -> the comment (GET /{comment-id})
        # token -> ("page", page_id) | ("user", user_id, long_lived)
        self.tokens: dict[str, tuple[Any, ...]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.businesses: dict[str, dict[str, Any]] = {}
        # False: the business Page edges leave out access_token (read from /{page} then).
        self.business_page_tokens = True
        self.valid_post_metrics = set(POST_METRICS)
        self.valid_page_metrics = set(PAGE_METRICS)
        self.video_post_polls = 0  # GET /{video} answers without post_id this many times
        self.batch_null_once: set[str] = set()  # post ids whose batch request answers null (once)
        self.exchanges: list[str] = []  # user tokens exchanged for long-lived ones
        self.requests: list[RecordedRequest] = []
        self._failures: list[Failure] = []
        self._delays: list[Delay] = []
        self._seq = itertools.count(1001)
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        # Sign-in (developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow): the
        # dialog GET /{version}/dialog/oauth (www.facebook.com, served here) and the code exchange
        # /{version}/oauth/access_token (client_id, client_secret, redirect_uri, code) ->
        # {access_token, token_type, expires_in}: a short-lived token of `signin_user` (a token
        # from add_user). Redirect URIs match exactly; errors are Graph error objects.
        self.signin_user: str | None = None
        self.oauth = AuthorizationServer(
            issue_token=self._issue_user_token,
            scope_separator=",",
            loopback_any_port=False,
            token_error=self._oauth_error,
        )

    # -- state set-up ------------------------------------------------------------

    def _id(self) -> str:
        return str(next(self._seq))

    def add_page(self, name: str, *, followers: int = 0, fans: int = 0, page_id: str | None = None) -> Page:
        with self._lock:
            pid = page_id or f"10{self._id()}0"
            page = Page(
                pid,
                name,
                token=f"EAAPAGE{pid}short",
                long_token=f"EAAPAGE{pid}forever",
                followers_count=followers,
                fan_count=fans,
            )
            self.pages[pid] = page
            self.tokens[page.token] = ("page", pid)
            self.tokens[page.long_token] = ("page", pid)
            return page

    def add_user(self, name: str, pages: list[Page], *, token: str | None = None) -> str:
        """A user who manages `pages`; returns their short-lived user token."""
        with self._lock:
            uid = f"9{self._id()}"
            token = token or f"EAAUSER{uid}short"
            self.users[uid] = {"id": uid, "name": name, "pages": [p.id for p in pages]}
            self.tokens[token] = ("user", uid, False)
            return token

    def add_business(
        self,
        user_token: str,
        name: str,
        *,
        owned: list[Page] | None = None,
        client: list[Page] | None = None,
        clients_readable: bool = True,
    ) -> str:
        """A business the token's user works in, with the Pages it owns and those of its clients.
        `clients_readable=False`: the token may not read the client Pages, and client_pages
        answers 100/33 instead of listing them."""
        with self._lock:
            uid = self.tokens[user_token][1]
            bid = f"8{self._id()}"
            self.businesses[bid] = {
                "id": bid,
                "name": name,
                "owned": [p.id for p in owned or []],
                "client": [p.id for p in client or []],
                "clients_readable": clients_readable,
            }
            self.users[uid].setdefault("businesses", []).append(bid)
            return bid

    def grant_page(self, user_token: str, page: Page) -> None:
        """A task on the Page for the user (readable with /{page}) that no listing shows."""
        with self._lock:
            self.users[self.tokens[user_token][1]].setdefault("granted", []).append(page.id)

    def _user_can(self, uid: str, page_id: str) -> bool:
        user = self.users[uid]
        if page_id in user["pages"] or page_id in user.get("granted", []):
            return True
        for b in (self.businesses[b] for b in user.get("businesses", [])):
            if page_id in b["owned"] or (b["clients_readable"] and page_id in b["client"]):
                return True
        return False

    def account_context(self, page: Page, **overrides: Any) -> Any:
        from postcli.platforms.base import AccountContext

        values: dict[str, Any] = {
            "platform": "facebook",
            "api_base_url": self.url,
            "external_id": page.id,
            "handle": page.name,
            "settings": {"page_id": page.id, "page_name": page.name, "api_version": "v26.0"},
            "secrets": {"access_token": page.long_token},
            "timeout": 5.0,
        }
        values.update(overrides)
        return AccountContext(**values)

    def add_post(self, page: Page, message: str | None, *, created: datetime | None = None, **counts: Any) -> Post:
        """A post made outside postcli (no request recorded)."""
        with self._lock:
            return self._new_post(page.id, message, created=created, **counts)

    def _new_post(self, page_id: str, message: str | None, *, created: datetime | None = None, **kw: Any) -> Post:
        post = Post(f"{page_id}_{self._id()}", page_id, message, created or datetime.now(timezone.utc), **kw)
        self.posts[post.id] = post
        return post

    def set_counts(
        self,
        post_id: str,
        *,
        reactions: int | None = None,
        comments: int | None = None,
        shares: int | None = None,
        **insights: int,
    ) -> None:
        with self._lock:
            post = self.posts[post_id]
            for key, value in (("reactions", reactions), ("comments", comments), ("shares", shares)):
                if value is not None:
                    setattr(post, key, value)
            post.insights.update(insights)

    def delete_post(self, post_id: str) -> None:
        """Delete on the platform (as if removed on facebook.com)."""
        with self._lock:
            self.posts.pop(post_id)
            self.deleted.add(post_id)

    def revoke(self, token: str) -> None:
        with self._lock:
            self.tokens.pop(token, None)

    def fail_next(
        self,
        method: str,
        path_prefix: str,
        *,
        code: int,
        message: str = "fake failure",
        subcode: int | None = None,
        status: int = 400,
        headers: dict[str, str] | None = None,
        times: int = 1,
        type: str = "OAuthException",
    ) -> None:
        """Answer the next matching requests (top level or inside a batch) with a Graph error."""
        with self._lock:
            # "/" names the batch endpoint itself, not every path.
            self._failures.append(
                Failure(
                    method.upper(),
                    path_prefix,
                    status,
                    None,
                    dict(headers or {}),
                    times,
                    exact=path_prefix == "/",
                    detail=GraphError(code, message, subcode=subcode, status=status, type=type),
                )
            )

    # -- inspection ------------------------------------------------------------------

    def requests_to(self, method: str, path_prefix: str = "", *, in_batch: bool | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (method == "*" or r.method == method.upper())
                and r.path.startswith(path_prefix)
                and (in_batch is None or r.in_batch == in_batch)
            ]

    def batches(self) -> list[RecordedRequest]:
        """The Batch API calls (POST / with batch=...), oldest first."""
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and r.path == "/" and not r.in_batch]

    def page_posts(self, page: Page) -> list[Post]:
        with self._lock:
            return sorted((p for p in self.posts.values() if p.page_id == page.id), key=lambda p: p.created)

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- HTTP ------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        path, version = self._split_version(request.path)
        form = {k: request.form.getlist(k) for k in request.form.keys()}
        files: dict[str, dict[str, Any]] = {}
        for name in request.files.keys():
            storage = request.files[name]
            data = storage.read()
            files[name] = {"filename": storage.filename, "content_type": storage.mimetype, "size": len(data)}
        query = {k: request.args.getlist(k) for k in request.args.keys()}
        recorded = self._remember(
            RecordedRequest(
                method=request.method,
                path=path,
                version=version,
                query=query,
                form=form,
                files=files,
                headers=Headers(list(request.headers.items())),
            )
        )
        self._maybe_delay(recorded)
        token = (query.get("access_token") or form.get("access_token") or [None])[0]
        if request.method == "GET" and path == "/dialog/oauth":
            return self.oauth.authorize(request)(environ, start_response)
        if path == "/oauth/access_token" and "code" in form:
            return self.oauth.token(request)(environ, start_response)
        try:
            if request.method == "POST" and path == "/" and "batch" in form:
                status, payload, headers = self._batch(form, token)
            else:
                status, payload, headers = self._dispatch(request.method, path, query, form, files, token)
        except Exception as exc:  # a fake bug must show up as a loud 500
            status, payload, headers = (
                500,
                {"error": {"message": f"fake bug: {type(exc).__name__}: {exc}", "type": "FakeError", "code": 1}},
                {},
            )
        recorded.status = status
        return Response(
            jsonlib.dumps(payload), status=status, headers=headers, content_type="application/json; charset=UTF-8"
        )(environ, start_response)

    def _issue_user_token(self, client: Any, scopes: list[str]) -> dict[str, Any]:
        uid = self.tokens[self.signin_user or ""][1]
        new = f"EAAUSER{uid}code{next(self._seq)}"
        self.tokens[new] = ("user", uid, False)
        return {"access_token": new, "token_type": "bearer", "expires_in": 5183944}

    def _oauth_error(self, status: int, error: str, description: str) -> Response:
        err = (
            GraphError(1, "Error validating client secret.")
            if error == "invalid_client"
            else GraphError(100, "This authorization code has been used.", subcode=36009)
        )
        return Response(jsonlib.dumps(err.payload()), status=400, content_type="application/json")

    @staticmethod
    def _split_version(path: str) -> tuple[str, str | None]:
        m = re.match(r"^/(v\d+\.\d+)(/.*)?$", path)
        if m:
            return (m.group(2) or "/"), m.group(1)
        return path or "/", None

    def _injected(self, method: str, path: str) -> tuple[GraphError, dict[str, str]] | None:
        failure = self._take_failure(method, path)
        return None if failure is None else (failure.detail, failure.headers)

    def _usage_headers(self, token: str | None) -> dict[str, str]:
        kind = self.tokens.get(token or "")
        if kind and kind[0] == "page":
            usage = {
                kind[1]: [
                    {
                        "type": "pages",
                        "call_count": 1,
                        "total_cputime": 1,
                        "total_time": 1,
                        "estimated_time_to_regain_access": 0,
                    }
                ]
            }
            return {"X-Business-Use-Case-Usage": jsonlib.dumps(usage)}
        return {"X-App-Usage": jsonlib.dumps({"call_count": 1, "total_cputime": 1, "total_time": 1})}

    def _dispatch(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        form: dict[str, list[str]],
        files: dict[str, dict[str, Any]],
        token: str | None,
    ) -> tuple[int, Any, dict[str, str]]:
        headers = self._usage_headers(token)
        injected = self._injected(method, path)
        if injected:
            error, extra = injected
            return error.status, error.payload(), {**headers, **extra}
        try:
            with self._lock:
                payload = self._route(method, path, query, form, files, token)
            return 200, payload, headers
        except GraphError as err:
            if err.code == 190:
                headers["WWW-Authenticate"] = 'OAuth "Facebook Platform" "invalid_token" "Invalid OAuth access token"'
            return err.status, err.payload(), headers

    def _batch(self, form: dict[str, list[str]], token: str | None) -> tuple[int, Any, dict[str, str]]:
        injected = self._injected("POST", "/")
        if injected:
            error, extra = injected
            return error.status, error.payload(), {**self._usage_headers(token), **extra}
        try:
            requests = jsonlib.loads(form["batch"][0])
        except ValueError:
            return 400, GraphError(100, "(#100) The parameter batch must be a JSON array").payload(), {}
        if not isinstance(requests, list) or len(requests) > 50:
            return 400, GraphError(1, "(#1) Too many requests in batch message. Maximum batch size is 50").payload(), {}
        with_headers = (form.get("include_headers") or ["true"])[0] != "false"
        answers: list[Any] = []
        for sub in requests:
            url = urlsplit(str(sub.get("relative_url", "")))
            path, _ = self._split_version("/" + url.path.lstrip("/"))
            query = parse_qs(url.query, keep_blank_values=True)
            method = str(sub.get("method", "GET")).upper()
            recorded = RecordedRequest(method=method, path=path, query=query, headers=Headers(), in_batch=True)
            with self._lock:
                self.requests.append(recorded)
                object_id = path.strip("/").split("/")[0]
                if object_id in self.batch_null_once:
                    self.batch_null_once.discard(object_id)
                    answers.append(None)
                    continue
            status, payload, headers = self._dispatch(method, path, query, {}, {}, token)
            recorded.status = status
            answer: dict[str, Any] = {"code": status}
            if with_headers:
                answer["headers"] = [{"name": k, "value": v} for k, v in headers.items()]
            answer["body"] = jsonlib.dumps(payload)
            answers.append(answer)
        return 200, answers, self._usage_headers(token)

    # -- routes (called with the lock held) --------------------------------------------

    def _who(self, token: str | None) -> tuple[Any, ...]:
        kind = self.tokens.get(token or "")
        if kind is None:
            raise GraphError(
                190,
                "Error validating access token: The session has been invalidated because the "
                "user changed their password or Facebook has changed the session for security "
                "reasons.",
                subcode=460,
            )
        return kind

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        form: dict[str, list[str]],
        files: dict[str, dict[str, Any]],
        token: str | None,
    ) -> Any:
        def q(name: str) -> str | None:
            return (query.get(name) or form.get(name) or [None])[0]

        parts = [p for p in path.split("/") if p]
        if method == "GET" and parts == ["oauth", "access_token"]:
            return self._exchange(q)
        who = self._who(token)
        fields = split_fields(q("fields") or "")
        if parts == ["me"] and method == "GET":
            if who[0] == "page":
                page = self.pages[who[1]]
                return {"id": page.id, "name": page.name}
            user = self.users[who[1]]
            return {"id": user["id"], "name": user["name"]}
        if parts == ["me", "accounts"] and method == "GET":
            if who[0] == "page":
                raise GraphError(100, "(#100) Tried accessing nonexisting field (accounts) on node type (Page)")
            return self._accounts(who, q)
        if parts == ["me", "businesses"] and method == "GET":
            if who[0] == "page":
                raise GraphError(100, "(#100) Tried accessing nonexisting field (businesses) on node type (Page)")
            user = self.users[who[1]]
            return {
                "data": [{"id": b, "name": self.businesses[b]["name"]} for b in user.get("businesses", [])],
                "paging": {"cursors": {"before": _cursor(0), "after": _cursor(0)}},
            }
        if not parts:
            raise GraphError(100, "(#100) Missing a required parameter")
        if parts[0] in self.businesses and len(parts) == 2 and parts[1] in ("owned_pages", "client_pages"):
            return self._business_pages(self.businesses[parts[0]], parts[1], fields, who)
        object_id, edge = parts[0], (parts[1] if len(parts) > 1 else None)
        if object_id in self.pages:
            return self._page(self.pages[object_id], method, edge, fields, q, form, files, who)
        if object_id in self.posts:
            return self._post(self.posts[object_id], method, edge, fields, q, who)
        if object_id in self.comments and method == "GET" and edge is None:
            comment = self.comments[object_id]
            return {k: v for k, v in comment.items() if k in ([_field_name(f) for f in fields] or ["id"])} | {
                "id": object_id
            }
        if object_id in self.videos and method == "GET" and edge is None:
            return self._video(self.videos[object_id], fields)
        if object_id in self.photos and method == "GET" and edge is None:
            return {"id": object_id, **{k: v for k, v in self.photos[object_id].items() if not k.startswith("_")}}
        raise _gone(object_id)

    def _exchange(self, q: Any) -> Any:
        if q("grant_type") != "fb_exchange_token":
            raise GraphError(100, "(#100) Invalid grant_type")
        if q("client_id") != self.app_id:
            raise GraphError(101, "Error validating application. Invalid application ID.")
        if q("client_secret") != self.app_secret:
            raise GraphError(1, "Error validating client secret.")
        old = q("fb_exchange_token")
        kind = self.tokens.get(old or "")
        if kind is None or kind[0] != "user":
            raise GraphError(190, "Invalid OAuth access token - Cannot parse access token")
        self.exchanges.append(old or "")
        new = f"EAAUSER{kind[1]}long{next(self._seq)}"
        self.tokens[new] = ("user", kind[1], True)
        return {"access_token": new, "token_type": "bearer", "expires_in": LONG_LIVED_SECONDS}

    def _accounts(self, who: tuple[Any, ...], q: Any) -> Any:
        user = self.users[who[1]]
        long_lived = who[2]
        pages = [self.pages[p] for p in user["pages"]]
        start = _uncursor(q("after"))
        limit = int(q("limit") or 25)
        chunk = pages[start : start + limit]
        data = [
            {
                "access_token": p.long_token if long_lived else p.token,
                "category": "Cafe",
                "category_list": [{"id": "128673187201735", "name": "Cafe"}],
                "name": p.name,
                "id": p.id,
                "tasks": ["ANALYZE", "ADVERTISE", "MESSAGING", "MODERATE", "CREATE_CONTENT", "MANAGE"],
            }
            for p in chunk
        ]
        paging: dict[str, Any] = {"cursors": {"before": _cursor(start), "after": _cursor(start + len(chunk))}}
        if start + len(chunk) < len(pages):
            paging["next"] = f"{self.url}/v26.0/me/accounts?after={_cursor(start + len(chunk))}"
        return {"data": data, "paging": paging}

    def _business_pages(self, business: dict[str, Any], edge: str, fields: list[str], who: tuple[Any, ...]) -> Any:
        if who[0] != "user" or business["id"] not in self.users[who[1]].get("businesses", []):
            raise GraphError(200, "(#200) Requires business_management permission to manage the object", status=403)
        if edge == "client_pages" and not business["clients_readable"]:
            raise _gone(business["id"])
        ids = business["owned" if edge == "owned_pages" else "client"]
        data = []
        for pid in ids:
            page = self.pages[pid]
            entry: dict[str, Any] = {"id": page.id}
            if "name" in fields or not fields:
                entry["name"] = page.name
            if "access_token" in fields and self.business_page_tokens:
                entry["access_token"] = page.long_token if who[2] else page.token
            data.append(entry)
        return {"data": data, "paging": {"cursors": {"before": _cursor(0), "after": _cursor(len(data))}}}

    def _require_page_token(self, page: Page, who: tuple[Any, ...]) -> None:
        if who != ("page", page.id):
            raise GraphError(
                200,
                "(#200) If posting to a page, requires both pages_read_engagement and "
                "pages_manage_posts as an admin with sufficient administrative permission",
                status=403,
            )

    def _page(
        self,
        page: Page,
        method: str,
        edge: str | None,
        fields: list[str],
        q: Any,
        form: dict[str, list[str]],
        files: dict[str, dict[str, Any]],
        who: tuple[Any, ...],
    ) -> Any:
        if method == "GET" and edge is None:
            out: dict[str, Any] = {}
            for spec in fields or ["id", "name"]:
                name = _field_name(spec)
                if name in ("id", "name", "followers_count", "fan_count"):
                    out[name] = getattr(page, name)
                elif name == "access_token":
                    if who[0] == "user" and self._user_can(who[1], page.id):
                        out[name] = page.long_token if who[2] else page.token
                elif name == "insights":
                    out["insights"] = self._page_insights(page, spec)
                else:
                    raise GraphError(100, f"(#100) Tried accessing nonexisting field ({name}) on node type (Page)")
            out.setdefault("id", page.id)
            return out
        if method == "GET" and edge == "posts":
            return self._list_posts(page, fields, q)
        if method == "POST" and edge == "feed":
            self._require_page_token(page, who)
            return self._create_feed_post(page, form)
        if method == "POST" and edge == "photos":
            self._require_page_token(page, who)
            return self._create_photo(page, form, files)
        if method == "POST" and edge == "videos":
            self._require_page_token(page, who)
            return self._create_video(page, form, files)
        raise GraphError(100, f"(#100) Unknown path components: /{edge}")

    def _page_insights(self, page: Page, spec: str) -> dict[str, Any]:
        m = re.search(r"metric\(([^)]*)\)", spec)
        metrics = [x for x in (m.group(1).split(",") if m else []) if x]
        period = (re.search(r"period\(([^)]*)\)", spec) or [None, "day"])[1]
        if any(x not in self.valid_page_metrics for x in metrics):
            raise GraphError(100, "(#100) The value must be a valid insights metric")
        rows = [
            {
                "name": x,
                "period": period,
                "values": [{"value": page.insights[x], "end_time": _fmt(datetime.now(timezone.utc))}],
                "title": x,
                "description": x,
                "id": f"{page.id}/insights/{x}/{period}",
            }
            for x in metrics
            if x in page.insights
        ]
        return {"data": rows, "paging": {}}

    def _post_json(self, post: Post, fields: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for spec in fields or ["id", "message", "created_time"]:
            name = _field_name(spec)
            if name == "id":
                out["id"] = post.id
            elif name == "message":
                if post.message:
                    out["message"] = post.message  # Graph leaves out an empty message
            elif name == "created_time":
                out["created_time"] = _fmt(post.created)
            elif name == "permalink_url":
                out["permalink_url"] = f"https://www.facebook.com/{post.page_id}/posts/{post.id.split('_', 1)[1]}"
            elif name in ("reactions", "comments"):
                out[name] = {"data": [], "summary": {"total_count": getattr(post, name)}}
                if name == "comments":
                    out[name]["summary"].update({"order": "ranked", "can_comment": True})
                else:
                    out[name]["summary"]["viewer_reaction"] = "NONE"
            elif name == "shares":
                if post.shares:
                    out["shares"] = {"count": post.shares}
            elif name == "insights":
                m = re.search(r"metric\(([^)]*)\)", spec)
                out["insights"] = self._post_insights(post, [x for x in (m.group(1).split(",") if m else []) if x])
            else:
                raise GraphError(100, f"(#100) Tried accessing nonexisting field ({name}) on node type (Post)")
        return out

    def _post_insights(self, post: Post, metrics: list[str]) -> dict[str, Any]:
        if not metrics or any(x not in self.valid_post_metrics for x in metrics):
            raise GraphError(100, "(#100) The value must be a valid insights metric")
        rows = [
            {
                "name": x,
                "period": "lifetime",
                "values": [{"value": post.insights[x]}],
                "title": x,
                "description": x,
                "id": f"{post.id}/insights/{x}/lifetime",
            }
            for x in metrics
            if x in post.insights
        ]
        return {"data": rows, "paging": {"previous": "", "next": ""}}

    def _post(self, post: Post, method: str, edge: str | None, fields: list[str], q: Any, who: tuple[Any, ...]) -> Any:
        if method == "GET" and edge is None:
            return self._post_json(post, fields)
        if method == "GET" and edge == "insights":
            return self._post_insights(post, [x for x in (q("metric") or "").split(",") if x])
        if method == "DELETE" and edge is None:
            if who != ("page", post.page_id):
                raise GraphError(200, "(#200) Permissions error", status=403)
            self.posts.pop(post.id)
            self.deleted.add(post.id)
            return {"success": True}
        if edge == "comments":
            return self._comments(post, method, fields, q, who)
        raise GraphError(100, f"(#100) Unknown path components: /{edge}")

    def _comments(self, post: Post, method: str, fields: list[str], q: Any, who: tuple[Any, ...]) -> Any:
        """/{object-id}/comments (developers.facebook.com/docs/graph-api/reference/object/comments):
        POST message -> {"id"} (as the Page with a Page token; pages_manage_engagement);
        GET -> {"data": [{"id", "message", "created_time", "from"}], "paging"} (filter=stream,
        order=reverse_chronological: newest first)."""
        if method == "POST":
            if who != ("page", post.page_id):
                raise GraphError(200, "(#200) Permissions error", status=403)
            message = q("message")
            if not message:
                raise GraphError(100, "(#100) Missing message or attachment")
            comment_id = f"{post.id.split('_')[-1]}_{next(self._seq)}"
            page = self.pages[post.page_id]
            comment = {
                "id": comment_id,
                "message": message,
                "created_time": _fmt(datetime.now(timezone.utc)),
                "from": {"name": page.name, "id": page.id},
                "permalink_url": f"https://www.facebook.com/{post.id.replace('_', '/posts/')}?comment_id={comment_id}",
            }
            post.comment_list.append(comment)
            self.comments[comment_id] = comment
            post.comments += 1
            return {"id": comment_id}
        if method != "GET":
            raise GraphError(100, "(#100) Unsupported request")
        wanted = [_field_name(f) for f in fields] or ["id", "message", "created_time"]
        data = [{k: c[k] for k in wanted if k in c} | {"id": c["id"]} for c in reversed(post.comment_list)]
        return {"data": data, "paging": {"cursors": {"before": _cursor(0), "after": _cursor(len(data))}}}

    def _list_posts(self, page: Page, fields: list[str], q: Any) -> Any:
        since = int(q("since") or 0)
        posts = sorted(
            (p for p in self.posts.values() if p.page_id == page.id and p.created.timestamp() >= since),
            key=lambda p: p.created,
            reverse=True,
        )
        start, limit = _uncursor(q("after")), min(int(q("limit") or 25), 100)
        chunk = posts[start : start + limit]
        paging: dict[str, Any] = {"cursors": {"before": _cursor(start), "after": _cursor(start + len(chunk))}}
        if start + len(chunk) < len(posts):
            paging["next"] = f"{self.url}/v26.0/{page.id}/posts?after={_cursor(start + len(chunk))}"
        return {"data": [self._post_json(p, fields) for p in chunk], "paging": paging}

    def _create_feed_post(self, page: Page, form: dict[str, list[str]]) -> Any:
        message = (form.get("message") or [None])[0]
        if message and len(message) > MAX_MESSAGE:
            raise GraphError(100, "(#100) The message is too long")
        photo_ids: list[str] = []
        for key in sorted(k for k in form if k.startswith("attached_media[")):
            fbid = str(jsonlib.loads(form[key][0]).get("media_fbid"))
            photo = self.photos.get(fbid)
            if photo is None or photo["_page"] != page.id or photo["published"] or photo["_post"]:
                raise GraphError(100, f"(#100) Invalid media_fbid {fbid}")
            photo_ids.append(fbid)
        if not message and not photo_ids:
            raise GraphError(100, "(#100) Missing message or attachment")
        post = self._new_post(page.id, message, photo_ids=photo_ids)
        for fbid in photo_ids:
            self.photos[fbid]["_post"] = post.id
        return {"id": post.id}

    def _create_photo(self, page: Page, form: dict[str, list[str]], files: dict[str, dict[str, Any]]) -> Any:
        source = files.get("source")
        url = (form.get("url") or [None])[0]
        if source is None and not url:
            raise GraphError(324, "(#324) Requires upload file")
        published = (form.get("published") or ["true"])[0] != "false"
        pid = self._id()
        self.photos[pid] = {
            "published": published,
            "alt_text_custom": (form.get("alt_text_custom") or [None])[0],
            "_page": page.id,
            "_post": None,
            "_source": source,
            "_url": url,
        }
        if not published:
            return {"id": pid}
        post = self._new_post(page.id, (form.get("message") or [None])[0], photo_ids=[pid])
        self.photos[pid]["_post"] = post.id
        return {"id": pid, "post_id": post.id}

    def _create_video(self, page: Page, form: dict[str, list[str]], files: dict[str, dict[str, Any]]) -> Any:
        source = files.get("source")
        file_url = (form.get("file_url") or [None])[0]
        if source is None and not file_url:
            raise GraphError(100, "(#100) Missing video file")
        vid = self._id()
        self.videos[vid] = {
            "page": page.id,
            "description": (form.get("description") or [None])[0],
            "source": source,
            "file_url": file_url,
            "polls_left": self.video_post_polls,
            "post_id": None,
            "created": datetime.now(timezone.utc),
        }
        return {"id": vid}

    def _video(self, video: dict[str, Any], fields: list[str]) -> Any:
        vid = next(k for k, v in self.videos.items() if v is video)
        if video["post_id"] is None:
            if video["polls_left"] > 0:
                video["polls_left"] -= 1
            else:
                post = self._new_post(video["page"], video["description"], video_id=vid)
                video["post_id"] = post.id
        out: dict[str, Any] = {"id": vid}
        for spec in fields:
            name = _field_name(spec)
            if name == "post_id" and video["post_id"]:
                out["post_id"] = video["post_id"]
            elif name == "permalink_url":
                out["permalink_url"] = f"/{video['page']}/videos/{vid}/"
            elif name == "created_time":
                out["created_time"] = _fmt(video["created"])
            elif name == "status":
                ready = video["post_id"] is not None
                out["status"] = {
                    "video_status": "ready" if ready else "processing",
                    "processing_progress": 100 if ready else 40,
                }
        return out
