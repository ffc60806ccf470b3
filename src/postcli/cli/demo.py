"""`postcli demo`: see the whole product in a few seconds, with no account."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from postcli.cli._options import path_value


def demo(
    home: Optional[Path] = typer.Option(
        None,
        "--home",
        metavar="DIR",
        parser=path_value,
        help="Keep the demo store in this directory (default: a throwaway one).",
    ),
    days: int = typer.Option(7, "--days", metavar="N", min=1, max=30, help="How many simulated days of history."),
) -> None:
    """Run postcli end to end on a SIMULATED network: connect sandbox accounts, publish
    posts over several simulated days, collect snapshots, and print the reports.

    Nothing touches your real store, accounts or any network.
    """
    import tempfile

    from postcli.services.demo import hold_home

    throwaway = home is None
    root = Path(tempfile.mkdtemp(prefix="postcli-demo-")) if home is None else home.expanduser()
    with hold_home(root):
        _run_in(root, days, throwaway)


def _run_in(root: Path, days: int, throwaway: bool) -> None:
    import shutil

    from postcli import output
    from postcli.cli.analytics_files import write_html
    from postcli.cli.report_options import Scope
    from postcli.cli.report_view import show
    from postcli.services.demo import demo_home, run

    try:
        with demo_home(root):
            output.markup(
                "[bold yellow]SIMULATED DATA[/] — postcli demo uses the built-in sandbox network: "
                "no real accounts, no network."
            )
            with output.err_console().status("simulating a week of posting and collecting…"):
                result = run(days=days, step=lambda m: output.line(f"· {m}", style="dim", err=True))
            period = "7d" if days <= 7 else ("30d" if days <= 30 else "90d")
            scope = Scope(period=period, since=None, until=None, platform=None, account=None, tz=None)
            for name in ("overview", "timeline", "top", "heatmap"):
                output.line()
                show(name, scope)
            output.line()
            report = root / "report.html"
            write_html(report, scope)
        output.line(f"Open the HTML report in a browser: {report.resolve().as_uri()}")
        if throwaway:
            output.line(
                "The demo store was temporary (only report.html is left). Keep one with: postcli demo --home ./demo "
                "(then POSTCLI_HOME=./demo postcli analytics overview)."
            )
        else:
            output.line(f"Demo store kept in {root}. Explore it with: POSTCLI_HOME={root} postcli analytics overview")
        output.line(
            f"({result.posts} posts, {result.rounds} collection rounds.) "
            "Connect a real account with: postcli accounts add bluesky --handle you.bsky.social"
        )
    finally:
        if throwaway:
            # The store goes; the HTML report beside it stays for the user to open.
            for child in root.iterdir() if root.is_dir() else ():
                if child.name == "report.html":
                    continue
                if child.is_dir():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
