"""Every command's --help-listed options and arguments, fed empty, huge, negative, malformed,
not-UTF-8, inf and nan values; and every command run with an output encoding that is not UTF-8
and with a standard input that never ends (issue 23, class 5).

The command tree is read from the real Click tree (typer.main.get_command), so a new option is
fuzzed without touching this file. Whatever the value, postcli answers with a message and a
documented exit code: never "This is a bug", never a traceback (no --debug here).

Each case runs in its own copy of a small store (a sandbox account, a draft, a published post),
so a command that changes the store cannot affect the next case. Nothing here reaches a
network: sandbox accounts are simulated, and the proxy variables point at a closed port.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from postcli.store import session as store_session

# Commands that wait, loop or build a whole store of their own.
SKIP = {"demo"}
# Options that make a command wait for work instead of ending.
SKIP_OPTIONS = {("collect", "--wait")}

VALUES = {
    "empty": "",
    "blank": "   ",
    "huge": "9" * 40,  # past 2**63
    "negative": "-1",
    "malformed": "[/x]\x1b[31m%s{}\u202e:smile:",
    "not_utf8": "caf\udce9",  # invalid UTF-8 in argv arrives as a lone surrogate
    "inf": "inf",  # a float to Python, no number of anything to postcli
    "nan": "nan",
    "bad_url": "http://[::1",  # urllib raises ValueError on the unclosed IPv6 literal (issue 23)
}

# Combinations known to fail, each with the reason (issue and class). strict=True: once
# fixed, the xfail itself fails and must be removed. Empty: every combination passes.
KNOWN: dict[tuple[str, str, str], str] = {}

_NO_NETWORK = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "ALL_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "",
    "POSTCLI_TIMEOUT": "2",
}


def _commands():  # type: ignore[no-untyped-def]
    # Walked as click walks it, so the commands a group builds when asked (`accounts add` and
    # `accounts login`, one per platform) are fuzzed too.
    from support.reference import walk

    for path, cmd, _ctx in walk():
        if getattr(cmd, "list_commands", None) is None:
            yield path, cmd


def _is_flag(param) -> bool:  # type: ignore[no-untyped-def]
    return bool(getattr(param, "is_flag", False)) or bool(getattr(param, "count", False))


def _name(param) -> str:  # type: ignore[no-untyped-def]
    return param.opts[0] if param.param_type_name == "option" else param.name.upper()


def _base_args(cmd, fuzzed) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
    """Plausible values for the other required parameters: (options, positionals)."""
    opts: list[str] = []
    pos: list[str] = []
    for p in cmd.params:
        if p is fuzzed or not p.required or _is_flag(p):
            continue
        if p.param_type_name == "option":
            opts.append(f"{p.opts[0]}=1")
        else:
            pos.append("1")
    return opts, pos


def _generated(path: list[str]) -> bool:
    """`accounts add P` / `accounts login P`: one command per platform, built from the specs."""
    return len(path) == 3 and path[:2] in (["accounts", "add"], ["accounts", "login"])


def _cases():  # type: ignore[no-untyped-def]
    # The options every platform's add/login shares are declared once (cli/_connect.py): fuzzed
    # on the first platform listed; each other platform adds only the options of its own.
    shared: dict[str, set[str]] = {}
    for path, cmd in _commands():
        command = " ".join(path)
        if path[0] in SKIP:
            continue
        seen = shared.setdefault(" ".join(path[:2]), set()) if _generated(path) else set()
        first = not seen
        for param in cmd.params:
            if param.name == "help" or _is_flag(param) or (command, _name(param)) in SKIP_OPTIONS:
                continue
            if _generated(path):
                if not first and _name(param) in seen:
                    continue
                seen.add(_name(param))
            for label in VALUES:
                key = (command, _name(param), label)
                marks = [pytest.mark.xfail(strict=True, reason=KNOWN[key])] if key in KNOWN else []
                yield pytest.param(path, _name(param), label, marks=marks, id=f"{command}:{_name(param)}={label}")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small store: sandbox account 1, draft post 1, published post 2."""
    from postcli.cli import app

    tpl = tmp_path_factory.mktemp("fuzz-template")
    runner = CliRunner()
    env = {"POSTCLI_HOME": str(tpl), "POSTCLI_CREDENTIALS": "file", **_NO_NETWORK}
    for args in (
        ["accounts", "add", "sandbox", "--handle", "fuzz"],
        ["post", "create", "a draft", "--to", "1", "--draft"],
        ["post", "create", "a published post", "--to", "1"],
        ["post", "create", "café ☕ — naïve → 日本", "--to", "1", "--draft"],  # no 8-bit encoding carries it
    ):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 0, (args, result.stdout, result.stderr)
    store_session.reset()
    return tpl


