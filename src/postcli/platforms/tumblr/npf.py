"""Tumblr blog names, post references, and posts in NPF (the Neue Post Format).

https://www.tumblr.com/docs/npf (github.com/tumblr/docs npf-spec.md).
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlparse

from postcli.platforms.values import int_or_none

_int_or_none = int_or_none

_TUMBLR_HOSTS = {"tumblr.com", "www.tumblr.com"}


def blog_identifier(value: str | None) -> str:
    """A blog name (or custom domain) from "name", "@name", "name.tumblr.com" or a blog URL."""
    v = (value or "").strip().lstrip("@")
    if not v:
        return ""
    if "://" in v or "/" in v:
        parsed = urlparse(v if "://" in v else f"https://{v}")
        host = (parsed.hostname or "").lower()
        parts = [p for p in parsed.path.split("/") if p]
        if host in _TUMBLR_HOSTS:
            if parts[:2] == ["blog", "view"]:
                parts = parts[2:]
            return parts[0].lstrip("@").lower() if parts else ""
        v = host
    v = v.lower().rstrip(".")
    return v[: -len(".tumblr.com")] if v.endswith(".tumblr.com") else v


def post_reference(value: str) -> tuple[str | None, str] | None:
    """(blog or None, post id) from a bare id or a post URL; None if it is neither."""
    v = (value or "").strip()
    if v.isdigit():
        return None, v
    parsed = urlparse(v if "://" in v else f"https://{v}")
    host = (parsed.hostname or "").lower()
    parts = [p for p in parsed.path.split("/") if p]
    if not host:
        return None
    if host in _TUMBLR_HOSTS:
        # www.tumblr.com/BLOG/ID[/slug], www.tumblr.com/@BLOG/ID, www.tumblr.com/blog/view/BLOG/ID
        if parts[:2] == ["blog", "view"]:
            parts = parts[2:]
        if len(parts) >= 2 and parts[1].isdigit():
            return parts[0].lstrip("@").lower(), parts[1]
        return None
    # BLOG.tumblr.com/post/ID[/slug] or a custom domain's /post/ID
    if len(parts) >= 2 and parts[0] == "post" and parts[1].isdigit():
        return blog_identifier(host), parts[1]
    return None


def paragraphs(text: str) -> list[str]:
    """The text blocks a text becomes: one per line (NPF: a text block is a paragraph).

    Tumblr trims empty text blocks at either end of a post, so those are dropped here.
    """
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and lines[0] == "":
        lines.pop(0)
    while lines and lines[-1] == "":
        lines.pop()
    return lines


def npf_text(content: Any) -> str:
    """The plain text of a post's NPF content: its text blocks, one per line."""
    if not isinstance(content, list):
        return ""
    return "\n".join(str(b.get("text") or "") for b in content if isinstance(b, dict) and b.get("type") == "text")


def media_blocks(content: Any) -> int:
    if not isinstance(content, list):
        return 0
    return sum(1 for b in content if isinstance(b, dict) and b.get("type") in ("image", "video"))


def normalized(text: str) -> str:
    # Whitespace-insensitive: Tumblr may drop trailing spaces or blank edge lines.
    return " ".join(unicodedata.normalize("NFC", text or "").split())


def from_timestamp(value: Any) -> datetime | None:
    seconds = _int_or_none(value)
    return datetime.fromtimestamp(seconds, timezone.utc) if seconds is not None else None
