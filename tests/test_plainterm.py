"""Report text without rich.console (postcli/plainterm.py): the bytes Rich's Console writes.

Every output function plainterm draws for (line, bar_chart, heat_grid, table, kv) runs twice on
the real standard output: through plainterm, and forced through Rich's Console as before. The
two must be byte-identical on a terminal and piped, at any width, under NO_COLOR, FORCE_COLOR,
TTY_COMPATIBLE and a non-UTF encoding. Whole reports are compared the same way on a real
pseudo-terminal, and must not load rich.console at all.
"""

from __future__ import annotations

import io
import os
import re
import sys
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rich.color import ColorSystem
from rich.console import Console

from postcli import charts, output, plainterm
from support import builders
from support.layout import PIECES
from support.terminal import run_on_terminal

_ENV_KEYS = ("COLUMNS", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TERM", "COLORTERM")


class _Stream(io.StringIO):
    """Standard output as a terminal or a pipe, in an encoding; no file descriptor (so the width
    is COLUMNS, or the test process's own terminal for both paths alike)."""

    def __init__(self, tty: bool, encoding: str) -> None:
        super().__init__()
        self._tty, self._encoding = tty, encoding

    def isatty(self) -> bool:
        return self._tty

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding

    def fileno(self) -> int:
        raise io.UnsupportedOperation("no file descriptor")


class _NoRich:
    """Stands in for the Rich console in the plainterm run: what reaches it fell back to Rich."""

    def __init__(self, real: Console) -> None:
        self.real, self.used = real, False

    def print(self, *args, **kwargs):
        self.used = True
        return self.real.print(*args, **kwargs)


def _both(
    draw, monkeypatch, *, tty: bool, env: dict[str, str], encoding: str = "utf-8", width: int | None = None
) -> tuple[str, str, bool]:
    """(plainterm's bytes, Rich's bytes, whether the plainterm run fell back to Rich).

    `width` is forced on both (as streams.width_for forces one for a COLUMNS nothing fits in),
    since COLUMNS below 40 is not taken as is."""
    outs = []
    fell_back = False
    for rich in (False, True):
        stream = _Stream(tty, encoding)
        with monkeypatch.context() as m:
            for key in _ENV_KEYS:
                m.delenv(key, raising=False)
            for key, value in env.items():
                m.setenv(key, value)
            m.setattr(sys, "stdout", stream)
            if width is not None:
                m.setattr(output, "width_for", lambda _stream: width)
            output.reset_consoles()
            if rich:
                m.setattr(output, "_term", False)
                draw()
            else:
                spy = _NoRich(output.console())
                m.setattr(output, "_console", spy)
                draw()
                fell_back = spy.used
        output.reset_consoles()
        outs.append(stream.getvalue())
    return outs[0], outs[1], fell_back


_ENVS = st.sampled_from(
    [{}, {"NO_COLOR": "1"}, {"FORCE_COLOR": "1"}, {"FORCE_COLOR": ""}, {"TTY_COMPATIBLE": "0"}, {"TTY_COMPATIBLE": "1"}]
)
_TEXT = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)
_STYLE = st.sampled_from([None, "", "bold", "dim", "red", "green", "yellow", "cyan", "bold red"])


