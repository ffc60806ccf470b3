"""PNG/SVG chart images of the timeline, growth and heatmap reports, without a browser.

Vega-Lite specs (plain dicts built from the reports' JSON) rendered by vl-convert-python,
the Vega project's own converter: one 84 MB wheel with no dependencies, imported only
when an image is asked for. Chosen over matplotlib (numpy, fonttools, contourpy...: about
140 MB, ~1.2 s to import pyplot here) for its size and its declarative specs, at the cost
of ~2 s to start its engine on the first image (measurements in docs/reports.md).

Each data point is one mark; NULL points are left out (a bar or point at 0 would claim
a 0 the platform never reported), except in the heatmap, whose 168 cells are all drawn,
the unreported ones grey.
"""

from __future__ import annotations

from typing import Any

from postcli.errors import PostcliError

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
KINDS = ("timeline", "growth", "heatmap")


class ChartsUnavailable(PostcliError):
    """vl-convert-python is not installed (it is an optional extra)."""


def _base(title: str, width: int, height: int) -> dict[str, Any]:
    # autosize fit + padding: the whole image, axes and legend included, is width x height.
    return {
        "$schema": SCHEMA,
        "title": title,
        "width": width,
        "height": height,
        "autosize": {"type": "fit", "contains": "padding"},
        "background": "white",
        "config": {"font": "DejaVu Sans, Helvetica, Arial, sans-serif"},
    }


# The x axis of the daily charts (timeline, growth).
_DAY_AXIS: dict[str, Any] = {
    "field": "date",
    "type": "temporal",
    "timeUnit": "yearmonthdate",
    "title": None,
    "axis": {"format": "%d %b"},
}


def timeline_spec(data: dict[str, Any], width: int, height: int) -> dict[str, Any]:
    values = [
        {"date": str(d["date"]), "engagement": d["engagement"]} for d in data["days"] if d["engagement"] is not None
    ]
    tz = data["period"]["timezone"]
    return {
        **_base(f"Engagement gained per day ({tz})", width, height),
        "data": {"values": values},
        "mark": {"type": "bar", "color": "#2563eb"},
        "encoding": {
            "x": _DAY_AXIS,
            "y": {"field": "engagement", "type": "quantitative", "title": "engagement"},
        },
    }


def growth_spec(data: dict[str, Any], width: int, height: int) -> dict[str, Any]:
    values = [
        {"date": str(d["date"]), "followers": d["followers"], "account": f"{a['platform']} · {a['handle']}"}
        for a in data["accounts"]
        for d in a["days"]
        if d["followers"] is not None
    ]
    return {
        **_base("Followers per account", width, height),
        "data": {"values": values},
        "mark": {"type": "line", "point": True},
        "encoding": {
            "x": _DAY_AXIS,
            "y": {"field": "followers", "type": "quantitative", "scale": {"zero": False}},
            "color": {"field": "account", "type": "nominal", "title": None, "legend": {"orient": "bottom"}},
        },
    }


def heatmap_spec(data: dict[str, Any], width: int, height: int) -> dict[str, Any]:
    values = [
        {"weekday": c["weekday_name"], "hour": c["hour"], "mean": c["mean_engagement"], "posts": c["posts"]}
        for c in data["cells"]
    ]
    tz = data["period"]["timezone"]
    return {
        **_base(f"Mean engagement per post by publish time ({tz})", width, height),
        "data": {"values": values},
        "mark": {"type": "rect", "stroke": "white", "strokeWidth": 1, "invalid": None},  # keep NULL cells (grey)
        "encoding": {
            "x": {"field": "hour", "type": "ordinal", "title": "hour", "sort": list(range(24))},
            "y": {"field": "weekday", "type": "ordinal", "title": None, "sort": WEEKDAYS},
            "color": {
                "condition": {"test": "datum.mean === null", "value": "#e5e7eb"},
                "field": "mean",
                "type": "quantitative",
                "title": "mean engagement",
                "scale": {"scheme": "blues"},
            },
        },
    }


SPECS = {"timeline": timeline_spec, "growth": growth_spec, "heatmap": heatmap_spec}


def render(kind: str, data: dict[str, Any], fmt: str, width: int, height: int) -> bytes:
    """The chart of report `kind` (its as_json()) as PNG or SVG bytes of width x height pixels."""
    try:
        import vl_convert as vlc
    except ImportError:
        raise ChartsUnavailable(
            "chart images need vl-convert-python, which is not installed.",
            hint="Install it with: pip install 'postcli[charts]' (or pip install vl-convert-python).",
        ) from None
    spec = SPECS[kind](data, width, height)
    if fmt == "png":
        return bytes(vlc.vegalite_to_png(spec, scale=1))
    return vlc.vegalite_to_svg(spec).encode("utf-8")
