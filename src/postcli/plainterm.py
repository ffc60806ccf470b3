"""Report text written without rich.console: the bytes Rich's Console writes, for what reports print.

Importing rich.console costs a report command about a tenth of `postcli --help` (55 modules,
pickle and random among them), more than drawing its few lines does. What reports print is
simple: one-line texts in one of a few styles (output.line), a text in styled parts
(charts.bar_chart) and textgrid's tables. Term writes those as Console.print would for
postcli's consoles (output.console(): highlight and emoji off, soft wrap when piped): the same
terminal detection (TTY_COMPATIBLE, FORCE_COLOR, the stream's isatty), the same width (a forced
width, COLUMNS, the terminal size of stdin, stdout or stderr, else 80), SGR codes only for a
terminal, NO_COLOR dropping colours but not bold/dim/italic, and lines wrapped by Rich's own
divide_line. tests/test_plainterm.py holds every path to Console's bytes.

Term.detect answers None where Rich decides things Term does not copy (Windows consoles,
Jupyter, IDLE, a dumb terminal), and each writer answers False for what it does not draw (a
tab or line break in a text, a style it does not know, a table with no room): output.py then
prints through Rich as before.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any, Sequence

# The SGR parameters Rich's default theme gives each style postcli prints, and without colour
# (NO_COLOR). tests/test_plainterm.py compares them with rich.style.
_SGR = {
    "": "",
    "bold": "1",
    "dim": "2",
    "italic": "3",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "cyan": "36",
    "bold red": "1;31",
    "table.header": "1",
    "table.title": "3",
    "table.caption": "2;3",
}
_COLOURLESS = {**_SGR, "red": "", "green": "", "yellow": "", "cyan": "", "bold red": "1"}

_TRAILING_SPACE = re.compile(r"\s+$")

Part = tuple[str, "str | None"]  # a piece of text and its style name (None: unstyled)


def known_style(style: str | None) -> bool:
    return style is None or style in _SGR


class Term:
    """How Rich's Console would write to `stream`: whether it sends SGR codes, its width rule."""

    def __init__(self, stream: Any, *, forced_width: int | None, terminal: bool, soft_wrap: bool) -> None:
        self.stream = stream
        self.forced_width = forced_width
        self.sgr = terminal  # Rich's colour system is None exactly when the stream is no terminal
        self.codes = _COLOURLESS if os.environ.get("NO_COLOR", "") != "" else _SGR
        self.soft_wrap = soft_wrap
        self.ascii_only = not (getattr(stream, "encoding", None) or "utf-8").lower().startswith("utf")

    @classmethod
    def detect(cls, stream: Any, forced_width: int | None) -> Term | None:
        """Term for `stream`, or None where Rich's Console must decide (see the module's doc)."""
        if sys.platform == "win32" or "ipykernel" in sys.modules or "IPython" in sys.modules:
            return None
        if getattr(sys.stdin, "__module__", "").startswith("idlelib"):
            return None
        terminal = _is_terminal(stream)
        if terminal and os.environ.get("TERM", "").lower() in ("dumb", "unknown"):
            return None  # Rich draws 80x25 and no colour there; rare enough to leave to it
        return cls(stream, forced_width=forced_width, terminal=terminal, soft_wrap=not stream.isatty())

    @property
    def width(self) -> int:
        """Console.size's width, read at each print as Rich does."""
        if self.forced_width is not None:
            return self.forced_width
        columns = os.environ.get("COLUMNS")
        if columns is not None and columns.isdigit():
            return int(columns)
        width = 0
        for fd in (0, 1, 2):
            try:
                width = os.get_terminal_size(fd).columns
            except (AttributeError, ValueError, OSError):
                continue
            break
        return width or 80

    def styled(self, text: str, style: str | None) -> str:
        codes = self.codes[style] if style and self.sgr else ""
        return f"\x1b[{codes}m{text}\x1b[0m" if codes and text else text

    def write(self, lines: Sequence[Sequence[Part]], width: int) -> None:
        """Each line's parts, styled, then a newline; one write and a flush, as a Console.print.
        Unless soft-wrapped (piped), a line is cropped to the console's `width`, as Console.print crops."""
        if not self.soft_wrap:
            lines = [_crop(parts, width) for parts in lines]
        self.stream.write("".join("".join(self.styled(t, s) for t, s in parts) + "\n" for parts in lines))
        self.stream.flush()

    def line(self, parts: Sequence[Part]) -> bool:
        """Console.print(Text.assemble(*parts)), wrapped to the terminal as Rich wraps it: False when
        Rich must draw it (a tab or a line break inside, an unknown style, a wide character folded)."""
        if not all(plain_line(t) and known_style(s) for t, s in parts):
            return False
        width = self.width
        if self.soft_wrap:
            self.write([parts], width)
            return True
        from rich.cells import cell_len

        text = "".join(t for t, _ in parts)
        # As is when it fits, in cells and in characters: Rich strips trailing spaces beyond the
        # width counted in characters (Text.rstrip_end), which zero-width ones can pass alone.
        if cell_len(text) <= width and len(text) <= width:
            self.write([parts], width)
            return True
        lines = []
        for start, piece in _wrapped(text, width, justify="default", overflow="fold"):
            if text[start : start + len(piece)] != piece:
                return False  # a wide character folded (padded): leave the styles' split to Rich
            lines.append(_slice(parts, start, start + len(piece)))
        self.write(lines, width)
        return True