@pytest.mark.parametrize(("path", "option", "label"), list(_cases()))
def test_no_value_makes_postcli_crash(path, option, label, template, home, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    from postcli.cli import app

    shutil.rmtree(home)
    shutil.copytree(template, home)
    monkeypatch.chdir(tmp_path)  # `db backup FILE` and friends write relative to here
    monkeypatch.setenv("POSTCLI_CREDENTIALS", "file")
    for k, v in _NO_NETWORK.items():
        monkeypatch.setenv(k, v)
    cmd = dict((" ".join(p), c) for p, c in _commands())[" ".join(path)]
    param = next(p for p in cmd.params if _name(p) == option)
    opts, pos = _base_args(cmd, param)
    value = VALUES[label]
    if param.param_type_name == "option":
        opts.append(f"{option}={value}")
    else:
        pos.append(value)
    if path[:2] == ["accounts", "login"]:
        opts.append("--no-browser")  # the address is "pasted" from the empty stdin: no waiting for a browser
    args = [*path, *opts, "--", *pos]
    result = CliRunner().invoke(app, args, input="")
    out = result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
    assert "This is a bug" not in out, (args, out)
    assert "Traceback" not in out, (args, out)
    assert result.exit_code in (0, 1, 2, 3, 4, 5, 6, 7), (args, result.exit_code, out)


# --- output paths (issue 23): every option or argument naming a file postcli writes ---------
# Found by its help ("- for standard output", which every such option says), so a new one is
# fuzzed too. Whatever the path, postcli answers with a message and a documented exit code,
# leaves no temporary file behind, and never changes what was there (postcli's own files, the
# user's, device nodes).

OUTPUT_PATHS = (
    "existing",
    "store",
    "store_wal",
    "config",
    "credentials",
    "media",
    "directory",
    "trailing_slash",
    "missing_folder",
    "parent_is_file",
    "long_name",
    "fifo",
    "dev_null",
    "dev_full",
    "dev_zero",
    "dev_stdout",
)


def _output_params():  # type: ignore[no-untyped-def]
    for path, cmd in _commands():
        if path[0] in SKIP:
            continue
        for param in cmd.params:
            if "standard output" in (getattr(param, "help", None) or ""):
                yield path, cmd, param


def test_every_output_file_option_is_found():
    found = {(" ".join(p), _name(param)) for p, _c, param in _output_params()}
    assert {("analytics report", "--html"), ("analytics digest", "--output"), ("db backup", "FILE")} <= found
    assert {(f"analytics {r}", o) for r in ("timeline", "growth", "heatmap") for o in ("--png", "--svg")} <= found


def _output_value(label: str, home: Path, scratch: Path) -> Path | str:
    import os

    (home / "config.toml").write_text("[collect]\nconcurrency = 2\n")
    (home / "media").mkdir(exist_ok=True)
    (home / "media" / "m.png").write_bytes(b"media")
    (scratch / "a-file").write_text("x")
    (scratch / "existing.out").write_text("the user's")
    (scratch / "a-dir").mkdir(exist_ok=True)
    if label == "fifo":
        os.mkfifo(scratch / "fifo")
    return {
        "existing": scratch / "existing.out",
        "store": home / "postcli.db",
        "store_wal": home / "postcli.db-wal",
        "config": home / "config.toml",
        "credentials": home / "credentials.json",
        "media": home / "media" / "m.png",
        "directory": scratch / "a-dir",
        "trailing_slash": f"{scratch / 'no-such-dir'}/",
        "missing_folder": scratch / "no-such-dir" / "out",
        "parent_is_file": scratch / "a-file" / "out",
        "long_name": scratch / ("n" * 300),
        "fifo": scratch / "fifo",
        "dev_null": "/dev/null",
        "dev_full": "/dev/full",
        "dev_zero": "/dev/zero",
        "dev_stdout": "/dev/stdout",
    }[label]


def _snapshot(*folders: Path) -> dict[str, tuple[int, bytes | None]]:
    import os

    seen: dict[str, tuple[int, bytes | None]] = {}
    for folder in folders:
        for root, _dirs, files in os.walk(folder):
            for name in files:
                p = Path(root) / name
                if p.name.endswith(("-shm", "-wal")):
                    continue  # SQLite's own, changed by any open
                mode = p.lstat().st_mode
                seen[str(p)] = (mode, p.read_bytes() if p.is_file() and not p.is_symlink() else None)
    for dev in ("/dev/null", "/dev/full", "/dev/zero", "/dev/stdout"):
        if os.path.lexists(dev):
            seen[dev] = (os.lstat(dev).st_mode, None)
    return seen


@pytest.mark.parametrize(
    ("path", "option", "label"),
    [
        pytest.param(p, _name(param), label, id=f"{' '.join(p)}:{_name(param)}={label}")
        for p, _c, param in _output_params()
        for label in OUTPUT_PATHS
    ],
)
@pytest.mark.parametrize("force", [False, True], ids=["", "force"])
def test_no_output_path_destroys_anything(path, option, label, force, template, home, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    from postcli.cli import app

    shutil.rmtree(home)
    shutil.copytree(template, home)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.chdir(scratch)
    monkeypatch.setenv("POSTCLI_CREDENTIALS", "file")
    cmd = dict((" ".join(p), c) for p, c in _commands())[" ".join(path)]
    param = next(p for p in cmd.params if _name(p) == option)
    opts, pos = _base_args(cmd, param)
    value = str(_output_value(label, home, scratch))
    before = _snapshot(home, scratch)
    if param.param_type_name == "option":
        opts.append(f"{option}={value}")
    else:
        pos.append(value)
    args = [*path, *opts, *(["--force"] if force else []), "--", *pos]
    result = CliRunner().invoke(app, args, input="")
    out = result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
    assert "This is a bug" not in out and "Traceback" not in out, (args, out)
    assert [p.name for p in scratch.rglob(".postcli-*")] == [], args
    if label == "existing" and force:  # the one case that may write: the user's own file, as asked
        assert result.exit_code == 0, (args, out)
        assert (scratch / "existing.out").read_bytes() != b"the user's", args
        return
    assert result.exit_code == 2, (args, result.exit_code, out)  # each of these is the user's to fix
    assert _snapshot(home, scratch) == before, args  # nothing written, nothing replaced


def _fsize_limited() -> None:
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))  # above the store's 32 KB -shm


