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
    "POSTCLI_PINTEREST_TOKEN",
    "POSTCLI_PINTEREST_REFRESH_TOKEN",
    "POSTCLI_PINTEREST_CLIENT_ID",
    "POSTCLI_PINTEREST_CLIENT_SECRET",
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


@pytest.fixture
def cli() -> Cli:
    return Cli()
