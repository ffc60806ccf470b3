"""A first comment under a YouTube video, as the channel that uploaded it.

commentThreads.insert (developers.google.com/youtube/v3/docs/commentThreads/insert): POST
/youtube/v3/commentThreads?part=snippet with snippet.channelId, snippet.videoId and
snippet.topLevelComment.snippet.textOriginal; it answers the commentThread, whose id is the
top-level comment's. 50 units; it needs the youtube.force-ssl scope (the method's only scope),
which sign-ins since first comments ask for beside youtube.

An answer that never came: the API takes no idempotency key, so the retry looks among the
video's comment threads (commentThreads.list?videoId=…&order=time, newest first, two pages of
100, 1 unit each) for the channel's own top-level comment with exactly the text made since the
first attempt (minus the adapter's margin; the oldest match wins). `searchTerms` is not used:
its matching (words, phrases) is not documented, a listing by time is. A comment with the same
text made by hand in that window is taken for ours.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from postcli.platforms.base import MalformedResponse, PlatformError, PlatformRejected, PublishRequest, PublishResult
from postcli.platforms.graph_comments import oldest_match
from postcli.platforms.values import as_dict, as_utc
from postcli.platforms.youtube import rules


class YouTubeAdapter(Protocol):
    """What this module asks of the adapter (adapter.py imports this module, not the reverse)."""

    def fail(self, cls: type[PlatformError], message: str, **kw: Any) -> PlatformError: ...
    def call(self, method: str, url: str, what: str, **kwargs: Any) -> Any: ...
    def api_url(self, resource: str) -> str: ...
    def _charge(self, what: str, cost: int = 1) -> None: ...
    def channel_id(self) -> str: ...
    def reconcile_since(self, req: PublishRequest) -> datetime | None: ...


INSERT_COST = 50  # commentThreads.insert (determine_quota_cost)
MAX_COMMENT = 10_000  # textOriginal; commentTextTooLong names no number, 10,000 is YouTube's comment box
_PAGE, _PAGES = 100, 2
# What to do, said in the message itself (a target's stored error keeps no hint).
_FIX = {
    "insufficientPermissions": "first comments need the youtube.force-ssl scope, which sign-ins before them "
    "did not ask for: sign in again with postcli accounts login youtube",
    "commentsDisabled": "comments are turned off for this video: turn them on in YouTube Studio, then post retry",
}


def comment_url(video_id: str, comment_id: str) -> str:
    """The watch page opened at the comment (`lc=`, the form of a comment's own link)."""
    return f"{rules.WATCH_URL}{video_id}&lc={comment_id}"


def publish(adapter: YouTubeAdapter, req: PublishRequest) -> PublishResult:
    assert req.reply_to is not None
    video_id = req.reply_to.platform_post_id
    if len(req.text) > MAX_COMMENT:
        raise adapter.fail(
            PlatformRejected, f"the first comment is {len(req.text)} characters; YouTube takes {MAX_COMMENT}."
        )
    body = {
        "snippet": {
            "channelId": adapter.channel_id(),
            "videoId": video_id,
            "topLevelComment": {"snippet": {"textOriginal": req.text}},
        }
    }
    adapter._charge("commentThreads.insert", INSERT_COST)
    try:
        answer = adapter.call(
            "POST", adapter.api_url("commentThreads"), "commenting on the video", params={"part": "snippet"}, json=body
        )
    except PlatformRejected as exc:
        fix = next((text for reason, text in _FIX.items() if f"{reason}" in exc.message), None)
        if fix:
            exc.message = f"{exc.message}; {fix}"
            exc.args = (exc.message,)
        raise
    made = as_dict(answer)
    thread_id = made.get("id")
    if not thread_id:
        raise adapter.fail(MalformedResponse, "YouTube answered the new comment without its id")
    return _result(str(thread_id), video_id, made, req.text)


def find(adapter: YouTubeAdapter, req: PublishRequest) -> PublishResult | None:
    """The channel's own top-level comment with this text under the video."""
    assert req.reply_to is not None
    video_id = req.reply_to.platform_post_id
    channel = adapter.channel_id()
    params: dict[str, Any] = {
        "part": "snippet",
        "videoId": video_id,
        "order": "time",
        "textFormat": "plainText",
        "maxResults": _PAGE,
    }
    threads: list[dict[str, Any]] = []
    for _ in range(_PAGES):
        adapter._charge("commentThreads.list")
        listed = as_dict(
            adapter.call(
                "GET",
                adapter.api_url("commentThreads"),
                "looking for an earlier attempt among the video's comments",
                params=params,
            )
        )
        threads.extend(t for t in listed.get("items") or [] if isinstance(t, dict))
        if not listed.get("nextPageToken"):
            break
        params["pageToken"] = listed["nextPageToken"]
    flat = []
    for thread in threads:
        top = as_dict(as_dict(thread.get("snippet")).get("topLevelComment"))
        snippet = as_dict(top.get("snippet"))
        flat.append(
            {
                "id": thread.get("id"),
                "text": snippet.get("textOriginal"),
                "time": snippet.get("publishedAt"),
                "author": as_dict(snippet.get("authorChannelId")).get("value"),
                "thread": thread,
            }
        )
    found = oldest_match(
        flat,
        req.text,
        text_key="text",
        time_key="time",
        since=adapter.reconcile_since(req),
        mine=lambda c: c.get("author") == channel,
    )
    return None if found is None else _result(str(found["id"]), video_id, found["thread"], req.text)


def _result(thread_id: str, video_id: str, thread: dict[str, Any], text: str) -> PublishResult:
    top = as_dict(as_dict(thread.get("snippet")).get("topLevelComment"))
    return PublishResult(
        platform_post_id=thread_id,
        url=comment_url(video_id, str(top.get("id") or thread_id)),
        published_at=as_utc(as_dict(top.get("snippet")).get("publishedAt")),
        text=text,
    )
