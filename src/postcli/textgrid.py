"""output.table and output.kv drawn as Rich draws them, without rich.table.

A rich Table measures and lays out every cell through Rich's renderer (a Padding and a Text
each, measured, wrapped and justified to the column) and its import brings fractions and
decimal: about a tenth of `postcli --help` for a report's few small tables, and most of a
168-row best-times. postcli's tables are simpler than what Table handles: cells of plain text,
padding (0, 1), a box, a title and caption, columns that never expand. Grid computes the
widths as Table._calculate_column_widths does (each column as wide as its widest cell or its
minimum; too wide for the console, the widest columns shrink first, as Rich's collapse does)
and the very lines Table draws (same justification, styles, box characters, title and caption
rendering; a cell wider than its column wrapped where Rich's Text.wrap breaks it, by
plainterm.wrap). It draws them for a Console (__rich_console__) or, without importing
rich.console, through plainterm (draw), so a terminal and a pipe get the same bytes as before,
at any width (tests/test_textgrid.py holds Grid to Table, tests/test_plainterm.py draw to
Console). What Grid does not draw goes to a real rich Table: a multi-line or tab cell, a cell
given as rich Text, an empty column, a legacy Windows console, a console too narrow to measure
in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, Sequence

from postcli.plainterm import Part, Term, plain_line, wrap

if TYPE_CHECKING:
    from rich.box import Box
    from rich.console import Console, ConsoleOptions

PAD = 1  # Rich's default cell padding (0, 1): one space each side

# Rich lays a cell out as one line exactly when plainterm does a text (no newline, tab or U+2028...).
plain_cell = plain_line


class Column:
    def __init__(
        self,
        header: str,
        *,
        right: bool = False,
        min_width: int | None = None,
        bold: bool = False,
        overflow: str = "fold",
        no_wrap: bool = False,
    ):
        self.header = header
        self.right = right  # justify="right"
        self.min_width = min_width
        self.bold = bold  # the column's style (kv's keys)
        self.overflow = overflow  # how a word wider than the column is cut (rich's Column.overflow)
        self.no_wrap = no_wrap  # a cell is one line, cut at the width; the others shrink first


class Grid:
    """A table of one-line cells, drawn like rich.table.Table(box=box, title_justify="left")."""

    def __init__(
        self,
        columns: Sequence[Column],
        rows: Sequence[Sequence[str]],
        *,
        box: Box,
        show_header: bool = True,
        title: str | None = None,
        caption: str | None = None,
        fallback: Any = None,
    ) -> None:
        self.columns, self.rows, self.box, self.show_header = columns, rows, box, show_header
        self.title, self.caption = title, caption  # cleaned text (output.clean), styled table.title/caption
        self.fallback = fallback  # builds the rich Table for what Grid does not draw

    def _lines(self) -> list[tuple[Sequence[str], bool]]:
        lines: list[tuple[Sequence[str], bool]] = [(row, False) for row in self.rows]
        if self.show_header:
            lines.insert(0, ([c.header for c in self.columns], True))
        return lines

    def _widths(self, room: int) -> list[int] | None:
        """Each column's width, padding included, as Table._calculate_column_widths gives it for a
        table that does not expand; None where Rich measures otherwise (no room, an empty column)."""
        return _layout(self.columns, _natural([cells for cells, _ in self._lines()], len(self.columns)), room)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Any]:
        from rich.segment import Segment

        extra = len(self.columns) + 1  # the box's verticals between columns and its two edges
        widths = None if options.legacy_windows else self._widths(options.max_width - extra)
        if widths is None:
            yield self.fallback()
            return
        from rich.text import Text

        render_options = options.update(width=sum(widths) + extra, highlight=False, height=None)
        if self.title is not None:
            yield from console.render(Text(self.title, style="table.title"), render_options.update(justify="left"))
        box = self.box.substitute(options, safe=console.safe_box)
        styles = {name: console.get_style(name) for name in ("table.header", "bold")}
        new_line = Segment.line()
        for parts in self._body(box, widths):
            for text, style in parts:
                yield Segment(text, None if style is None else styles[style])
            yield new_line
        if self.caption is not None:
            caption = Text(self.caption, style="table.caption")
            yield from console.render(caption, render_options.update(justify="center"))

    def draw(self, term: Term) -> bool:
        """Write the table through `term` (plainterm: no rich.console), as __rich_console__ draws it
        for a Console.print; False when Rich must draw it (no room, an empty column)."""
        extra = len(self.columns) + 1
        room = term.width
        widths = self._widths(room - extra)
        if widths is None:
            return False
        box = self.box
        if term.ascii_only and not box.ascii:  # Box.substitute, which a non-UTF encoding needs
            from rich.box import ASCII

            box = ASCII
        lines = []
        if self.title is not None:
            lines += _caption(term, self.title, sum(widths) + extra, "left", "table.title")
        lines += self._body(box, widths)
        if self.caption is not None:
            lines += _caption(term, self.caption, sum(widths) + extra, "center", "table.caption")
        term.write(lines, room)
        return True

    def _body(self, box: Box, widths: list[int]) -> list[list[Part]]:
        """The box and the cells, line by line: text and style name (table.header, bold or None)."""
        if not self.show_header:
            box = box.get_plain_headed_box()
        edges = [
            (box.head_left, box.head_right, box.head_vertical),
            (box.mid_left, box.mid_right, box.mid_vertical),
            (box.foot_left, box.foot_right, box.foot_vertical),
        ]
        out: list[list[Part]] = [[(box.get_top(widths), None)]]
        lines = self._lines()
        pad = " " * PAD
        for index, (cells, header) in enumerate(lines):
            first, last = index == 0, index == len(lines) - 1
            left, right, divider = edges[0 if first else (2 if last else 1)]
            wrapped = [_wrap(text, width - 2 * PAD, col) for text, width, col in zip(cells, widths, self.columns)]
            height = max(len(w) for w in wrapped)
            for line_no in range(height):
                parts: list[Part] = [(left, None)]
                for i, (texts, width, col) in enumerate(zip(wrapped, widths, self.columns)):
                    style = "table.header" if header else ("bold" if col.bold else None)
                    # A header sits at the bottom of its row, a cell at the top; blank lines fill the rest.
                    at = line_no - (height - len(texts)) if header else line_no
                    if 0 <= at < len(texts):
                        parts += [(pad, style), (texts[at], style), (pad, style)]
                    else:
                        parts.append((" " * width, style))
                    if i < len(widths) - 1:
                        parts.append((divider, None))
                parts.append((right, None))
                out.append(parts)
            if header:
                out.append([(box.get_row(widths, "head", edge=True), None)])
        out.append([(box.get_bottom(widths), None)])
        return out


def _caption(term: Term, text: str, width: int, justify: str, style: str) -> list[list[Part]]:
    """A title or caption as Console.render(Text) gives it within the table's width: as is when
    soft-wrapped (piped), else wrapped and justified to that width."""
    if term.soft_wrap:
        return [[(text, style)]]
    return [[(line, style)] for line in wrap(text, width, justify=justify, overflow="fold")]


def _wrap(text: str, width: int, col: Column) -> list[str]:
    """The cell's lines, justified to `width`: as rich.text's justify when it fits (left pads on the
    right; right strips trailing spaces first), else wrapped as Rich wraps the cell."""
    from rich.cells import cell_len

    if cell_len(text) <= width:
        if col.right:
            text = text.rstrip()
            return [" " * (width - cell_len(text)) + text]
        return [text + " " * (width - cell_len(text))]
    return wrap(text, width, justify="right" if col.right else "left", overflow=col.overflow, no_wrap=col.no_wrap)


def _natural(lines: Sequence[Sequence[str]], columns: int) -> list[int]:
    """Each column's widest line, padding included."""
    from rich.cells import cell_len

    return [max((cell_len(cells[i]) for cells in lines), default=0) + 2 * PAD for i in range(columns)]


