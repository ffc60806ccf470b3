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
from postcli.secrets_redact import redact, register_secret

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


class KeyringFailed(PostcliError):
    """The OS keyring refused, failed, hung or did not keep a secret (exit 1): the message
    names the backend, the hint the way out (POSTCLI_CREDENTIALS=file)."""


DEFAULT_KEYRING_TIMEOUT = 60.0  # long enough to type a password into an unlock prompt
_FILE_HINT = (
    "Or keep postcli's secrets in a 0600 file instead: set POSTCLI_CREDENTIALS=file "
    "(accounts whose secrets are in the keyring then need `postcli accounts add` or `login` again)."
)


def keyring_timeout() -> float:
    env = os.environ.get("POSTCLI_KEYRING_TIMEOUT")
    if not env:
        return DEFAULT_KEYRING_TIMEOUT
    try:
        value = float(env)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise BadSettings(
            f"POSTCLI_KEYRING_TIMEOUT={env!r} is not a number of seconds > 0.",
            hint="e.g. POSTCLI_KEYRING_TIMEOUT=60, or unset it.",
        )
    return value


class _Hung(Exception):
    pass


def _bounded(fn: Any, *args: Any, timeout: float | None = None) -> Any:
    """fn(*args) in a worker thread: a keyring waiting on a locked D-Bus service or a prompt
    nobody sees would otherwise block postcli for ever. A call that hangs is abandoned (daemon)."""
    result: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            result["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            result["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="postcli-keyring", daemon=True).start()
    if not done.wait(keyring_timeout() if timeout is None else timeout):
        raise _Hung
    if "error" in result:
        raise result["error"]
    return result["value"]


def _label(kr: Any) -> str:
    """The backend as PYTHON_KEYRING_BACKEND names it (the chainer: the ones it chains)."""
    inner = getattr(kr, "backends", None)
    if type(kr).__name__ == "ChainerBackend" and inner:
        return " + ".join(_label(b) for b in inner)
    return f"{type(kr).__module__}.{type(kr).__qualname__}"


class KeyringStore:
    """The one wrapper around the OS keyring: every call bounded in time, every failure one
    message naming the backend, every write read back, every delete checked."""

    name = "keyring"

    def __init__(self, kr: Any) -> None:
        self.kr = kr  # a keyring backend
        self.label = _label(kr)

    def _call(self, doing: str, key: str, fn: Any, *args: Any) -> Any:
        try:
            return _bounded(fn, SERVICE, key, *args)
        except _Hung:
            raise KeyringFailed(
                f"the OS keyring ({self.label}) did not answer within {keyring_timeout():g} seconds "
                f"while {doing} the secret {key!r}.",
                hint="It may be locked, waiting for a password prompt you cannot see: unlock it and try again "
                "(POSTCLI_KEYRING_TIMEOUT sets the wait). " + _FILE_HINT,
            ) from None
        except Exception as exc:  # noqa: BLE001 - any backend's error, said once
            raise KeyringFailed(
                f"the OS keyring ({self.label}) failed while {doing} the secret {key!r}: {_reason(exc)}",
                hint="Unlock or repair the keyring and try again. " + _FILE_HINT,
            ) from None

    def get(self, key: str) -> str | None:
        value = self._call("reading", key, self.kr.get_password)
        return value if isinstance(value, str) else None

    def set(self, key: str, value: str) -> None:
        self._call("saving", key, self.kr.set_password, value)
        # A keyring that drops writes (a null or read-only backend, a locked collection that
        # says yes) would leave an account "connected" with no token behind it.
        if self._call("reading back", key, self.kr.get_password) != value:
            raise KeyringFailed(
                f"the OS keyring ({self.label}) accepted the secret {key!r} but did not give it back "
                "when postcli read it right after saving: it does not keep what it is given.",
                hint="Nothing was stored in postcli for it. Fix the keyring, or choose another backend with "
                "PYTHON_KEYRING_BACKEND. " + _FILE_HINT,
            )

    def delete(self, key: str) -> None:
        failure: str | None = None
        try:
            self._call("deleting", key, self.kr.delete_password)
        except KeyringFailed as exc:
            failure = exc.message  # "not found" is fine: whether it is gone is read below
        try:
            left = self.get(key) is not None
        except KeyringFailed as exc:
            failure, left = failure or exc.message, True
        if left:
            raise SecretLeft(
                f"the secret {key!r} is still in the OS keyring ({self.label})"
                + (f": {failure}" if failure else ": the keyring kept it after postcli deleted it."),
                hint=f"Delete it with your keyring's own tool (service {SERVICE!r}, user {key!r}), or once the "
                f"keyring works: `python3 -m keyring -b {self.label.split(' + ')[0]} del {SERVICE} {key}`.",
            )


class SecretLeft(KeyringFailed):
    """A delete the keyring did not carry out: the secret is still there."""


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return (redact(text) if text else type(exc).__name__).rstrip(".") + "."


def _usable_keyring() -> Any | None:
    timeout = keyring_timeout()  # a bad POSTCLI_KEYRING_TIMEOUT is said, not taken for "no keyring"
    try:
        import keyring
        from keyring.backends import fail

        # The first call loads and probes the backends (D-Bus for the Secret Service): bounded too.
        kr = _bounded(keyring.get_keyring, timeout=timeout)
    except _Hung:
        raise KeyringFailed(
            f"the OS keyring did not answer within {timeout:g} seconds while postcli looked for it"
            + (f" ({os.environ['PYTHON_KEYRING_BACKEND']})." if os.environ.get("PYTHON_KEYRING_BACKEND") else "."),
            hint="It may be locked, waiting for a password prompt you cannot see: unlock it and try again. "
            + _FILE_HINT,
        ) from None
    except Exception:  # noqa: BLE001 - any keyring trouble means "not usable"
        return None
    if isinstance(kr, fail.Keyring):
        return None
    # The chainer with no real backends, or a null backend, cannot keep secrets.
    if type(kr).__name__ in ("ChainerBackend",) and not getattr(kr, "backends", None):
        return None
    if getattr(kr, "priority", 1) <= 0:
        return None
    return kr


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
    try:
        data = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        data = {}
    if not isinstance(data, dict):  # a damaged cache entry: registering the app anew replaces it
        data = {}
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
