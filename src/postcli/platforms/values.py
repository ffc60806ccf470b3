"""Reading values out of platform answers, the same way in every adapter."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


def int_or_none(value: Any) -> int | None:
    """A count as the platform sent it; None (not 0) when absent or unreadable."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def as_utc(value: Any) -> datetime | None:
    """An aware UTC datetime from a datetime or an ISO 8601 text ("Z", "+00:00" or Graph's "+0000");
    a naive value is taken as UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        try:
            dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header (RFC 9110: delay-seconds or an HTTP date) as seconds from now;
    None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime  # ~20 ms; only needed on a 429

    try:
        when = as_utc(parsedate_to_datetime(value))
    except (TypeError, ValueError):
        return None
    return None if when is None else max(0.0, (when - utc_now()).total_seconds())


def as_dict(value: Any) -> dict[str, Any]:
    """A JSON object from a platform's answer, or {} when it sent something else."""
    return value if isinstance(value, dict) else {}


def as_str(value: Any, default: str | None = None) -> str | None:
    """A JSON string from a platform's answer, or `default` when it sent something else."""
    return value if isinstance(value, str) else default


def printable(text: str, limit: int = 200) -> str:
    """Text from outside (a redirect's error, a server's reason) for a message: no terminal
    control characters, and not an essay."""
    return "".join(c if c.isprintable() else "?" for c in text)[:limit]
