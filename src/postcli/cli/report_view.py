"""How a report is shown in the terminal: run it from the catalog, then print it as text, JSON or CSV.

Below the commands that show reports (cli/analytics.py, cli/demo.py), so none of them calls
another. Light at import like the commands: the services and output load inside `show`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

from postcli.cli._options import output_format
from postcli.cli.report_options import Formats, Images, Scope
from postcli.metrics import DESCRIPTIONS

if TYPE_CHECKING:
    from postcli.services.reports import Meta


def show(
    name: str,
    scope: Scope,
    formats: Formats = Formats(as_json=False, as_csv=False),
    images: Images | None = None,
    **kwargs: Any,
) -> None:
    """Run the report `name` of the catalog (services/reports/catalog.py) and print it in the chosen
    format: what every `postcli analytics` report command does, and `postcli demo` too.

    images: --png/--svg/--size/--force of a chart report; given files are written besides.
    """
    fmt = output_format(*formats)
    q = scope.query()
    files = None
    if images and (images.png or images.svg):
        from postcli.cli.analytics_files import ImageFiles

        files = ImageFiles.check(images, fmt)  # before any work: a bad path costs nothing

    from postcli import output
    from postcli.services.reports.catalog import run

    report = run(name, q, **kwargs)
    _warn(report.meta, fmt)
    if files is not None:
        files.write(name, report.as_json())
        if files.own_stdout:
            return  # the image is what standard output carries
    if fmt == "json":
        output.print_json(report.as_json())
    elif fmt == "csv":
        columns, rows = report.csv()
        output.print_csv(rows, columns)
    elif report.meta.empty:
        output.line(report.meta.empty)
    else:
        _header(report.meta)
        RENDERERS[name](report)


def _warn(meta: Meta, fmt: str) -> None:
    from postcli import output

    if meta.reconnect:
        names = ", ".join(f"{a.handle} ({a.platform}, id {a.account_id})" for a in meta.reconnect)
        first = meta.reconnect[0]
        output.warn(
            f"reconnect needed for {names}: their metrics stopped updating. "
            f"Run `postcli accounts add {first.platform} ...` to reconnect."
        )
    if meta.simulated and fmt == "csv":
        output.err_console().print("(simulated data)", markup=False)


def _header(meta: Meta) -> None:
    from postcli import output

    scope = []
    if meta.platform:
        scope.append(meta.platform)
    if meta.account is not None:
        scope.append(f"{meta.account.handle} ({meta.account.platform})")
    line = f"{output.fmt_time(meta.start, meta.tz)} → {output.fmt_time(meta.end, meta.tz)} ({meta.tz})"
    if scope:
        line += " · " + ", ".join(scope)
    output.line(line, style="dim")
    if meta.simulated:
        output.line("(simulated data)", style="yellow")


# --- renderers -------------------------------------------------------------------


def _platform_table(rows: Any, title: str) -> None:
    from postcli import output

    # Impressions and reach are in --json/--csv; the text table stays within 80 columns.
    # Targets only when some post went to several accounts of one platform.
    with_targets = any(r.targets != r.posts for r in rows)
    cols = [
        "platform",
        "posts",
        *(["targets"] if with_targets else []),
        "engagement",
        "avg/post",
        "eng. rate",
        "likes",
        "comments",
        "shares",
    ]
    output.table(
        cols,
        [
            [
                r.platform,
                r.posts,
                *([r.targets] if with_targets else []),
                r.engagement,
                r.avg_engagement_per_post,
                output.fmt_pct(r.engagement_rate),
                r.likes,
                r.comments,
                r.shares,
            ]
            for r in rows
        ],
        title=title,
        numeric=cols[1:],
        caption=_RATE_CAPTION,
    )
    _unmeasured_note(r.platform for r in rows if r.posts)


def _unmeasured_note(platforms: Any) -> None:
    """Say once why a platform's posts show "—" for every number (it reports none per post)."""
    from postcli import output
    from postcli.services.platforms import unmeasured_note

    why = unmeasured_note(platforms)
    if why:
        output.line(f"{output.NULL} for every number: {why}", style="dim")


