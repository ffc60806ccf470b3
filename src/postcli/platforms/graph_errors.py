"""Meta's Graph error codes, and what postcli makes of each: one table, one source per row.

`graph.graph_error` looks a failed answer up here (by code and subcode, then by
code alone) before its fallbacks by HTTP status. Every row names the page of
Meta's documentation it comes from (or says that none lists it: UNDOCUMENTED);
tests/test_graph_errors.py checks each row against the documented payload.

Kinds (postcli.errors):
  auth       -> AuthFailed            the token is dead: reconnect (exit 6)
  rate       -> PlatformRateLimited   throttled: wait (exit 5)
  quota      -> PlatformRateLimited   publishing quota of the rolling 24 hours used up (exit 5)
  not_found  -> RemoteNotFound        the object is gone (a deleted post)
  retry      -> PlatformUnavailable   temporary on Meta's side: try again (a publish retry
                                      starts from a new container)
  rejected   -> PlatformRejected      the request itself is refused: retrying does not help
  permission -> PlatformRejected      the token lacks a permission (not granted, or removed):
                                      the hint names it (when Graph does) and the reconnect command
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GRAPH_ERRORS = "https://developers.facebook.com/docs/graph-api/guides/error-handling"
GRAPH_RATE_LIMITS = "https://developers.facebook.com/docs/graph-api/overview/rate-limiting"
INSTAGRAM_ERRORS = "https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/error-codes"
# Lists 100 with subcode 33 ("Unsupported post request": the token may not act on the object; a
# read answers "Unsupported get request. Object with ID '...' does not exist, cannot be loaded due
# to missing permissions, or does not support this operation") and 10, 200 (permission errors).
MARKETING_ERRORS = "https://developers.facebook.com/docs/marketing-api/error-reference"
# No Meta reference page found lists the code (docs/platforms/facebook.md, "What could not be
# verified"): the row follows Graph's own answer.
UNDOCUMENTED = "undocumented"


@dataclass(frozen=True)
class ErrorRow:
    code: int
    subcode: int | None  # None: any subcode (or none) of this code
    kind: str
    meaning: str
    source: str
    hint: str | None = None


_SPAM_HINT = (
    "Instagram suspects this publishing action of being spam and restricts it; waiting does not lift it. "
    "If it is not spam, tell Instagram in the app (Help > Report a problem)."
)
_RESTRICTED_HINT = (
    "Sign in to the Instagram app and complete what it asks (the account is inactive, "
    "checkpointed or restricted), then publish again."
)
_QUOTA_HINT = "The publishing quota for the last 24 hours is used up; publish later."

ROWS: tuple[ErrorRow, ...] = (
    # -- every Graph API (Facebook, Instagram, Threads) --------------------------------
    ErrorRow(102, None, "auth", "API Session: login status or access token expired, revoked or invalid", GRAPH_ERRORS),
    ErrorRow(190, None, "auth", "Access token has expired", GRAPH_ERRORS),
    ErrorRow(1, None, "retry", "API Unknown: possibly a temporary issue due to downtime; wait and retry", GRAPH_ERRORS),
    ErrorRow(2, None, "retry", "API Service: temporary issue due to downtime; wait and retry", GRAPH_ERRORS),
    ErrorRow(4, None, "rate", "API Too Many Calls (application request limit)", GRAPH_ERRORS),
    ErrorRow(17, None, "rate", "API User Too Many Calls", GRAPH_ERRORS),
    ErrorRow(32, None, "rate", "Page request limit reached", GRAPH_RATE_LIMITS),
    ErrorRow(341, None, "rate", "Application limit reached: downtime or throttling; wait and retry", GRAPH_ERRORS),
    ErrorRow(613, None, "rate", "Calls to this API have exceeded the rate limit", GRAPH_RATE_LIMITS),
    *(
        ErrorRow(code, None, "rate", "Business Use Case rate limit reached", GRAPH_RATE_LIMITS)
        for code in range(80001, 80015)
    ),
    ErrorRow(
        100,
        33,
        "not_found",
        "Object does not exist, cannot be loaded due to missing permissions, or does not support this operation",
        MARKETING_ERRORS,
    ),
    # "(#803) Some of the aliases you requested do not exist: <id>", Graph's answer for an id it
    # does not know (a deleted post read by id).
    ErrorRow(803, None, "not_found", "Some of the aliases you requested do not exist", UNDOCUMENTED),
    ErrorRow(10, None, "permission", "API Permission Denied: not granted, or removed", GRAPH_ERRORS),
    *(
        ErrorRow(code, None, "permission", "API Permission: not granted, or removed", GRAPH_ERRORS)
        for code in range(200, 300)
    ),
    ErrorRow(
        368,
        None,
        "rejected",
        "Temporarily blocked for policy violations",
        GRAPH_ERRORS,
        hint="Meta has blocked this action for a while for a policy violation; wait before trying again.",
    ),
    ErrorRow(
        506,
        None,
        "rejected",
        "Duplicate Post: duplicate posts cannot be published consecutively",
        GRAPH_ERRORS,
        hint="Change the text and publish again.",
    ),
    # -- Instagram content publishing --------------------------------------------------
    ErrorRow(-2, None, "retry", "Instagram download or container error (HTTP 400): try again", INSTAGRAM_ERRORS),
    ErrorRow(-2, 2207003, "retry", "It takes too long to download the media: a timeout, try again", INSTAGRAM_ERRORS),
    ErrorRow(-2, 2207020, "retry", "The media has expired: generate a new container and try again", INSTAGRAM_ERRORS),
    ErrorRow(-1, None, "retry", "Instagram server error (HTTP 400): try again", INSTAGRAM_ERRORS),
    ErrorRow(-1, 2207001, "retry", "Instagram server error. Try again.", INSTAGRAM_ERRORS),
    ErrorRow(
        -1, 2207032, "retry", "Create media fail: failed to create a media container, try again", INSTAGRAM_ERRORS
    ),
    ErrorRow(-1, 2207053, "retry", "Unknown upload error: generate a new container and try again", INSTAGRAM_ERRORS),
    ErrorRow(
        4,
        2207051,
        "rejected",
        "Publishing action suspected to be spam: restricted (not a rate limit)",
        INSTAGRAM_ERRORS,
        hint=_SPAM_HINT,
    ),
    ErrorRow(
        9,
        2207042,
        "quota",
        "Maximum number of posts published by the Content Publishing API reached",
        INSTAGRAM_ERRORS,
        hint=_QUOTA_HINT,
    ),
    ErrorRow(
        24,
        2207006,
        "retry",
        "The media cannot be found: possibly a missing permission or an expired token; "
        "generate a new container and try again",
        INSTAGRAM_ERRORS,
        hint="If it happens again, check the account with `postcli accounts health`: a missing "
        "permission or an expired token gives this error too.",
    ),
    ErrorRow(
        24,
        2207008,
        "retry",
        "Temporary error publishing a container (media builder expired): try again "
        "1-2 times within 30 s to 2 min, else start from a new container",
        INSTAGRAM_ERRORS,
    ),
    ErrorRow(
        25,
        2207050,
        "rejected",
        "The Instagram professional account is inactive, checkpointed or restricted",
        INSTAGRAM_ERRORS,
        hint=_RESTRICTED_HINT,
    ),
    ErrorRow(9007, 2207027, "retry", "The media is not ready for publishing: wait a moment", INSTAGRAM_ERRORS),
)

_BY_KEY: dict[tuple[int, int | None], ErrorRow] = {(row.code, row.subcode): row for row in ROWS}
if len(_BY_KEY) != len(ROWS):  # pragma: no cover - a duplicate row is a bug in this table
    raise RuntimeError("graph_errors.ROWS has a duplicate (code, subcode)")


def lookup(code: object, subcode: object) -> ErrorRow | None:
    """The row for (code, subcode), else for the code with any subcode; None if undocumented here."""
    if not isinstance(code, int) or isinstance(code, bool):
        return None
    if isinstance(subcode, int) and not isinstance(subcode, bool):
        row = _BY_KEY.get((code, subcode))
        if row is not None:
            return row
    return _BY_KEY.get((code, None))


_PERMISSION_NAME = re.compile(r"\b([a-z][a-z0-9]*(?:_[a-z0-9]+)+)'?\s+(?:extended\s+)?permission")


def permission_hint(platform: str, message: str) -> str:
    """What to do about a permission error (10, 200-299): the permission Graph names, if it
    names one, and the command that signs in again to grant it."""
    found = _PERMISSION_NAME.search(message)
    missing = f"the {found.group(1)} permission" if found else "a permission this call needs"
    return (
        f"The access token lacks {missing} (never granted, or removed since). Sign in again and grant it: "
        f"postcli accounts login {platform} (docs/signin.md), or postcli accounts add {platform} "
        "with a token that has it."
    )
