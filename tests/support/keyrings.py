"""Keyring backends that fail, lie or hang, for the one keyring wrapper (credentials.KeyringStore).

Each keeps its secrets in a JSON file in POSTCLI_HOME, so a secret saved by one postcli process
is there for the next. Use in-process with `use_keyring(monkeypatch, Plain())`, or in a
subprocess with PYTHON_KEYRING_BACKEND=support.keyrings.<Class> and the tests directory on
PYTHONPATH (`keyring_env("Class")`), as a user's configured backend would be loaded.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordDeleteError

TESTS = Path(__file__).resolve().parents[1]
# A hanging call waits on this; tests set it when they are done so no thread is left behind.
release = threading.Event()


class Plain(KeyringBackend):
    """A working keyring."""

    priority = 1  # type: ignore[assignment]

    def _path(self) -> Path:
        return Path(os.environ["POSTCLI_HOME"]) / "test-keyring.json"

    def _read(self) -> dict[str, str]:
        try:
            return json.loads(self._path().read_text())
        except FileNotFoundError:
            return {}

    def _write(self, data: dict[str, str]) -> None:
        self._path().write_text(json.dumps(data))

    def get_password(self, service: str, username: str) -> str | None:
        return self._read().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        self._write({**self._read(), f"{service}/{username}": password})

    def delete_password(self, service: str, username: str) -> None:
        data = self._read()
        if data.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError("Password not found")  # what the real backends raise
        self._write(data)


class RaisesOnSet(Plain):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")


class RaisesOnGet(Plain):
    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown: The name is not activatable")


class RaisesOnDelete(Plain):
    def delete_password(self, service: str, username: str) -> None:
        raise PasswordDeleteError("Cannot delete an item of a locked collection")


class DropsWrites(Plain):
    """Says yes to every write and keeps nothing."""

    def set_password(self, service: str, username: str, password: str) -> None:
        pass


class KeepsOnDelete(Plain):
    """Says yes to a delete and keeps the secret."""

    def delete_password(self, service: str, username: str) -> None:
        pass


class Hangs(Plain):
    """Every call blocks (a locked keyring waiting on a prompt nobody sees), until the test
    releases it or, on a postcli that never gives up, a minute has passed."""

    def _hang(self) -> None:
        if not release.wait(60):
            raise RuntimeError("the test keyring hung for 60 seconds and nobody gave up on it")

    def get_password(self, service: str, username: str) -> str | None:
        self._hang()
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self._hang()

    def delete_password(self, service: str, username: str) -> None:
        self._hang()


def use_keyring(monkeypatch, backend: KeyringBackend) -> None:  # type: ignore[no-untyped-def]
    """This process's keyring is `backend` until the test ends (keyring caches the one it loaded)."""
    import keyring.core

    monkeypatch.setattr(keyring.core, "_keyring_backend", backend)


def keyring_env(name: str) -> dict[str, str]:
    """The environment that makes a postcli subprocess load support.keyrings.<name>."""
    path = os.pathsep.join(p for p in (str(TESTS), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHON_KEYRING_BACKEND": f"support.keyrings.{name}", "PYTHONPATH": path}
