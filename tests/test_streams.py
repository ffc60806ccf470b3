"""The standard streams, the unlucky ways (issue 23, classes 5 and 8): standard output closed or
on a full device, an output encoding that is not UTF-8, standard input that never ends,
standard error closed, COLUMNS=0, and float options given inf/nan. Each used to end in
"This is a bug in postcli" (or, for COLUMNS=0, in a table with nothing in it).

The real cases run the installed entry point in a child process whose descriptors are set
up as a shell would (`>&-`, `> /dev/full`, `< /dev/zero`, `yes |`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

from support.builders import Store

BUG = "This is a bug"


def _exe() -> list[str]:
    exe = Path(sys.executable).with_name("postcli")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "postcli"]


def postcli(
    *args: str,
    home: Path,
    close: tuple[int, ...] = (),
    stdin=None,
    stdout=subprocess.PIPE,
    stderr=subprocess.PIPE,
    env=None,
    timeout=60,
):  # type: ignore[no-untyped-def]
    """The installed CLI with descriptors `close`d before it starts (as `>&-` / `2>&-` would)."""

    def closing() -> None:
        for fd in close:
            os.close(fd)

    return subprocess.run(
        _exe() + list(args),
        env={**os.environ, "POSTCLI_HOME": str(home), **(env or {})},
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
        stdout=None if 1 in close else stdout,
        stderr=None if 2 in close else stderr,
        preexec_fn=closing if close else None,
        timeout=timeout,
    )


def _text(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", "replace")


@pytest.fixture
def posts(cli, home) -> Path:  # type: ignore[no-untyped-def]
    """A sandbox account and a draft whose text no 8-bit encoding carries whole."""
    cli.json("accounts", "add", "sandbox", "--handle", "me.sandbox")
    cli.json("post", "create", "café ☕ — naïve → 日本", "--to", "1", "--draft")
    return home


# --- standard output closed or full ---------------------------------------------------------


# A file sent to standard output (`-`) goes through outfile.py's own byte path: the same rule.
TO_STDOUT = [("db", "backup", "-"), ("analytics", "report", "--html", "-")]


@pytest.mark.parametrize("args", [("post", "list"), ("post", "list", "--json"), ("post", "show", "1"), *TO_STDOUT])
def test_a_closed_stdout_is_one_error_not_a_bug(posts, args):
    r = postcli(*args, home=posts, close=(1,))
    err = _text(r.stderr)
    assert r.returncode == 1, err
    assert BUG not in err and "cannot write to standard output: it is closed" in err, err


@pytest.mark.parametrize(
    "args", [("post", "list"), ("post", "list", "--json"), ("analytics", "overview", "--csv"), *TO_STDOUT]
)
def test_stdout_on_a_full_device_is_named(posts, args):
    with open("/dev/full", "w") as full:
        r = postcli(*args, home=posts, stdout=full)
    err = _text(r.stderr)
    assert r.returncode == 1, err
    assert BUG not in err and "no space left on the device" in err, err
    assert "Exception ignored" not in err  # nothing left to flush at exit


def test_a_reader_that_leaves_still_ends_quietly(posts):
    # `postcli post list | head -0`: the pipe closes; exit 1 without a word, as before.
    proc = subprocess.Popen(
        _exe() + ["post", "list", "--limit", "50"],
        env={**os.environ, "POSTCLI_HOME": str(posts)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode in (0, 1) and BUG not in _text(err) and "Traceback" not in _text(err)


# --- an output encoding that is not UTF-8 ---------------------------------------------------


ENCODINGS = [{"PYTHONIOENCODING": "latin-1"}, {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": ""}]


@pytest.mark.parametrize("env", ENCODINGS, ids=["latin-1", "LC_ALL=C"])
def test_text_is_printed_as_far_as_the_encoding_goes(posts, env):
    r = postcli("post", "show", "1", home=posts, env=env)
    out, err = r.stdout.decode("latin-1"), _text(r.stderr)
    assert r.returncode == 0 and BUG not in err, err
    assert ("naïve" if env.get("PYTHONIOENCODING") == "latin-1" else "na?ve") in out, out
    assert "?" in out  # the coffee cup, replaced


@pytest.mark.parametrize("env", ENCODINGS, ids=["latin-1", "LC_ALL=C"])
def test_json_stays_exact_through_any_encoding(posts, env):
    r = postcli("post", "show", "1", "--json", home=posts, env=env)
    assert r.returncode == 0, _text(r.stderr)
    r.stdout.decode("ascii")  # every non-ASCII character as a \\u escape
    assert json.loads(r.stdout)["text"] == "café ☕ — naïve → 日本"


@pytest.mark.parametrize("env", ENCODINGS, ids=["latin-1", "LC_ALL=C"])
def test_reports_print_through_any_encoding(home, env):
    st = Store()
    acc = st.account("sandbox", "démo.sandbox")
    (target,) = st.post("☕ café", "2026-03-01T10:00:00", acc)
    st.snap(target, "2026-03-01T11:00:00", likes=3)
    for args in (("analytics", "overview"), ("analytics", "top"), ("analytics", "timeline")):
        r = postcli(*args, "--since", "2026-02-01", "--until", "2026-04-01", home=home, env=env)
        err = _text(r.stderr)
        assert r.returncode == 0 and BUG not in err, (args, err)
        assert "->" in r.stdout.decode("latin-1") or args[1] != "overview"  # "→" spelled in ASCII


def test_utf8_arguments_are_read_as_utf8_under_a_c_locale(posts):
    env = ENCODINGS[1]
    r = postcli("post", "create", "über ☕", "--to", "1", "--draft", "--json", home=posts, env=env)
    assert r.returncode == 0, _text(r.stderr)
    assert json.loads(r.stdout)["text"] == "über ☕"
    bad = postcli("post", "create", os.fsdecode(b"caf\xe9"), "--to", "1", "--draft", home=posts)
    assert bad.returncode == 2 and "not valid UTF-8" in _text(bad.stderr)


# --- standard input that never ends ---------------------------------------------------------


def test_endless_post_text_is_refused(posts):
    yes = subprocess.Popen(["yes"], stdout=subprocess.PIPE)
    try:
        r = postcli("post", "create", "-", "--to", "1", home=posts, stdin=yes.stdout)
    finally:
        yes.kill()
        yes.wait()
    err = _text(r.stderr)
    assert r.returncode == 2 and "longer than 256 KiB" in err, err
    assert json.loads(postcli("post", "list", "--json", home=posts).stdout)["total"] == 1  # nothing stored


@pytest.mark.parametrize(
    "args",
    [
        ("accounts", "add", "mastodon", "--instance", "http://127.0.0.1:9", "--token-stdin"),
        (
            "accounts",
            "add",
            "bluesky",
            "--handle",
            "a.bsky.social",
            "--service",
            "http://127.0.0.1:9",
            "--password-stdin",
        ),
        ("accounts", "add", "threads", "--token-stdin"),
    ],
)
def test_an_endless_secret_is_refused(home, args):
    with open("/dev/zero", "rb") as zero:
        r = postcli(*args, home=home, stdin=zero)
    err = _text(r.stderr)
    assert r.returncode == 2 and "longer than 16 KiB" in err, err
    assert not (home / "credentials.json").exists() or "token" not in (home / "credentials.json").read_text()


def test_a_post_as_long_as_facebook_takes_still_fits(cli):
    from postcli.cli._stdin import MAX_TEXT_BYTES

    cli.json("accounts", "add", "sandbox", "--handle", "me.sandbox")
    text = "日本" * 31603  # 63,206 characters of 3 bytes each: Facebook's longest post
    assert len(text.encode()) <= MAX_TEXT_BYTES
    r = cli("post", "create", "-", "--to", "1", "--draft", input=text)
    assert "longer than" not in r.stderr  # refused by the platform's limit, not by the reader
    r = cli("post", "create", "-", "--to", "1", "--draft", input="y" * (MAX_TEXT_BYTES + 1))
    assert r.exit_code == 2 and "longer than 256 KiB" in r.stderr


def test_a_closed_stdin_reads_as_empty(posts):
    r = postcli("post", "create", "-", "--to", "1", home=posts, close=(0,))
    assert r.returncode == 2 and "empty" in _text(r.stderr), _text(r.stderr)


# --- standard error closed: the error could not be reported, exit 1 --------------------------


@pytest.mark.parametrize(
    "args", [("post", "show", "999"), ("post", "list", "--sort", "nonsense"), ("post", "show", "0")]
)
def test_with_stderr_closed_an_error_exits_1(posts, args):
    r = postcli(*args, home=posts, close=(2,))
    assert r.returncode == 1, r.stdout
    with open("/dev/full", "w") as full:
        assert postcli(*args, home=posts, stderr=full).returncode == 1


def test_with_stderr_closed_a_command_that_works_still_exits_0(posts):
    r = postcli("post", "list", "--json", home=posts, close=(2,))
    assert r.returncode == 0 and json.loads(r.stdout)["total"] == 1


def test_main_reports_an_unreportable_error_as_1(posts, monkeypatch):
    # In-process: before, main() itself raised AttributeError writing to a stderr that is None.
    from postcli.cli import main

    monkeypatch.setattr(sys, "argv", ["postcli", "post", "show", "999"])
    monkeypatch.setattr(sys, "stderr", None)
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 1


# --- COLUMNS that fit nothing -----------------------------------------------------------------


@pytest.mark.parametrize("columns", ["0", "5", "99999999"])
def test_columns_that_fit_nothing_fall_back_to_a_sane_width(posts, cli, columns):
    r = cli("post", "list", env={"COLUMNS": columns})
    assert r.exit_code == 0
    assert "café" in r.stdout and "draft" in r.stdout, r.stdout
    assert max(len(line) for line in r.stdout.splitlines()) <= 10_000


# --- float options: inf and nan are no number of seconds --------------------------------------

FLOAT_CASES = {
    "--wait": ["collect", "--worker", "--wait"],
    "--timeout": ["accounts", "login", "mastodon", "--instance", "http://127.0.0.1:9", "--timeout"],
}


def _float_options() -> set[str]:
    """Every float option of every command (the per-platform `accounts login` ones included)."""
    from postcli.cli import app

    found = set()

    def walk(cmd) -> None:  # type: ignore[no-untyped-def]
        if hasattr(cmd, "list_commands"):
            for name in cmd.list_commands(None):
                walk(cmd.get_command(None, name))
            return
        for p in cmd.params:
            if getattr(getattr(p, "type_descriptor", None), "annotation", None) is float:
                found.add(p.opts[0])

    walk(typer.main.get_command(app))
    return found


def test_every_float_option_is_covered_here():
    assert _float_options() == set(FLOAT_CASES)


@pytest.mark.parametrize("key", sorted(FLOAT_CASES))
@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400", "Infinity", "NaN"])
def test_float_options_refuse_inf_and_nan(cli, key, value):
    r = cli(*FLOAT_CASES[key], value)
    assert r.exit_code == 2, (key, value, r.stdout, r.stderr)
    assert key in r.stderr and "number of seconds" in r.stderr, r.stderr


def test_the_login_timeout_variable_refuses_inf(cli):
    r = cli("accounts", "login", "mastodon", "--instance", "http://127.0.0.1:9", env={"POSTCLI_LOGIN_TIMEOUT": "inf"})
    assert r.exit_code == 2 and "POSTCLI_LOGIN_TIMEOUT" in r.stderr, r.stderr


_BAR_PROBE = (
    "from postcli import output\n"
    "bar = output.StatusBar('working', show=True)\n"
    "bar.update(1, 2)\n"
    "output.warn('careful')\n"
    "output.line('the result')\n"
    "bar.stop()\n"
    "output.line('after')\n"
)


def test_printing_while_a_progress_bar_is_live_goes_where_it_belongs(tmp_path):
    """A live bar (stderr a terminal) swaps sys.stdout and sys.stderr for proxies that print through
    its console. Printed through them, a warning looped forever (a hung `postcli demo` or
    `collect` on a terminal) and standard output would have gone to the terminal's stderr. Now a
    warning shows on the terminal and the result stays on standard output (here a file)."""
    from support.terminal import run_on_terminal

    out = tmp_path / "stdout"
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE")}
    env["TERM"] = "xterm-256color"
    with out.open("wb") as fh:
        code, seen = run_on_terminal(
            [sys.executable, "-c", _BAR_PROBE], columns=80, env=env, stdout=fh.fileno(), timeout=60
        )
    assert code == 0, seen
    assert b"careful" in seen and b"the result" not in seen
    assert out.read_text() == "the result\nafter\n"
