"""`postcli demo`: see the whole product in a few seconds, with no account."""

from __future__ import annotations

import shlex
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
        help="Keep the demo store in this directory (default: a new one under the system's temporary directory).",
    ),
    days: int = typer.Option(60, "--days", metavar="N", min=1, max=365, help="How many simulated days of history."),
    seed: int = typer.Option(
        1, "--seed", metavar="N", min=0, help="Another seed gives other (equally made-up) numbers."
    ),
) -> None:
    """Run postcli end to end on SIMULATED networks: one account each on a Bluesky-, a Mastodon-,
    an Instagram- and a Threads-like network that report what the real ones report (and "—"
    where they report nothing), posts over the simulated days, snapshots collected every
    evening, then the reports and an HTML report.

    Nothing touches your real store, accounts or any network. The demo store stays, to explore
    with the commands printed at the end; a demo cut short (Ctrl-C) removes what it wrote, so
    the same --home can be used again.
    """
    import tempfile

    from postcli.services.demo import hold_home

    root = Path(tempfile.mkdtemp(prefix="postcli-demo-")) if home is None else home.expanduser()
    with hold_home(root, made=home is None):
        _run_in(root, days, seed)


def _period(days: int) -> str:
    return "7d" if days < 14 else ("30d" if days < 90 else "90d")


def _run_in(root: Path, days: int, seed: int) -> None:
    from postcli import outfile, output
    from postcli.cli.analytics_files import write_html
    from postcli.cli.report_options import Scope
    from postcli.cli.report_view import show
    from postcli.services.demo import demo_home, run

    with demo_home(root):
        output.markup(
            "[bold yellow]SIMULATED DATA[/] — postcli demo uses built-in simulated networks "
            "(sim-bluesky, sim-mastodon, sim-instagram, sim-threads): no real accounts, no network."
        )
        with output.spinner(f"simulating {days} days of posting and collecting…"):
            result = run(days=days, seed=seed, step=lambda m: output.line(f"· {m}", style="dim", err=True))
        period = _period(days)
        scope = Scope(period=period, since=None, until=None, platform=None, account=None, tz=None)
        for name in ("overview", "timeline", "top", "heatmap"):
            output.line()
            show(name, scope)
        output.line()
        report = root / "report.html"
        write_html(outfile.target(str(report), force=False), scope)
    home = shlex.quote(str(root))
    output.line(f"Open the HTML report in a browser: {report.resolve().as_uri()}")
    output.line(f"({result.posts} posts, {result.rounds} collection rounds.) The demo store is kept in {root}.")
    output.line("Try next, on the demo store:")
    for command in (
        f"POSTCLI_HOME={home} postcli analytics top --period {period}",
        f"POSTCLI_HOME={home} postcli analytics best-times",
        f"POSTCLI_HOME={home} postcli analytics report --html report.html",
    ):
        output.line(f"  {command}")
    output.line("Connect a real account: postcli accounts add bluesky --handle you.bsky.social")
