"""All rendering: Rich tables on a terminal, plain text when piped, JSON and CSV.

What reports print (line, table, kv; postcli/charts.py's charts) is written by postcli/plainterm.py
with the bytes Rich's Console would write, without importing it (a tenth of a report's start-up);
what plainterm does not draw goes through the Rich console as before.

Services return plain data (dicts, dataclasses); commands hand it here. NULL
is shown as "—", never as 0.

Text is data, never markup: every table cell, title, caption and message goes
through `literal()`, which builds a rich Text (so "[b]" prints as "[b]") from
`clean()`ed text (so ESC, BEL, NUL and friends show as visible symbols instead
of reaching the terminal). See docs/output.md.
"""

from __future__ import annotations

import io
import re
import sys
from contextlib import AbstractContextManager
from dataclasses import asdict, is_dataclass
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any, Iterable, Literal, Sequence
from zoneinfo import ZoneInfo

from postcli import live
from postcli.streams import ERR, OUT, is_utf, stderr_usable, width_for

if TYPE_CHECKING:
    from rich.console import Console

    from postcli.plainterm import Term

NULL = "—"

# What a terminal would act on instead of showing: C0 controls (but tab and newline),
# DEL, C1 controls (U+009B is a CSI on many terminals), the bidi embeddings, overrides
# and isolates that reorder what a reader sees, and lone surrogates (undecodable bytes
# from argv or a platform) that cannot be written as UTF-8 at all.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _is_decimal(value: Any) -> bool:
    # No Decimal exists unless something imported decimal (PostgreSQL's NUMERIC sums): checking
    # sys.modules spares every command importing it (start-up as light as `postcli --help`).
    dec = sys.modules.get("decimal")
    return dec is not None and isinstance(value, dec.Decimal)


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # the Unicode "control picture": ␛ for ESC, ␀ for NUL, ␇ for BEL
    if code == 0x7F:
        return "\u2421"  # ␡
    if 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    return f"<U+{code:04X}>"


def clean(text: str) -> str:
    """`text` with everything a terminal would interpret made visible; newlines and tabs kept."""
    return _UNSAFE.sub(_visible, text.replace("\r\n", "\n"))


def literal(value: Any, style: str = "") -> Any:
    """A rich Text that prints `value` exactly as written (no markup, no emoji codes), cleaned.

    A Text passed in is returned as is: it was built on purpose (e.g. by this module).
    """
    from rich.text import Text

    if isinstance(value, Text):
        return value
    return Text(clean(value if isinstance(value, str) else fmt(value)), style=style)


def _rich_text(value: Any) -> bool:
    """Whether `value` is a rich Text (there is none unless rich.text was imported)."""
    mod = sys.modules.get("rich.text")
    return mod is not None and isinstance(value, mod.Text)


_console: Console | None = None
_err_console: Console | None = None
_term: Term | Literal[False] | None = None  # False: Rich writes to OUT (plainterm.Term.detect); None: not looked at yet


def term() -> Term | None:
    """plainterm's writer for standard output, or None where only Rich's Console will do."""
    global _term
    if _term is None:
        from postcli.plainterm import Term

        _term = Term.detect(OUT, width_for(OUT)) or False
    return _term or None


def console() -> Console:
    global _console
    if _console is None:
        from rich.console import Console

        # Piped output gets no colour and no wrapping surprises.
        _console = Console(
            file=OUT,  # type: ignore[arg-type]
            soft_wrap=not OUT.isatty(),
            highlight=False,
            emoji=False,
            width=width_for(OUT),
        )
    return _console


def err_console() -> Console:
    global _err_console
    if _err_console is None:
        from rich.console import Console

        # Piped/logged errors stay one line each so scripts can grep them.
        _err_console = Console(
            file=ERR,  # type: ignore[arg-type]
            highlight=False,
            emoji=False,
            soft_wrap=not ERR.isatty(),
            width=width_for(ERR),
        )
    return _err_console


class StatusBar(live.Bar):
    """A transient progress bar on stderr, started at once: only on a terminal and only when
    `show` (never under --json). `shown` is False when there is none; then update/stop do nothing."""

    def __init__(self, label: str, *, show: bool) -> None:
        super().__init__(label, err_console() if show and ERR.isatty() else None)


