"""`postcli analytics digest`: the period in a dozen lines, as Markdown or a small HTML fragment.

Drawn from the same report JSON as the HTML report (services/dashboard.py). Post text is
hostile input: Markdown escapes its markup characters (a chat renders it as typed), HTML
goes through html.escape, and only http(s) URLs become links.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from postcli.output import NULL, excerpt, fmt, fmt_time
from postcli.render.change_text import fmt_change

# What would turn post text into markup in a chat or Markdown renderer (emphasis, code,
# links, HTML, headings, tables); our own lines carry none of it and stay readable.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _vs(c: dict[str, Any] | None) -> str:
    if c is None:
        return ""
    return f" ({fmt_change(c)} vs {fmt(c['previous'])})"


def _when(moment: Any, tz: str) -> str:
    shown = fmt_time(moment, tz)
    return shown[:-6] if shown.endswith(" 00:00") else shown


def _follower(platform: str, value: int | None, c: dict[str, Any] | None) -> str:
    if c is None or (value is None and c["previous"] is None):
        return f"{platform} {fmt(value)}"
    return f"{platform} {fmt(value)} ({fmt_change(c)})"


def _lines(d: dict[str, Any]) -> dict[str, Any]:
    """The digest's content, format-neutral: plain strings plus the posts to link."""
    ov, bt = d["overview"], d["best_times"]
    tz = ov["period"]["timezone"]
    ch = ov.get("change", {})
    by_platform = ov["followers"]["by_platform"]
    followers = [_follower(p, v, ch.get("followers_by_platform", {}).get(p)) for p, v in by_platform.items()]
    if bt["ranked"]:
        s = bt["ranked"][0]
        slot = (
            f"{s['weekday_name']} {s['hour']:02d}:00 ({tz}): mean engagement {fmt(s['mean_engagement'])} "
            f"over {s['reported_posts']} posts"
        )
    else:
        slot = f"not enough posts yet (a slot needs {bt['min_posts']} with reported engagement)"
    return {
        "title": f"postcli digest {_when(ov['period']['start'], tz)} → {_when(ov['period']['end'], tz)} ({tz})",
        "simulated": ov["simulated"],
        "facts": [
            f"Posts published: {fmt(ov['posts_published'])}{_vs(ch.get('posts_published'))}",
            f"Engagement: {fmt(ov['total_engagement'])}{_vs(ch.get('total_engagement'))}",
            f"Best platform: {ov['best_platform'] or NULL}",
            f"Followers: {', '.join(followers) if followers else NULL}",
            f"Best slot: {slot}",
        ],
        "top": d["top"]["posts"][:3],
        "tz": tz,
    }


def markdown(d: dict[str, Any]) -> str:
    c = _lines(d)
    out = [f"**{c['title']}**"]
    if c["simulated"]:
        out.append("_simulated data_")
    out += [f"- {f}" for f in c["facts"]]
    out.append("- Top posts:" if c["top"] else "- Top posts: none published")
    for p in c["top"]:
        text = _md(excerpt(p["text"], 80))
        url = p["url"] or ""
        link = f" <{url}>" if url.startswith(("https://", "http://")) and not re.search(r"[\s<>]", url) else ""
        out.append(f"  {p['rank']}. {text} — {_md(p['platform'])}, engagement {fmt(p['engagement'])}{link}")
    return "\n".join(out) + "\n"


def html(d: dict[str, Any]) -> str:
    c = _lines(d)
    out = [f"<p><strong>{escape(c['title'])}</strong></p>"]
    if c["simulated"]:
        out.append("<p><em>simulated data</em></p>")
    out.append("<ul>")
    out += [f"<li>{escape(f)}</li>" for f in c["facts"]]
    items = []
    for p in c["top"]:
        text = escape(excerpt(p["text"], 80))
        url = p["url"] or ""
        if url.startswith(("https://", "http://")):
            text = f'<a href="{escape(url, quote=True)}">{text}</a>'
        items.append(f"<li>{text} — {escape(p['platform'])}, engagement {escape(fmt(p['engagement']))}</li>")
    out.append(f"<li>Top posts:<ol>{''.join(items)}</ol></li>" if items else "<li>Top posts: none published</li>")
    out.append("</ul>")
    return "\n".join(out) + "\n"
