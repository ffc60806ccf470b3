"""`postcli analytics post|refresh ID`: one post's numbers (registered on the analytics app)."""

from __future__ import annotations

from typing import Any, Optional

import typer

from postcli.cli import completion
from postcli.cli._options import JsonOpt, id_value, text_value

METRIC_COLUMNS = ("likes", "comments", "shares", "quotes", "saves", "impressions", "reach", "views", "engagement")


def register(app: typer.Typer) -> None:
    app.command("post")(post)
    app.command("refresh")(refresh)


def _render(data: dict[str, Any], *, history: bool = False, by_part: bool = False) -> None:
    from postcli import output, settings
    from postcli.metrics import DESCRIPTIONS
    from postcli.services.platforms import unmeasured_note

    tz = settings.time_zone()
    for name in data.get("needs_reconnect", []):
        output.warn(f"{name} needs reconnecting; its numbers are not current (see `postcli accounts health`).")
    output.line(f"Post {data['post_id']}: {output.excerpt(data['text'], 60)}")
    rows = data["metrics_by_target"]
    # A figure a row and a target a column: 80 columns hold four targets side by side, and one
    # figure compares across platforms along its row (a target a row needs 13 columns).
    labels = ["account", *METRIC_COLUMNS, "eng. rate", "captured"]
    by_target = [
        [
            r["handle"],
            *[r[k] for k in METRIC_COLUMNS],
            output.fmt_pct(r["engagement_rate"]),
            output.fmt_time(r["captured_at"], tz),
        ]
        for r in rows
    ]
    heads = [r["platform"] for r in rows]
    output.table(
        ["figure", *heads],
        [[label, *(target[i] for target in by_target)] for i, label in enumerate(labels)],
        numeric=heads,
        caption=f"— = not reported by the platform; eng. rate = {DESCRIPTIONS['engagement_rate']}",
    )
    threads = [r for r in rows if r.get("part_count", 1) > 1]
    if by_part:
        for r in rows:
            output.table(
                ["part", "status", *METRIC_COLUMNS, "captured"],
                [
                    [
                        str(p["position"]),
                        p["status"],
                        *[p[k] for k in METRIC_COLUMNS],
                        output.fmt_time(p["captured_at"], tz),
                    ]
                    for p in r["parts"]
                ],
                numeric=METRIC_COLUMNS,
                title=f"{r['platform']} ({r['handle']}), part by part",
            )
    elif threads:
        output.line(
            "A thread's row is the sum of its parts ("
            + ", ".join(f"{r['platform']}: {r['part_count']} parts" for r in threads)
            + "); --by-part shows each part. A first comment is not counted."
        )
    totals = data["aggregated_metrics"]
    output.kv([(k.replace("total_", ""), v) for k, v in totals.items()], title="Totals (sums of reported values)")
    why = unmeasured_note(r["platform"] for r in rows)
    if why:
        output.line(f"{output.NULL} for every number: {why}", style="dim")
    if not data["collected"] and any(r["metrics_reported"] for r in rows):
        output.line("No snapshot yet: run `postcli collect` or `postcli analytics refresh ID`.")
    if history:
        output.table(
            ["captured", "platform", *METRIC_COLUMNS],
            [
                [output.fmt_time(r["captured_at"], tz), r["platform"], *[r[k] for k in METRIC_COLUMNS]]
                for r in data["history"]
            ],
            numeric=METRIC_COLUMNS,
            title="History",
        )


def post(
    post_id: str = typer.Argument(
        ..., metavar="ID", parser=id_value, autocompletion=completion.posts, help="The post id."
    ),
    platform: Optional[str] = typer.Option(
        None,
        "--platform",
        metavar="PLATFORM",
        parser=text_value,
        autocompletion=completion.platforms,
        help="Only this platform's target.",
    ),
    history: bool = typer.Option(False, "--history", help="List every snapshot, oldest first."),
    by_part: bool = typer.Option(False, "--by-part", help="A thread: each part's own numbers beside the sums."),
    as_json: JsonOpt = False,
) -> None:
    """One post: the latest snapshot per target and totals across targets (a thread: the sums of its parts).

    Exit 4 for a draft or scheduled post (nothing published yet), 3 for an unknown id.
    """
    from postcli import output
    from postcli.services.post_report import post_analytics

    data = post_analytics(post_id, platform=platform, history=history, by_part=by_part)
    if as_json:
        output.print_json(data)
    else:
        _render(data, history=history, by_part=by_part)


def refresh(
    post_id: str = typer.Argument(
        ..., metavar="ID", parser=id_value, autocompletion=completion.posts, help="The post id."
    ),
    platform: Optional[str] = typer.Option(
        None,
        "--platform",
        metavar="PLATFORM",
        parser=text_value,
        autocompletion=completion.platforms,
        help="Only this platform's target.",
    ),
    as_json: JsonOpt = False,
) -> None:
    """Fetch a post's metrics live now, store the snapshot and show it.

    Allowed once per 15 minutes per post ([collect] refresh_interval_minutes); sooner exits 5.
    """
    from postcli import output
    from postcli.services.post_analytics import refresh as run

    result = run(post_id, platform=platform)
    data = result.data
    for e in data["errors"]:
        output.warn(f"{e['platform']}: {e['error']}")
    if as_json:
        output.print_json(data)
    else:
        _render(data)
    raise typer.Exit(result.exit_code)