@pytest.mark.parametrize(
    ("path", "option"),
    [pytest.param(p, _name(param), id=f"{' '.join(p)}:{_name(param)}") for p, _c, param in _output_params()],
)
def test_a_full_device_is_named_and_leaves_nothing(path, option, template, home, tmp_path):  # type: ignore[no-untyped-def]
    """The full device as RLIMIT_FSIZE makes it (any user, any container; tests/test_output_files.py
    also fills a real tmpfs where a mount namespace can be made)."""
    import os
    import subprocess
    import sys

    shutil.rmtree(home)
    shutil.copytree(template, home)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    cmd = dict((" ".join(p), c) for p, c in _commands())[" ".join(path)]
    param = next(p for p in cmd.params if _name(p) == option)
    opts, pos = _base_args(cmd, param)
    target = scratch / "out"
    if param.param_type_name == "option":
        opts.append(f"{option}={target}")
    else:
        pos.append(str(target))
    exe = Path(sys.executable).with_name("postcli")
    argv = [str(exe) if exe.exists() else "postcli", *path, *opts, "--", *pos]
    env = dict(os.environ, POSTCLI_HOME=str(home), POSTCLI_CREDENTIALS="file", **_NO_NETWORK)
    r = subprocess.run(argv, preexec_fn=_fsize_limited, capture_output=True, text=True, timeout=120, env=env)
    assert "This is a bug" not in r.stderr and "Traceback" not in r.stderr, (argv, r.stderr)
    assert r.returncode in (0, 1), (argv, r.returncode, r.stderr)
    if r.returncode == 1:
        assert "file size limit" in r.stderr, (argv, r.stderr)
        assert not target.exists()
    assert [p.name for p in scratch.iterdir() if p.name != "out"] == [], argv


