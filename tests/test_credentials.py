"""Secrets live in a 0600 file (no keyring here) and never in the database."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from postcli import credentials
from postcli.secrets_redact import redact, register_secret


def test_file_fallback_is_0600_and_round_trips(home: Path):
    store = credentials.backend()
    assert store.name == "file"  # the autouse fixture leaves no usable keyring
    credentials.save(7, {"access_token": "tok-ABCDEFG-123"})
    path = home / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert credentials.load(7) == {"access_token": "tok-ABCDEFG-123"}
    credentials.delete(7)
    assert credentials.load(7) == {}
    assert json.loads(path.read_text()) == {}


def test_forcing_keyring_without_one_is_a_clear_error(monkeypatch):
    import pytest

    from postcli.errors import PostcliError

    monkeypatch.setenv("POSTCLI_CREDENTIALS", "keyring")
    with pytest.raises(PostcliError, match="no usable OS keyring"):
        credentials.backend()


def test_redaction_hides_known_secrets_and_token_shapes():
    register_secret("s3cr3t-app-pass")
    text = "login failed for s3cr3t-app-pass with Bearer abcdefghijklmnop and eyJhbGciOi.eyJzdWIi.sig"
    out = redact(text)
    assert "s3cr3t-app-pass" not in out
    assert "abcdefghijklmnop" not in out
    assert "eyJhbGciOi" not in out
