"""Shared fixtures: every test gets its own POSTCLI_HOME, a real SQLite file, no keyring; `cli`;
`backend` (SQLite and PostgreSQL) and pgserver's `pg_server`/`pg_url`. Helpers live in tests/support/."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from pgserver import pg_server, pg_url  # noqa: F401  (fixtures)
from postcli.store import session as store_session
from support.backend import backend  # noqa: F401  (fixture)
from support.cli import Cli

# Hypothesis must not judge the machine: no per-example deadline and no "input generation is
# slow" health check (both fail on a busy CI runner while the code is fine). A test that needs a
# bound on time is a benchmark, not a test (benchmarks/).
settings.register_profile(
    "postcli", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
settings.load_profile("postcli")

# Every POSTCLI_* variable of the developer's shell (tokens, secrets, a database URL, a
# timeout) is cleared, so a test sees only what it sets itself; and TZ, which the time reader
# must never depend on.
_ENV_KEEP = ("POSTCLI_HOME",)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("POSTCLI_HOME", str(h))
    # CI has no OS keyring; make every machine behave like CI so tests never
    # touch a developer's real keyring and the 0600 file fallback is what runs.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    import os

    for name in [n for n in os.environ if n.startswith("POSTCLI_") and n not in _ENV_KEEP] + ["TZ"]:
        monkeypatch.delenv(name, raising=False)
    store_session.reset()
    yield h
    store_session.reset()


@pytest.fixture
def cli() -> Cli:
    return Cli()
