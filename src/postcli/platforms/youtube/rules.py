"""What a YouTube upload may be, checked before anything is sent, and video ids and URLs.

The limits are the video resource's (developers.google.com/youtube/v3/docs/videos):
snippet.title at most 100 characters, snippet.description at most 5000 bytes, neither
with < or >; snippet.tags at most 500 characters as YouTube counts them (spec.py); one
video file of video/* up to 256 GB (videos.insert "Upload limits").
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from postcli.errors import InvalidInput
from postcli.platforms.base import MediaItem, PublishRequest
from postcli.platforms.youtube.spec import PRIVACY, check_tags

TITLE_MAX = 100
DESCRIPTION_MAX_BYTES = 5000
FORBIDDEN = "<>"
MAX_VIDEO_BYTES = 256 * 10**9  # "256GB" (videos.insert); read as decimal, the smaller
MIME_TYPES = ("video/mp4", "video/quicktime")
WATCH_URL = "https://www.youtube.com/watch?v="
_VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{11}")


def problems(req: PublishRequest) -> list[str]:
    """Every reason YouTube would refuse `req`, in words; [] when it may be sent."""
    found: list[str] = []
    videos = [m for m in req.media if m.is_video]
    if len(req.media) != 1 or len(videos) != 1:
        found.append(f"a YouTube post is exactly one video (this one has {len(videos)} of {len(req.media)} files).")
    title = (req.title or "").strip()
    if not title:
        found.append("YouTube needs a title (--title).")
    elif len(title) > TITLE_MAX:
        found.append(f"the title is {len(title)} characters; YouTube takes at most {TITLE_MAX}.")
    for what, text in (("title", title), ("description", req.text)):
        bad = sorted({c for c in text if c in FORBIDDEN})
        if bad:
            found.append(f"the {what} may not contain {' or '.join(map(repr, bad))}.")
    size = len(req.text.encode("utf-8"))
    if size > DESCRIPTION_MAX_BYTES:
        found.append(f"the description is {size} bytes; YouTube takes at most {DESCRIPTION_MAX_BYTES}.")
    tags = req.fields.get("tags")
    if tags:
        try:
            check_tags(list(tags))
        except InvalidInput as exc:
            found.append(exc.message)
    if req.fields.get("privacy", "private") not in PRIVACY:
        found.append(f"privacy must be one of {', '.join(PRIVACY)}.")
    return found


def metadata(req: PublishRequest) -> dict[str, Any]:
    """The video resource sent when the upload session starts (parts snippet and status)."""
    snippet: dict[str, Any] = {"title": (req.title or "").strip(), "description": req.text}
    if req.fields.get("tags"):
        snippet["tags"] = list(req.fields["tags"])
    if req.fields.get("category") is not None:
        snippet["categoryId"] = str(req.fields["category"])
    return {"snippet": snippet, "status": {"privacyStatus": req.fields.get("privacy", "private")}}


def the_video(req: PublishRequest) -> MediaItem:
    return next(m for m in req.media if m.is_video)


def video_id(url_or_id: str) -> str | None:
    """The video id of a watch, youtu.be, shorts, live or embed URL, or of a bare id."""
    text = url_or_id.strip()
    if _VIDEO_ID.fullmatch(text):
        return text
    parts = urlsplit(text if "://" in text else f"https://{text}")
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    segments = [s for s in parts.path.split("/") if s]
    candidate: str | None = None
    if host == "youtu.be" and segments:
        candidate = segments[0]
    elif host in ("youtube.com", "music.youtube.com"):
        if segments[:1] == ["watch"]:
            candidate = next(iter(parse_qs(parts.query).get("v") or []), None)
        elif len(segments) >= 2 and segments[0] in ("shorts", "live", "embed", "v"):
            candidate = segments[1]
    return candidate if candidate and _VIDEO_ID.fullmatch(candidate) else None
