"""What Threads accepts in one post, checked before anything is sent, and how it counts a
post's text and links."""

from __future__ import annotations

import functools
import re
from typing import Any

from postcli.platforms.base import PublishRequest

# Threads Posts guide: "Text posts are limited to 500 characters. Emojis are counted
# as the number of UTF-8 bytes"; carousels hold 2 to 20 items; at most 5 links.
MAX_TEXT = 500
MAX_CAROUSEL_ITEMS = 20
MAX_LINKS = 5
MAX_ALT_TEXT = 1000
# Media specifications: images JPEG/PNG up to 8 MB, videos MOV/MP4 up to 1 GB.
IMAGE_TYPES = ("image/jpeg", "image/png")
VIDEO_TYPES = ("video/mp4", "video/quicktime")
MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_VIDEO_BYTES = 1024 * 1024 * 1024
# Media specifications: "Duration: 300 seconds (5 minutes) maximum, minimum longer than 0 seconds".
MAX_VIDEO_SECONDS = 300

_URL = re.compile(r"(?i)(?<![\w@])(?:https?://|www\.)[^\s<>\"]+")


@functools.lru_cache(maxsize=1)
def _emoji_char() -> Any:
    import regex  # ~20 ms; only needed when a text is measured

    return regex.compile("[\\p{Extended_Pictographic}\\p{Regional_Indicator}\u20e3]")


def threads_text_length(text: str) -> int:
    """Length of `text` against Threads' 500-character limit.

    The Posts guide counts emojis "as the number of UTF-8 bytes" (and points at a
    grapheme splitter), so a grapheme cluster holding an emoji (with its
    modifiers, joiners and variation selectors) counts its UTF-8 bytes; any other
    cluster counts its code points.
    """
    import regex

    emoji = _emoji_char()
    total = 0
    for cluster in regex.findall(r"\X", text or ""):
        total += len(cluster.encode("utf-8")) if emoji.search(cluster) else len(cluster)
    return total


def count_links(text: str) -> int:
    """Unique URLs in `text`, as the link limit counts them (best effort)."""
    return len({m.group(0).rstrip(".,;:!?)]}'\"").lower() for m in _URL.finditer(text or "")})


def content_problems(req: PublishRequest) -> list[str]:
    """Why Threads would refuse `req`, in words; empty when it is fine. Nothing is sent."""
    problems: list[str] = []
    if not req.text.strip() and not req.media:
        problems.append("the text is empty.")
    length = threads_text_length(req.text)
    if length > MAX_TEXT:
        problems.append(
            f"the text is {length} characters (an emoji counts its UTF-8 bytes), Threads allows {MAX_TEXT}."
        )
    links = count_links(req.text)
    if links > MAX_LINKS:
        problems.append(f"the text has {links} links, Threads allows {MAX_LINKS}.")
    if len(req.media) > MAX_CAROUSEL_ITEMS:
        problems.append(f"{len(req.media)} media files, a Threads carousel holds at most {MAX_CAROUSEL_ITEMS}.")
    for item in req.media:
        name = item.path.name
        allowed, cap = (VIDEO_TYPES, MAX_VIDEO_BYTES) if item.is_video else (IMAGE_TYPES, MAX_IMAGE_BYTES)
        if item.mime_type not in allowed:
            problems.append(f"{name} is {item.mime_type}; Threads takes JPEG/PNG images and MP4/MOV videos.")
        elif item.size_bytes > cap:
            problems.append(f"{name} is {item.size_bytes:,} bytes, Threads takes up to {cap:,}.")
        if item.alt_text and len(item.alt_text) > MAX_ALT_TEXT:
            problems.append(
                f"the alt text of {name} is {len(item.alt_text)} characters, Threads allows {MAX_ALT_TEXT}."
            )
        if not (item.public_url or "").startswith(("http://", "https://")):
            problems.append(
                f"{name} has no public URL: Threads fetches media itself, so publishing needs the "
                "S3 media store ([s3] in config.toml)."
            )
    return problems
