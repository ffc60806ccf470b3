"""A change vs the previous period as people read it, the same in the terminal, HTML and digest."""

from __future__ import annotations

from typing import Any

from postcli.output import NULL, fmt, fmt_pct


def _get(c: Any, key: str) -> Any:
    return c[key] if isinstance(c, dict) else getattr(c, key)


# Below this many in the previous period a percentage says more about the small number than
# about the change ("13 vs 1" is not "+1,200%" worth of news): the difference alone is shown.
THIN = 10


def fmt_pct_change(pct: float) -> str:
    """ "+12%", "-4.3%", "+0.65%": as many decimals as the size of the change needs."""
    value = pct * 100
    if abs(value) >= 10:
        return f"{value:+,.0f}%"
    if abs(value) >= 1:
        return f"{value:+.1f}%"
    return f"{value:+.2f}%"


def fmt_change(c: Any, *, rate: bool = False) -> str:
    """ "+5 (+29%)", "+3" (a previous value too small for a percentage to mean much), "new"
    (was 0 or not reported), "±0", or "—" (nothing to compare).

    `c` is a services.reports.change.Change or its JSON dict (whose change_pct stays exact).
    Rates change in percentage points.
    """
    if _get(c, "new"):
        return "new"
    diff, pct = _get(c, "change"), _get(c, "change_pct")
    if diff is None:
        return NULL
    if diff == 0:
        return "±0"
    if rate:
        return f"{diff * 100:+.2f} pp"
    shown = f"{diff:+,}" if isinstance(diff, int) else f"{diff:+,.2f}"
    previous = _get(c, "previous")
    if pct is None or (isinstance(previous, (int, float)) and abs(previous) < THIN):
        return shown
    return f"{shown} ({fmt_pct_change(pct)})"


def fmt_vs(value: Any, c: Any, *, rate: bool = False) -> str:
    """ "26   +11 (+73.33%) vs 15"; just "—" when neither period reported it."""
    shown = fmt_pct(value) if rate else fmt(value)
    prev = _get(c, "previous")
    if value is None and prev is None:
        return shown
    return f"{shown}   {fmt_change(c, rate=rate)} vs {fmt_pct(prev) if rate else fmt(prev)}"


def direction(c: Any) -> str:
    """ "up", "down" or "" — for colouring, never the only cue (the sign is in the text)."""
    if _get(c, "new"):
        return "up"
    diff = _get(c, "change")
    return "" if not diff else ("up" if diff > 0 else "down")
