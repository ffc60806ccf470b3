"""Property: whatever text a person types (or a platform hands back), postcli stores it exactly
or refuses it cleanly, and never lets it drive the terminal.

Arbitrary Unicode plus the troublemakers (markup brackets, emoji codes, ESC/OSC/BEL, NUL, C1,
bidi overrides, RTL scripts, emoji sequences, bytes that are not UTF-8, huge strings) goes
through `post create --draft`, `post show`, `post list`, with and without --json:
exit 0 or 2, never "This is a bug" or a traceback, --json gives the text back exactly,
and no raw control character reaches the terminal.
"""

from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

RAW_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

TROUBLE = st.sampled_from(
    [
        "[",
        "]",
        "[/x]",
        "[bold]",
        "[/]",
        "\\[",
        "[link=http://evil]",
        ":smile:",
        ":red_heart:",
        "\x1b[31m",
        "\x1b]0;title\x07",
        "\x1b]8;;http://evil\x1b\\",
        "\x00",
        "\x07",
        "\x08",
        "\x7f",
        "\x9b",
        "\u202e",
        "\u2066",
        "\u200f",
        "\r\n",
        "\r",
        "\n",
        "\t",
        " ",
        "🎉",
        "👩\u200d👩\u200d👧",
        "שלום",
        "مرحبا",
        "\udcff",
        "-",
        "--to",
        "%s",
        "{0}",
        "\\",
    ]
)

TEXTS = st.one_of(
    st.text(max_size=80),
    st.lists(st.one_of(TROUBLE, st.text(max_size=6)), min_size=1, max_size=16).map("".join),
    st.builds(
        lambda piece, n: piece * n,
        st.sampled_from(["x", "[", "é", "🎉", "\x1b", "[/x]", " "]),
        st.integers(min_value=100, max_value=50_000),
    ),
)


def _clean_terminal_output(out: str) -> None:
    found = RAW_CONTROLS.findall(out.replace("\n", ""))
    assert not found, (found, out[:2000])


def _no_crash(result) -> str:  # type: ignore[no-untyped-def]
    out = result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "This is a bug" not in out and "Traceback" not in out, out[:2000]
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXTS)
def test_any_text_is_stored_exactly_or_refused_and_never_drives_the_terminal(cli, home, text):
    if not (home / "postcli.db").exists():
        assert cli("accounts", "add", "sandbox").exit_code == 0
    before = cli.json("post", "list", "--limit", "1")["total"]

    created = cli("post", "create", "--to", "1", "--draft", "--json", "--", text, input="")
    _no_crash(created)
    assert created.exit_code in (0, 2), (created.exit_code, created.stderr[:500])
    _clean_terminal_output(created.stderr)
    if created.exit_code == 2:
        assert cli.json("post", "list", "--limit", "1")["total"] == before  # nothing half-written
        return
    _clean_terminal_output(created.stdout)
    post = json.loads(created.stdout)
    assert post["text"] == text
    pid = str(post["id"])

    shown = cli("post", "show", pid, "--json")
    assert shown.exit_code == 0 and json.loads(shown.stdout)["text"] == text
    _clean_terminal_output(shown.stdout)
    listed = cli.json("post", "list", "--limit", "1")
    assert listed["total"] == before + 1 and listed["posts"][0]["text"] == text

    for args in (("post", "show", pid), ("post", "list")):
        r = cli(*args)
        _no_crash(r)
        assert r.exit_code == 0, r.stderr
        _clean_terminal_output(r.stdout)
        _clean_terminal_output(r.stderr)
