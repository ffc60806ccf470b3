"""Issue 23 items 5 and 7: keyrings that raise, lie or hang go through one wrapper
(credentials.KeyringStore). A failure is one message naming the backend and the way out
(POSTCLI_CREDENTIALS=file), exit 1, never "This is a bug"; a write is read back; a delete
is checked; a call that blocks is timed out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from postcli import credentials
from support import keyrings
from support.cli import run_postcli


@pytest.fixture(autouse=True)
def _release_hung_calls():  # type: ignore[no-untyped-def]
    yield
    keyrings.release.set()  # a worker abandoned by a timeout ends with the test
    keyrings.release.clear()


def _connect_sandbox(cli) -> int:  # type: ignore[no-untyped-def]
    r = cli("accounts", "add", "sandbox", "--handle", "me.sandbox", "--json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)["id"]


def _keyring_file(home: Path) -> dict[str, str]:
    path = home / "test-keyring.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _one_clear_error(r, backend: str, *, suggests_file: bool = True) -> str:  # type: ignore[no-untyped-def]
    err = r.stderr
    assert r.exit_code == 1, (r.exit_code, r.stdout, err)
    assert "This is a bug" not in err and "Traceback" not in err
    assert err.startswith("error: ") and err.count("error:") == 1
    assert f"support.keyrings.{backend}" in err
    assert ("POSTCLI_CREDENTIALS=file" in err) is suggests_file
    return err


def test_a_working_keyring_round_trips_through_the_wrapper(cli, home, monkeypatch):
    keyrings.use_keyring(monkeypatch, keyrings.Plain())
    assert credentials.backend().name == "keyring"
    account_id = _connect_sandbox(cli)
    assert f"postcli/account:{account_id}" in _keyring_file(home)
    assert not (home / "credentials.json").exists()
    r = cli("post", "create", "hello", "--to", str(account_id))
    assert r.exit_code == 0, r.stderr
    r = cli("accounts", "remove", str(account_id))
    assert r.exit_code == 0, r.stderr
    assert r.stdout.startswith("Removed sandbox account")
    assert _keyring_file(home) == {}


def test_a_keyring_that_raises_on_set_is_one_message_in_a_fresh_process(home):
    """The issue's case: PYTHON_KEYRING_BACKEND pointing at a failing backend."""
    r = run_postcli("accounts", "add", "sandbox", "--handle", "me.sandbox", env=keyrings.keyring_env("RaisesOnSet"))
    r.exit_code = r.returncode  # type: ignore[attr-defined]
    err = _one_clear_error(r, "RaisesOnSet")
    assert "failed while saving the secret 'account:1': Failed to unlock the collection!" in err
    r = run_postcli("accounts", "list", "--json", env=keyrings.keyring_env("Plain"))
    assert r.returncode == 0 and json.loads(r.stdout) == []  # nothing half-connected


def test_a_keyring_that_raises_on_get_is_one_message(cli, home, monkeypatch):
    keyrings.use_keyring(monkeypatch, keyrings.Plain())
    account_id = _connect_sandbox(cli)
    keyrings.use_keyring(monkeypatch, keyrings.RaisesOnGet())
    r = cli("post", "create", "hello", "--to", str(account_id))
    err = _one_clear_error(r, "RaisesOnGet")
    assert "failed while reading the secret 'account:1': org.freedesktop.DBus.Error.ServiceUnknown" in err


def test_a_keyring_that_drops_writes_does_not_get_connected(cli, home, monkeypatch):
    keyrings.use_keyring(monkeypatch, keyrings.DropsWrites())
    r = cli("accounts", "add", "sandbox", "--handle", "me.sandbox")
    err = _one_clear_error(r, "DropsWrites")
    assert "Connected" not in r.stdout
    assert "did not give it back" in err
    keyrings.use_keyring(monkeypatch, keyrings.Plain())
    assert cli.json("accounts", "list", "--all") == []


