"""`postcli doctor`, `postcli notify test`, `postcli cron`: running unattended, and knowing when
it stopped (docs/design.md, "Never silent")."""

from __future__ import annotations

import typer

from postcli.cli._options import JsonOpt

notify_app = typer.Typer(help="Notifications of what needs a person ([notify] in config.toml).", no_args_is_help=True)

_MARK = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


def doctor(
    live: bool = typer.Option(False, "--live", help="Also probe each account (as `accounts health` does)."),
    as_json: JsonOpt = False,
) -> None:
    """Check everything unattended use depends on: the store, secrets, accounts and when their
    tokens end, whether cron runs publish-due and collect, stuck posts, dead jobs, notifications,
    the media store. One line per check; a failing one says how to fix it.

    Exit 0 when all is well (warnings alone too), 6 when an account needs reconnecting, 1 for any
    other problem. It changes nothing but recording its own run (--live may refresh tokens).
    """
    from postcli import output
    from postcli.services.doctor_scheduler import run

    probe = None
    if live:
        from postcli.services.account_health import health

        def probe() -> None:
            health(None)

    report = run(live=live, probe=probe)
    if as_json:
        output.print_json(report.as_json())
    else:
        for c in report.checks:
            style = {"ok": "green", "warn": "yellow", "fail": "red"}[c.status]
            output.line(f"[{_MARK[c.status]}] {c.name}: {c.message}", style=style)
            if c.fix and c.status != "ok":
                output.line(f"       fix: {c.fix}", style="dim")
    if report.exit_code:
        raise typer.Exit(report.exit_code)


@notify_app.command("test")
def notify_test(as_json: JsonOpt = False) -> None:
    """Send a notify.test event through every configured notifier and say how each went (exit 0 or 1)."""
    from postcli import output
    from postcli.errors import InvalidInput
    from postcli.services import notify

    results = notify.test()
    if not results:
        raise InvalidInput(
            "no notifier is configured.",
            hint='Add to config.toml: [notify] command = "…" and/or webhook = "https://…" (postcli config path).',
        )
    if as_json:
        output.print_json([{"notifier": r.notifier, "ok": r.ok, "detail": r.detail} for r in results])
    else:
        for r in results:
            output.line(f"{r.notifier}: {'ok' if r.ok else 'FAILED'} - {r.detail}")
    if not all(r.ok for r in results):
        raise typer.Exit(1)


def cron(
    install: bool = typer.Option(False, "--install", help="Add the lines to your crontab (idempotent)."),
    remove: bool = typer.Option(False, "--remove", help="Take postcli's lines out of your crontab."),
    systemd: bool = typer.Option(False, "--systemd", help="Print systemd user units instead (no crontab here)."),
) -> None:
    """Print the crontab lines for publish-due, collect, accounts health and a daily doctor (with
    the absolute path of this postcli and POSTCLI_HOME when set); --install / --remove edit your
    crontab between marker comments, leaving every other line as it was."""
    from postcli import output
    from postcli.errors import InvalidInput
    from postcli.services import cron as cron_svc

    if sum((install, remove, systemd)) > 1:
        raise InvalidInput("give one of --install, --remove, --systemd.")
    if systemd:
        output.line(cron_svc.systemd_units())
        return
    if install:
        change = cron_svc.install()
        output.line(("Installed" if change.changed else "Already installed") + " in your crontab:")
        for line in change.lines:
            output.line(f"  {line}")
        return
    if remove:
        change = cron_svc.remove()
        output.line(
            "Removed postcli's lines from your crontab." if change.changed else "No postcli lines in your crontab."
        )
        return
    for line in cron_svc.lines():
        output.line(line)