@pytest.mark.parametrize("system", [ColorSystem.STANDARD, ColorSystem.EIGHT_BIT, ColorSystem.TRUECOLOR])
@pytest.mark.parametrize("no_color", [False, True])
def test_each_style_has_richs_codes(monkeypatch, system, no_color):
    console = Console(file=io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1" if no_color else "")
    term = plainterm.Term(io.StringIO(), forced_width=80, terminal=True, soft_wrap=False)
    for name in plainterm._SGR:
        style = console.get_style(name or "none")
        if no_color:
            style = style.without_color
        assert term.styled("x y", name) == style.render("x y", color_system=system), name


@settings(max_examples=200)
@given(text=_TEXT, style=_STYLE, width=st.integers(1, 120), tty=st.booleans(), env=_ENVS)
@example(text="漢字", style=None, width=1, tty=True, env={})  # each character wider than a line
@example(text="ab\u200b ", style=None, width=3, tty=True, env={})  # fits in cells, not in characters
def test_a_line_is_richs(monkeypatch, text, style, width, tty, env):
    mine, rich, fell_back = _both(lambda: output.line(text, style=style), monkeypatch, tty=tty, env=env, width=width)
    assert mine == rich
    # Rich draws it only where a wide character cannot fit a line at all (1 column on a terminal:
    # Rich pads what it cuts, and plainterm leaves the styles' split to it).
    assert not fell_back or (width == 1 and tty)


@settings(max_examples=100)
@given(
    points=st.lists(st.tuples(_TEXT, st.none() | st.integers(0, 10**6)), max_size=5),
    width=st.integers(1, 120),
    tty=st.booleans(),
    env=_ENVS,
)
# Fits in cells, not in characters: Rich strips the trailing space beyond the width (found by Hypothesis).
@example(points=[("aaaa\u200b", None)], width=11, tty=True, env={})
def test_a_bar_chart_and_a_heat_grid_are_richs(monkeypatch, points, width, tty, env):
    def draw() -> None:
        charts.bar_chart(points, width=10, title="Engagement by platform")
        labels = [label[:5] for label, _ in points]
        charts.heat_grid(labels, ["00", "01", "02"], [[v, None, 0] for _, v in points], title="Heatmap")

    mine, rich, _ = _both(draw, monkeypatch, tty=tty, env=env, width=width)
    assert mine == rich


_CELL = st.one_of(_TEXT, st.integers(-(10**7), 10**7), st.floats(allow_nan=False, width=32), st.none())


@settings(max_examples=150)
@given(
    names=st.lists(st.sampled_from(["rank", "slot", "Δ posts", "漢", "mean engagement"]), min_size=1, max_size=6),
    rows=st.lists(st.lists(_CELL, min_size=6, max_size=6), max_size=4),
    title=st.none() | _TEXT,
    caption=st.none() | st.sampled_from(["eng. rate: mean per post", "a long caption " * 6]),
    pairs=st.lists(st.tuples(_TEXT, _CELL), max_size=4),
    width=st.integers(1, 160),
    tty=st.booleans(),
    env=_ENVS,
    encoding=st.sampled_from(["utf-8", "ascii"]),
)
def test_tables_are_richs(monkeypatch, names, rows, title, caption, pairs, width, tty, env, encoding):
    def draw() -> None:
        output.table(names, [r[: len(names)] for r in rows], title=title, numeric={names[0]}, caption=caption)
        output.kv(pairs, title=title)

    kw = {"tty": tty, "env": env, "encoding": encoding, "width": width}
    mine, rich, _ = _both(draw, monkeypatch, **kw)
    assert mine == rich


def test_tables_fall_back_to_rich_only_where_plainterm_cannot_draw(monkeypatch):
    def draw() -> None:
        rows = [["bluesky", 3], ["mastodon", None], ["a long one " * 8, 1]]
        output.table(["platform", "posts"], rows, title="Per platform", numeric={"posts"})
        output.kv([("posts published", 3)], title="Overview")

    for tty in (False, True):
        mine, rich, fell_back = _both(draw, monkeypatch, tty=tty, env={"COLUMNS": "60"})
        assert mine == rich and not fell_back
        assert ("\x1b[3mPer platform" in mine) is tty
        shown = re.sub("\x1b\\[[0-9;]*m", "", mine)
        assert max(len(line) for line in shown.splitlines()) == 60  # the long cell wrapped within COLUMNS
    # Too narrow for a column to have room: Rich's Table decides what is shown.
    mine, rich, fell_back = _both(draw, monkeypatch, tty=True, env={}, width=3)
    assert mine == rich and fell_back


def test_what_plainterm_leaves_to_rich(monkeypatch):
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert plainterm.Term.detect(_Stream(True, "utf-8"), None) is None  # Rich draws 80x25 there
    monkeypatch.setenv("TERM", "xterm")
    assert plainterm.Term.detect(_Stream(True, "utf-8"), None) is not None
    for text in ("a\tb", "two\nlines", "line\u2028separator"):  # tab stops and line breaks: Rich's
        mine, rich, fell_back = _both(lambda t=text: output.line(t), monkeypatch, tty=True, env={"COLUMNS": "40"})
        assert mine == rich and fell_back


# --- whole reports on a pseudo-terminal ------------------------------------------

_PROBE = (
    "import sys\nfrom postcli import output, cli\n"
    "if sys.argv[1] == 'rich':\n    output.term = lambda: None\n"
    "modules = sys.argv[2]\nsys.argv = ['postcli', *sys.argv[3:]]\n"
    "try:\n    cli.main()\nfinally:\n"
    "    open(modules, 'w').write(' '.join(m for m in sys.modules if m.startswith('rich.')))\n"
)


def _on_terminal(mode: str, args: list[str], columns: int, env: dict[str, str], modules: Path) -> bytes:
    argv = [sys.executable, "-c", _PROBE, mode, str(modules), *args]
    code, seen = run_on_terminal(argv, columns=columns, env=env)
    assert code == 0, seen
    return seen


@pytest.mark.parametrize("report", ["overview", "platforms", "top", "heatmap", "best-times", "growth", "timeline"])
def test_reports_on_a_terminal_are_richs_without_rich_console(home, tmp_path, report):
    builders.report_store()
    env = {k: v for k, v in os.environ.items() if k not in _ENV_KEYS}
    env["TERM"] = "xterm-256color"
    args = ["analytics", report, *builders.MARCH, "--tz", "UTC"]
    for columns, extra in ((44, {}), (100, {"NO_COLOR": "1"})):
        mine = _on_terminal("plain", args, columns, {**env, **extra}, tmp_path / "plain")
        rich = _on_terminal("rich", args, columns, {**env, **extra}, tmp_path / "rich")
        assert mine == rich
        assert b"\x1b[" in mine  # styled: a terminal
        loaded = (tmp_path / "plain").read_text().split()
        assert "rich.console" not in loaded and "rich.text" not in loaded, loaded
        assert "rich.console" in (tmp_path / "rich").read_text().split()  # the comparison is with Rich
