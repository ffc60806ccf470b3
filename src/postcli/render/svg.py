"""Inline SVG charts for the HTML report, drawn from the reports' JSON data.

Every data point is one element with class "mark" (a NULL point is a "mark null":
drawn as an outline, never as a zero), so the browser test can count them against the
JSON. Each chart has <title>/<desc> for screen readers; the page puts a data table
beside it. Colours come from CSS variables, so light, dark and print follow the page.
"""

from __future__ import annotations

from html import escape
from typing import Any, Sequence

from postcli.output import fmt

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _open(chart: str, width: int, height: int, title: str, desc: str) -> list[str]:
    tid, did = f"{chart}-title", f"{chart}-desc"
    return [
        f'<svg class="chart" data-chart="{chart}" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-labelledby="{tid} {did}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{tid}">{escape(title)}</title>',
        f'<desc id="{did}">{escape(desc)}</desc>',
    ]


def _num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def bars(chart: str, points: Sequence[tuple[str, int | float | None]], *, title: str, desc: str, unit: str = "") -> str:
    """Vertical bars, one per point (the timeline). Labels: first, middle and last."""
    w, h, left, bottom, top = 900, 240, 48, 28, 12
    peak = max((v for _, v in points if v is not None), default=0) or 1
    step = (w - left - 8) / max(len(points), 1)
    bw = max(step * 0.8, 1)
    out = _open(chart, w, h, title, desc)
    base = h - bottom
    out.append(f'<line class="axis" x1="{left}" y1="{base}" x2="{w - 4}" y2="{base}"/>')
    out.append(f'<text class="tick" x="{left - 6}" y="{top + 4}" text-anchor="end">{fmt(peak)}</text>')
    out.append(f'<text class="tick" x="{left - 6}" y="{base}" text-anchor="end">0</text>')
    label_at = {0, len(points) // 2, len(points) - 1}
    for i, (label, v) in enumerate(points):
        x = left + i * step + (step - bw) / 2
        tip = f"{label}: {fmt(v)}{unit}"
        if v is None:
            out.append(
                f'<rect class="mark null" x="{_num(x)}" y="{base - 2}" width="{_num(bw)}" height="2" '
                f'data-value=""><title>{escape(tip)} (not reported)</title></rect>'
            )
        else:
            bh = (base - top) * v / peak
            out.append(
                f'<rect class="mark" x="{_num(x)}" y="{_num(base - bh)}" width="{_num(bw)}" height="{_num(bh)}" '
                f'data-value="{v}"><title>{escape(tip)}</title></rect>'
            )
        if i in label_at:
            # The end labels anchor inwards so they are not cut off at the chart's edges.
            anchor = "start" if i == 0 else "end" if i == len(points) - 1 else "middle"
            tx = x if anchor == "start" else x + bw if anchor == "end" else x + bw / 2
            out.append(f'<text class="tick" x="{_num(tx)}" y="{h - 8}" text-anchor="{anchor}">{escape(label)}</text>')
    out.append("</svg>")
    return "".join(out)


def line(chart: str, points: Sequence[tuple[str, int | None]], *, title: str, desc: str) -> str:
    """A line through the reported points (gaps where NULL), one circle per reported point."""
    w, h, left, bottom, top = 440, 160, 56, 26, 12
    vals = [v for _, v in points if v is not None]
    lo, hi = (min(vals), max(vals)) if vals else (0, 1)
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    step = (w - left - 12) / max(len(points) - 1, 1)
    base = h - bottom

    def y(v: int) -> float:
        return base - (base - top) * (v - lo) / (hi - lo)

    out = _open(chart, w, h, title, desc)
    out.append(f'<line class="axis" x1="{left}" y1="{base}" x2="{w - 4}" y2="{base}"/>')
    if vals:
        out.append(
            f'<text class="tick" x="{left - 6}" y="{_num(y(max(vals)) + 4)}" text-anchor="end">{fmt(max(vals))}</text>'
        )
        out.append(
            f'<text class="tick" x="{left - 6}" y="{_num(y(min(vals)) + 4)}" text-anchor="end">{fmt(min(vals))}</text>'
        )
    segment: list[str] = []
    segments = []
    for i, (_, v) in enumerate(points):
        if v is None:
            if segment:
                segments.append(segment)
            segment = []
        else:
            segment.append(f"{_num(left + i * step)},{_num(y(v))}")
    if segment:
        segments.append(segment)
    for seg in segments:
        out.append(f'<polyline class="series" points="{" ".join(seg)}"/>')
    for i, (label, v) in enumerate(points):
        if v is not None:
            out.append(
                f'<circle class="mark" cx="{_num(left + i * step)}" cy="{_num(y(v))}" r="2.5" data-value="{v}">'
                f"<title>{escape(label)}: {fmt(v)}</title></circle>"
            )
    if points:
        out.append(f'<text class="tick" x="{left}" y="{h - 6}">{escape(points[0][0])}</text>')
        out.append(f'<text class="tick" x="{w - 12}" y="{h - 6}" text-anchor="end">{escape(points[-1][0])}</text>')
    out.append("</svg>")
    return "".join(out)


def hbars(chart: str, points: Sequence[tuple[str, int | None]], *, title: str, desc: str) -> str:
    """Horizontal bars, one per labelled value (the platform comparison)."""
    row, left, w = 30, 110, 900
    h = row * len(points) + 10
    peak = max((v for _, v in points if v is not None), default=0) or 1
    out = _open(chart, w, h, title, desc)
    for i, (label, v) in enumerate(points):
        y = 5 + i * row
        out.append(f'<text class="label" x="{left - 8}" y="{y + 19}" text-anchor="end">{escape(label)}</text>')
        if v is None:
            out.append(
                f'<rect class="mark null" x="{left}" y="{y + 4}" width="3" height="{row - 8}" data-value="">'
                f"<title>{escape(label)}: — (not reported)</title></rect>"
            )
            out.append(f'<text class="tick" x="{left + 10}" y="{y + 19}">— not reported</text>')
            continue
        bw = (w - left - 90) * v / peak
        out.append(
            f'<rect class="mark" x="{left}" y="{y + 4}" width="{_num(bw)}" height="{row - 8}" data-value="{v}">'
            f"<title>{escape(label)}: {fmt(v)}</title></rect>"
        )
        out.append(f'<text class="tick" x="{_num(left + bw + 6)}" y="{y + 19}">{fmt(v)}</text>')
    out.append("</svg>")
    return "".join(out)


def heat(chart: str, cells: Sequence[dict[str, Any]], *, title: str, desc: str) -> str:
    """Weekday x hour grid: 168 cells, shade = mean engagement over the grid's peak."""
    cw, ch, left, top = 34, 26, 44, 22
    w, h = left + 24 * cw + 4, top + 7 * ch + 4
    peak = max((c["mean_engagement"] for c in cells if c["mean_engagement"] is not None), default=0) or 1
    out = _open(chart, w, h, title, desc)
    for hr in range(0, 24, 3):
        out.append(
            f'<text class="tick" x="{left + hr * cw + cw / 2}" y="{top - 8}" text-anchor="middle">{hr:02d}</text>'
        )
    for d, name in enumerate(WEEKDAYS):
        out.append(f'<text class="label" x="{left - 6}" y="{top + d * ch + 17}" text-anchor="end">{name}</text>')
    for c in cells:
        x, y = left + c["hour"] * cw, top + c["weekday"] * ch
        slot = f"{WEEKDAYS[c['weekday']]} {c['hour']:02d}:00"
        v = c["mean_engagement"]
        if v is None:
            tip = f"{slot}: — ({'no posts' if not c['posts'] else 'engagement not reported'})"
            out.append(
                f'<rect class="mark null" x="{x + 1}" y="{y + 1}" width="{cw - 2}" height="{ch - 2}" data-value="">'
                f"<title>{escape(tip)}</title></rect>"
            )
        else:
            tip = f"{slot}: mean {fmt(v)} over {c['posts']} post(s)"
            shade = 0.15 + 0.85 * v / peak
            out.append(
                f'<rect class="mark" x="{x + 1}" y="{y + 1}" width="{cw - 2}" height="{ch - 2}" '
                f'fill-opacity="{shade:.3f}" data-value="{v}"><title>{escape(tip)}</title></rect>'
            )
    out.append("</svg>")
    return "".join(out)
