"""All rendering: Rich tables on a terminal, plain text when piped, JSON and CSV.

Services return plain data (dicts, dataclasses); commands hand it here. NULL
is shown as "—", never as 0.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import asdict, is_dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Iterable, Sequence
from zoneinfo import ZoneInfo

NULL = "—"

_console = None
_err_console = None


def console():  # type: ignore[no-untyped-def]
    global _console
    if _console is None:
        from rich.console import Console

        # Piped output gets no colour and no wrapping surprises.
        _console = Console(soft_wrap=not sys.stdout.isatty(), highlight=False)
    return _console


def err_console():  # type: ignore[no-untyped-def]
    global _err_console
    if _err_console is None:
        from rich.console import Console

        # Piped/logged errors stay one line each so scripts can grep them.
        _err_console = Console(stderr=True, highlight=False, soft_wrap=not sys.stderr.isatty())
    return _err_console


def reset_consoles() -> None:
    """CliRunner swaps sys.stdout per invocation; consoles must follow."""
    global _console, _err_console
    _console = None
    _err_console = None


# --- JSON / CSV ----------------------------------------------------------------


def _default(obj: Any) -> Any:
    if isinstance(obj, datetime):
        if obj.tzinfo is None:
            obj = obj.replace(tzinfo=timezone.utc)
        return obj.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(obj, date):
        return obj.isoformat()
    if isinstance(obj, Decimal):
        return float(obj)
    if is_dataclass(obj) and not isinstance(obj, type):
        return asdict(obj)
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    return str(obj)


def to_json(data: Any) -> str:
    return json.dumps(data, default=_default, ensure_ascii=False, indent=2)


def print_json(data: Any) -> None:
    sys.stdout.write(to_json(data) + "\n")
    sys.stdout.flush()


def print_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> None:
    columns = list(columns or (rows[0].keys() if rows else []))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else _csv_cell(row.get(c)) for c in columns])
    sys.stdout.write(buf.getvalue())
    sys.stdout.flush()


def _csv_cell(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return _default(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return value


# --- human formatting ----------------------------------------------------------


def fmt(value: Any) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def fmt_pct(value: float | None) -> str:
    return NULL if value is None else f"{value * 100:.2f}%"


def fmt_time(value: datetime | None, tz: str | None = None) -> str:
    if value is None:
        return NULL
    zone = ZoneInfo(tz) if tz else timezone.utc
    try:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    except OverflowError:  # a stored time near year 9999 has no local time east of UTC: show it in UTC
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def excerpt(text: str | None, width: int = 50) -> str:
    if not text:
        return ""
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= width else one_line[: width - 1] + "…"


def table(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str | None = None,
    numeric: Iterable[str] = (),
    caption: str | None = None,
) -> None:
    from rich import box
    from rich.table import Table

    numeric = set(numeric)
    t = Table(title=title, caption=caption, box=box.SIMPLE_HEAVY, title_justify="left")
    for col in columns:
        # A header is never folded mid-word when the terminal is narrow.
        t.add_column(col, justify="right" if col in numeric else "left", overflow="fold", min_width=min(len(col), 12))
    for row in rows:
        t.add_row(*[cell if isinstance(cell, str) else fmt(cell) for cell in row])
    console().print(t)


def kv(pairs: Iterable[tuple[str, Any]], *, title: str | None = None) -> None:
    from rich import box
    from rich.table import Table

    t = Table(title=title, box=box.SIMPLE, show_header=False, title_justify="left")
    t.add_column("key", style="bold")
    t.add_column("value", overflow="fold")
    for k, v in pairs:
        t.add_row(k, v if isinstance(v, str) else fmt(v))
    console().print(t)


def line(text: str = "", style: str | None = None) -> None:
    console().print(text, style=style, markup=False) if style else console().print(text, markup=False)


def markup(text: str) -> None:
    console().print(text)


def warn(text: str) -> None:
    err_console().print(f"[yellow]warning:[/yellow] {escape(text)}")


def error(message: str, hint: str | None = None) -> None:
    err_console().print(f"[bold red]error:[/bold red] {escape(message)}")
    if hint:
        err_console().print(f"[dim]hint:[/dim] {escape(hint)}")


def escape(text: str) -> str:
    from rich.markup import escape as _escape

    return _escape(text)


def bar_chart(points: Sequence[tuple[str, float | int | None]], *, width: int = 40, title: str | None = None) -> None:
    """A horizontal bar per label; None is drawn as an empty row marked "—"."""
    values = [v for _, v in points if v is not None]
    peak = max(values) if values else 0
    if title:
        console().print(title, style="bold", markup=False)
    label_w = max((len(lbl) for lbl, _ in points), default=0)
    for label, value in points:
        if value is None:
            console().print(f"{label.ljust(label_w)} {NULL}", markup=False)
            continue
        n = 0 if peak <= 0 else round(width * value / peak)
        bar = "█" * n
        console().print(f"{label.ljust(label_w)} [cyan]{bar}[/cyan] {fmt(value)}")


# --- report charts (appended for `postcli analytics`) ------------------------------

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
        console().print(title, style="bold", markup=False)
    label_w = max((len(lbl) for lbl in row_labels), default=0)
    header = " " * label_w + " " + "".join(lbl[:cell_width].rjust(cell_width) for lbl in col_labels)
    console().print(header, style="dim", markup=False)
    for label, row in zip(row_labels, cells):
        parts = []
        for v in row:
            if v is None:
                parts.append("·".rjust(cell_width))
            else:
                i = 0 if peak <= 0 else max(1 if v > 0 else 0, round(v / peak * (len(_SHADES) - 1)))
                parts.append(_SHADES[i] * cell_width)
        console().print(f"{label.ljust(label_w)} " + "".join(parts), markup=False)
    legend = "  ".join(f"{_SHADES[i]}{_SHADES[i]} ≤{fmt(peak * i / (len(_SHADES) - 1))}" for i in range(1, len(_SHADES)))
    console().print(f"{' ' * label_w} · no posts   {legend}", style="dim", markup=False)
