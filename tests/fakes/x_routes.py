"""The routes of the fake X API (fakes/x_server.py, which documents the shapes and their pages)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from fakes.loopback import RecordedRequest
from fakes.x_server import _MEDIA_CAPS, EXPIRES_IN, SCOPES, problem

if TYPE_CHECKING:
    from fakes.x_server import FakeX

_UNAUTHORIZED = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
_BAD_TOKEN = {"error": "invalid_request", "error_description": "Value passed for the token was invalid."}
_NO_BASIC = {"error": "unauthorized_client", "error_description": "Missing valid authorization header"}
_PRIVATE = ("non_public_metrics", "organic_metrics")
_PARAMS = ("ids", "tweet.fields", "post.fields", "expansions", "media.fields", "user.fields")


def route(x: FakeX, request: Request, req: RecordedRequest) -> Response:
    method, path = request.method, request.path.rstrip("/")
    if method == "GET" and path == "/i/oauth2/authorize":
        x.counts["GET /i/oauth2/authorize"] += 1
        return x.oauth.authorize(request)
    if method == "POST" and path == "/2/oauth2/token":
        return _token(x, request, req)
    endpoint, handler, args = _endpoint(method, path)
    if handler is None:
        x.counts[f"{method} {path} (404)"] += 1
        return x._json(problem(404, "Not Found Error", f"no route {method} {path}"), 404)
    headers = x._limit_headers(endpoint)
    with x._lock:
        if req.bearer != x.access_token:
            x.counts[f"{endpoint} (401)"] += 1
            return x._json(_UNAUTHORIZED, 401, headers)
        x.counts[endpoint] += 1
        response = handler(x, req, *args)
    for key, value in headers.items():
        response.headers[key] = value
    return response


def _endpoint(method: str, path: str) -> tuple[str, Any, tuple[str, ...]]:
    parts = path.strip("/").split("/")
    table: list[tuple[str, list[str], Any]] = [
        ("GET", ["2", "users", "me"], _users_me),
        ("GET", ["2", "users", "*", "tweets"], _user_tweets),
        ("GET", ["2", "tweets"], _lookup),
        ("POST", ["2", "tweets"], _create),
        ("DELETE", ["2", "tweets", "*"], _delete),
        ("POST", ["2", "media", "upload", "initialize"], _initialize),
        ("POST", ["2", "media", "upload", "*", "append"], _append),
        ("POST", ["2", "media", "upload", "*", "finalize"], _finalize),
        ("GET", ["2", "media", "upload"], _status),
        ("POST", ["2", "media", "metadata"], _metadata),
    ]
    for want_method, pattern, handler in table:
        if method == want_method and len(pattern) == len(parts):
            if all(p == "*" or p == q for p, q in zip(pattern, parts)):
                args = tuple(q for p, q in zip(pattern, parts) if p == "*")
                name = "/" + "/".join(":id" if p == "*" else p for p in pattern)
                return f"{method} {name}", handler, args
    return f"{method} {path}", None, ()


def _invalid(x: FakeX, detail: str, **extra: Any) -> Response:
    return x._json(problem(400, "Invalid Request", detail, "invalid-request", **extra), 400)


# -- sign-in --------------------------------------------------------------------------------


def _token(x: FakeX, request: Request, req: RecordedRequest) -> Response:
    basic = request.authorization is not None and request.authorization.type == "basic"
    client_id = request.authorization.username if basic else req.param("client_id")  # type: ignore[union-attr]
    with x._lock:
        if x.client_secret and not basic:
            x.counts["POST /2/oauth2/token (no basic)"] += 1
            return x._json(_NO_BASIC, 401)
        if not x.client_secret and (basic or client_id != x.client_id):
            x.counts["POST /2/oauth2/token (bad public client)"] += 1
            return x._json(_NO_BASIC if basic else _BAD_TOKEN, 401 if basic else 400)
        if basic and (client_id != x.client_id or request.authorization.password != x.client_secret):  # type: ignore[union-attr]
            return x._json({"error": "unauthorized_client", "error_description": "Invalid client credentials"}, 401)
        if req.param("grant_type") == "authorization_code":
            x.counts["POST /2/oauth2/token (code)"] += 1
            return x.oauth.token(request)
        x.counts["POST /2/oauth2/token"] += 1
        if req.param("grant_type") != "refresh_token" or req.param("refresh_token") != x.refresh_token:
            return x._json(_BAD_TOKEN, 400)
        return x._json(issue(x, SCOPES))


def issue(x: FakeX, scopes: list[str]) -> dict[str, Any]:
    n = next(x._seq)
    x.access_token = f"fake-x-access-{n}-rotated"
    x.refresh_token = f"fake-x-refresh-{n}-rotated"
    x.issued_tokens.append((x.access_token, x.refresh_token))
    return {
        "token_type": "bearer",
        "expires_in": EXPIRES_IN,
        "access_token": x.access_token,
        "scope": " ".join(scopes),
        "refresh_token": x.refresh_token,
    }


# -- users -------------------------------------------------------------------------------------


def _users_me(x: FakeX, req: RecordedRequest) -> Response:
    user: dict[str, Any] = {"id": x.user_id, "name": "Alice X", "username": x.username}
    if "public_metrics" in (req.param("user.fields") or "").split(","):
        posts = sum(1 for p in x._posts.values() if p["author"] == x.user_id)
        user["public_metrics"] = {
            "followers_count": x.followers,
            "following_count": 42,
            "post_count" if x.renamed else "tweet_count": posts,
            "listed_count": 3,
            "like_count": 17,
        }
    return x._json({"data": user})


def _fields(x: FakeX, req: RecordedRequest) -> set[str] | Response:
    """The post fields asked for, or the error for the fields parameter this fake does not know."""
    other = "post.fields" if x.fields_param == "tweet.fields" else "tweet.fields"
    if other in req.query:
        # X's answer for an unknown query parameter (invalid-request, with the parameter named).
        body = problem(400, "Invalid Request", "One or more parameters to your request was invalid.", "invalid-request")
        known = ",".join(p for p in _PARAMS if p != other)
        body["errors"] = [
            {
                "parameters": {other: req.query[other]},
                "message": f"The query parameters [{other}] is not one of [{known}]",
            }
        ]
        return x._json(body, 400)
    return set((req.param(x.fields_param) or "").split(",")) - {""}


def _user_tweets(x: FakeX, req: RecordedRequest, user_id: str) -> Response:
    fields = _fields(x, req)
    if isinstance(fields, Response):
        return fields
    if user_id != x.user_id:
        return x._json(problem(403, "Forbidden", "not the authenticated user"), 403)
    size = int(req.param("max_results") or 10)
    if not 5 <= size <= 100:
        return _invalid(x, "The `max_results` query parameter value is not between 5 and 100")
    posts = sorted((p for p in x._posts.values() if p["author"] == x.user_id), key=lambda p: int(p["id"]), reverse=True)
    # docs.x.com/x-api/users/get-posts: `exclude` takes retweets and replies.
    if "replies" in (req.param("exclude") or "").split(","):
        posts = [p for p in posts if not p["in_reply_to"]]
    since = req.param("start_time")
    if since:
        start = datetime.fromisoformat(since.replace("Z", "+00:00"))
        posts = [p for p in posts if p["created_at"] >= start]
    offset = int(req.param("pagination_token") or 0)
    page = posts[offset : offset + size]
    meta: dict[str, Any] = {"result_count": len(page)}
    if page:
        meta.update(newest_id=page[0]["id"], oldest_id=page[-1]["id"])
    if offset + size < len(posts):
        meta["next_token"] = str(offset + size)
    body: dict[str, Any] = {"meta": meta}
    if page:
        body["data"] = [x._post_json(p, fields) for p in page]
    return x._json(body)


# -- posts -------------------------------------------------------------------------------------


def _lookup(x: FakeX, req: RecordedRequest) -> Response:
    fields = _fields(x, req)
    if isinstance(fields, Response):
        return fields
    ids = [i for i in (req.param("ids") or "").split(",") if i]
    if not 1 <= len(ids) <= 100:
        return _invalid(x, "The `ids` query parameter value must have between 1 and 100 items")
    data, errors, keys = [], [], []
    now = datetime.now(timezone.utc)
    for post_id in ids:
        post = x._posts.get(post_id)
        if post is None:
            errors.append(
                {
                    "value": post_id,
                    "detail": f"Could not find tweet with ids: [{post_id}].",
                    "title": "Not Found Error",
                    "resource_type": "tweet",
                    "parameter": "ids",
                    "resource_id": post_id,
                    "type": "https://api.twitter.com/2/problems/resource-not-found",
                }
            )
            continue
        allowed = x.private_metrics and post["author"] == x.user_id and now - post["created_at"] < timedelta(days=30)
        refused = [f for f in _PRIVATE if f in fields] if not allowed else []
        if refused:
            for field in refused:
                for name in ("impression_count", "url_link_clicks", "user_profile_clicks"):
                    errors.append(
                        {
                            "resource_type": "tweet",
                            "field": f"{field}.{name}",
                            "parameter": "ids",
                            "resource_id": post_id,
                            "title": "Field Authorization Error",
                            "section": "data",
                            "detail": f"Sorry, you are not authorized to access '{field}.{name}' on the Tweet with id : [{post_id}].",
                            "value": post_id,
                            "type": "https://api.twitter.com/2/problems/not-authorized-for-field",
                        }
                    )
            continue
        data.append(x._post_json(post, fields))
        keys += post["media_keys"]
    body: dict[str, Any] = {}
    if data:
        body["data"] = data
    if "attachments.media_keys" in (req.param("expansions") or "") and keys:
        body["includes"] = {"media": [m for m in (x._media_json(k) for k in keys) if m is not None]}
    if errors:
        body["errors"] = errors
    return x._json(body)


def _create(x: FakeX, req: RecordedRequest) -> Response:
    body = req.json if isinstance(req.json, dict) else None
    if body is None:
        return _invalid(x, "the request body is not JSON")
    text = body.get("text") or ""
    ids = (body.get("media") or {}).get("media_ids") or []
    if not text and not ids:
        return _invalid(x, "Either `text` or `media` is required")
    if body.get("reply_settings") not in (None, "following", "mentionedUsers", "subscribers", "verified"):
        return _invalid(x, "reply_settings is not one of the allowed values")
    keys = []
    for media_id in ids:
        item = x._media.get(str(media_id))
        if item is None or item["state"] != "succeeded":
            return _invalid(x, f"Your media IDs are invalid: [{media_id}].")
        keys.append(item["media_key"])
    # docs.x.com/x-api/posts/create-or-edit-post: `reply` {in_reply_to_tweet_id (required in it),
    # exclude_reply_user_ids}; a reply to a post that is gone or not visible is refused.
    reply = body.get("reply")
    parent = None
    if reply is not None:
        parent = str((reply or {}).get("in_reply_to_tweet_id") or "") if isinstance(reply, dict) else ""
        if not parent:
            return _invalid(x, "reply.in_reply_to_tweet_id is required")
        if parent not in x._posts:
            return x._json(
                problem(403, "Forbidden", "You attempted to reply to a Tweet that is deleted or not visible to you."),
                403,
            )
    recent = [p for p in x._posts.values() if p["author"] == x.user_id]
    if text and any(p["text"] == text for p in recent):
        return x._json(problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content."), 403)
    post = x._new_post(text, keys, datetime.now(timezone.utc), x.user_id)
    post["reply_settings"] = body.get("reply_settings") or "everyone"
    post["in_reply_to"] = parent
    history = "edit_history_post_ids" if x.renamed else "edit_history_tweet_ids"
    rendered, _urls = x._rendered(post)
    return x._json({"data": {"id": post["id"], "text": rendered, history: [post["id"]]}}, 201)


def _delete(x: FakeX, req: RecordedRequest, post_id: str) -> Response:
    if post_id in x._deleted:
        return x._json({"data": {"deleted": False}})
    post = x._posts.get(post_id)
    if post is None:
        return x._json(
            problem(404, "Not Found Error", f"Could not find tweet with id: [{post_id}].", "resource-not-found"), 404
        )
    if post["author"] != x.user_id:
        return x._json(problem(403, "Forbidden", "You are not allowed to delete this Tweet."), 403)
    x.delete_post(post_id)
    return x._json({"data": {"deleted": True}})


# -- media -------------------------------------------------------------------------------------


def _initialize(x: FakeX, req: RecordedRequest) -> Response:
    body = req.json if isinstance(req.json, dict) else {}
    category = body.get("media_category")
    total = body.get("total_bytes")
    if category not in _MEDIA_CAPS or not isinstance(total, int) or not body.get("media_type"):
        return _invalid(x, "media_type, total_bytes and a media_category for a post are required")
    if total > _MEDIA_CAPS[category]:
        return _invalid(x, f"File size exceeds {_MEDIA_CAPS[category]} bytes.")
    item = x._new_media(category, total=total)
    item["media_type"] = body["media_type"]
    return x._json({"data": {"id": item["id"], "media_key": item["media_key"], "expires_after_secs": 86400}})


def _upload(x: FakeX, media_id: str) -> dict[str, Any] | Response:
    item = x._media.get(media_id)
    if item is None:
        return x._json(problem(400, "Invalid Request", f"media id {media_id} is unknown", "invalid-request"), 400)
    return item


def _append(x: FakeX, req: RecordedRequest, media_id: str) -> Response:
    item = _upload(x, media_id)
    if isinstance(item, Response):
        return item
    chunk = req.files.get("media")
    index = req.form.get("segment_index", [None])[0]
    if chunk is None or index is None or not index.isdigit() or not 0 <= int(index) <= 999:
        return _invalid(x, "media and a segment_index between 0 and 999 are required")
    item["received"][int(index)] = chunk["data"]
    return x._json({"data": {"expires_at": int(datetime.now(timezone.utc).timestamp()) + 86400}})


def _finalize(x: FakeX, req: RecordedRequest, media_id: str) -> Response:
    item = _upload(x, media_id)
    if isinstance(item, Response):
        return item
    received = item["received"]
    if sorted(received) != list(range(len(received))) or sum(map(len, received.values())) != item["total_bytes"]:
        return _invalid(x, "Segments do not add up to provided total file size.")
    data: dict[str, Any] = {
        "id": media_id,
        "media_key": item["media_key"],
        "size": item["total_bytes"],
        "expires_after_secs": 86400,
    }
    if item["category"] == "tweet_image":
        item["state"] = "succeeded"
        data["image"] = {"image_type": item["media_type"], "w": 40, "h": 30}
    else:
        item["state"] = "pending"
        data["processing_info"] = {"state": "pending", "check_after_secs": 1}
    return x._json({"data": data})


def _status(x: FakeX, req: RecordedRequest) -> Response:
    if req.param("command") != "STATUS":
        return _invalid(x, "command must be STATUS")
    item = _upload(x, str(req.param("media_id") or ""))
    if isinstance(item, Response):
        return item
    data: dict[str, Any] = {"id": item["id"], "media_key": item["media_key"]}
    if item["state"] in ("pending", "in_progress"):
        item["checks"] += 1
        if item["checks"] >= x.processing_checks:
            item["state"] = "failed" if x.processing_fails else "succeeded"
        else:
            item["state"] = "in_progress"
    info: dict[str, Any] = {"state": item["state"]}
    if item["state"] == "in_progress":
        info.update(check_after_secs=3, progress_percent=50)
    if item["state"] == "failed":
        info["error"] = {"code": 1, "name": "InvalidMedia", "message": "Unsupported video format"}
    data["processing_info"] = info
    return x._json({"data": data})


def _metadata(x: FakeX, req: RecordedRequest) -> Response:
    body = req.json if isinstance(req.json, dict) else {}
    item = _upload(x, str(body.get("id") or ""))
    if isinstance(item, Response):
        return item
    alt = ((body.get("metadata") or {}).get("alt_text") or {}).get("text")
    if not isinstance(alt, str) or not 1 <= len(alt) <= 1000:
        return _invalid(x, "alt_text.text must be 1 to 1000 characters")
    item["alt_text"] = alt
    return x._json({"data": {"id": item["id"], "associated_metadata": body["metadata"]}})