_RATE_CAPTION = f"eng. rate: mean per post of {DESCRIPTIONS['engagement_rate']}"


def _fmt_change(c: Any, *, rate: bool = False) -> str:
    from postcli.render.change_text import fmt_change

    return fmt_change(c, rate=rate)


def _with_prev(value: Any, c: Any, *, rate: bool = False) -> str:
    from postcli.render.change_text import fmt_vs

    return fmt_vs(value, c, rate=rate)


def _change_table(r: Any) -> None:
    from postcli import output

    pq = r.previous_q
    output.table(
        ["platform", "posts before", "Δ posts", "eng. before", "Δ engagement", "Δ eng. rate"],
        [
            [
                row.platform,
                r.rows[row.platform]["posts"].previous,
                _fmt_change(r.rows[row.platform]["posts"]),
                r.rows[row.platform]["engagement"].previous,
                _fmt_change(r.rows[row.platform]["engagement"]),
                _fmt_change(r.rows[row.platform]["engagement_rate"], rate=True),
            ]
            for row in r.report.platforms
        ],
        title=f"Change vs the previous period ({output.fmt_time(pq.start, pq.tz)} → {output.fmt_time(pq.end, pq.tz)})",
        numeric={"posts before", "Δ posts", "eng. before", "Δ engagement", "Δ eng. rate"},
    )


def _render_overview(r: Any) -> None:
    from postcli import output

    rep, f = r.report, r.figures
    output.kv(
        [
            ("posts published", _with_prev(rep.posts_published, f["posts_published"])),
            *([("targets published", rep.targets_published)] if rep.targets_published != rep.posts_published else []),
            ("total engagement", _with_prev(rep.total_engagement, f["total_engagement"])),
            ("best platform", rep.best_platform or output.NULL),
            ("followers", _with_prev(rep.followers_total, f["followers_total"])),
            *((f"  {p}", _with_prev(v, r.followers_by_platform[p])) for p, v in rep.followers_by_platform.items()),
        ],
        title="Overview (now   change vs previous period)",
    )
    _platform_table(rep.platforms, "Per platform (posts published in the period)")
    _change_table(r)


def _render_platforms(r: Any) -> None:
    _platform_table(r.report.platforms, "Platforms by engagement")
    _change_table(r)


def _render_timeline(r: Any) -> None:
    from postcli import charts, output

    charts.bar_chart(
        [(f"{d.date:%a %Y-%m-%d}", d.engagement) for d in r.days],
        title="Engagement gained per day",
    )
    output.line(f"total {output.fmt(r.total_engagement)}", style="bold")


def _render_growth(r: Any) -> None:
    from postcli import charts, output

    output.table(
        ["account", "platform", "start", "end", "change", "per day"],
        [
            [
                a.handle,
                a.platform,
                a.start,
                a.end,
                output.NULL if a.change is None else f"{a.change:+,}",
                charts.sparkline([f for _, f in a.days]),
            ]
            for a in r.accounts
        ],
        title="Followers",
        numeric={"start", "end", "change"},
    )
    if r.total_change is not None:
        output.line(f"total change {r.total_change:+,}", style="bold")


def _render_top(r: Any) -> None:
    from postcli import output

    # One block per post rather than a table: text and links need the width.
    output.line(f"Top posts by {r.sort.replace('_', ' ')}", style="bold")
    for p in r.posts:
        output.line(
            f"{p.rank:>2}. {output.excerpt(p.text, 50)}  ·  {p.platform} {p.handle}  ·  "
            f"{output.fmt_time(p.published_at, r.meta.tz)}  ·  post {p.post_id}"
        )
        output.line(
            f"    engagement {output.fmt(p.engagement)} · likes {output.fmt(p.likes)} · "
            f"comments {output.fmt(p.comments)} · shares {output.fmt(p.shares)} · "
            f"reach {output.fmt(p.reach)} · impressions {output.fmt(p.impressions)} · "
            f"eng. rate {output.fmt_pct(p.engagement_rate)}"
        )
        output.line(f"    {p.url or output.NULL}", style="dim")
    if r.sort == "engagement_rate":
        output.line(_RATE_CAPTION, style="dim")
    _null_note({p.platform: (p.likes, p.comments, p.shares, p.reach, p.impressions) for p in r.posts})


