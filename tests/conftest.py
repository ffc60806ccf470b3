"""Shared fixtures: every test gets its own POSTCLI_HOME, a real SQLite file, no keyring."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from postcli.store import session as store_session

_ENV_TO_CLEAR = (
    "POSTCLI_DATABASE_URL",
    "POSTCLI_BLUESKY_PASSWORD",
    "POSTCLI_MASTODON_TOKEN",
    "POSTCLI_THREADS_TOKEN",
    "POSTCLI_THREADS_APP_SECRET",
    "POSTCLI_INSTAGRAM_TOKEN",
    "POSTCLI_INSTAGRAM_APP_SECRET",
    "POSTCLI_FACEBOOK_TOKEN",
    "POSTCLI_FACEBOOK_APP_SECRET",
    "POSTCLI_TUMBLR_TOKEN",
    "POSTCLI_TUMBLR_REFRESH_TOKEN",
    "POSTCLI_TUMBLR_CLIENT_SECRET",
    "POSTCLI_CREDENTIALS",
    "POSTCLI_DEBUG",
    "TZ",
)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("POSTCLI_HOME", str(h))
    # CI has no OS keyring; make every machine behave like CI so tests never
    # touch a developer's real keyring and the 0600 file fallback is what runs.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    for name in _ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    store_session.reset()
    yield h
    store_session.reset()


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


@pytest.fixture
def cli() -> Cli:
    return Cli()


def run_postcli(*args: str, env: dict[str, str] | None = None, input: str | None = None,
                timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The installed entry point as a separate process (same interpreter/venv)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    exe = Path(sys.executable).with_name("postcli")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "postcli"]
    return subprocess.run(cmd + list(args), env=full_env, input=input, capture_output=True, text=True, timeout=timeout)


def kill_when(proc: subprocess.Popen, reached, timeout: float = 30) -> None:  # type: ignore[type-arg]
    """SIGKILL `proc` as soon as `reached()` is true (e.g. the fake saw the request)."""
    import signal
    import time

    deadline = time.monotonic() + timeout
    try:
        while not reached():
            assert time.monotonic() < deadline, "the process never got there"
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
