"""How a publishing outcome is shown and exited with (`post create|publish|retry`, `publish-due`)."""

from __future__ import annotations

from typing import Any

import typer


def _exit_for(outcome: Any) -> None:
    """Exit with the outcome's code (services/exit_codes.py: 7 > 1 > 6 > 5); a rate limit says when it lifts."""
    from postcli.services.unattended import published

    published([outcome])  # post.failed / post.partial / post.published, once each
    _warn_rate_limited([outcome])
    if outcome.exit_code:
        raise typer.Exit(outcome.exit_code)


def _warn_rate_limited(outcomes: list[Any]) -> None:
    from postcli import output
    from postcli.services.posts.results import rate_limited_targets

    for t in rate_limited_targets(outcomes):
        when = (
            f"the limit lifts by {t.retry_at:%Y-%m-%d %H:%M} UTC"
            if t.retry_at
            else "the platform did not say until when"
        )
        output.warn(f"{t.platform} ({t.handle}) is rate limited ({when}): nothing was published there.")
    # Published, but not as asked (a video kept private): said beside the success, not as a failure.
    for outcome in outcomes:
        for t in outcome.targets:
            if t.notice:
                output.warn(f"{t.platform} ({t.handle}): {output.clean(t.notice)}")


def _render_outcome(outcome: Any, as_json: bool) -> None:
    from postcli import output
    from postcli.services.posts.views import outcome_dict

    if as_json:
        output.print_json(outcome_dict(outcome))
        return
    output.line(f"Post {outcome.post_id}: {outcome.status}" + (f" ({outcome.note})" if outcome.note else ""))
    output.table(
        ["platform", "account", "status", "link / error"],
        [
            [
                t.platform,
                t.handle,
                t.status + (" (already there)" if t.reconciled else ""),
                t.url or t.error or "",
            ]
            for t in outcome.targets
        ],
    )
    if outcome.status == "partial_success":
        output.line(f"Retry the failed targets with: postcli post retry {outcome.post_id}")
