"""What publishing, `publish-due` and deleting hand back, and the exit code each makes.

Plain data below every posts module that builds or shows it (publish, due, delete,
views), so none of them imports another to name a result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from postcli.services import exit_codes


@dataclass
class TargetOutcome:
    target_id: int
    account_id: int
    platform: str
    handle: str
    status: str  # completed | failed | unknown (published or not: the user checks) | deleted | skipped
    url: str | None = None
    error: str | None = None
    reconciled: bool = False  # found already published on the platform
    error_kind: str | None = None  # a key of exit_codes.FAILURES
    retry_at: datetime | None = None  # rate_limited: when the platform said the limit lifts
    # Failed, but some of it went out: parts of a thread before the one that failed, or the
    # post whose first comment failed (services/posts/parts.py). Counts as published too.
    partial: bool = False
    # A target published part by part: its parts and first comment as they stand now
    # (views.target_view's "parts" and "first_comment"); None for a target of one post.
    parts: dict[str, Any] | None = None
    notice: str | None = None  # completed, but not quite as asked (PublishResult.notice)


def _failures(targets: Iterable[TargetOutcome]) -> list[str]:
    # "unknown": the platform may have the post and cannot be asked (errors.OutcomeUnknown).
    return [t.error_kind or "error" for t in targets if t.status in ("failed", "unknown")]


@dataclass
class PublishOutcome:
    post_id: int
    status: str
    targets: list[TargetOutcome]
    note: str | None = None

    @property
    def succeeded(self) -> bool:
        return any(t.status == "completed" or t.partial for t in self.targets)

    @property
    def exit_code(self) -> int:
        """The documented code for this outcome (services/exit_codes.py: 7 > 1 > 6 > 5)."""
        return exit_codes.for_failures(_failures(self.targets), succeeded=self.succeeded)


@dataclass
class DueReport:
    published: list[PublishOutcome] = field(default_factory=list)
    expired: list[int] = field(default_factory=list)
    # Not published by this run, and not a failure: (post id, why). Another run has it, or
    # it was rescheduled, cancelled, published or deleted after this run found it due.
    skipped: list[tuple[int, str]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """One code for every post it handled, by the same table as one post's."""
        failures = [k for o in self.published for k in _failures(o.targets)]
        failures += ["expired"] * len(self.expired) + ["error"] * len(self.errors)
        return exit_codes.for_failures(failures, succeeded=any(o.succeeded for o in self.published))


@dataclass
class DeleteReport:
    post_id: int
    removed_local: bool
    remote: list[TargetOutcome] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """7 when some remote deletes failed; when all did, as a publish that failed (1 > 6 > 5)."""
        return exit_codes.for_failures(
            _failures(self.remote), succeeded=any(t.status == "deleted" for t in self.remote)
        )


def rate_limited_targets(outcomes: Iterable[PublishOutcome]) -> list[TargetOutcome]:
    """Targets refused by a rate limit or quota, for the warning that says when it lifts."""
    return [t for o in outcomes for t in o.targets if t.status == "failed" and t.error_kind == "rate_limited"]
