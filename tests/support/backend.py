"""Which store postcli uses: `use()` points it at SQLite (the file in POSTCLI_HOME) or at a
PostgreSQL URL, and the `backend` fixture runs a test once on each. The PostgreSQL server is
tests/pgserver.py's, started once per session (so once per xdist worker); each test gets its
own empty database on it."""

from __future__ import annotations

from pathlib import Path

import pytest

BACKENDS = ("sqlite", "postgresql")


def use(monkeypatch: pytest.MonkeyPatch, home: Path, url: str | None) -> None:
    """Point postcli at a store (None = the SQLite file in `home`) and forget cached engines."""
    from postcli.store import session as store_session

    home.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("POSTCLI_HOME", str(home))
    if url is None:
        monkeypatch.delenv("POSTCLI_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("POSTCLI_DATABASE_URL", url)
    store_session.reset()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """ "sqlite" or "postgresql": postcli's store for this test (a fresh database either way)."""
    if request.param == "postgresql":
        use(monkeypatch, home, request.getfixturevalue("pg_url"))
    return request.param
