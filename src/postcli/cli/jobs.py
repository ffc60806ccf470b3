"""`postcli jobs ...`: the work queue behind `collect`, and its dead letters."""

from __future__ import annotations

from typing import Optional

import typer

from postcli.errors import InvalidInput

app = typer.Typer(help="Inspect and retry collection jobs (the dead-letter queue).", no_args_is_help=True)


@app.command("list")
def list_(
    dead: bool = typer.Option(False, "--dead", help="Only dead-lettered jobs."),
    status: Optional[str] = typer.Option(None, "--status", help="queued, running, done or dead."),
    limit: int = typer.Option(100, "--limit", help="At most this many, newest first."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List jobs, newest first."""
    from postcli import output
    from postcli.services.jobs import list_jobs

    jobs = list_jobs(dead=dead, status=status, limit=limit)
    if as_json:
        output.print_json([j.as_dict() for j in jobs])
        return
    if not jobs:
        output.line("No dead jobs." if dead else "No jobs.")
        return
    output.table(
        ["id", "kind", "key", "status", "attempts", "updated", "last error"],
        [[str(j.id), j.kind, j.key, j.status, str(j.attempts), output.fmt_time(j.updated_at), j.last_error or ""] for j in jobs],
    )


@app.command("retry")
def retry(
    job_id: Optional[int] = typer.Argument(None, help="A dead job's id."),
    all_dead: bool = typer.Option(False, "--all-dead", help="Requeue every dead job."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Put dead jobs back in the queue; the next `postcli collect` runs them."""
    from postcli import output
    from postcli.services.jobs import retry_jobs

    if (job_id is None) == (not all_dead):
        raise InvalidInput("give a job id or --all-dead (not both).")
    ids = retry_jobs(job_id, all_dead=all_dead)
    if as_json:
        output.print_json({"requeued": ids})
    else:
        output.line(f"Requeued {len(ids)} job(s); run `postcli collect` to process them.")