def _crop(parts: Sequence[Part], width: int) -> Sequence[Part]:
    """Segment.adjust_line_length(line, width, pad=False): a line wider than `width` cut at it."""
    from rich.cells import cell_len, set_cell_size

    if sum(cell_len(t) for t, _ in parts) <= width:
        return parts
    out: list[Part] = []
    used = 0
    for text, style in parts:
        if used + cell_len(text) < width:
            out.append((text, style))
            used += cell_len(text)
        else:
            out.append((set_cell_size(text, width - used), style))
            break
    return out


def plain_line(text: str) -> bool:
    """True when Rich lays `text` out as one line: no newline (Text.split), no line break Rich's
    measuring counts (str.splitlines: U+2028...), no tab (expanded to tab stops)."""
    return "\n" not in text and "\t" not in text and len(text.splitlines()) <= 1


def _is_terminal(stream: Any) -> bool:
    """Console.is_terminal without Jupyter and IDLE (Term.detect leaves those to Rich)."""
    compatible = os.environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    force = os.environ.get("FORCE_COLOR")
    if force is not None:
        return force != ""
    return bool(stream.isatty())


def wrap(text: str, width: int, *, justify: str, overflow: str, no_wrap: bool = False) -> list[str]:
    """rich's Text(text).wrap(console, width, justify=..., overflow=..., no_wrap=...) for one
    line of plain text (plain_line): the lines' text. The breaks are Rich's own
    (rich._wrap.divide_line); with no_wrap, one line cut at the width."""
    return [line for _, line in _wrapped(text, width, justify=justify, overflow=overflow, no_wrap=no_wrap)]


def _slice(parts: Sequence[Part], start: int, end: int) -> list[Part]:
    """The styled parts of the characters start..end of their joined text (Text.divide's spans)."""
    out: list[Part] = []
    at = 0
    for text, style in parts:
        a, b = max(start, at), min(end, at + len(text))
        if a < b:
            out.append((text[a - at : b - at], style))
        at += len(text)
    return out


def _wrapped(text: str, width: int, *, justify: str, overflow: str, no_wrap: bool = False) -> list[tuple[int, str]]:
    """wrap's lines, each with the offset in `text` it starts at."""
    from rich._wrap import divide_line
    from rich.cells import cell_len

    offsets = [] if no_wrap else divide_line(text, width, fold=overflow == "fold")
    bounds = [0, *offsets, len(text)]
    out = []
    for start, end in zip(bounds, bounds[1:]):
        line = text[start:end]
        if not no_wrap and len(line) > width:  # Text.rstrip_end: trailing spaces beyond the width (in characters)
            space = _TRAILING_SPACE.search(line)
            if space is not None:
                line = line[: len(line) - min(len(space.group()), len(line) - width)]
        if justify == "left":
            line = _truncate(line, width, overflow, pad=True)
        elif justify in ("center", "right"):
            line = _truncate(line.rstrip(), width, overflow)
            room = width - cell_len(line)
            if justify == "center":
                line = " " * (room // 2) + line
                line += " " * (width - cell_len(line))
            else:
                line = " " * room + line
        out.append((start, _truncate(line, width, overflow)))
    return out


def _truncate(text: str, width: int, overflow: str, *, pad: bool = False) -> str:
    """Text.truncate."""
    from rich.cells import cell_len, set_cell_size

    if overflow == "ignore":
        return text
    length = cell_len(text)
    if length > width:
        text = set_cell_size(text, width - 1) + "…" if overflow == "ellipsis" else set_cell_size(text, width)
    if pad and length < width:
        text += " " * (width - length)
    return text
