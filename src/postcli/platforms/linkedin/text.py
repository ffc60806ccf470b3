r"""LinkedIn's own formats: the "little" text of a post's commentary, and post URNs and links.

Commentary is "little" text: `\ | { } @ [ ] ( ) < > # * _ ~` are reserved for mentions,
hashtags and templates, and every one of them must be escaped with a backslash to be read
as plain text ("All reserved characters need to be escaped with a backslash, even if those
characters are not used in one of the supported elements":
learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/little-text-format).
postcli escapes them all, so a post reads exactly as it was typed.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

RESERVED = frozenset("\\|{}@[]()<>#*_~")

# Post URNs the Posts API hands out (x-restli-id) and takes: shares and ugcPosts.
_POST_URN = re.compile(r"urn:li:(share|ugcPost):(\d+)")
_ACTIVITY_URN = re.compile(r"urn:li:activity:(\d+)")
_ORG_URN = re.compile(r"urn:li:organization:(\d+)")
# {hashtag|#|word}: the HashtagTemplate, in case LinkedIn answers a hashtag that way.
_HASHTAG_TEMPLATE = re.compile(r"\{hashtag\|\\?([#＃])\|([^}]*)\}")


def escape(text: str) -> str:
    """`text` as little text that reads exactly as `text`."""
    return "".join("\\" + c if c in RESERVED else c for c in text)


def unescape(text: str) -> str:
    """The plain text a little text reads as (escapes dropped; a hashtag template as #word;
    a mention as its name). For comparing a post read back with what was sent."""
    text = _HASHTAG_TEMPLATE.sub(lambda m: m.group(1) + m.group(2), text)
    text = re.sub(r"(?<!\\)@\[([^\]]*)\]\([^)]*\)", r"\1", text)  # @[Name](urn:li:...)
    out = []
    chars = iter(text)
    for c in chars:
        if c == "\\":
            nxt = next(chars, "")
            out.append(nxt if nxt in RESERVED else c + nxt)
        else:
            out.append(c)
    return "".join(out)


def restli(urn: str) -> str:
    """A URN as a Rest.li 2.0 key or query value: every reserved character percent-encoded."""
    return quote(urn, safe="")


def feed_url(urn: str) -> str:
    """The post's page: www.linkedin.com/feed/update/<urn>/ (the Posts API docs' view URL)."""
    return f"https://www.linkedin.com/feed/update/{urn}/"


def post_urn(ref: str) -> str | None:
    """The share or ugcPost URN in a bare URN, an encoded one, or a link to the post
    (/feed/update/<urn>/, /embed/feed/update/<urn>); None when there is none."""
    text = unquote(ref.strip())
    m = _POST_URN.search(text)
    if m is None:
        return None
    parts = urlsplit(text)
    if parts.scheme in ("http", "https"):
        host = (parts.hostname or "").lower()
        if host != "linkedin.com" and not host.endswith(".linkedin.com"):
            return None
    return f"urn:li:{m.group(1)}:{m.group(2)}"


def activity_urn(ref: str) -> str | None:
    """urn:li:activity:N in `ref` (what "Copy link to post" gives): not a post URN."""
    m = _ACTIVITY_URN.search(unquote(ref))
    return m.group(0) if m else None


def org_id(value: str) -> str | None:
    """The number of an organization given as N or urn:li:organization:N; None otherwise."""
    value = value.strip()
    if value.isdigit():
        return value
    m = _ORG_URN.fullmatch(unquote(value))
    return m.group(1) if m else None


def org_urn(value: str) -> str:
    return f"urn:li:organization:{value}"


def person_urn(sub: str) -> str:
    """The member's URN from /v2/userinfo's `sub` (Sign In with LinkedIn using OpenID Connect)."""
    return f"urn:li:person:{sub}"
