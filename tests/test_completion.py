"""Tab completion (issue 21 item 7), driven the way each shell drives it: bash through the script
`postcli --install-completion` installs, sourced into a real bash; zsh and fish through the
environment their scripts set (`_POSTCLI_COMPLETE`, `_TYPER_COMPLETE_ARGS`).

Commands and options complete from the app; platform names from the registry (through
services); account handles and post ids from the store, read as it is.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.cli import run_postcli

BIN = Path(sys.executable).with_name("postcli")
needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="no bash on this machine")


def _env(home: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "HOME": str(home.parent / "user"),  # where --install-completion writes
        "PATH": f"{BIN.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        # Typer's switch for naming the shell instead of detecting it from the parent processes.
        "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1",
        **extra,
    }


@pytest.fixture
def store(cli, home) -> dict[str, int]:
    a = cli.json("accounts", "add", "sandbox", "--handle", "ana.sandbox")["id"]
    cli.json("accounts", "add", "sandbox", "--handle", "bo.sandbox")
    first = cli.json("post", "create", "hello\nworld", "--to", "ana.sandbox", "--draft")["id"]
    second = cli.json("post", "create", "second post", "--to", "all", "--draft")["id"]
    return {"account": a, "first": first, "second": second}


def _installed_bash_script(home: Path) -> Path:
    done = subprocess.run(
        [str(BIN), "--install-completion", "bash"], env=_env(home), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    script = home.parent / "user" / ".bash_completions" / "postcli.sh"
    assert f"source '{script}'" in (home.parent / "user" / ".bashrc").read_text()
    return script


def _bash(home: Path, script: Path, words: list[str]) -> list[str]:
    """What bash offers for `words` (the last one being completed), through the installed script."""
    quoted = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    program = (
        f"source '{script}'\n"
        f"COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}\n"
        "complete -p postcli >/dev/null || exit 9\n"
        'func=$(complete -p postcli | sed -E "s/.*-F ([^ ]+).*/\\1/")\n'
        '"$func" postcli "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"\n'
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(["bash", "--norc", "-c", program], env=_env(home), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == "", (done.returncode, done.stderr)
    return [line for line in done.stdout.splitlines() if line]


@needs_bash
def test_bash_completes_commands_options_platforms_accounts_and_posts(home, store):
    from postcli.platforms import registry

    script = _installed_bash_script(home)
    assert _bash(home, script, ["postcli", ""])[:3] == ["publish-due", "collect", "demo"]
    assert _bash(home, script, ["postcli", "an"]) == ["analytics"]
    assert _bash(home, script, ["postcli", "analytics", "b"]) == ["best-times"]
    assert "--platform" in _bash(home, script, ["postcli", "analytics", "overview", "--"])
    assert _bash(home, script, ["postcli", "analytics", "top", "--platform", ""]) == sorted(registry.platform_names())
    assert _bash(home, script, ["postcli", "collect", "--platform", "mas"]) == ["mastodon"]
    listed = sorted(registry.platform_names())
    assert _bash(home, script, ["postcli", "platforms", "t"]) == [p for p in listed if p.startswith("t")]
    with_login = sorted(s.name for s in registry.specs() if s.signin is not None)  # generated from the specs
    assert _bash(home, script, ["postcli", "accounts", "login", ""]) == with_login
    assert _bash(home, script, ["postcli", "analytics", "overview", "-a", ""]) == ["ana.sandbox", "bo.sandbox"]
    assert _bash(home, script, ["postcli", "accounts", "show", "b"]) == ["bo.sandbox"]
    assert _bash(home, script, ["postcli", "post", "show", ""]) == [str(store["second"]), str(store["first"])]
    assert _bash(home, script, ["postcli", "post", "create", "x", "--to", ""]) == [
        "all",
        "sandbox",
        "ana.sandbox",
        "bo.sandbox",
    ]
    assert _bash(home, script, ["postcli", "analytics", "post", str(store["first"])]) == [str(store["first"])]


def _complete(home: Path, shell: str, line: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = _env(home, _POSTCLI_COMPLETE=f"complete_{shell}", _TYPER_COMPLETE_ARGS=line, **extra)
    return subprocess.run([str(BIN)], env=env, capture_output=True, text=True, timeout=60)


def test_zsh_gets_values_with_their_descriptions(home, store):
    done = _complete(home, "zsh", "postcli post show ")
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("_arguments '*: :((")
    # Each post with its status and the start of its text, on one line (the newline flattened).
    assert f'"{store["first"]}":"draft\\\\: hello world"' in done.stdout
    done = _complete(home, "zsh", "postcli accounts metrics a")
    assert '"ana.sandbox":"sandbox, id 1"' in done.stdout and "bo.sandbox" not in done.stdout


def test_fish_gets_values_with_their_descriptions(home, store):
    from postcli.platforms import registry

    done = _complete(home, "fish", "postcli analytics post ", _TYPER_COMPLETE_FISH_ACTION="get-args")
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.splitlines() == [
        f"{store['second']}\tdraft: second post",
        f"{store['first']}\tdraft: hello world",
    ]
    done = _complete(home, "fish", "postcli post list --platform t", _TYPER_COMPLETE_FISH_ACTION="get-args")
    assert done.stdout.split() == [p for p in sorted(registry.platform_names()) if p.startswith("t")]


def test_each_shell_gets_its_script_and_an_install(home):
    user = home.parent / "user"
    for shell, installed, needle in (
        ("bash", user / ".bash_completions" / "postcli.sh", "complete -o default -F _postcli_completion postcli"),
        ("zsh", user / ".zfunc" / "_postcli", "compdef _postcli_completion postcli"),
        ("fish", user / ".config" / "fish" / "completions" / "postcli.fish", "complete --command postcli"),
    ):
        shown = subprocess.run(
            [str(BIN), "--show-completion", shell], env=_env(home), capture_output=True, text=True, timeout=60
        )
        assert shown.returncode == 0 and needle in shown.stdout and "_POSTCLI_COMPLETE" in shown.stdout, shown.stderr
        done = subprocess.run(
            [str(BIN), "--install-completion", shell], env=_env(home), capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0 and installed.read_text().strip() == shown.stdout.strip(), done.stderr


def test_a_key_press_never_fails_loudly_nor_creates_a_store(home):
    done = _complete(home, "fish", "postcli post show ", _TYPER_COMPLETE_FISH_ACTION="get-args")
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "", "")
    assert not (home / "postcli.db").exists()  # nothing to offer, and nothing made for it
    (home / "config.toml").write_text("this is [not toml\n")
    done = _complete(home, "fish", "postcli accounts show ", _TYPER_COMPLETE_FISH_ACTION="get-args")
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "", "")
    done = _complete(home, "fish", "postcli analytics overview --platform b", _TYPER_COMPLETE_FISH_ACTION="get-args")
    assert done.stdout.split() == ["bluesky"]  # the registry needs no settings


def test_completion_code_runs_only_when_the_shell_asks(home, store):
    probe = (
        "import sys\nfrom postcli.cli import app\n"
        "try:\n    app(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write('\\nLOADED ' + str('postcli.services.shell_completion' in sys.modules))\n"
    )
    for args in (["--help"], ["post", "list", "--json"], ["analytics", "overview", "--json"]):
        done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=60)
        assert done.stderr.endswith("LOADED False"), (args, done.stderr)
    listed = run_postcli("post", "list", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout)["total"] == 2
