"""Reading Bluesky's answers: at:// URIs, timestamps, counters (never a fake 0) and JSON bodies.

Views are read as plain dicts, not the SDK's strict models: an AppView adds fields faster
than the SDK's models learn them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from postcli.platforms.base import MalformedResponse, PostMetrics

PLATFORM = "bluesky"
POST_COLLECTION = "app.bsky.feed.post"

_AT_URI_RE = re.compile(r"^at://(?P<repo>[^/?#]+)/(?P<collection>[^/?#]+)/(?P<rkey>[^/?#]+)/?$")
WEB_URL_RE = re.compile(r"^/profile/(?P<actor>[^/]+)/post/(?P<rkey>[^/]+)/?$")


def parse_at_uri(uri: str) -> tuple[str, str, str] | None:
    m = _AT_URI_RE.match(uri.strip())
    return (m.group("repo"), m.group("collection"), m.group("rkey")) if m else None


def parse_dt(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def content(response: Any) -> dict[str, Any]:
    """The JSON object of an XRPC answer."""
    body = response.content
    if not isinstance(body, dict):
        raise MalformedResponse("Bluesky answered with something that is not a JSON object.", platform=PLATFORM)
    return body


def count(view: dict[str, Any], key: str, host: str) -> int | None:
    value = view.get(key)
    if value is None:
        return None  # not reported: never a fake 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedResponse(f"Bluesky at {host} sent a non-integer {key}.", platform=PLATFORM)
    return value


def post_metrics(view: dict[str, Any], host: str) -> PostMetrics:
    raw_keys = (
        "uri",
        "cid",
        "indexedAt",
        "likeCount",
        "repostCount",
        "replyCount",
        "quoteCount",
        "bookmarkCount",
    )
    return PostMetrics(
        likes=count(view, "likeCount", host),
        shares=count(view, "repostCount", host),
        comments=count(view, "replyCount", host),
        quotes=count(view, "quoteCount", host),
        saves=count(view, "bookmarkCount", host),
        raw={k: view[k] for k in raw_keys if k in view},
    )
