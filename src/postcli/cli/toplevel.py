"""Commands at the top level: the cron jobs and the demo."""

from __future__ import annotations

from typing import Optional

import typer

from postcli.errors import EXIT_ERROR, EXIT_PARTIAL


def register(app: typer.Typer) -> None:
    app.command("publish-due")(publish_due)


def publish_due(
    limit: Optional[int] = typer.Option(None, "--limit", help="Publish at most this many posts."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Publish every scheduled post whose time has come (run it from cron, e.g. every minute).

    Safe when two runs overlap: each post is claimed by one process. Posts left
    half-published by a crash are checked on the platform and finished.
    """
    from postcli import output
    from postcli.services.publishing import outcome_dict, publish_due as run

    report = run(limit=limit)
    if as_json:
        output.print_json(
            {
                "published": [outcome_dict(o) for o in report.published],
                "expired": report.expired,
                "skipped": report.skipped,
            }
        )
    else:
        for o in report.published:
            output.line(f"post {o.post_id}: {o.status}" + (f" ({o.note})" if o.note else ""))
            for t in o.targets:
                if t.status == "failed":
                    output.line(f"  {t.platform} ({t.handle}): {t.error}")
        for pid in report.expired:
            output.line(f"post {pid}: failed - too late to publish (see `postcli post show {pid}`)")
        if not report.published and not report.expired:
            output.line("Nothing due.")
    statuses = {o.status for o in report.published}
    if "failed" in statuses or report.expired:
        raise typer.Exit(EXIT_PARTIAL if "completed" in statuses or "partial_success" in statuses else EXIT_ERROR)
    if "partial_success" in statuses:
        raise typer.Exit(EXIT_PARTIAL)
