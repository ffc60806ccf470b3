"""postcli on a real pseudo-terminal, as a person runs it: stdin, stdout and stderr on the terminal,
TERM=xterm-256color, 80 or 40 columns, each run with a timeout. Every other test runs postcli
piped (CliRunner, subprocess pipes), where there is no spinner, no bar, no prompt and no cut
line; `postcli demo` hung on a terminal until session 10 and nothing noticed (docs/output.md,
"On a terminal")."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from support.cli import postcli_argv
from support.terminal import run_on_terminal

POSTCLI = postcli_argv()
HIDE, SHOW = b"\x1b[?25l", b"\x1b[?25h"
_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\r")
_BOX = set("━─│┃ ")


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("POSTCLI_") and k not in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "COLUMNS", "LINES")
    }
    return {**env, "TERM": "xterm-256color", "POSTCLI_HOME": str(home), "BROWSER": "true", **extra}


def _text(seen: bytes) -> str:
    return _ESCAPE.sub("", seen.decode(errors="replace"))


def _piped(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*POSTCLI, *args], env=_env(home), capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60
    )


def _terminal(home: Path, *args: str, columns: int = 80, timeout: float = 60, **kw) -> tuple[int, bytes]:  # type: ignore[no-untyped-def]
    return run_on_terminal([*POSTCLI, *args], columns=columns, env=_env(home), timeout=timeout, **kw)


def _cursor_restored(seen: bytes) -> bool:
    """Every bar or spinner hid the cursor and showed it again afterwards."""
    return HIDE not in seen or seen.rfind(SHOW) > seen.rfind(HIDE)


def _no_bug(text: str) -> None:
    assert "Traceback" not in text and "This is a bug" not in text, text[-3000:]


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("on-terminal") / "demo"
    r = subprocess.run([*POSTCLI, "demo", "--home", str(home), "--days", "5"], env=_env(home), capture_output=True)
    assert r.returncode == 0, r.stderr
    return home


@pytest.fixture
def demo_copy(demo_store: Path, tmp_path: Path) -> Path:
    """The demo store for a test that changes it, collect every time it is asked."""
    home = tmp_path / "demo"
    shutil.copytree(demo_store, home)
    with (home / "config.toml").open("a") as fh:
        fh.write("\n[collect]\nmin_interval_seconds = 0\n")
    return home


@pytest.mark.parametrize(
    ("args", "columns"),
    [
        (["analytics", "overview"], 80),
        (["analytics", "platforms"], 80),
        (["analytics", "best-times"], 40),
        (["post", "list"], 40),
        (["accounts", "list"], 40),
        (["accounts", "health"], 80),
        (["platforms"], 80),
    ],
)
def test_a_terminal_shows_everything_a_pipe_gets(demo_store, args, columns):
    """Same exit code as piped, and every character the pipe gets is on the terminal: lines are
    wrapped and cells folded to the width, never cut off. A table whose columns' minimum widths
    did not fit lost its last columns past the edge (`analytics overview` and `platforms` on 80
    columns: the shares of each platform; `analytics post`: engagement, eng. rate, captured)."""
    piped = _piped(demo_store, *args)
    code, seen = _terminal(demo_store, *args, columns=columns)
    text = _text(seen)
    _no_bug(text)
    assert code == piped.returncode == 0, text
    assert b"\x1b[" in seen  # styled: postcli saw a terminal
    shown = Counter(c for c in text if c not in _BOX and not c.isspace())
    sent = Counter(c for c in piped.stdout + piped.stderr if c not in _BOX and not c.isspace())
    assert not sent - shown, (sent - shown, text)


def test_a_key_value_listing_keeps_its_keys_whole_on_40_columns(demo_store):
    """The values fold, not the keys: shrunk alike, `db status` showed `post_metric_sna…` and
    `account_metric_…` on 40 columns while the counts beside them had room to spare."""
    code, seen = _terminal(demo_store, "db", "status", columns=40)
    lines = _text(seen).splitlines()
    assert code == 0 and max(len(line) for line in lines) <= 40, lines
    for key in ("post_metric_snapshots", "account_metric_snapshots"):
        assert any(line.split() and line.split()[0] == key for line in lines), lines
    assert "…" not in _text(seen)


def test_collect_shows_its_bar_then_clears_it(demo_copy):
    code, seen = _terminal(demo_copy, "collect")
    text = _text(seen)
    _no_bug(text)
    assert code == 0, text
    assert "collecting" in text and re.search(r"fetched [1-9]\d* post snapshots, 4 accounts", text), text
    assert HIDE in seen and _cursor_restored(seen)


def test_collect_with_stdout_piped_keeps_its_bar_on_the_terminal(demo_copy, tmp_path):
    out = tmp_path / "stdout"
    with out.open("wb") as fh:
        code, seen = _terminal(demo_copy, "collect", stdout=fh.fileno())
    assert code == 0, seen
    assert b"collecting" in seen and _cursor_restored(seen)  # the bar: on stderr, the terminal
    assert out.read_text().startswith("fetched ") and "\x1b" not in out.read_text()


def test_db_upgrade_shows_its_bar_and_creates_the_store(home):
    code, seen = _terminal(home, "db", "upgrade", columns=40)
    text = _text(seen)
    _no_bug(text)
    assert code == 0 and "Schema at" in text and "(was empty)" in text, text
    assert HIDE in seen and _cursor_restored(seen)


def test_ctrl_c_during_a_bar_ends_with_130_and_the_cursor_back(demo_copy):
    """A worker waiting for jobs keeps its bar up until Ctrl-C, typed on the terminal."""
    code, seen = _terminal(demo_copy, "collect", "--worker", "--wait", "60", keys=[(b"collecting", b"\x03")])
    text = _text(seen)
    _no_bug(text)
    assert code == 130, text
    assert text.rstrip().endswith("error: interrupted."), text
    assert _cursor_restored(seen)


# Ctrl-C at the very moment a bar starts (its first frame drawn, the cursor hidden, the command not
# yet in the `try` whose `finally` stops it): sent by the terminal's stream on that first frame.
_INTERRUPT_AS_THE_BAR_STARTS = """
import os, signal, sys

