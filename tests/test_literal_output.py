"""Issue 13, classes 1 and 11: text from users and platforms is printed literally, never as markup,
with its control characters made visible; post text with control characters is refused at the door;
--json never carries a raw terminal control; --csv cells cannot start a spreadsheet formula.

Text a platform sent (an imported post, a handle, an error body) is written into the store with
the ORM, as the importer and the publisher would: it never went through `post create`'s check.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from support.cli import run_postcli

# Everything a terminal acts on instead of printing; what postcli writes must contain none.
RAW_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
HOSTILE = "t\x1b]0;pwned\x07i\x1b[31mred\x1b[0m \x9b2J \x00nul \x7f \u202eevil[/x] [bold]b[/bold] :smile:"


def _sandbox(cli, handle: str = "me") -> None:  # type: ignore[no-untyped-def]
    r = cli("accounts", "add", "sandbox", "--handle", handle)
    assert r.exit_code == 0, r.stderr


def _store_as_platform(
    post_id: int, *, text: str | None = None, error: str | None = None, handle: str | None = None
) -> None:
    """Put platform-supplied text straight into the store (what an import or a failed publish writes)."""
    from postcli.store.models import Account, Post
    from postcli.store.session import session_scope

    with session_scope() as s:
        post = s.get(Post, post_id)
        if text is not None:
            post.text = text
        if error is not None:
            post.last_error = error
            post.targets[0].error = error
        if handle is not None:
            s.get(Account, post.targets[0].account_id).handle = handle


def _assert_no_raw_controls(out: str) -> None:
    found = RAW_CONTROLS.findall(out.replace("\n", ""))
    assert not found, (found, out)


def test_markup_brackets_in_post_text_print_literally(cli):
    _sandbox(cli)
    assert cli("post", "create", "Check [this] out", "--to", "1", "--draft").exit_code == 0
    show = cli("post", "show", "1")
    assert show.exit_code == 0 and "Check [this] out" in show.stdout
    listed = cli("post", "list")
    assert listed.exit_code == 0 and "Check [this] out" in listed.stdout


def test_a_closing_tag_in_post_text_does_not_break_the_list(cli):
    _sandbox(cli)
    assert cli("post", "create", "a [/x] b [bold]c", "--to", "1", "--draft").exit_code == 0
    for args in (("post", "list"), ("post", "show", "1")):
        r = cli(*args)
        assert r.exit_code == 0, r.stderr
        assert "a [/x] b [bold]c" in r.stdout and "bug" not in r.stderr


def test_emoji_codes_are_not_replaced(cli):
    _sandbox(cli)
    assert cli("post", "create", "I :smile: at :red_heart:", "--to", "1", "--draft").exit_code == 0
    r = cli("post", "show", "1")
    assert "I :smile: at :red_heart:" in r.stdout and "😄" not in r.stdout


def test_terminal_escapes_from_a_platform_never_reach_the_terminal(cli):
    _sandbox(cli)
    assert cli("post", "create", "placeholder", "--to", "1", "--draft").exit_code == 0
    _store_as_platform(1, text=HOSTILE, error="server said \x1b[2J[red]no[/red]\x07", handle="h\x1b[31m[b]x")
    for args in (("post", "show", "1"), ("post", "list"), ("accounts", "list"), ("accounts", "show", "1")):
        r = cli(*args)
        assert r.exit_code == 0, (args, r.stderr)
        _assert_no_raw_controls(r.stdout)
        _assert_no_raw_controls(r.stderr)
    show = cli("post", "show", "1", env={"COLUMNS": "400"}).stdout
    # Made visible, not dropped: ESC shows as ␛, BEL as ␇, NUL as ␀, C1 and bidi controls by code point.
    assert "␛]0;pwned␇" in show and "␛[31mred" in show and "␀nul" in show and "<U+009B>2J" in show
    assert "<U+202E>evil[/x] [bold]b[/bold] :smile:" in show
    assert "server said ␛[2J[red]no[/red]␇" in show and "h␛[31m[b]x" in show


def test_on_a_colour_terminal_only_postcli_s_own_styles_are_escape_sequences(cli):
    _sandbox(cli)
    assert cli("post", "create", "placeholder", "--to", "1", "--draft").exit_code == 0
    _store_as_platform(1, text=HOSTILE, error="\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\")
    for args in (("post", "show", "1"), ("post", "list")):
        r = cli(*args, env={"FORCE_COLOR": "1", "TTY_COMPATIBLE": "1", "COLUMNS": "120"})
        assert r.exit_code == 0, r.stderr
        assert "\x1b[" in r.stdout  # it is a colour terminal: Rich styles the table
        leftover = re.sub(r"\x1b\[[0-9;]*m", "", r.stdout)  # Rich's own SGR styling
        _assert_no_raw_controls(leftover)


def test_messages_on_stderr_are_literal(cli):
    _sandbox(cli)
    r = cli("post", "create", "x", "--to", "1", "--text-for", "[b]\x1b[31mz=y")
    assert r.exit_code == 2
    assert "--text-for [b]␛[31mz matches none" in r.stderr
    _assert_no_raw_controls(r.stderr)


def test_warnings_and_publish_errors_are_literal(cli):
    _sandbox(cli)
    assert cli("post", "create", "placeholder", "--to", "1", "--draft").exit_code == 0
    _store_as_platform(1, error="[/x] \x1b[31m", handle="[/y]\x07")
    r = cli("post", "show", "1")
    assert r.exit_code == 0 and "[/x] ␛[31m" in r.stdout and "[/y]␇" in r.stdout


def test_installed_entry_point_prints_hostile_text_literally(cli, home):
    _sandbox(cli)
    assert cli("post", "create", "placeholder", "--to", "1", "--draft").exit_code == 0
    _store_as_platform(1, text=HOSTILE)
    for args in (("post", "list"), ("post", "show", "1")):
        r = run_postcli(*args, env={"COLUMNS": "400"})
        assert r.returncode == 0, r.stderr
        assert "␛]0;pwned␇" in r.stdout
        _assert_no_raw_controls(r.stdout)
    assert "evil[/x] [bold]b[/bold]" in r.stdout


# --- class 11: control characters at the door, --json, --csv ------------------------------


@pytest.mark.parametrize("bad", ["a\x00b", "\x1b[31mred", "bell\x07", "del\x7f", "csi\x9b"])
def test_post_text_with_control_characters_is_refused(cli, bad):
    _sandbox(cli)
    r = cli("post", "create", bad, "--to", "1", "--draft")
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert "the post text contains" in r.stderr and "nothing was stored" in r.stderr
    _assert_no_raw_controls(r.stderr)
    assert cli.json("post", "list")["total"] == 0


def test_nul_names_itself_and_stdin_is_checked_too(cli):
    _sandbox(cli)
    r = cli("post", "create", "-", "--to", "1", "--draft", input="piped\x00text\n")
    assert r.exit_code == 2
    assert "U+0000 (NUL) at position 6" in r.stderr
    assert cli.json("post", "list")["total"] == 0


def test_edit_and_text_for_are_checked_too(cli):
    _sandbox(cli)
    assert cli("post", "create", "fine", "--to", "1", "--draft").exit_code == 0
    r = cli("post", "edit", "1", "--text", "no\x1bpe")
    assert r.exit_code == 2 and "ESC" in r.stderr
    r = cli("post", "create", "fine", "--to", "1", "--text-for", "sandbox=bad\x00")
    assert r.exit_code == 2 and "--text-for sandbox contains" in r.stderr
    posts = cli.json("post", "list")["posts"]
    assert [p["text"] for p in posts] == ["fine"]


def test_tabs_newlines_and_windows_line_ends_are_ordinary_text(cli):
    _sandbox(cli)
    text = "line one\r\nline\ttwo\n\u05e9\u05dc\u05d5\u05dd \U0001f389 \u2067isolated\u2069"
    out = cli.json("post", "create", text, "--to", "1", "--draft")
    assert out["text"] == text
    assert cli.json("post", "show", str(out["id"]))["text"] == text
    shown = cli("post", "show", str(out["id"])).stdout
    assert "␍" not in shown and "line one" in shown  # CRLF shows as a line break
    _assert_no_raw_controls(shown)


def test_json_escapes_terminal_controls_and_round_trips(cli):
    _sandbox(cli)
    assert cli("post", "create", "placeholder", "--to", "1", "--draft").exit_code == 0
    _store_as_platform(1, text=HOSTILE)
    r = cli("post", "show", "1", "--json")
    assert r.exit_code == 0
    _assert_no_raw_controls(r.stdout)
    assert "\\u009b" in r.stdout and "\\u202e" in r.stdout
    assert json.loads(r.stdout)["text"] == HOSTILE


def test_csv_cells_cannot_start_a_formula(cli):
    _sandbox(cli, handle="=cmd")
    texts = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "plain"]
    for text in texts:
        r = cli("post", "create", "--to", "1", "--", text)
        assert r.exit_code == 0, r.stderr
    assert cli("collect").exit_code == 0
    r = cli("analytics", "top", "--csv", "--limit", "10")
    assert r.exit_code == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert sorted(row["text"] for row in rows) == sorted(["'" + t if t[0] in "=+-@\t" else t for t in texts])
    assert {row["handle"] for row in rows} == {"'=cmd.sandbox"}
    # Numbers are numbers: a negative count would stay -N (only text is guarded).
    assert all(re.fullmatch(r"\d+", row["post_id"]) for row in rows)
    growth = list(csv.DictReader(io.StringIO(cli("analytics", "growth", "--csv").stdout)))
    assert growth and {row["handle"] for row in growth} == {"'=cmd.sandbox"}


def test_csv_text_and_clean_units():
    from postcli import output

    assert output.csv_text("=1") == "'=1" and output.csv_text("\r=1") == "'\r=1"
    assert output.csv_text("a=1") == "a=1" and output.csv_text("") == ""
    assert output.csv_text("x\x1b[31m") == "x␛[31m"
    assert output.clean("a\r\nb\tc\x00\x7f\x85\u202e") == "a\nb\tc␀\u2421<U+0085><U+202E>"
    assert output.clean("\udcff") == "\ufffd"


def _png(path):  # type: ignore[no-untyped-def]
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )
    return path


def test_alt_text_is_checked_and_printed_literally(cli, tmp_path):
    _sandbox(cli)
    image = str(_png(tmp_path / "[x].png"))
    r = cli("post", "create", "hi", "--to", "1", "--draft", "--media", image, "--alt", "a\x1bb")
    assert r.exit_code == 2 and "--alt 1 contains the control character U+001B (ESC)" in r.stderr
    assert cli.json("post", "list")["total"] == 0
    assert (
        cli("post", "create", "hi", "--to", "1", "--draft", "--media", image, "--alt", "[b]alt :smile:").exit_code == 0
    )
    shown = cli("post", "show", "1", env={"COLUMNS": "200"}).stdout
    assert "[x].png (image/png" in shown and "alt: [b]alt :smile:" in shown
