"""X posts as the API shows them: their links (t.co in `text`, the real ones in
`entities.urls`), their ids (which carry their time) and their web addresses.

X returns a post's `text` with every link replaced by a t.co link and with &, < and >
escaped as HTML entities; a post with media ends with one more t.co link, to the media
(docs.x.com/x-api/fundamentals/data-dictionary, "entities.urls": url, expanded_url,
display_url, unwound_url, media_key). Recognising our own post among the account's posts
compares the text with each link taken out and the links themselves through entities.urls.
"""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import urlparse

from postcli.platforms.values import as_dict

_TCO = re.compile(r"https?://t\.co/[A-Za-z0-9]+")
_LINK = "\x00"  # where a link stood
# Snowflake ids: milliseconds since X's epoch in the bits above the lowest 22.
_EPOCH_MS = 1288834974657
_STATUS_PATH = re.compile(r"^/(?:(?P<user>[A-Za-z0-9_]{1,15})|i(?:/web)?)/status(?:es)?/(?P<id>[0-9]{1,20})(?:/|$)")
_WEB_HOSTS = ("x.com", "twitter.com")


def created_at_of_id(post_id: str) -> datetime | None:
    """When a post was created, from its id (X's ids since 2010 are snowflakes)."""
    try:
        number = int(post_id)
    except (TypeError, ValueError):
        return None
    millis = (number >> 22) + _EPOCH_MS
    if number <= 0 or millis <= _EPOCH_MS:
        return None
    return datetime.fromtimestamp(millis / 1000, timezone.utc)


def reference(url_or_id: str) -> tuple[str | None, str] | None:
    """(username or None, post id) of an x.com or twitter.com status link or a bare id."""
    text = (url_or_id or "").strip()
    if text.isdigit():
        return None, text
    parsed = urlparse(text if "://" in text else f"https://{text}")
    host = (parsed.hostname or "").lower()
    if not any(host == h or host.endswith("." + h) for h in _WEB_HOSTS):
        return None
    m = _STATUS_PATH.match(parsed.path)
    if m is None:
        return None
    return m.group("user"), m.group("id")


def web_url(web: str, username: str | None, post_id: str) -> str:
    """https://x.com/<user>/status/<id> (X's /i/web/status/<id> when the name is unknown)."""
    return f"{web}/{username}/status/{post_id}" if username else f"{web}/i/web/status/{post_id}"


def _media_link(entity: dict[str, Any]) -> bool:
    expanded = str(entity.get("expanded_url") or "")
    return bool(entity.get("media_key")) or bool(re.search(r"/status/\d+/(?:photo|video)/\d+$", expanded))


def _swap_links(post: dict[str, Any], link: Callable[[str, str | None], str]) -> str:
    """The post's text, HTML escapes undone, each t.co link replaced by link(t.co, expanded or
    None when the answer does not expand it); media links are dropped."""
    text = html.unescape(str(post.get("text") or ""))
    entities = as_dict(post.get("entities")).get("urls")
    by_url = {str(e.get("url")): e for e in entities or [] if isinstance(e, dict) and e.get("url")}

    def swap(m: re.Match[str]) -> str:
        entity = by_url.get(m.group(0))
        if entity is None:
            return link(m.group(0), None)
        if _media_link(entity):
            return ""
        # expanded_url is the link as written (a scheme added); unwound_url where it redirects to.
        return link(m.group(0), str(entity.get("expanded_url") or entity.get("unwound_url") or "") or None)

    return _TCO.sub(swap, text)


def rendered(post: dict[str, Any]) -> tuple[str, list[str | None]]:
    """A listed post's text with each link replaced by a marker, and its links in order
    (None: a t.co link the answer did not expand)."""
    links: list[str | None] = []

    def mark(_short: str, expanded: str | None) -> str:
        links.append(expanded)
        return _LINK

    return _swap_links(post, mark), links


def written(text: str) -> tuple[str, list[str | None]]:
    """What we sent, in the same form as `rendered`: links (as X finds them) replaced by a marker."""
    from postcli.platforms.x.text import url_spans

    normalized = unicodedata.normalize("NFC", text or "")
    out: list[str] = []
    links: list[str | None] = []
    last = 0
    for start, end in url_spans(normalized):
        out.append(normalized[last:start] + _LINK)
        links.append(normalized[start:end])
        last = end
    out.append(normalized[last:])
    return "".join(out), links


def _loose(url: str) -> str:
    """A link as X may rewrite it: scheme added, host lower-cased, "www." and a final "/" aside."""
    value = re.sub(r"^https?://", "", url.strip(), flags=re.IGNORECASE)
    host, sep, rest = value.partition("/")
    host = host.lower().removeprefix("www.")
    return (host + sep + rest).rstrip("/")


def same_text(post: dict[str, Any], text: str) -> bool:
    """Is the listed post's text what we sent as `text`?"""
    theirs, their_links = rendered(post)
    mine, my_links = written(text)

    def squeeze(value: str) -> str:
        return " ".join(unicodedata.normalize("NFC", value).split())

    if squeeze(theirs) != squeeze(mine) or len(their_links) != len(my_links):
        return False
    return all(t is None or _loose(t) == _loose(m or "") for t, m in zip(their_links, my_links))


def media_count(post: dict[str, Any]) -> int:
    keys = as_dict(post.get("attachments")).get("media_keys")
    return len(keys) if isinstance(keys, list) else 0


def plain_text(post: dict[str, Any]) -> str:
    """The post's text as written: links expanded, the media link and HTML escapes gone."""
    return _swap_links(post, lambda short, expanded: expanded or short).strip()


def replied_to(post: dict[str, Any]) -> str | None:
    """The id of the post `post` replies to (referenced_tweets, type replied_to), None for a post
    of its own."""
    for ref in post.get("referenced_tweets") or []:
        if isinstance(ref, dict) and ref.get("type") == "replied_to" and ref.get("id"):
            return str(ref["id"])
    return None
