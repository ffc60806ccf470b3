"""`postcli accounts ...`: connect and manage the accounts you publish to."""

from __future__ import annotations

import sys

import typer

from postcli.cli import _ask, completion
from postcli.cli._options import JsonOpt, TzOpt, ref_value, text_value
from postcli.cli.accounts_add import add_app
from postcli.cli.login import login_app
from postcli.errors import InvalidInput

app = typer.Typer(help="Connect, list and remove accounts; check their health and metrics.", no_args_is_help=True)
app.add_typer(add_app, name="add")
app.add_typer(login_app, name="login")


@app.command("list")
def list_(
    all_: bool = typer.Option(False, "--all", help="Include removed accounts."),
    as_json: JsonOpt = False,
) -> None:
    """List connected accounts."""
    from postcli import output
    from postcli.services.accounts import account_rows

    rows = account_rows(include_removed=all_)
    if as_json:
        output.print_json(rows)
        return
    if not rows:
        output.line("No accounts yet. Connect one with `postcli accounts add bluesky --handle ...`.")
        return
    output.table(
        ["id", "platform", "handle", "status", "server", "connected"],
        [
            [
                str(r["id"]),
                r["platform"],
                r["handle"],
                ("needs reconnecting" if r["needs_reconnect"] else r["status"])
                + (" (removed)" if r["removed_at"] else ""),
                r["api_base_url"],
                output.fmt_time(r["created_at"]),
            ]
            for r in rows
        ],
    )


@app.command("show")
def show(
    account: str = typer.Argument(
        ..., metavar="ACCOUNT", parser=ref_value, autocompletion=completion.accounts, help="Account id or handle."
    ),
    as_json: JsonOpt = False,
) -> None:
    """Show one account."""
    from postcli import output
    from postcli.services.accounts import show_account

    data, hint = show_account(account)
    if as_json:
        output.print_json(data)
        return
    output.kv([(k, output.fmt(v) if not hasattr(v, "astimezone") else output.fmt_time(v)) for k, v in data.items()])
    if hint:
        output.warn(f"this account needs reconnecting. {hint}")


@app.command("remove")
def remove(
    account: str = typer.Argument(
        ..., metavar="ACCOUNT", parser=ref_value, autocompletion=completion.accounts, help="Account id or handle."
    ),
    purge: bool = typer.Option(False, "--purge", help="Also delete its posts' targets and metric history."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation (with --purge)."),
    as_json: JsonOpt = False,
) -> None:
    """Disconnect an account and forget its credentials. History is kept unless --purge."""
    from postcli import output
    from postcli.services.accounts import account_dict, posts_addressing, remove_account

    waiting = posts_addressing(account)  # first: an account that does not exist is not asked about
    if purge and not yes:
        if not sys.stdin.isatty():
            raise InvalidInput("--purge deletes history; confirm with --yes.")
        _ask.confirm("Delete this account and all its history?", abort=True)
    acc = remove_account(account, purge=purge)
    if as_json:
        output.print_json({**account_dict(acc), "purged": purge, "unpublished_posts": waiting})
        return
    output.line(
        f"Removed {acc.platform} account {acc.handle} (id {acc.id})"
        + (" and its history." if purge else "; its history is kept.")
    )
    if waiting:
        listed = ", ".join(f"{p['id']} ({p['status']})" for p in waiting)
        effect = (
            "lost their target on it"
            if purge
            else 'still address it; publishing refuses it with an "account removed" error'
        )
        output.warn(
            f"{len(waiting)} unpublished post(s) {effect}: {listed}. "
            "Check their targets with `postcli post show ID`; change them with `postcli post edit ID --to ...`."
        )


@app.command("metrics")
def metrics_(
    account: str = typer.Argument(
        ..., metavar="ACCOUNT", parser=ref_value, autocompletion=completion.accounts, help="Account id or handle."
    ),
    since: str = typer.Option(
        None,
        "--since",
        metavar="DATE",
        parser=text_value,
        help="List the stored series from this date (e.g. 2026-11-01).",
    ),
    until: str = typer.Option(
        None, "--until", metavar="DATE", parser=text_value, help="...until this date (exclusive)."
    ),
    tz: TzOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Followers, following and post count: live (stored as a snapshot), else the latest snapshot.

    With --since/--until, lists the stored snapshots instead.
    """
    from postcli import output, settings
    from postcli.cli._options import check_range, read_time
    from postcli.services import account_health

    if since or until:
        from datetime import datetime, timezone

        shown_in = settings.time_zone(tz)
        start = read_time(since, tz, option="--since") if since else None
        end = read_time(until, tz, option="--until") if until else None
        if start is not None:
            check_range(start, end or datetime.now(timezone.utc), capped=False)
        data = account_health.account_metrics_series(account, start, end)
        if as_json:
            output.print_json(data)
            return
        if not data["data"]:
            output.line("No snapshots in that range. `postcli collect` stores them.")
            return
        output.table(
            ["captured", "followers", "following", "posts"],
            [
                [output.fmt_time(r["captured_at"], shown_in), r["followers"], r["following"], r["posts_count"]]
                for r in data["data"]
            ],
            numeric=("followers", "following", "posts"),
            title=f"{data['platform']} {data['handle']}",
        )
        return
    result = account_health.account_metrics(account)
    data = result.data
    if data.get("warning"):
        output.warn(data["warning"])
    if as_json:
        output.print_json(data)
    elif data.get("metrics", True) is None:
        output.line(data["message"] + " Run `postcli collect`.")
    else:
        output.kv(
            [(k, data[k]) for k in ("followers", "following", "posts_count", "impressions", "reach", "profile_views")]
            + [("source", data["source"]), ("captured", output.fmt_time(data["captured_at"]))],
            title=f"{data['platform']} {data['handle']}",
        )
    raise typer.Exit(result.exit_code)


@app.command("health")
def health(
    account: str = typer.Argument(
        None,
        metavar="ACCOUNT",
        parser=ref_value,
        autocompletion=completion.accounts,
        help="Account id or handle (default: all).",
    ),
    as_json: JsonOpt = False,
) -> None:
    """Probe each account live (refreshing tokens near expiry). Exit 6 if any needs reconnecting."""
    from postcli import output
    from postcli.services.unattended import health as run

    result = run(account)
    rows = result.rows
    if as_json:
        output.print_json(rows)
    elif not rows:
        output.line("No accounts yet.")
    else:
        output.table(
            ["id", "platform", "handle", "healthy", "status", "error", "token expires", "checked"],
            [
                [
                    str(r["id"]),
                    r["platform"],
                    r["handle"],
                    "yes" if r["healthy"] else "NO",
                    r["status"],
                    r["error_code"] or "",
                    output.fmt_time(r["token_expires_at"]),
                    output.fmt_time(r["checked_at"]),
                ]
                for r in rows
            ],
        )
        for r in rows:
            if r["reconnect"]:
                said = f"{r['message']} " if r["message"] else ""
                output.warn(f"{r['platform']} {r['handle']}: {said}{r['reconnect']}")
            elif r["healthy"] and r["message"]:  # healthy, with something to do soon (a sign-in ending)
                output.warn(f"{r['platform']} {r['handle']}: {r['message']}")
    raise typer.Exit(result.exit_code)