def spinner(label: str) -> AbstractContextManager[None]:
    """A transient spinner on stderr while the block runs (nothing when stderr is not a terminal)."""
    return live.spinner(err_console(), label)


def reset_consoles() -> None:
    """CliRunner swaps sys.stdout per invocation; consoles must follow."""
    global _console, _err_console, _term
    _console = None
    _err_console = None
    _term = None
    ERR.lost = False


# --- JSON / CSV ----------------------------------------------------------------


def _default(obj: Any) -> Any:
    if isinstance(obj, datetime):
        if obj.tzinfo is None:
            obj = obj.replace(tzinfo=timezone.utc)
        return obj.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(obj, date):
        return obj.isoformat()
    if _is_decimal(obj):
        return float(obj)
    if is_dataclass(obj) and not isinstance(obj, type):
        return asdict(obj)
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    return str(obj)


# json.dumps escapes C0 controls but writes DEL, C1 controls and bidi overrides raw;
# these only ever occur inside JSON strings, where their \\u escape means the same.
# Each pattern is compiled when first used (~0.3 ms each, of every command's start-up otherwise).
_JSON_UNSAFE = "[\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"


def to_json(data: Any, *, ascii_only: bool = False) -> str:
    """`ascii_only`: every non-ASCII character as its \\u escape (for an output encoding that is not UTF-8)."""
    import json  # here: text output has no use for it (start-up as light as `postcli --help`)

    text = json.dumps(data, default=_default, ensure_ascii=ascii_only, indent=2)
    return re.sub(_JSON_UNSAFE, lambda m: f"\\u{ord(m.group()):04x}", text)


def print_json(data: Any) -> None:
    # Through an encoding that is not UTF-8, JSON's own escapes carry every character losslessly.
    OUT.write(to_json(data, ascii_only=not is_utf(OUT)) + "\n")
    OUT.flush()


def print_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> None:
    columns = list(columns or (rows[0].keys() if rows else []))
    buf = io.StringIO()
    import csv

    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else _csv_cell(row.get(c)) for c in columns])
    OUT.write(buf.getvalue())
    OUT.flush()


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV
# Injection"): text cells that do get a leading apostrophe, which spreadsheets show as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Controls in CSV text are made visible like on a terminal (CSV is often just `cat`-ed);
# tab, CR and newline are kept: the csv module quotes them.
_CSV_UNSAFE = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"


