"""output.table and output.kv drawn as Rich draws them, without rich.table.

A rich Table measures and lays out every cell through Rich's renderer (a Padding and a Text
each, measured, wrapped and justified to the column) and its import brings fractions and
decimal: about a tenth of `postcli --help` for a report's few small tables, and most of a
168-row best-times. postcli's tables are simpler than what Table handles: cells of plain text,
padding (0, 1), a box, a title and caption, columns that never expand. Grid computes the
widths as Table._calculate_column_widths does (each column as wide as its widest cell or its
minimum; too wide for the console, the widest columns shrink first, as Rich's collapse does)
and yields the very segments Table yields (same justification, styles, box characters, title
and caption rendering; a cell wider than its column wrapped by Rich's own Text.wrap), so a
terminal and a pipe get the same bytes as before, at any width (tests/test_textgrid.py holds
Grid to Table). What Grid does not draw goes to a real rich Table: a multi-line or tab cell, a
cell given as rich Text, an empty column, a legacy Windows console, a console too narrow to
measure in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, Sequence

if TYPE_CHECKING:
    from rich.box import Box
    from rich.console import Console, ConsoleOptions
    from rich.segment import Segment
    from rich.text import Text

PAD = 1  # Rich's default cell padding (0, 1): one space each side


def plain_cell(text: str) -> bool:
    """True when Rich lays `text` out as one line: no newline (Text.split), no line break Rich's
    measuring counts (str.splitlines: U+2028...), no tab (expanded to tab stops)."""
    return "\n" not in text and "\t" not in text and len(text.splitlines()) <= 1


class Column:
    def __init__(
        self,
        header: str,
        *,
        right: bool = False,
        min_width: int | None = None,
        bold: bool = False,
        overflow: str = "fold",
    ):
        self.header = header
        self.right = right  # justify="right"
        self.min_width = min_width
        self.bold = bold  # the column's style (kv's keys)
        self.overflow = overflow  # how a word wider than the column is cut (rich's Column.overflow)


class Grid:
    """A table of one-line cells, drawn like rich.table.Table(box=box, title_justify="left")."""

    def __init__(
        self,
        columns: Sequence[Column],
        rows: Sequence[Sequence[str]],
        *,
        box: Box,
        show_header: bool = True,
        title: Text | None = None,
        caption: Text | None = None,
        fallback: Any = None,
    ) -> None:
        self.columns, self.rows, self.box, self.show_header = columns, rows, box, show_header
        self.title, self.caption = title, caption
        self.fallback = fallback  # builds the rich Table for what Grid does not draw

    def _lines(self) -> list[tuple[Sequence[str], bool]]:
        lines: list[tuple[Sequence[str], bool]] = [(row, False) for row in self.rows]
        if self.show_header:
            lines.insert(0, ([c.header for c in self.columns], True))
        return lines

    def _widths(self, room: int) -> list[int] | None:
        """Each column's width, padding included, as Table._calculate_column_widths gives it for a
        table that does not expand; None where Rich measures otherwise (no room, an empty column)."""
        from rich.cells import cell_len

        if room < 1 + 2 * PAD:
            return None
        lines = self._lines()
        natural = [
            max((cell_len(cells[i]) for cells, _ in lines), default=0) + 2 * PAD for i in range(len(self.columns))
        ]
        least = [(c.min_width or 0) + 2 * PAD for c in self.columns]
        widths = [max(min(n, room), m) for n, m in zip(natural, least)]
        if sum(widths) > room:
            widths = _collapse(widths, room)
            if sum(widths) > room:  # Rich's last resort: every column alike
                widths = _reduce(sum(widths) - room, [1] * len(widths), widths, widths)
            if min(widths) < 1:
                return None
            # Measured again within each width, and never below the column's minimum.
            widths = [max(min(n, w), m) for n, w, m in zip(natural, widths, least)]
        if min(widths) <= 2 * PAD:
            return None  # an empty column with no minimum: Rich draws it its own way
        return widths

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Any]:
        extra = len(self.columns) + 1  # the box's verticals between columns and its two edges
        widths = None if options.legacy_windows else self._widths(options.max_width - extra)
        if widths is None:
            yield self.fallback()
            return
        render_options = options.update(width=sum(widths) + extra, highlight=False, height=None)
        if self.title is not None:
            yield from console.render(self.title, render_options.update(justify="left"))
        yield from self._body(console, options, widths)
        if self.caption is not None:
            yield from console.render(self.caption, render_options.update(justify="center"))

    def _body(self, console: Console, options: ConsoleOptions, widths: list[int]) -> Iterator[Segment]:
        from rich.segment import Segment

        box = self.box.substitute(options, safe=console.safe_box)
        if not self.show_header:
            box = box.get_plain_headed_box()
        new_line = Segment.line()
        header_style = console.get_style("table.header")
        bold = console.get_style("bold")
        edges = [
            (box.head_left, box.head_right, box.head_vertical),
            (box.mid_left, box.mid_right, box.mid_vertical),
            (box.foot_left, box.foot_right, box.foot_vertical),
        ]
        yield Segment(box.get_top(widths))
        yield new_line
        lines = self._lines()
        pad = " " * PAD
        for index, (cells, header) in enumerate(lines):
            first, last = index == 0, index == len(lines) - 1
            left, right, divider = edges[0 if first else (2 if last else 1)]
            wrapped = [
                _wrap(console, text, width - 2 * PAD, col) for text, width, col in zip(cells, widths, self.columns)
            ]
            height = max(len(w) for w in wrapped)
            for line_no in range(height):
                yield Segment(left)
                for i, (parts, width, col) in enumerate(zip(wrapped, widths, self.columns)):
                    style = header_style if header else (bold if col.bold else None)
                    # A header sits at the bottom of its row, a cell at the top; blank lines fill the rest.
                    at = line_no - (height - len(parts)) if header else line_no
                    if 0 <= at < len(parts):
                        yield Segment(pad, style)
                        yield Segment(parts[at], style)
                        yield Segment(pad, style)
                    else:
                        yield Segment(" " * width, style)
                    if i < len(widths) - 1:
                        yield Segment(divider)
                yield Segment(right)
                yield new_line
            if header:
                yield Segment(box.get_row(widths, "head", edge=True))
                yield new_line
        yield Segment(box.get_bottom(widths))
        yield new_line


def _wrap(console: Console, text: str, width: int, col: Column) -> list[str]:
    """The cell's lines, justified to `width`: as rich.text's justify when it fits (left pads on the
    right; right strips trailing spaces first), else Rich's own wrapping of the cell."""
    from rich.cells import cell_len

    if cell_len(text) <= width:
        if col.right:
            text = text.rstrip()
            return [" " * (width - cell_len(text)) + text]
        return [text + " " * (width - cell_len(text))]
    from rich.text import Text

    justify = "right" if col.right else "left"
    return [line.plain for line in Text(text).wrap(console, width, justify=justify, overflow=col.overflow)]  # type: ignore[arg-type]


def _collapse(widths: list[int], room: int) -> list[int]:
    """Table._collapse_widths with every column wrappable: the widest ones shrink first."""
    excess = sum(widths) - room
    while excess > 0:
        widest = max(widths)
        second = max((w for w in widths if w != widest), default=0)
        if not widest - second:
            break
        ratios = [1 if w == widest else 0 for w in widths]
        widths = _reduce(excess, ratios, [min(excess, widest - second)] * len(widths), widths)
        excess = sum(widths) - room
    return widths


def _reduce(total: int, ratios: list[int], maximums: list[int], values: list[int]) -> list[int]:
    """rich._ratio.ratio_reduce (its module imports fractions, and with it decimal)."""
    ratios = [ratio if most else 0 for ratio, most in zip(ratios, maximums)]
    left, remaining = sum(ratios), total
    result = []
    for ratio, most, value in zip(ratios, maximums, values):
        if ratio and left > 0:
            share = min(most, round(ratio * remaining / left))
            result.append(value - share)
            remaining -= share
            left -= ratio
        else:
            result.append(value)
    return result
