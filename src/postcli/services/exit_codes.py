"""The one table from what a command's result holds to the exit code it ends with.

errors.py names the codes. Results record each failure as a kind (`FAILURES`), and
carry their code as `exit_code` (posts.results.PublishOutcome, DueReport and
DeleteReport, post_analytics.Refreshed, account_health.AccountMetrics and Health,
collect.report.CollectReport), worked out here from those kinds and flags, never
from a message or a status word; the commands only exit with it. This module
imports no result type: the results import it (it sits below them, so no cycle).

A refusal that lifts by itself (a rate limit, a publishing quota) is 5 wherever it
happens: `post create`, `post publish`, `post retry`, `publish-due`, `post delete
--remote`. When outcomes mix, the precedence is:

    7 partial success  some targets (or posts) succeeded and some did not: the caller
                       must know that something is out, whatever stopped the rest
    1 error            a failure that needs a change (rejected content, an outage, a
                       removed account, ...)
    6 reconnect        every failure is an account that needs reconnecting (with or
                       without rate limits: a retry cannot work before reconnecting)
    5 rate limited     every failure is a rate limit or quota; the message says when
                       it lifts
    0 ok
"""

from __future__ import annotations

from typing import Iterable

from postcli.errors import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_RATE_LIMITED,
    EXIT_RECONNECT,
    EXIT_USAGE,
    AuthFailed,
    OutcomeUnknown,
    PlatformError,
    PlatformRateLimited,
    PlatformUnavailable,
)

# Every kind of failure a result records, and the code it asks for on its own.
FAILURES: dict[str, int] = {
    "auth": EXIT_RECONNECT,  # the account must be reconnected
    "rate_limited": EXIT_RATE_LIMITED,  # a rate limit or quota; it lifts by itself
    "unavailable": EXIT_ERROR,  # network error, timeout, 5xx: the outcome is unknown
    # the outcome is unknown and the platform cannot be asked: the user checks and says
    # (`post retry ID --resend` or `--published URL`); nothing is sent again before that
    "unknown": EXIT_ERROR,
    "rejected": EXIT_ERROR,  # the platform refused the content itself
    "removed": EXIT_ERROR,  # the account was removed from postcli: nothing was sent
    "expired": EXIT_ERROR,  # `publish-due`: due longer ago than [publish] max_lateness_minutes
    "error": EXIT_ERROR,  # anything else
}
# The order codes win in when failures of several kinds combine.
_PRECEDENCE = (EXIT_ERROR, EXIT_RECONNECT, EXIT_RATE_LIMITED)


def kind_of(exc: PlatformError) -> str:
    """The failure kind a platform error is recorded as."""
    if isinstance(exc, AuthFailed):
        return "auth"
    if isinstance(exc, PlatformRateLimited):
        return "rate_limited"
    if isinstance(exc, OutcomeUnknown):
        return "unknown"
    if isinstance(exc, PlatformUnavailable):
        return "unavailable"
    if exc.exit_code == EXIT_USAGE:
        return "rejected"
    return "error"


def for_failures(failures: Iterable[str], *, succeeded: bool) -> int:
    """0 without failures; 7 when something also succeeded; else the most demanding
    failure's code (1 > 6 > 5)."""
    codes = {FAILURES.get(kind, EXIT_ERROR) for kind in failures}
    if not codes:
        return EXIT_OK
    if succeeded:
        return EXIT_PARTIAL
    return next(code for code in _PRECEDENCE if code in codes)


def for_collect(*, failed: bool, rate_limited: bool, bad_settings: bool = False) -> int:
    """`collect`: a setting to fix (2) comes first: no run can succeed before it is fixed.
    Then failed jobs (7) outrank rate-limited ones (5): a failure needs someone to look,
    a deferral resolves itself at the reset time. Accounts that need reconnecting do not
    change it (`accounts health` exits 6 for them)."""
    if bad_settings:
        return EXIT_USAGE
    if failed:
        return EXIT_PARTIAL
    if rate_limited:
        return EXIT_RATE_LIMITED
    return EXIT_OK


def for_refresh(error_kinds: Iterable[str]) -> int:
    """`analytics refresh`: 6 when every target that failed needs its account reconnected
    (nothing else can help before that), else 7 when any target failed, else 0."""
    codes = {FAILURES.get(kind, EXIT_ERROR) for kind in error_kinds}
    if not codes:
        return EXIT_OK
    return EXIT_RECONNECT if codes == {EXIT_RECONNECT} else EXIT_PARTIAL


def for_reconnect(needs_reconnect: bool) -> int:
    """`accounts health` and `accounts metrics`: 6 when an account needs reconnecting."""
    return EXIT_RECONNECT if needs_reconnect else EXIT_OK