def _csv_cell(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return _default(value)
    if isinstance(value, int) or _is_decimal(value):  # bool too
        return value
    if isinstance(value, float):
        return f"{value:.6g}"
    return csv_text(str(value))


def csv_text(text: str) -> str:
    """A text cell as it goes into CSV: controls made visible, formula starts neutralised."""
    text = re.sub(_CSV_UNSAFE, _visible, text)  # re's cache: compiled once per process
    return "'" + text if text.startswith(_FORMULA_START) else text


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

    from postcli.textgrid import Column, Grid, fit

    numeric = set(numeric)
    rows = [list(row) for row in rows]
    cols = []
    for i, col in enumerate(columns):
        # A header is never folded mid-word when the terminal is narrow, nor a short row label
        # (a platform or handle name of up to 16 characters) in the first column.
        width = min(len(col), 12)
        if i == 0:
            width = max(width, min(16, max((len(str(r[0])) for r in rows if r), default=0)))
        cols.append(Column(clean(col), right=col in numeric, min_width=width))

    def rich_table() -> Any:
        from rich.table import Table

        t = Table(
            title=_title(title), caption=_title(caption, "table.caption"), box=box.SIMPLE_HEAVY, title_justify="left"
        )
        for c in cols:
            t.add_column(
                literal(c.header), justify="right" if c.right else "left", overflow="fold", min_width=c.min_width
            )
        for row in rows:
            t.add_row(*[literal(cell) for cell in row])
        return t

    if (cut := _crop_width()) is not None:  # a terminal cuts lines off: minimums give way
        fit(cols, [[c.header for c in cols], *([_plain(cell) for cell in row] for row in rows)], cut)
    grid = _grid_cells(rows, [c.header for c in cols], len(cols))
    if grid is None:
        console().print(rich_table())
        return
    _print_grid(Grid(cols, grid, box=box.SIMPLE_HEAVY, title=_opt(title), caption=_opt(caption), fallback=rich_table))


def _crop_width() -> int | None:
    """The width at which standard output's lines are cut off (a terminal); None when piped (soft wrap)."""
    cut = term() or console()
    return None if cut.soft_wrap else cut.width


def _plain(cell: Any) -> str:
    return str(cell.plain) if _rich_text(cell) else clean(cell if isinstance(cell, str) else fmt(cell))


def _print_grid(grid: Any) -> None:
    writer = term()
    if writer is None or not grid.draw(writer):
        console().print(grid)


def _opt(text: str | None) -> str | None:
    return None if text is None else clean(text)


def _grid_cells(rows: Sequence[Sequence[Any]], headers: Sequence[str], columns: int) -> list[list[str]] | None:
    """The rows as the cleaned text a Grid draws; None when a cell or header needs Rich's own
    table (given as rich Text, or more than one line: textgrid.plain_cell), or a row has not one
    cell per column (Rich adds columns or blank cells)."""
    from postcli.textgrid import plain_cell

    if not all(plain_cell(h) for h in headers):
        return None
    cells = []
    for row in rows:
        if len(row) != columns:
            return None
        texts = []
        for cell in row:
            if _rich_text(cell):
                return None  # built on purpose (e.g. styled): Rich draws it
            text = _plain(cell)
            if not plain_cell(text):
                return None
            texts.append(text)
        cells.append(texts)
    return cells


def _title(text: str | None, style: str = "table.title") -> Any:
    # A str title would be read as markup; a Text one keeps the table's usual look.
    return None if text is None else literal(text, style)


KV_VALUE_ROOM = 8  # the columns a value keeps beside keys kept whole (output.kv)


def kv(pairs: Iterable[tuple[str, Any]], *, title: str | None = None) -> None:
    from rich import box
    from rich.cells import cell_len

    from postcli.textgrid import Column, Grid

    pairs = list(pairs)
    # The keys stay whole (and the values fold) where that leaves the values room; shrunk alike,
    # db status's `account_metric_snapshots` read `account_metric_…` on 40 columns. Where it
    # does not, both shrink as before: a key kept whole would squeeze the values to nothing.
    longest = max((cell_len(_plain(k)) for k, _ in pairs), default=0)
    whole = longest + KV_VALUE_ROOM + 7 <= (term() or console()).width  # 7: padding and the box's three columns
    key = Column("key", bold=True, overflow="ellipsis", no_wrap=whole)
    cols = [key, Column("value")]

    def rich_table() -> Any:
        from rich.table import Table

        t = Table(title=_title(title), box=box.SIMPLE, show_header=False, title_justify="left")
        t.add_column("key", style="bold", overflow="ellipsis", no_wrap=key.no_wrap)
        t.add_column("value", overflow="fold")
        for k, v in pairs:
            t.add_row(literal(k), literal(v))
        return t

    grid = _grid_cells([list(p) for p in pairs], [], 2)
    if grid is None:
        console().print(rich_table())
        return
    _print_grid(Grid(cols, grid, box=box.SIMPLE, show_header=False, title=_opt(title), fallback=rich_table))


def line(text: Any = "", style: str | None = None, *, err: bool = False, soft_wrap: bool | None = None) -> None:
    """One message, printed literally (see literal()); `err` sends it to stderr."""
    if not err and soft_wrap is None and not _rich_text(text):
        writer = term()
        if writer is not None and writer.line([(_plain(text), style)]):
            return
    (err_console() if err else console()).print(literal(text, style or ""), soft_wrap=soft_wrap)


def markup(text: str) -> None:
    """Rich markup for text written in this code base only: never pass it user or platform text."""
    console().print(text)


def warn(text: str) -> None:
    from rich.text import Text

    err_console().print(Text.assemble(("warning:", "yellow"), " ", literal(text)))


def error(message: str, hint: str | None = None) -> bool:
    """The error and its hint on stderr; False when they could not be written there."""
    from rich.text import Text

    err_console().print(Text.assemble(("error:", "bold red"), " ", literal(message)))
    if hint:
        err_console().print(Text.assemble(("hint:", "dim"), " ", literal(hint)))
    return stderr_usable()


def escape(text: str) -> str:
    """`text` made safe to embed in markup() (brackets escaped, controls made visible)."""
    from rich.markup import escape as _escape

    return _escape(clean(text))
