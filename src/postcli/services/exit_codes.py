"""Which documented exit code a result gets (errors.py has the table).

The results carry it as `exit_code` (posts.publish.PublishOutcome, posts.due.DueReport,
post_analytics.Refreshed); the commands only exit with it.

A refusal that lifts by itself (a rate limit, a publishing quota) is 5 wherever it
happens: `post create`, `post publish`, `post retry`, `publish-due`. When outcomes
mix, the precedence is:

    7 partial success  some targets (or posts) published and some did not: the caller
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

from typing import TYPE_CHECKING, Iterable

from postcli.errors import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, EXIT_RATE_LIMITED, EXIT_RECONNECT, EXIT_USAGE

if TYPE_CHECKING:
    from postcli.services.posts.due import DueReport
    from postcli.services.posts.publish import PublishOutcome, TargetOutcome


def _for_failures(kinds: Iterable[str | None]) -> int:
    kinds = set(kinds)
    if not kinds:
        return EXIT_OK
    if kinds - {"auth", "rate_limited"}:
        return EXIT_ERROR
    if "auth" in kinds:
        return EXIT_RECONNECT
    return EXIT_RATE_LIMITED


def for_outcome(outcome: PublishOutcome) -> int:
    if outcome.status == "partial_success":
        return EXIT_PARTIAL
    if outcome.status == "failed":
        return _for_failures(t.error_kind for t in outcome.targets if t.status == "failed") or EXIT_ERROR
    return EXIT_OK


def for_due(report: DueReport) -> int:
    """`publish-due`: one code for every post it handled."""
    statuses = {o.status for o in report.published}
    published_some = bool(statuses & {"completed", "partial_success"})
    failed = [o for o in report.published if o.status == "failed"]
    if report.expired or report.errors or failed:
        if published_some:
            return EXIT_PARTIAL
        if report.expired or report.errors:
            return EXIT_ERROR
        codes = {for_outcome(o) for o in failed}
        return EXIT_RATE_LIMITED if codes == {EXIT_RATE_LIMITED} else EXIT_ERROR
    if "partial_success" in statuses:
        return EXIT_PARTIAL
    return EXIT_OK


def rate_limited_targets(outcomes: Iterable[PublishOutcome]) -> list[TargetOutcome]:
    return [t for o in outcomes for t in o.targets if t.status == "failed" and t.error_kind == "rate_limited"]


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
    kinds = set(error_kinds)
    if not kinds:
        return EXIT_OK
    return EXIT_RECONNECT if kinds == {"auth"} else EXIT_PARTIAL


def for_reconnect(needs_reconnect: bool) -> int:
    """`accounts health` and `accounts metrics`: 6 when an account needs reconnecting."""
    return EXIT_RECONNECT if needs_reconnect else EXIT_OK
