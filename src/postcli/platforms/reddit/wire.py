"""Reddit's formats, without any network: names and fullnames, post links, the User-Agent,
the errors a body carries (whatever its HTTP status) and what a removed post says.

Cheap to import (the spec uses it): no httpx.

References (docs/platforms/reddit.md lists what each rests on):
  https://www.reddit.com/dev/api (the built-in reference; its source: reddit-archive/reddit,
    r2/r2/controllers/api.py and oauth2.py)
  https://github.com/reddit-archive/reddit/wiki/API and
  https://support.reddithelp.com/hc/en-us/articles/16160319875092-Reddit-Data-API-Wiki (the rules)
  praw-dev/praw and praw-dev/prawcore (how the reference client reads errors and rate limits)
"""

from __future__ import annotations

import re
import sys
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from postcli import __version__
from postcli.errors import InvalidInput

# Usernames: 3-20 letters, digits, "_" and "-" (reddit-archive/reddit r2/lib/validator: VUname).
_USERNAME = re.compile(r"[A-Za-z0-9_-]{3,20}")
# Subreddit names: 3-21 letters, digits and "_" (VSubredditName); a few old ones are 2 long.
_SUBREDDIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]{1,20}")
# Ids are base 36; a fullname is "<kind>_<id>" and a post's kind is t3 ("Fullnames", /dev/api).
_ID36 = re.compile(r"[0-9a-z]{1,13}")
POST_KIND = "t3_"


def check_username(value: str) -> str:
    """`--user`: NAME, u/NAME or /u/NAME; InvalidInput when it cannot be a Reddit username."""
    name = re.sub(r"^/?u/", "", value.strip(), flags=re.IGNORECASE)
    if not _USERNAME.fullmatch(name):
        raise InvalidInput(
            f"--user {value!r} is not a Reddit username.",
            hint="Give your username as on reddit.com/user/NAME (3-20 letters, digits, _ or -).",
        )
    return name


def subreddit_name(value: str) -> str | None:
    """NAME from NAME, r/NAME or /r/NAME; None when it cannot be a subreddit name."""
    name = re.sub(r"^/?r/", "", str(value).strip(), flags=re.IGNORECASE).rstrip("/")
    return name if _SUBREDDIT.fullmatch(name) else None


def _os_name() -> str:
    return {"darwin": "macos", "win32": "windows", "cygwin": "windows"}.get(sys.platform, sys.platform)


def user_agent(username: str | None) -> str:
    """Reddit's required form, `<platform>:<app ID>:<version string> (by /u/<reddit username>)`
    (the API rules: "Many default User-Agents ... are drastically limited")."""
    return f"{_os_name()}:postcli:v{__version__} (by /u/{username or 'unknown'})"


def fullname(post_id: str) -> str:
    """t3_<id> for a post id given with or without its kind."""
    text = str(post_id).strip()
    return text if text.startswith(POST_KIND) else POST_KIND + text


def post_id36(reference: str) -> str | None:
    """The base-36 id of a post from t3_ID, ID, or a link to it: www./old./new.reddit.com
    /r/SUB/comments/ID/..., /comments/ID, /user/NAME/comments/ID, redd.it/ID."""
    text = str(reference).strip()
    if "://" not in text and "/" not in text:
        bare = text[len(POST_KIND) :] if text.startswith(POST_KIND) else text
        return bare.lower() if _ID36.fullmatch(bare.lower()) else None
    parts = urlsplit(text if "://" in text else "https://" + text)
    host = (parts.hostname or "").lower()
    segments = [s for s in parts.path.split("/") if s]
    if host == "redd.it" and len(segments) == 1:
        found = segments[0].lower()
    elif host == "reddit.com" or host.endswith(".reddit.com"):
        if "comments" not in segments or segments.index("comments") + 1 >= len(segments):
            return None
        found = segments[segments.index("comments") + 1].lower()
    else:
        return None
    return found if _ID36.fullmatch(found) else None


