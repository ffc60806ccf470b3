"""A first comment on the Graph platforms (an Instagram media, a Facebook Page post): found
again after an attempt whose outcome is unknown.

Neither API takes an idempotency key for a comment, so the comment is looked for under its
post: one by the account itself, with exactly the text, made since the first attempt (minus
the adapter's margin). Meta does not document the order of the listing: the oldest match wins.
A comment with the same text made by hand in that window is taken for ours.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any, Callable, Iterable

from postcli.platforms.values import as_utc


def _comparable(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFC", text or "").split())


def oldest_match(
    comments: Iterable[dict[str, Any]],
    text: str,
    *,
    text_key: str,
    time_key: str,
    since: datetime | None,
    mine: Callable[[dict[str, Any]], bool],
) -> dict[str, Any] | None:
    found: list[tuple[float, dict[str, Any]]] = []
    for comment in comments:
        created = as_utc(comment.get(time_key))
        if since is not None and created is not None and created < since:
            continue
        if mine(comment) and _comparable(comment.get(text_key)) == _comparable(text) and comment.get("id"):
            found.append((created.timestamp() if created is not None else float("inf"), comment))
    if not found:
        return None
    return min(found, key=lambda pair: pair[0])[1]
