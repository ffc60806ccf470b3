"""Commands at the top level: the cron jobs and the demo."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

import typer

from postcli.cli import completion
from postcli.cli._options import JsonOpt, count_value, days_value, ref_value, seconds_value, text_value
from postcli.settings import MIN_CONCURRENCY


def register(app: typer.Typer) -> None:
    app.command("publish-due")(publish_due)
    app.command("collect")(collect)
    from postcli.cli.demo import demo
    from postcli.cli.platforms import platforms

    app.command("demo")(demo)
    app.command("platforms")(platforms)
    from postcli.cli.unattended import cron, doctor, notify_app

    app.command("doctor")(doctor)
    app.command("cron")(cron)
    app.add_typer(notify_app, name="notify")


def publish_due(
    limit: Optional[int] = typer.Option(
        None, "--limit", metavar="N", parser=count_value, help="Publish at most this many posts."
    ),
    as_json: JsonOpt = False,
) -> None:
    """Publish every scheduled post whose time has come (run it from cron, e.g. every minute).

    Safe when two runs overlap: each post is claimed by one process. Posts left
    half-published by a crash are checked on the platform and finished. A post
    rescheduled, edited, cancelled or deleted while the run goes is judged as it is
    when its turn comes: left alone if no longer due, never counted as a failure.
    """
    from postcli import output
    from postcli.services.posts.views import due_dict
    from postcli.services.unattended import publish_due as run

    report = run(limit)
    if as_json:
        output.print_json(due_dict(report))
    else:
        for o in report.published:
            output.line(f"post {o.post_id}: {o.status}" + (f" ({o.note})" if o.note else ""))
            for t in o.targets:
                if t.status == "failed":
                    output.line(f"  {t.platform} ({t.handle}): {t.error}")
        for pid in report.expired:
            output.line(f"post {pid}: failed - too late to publish (see `postcli post show {pid}`)")
        for pid, err in report.errors:
            output.line(f"post {pid}: error - {err}")
        for pid, why in report.skipped:
            output.line(f"post {pid}: not published by this run - {why}")
        if not report.published and not report.expired and not report.errors and not report.skipped:
            output.line("Nothing due.")
    from postcli.cli.post_outcome import _warn_rate_limited

    _warn_rate_limited(report.published)
    if report.exit_code:
        raise typer.Exit(report.exit_code)


def collect(
    platform: Optional[str] = typer.Option(
        None,
        "--platform",
        metavar="PLATFORM",
        parser=text_value,
        autocompletion=completion.platforms,
        help="Only this platform.",
    ),
    account: Optional[str] = typer.Option(
        None,
        "--account",
        metavar="ACCOUNT",
        parser=ref_value,
        autocompletion=completion.accounts,
        help="Only this account (id or handle).",
    ),
    days: Optional[int] = typer.Option(
        None,
        "--days",
        metavar="N",
        parser=days_value,
        help="Posts published in the last N days, 1-3660 (default: config, 30).",
    ),
    limit: Optional[int] = typer.Option(
        None, "--limit", metavar="N", parser=count_value, help="At most N posts per account (the newest)."
    ),
    concurrency: Optional[int] = typer.Option(
        None,
        "--concurrency",
        metavar="N",
        min=MIN_CONCURRENCY,
        max=256,
        help="Requests in flight at once (default: [collect] concurrency, 8).",
    ),
    worker: bool = typer.Option(
        False, "--worker", help="Only work through queued jobs (planned by `collect --plan-only` or any run)."
    ),
    wait: float = typer.Option(
        0.0,
        "--wait",
        metavar="SECONDS",
        parser=seconds_value(0, 86400),
        help="With --worker: keep polling for new jobs this many seconds before exiting.",
    ),
    plan_only: bool = typer.Option(
        False, "--plan-only", help="Only queue the jobs of this run, for --worker processes."
    ),
    as_json: JsonOpt = False,
) -> None:
    """Snapshot metrics of recent posts and every active account (run it from cron, e.g. hourly).

    Safe when runs overlap: each item is fetched by one run, and an item collected
    less than [collect] min_interval_seconds ago (default 60) is left alone.

    Scale-out: run `collect --plan-only` from cron and several `collect --worker
    --wait 600` processes (on one machine or several, sharing a PostgreSQL store).
    Workers claim jobs exclusively with a lease ([collect] lease_seconds, default
    300): a crashed worker's jobs are taken over when its lease runs out, or at once
    when it ran on this machine and its process is gone. Jobs another live run holds
    are left to it; stderr says how many and until when. Requests per account stay
    within [collect.rate_limits] across all workers.

    Exit 0 when every job was handled: snapshotted, found deleted, or skipped because
    its account needs reconnecting (that is reported on stderr and by `postcli accounts
    health`, which exits 6). Exit 7 when some jobs failed: they are retried with
    backoff by later runs, then dead-lettered (`postcli jobs list --dead`).
    Exit 5 when a platform rate-limited an account for longer than [collect]
    max_rate_wait_seconds (default 30; shorter limits are waited out): that account is
    not asked again in this run, its jobs wait for the reset time (stderr says when)
    and the other accounts finish. 7 outranks 5.

    An account that cannot be collected at all (a damaged credentials file, a bad
    setting) gets one error line on stderr, its queued jobs count as failed, and the
    run exits 7 - or 2 when the cause is a setting to fix (POSTCLI_TIMEOUT, ...).

    --json prints: fetched, accounts, deleted, failed, dead_lettered, skipped, deferred,
    rate_limited ([{account, jobs, until}]), planned, up_to_date, dead_waiting (waiting_retry,
    its old name), taken_over, held_by_other_runs ([{holder, jobs, until}]), needs_reconnect,
    notes, account_errors.
    """

    from postcli import output
    from postcli.services.unattended import collect as run

    bar = output.StatusBar("collecting", show=not as_json)

    def show_progress(done: int, total: int) -> None:
        bar.update(done, total or None)

    progress = show_progress if bar.shown else None

    from postcli.errors import InvalidInput

    try:
        if worker and (account or days is not None or limit is not None or plan_only):
            raise InvalidInput(
                "--worker takes queued jobs of every account; --account, --days, --limit and --plan-only"
                " belong to the run that plans them.",
                hint="Plan with `postcli collect --plan-only [--days N]`, then run workers.",
            )
        if worker:
            from postcli.services.unattended import collect_worker

            report = collect_worker(platform=platform, wait=wait, concurrency=concurrency, progress=progress)
        elif plan_only:
            from postcli.services.collect.planning import plan
            from postcli.services.collect.report import CollectReport

            report = CollectReport()
            now = datetime.now(timezone.utc)
            plan(platform=platform, account=account, days=days, limit=limit, now=now, report=report)
        else:
            report = run(
                platform=platform, account=account, days=days, limit=limit, concurrency=concurrency, progress=progress
            )
    finally:
        bar.stop()
    if as_json:
        output.print_json(report.as_dict())
    elif plan_only:
        output.line(
            f"queued {report.planned} jobs; {report.up_to_date} up to date, {report.dead_waiting} dead-lettered"
        )
    else:
        output.line(
            f"fetched {report.fetched} post snapshots, {report.accounts} accounts; deleted {report.deleted}, "
            f"failed {report.failed}, dead-lettered {report.dead}, skipped {report.skipped}"
        )
        for note in report.notes:
            output.line(f"  {note}")
    for name in report.reconnect:
        output.warn(f"{name} needs reconnecting (see `postcli accounts health`).")
    if report.dead:
        output.warn(f"{report.dead} job(s) were dead-lettered: `postcli jobs list --dead` shows why.")
    for name, (jobs, until) in sorted(report.rate_limited.items()):
        when = f"until {until:%Y-%m-%d %H:%M} UTC" if until else "for now"
        output.warn(f"{name} is rate limited {when}: {jobs} job(s) deferred; a run after that collects them.")
    for name, error in report.account_errors:
        output.error(f"{name}: not collected: {error}")
    for held in report.held:
        lease = f"until {held.until:%Y-%m-%d %H:%M} UTC" if held.until else "for now"
        output.warn(
            f"{held.jobs} job(s) are held by another collect run ({held.holder}) {lease}: left to it; "
            "a run after that time takes them if it has not finished them."
        )
    raise typer.Exit(report.exit_code)
