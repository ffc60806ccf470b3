"""The comment routes of FakeReddit (tests/fakes/reddit_server.py).

- POST /api/comment (www.reddit.com/dev/api#POST_api_comment; reddit-archive/reddit
  r2/controllers/api.py POST_comment): api_type=json, thing_id (the parent's fullname), text.
  Its refusals come as HTTP 200 json.errors: NO_TEXT "we need something here", TOO_LONG "this is
  too long (max: 10000)", THREAD_LOCKED "comments are locked." (validator VSubmitParent /
  VMarkdownLength); the answer's shape is PRAW's recorded TestSubmission.test_reply:
  {"json": {"errors": [], "data": {"things": [{"kind": "t1", "data": {...}}]}}}. An unknown
  parent: an assumption, json.errors NO_THING_ID "can't find that thing" (the fake's guess).
- GET /user/{name}/comments (dev/api#GET_user_{username}_comments): a Listing of t1 things,
  sort=new, limit up to 100, after.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

if TYPE_CHECKING:
    from fakes.loopback import RecordedRequest
    from fakes.reddit_server import FakeReddit


def comment(reddit: FakeReddit, req: RecordedRequest) -> Response:
    from fakes.reddit_server import USER_ID36, _base36

    form = {k: v[0] for k, v in req.form.items()}
    with reddit._lock:
        parent = reddit._posts.get(form.get("thing_id") or "")
        text = form.get("text") or ""
        error = None
        if form.get("api_type") != "json":
            error = ["BAD_REQUEST", "postcli's fake only speaks api_type=json", "api_type"]
        elif parent is None:
            error = ["NO_THING_ID", "can't find that thing", "parent"]
        elif parent["locked"]:
            error = ["THREAD_LOCKED", "comments are locked.", "parent"]
        elif not text.strip():
            error = ["NO_TEXT", "we need something here", "text"]
        elif len(text) > 10_000:
            error = ["TOO_LONG", "this is too long (max: 10000)", "text"]
        elif reddit.comment_errors:
            error = reddit.comment_errors.pop(0)
        if error is not None:
            return reddit._api_json({"json": {"errors": [error]}})  # HTTP 200: a refusal all the same
        assert parent is not None
        reddit._next += 1 + next(reddit._seq) % 5
        id36 = _base36(reddit._next)
        made = {
            "id": id36,
            "name": f"t1_{id36}",
            "body": text,
            "author": reddit.username,
            "author_fullname": f"t2_{USER_ID36}",
            "link_id": parent["name"],
            "parent_id": parent["name"],
            "permalink": f"{parent['permalink']}{id36}/",
            "subreddit": parent["subreddit"],
            "created_utc": float(int(time.time())),
            "score": 1,
            "replies": "",
        }
        reddit.comments[made["name"]] = made
        parent["num_comments"] += 1
        lose = reddit.lose_comment_answers > 0
        if lose:
            reddit.lose_comment_answers -= 1
    if lose:  # carried out, but the answer never arrives (until the server stops)
        reddit._stopping.wait()
    return reddit._api_json({"json": {"errors": [], "data": {"things": [{"kind": "t1", "data": dict(made)}]}}})


def user_comments(reddit: FakeReddit, user: str, req: RecordedRequest) -> Response:
    limit = max(1, min(100, int(req.param("limit") or 25)))
    with reddit._lock:
        mine = [c for c in reddit.comments.values() if user.lower() == reddit.username.lower()]
        mine = [c for c in mine if c["author"] == reddit.username]
        mine.sort(key=lambda c: (c["created_utc"], c["name"]), reverse=True)
        after = req.param("after")
        if after:
            names = [c["name"] for c in mine]
            mine = mine[names.index(after) + 1 :] if after in names else []
        page, more = mine[:limit], len(mine) > limit
        listing: dict[str, Any] = {
            "kind": "Listing",
            "data": {
                "after": page[-1]["name"] if more and page else None,
                "dist": len(page),
                "children": [{"kind": "t1", "data": dict(c)} for c in page],
                "before": None,
            },
        }
        return reddit._api_json(listing)