class Terminal:
    def __init__(self, stream):
        self.stream, self.sent = stream, False

    def write(self, text):
        written = self.stream.write(text)
        if "upgrading" in text and not self.sent:
            self.sent = True
            self.stream.flush()
            os.kill(os.getpid(), signal.SIGINT)
        return written

    def __getattr__(self, name):
        return getattr(self.stream, name)

sys.stderr = Terminal(sys.stderr)
sys.argv = ["postcli", "db", "upgrade"]
from postcli.cli import main
main()
"""


def test_ctrl_c_as_a_bar_starts_still_clears_it_and_shows_the_cursor(home):
    """The bar used to stay started: the cursor stayed hidden after postcli exited and the bar's
    thread could draw over "error: interrupted." (seen on `collect` and `db upgrade`)."""
    code, seen = run_on_terminal(
        [sys.executable, "-c", _INTERRUPT_AS_THE_BAR_STARTS], columns=80, env=_env(home), timeout=60
    )
    text = _text(seen)
    assert code == 130, text
    assert HIDE in seen and _cursor_restored(seen), seen[-300:]
    assert text.rstrip().endswith("error: interrupted."), text


def test_a_confirmation_takes_yes_no_ctrl_d_and_ctrl_c(demo_copy):
    """Ctrl-C at a prompt is an interruption like anywhere else (130), not Click's "Aborted!" (1);
    Ctrl-D and "n" abort (1). Only "y" removes the account."""
    ask = b"Delete this account and all its history? [y/N]: "
    for typed, expected in ((b"\x03", 130), (b"\x04", 1), (b"n\r", 1)):
        code, seen = _terminal(demo_copy, "accounts", "remove", "1", "--purge", keys=[(ask, typed)])
        text = _text(seen)
        _no_bug(text)
        assert code == expected, (typed, text)
        assert ("error: interrupted." in text) == (expected == 130), text
        if typed != b"n\r":  # the message on a line of its own, not after the question
            said = "error: interrupted." if expected == 130 else "Aborted!"
            assert re.search(rf"\n{re.escape(said)}", text), text
    assert '"handle": "studio.bsky.sim"' in _piped(demo_copy, "accounts", "show", "1", "--json").stdout  # still there
    code, seen = _terminal(demo_copy, "accounts", "remove", "1", "--purge", keys=[(ask, b"y\r")])
    assert code == 0 and "Removed sim-bluesky account studio.bsky.sim (id 1) and its history." in _text(seen)
    # An account that does not exist is said so at once, not asked about first.
    code, seen = _terminal(demo_copy, "accounts", "remove", "999", "--purge", timeout=20)
    assert code == 3 and "no account '999'" in _text(seen) and b"[y/N]" not in seen, seen


def test_ctrl_c_at_a_hidden_prompt_is_an_interruption(home):
    code, seen = _terminal(
        home,
        "accounts",
        "add",
        "bluesky",
        "--handle",
        "alice.test",
        keys=[(b"[Y/n]: ", b"n\r"), (b"Bluesky app password: ", b"\x03")],
    )
    text = _text(seen)
    _no_bug(text)
    assert code == 130 and text.rstrip().endswith("error: interrupted."), text


def test_a_secret_flag_on_a_terminal_asks_hidden(home):
    """`--token-stdin` with standard input on the terminal: typed, not piped. It was read as a
    line with the terminal echoing the token, after no prompt at all."""
    token = "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0"
    code, seen = _terminal(
        home,
        *("accounts", "add", "mastodon", "--instance", "http://127.0.0.1:9", "--token-stdin"),
        keys=[(b"Mastodon access token: ", token.encode() + b"\r")],
        timeout=20,  # without the prompt nothing is typed: the token read waits until killed
    )
    text = _text(seen)
    _no_bug(text)
    assert code == 1 and "could not reach 127.0.0.1:9" in text, text  # it went on with the token read
    assert token not in text


def test_a_prompt_is_on_the_terminal_when_stdout_is_a_file(demo_copy, tmp_path):
    """`accounts remove 1 --purge --json > out.json`: the question went to standard output, into
    the file, while the terminal showed nothing and postcli waited."""
    import json

    out = tmp_path / "out.json"
    with out.open("wb") as fh:
        code, seen = _terminal(
            demo_copy,
            *("accounts", "remove", "1", "--purge", "--json"),
            stdout=fh.fileno(),
            keys=[(b"Delete this account and all its history? [y/N]:", b"y\r")],
            timeout=20,  # without the question on the terminal nothing is typed: killed
        )
    assert code == 0, seen
    assert json.loads(out.read_text())["purged"] is True
