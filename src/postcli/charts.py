"""Report charts drawn as text: a bar per label, a sparkline, a shaded weekday x hour grid.
Their lines go through output (plainterm where it can, else Rich), printed literally."""

from __future__ import annotations

import math
from typing import Sequence

from postcli import output


def bar_chart(points: Sequence[tuple[str, float | int | None]], *, width: int = 40, title: str | None = None) -> None:
    """A horizontal bar per label; None is drawn as an empty row marked "—"."""
    values = [v for _, v in points if v is not None]
    peak = max(values) if values else 0
    if title:
        output.line(title, style="bold")
    label_w = max((len(lbl) for lbl, _ in points), default=0)
    for label, value in points:
        if value is None:
            output.line(f"{label.ljust(label_w)} {output.NULL}")
            continue
        n = 0 if peak <= 0 else round(width * value / peak)
        bar = "█" * n
        writer = output.term()
        if writer is None or not writer.line(
            [(output.clean(label.ljust(label_w)), None), (" ", None), (bar, "cyan"), (f" {output.fmt(value)}", None)]
        ):
            from rich.text import Text

            output.console().print(
                Text.assemble(output.literal(label.ljust(label_w)), " ", (bar, "cyan"), f" {output.fmt(value)}")
            )


_SPARKS = "▁▂▃▄▅▆▇█"
_SHADES = " ░▒▓█"


def sparkline(values: Sequence[float | int | None]) -> str:
    """One character per value, scaled min..max; None is a gap (a space), not a zero."""
    known = [v for v in values if v is not None]
    if not known:
        return ""
    lo, hi = min(known), max(known)
    span = hi - lo
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        else:
            out.append(_SPARKS[0 if span == 0 else round((v - lo) / span * (len(_SPARKS) - 1))])
    return "".join(out)


def heat_grid(
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    cells: Sequence[Sequence[float | None]],
    *,
    title: str | None = None,
    cell_width: int = 2,
) -> None:
    """A shaded grid (e.g. weekday x hour); a cell's shade is its value over the grid's peak.

    A cell with no value stays blank; the legend gives the peak so shades can be read.
    """
    peak = max((v for row in cells for v in row if v is not None), default=0)
    if title:
        output.line(title, style="bold")
    label_w = max((len(lbl) for lbl in row_labels), default=0)
    header = " " * label_w + " " + "".join(lbl[:cell_width].rjust(cell_width) for lbl in col_labels)
    output.line(header, style="dim")
    for label, row in zip(row_labels, cells):
        parts = []
        for v in row:
            if v is None:
                parts.append("·".rjust(cell_width))
            else:
                i = 0 if peak <= 0 else max(1 if v > 0 else 0, round(v / peak * (len(_SHADES) - 1)))
                parts.append(_SHADES[i] * cell_width)
        output.line(f"{label.ljust(label_w)} " + "".join(parts))
    # The cells are means of counts: thresholds read as whole numbers (rounded up, so the top
    # shade's bound is never below the peak).
    legend = "  ".join(
        f"{_SHADES[i]}{_SHADES[i]} ≤{output.fmt(math.ceil(peak * i / (len(_SHADES) - 1)))}"
        for i in range(1, len(_SHADES))
    )
    output.line(f"{' ' * label_w} · no posts   {legend}", style="dim")
