"""Every atproto SDK or network failure turned into one typed postcli error, never with a secret in it."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime

from postcli.errors import PostcliError
from postcli.platforms.base import (
    AuthFailed,
    MalformedResponse,
    PlatformError,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
    RemoteNotFound,
)
from postcli.platforms.bluesky.values import PLATFORM

NSID_REFRESH = "com.atproto.server.refreshSession"
_NOT_FOUND_ERRORS = frozenset({"RecordNotFound", "HandleNotFound", "RepoNotFound", "NotFound"})
JWT_RE = re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]*)?")
APP_PASSWORD_HINT = (
    "Use an app password (Bluesky: Settings > Privacy and security > App passwords), "
    "not the account password, and check the handle (e.g. name.bsky.social)."
)
RECONNECT_HINT = "Create a new app password in Bluesky and run `postcli accounts add bluesky --handle HANDLE` again."


def is_token_error(exc: BaseException) -> bool:
    """A refused or expired token (worth one session recovery), as opposed to any other failure."""
    from atproto_client.exceptions import LoginRequiredError, RequestErrorBase
    from atproto_client.models.common import XrpcError

    if isinstance(exc, LoginRequiredError):
        return True
    if not isinstance(exc, RequestErrorBase) or exc.response is None:
        return False
    status = exc.response.status_code
    content = exc.response.content
    name = content.error if isinstance(content, XrpcError) else None
    return status == 401 or (status == 400 and name in ("ExpiredToken", "InvalidToken"))


def map_error(
    exc: BaseException,
    action: str,
    *,
    host: str,
    timeout: float,
    reconnect_hint: str,
    scrub: Callable[[str], str],
) -> PostcliError:
    """`exc`, raised while `action` against `host`, as a typed postcli error; what the server
    said goes through `scrub` first."""
    import httpx
    from atproto_client.exceptions import (
        InvokeTimeoutError,
        LoginRequiredError,
        ModelError,
        RateLimitExceededError,
        RequestErrorBase,
    )
    from atproto_client.models.common import XrpcError

    if isinstance(exc, PostcliError):
        return exc
    retry_hint = f"Check your network and that {host} is up, then try again."
    if isinstance(exc, (InvokeTimeoutError, httpx.TimeoutException)):
        return PlatformUnavailable(
            f"Bluesky at {host} did not answer within {timeout:g}s while {action}; the outcome is unknown.",
            platform=PLATFORM,
            hint=retry_hint + " A slow server may need a longer timeout.",
        )
    if isinstance(exc, RequestErrorBase) and exc.response is None:
        cause = exc.__cause__ or exc.__context__
        kind = type(cause).__name__ if cause else type(exc).__name__
        return PlatformUnavailable(
            f"could not reach Bluesky at {host} while {action} ({kind}).",
            platform=PLATFORM,
            hint=retry_hint,
        )
    if isinstance(exc, httpx.HTTPError):
        return PlatformUnavailable(
            f"the connection to Bluesky at {host} failed while {action} ({type(exc).__name__}).",
            platform=PLATFORM,
            hint=retry_hint,
        )
    if isinstance(exc, LoginRequiredError):
        return AuthFailed("the Bluesky session is missing or unreadable.", platform=PLATFORM, hint=reconnect_hint)
    if isinstance(exc, RequestErrorBase):
        status = exc.response.status_code
        content = exc.response.content
        name = content.error if isinstance(content, XrpcError) else None
        detail = content.message if isinstance(content, XrpcError) else None
        said = scrub(f"{name}: {detail}" if name and detail else (name or detail or f"HTTP {status}"))
        if status == 429 or isinstance(exc, RateLimitExceededError):
            retry_after = None
            if isinstance(exc, RateLimitExceededError):
                retry_after = exc.retry_after
                if retry_after is None and exc.reset_at is not None:
                    retry_after = max((exc.reset_at - datetime.now(UTC)).total_seconds(), 0.0)
            when = f" Retry in {math.ceil(retry_after)}s." if retry_after is not None else ""
            return PlatformRateLimited(
                f"Bluesky at {host} rate-limited the request while {action}.{when}",
                platform=PLATFORM,
                retry_after=retry_after,
            )
        if status in (401, 403) or (status == 400 and name in ("ExpiredToken", "InvalidToken")):
            return AuthFailed(
                f"Bluesky refused the credentials while {action} ({said}).",
                platform=PLATFORM,
                hint=reconnect_hint,
            )
        if status == 400 and name in _NOT_FOUND_ERRORS:
            return RemoteNotFound(f"not found on Bluesky while {action} ({said}).", platform=PLATFORM)
        if status in (400, 409, 413):
            return PlatformRejected(f"Bluesky rejected the request while {action}: {said}", platform=PLATFORM)
        if status >= 500:
            return PlatformUnavailable(
                f"Bluesky at {host} failed with HTTP {status} while {action} ({said}); the outcome is unknown.",
                platform=PLATFORM,
                hint=retry_hint,
            )
        return PlatformError(f"Bluesky answered HTTP {status} while {action} ({said}).", platform=PLATFORM)
    if isinstance(exc, (ModelError, ValueError, KeyError, TypeError)):
        return MalformedResponse(
            f"Bluesky at {host} sent an answer postcli cannot read while {action}.",
            platform=PLATFORM,
        )
    return PlatformError(
        f"unexpected error from the Bluesky client while {action} ({type(exc).__name__}).",
        platform=PLATFORM,
    )