def _layout(columns: Sequence[Column], natural: list[int], room: int) -> list[int] | None:
    if room < 1 + 2 * PAD:
        return None
    least = [(c.min_width or 0) + 2 * PAD for c in columns]
    widths = [max(min(n, room), m) for n, m in zip(natural, least)]
    if sum(widths) > room:
        widths = _collapse(widths, room, [not c.no_wrap for c in columns])
        if sum(widths) > room:  # Rich's last resort: every column alike
            widths = _reduce(sum(widths) - room, [1] * len(widths), widths, widths)
        if min(widths) < 1:
            return None
        # Measured again within each width, and never below the column's minimum.
        widths = [max(min(n, w), m) for n, w, m in zip(natural, widths, least)]
    if min(widths) <= 2 * PAD:
        return None  # an empty column with no minimum: Rich draws it its own way
    return widths


def fit(columns: Sequence[Column], lines: Sequence[Sequence[str]], width: int) -> None:
    """Where lines wider than `width` are cut off (a terminal), lower the columns' minimums until
    the table fits, the largest first and the first column's last: a header or a label then folds,
    as Rich folds a cell, rather than the last columns vanishing past the edge (`analytics
    overview` on 80 columns lost its shares, `analytics post` its engagement). `lines`: the header
    and each row, as text; a table that fits is left as it is."""
    n = len(columns)
    room = width - n - 1
    natural = _natural([[max(c.splitlines() or [""], key=len) for c in [*cells, *[""] * n][:n]] for cells in lines], n)
    while True:
        widths = _layout(columns, natural, room)
        if widths is None or sum(widths) <= room:
            return
        least = [c.min_width or 0 for c in columns]
        rest = max(least[1:], default=0)
        i = least.index(rest, 1) if rest else 0
        if not least[i]:
            return
        columns[i].min_width = least[i] - 1


def _collapse(widths: list[int], room: int, wraps: list[bool]) -> list[int]:
    """Table._collapse_widths: the widest of the columns that wrap shrink first."""
    excess = sum(widths) - room
    while excess > 0 and any(wraps):
        widest = max(w for w, can in zip(widths, wraps) if can)
        second = max((w for w, can in zip(widths, wraps) if can and w != widest), default=0)
        if not widest - second:
            break
        ratios = [1 if can and w == widest else 0 for w, can in zip(widths, wraps)]
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
