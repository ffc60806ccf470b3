"""Secrets: the OS keyring when a usable backend exists, else a 0600 JSON file.

Never in the database. POSTCLI_CREDENTIALS=file|keyring forces a backend
(config key [credentials] backend works too). Each account's secrets are one
JSON object keyed by the account id.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from postcli import settings
from postcli.errors import BadSettings, PostcliError, ReconnectRequired
from postcli.secrets_redact import register_secret

SERVICE = "postcli"
_lock = threading.Lock()


def _key(account_id: int | str) -> str:
    return f"account:{account_id}"


class FileStore:
    """A 0600 JSON file; written atomically so a crash never leaves half a file."""

    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, Any]:
        try:
            text = self.path.read_bytes().decode("utf-8")
        except FileNotFoundError:
            return {}
        except UnicodeDecodeError:
            raise self._damaged("is not UTF-8 text") from None
        except IsADirectoryError:
            raise self._damaged("is a directory, not a file") from None
        self._keep_private()
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise self._damaged("is not valid JSON") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise self._damaged("does not hold postcli's credentials (a JSON object of accounts)")
        return data

    def _damaged(self, what: str) -> BadSettings:
        return BadSettings(
            f"the credentials file {self.path} {what}.",
            hint="Move it aside and reconnect your accounts with `postcli accounts add` (or restore it from a backup).",
        )

    def _keep_private(self) -> None:
        """Secrets readable by others are a leak already: say so, and close it."""
        try:
            mode = self.path.stat().st_mode & 0o777
        except OSError:
            return
        if mode & 0o077:
            try:
                os.chmod(self.path, 0o600)
            except OSError:
                settings.notice(
                    f"the credentials file {self.path} is readable by others (mode {mode:04o}) and could not be "
                    f"made private: run `chmod 600 {self.path}`."
                )
                return
            settings.notice(
                f"the credentials file {self.path} was readable by others (mode {mode:04o}); "
                "it is now 0600. Consider rotating the tokens in it."
            )

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".credentials.", suffix=".tmp")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        os.chmod(self.path, 0o600)

    def get(self, key: str) -> str | None:
        return self._read().get(key)

    def set(self, key: str, value: str) -> None:
        with _file_lock(self.path):
            data = self._read()
            data[key] = value
            self._write(data)

    def delete(self, key: str) -> None:
        with _file_lock(self.path):
            data = self._read()
            if data.pop(key, None) is not None:
                self._write(data)


class _file_lock:
    """An advisory lock so two postcli processes never lose each other's update."""

    def __init__(self, path: Path) -> None:
        self.lock_path = path.with_suffix(".lock")

    def __enter__(self) -> None:
        import fcntl

        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.lock_path, "a")  # noqa: SIM115
        os.chmod(self.lock_path, 0o600)
        fcntl.flock(self.fh, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        import fcntl

        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()


class KeyringStore:
    name = "keyring"

    def __init__(self, kr: Any) -> None:
        self.kr = kr

    def get(self, key: str) -> str | None:
        return self.kr.get_password(SERVICE, key)

    def set(self, key: str, value: str) -> None:
        self.kr.set_password(SERVICE, key, value)

    def delete(self, key: str) -> None:
        try:
            self.kr.delete_password(SERVICE, key)
        except Exception:  # noqa: BLE001 - already absent is fine
            pass


def _usable_keyring() -> Any | None:
    try:
        import keyring
        from keyring.backends import fail

        kr = keyring.get_keyring()
    except Exception:  # noqa: BLE001 - any keyring trouble means "not usable"
        return None
    if isinstance(kr, fail.Keyring):
        return None
    # The chainer with no real backends, or a null backend, cannot keep secrets.
    if type(kr).__name__ in ("ChainerBackend",) and not getattr(kr, "backends", None):
        return None
    if getattr(kr, "priority", 1) <= 0:
        return None
    return keyring


def backend() -> FileStore | KeyringStore:
    env = os.environ.get("POSTCLI_CREDENTIALS")
    choice = env or settings.config().raw.get("credentials", {}).get("backend", "auto")
    if choice not in ("auto", "file", "keyring"):
        where = "POSTCLI_CREDENTIALS" if env else f"[credentials] backend in {settings.paths().config_file}"
        raise BadSettings(f"unknown credentials backend {choice!r} ({where}).", hint="Use one of: auto, file, keyring.")
    if choice in ("auto", "keyring"):
        kr = _usable_keyring()
        if kr is not None:
            return KeyringStore(kr)
        if choice == "keyring":
            raise PostcliError(
                "no usable OS keyring backend was found.",
                hint="Install one (e.g. the Secret Service on Linux) or set POSTCLI_CREDENTIALS=file.",
            )
    return FileStore(settings.paths().credentials_file)


def load(account_id: int | str) -> dict[str, Any]:
    with _lock:
        raw = backend().get(_key(account_id))
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except (TypeError, json.JSONDecodeError):
        data = None
    if not isinstance(data, dict):
        raise ReconnectRequired(
            f"the stored credentials of account {account_id} are damaged.",
            hint="Reconnect it with `postcli accounts add` (the same account is updated in place).",
        )
    register_secret(data)
    return data


def save(account_id: int | str, secrets: dict[str, Any]) -> None:
    register_secret(secrets)
    with _lock:
        backend().set(_key(account_id), json.dumps(secrets))


def delete(account_id: int | str) -> None:
    with _lock:
        backend().delete(_key(account_id))


# App credentials for browser sign-in (a Mastodon instance's registered client,
# keyed e.g. "mastodon:https://mastodon.social"): secrets like an account's.
def load_app(name: str) -> dict[str, Any]:
    with _lock:
        raw = backend().get(f"app:{name}")
    if not raw:
        return {}
    data = json.loads(raw)
    register_secret(data)
    return data


def save_app(name: str, data: dict[str, Any]) -> None:
    register_secret(data)
    with _lock:
        backend().set(f"app:{name}", json.dumps(data))


# One refresh of an account's rotating token at a time, across processes: a refresh token
# works once, so a second process refreshing with the same one would kill the account.
# Reentrant within a process (a refresh may retry itself); threads queue on the RLock.
_refresh_guard = threading.Lock()
_refresh_state: dict[str, list[Any]] = {}  # lock path -> [RLock, depth, open file]


class refresh_lock:  # noqa: N801 - used like a function: `with credentials.refresh_lock(id):`
    def __init__(self, account_id: int | str) -> None:
        self.path = settings.paths().config_dir / "locks" / f"refresh-{account_id}.lock"
        with _refresh_guard:
            self.state = _refresh_state.setdefault(str(self.path), [threading.RLock(), 0, None])

    def __enter__(self) -> None:
        import fcntl

        self.state[0].acquire()
        try:
            if self.state[1] == 0:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fh = open(self.path, "a")  # noqa: SIM115 - held until the outermost exit
                os.chmod(self.path, 0o600)
                fcntl.flock(fh, fcntl.LOCK_EX)
                self.state[2] = fh
            self.state[1] += 1
        except BaseException:
            self.state[0].release()
            raise

    def __exit__(self, *exc: object) -> None:
        import fcntl

        try:
            self.state[1] -= 1
            if self.state[1] == 0:
                fcntl.flock(self.state[2], fcntl.LOCK_UN)
                self.state[2].close()
                self.state[2] = None
        finally:
            self.state[0].release()