def from_epoch(value: Any) -> datetime | None:
    """created_utc (seconds since the epoch, a float) as an aware UTC datetime."""
    try:
        return datetime.fromtimestamp(float(value), timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def collapse(text: str | None) -> str:
    """Whitespace runs as one space: Reddit cleans titles so (POST_submit: re.sub(r'\\s+', ' '))."""
    return re.sub(r"\s+", " ", text or "").strip()


# -- errors ----------------------------------------------------------------------------


def json_errors(body: Any) -> list[tuple[str, str, str]]:
    """The [code, message, field] triples of an `api_type=json` answer ({"json": {"errors": [...]}}),
    which Reddit sends with HTTP 200 (praw's Objector.parse_error reads them the same way)."""
    inner = body.get("json") if isinstance(body, dict) else None
    errors = inner.get("errors") if isinstance(inner, dict) else None
    found = []
    for item in errors if isinstance(errors, list) else []:
        if isinstance(item, (list, tuple)) and item:
            code, message, field = (list(item) + ["", "", ""])[:3]
            found.append((str(code), str(message or ""), str(field or "")))
    return found


def body_error(body: Any) -> tuple[str, str] | None:
    """(code, detail) of the other error shapes: {"reason", "explanation", "fields"} (a 400 of the
    submit validator), {"message", "error"} (an HTTP error), OAuth's {"error", "error_description"}."""
    if not isinstance(body, dict):
        return None
    if body.get("reason"):
        detail = str(body.get("explanation") or body.get("message") or "")
        fields = body.get("fields")
        if isinstance(fields, list) and fields:
            detail += f" (field {', '.join(map(str, fields))})"
        return str(body["reason"]), detail.strip()
    error = body.get("error")
    if isinstance(error, str) and error:
        return error, str(body.get("error_description") or "")
    if body.get("message"):
        return str(body.get("message")), ""
    return None


def describe(errors: list[tuple[str, str, str]]) -> str:
    """'SUBREDDIT_NOEXIST: that subreddit doesn't exist (field sr); ...' for a message."""
    return "; ".join(
        code + (f": {message}" if message else "") + (f" (field {field})" if field else "")
        for code, message, field in errors
    )


_WAIT = re.compile(r"(\d{1,4})\s*(milliseconds?|seconds?|minutes?|hours?)", re.IGNORECASE)


def ratelimit_seconds(message: str) -> float | None:
    """The wait in a RATELIMIT error ("Take a break for 9 minutes before trying again."), as
    praw's Reddit._handle_rate_limit reads it."""
    found = _WAIT.search(message or "")
    if not found:
        return None
    amount, unit = int(found.group(1)), found.group(2).lower()
    if unit.startswith("millisecond"):
        return 1.0
    return float(amount * {"s": 1, "m": 60, "h": 3600}[unit[0]])


def flair_required(errors: list[tuple[str, str, str]]) -> bool:
    return any(code == "SUBMIT_VALIDATION_FLAIR_REQUIRED" or field == "flair" for code, _m, field in errors)


# -- a post's state ------------------------------------------------------------------------

# removed_by_category: "deleted" when the author deleted the post; otherwise who removed it.
_REMOVED_BY = {
    "moderator": "removed by the subreddit's moderators",
    "automod_filtered": "removed: filtered by AutoModerator until a moderator approves it",
    "reddit": "removed by Reddit's filters",
    "anti_evil_ops": "removed by Reddit",
    "community_ops": "removed by Reddit",
    "legal_operations": "removed by Reddit (legal)",
    "copyright_takedown": "removed by Reddit (copyright)",
    "content_takedown": "removed by Reddit",
    "author": "removed by its author",
}


def deleted_by_author(post: dict[str, Any]) -> bool:
    return post.get("removed_by_category") == "deleted"


def removed_state(post: dict[str, Any]) -> str | None:
    """What `post show` says of a post that is removed but not deleted: it stays on Reddit for
    its author and keeps its numbers; None for a post that is simply up."""
    category = post.get("removed_by_category")
    if not category or category == "deleted":
        return None
    return _REMOVED_BY.get(str(category), f"removed ({category})")