@pytest.mark.parametrize(
    ("backend", "says"),
    [
        ("RaisesOnDelete", "Cannot delete an item of a locked collection"),
        ("KeepsOnDelete", "the keyring kept it after postcli deleted it"),
    ],
)
@pytest.mark.parametrize("purge", [False, True])
def test_remove_says_what_is_left_when_the_keyring_keeps_the_secret(cli, home, monkeypatch, backend, says, purge):
    keyrings.use_keyring(monkeypatch, keyrings.Plain())
    account_id = _connect_sandbox(cli)
    keyrings.use_keyring(monkeypatch, getattr(keyrings, backend)())
    r = cli("accounts", "remove", str(account_id), *(["--purge", "--yes"] if purge else []))
    err = _one_clear_error(r, backend, suggests_file=False)
    assert "Removed" not in r.stdout
    assert f"sandbox account me.sandbox (id {account_id}) is removed from postcli, but its secret is not" in err
    assert says in err
    assert f"service 'postcli', user 'account:{account_id}'" in err  # what is left, and where
    assert f"del postcli account:{account_id}" in err  # how to remove it
    assert f"postcli/account:{account_id}" in _keyring_file(home)
    keyrings.use_keyring(monkeypatch, keyrings.Plain())
    assert cli.json("accounts", "list") == []  # the account itself is gone


def test_remove_is_quiet_when_the_secret_is_already_gone(cli, home, monkeypatch):
    keyrings.use_keyring(monkeypatch, keyrings.Plain())
    account_id = _connect_sandbox(cli)
    (home / "test-keyring.json").write_text("{}")  # deleted by hand: the backend says "not found"
    r = cli("accounts", "remove", str(account_id))
    assert r.exit_code == 0, r.stderr
    assert r.stdout.startswith("Removed") and r.stderr == ""


def test_a_keyring_that_hangs_is_timed_out_naming_the_backend(home):
    """A subprocess, so that on a postcli without the timeout this fails (TimeoutExpired)
    instead of hanging the test run."""
    env = {**keyrings.keyring_env("Hangs"), "POSTCLI_KEYRING_TIMEOUT": "0.5"}
    r = run_postcli("accounts", "add", "sandbox", "--handle", "me.sandbox", env=env, timeout=30)
    r.exit_code = r.returncode  # type: ignore[attr-defined]
    err = _one_clear_error(r, "Hangs")
    assert "did not answer within 0.5 seconds while saving the secret 'account:1'" in err
    r = run_postcli("accounts", "list", "--json", env=keyrings.keyring_env("Plain"))
    assert r.returncode == 0 and json.loads(r.stdout) == []


def test_a_hanging_read_is_timed_out_too(cli, home, monkeypatch):
    keyrings.use_keyring(monkeypatch, keyrings.Plain())
    account_id = _connect_sandbox(cli)
    keyrings.use_keyring(monkeypatch, keyrings.Hangs())
    monkeypatch.setenv("POSTCLI_KEYRING_TIMEOUT", "0.2")
    r = cli("post", "create", "hello", "--to", str(account_id))
    err = _one_clear_error(r, "Hangs")
    assert "did not answer within 0.2 seconds while reading the secret 'account:1'" in err


@pytest.mark.parametrize("value", ["0", "-1", "soon", "inf", "nan"])
def test_a_bad_keyring_timeout_is_bad_settings(cli, monkeypatch, value):
    keyrings.use_keyring(monkeypatch, keyrings.Plain())
    monkeypatch.setenv("POSTCLI_KEYRING_TIMEOUT", value)
    r = cli("accounts", "add", "sandbox")
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert "POSTCLI_KEYRING_TIMEOUT" in r.stderr and "This is a bug" not in r.stderr


def test_a_damaged_app_registration_is_registered_anew_not_a_crash(home):
    (home / "credentials.json").write_text(json.dumps({"app:mastodon:https://m.example": "{not json"}))
    (home / "credentials.json").chmod(0o600)
    assert credentials.load_app("mastodon:https://m.example") == {}