# --- whole commands: an output encoding that is not UTF-8, a standard input that never ends ----


def _whole_command_cases():  # type: ignore[no-untyped-def]
    for path, _cmd in _commands():
        if path[0] not in SKIP:
            yield pytest.param(path, id=" ".join(path))


def _prepare(home, tmp_path, monkeypatch, template) -> None:  # type: ignore[no-untyped-def]
    shutil.rmtree(home)
    shutil.copytree(template, home)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("POSTCLI_CREDENTIALS", "file")
    for k, v in _NO_NETWORK.items():
        monkeypatch.setenv(k, v)


def _check(result, args) -> None:  # type: ignore[no-untyped-def]
    out = result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
    assert "This is a bug" not in out and "Traceback" not in out, (args, out)
    assert result.exit_code in (0, 1, 2, 3, 4, 5, 6, 7), (args, result.exit_code, out)


@pytest.mark.parametrize("charset", ["ascii", "latin-1"])
@pytest.mark.parametrize("path", list(_whole_command_cases()))
def test_no_output_encoding_makes_postcli_crash(path, charset, template, home, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """`PYTHONIOENCODING=latin-1` or `LC_ALL=C` (UTF-8 mode off): print what the encoding carries."""
    from postcli.cli import app

    _prepare(home, tmp_path, monkeypatch, template)
    cmd = dict((" ".join(p), c) for p, c in _commands())[" ".join(path)]
    opts, pos = _base_args(cmd, None)
    args = [*path, *opts, "--", *pos]
    _check(CliRunner(charset=charset).invoke(app, args, input=""), args)


class EndlessInput(io.RawIOBase):
    """A standard input that never ends (`yes`, /dev/zero). Reading far more than any bound
    postcli could mean (1 MiB) fails the test instead of hanging it."""

    LIMIT = 1 << 20

    def __init__(self, pattern: bytes) -> None:
        self.pattern = pattern
        self.given = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if self.given > self.LIMIT:
            raise AssertionError(f"read more than {self.LIMIT} bytes of an endless standard input")
        n = len(buffer)
        buffer[:n] = (self.pattern * (n // len(self.pattern) + 1))[:n]
        self.given += n
        return n


def _stdin_args(cmd) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
    """Base arguments, with every --*-stdin flag set and a post TEXT of "-" (read from stdin)."""
    opts, pos = _base_args(cmd, None)
    opts += [p.opts[0] for p in cmd.params if _is_flag(p) and p.opts[0].endswith("-stdin")]
    names = [p.name for p in cmd.params if p.param_type_name == "argument" and p.required]
    pos = ["-" if name == "text" else value for name, value in zip(names, pos)]
    return opts, pos


@pytest.mark.parametrize("pattern", [b"y\n", b"\0"], ids=["yes", "dev-zero"])
@pytest.mark.parametrize("path", list(_whole_command_cases()))
def test_no_endless_stdin_makes_postcli_hang(path, pattern, template, home, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    import typer.testing

    from postcli.cli import app

    _prepare(home, tmp_path, monkeypatch, template)
    cmd = dict((" ".join(p), c) for p, c in _commands())[" ".join(path)]
    opts, pos = _stdin_args(cmd)
    args = [*path, *opts, "--", *pos]
    # The runner takes only bytes as input: hand it the endless stream instead.
    endless = io.BufferedReader(EndlessInput(pattern))
    monkeypatch.setattr(typer.testing, "make_input_stream", lambda _input, _charset: endless)
    _check(CliRunner().invoke(app, args), args)