def _null_note(shown: dict[str, tuple[Any, ...]]) -> None:
    """Say once what "—" means, naming the shown counters each platform never reports."""
    from postcli import output
    from postcli.services import platforms as platforms_svc

    if not any(v is None for values in shown.values() for v in values):
        return
    never = []
    for platform in sorted(shown):
        if not platforms_svc.reports_post_metrics(platform):
            continue  # said by _unmeasured_note
        reported = platforms_svc.post_metrics(platform)
        missing = [
            c
            for c in ("likes", "comments", "shares", "reach", "impressions")
            if reported is not None and c not in reported
        ]
        if missing:
            never.append(f"{platform} reports no {', '.join(missing)}")
    why = f" ({'; '.join(never)})" if never else ""
    output.line(f"{output.NULL} = not reported by the platform, never 0{why}.", style="dim")
    _unmeasured_note(shown)


def _render_heatmap(r: Any) -> None:
    from postcli import charts, output
    from postcli.services.reports import WEEKDAYS

    charts.heat_grid(
        WEEKDAYS,
        [str(h) for h in range(24)],
        [[r.cell(d, h).mean_engagement for h in range(24)] for d in range(7)],
        title=f"Mean engagement per post by publish time ({r.meta.tz})",
        cell_width=3,
    )
    if r.best_slots:
        output.table(
            ["slot", "posts", "mean engagement"],
            [[f"{c.weekday_name} {c.hour:02d}:00", c.posts, c.mean_engagement] for c in r.best_slots],
            title="Best slots",
            numeric={"posts", "mean engagement"},
        )


def _slot_name(s: Any, weekdays: Sequence[str]) -> str:
    return f"{weekdays[s.weekday]} {s.hour:02d}:00"


def _render_best_times(r: Any) -> None:
    from postcli import output
    from postcli.services.reports import WEEKDAYS  # once: each lookup goes through the package's __getattr__
    from postcli.services.reports.best_times import MEANING, MIN_POSTS

    if r.ranked:
        output.table(
            ["rank", "slot", "mean engagement", "posts"],
            [[s.rank, _slot_name(s, WEEKDAYS), s.mean_engagement, s.reported_posts] for s in r.ranked],
            title=f"Best times to post ({r.meta.tz}), by mean engagement per post",
            numeric={"rank", "mean engagement", "posts"},
        )
    else:
        output.line(f"No slot has {MIN_POSTS} or more posts with reported engagement yet: try a longer --period.")
    if r.thin:
        _thin_slots(r.thin, WEEKDAYS, MIN_POSTS, r.meta.tz)
    output.line(MEANING, style="dim")


def _thin_slots(thin: Any, weekdays: Sequence[str], min_posts: int, tz: str) -> None:
    """The slots too thin to rank, one line per weekday naming their hours: their means rest on
    one or two posts, and a table row each made the list as long as the ranking (up to 168
    rows, the costliest part of the report); --json and --csv keep every slot's figures."""
    from postcli import output

    hours: dict[int, list[int]] = {}
    for s in thin:
        hours.setdefault(s.weekday, []).append(s.hour)
    count = f"{len(thin)} slot{'s' if len(thin) != 1 else ''}"
    output.line(f"Too few posts to rank (fewer than {min_posts} with reported engagement), {count}:", style="bold")
    for day in sorted(hours):
        # Two digits an hour: a day with posts in every hour still fits in 80 columns.
        output.line(f"  {weekdays[day]}  " + " ".join(f"{h:02d}" for h in sorted(hours[day])))
    output.line(f"  (hours in {tz}; each slot's posts and mean: --json or --csv)", style="dim")


RENDERERS: dict[str, Callable[[Any], None]] = {
    "overview": _render_overview,
    "timeline": _render_timeline,
    "growth": _render_growth,
    "top": _render_top,
    "platforms": _render_platforms,
    "heatmap": _render_heatmap,
    "best-times": _render_best_times,
}
