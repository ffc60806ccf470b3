"""The commentThreads routes of FakeYouTube (tests/fakes/youtube_server.py), each beside the page
of developers.google.com/youtube/v3/docs/... it follows; what the pages do not show is marked
"assumption"."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

if TYPE_CHECKING:
    from fakes.loopback import RecordedRequest
    from fakes.youtube_server import FakeYouTube

FORCE_SSL = "https://www.googleapis.com/auth/youtube.force-ssl"


def _error(yt: FakeYouTube, status: int, reason: str, message: str, domain: str = "youtube.commentThread") -> Response:
    from fakes.youtube_server import google_error

    return yt._json(google_error(status, reason, message, domain), status)


def insert(yt: FakeYouTube, req: RecordedRequest) -> Response:
    # commentThreads/insert: POST /youtube/v3/commentThreads?part=snippet, a commentThread with
    # snippet.channelId, snippet.videoId, snippet.topLevelComment.snippet.textOriginal; the one
    # scope named is youtube.force-ssl ("Authorization"); errors (its "Errors" table):
    # commentTextRequired 400, channelOrVideoNotFound / videoNotFound 404, forbidden 403.
    if FORCE_SSL not in yt.scopes:
        # The generic answer to a token without the method's scope (docs/errors, "insufficientPermissions").
        return _error(yt, 403, "insufficientPermissions", "Request had insufficient authentication scopes.", "global")
    if req.param("part") != "snippet":
        return _error(yt, 400, "invalidPart", "part must be snippet", "youtube.parameter")
    snippet = (req.json or {}).get("snippet") if isinstance(req.json, dict) else None
    snippet = snippet if isinstance(snippet, dict) else {}
    video_id = str(snippet.get("videoId") or "")
    text = ((snippet.get("topLevelComment") or {}).get("snippet") or {}).get("textOriginal")
    if not isinstance(text, str) or not text.strip():
        return _error(yt, 400, "commentTextRequired", "The comment resource must contain textOriginal.")
    if video_id not in yt.videos:
        return _error(yt, 404, "videoNotFound", "The video identified by the videoId parameter could not be found.")
    if snippet.get("channelId") not in (None, yt.channel_id):  # assumption: the video's own channel
        return _error(yt, 404, "channelNotFound", "The channel could not be found.")
    if yt.comments_disabled:
        return _error(yt, 403, "commentsDisabled", "The video has disabled comments.")
    from fakes.youtube_server import _now

    thread_id = "Ug" + secrets.token_urlsafe(18)[:24]
    thread = {
        "kind": "youtube#commentThread",
        "etag": f"etag-{thread_id}",
        "id": thread_id,
        "snippet": {
            "channelId": yt.channel_id,
            "videoId": video_id,
            "topLevelComment": {
                "kind": "youtube#comment",
                "etag": f"etag-c-{thread_id}",
                "id": thread_id,  # a top-level comment's id is its thread's
                "snippet": {
                    "channelId": yt.channel_id,
                    "videoId": video_id,
                    "textDisplay": text,
                    "textOriginal": text,
                    "authorDisplayName": yt.custom_url or yt.title,
                    "authorChannelUrl": f"http://www.youtube.com/{yt.custom_url or 'channel/' + yt.channel_id}",
                    "authorChannelId": {"value": yt.channel_id},
                    "canRate": True,
                    "viewerRating": "none",
                    "likeCount": 0,
                    "publishedAt": _now(),
                    "updatedAt": _now(),
                },
            },
            "canReply": True,
            "totalReplyCount": 0,
            "isPublic": True,
        },
    }
    yt.comments.setdefault(video_id, []).append(thread)
    if yt.lose_comment_answers > 0:
        yt.lose_comment_answers -= 1
        yt._lock.release()
        try:
            yt._stopping.wait(30)  # the comment exists; the answer never comes in time
        finally:
            yt._lock.acquire()
    return yt._json(thread)


def list_threads(yt: FakeYouTube, req: RecordedRequest) -> Response:
    # commentThreads/list: part (id, replies, snippet), one filter (videoId here), maxResults 1-100
    # (default 20), order time (default) | relevance, pageToken/nextPageToken, textFormat.
    if req.param("part") is None:
        return _error(yt, 400, "missingRequiredParameter", "No filter selected.", "youtube.parameter")
    video_id = str(req.param("videoId") or "")
    if video_id not in yt.videos:
        return _error(yt, 404, "videoNotFound", "The video identified by the videoId parameter could not be found.")
    limit = int(req.param("maxResults") or 20)
    if not 1 <= limit <= 100:
        return _error(yt, 400, "invalidParameter", "maxResults must be 1 to 100", "youtube.parameter")
    newest: list[dict[str, Any]] = list(reversed(yt.comments.get(video_id, [])))
    start = int(req.param("pageToken") or 0)
    body: dict[str, Any] = {
        "kind": "youtube#commentThreadListResponse",
        "pageInfo": {"totalResults": len(newest), "resultsPerPage": limit},
        "items": newest[start : start + limit],
    }
    if start + limit < len(newest):
        body["nextPageToken"] = str(start + limit)
    return yt._json(body)
