"""A first comment under the user's Reddit post.

POST /api/comment (www.reddit.com/dev/api#POST_api_comment; reddit-archive/reddit
r2/controllers/api.py POST_comment) with api_type=json, thing_id (the post's fullname, t3_…) and
text (markdown); scope `submit`. Refusals come as HTTP 200 with json.errors (THREAD_LOCKED,
TOO_OLD, TOO_LONG, RATELIMIT …), read as the post's are; the new comment is
json.data.things[0].data (name t1_…, permalink, created_utc).

An answer that never came: Reddit takes no idempotency key, so the retry reads the user's newest
comments (GET /user/{name}/comments?sort=new, two pages of 100) for one under the post
(parent_id) with exactly the text made since the first attempt minus the margin; the oldest
such wins. A comment made by hand there with the same text in that window is taken for ours.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from postcli.platforms.base import MalformedResponse, PlatformError, PlatformRejected, PublishRequest, PublishResult
from postcli.platforms.graph_comments import oldest_match
from postcli.platforms.reddit.wire import from_epoch, fullname

# Comment.BODY_MAX_LENGTH... r2/lib/validator's VMarkdownLength for comments: 10,000 characters.
MAX_COMMENT = 10_000
_PAGE, _PAGES = 100, 2


class RedditAdapter(Protocol):
    """What this module asks of the adapter (adapter.py imports this module, not the reverse)."""

    def _fail(self, cls: type[PlatformError], message: str, **kw: Any) -> PlatformError: ...
    def _api(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: dict[str, Any] | None = ...,
        data: dict[str, Any] | None = ...,
    ) -> Any: ...
    def _refused(self, body: dict[str, Any], sr: str, what: str) -> None: ...
    def _hostname(self) -> str: ...
    def host(self, kind: str) -> str: ...
    def username(self) -> str | None: ...
    def reconcile_since(self, req: PublishRequest) -> datetime | None: ...


def publish(adapter: RedditAdapter, req: PublishRequest) -> PublishResult:
    assert req.reply_to is not None
    post = fullname(req.reply_to.platform_post_id)
    if len(req.text) > MAX_COMMENT:
        raise adapter._fail(
            PlatformRejected, f"the first comment is {len(req.text):,} characters; Reddit takes {MAX_COMMENT:,}."
        )
    what = f"commenting on post {post}"
    body = adapter._api("POST", "/api/comment", what, data={"api_type": "json", "thing_id": post, "text": req.text})
    body = body if isinstance(body, dict) else {}
    adapter._refused(body, "", what)
    data = (body.get("json") or {}).get("data") if isinstance(body.get("json"), dict) else None
    things = data.get("things") if isinstance(data, dict) else None
    made = things[0].get("data") if isinstance(things, list) and things and isinstance(things[0], dict) else None
    if not isinstance(made, dict) or not (made.get("name") or made.get("id")):
        raise adapter._fail(MalformedResponse, f"{adapter._hostname()} did not say which comment it made on {post}")
    return _result(adapter, made, req.text)


def find(adapter: RedditAdapter, req: PublishRequest) -> PublishResult | None:
    assert req.reply_to is not None
    post = fullname(req.reply_to.platform_post_id)
    user = adapter.username()
    comments: list[dict[str, Any]] = []
    after = None
    for _ in range(_PAGES):
        params: dict[str, Any] = {"sort": "new", "limit": _PAGE}
        if after:
            params["after"] = after
        found = adapter._api(
            "GET", f"/user/{user}/comments", "looking for an earlier attempt among your comments", params=params
        )
        listing = found.get("data") if isinstance(found, dict) else None
        children = listing.get("children") if isinstance(listing, dict) else None
        page = [c["data"] for c in children or [] if isinstance(c, dict) and isinstance(c.get("data"), dict)]
        comments.extend(page)
        after = listing.get("after") if isinstance(listing, dict) else None
        if not after or not page:
            break
    flat = [{**c, "id": c.get("name"), "time": from_epoch(c.get("created_utc"))} for c in comments]
    match = oldest_match(
        flat,
        req.text,
        text_key="body",
        time_key="time",
        since=adapter.reconcile_since(req),
        mine=lambda c: c.get("parent_id") == post,
    )
    return None if match is None else _result(adapter, match, req.text)


def _result(adapter: RedditAdapter, made: dict[str, Any], text: str) -> PublishResult:
    raw = str(made.get("name") or made.get("id"))
    name = raw if raw.startswith("t1_") else f"t1_{raw}"
    permalink = made.get("permalink")
    return PublishResult(
        platform_post_id=name,
        url=f"{adapter.host('web')}{permalink}" if permalink else None,
        published_at=from_epoch(made.get("created_utc")),
        text=text,
    )
