"""output.table and output.kv draw a table without rich.table (postcli/textgrid.py): the
bytes must be the ones Rich's Table writes, on a terminal (styles) and piped, fitting or not."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from postcli import output, textgrid
from support.layout import PIECES

_CELL = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=4).map("".join),
    st.integers(-(10**7), 10**7),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.none(),
)
_NAME = st.lists(
    st.sampled_from(["rank", "slot", "eng.", "Δ posts", "漢", " ", "mean engagement"]), min_size=1, max_size=3
)


def _render(fn, *, width: int, terminal: bool, grid: bool, monkeypatch) -> str:
    buf = io.StringIO()
    console = Console(
        file=buf, width=width, force_terminal=terminal, color_system="standard" if terminal else None, highlight=False
    )
    with monkeypatch.context() as m:
        m.setattr(output, "_console", console)
        m.setattr(output, "_term", False)  # through Rich's Console (plainterm: tests/test_plainterm.py)
        if not grid:  # every cell "needs Rich": the rich Table, as output drew every table before
            m.setattr(textgrid, "plain_cell", lambda text: False)
        fn()
    return buf.getvalue()


@settings(max_examples=150, deadline=None)
@given(
    names=st.lists(_NAME.map("".join), min_size=1, max_size=9),
    rows=st.lists(st.lists(_CELL, min_size=9, max_size=9), max_size=5),
    numeric=st.sets(st.integers(0, 8)),
    title=st.none() | st.sampled_from(["Best times to post (Europe/Berlin), by mean engagement per post", "T"]),
    caption=st.none() | st.sampled_from(["eng. rate: mean per post", "a long caption " * 6]),
    width=st.integers(5, 160),
    terminal=st.booleans(),
)
def test_table_bytes_are_richs(monkeypatch, names, rows, numeric, title, caption, width, terminal):
    rows = [r[: len(names)] for r in rows]

    def draw() -> None:
        output.table(names, rows, title=title, numeric={names[i] for i in numeric if i < len(names)}, caption=caption)

    kw = {"width": width, "terminal": terminal, "monkeypatch": monkeypatch}
    assert _render(draw, grid=True, **kw) == _render(draw, grid=False, **kw)


@settings(max_examples=100, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(
            st.sampled_from(
                ["posts published", "  bluesky", "漢字", "", " x ", "account_metric_snapshots", "a key " * 5]
            ),
            _CELL,
        ),
        max_size=6,
    ),
    title=st.none() | st.sampled_from(["Overview (now   change vs previous period)"]),
    width=st.integers(5, 160),
    terminal=st.booleans(),
)
def test_kv_bytes_are_richs(monkeypatch, pairs, title, width, terminal):
    def draw() -> None:
        output.kv(pairs, title=title)

    kw = {"width": width, "terminal": terminal, "monkeypatch": monkeypatch}
    assert _render(draw, grid=True, **kw) == _render(draw, grid=False, **kw)


@pytest.mark.parametrize(
    "cell", ["two\nlines", "a\ttab", "line\u2028separator", "bold"], ids=["newline", "tab", "u2028", "rich-text"]
)
def test_what_a_grid_does_not_draw_goes_to_rich(monkeypatch, cell):
    from rich.text import Text

    value = Text(cell, style="bold") if cell == "bold" else cell
    drawn = []
    real = textgrid.Grid.__rich_console__

    def spy(self, console, options):
        drawn.append(self)
        return real(self, console, options)

    monkeypatch.setattr(textgrid.Grid, "__rich_console__", spy)

    def draw() -> None:
        output.table(["name", "n"], [[value, 1]], numeric={"n"})

    kw = {"width": 80, "terminal": True, "monkeypatch": monkeypatch}
    assert _render(draw, grid=True, **kw) == _render(draw, grid=False, **kw)
    assert drawn == []  # output.table gave it to rich.table itself
    _render(lambda: output.table(["name", "n"], [["plain", 1]], numeric={"n"}), grid=True, **kw)
    assert len(drawn) == 1  # while a plain one goes through the grid


def test_the_grid_prints_cells_literally(monkeypatch):
    # Markup stays text and controls show as their pictures, on a terminal (styles on) too.
    drawn = []
    real = textgrid.Grid._body

    def spy(self, *args):
        drawn.append(self)
        return real(self, *args)

    monkeypatch.setattr(textgrid.Grid, "_body", spy)
    out = _render(
        lambda: output.table(["[b]name[/b]", "n"], [["[red]x[/red] :smile:", "\x1b]0;title\x07"]], title="[i]t"),
        width=80,
        terminal=True,
        grid=True,
        monkeypatch=monkeypatch,
    )
    assert len(drawn) == 1
    assert "[b]name[/b]" in out and "[red]x[/red] :smile:" in out and "␛]0;title␇" in out and "[i]t" in out
    assert "\x07" not in out and "\x1b]" not in out


@pytest.mark.parametrize("row", [["only one"], ["one", 2, "three"]], ids=["short", "long"])
def test_a_row_without_one_cell_per_column_goes_to_rich(monkeypatch, row):
    # Rich pads a short row with blank cells and adds a column for a long one.
    kw = {"width": 80, "terminal": False, "monkeypatch": monkeypatch}

    def draw() -> None:
        output.table(["name", "n"], [row, ["x", 1]], numeric={"n"})

    assert _render(draw, grid=True, **kw) == _render(draw, grid=False, **kw)
