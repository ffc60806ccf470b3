"""`postcli analytics ...`: the report commands (services/reports/ does the work, cli/report_view.py
runs and prints a report).

Module level stays light (typer, _options, report_view): the services are imported when a report
runs so `postcli --help` does not load them, and the reports read the store through
store/dbapi.py, so a report does not load SQLAlchemy either.
"""

from __future__ import annotations

from typing import Annotated

import typer

from postcli.cli import report_view
from postcli.cli._options import count_value
from postcli.cli.report_options import Formats, Images, Scope, report_options

app = typer.Typer(
    help="Reports from the local metrics store: overview, timeline, growth, top, platforms, heatmap, best-times.",
    no_args_is_help=True,
)


@app.command()
@report_options
def overview(
    scope: Scope,
    formats: Formats,
) -> None:
    """Posts, engagement, best platform and followers for the period, each beside its change
    from the previous period of the same length ("new" when that was 0 or not reported)."""
    report_view.show("overview", scope, formats)


@app.command()
@report_options
def timeline(
    scope: Scope,
    formats: Formats,
    images: Images,
) -> None:
    """Engagement gained per day (whenever the post was published), with a chart."""
    report_view.show("timeline", scope, formats, images=images)


@app.command()
@report_options
def growth(
    scope: Scope,
    formats: Formats,
    images: Images,
) -> None:
    """Followers per account per day, and the change over the period."""
    report_view.show("growth", scope, formats, images=images)


@app.command()
@report_options
def top(
    *,
    limit: Annotated[int, typer.Option("--limit", "-n", metavar="N", parser=count_value, help="How many posts.")] = 5,
    sort: Annotated[
        str,
        typer.Option(
            "--sort",
            metavar="METRIC",
            help="engagement, likes, comments, shares, reach, impressions or engagement_rate.",
        ),
    ] = "engagement",
    scope: Scope,
    formats: Formats,
) -> None:
    """Best posts published in the period (posts without the metric come last)."""
    sort = sort.strip().lower().replace("-", "_")  # the service rejects unknown keys with the list
    report_view.show("top", scope, formats, sort=sort, limit=limit)


@app.command()
@report_options
def platforms(
    scope: Scope,
    formats: Formats,
) -> None:
    """Per-platform totals, best first, with the change from the previous period of the same length."""
    report_view.show("platforms", scope, formats)


@app.command()
@report_options
def heatmap(
    scope: Scope,
    formats: Formats,
    images: Images,
) -> None:
    """Mean engagement per post by weekday and hour of publishing, plus the best slots."""
    report_view.show("heatmap", scope, formats, images=images)


@app.command("best-times")
@report_options
def best_times(
    scope: Scope,
    formats: Formats,
) -> None:
    """Weekday x hour slots (in --tz) ranked by mean engagement per post, each with its number of posts.

    Only slots with at least 3 posts whose engagement was reported are ranked; thinner ones are
    listed apart. The ranking says when your posts did well, not that posting then makes them do
    well: content and audience differ, and older posts have had longer to gather engagement.
    """
    report_view.show("best-times", scope, formats)


def _register_file_commands() -> None:
    # `report` lives in its own module (cli/analytics_files.py) to keep this one small.
    from postcli.cli import analytics_files

    analytics_files.register(app)


_register_file_commands()
