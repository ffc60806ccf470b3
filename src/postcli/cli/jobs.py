"""`postcli jobs ...`: the work queue behind `collect`, and its dead letters."""

from __future__ import annotations

from typing import Optional

import typer

from postcli.cli._options import JsonOpt, count_value, id_value, text_value
from postcli.errors import InvalidInput

app = typer.Typer(help="Inspect and retry collection jobs (the dead-letter queue).", no_args_is_help=True)


@app.command("list")
def list_(
    dead: bool = typer.Option(False, "--dead", help="Only dead-lettered jobs."),
    status: Optional[str] = typer.Option(
        None, "--status", metavar="queued|running|done|dead", parser=text_value, help="Only jobs in this state."
    ),
    limit: int = typer.Option(100, "--limit", metavar="N", parser=count_value, help="At most this many, newest first."),
    as_json: JsonOpt = False,
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
        [
            [str(j.id), j.kind, j.key, j.status, str(j.attempts), output.fmt_time(j.updated_at), j.last_error or ""]
            for j in jobs
        ],
    )


@app.command("retry")
def retry(
    job_id: Optional[str] = typer.Argument(None, metavar="ID", parser=id_value, help="A dead job's id."),
    all_dead: bool = typer.Option(False, "--all-dead", help="Requeue every dead job."),
    as_json: JsonOpt = False,
) -> None:
    """Put dead jobs back in the queue; the next `postcli collect` runs them."""
    from postcli import output
    from postcli.services.jobs import retry_jobs

    if isinstance(job_id, str):
        raise InvalidInput(f"job ids are numbers, not {job_id!r}.", hint="See them with `postcli jobs list --dead`.")
    if (job_id is None) == (not all_dead):
        raise InvalidInput("give a job id or --all-dead (not both).")
    ids = retry_jobs(job_id, all_dead=all_dead)
    if as_json:
        output.print_json({"requeued": ids})
    else:
        output.line(f"Requeued {len(ids)} job(s); run `postcli collect` to process them.")
