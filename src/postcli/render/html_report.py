"""`postcli analytics report --html FILE`: one self-contained HTML page.

No scripts, and a Content-Security-Policy that forbids loading anything (CSS is inline,
charts are inline SVG), so opening the file makes no request. Every text from a user or a
platform (post text, handles, URLs) goes through html.escape; a post link is only a link
when it is http(s). Numbers are formatted as in the terminal (output.fmt), NULL is "—"
with the reason beside it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape
from importlib import resources
from typing import Any, Iterable, Sequence

from postcli.metrics import DESCRIPTIONS, ENGAGEMENT_FORMULA
from postcli.output import NULL, excerpt, fmt, fmt_pct, fmt_time
from postcli.render import svg
from postcli.render.change_text import direction, fmt_change

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
NOT_REPORTED = "not reported by the platform"


# The platform table's numeric columns (the first column is the platform).
_PLATFORM_NUMBERS = (
    "posts",
    "engagement",
    "Δ engagement",
    "avg/post",
    "eng. rate",
    "likes",
    "comments",
    "shares",
    "followers",
)


def _css() -> str:
    return resources.files("postcli.render").joinpath("report.css").read_text(encoding="utf-8")


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _null(reason: str = NOT_REPORTED) -> str:
    return f'<span class="null" title="{_e(reason)}">{NULL}</span>'


def _n(value: Any, *, rate: bool = False, reason: str = NOT_REPORTED) -> str:
    """A number as the terminal prints it; NULL as "—" saying why."""
    if value is None:
        return _null(reason)
    return _e(fmt_pct(value) if rate else fmt(value))


def _table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    numeric: frozenset[str] | set[str] = frozenset(),
    caption: str | None = None,
    cls: str = "",
) -> str:
    """Cells are already-escaped HTML."""
    head = "".join(f'<th scope="col"{" class=num" if h in numeric else ""}>{_e(h)}</th>' for h in headers)
    body = []
    for row in rows:
        cells = "".join(f"<td{' class=num' if h in numeric else ''}>{c}</td>" for h, c in zip(headers, row))
        body.append(f"<tr>{cells}</tr>")
    cap = f"<caption>{_e(caption)}</caption>" if caption else ""
    return (
        f'<div class="scroll"><table class="{cls}">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _data(table: str, what: str = "Data table") -> str:
    return f"<details><summary>{_e(what)}</summary>{table}</details>"


def _link(url: str | None) -> str:
    if not url:
        return _null("the platform gave no link")
    if url.lower().startswith(("https://", "http://")):
        return f'<a href="{_e(url)}" rel="noopener noreferrer">open</a>'
    return f'<span class="null" title="{_e(url)}">no web page</span>'


def _slot(c: dict[str, Any]) -> str:
    return f"{c['weekday_name']} {c['hour']:02d}:00"


# --- sections ----------------------------------------------------------------------


def _header(ov: dict[str, Any], generated: datetime) -> str:
    p = ov["period"]
    tz = p["timezone"]
    scope = []
    f = ov["filters"]
    if f["platform"]:
        scope.append(f["platform"])
    if f["account"]:
        scope.append(f"{f['account']['handle']} ({f['account']['platform']})")
    prev = ov.get("previous_period")
    lines = [
        "<header>",
        "<h1>postcli report</h1>",
        f'<p class="meta">{_e(fmt_time(p["start"], tz))} → {_e(fmt_time(p["end"], tz))} ({_e(tz)})'
        + (f" · {_e(', '.join(scope))}" if scope else "")
        + (f" · compared with {_e(fmt_time(prev['start'], tz))} → {_e(fmt_time(prev['end'], tz))}" if prev else "")
        + f" · generated {_e(fmt_time(generated, tz))}</p>",
    ]
    if ov["simulated"]:
        lines.append(
            '<p class="banner" role="note">SIMULATED DATA — simulated networks (postcli demo): '
            "no real network, no real audience.</p>"
        )
    if ov["reconnect"]:
        names = ", ".join(f"{a['handle']} ({a['platform']}, id {a['account_id']})" for a in ov["reconnect"])
        lines.append(
            f'<p class="banner" role="note">Reconnect needed for {_e(names)}: their metrics stopped '
            f"updating. Run <code>postcli accounts add PLATFORM ...</code>.</p>"
        )
    lines.append("</header>")
    return "".join(lines)


def _card(key: str, label: str, value: Any, change: dict[str, Any] | None, *, shown: str | None = None) -> str:
    text = _e(shown) if shown is not None else _n(value, reason="no data in the period")
    ch = ""
    if change is not None:
        if value is None and change["previous"] is None:
            ch = '<span class="change">nothing to compare</span>'
        else:
            ch = (
                f'<span class="change {direction(change)}">{_e(fmt_change(change))} · previous period '
                f"{_e(fmt(change['previous']))}</span>"
            )
    return (
        f'<div class="card" data-card="{_e(key)}"><span class="label">{_e(label)}</span>'
        f'<span class="value">{text}</span>{ch}</div>'
    )


def _cards(ov: dict[str, Any]) -> str:
    c = ov.get("change", {})
    return "".join(
        [
            '<section aria-label="Overview"><div class="cards">',
            _card("posts_published", "Posts published", ov["posts_published"], c.get("posts_published")),
            _card("total_engagement", "Engagement", ov["total_engagement"], c.get("total_engagement")),
            _card("followers_total", "Followers", ov["followers"]["total"], c.get("followers_total")),
            _card("best_platform", "Best platform", ov["best_platform"], None, shown=ov["best_platform"] or NULL),
            "</div></section>",
        ]
    )


def _timeline(tl: dict[str, Any]) -> str:
    days = tl["days"]
    points = [(f"{d['date']:%a %d %b}", d["engagement"]) for d in days]
    reported = sum(1 for d in days if d["engagement"] is not None)
    chart = svg.bars(
        "timeline",
        points,
        title="Engagement gained per day",
        desc=f"{len(days)} days, total {fmt(tl['total_engagement'])}; {len(days) - reported} day(s) not reported.",
    )
    table = _table(
        ["date", "engagement", "likes", "comments", "shares"],
        ([_e(d["date"]), _n(d["engagement"]), _n(d["likes"]), _n(d["comments"]), _n(d["shares"])] for d in days),
        numeric={"engagement", "likes", "comments", "shares"},
    )
    return (
        f'<section id="timeline"><h2>Engagement per day</h2><p class="note">Likes, comments and shares gained '
        f"each day, whenever the post was published. Total {_n(tl['total_engagement'])}.</p>{chart}{_data(table)}</section>"
    )


def _growth(gr: dict[str, Any]) -> str:
    charts: list[str] = []
    rows: list[list[str]] = []
    for a in gr["accounts"]:
        name = f"{a['platform']} · {a['handle']}"
        points = [(f"{d['date']:%d %b}", d["followers"]) for d in a["days"]]
        change = NULL if a["change"] is None else f"{a['change']:+,}"
        charts.append(
            f"<figure><h3>{_e(name)}</h3>"
            + svg.line(
                f"growth-{a['account_id']}",
                points,
                title=f"Followers of {name}",
                desc=f"From {fmt(a['start'])} to {fmt(a['end'])} ({change}).",
            )
            + f'<figcaption class="note">{_n(a["start"], reason="no follower count recorded")} → '
            f"{_n(a['end'], reason='no follower count recorded')} ({_e(change)})</figcaption></figure>"
        )
        rows.extend(
            [_e(d["date"]), _e(a["platform"]), _e(a["handle"]), _n(d["followers"], reason="no snapshot that day")]
            for d in a["days"]
        )
    table = _table(["date", "platform", "account", "followers"], rows, numeric={"followers"})
    total = NULL if gr["total_change"] is None else f"{gr['total_change']:+,}"
    return (
        f'<section id="growth"><h2>Followers</h2><p class="note">Each account\'s latest count per day; '
        f'total change {_e(total)}.</p><div class="small-multiples">{"".join(charts)}</div>{_data(table)}</section>'
    )


def _platforms(ov: dict[str, Any]) -> str:
    rows = ov["platforms"]
    changes = ov.get("change", {}).get("platforms", {})
    chart = svg.hbars(
        "platforms",
        [(r["platform"], r["engagement"]) for r in rows],
        title="Engagement per platform",
        desc=f"{len(rows)} platform(s), best first.",
    )
    followers = ov["followers"]["by_platform"]
    table = _table(
        ["platform", *_PLATFORM_NUMBERS],
        (
            [
                _e(r["platform"]),
                _n(r["posts"]),
                _n(r["engagement"]),
                _e(fmt_change(changes[r["platform"]]["engagement"])) if r["platform"] in changes else _null(),
                _n(r["avg_engagement_per_post"]),
                _n(r["engagement_rate"], rate=True, reason="no follower count"),
                _n(r["likes"]),
                _n(r["comments"]),
                _n(r["shares"]),
                _n(followers.get(r["platform"]), reason="no follower count recorded"),
            ]
            for r in rows
        ),
        numeric=set(_PLATFORM_NUMBERS),
        caption="Impressions and reach: see postcli analytics platforms --json. "
        f"eng. rate: mean per post of {DESCRIPTIONS['engagement_rate']}. "
        'Δ: change vs the previous period of the same length ("new" when it was 0 or not reported).',
    )
    return f'<section id="platforms"><h2>Platforms</h2>{chart}{table}</section>'


def _top(top: dict[str, Any], tz: str) -> str:
    posts = top["posts"]
    if not posts:
        return '<section id="top"><h2>Top posts</h2><p class="note">No posts published in the period.</p></section>'
    table = _table(
        ["#", "post", "where", "published", "engagement", "likes", "comments", "shares", "link"],
        (
            [
                _e(p["rank"]),
                f'<div class="text" title="{_e(p["text"])}">{_e(excerpt(p["text"], 140))}</div>',
                f'{_e(p["platform"])}<br><span class="note">{_e(p["handle"])}</span>',
                _e(fmt_time(p["published_at"], tz)),
                _n(p["engagement"]),
                _n(p["likes"]),
                _n(p["comments"]),
                _n(p["shares"]),
                _link(p["url"]),
            ]
            for p in posts
        ),
        numeric={"#", "engagement", "likes", "comments", "shares"},
        cls="top",
    )
    return f'<section id="top"><h2>Top posts</h2>{table}</section>'


def _heatmap(hm: dict[str, Any], tz: str) -> str:
    cells = hm["cells"]
    used = [c for c in cells if c["posts"]]
    chart = svg.heat(
        "heatmap",
        cells,
        title=f"Mean engagement per post by publish time ({tz})",
        desc=f"168 weekday x hour cells; {len(used)} with posts. Darker is more engagement.",
    )
    table = _table(
        ["slot", "posts", "mean engagement"],
        ([_e(_slot(c)), _n(c["posts"]), _n(c["mean_engagement"], reason="engagement not reported")] for c in used),
        numeric={"posts", "mean engagement"},
        caption="Only slots with posts; every other slot had none.",
    )
    return (
        f'<section id="heatmap"><h2>When your posts were published</h2><p class="note">Weekday x hour in '
        f"{_e(tz)}; a dashed cell had no posts or no reported engagement.</p>{chart}{_data(table)}</section>"
    )


def _best(bt: dict[str, Any]) -> str:
    ranked = bt["ranked"][:10]
    parts = [f'<section id="best-times"><h2>Best times to post</h2><p class="note">{_e(bt["meaning"])}</p>']
    if ranked:
        parts.append(
            _table(
                ["rank", "slot", "mean engagement", "posts"],
                ([_e(s["rank"]), _e(_slot(s)), _n(s["mean_engagement"]), _n(s["reported_posts"])] for s in ranked),
                numeric={"rank", "mean engagement", "posts"},
                cls="best",
            )
        )
    else:
        parts.append(f"<p>No slot has {bt['min_posts']} or more posts with reported engagement yet.</p>")
    thin = bt["too_few_posts"]
    if thin:
        parts.append(
            _data(
                _table(
                    ["slot", "mean engagement", "posts", "reported"],
                    ([_e(_slot(s)), _n(s["mean_engagement"]), _n(s["posts"]), _n(s["reported_posts"])] for s in thin),
                    numeric={"mean engagement", "posts", "reported"},
                ),
                f"{len(thin)} slot(s) with too few posts to rank (fewer than {bt['min_posts']})",
            )
        )
    parts.append("</section>")
    return "".join(parts)


def render(d: dict[str, Any], *, empty: str | None = None, generated: datetime | None = None) -> str:
    """The page for a Dashboard's `as_json()`."""
    ov = d["overview"]
    tz = ov["period"]["timezone"]
    generated = generated or datetime.now(timezone.utc)
    body = [_header(ov, generated)]
    if empty:
        body.append(f'<p class="note" role="status">{_e(empty)}</p>')
    body += [
        _cards(ov),
        _timeline(d["timeline"]),
        _growth(d["growth"]),
        _platforms(ov),
        _top(d["top"], tz),
        _heatmap(d["heatmap"], tz),
        _best(d["best_times"]),
        f"<footer>{NULL} means not reported by the platform (or nothing recorded), never 0. "
        f"Engagement = {ENGAGEMENT_FORMULA}. Made by postcli from the local metrics store; the same numbers as "
        "<code>postcli analytics ... --json</code>.</footer>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        f"<title>postcli report {_e(fmt_time(ov['period']['start'], tz))} → {_e(fmt_time(ov['period']['end'], tz))}</title>"
        f"<style>{_css()}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
