"""Driving postcli: in-process through Typer's CliRunner (`Cli`, the `cli` fixture), or as the
installed entry point in a separate process (`run_postcli`, `kill_when`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


class Cli:
    """Runs the real Typer app in-process; stdout and stderr kept apart."""

    def __init__(self) -> None:
        from typer.testing import CliRunner

        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        from postcli.cli import app

        result = self.runner.invoke(app, list(args), input=input, env=env, catch_exceptions=False)
        return result

    def json(self, *args: str, input: str | None = None, code: int = 0):  # type: ignore[no-untyped-def]
        result = self(*args, "--json", input=input)
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        return json.loads(result.stdout)


def run_postcli(
    *args: str, env: dict[str, str] | None = None, input: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """The installed entry point as a separate process (same interpreter/venv)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        postcli_argv() + list(args), env=full_env, input=input, capture_output=True, text=True, timeout=timeout
    )


def postcli_argv() -> list[str]:
    """The installed entry point (same interpreter/venv), or `python -m postcli` without one."""
    exe = Path(sys.executable).with_name("postcli")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "postcli"]


def wait_until(proc: subprocess.Popen, reached, timeout: float = 30, every: float = 0.05) -> None:  # type: ignore[type-arg]
    """Return once `reached()` is true; fail if `proc` exits first or `timeout` passes."""
    import time

    deadline = time.monotonic() + timeout
    while not reached():
        assert time.monotonic() < deadline, "the process never got there"
        assert proc.poll() is None, proc.communicate()
        time.sleep(every)


def kill_when(proc: subprocess.Popen, reached, timeout: float = 30) -> None:  # type: ignore[type-arg]
    """SIGKILL `proc` as soon as `reached()` is true (e.g. the fake saw the request)."""
    import signal

    try:
        wait_until(proc, reached, timeout)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
