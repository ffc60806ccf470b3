"""End to end: connect real accounts on loopback fakes and publish through the CLI.

The real atproto and Mastodon.py SDKs talk to servers on 127.0.0.1 that speak
each wire format; we assert on what the servers received and what the store holds.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from fakes.bluesky_server import FakeBlueskyServer
from fakes.mastodon_server import FakeMastodon
from support.cli import kill_when, run_postcli

BSKY_PASS = "alice-app-pass"
MASTO_TOKEN = "masto-secret-token-123456"


@pytest.fixture
def bsky():
    with FakeBlueskyServer() as server:
        server.add_account("alice.test", BSKY_PASS, display_name="Alice")
        server.add_account("bob.test", "bob-app-pass", display_name="Bob")
        yield server


@pytest.fixture
def masto():
    with FakeMastodon(token=MASTO_TOKEN) as server:
        yield server


@pytest.fixture
def connected(cli, bsky, masto):
    r = cli(
        "accounts",
        "add",
        "bluesky",
        "--handle",
        "alice.test",
        "--service",
        bsky.url,
        "--password-stdin",
        input=BSKY_PASS + "\n",
    )
    assert r.exit_code == 0, r.stderr
    r = cli("accounts", "add", "mastodon", "--instance", masto.url, "--token-stdin", input=MASTO_TOKEN + "\n")
    assert r.exit_code == 0, r.stderr
    return bsky, masto


def _db(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "postcli.db")


def test_connect_and_publish_to_both(cli, connected, home):
    bsky, masto = connected
    accounts = cli.json("accounts", "list")
    assert [(a["platform"], a["status"]) for a in accounts] == [("bluesky", "active"), ("mastodon", "active")]
    assert accounts[0]["external_id"].startswith("did:plc:")

    out = cli.json("post", "create", "Hello ☕ from postcli #cli https://example.com/x", "--to", "all")
    assert out["status"] == "completed"
    by_platform = {t["platform"]: t for t in out["targets"]}
    assert by_platform["bluesky"]["url"].startswith("https://bsky.app/profile/alice.test/post/")
    assert by_platform["mastodon"]["url"]

    # The Bluesky record key is the idempotency key the store holds.
    row = (
        _db(home)
        .execute(
            "select platform, idempotency_key, platform_post_id, status, attempt_count from post_targets order by platform"
        )
        .fetchall()
    )
    (bp, bkey, buri, bstatus, battempts), (mp, mkey, mid, mstatus, _) = row
    create = bsky.calls("com.atproto.repo.createRecord")
    assert len(create) == 1 and create[0].json["rkey"] == bkey
    assert buri == f"at://{bsky.account('alice.test').did}/app.bsky.feed.post/{bkey}"
    assert (bstatus, battempts) == ("completed", 1)
    # Mastodon got the stored key as Idempotency-Key.
    posts = masto.requests_to("POST", "/api/v1/statuses")
    assert len(posts) == 1 and posts[0].headers.get("Idempotency-Key") == mkey
    assert len(masto.statuses) == 1 and mstatus == "completed"


def test_second_command_reuses_the_stored_session(cli, connected):
    bsky, _ = connected
    assert bsky.count("com.atproto.server.createSession") == 1
    assert cli("post", "create", "one", "--to", "bluesky").exit_code == 0
    assert cli("post", "create", "two", "--to", "bluesky").exit_code == 0
    assert bsky.count("com.atproto.server.createSession") == 1
    assert bsky.count("com.atproto.repo.createRecord") == 2


def test_text_too_long_for_one_target_sends_nothing(cli, connected, home):
    bsky, masto = connected
    text = "é" * 301  # 301 graphemes: over Bluesky's 300, fine for Mastodon's 500
    r = cli("post", "create", text, "--to", "all")
    assert r.exit_code == 2
    assert "bluesky (alice.test)" in r.stderr and "301 graphemes" in r.stderr and "300" in r.stderr
    assert bsky.count("com.atproto.repo.createRecord") == 0
    assert masto.requests_to("POST", "/api/v1/statuses") == []
    assert _db(home).execute("select count(*) from posts").fetchone()[0] == 0


def test_text_for_gives_one_platform_its_own_text(cli, connected):
    bsky, masto = connected
    long_text = "x" * 400
    out = cli.json("post", "create", long_text, "--to", "all", "--text-for", "bluesky=short for bluesky")
    assert out["status"] == "completed"
    assert bsky.last("com.atproto.repo.createRecord").json["record"]["text"] == "short for bluesky"
    sent = masto.requests_to("POST", "/api/v1/statuses")[0]
    assert sent.param("status") == long_text


def test_platform_500_on_one_target_is_partial_success_and_retry_sends_only_that_one(cli, connected, home):
    bsky, masto = connected
    masto.fail_next("POST", "/api/v1/statuses", 500)
    r = cli("post", "create", "partly", "--to", "all", "--json")
    assert r.exit_code == 7, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["status"] == "partial_success"
    failed = [t for t in out["targets"] if t["status"] == "failed"]
    assert [t["platform"] for t in failed] == ["mastodon"]
    assert bsky.count("com.atproto.repo.createRecord") == 1

    r = cli("post", "retry", str(out["post_id"]), "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["status"] == "completed"
    assert bsky.count("com.atproto.repo.createRecord") == 1  # not resent
    assert len(masto.statuses) == 1
    attempts = dict(_db(home).execute("select platform, attempt_count from post_targets").fetchall())
    assert attempts == {"bluesky": 1, "mastodon": 2}


def test_revoked_mastodon_token_flags_the_account_and_says_how_to_reconnect(cli, connected, home):
    _, masto = connected
    masto.revoke_token()
    r = cli("post", "create", "hello", "--to", "mastodon", "--json")
    assert r.exit_code == 6, r.stdout + r.stderr
    assert f"accounts add mastodon --instance {masto.url}" in json.loads(r.stdout)["targets"][0]["error"]
    assert MASTO_TOKEN not in r.stdout + r.stderr
    status = _db(home).execute("select status from accounts where platform='mastodon'").fetchone()[0]
    assert status == "token_expired"
    listed = cli.json("accounts", "list")
    assert [a["needs_reconnect"] for a in listed if a["platform"] == "mastodon"] == [True]
    # Later posts warn before anything is sent.
    r = cli("post", "create", "again", "--to", "mastodon")
    assert "needs reconnecting" in r.stderr


def test_wrong_password_is_exit_6_and_stores_nothing(cli, bsky, home):
    r = cli(
        "accounts",
        "add",
        "bluesky",
        "--handle",
        "alice.test",
        "--service",
        bsky.url,
        "--password-stdin",
        input="wrong-password\n",
    )
    assert r.exit_code == 6
    assert "wrong-password" not in r.stdout + r.stderr
    assert cli.json("accounts", "list") == []


def test_timeout_names_the_host_and_marks_the_target_failed(cli, connected, home, monkeypatch):
    _, masto = connected
    monkeypatch.setenv("POSTCLI_TIMEOUT", "0.5")
    masto.set_delay(3, "POST", "/api/v1/statuses", times=1)
    r = cli("post", "create", "slow", "--to", "mastodon", "--json")
    assert r.exit_code == 1
    out = json.loads(r.stdout)
    err = out["targets"][0]["error"]
    assert masto.host in err and "unknown" in err


def test_no_secret_reaches_the_database_or_json(cli, connected, home):
    cli("post", "create", "secret test", "--to", "all")
    raw = (home / "postcli.db").read_bytes()
    for wal in home.glob("postcli.db-wal"):
        raw += wal.read_bytes()
    assert BSKY_PASS.encode() not in raw and MASTO_TOKEN.encode() not in raw
    assert b"eyJ" not in raw  # no JWT (Bluesky session) either
    creds = json.loads((home / "credentials.json").read_text())
    assert any(BSKY_PASS in v for v in creds.values())  # they are in the 0600 file instead
    dumped = cli("accounts", "list", "--json").stdout + cli("post", "list", "--json").stdout
    assert BSKY_PASS not in dumped and MASTO_TOKEN not in dumped and "eyJ" not in dumped


def test_delete_remote_removes_it_on_the_platforms(cli, connected, home):
    bsky, masto = connected
    out = cli.json("post", "create", "to delete", "--to", "all")
    r = cli("post", "delete", str(out["post_id"]), "--remote", "--json")
    assert r.exit_code == 0, r.stderr
    assert bsky.count("com.atproto.repo.deleteRecord") == 1
    assert masto.requests_to("DELETE", "/api/v1/statuses")
    assert cli("post", "show", str(out["post_id"])).exit_code == 3


def test_list_filters_sorts_and_pages(cli, connected):
    for i in range(3):
        cli("post", "create", f"post {i}", "--to", "mastodon")
    cli("post", "create", "bsky only", "--to", "bluesky")
    page = cli.json("post", "list", "--limit", "2", "--page", "1")
    assert page["total"] == 4 and [p["text"] for p in page["posts"]] == ["bsky only", "post 2"]
    asc = cli.json("post", "list", "--order", "asc", "--limit", "1")
    assert asc["posts"][0]["text"] == "post 0"
    only = cli.json("post", "list", "--platform", "bluesky")
    assert [p["text"] for p in only["posts"]] == ["bsky only"]
    assert cli.json("post", "list", "--status", "failed")["total"] == 0


def test_killed_after_the_platform_accepted_then_retry_posts_once(connected, home):
    """SIGKILL while the PDS holds back its answer to createRecord; `post retry` must not post again."""
    bsky, _ = connected
    bsky.hang_after_success("com.atproto.repo.createRecord")
    exe = Path(sys.executable).with_name("postcli")
    proc = subprocess.Popen(
        [str(exe), "post", "create", "crash test", "--to", "bluesky"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    kill_when(proc, lambda: bsky.count("com.atproto.repo.createRecord") > 0)
    db = _db(home)
    assert db.execute("select status from post_targets").fetchone()[0] == "processing"
    assert len(bsky.records()) == 1

    r = run_postcli("post", "retry", "1", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["status"] == "completed" and out["targets"][0]["reconciled"] is True
    assert bsky.count("com.atproto.repo.createRecord") == 1  # never sent again
    assert bsky.count("com.atproto.repo.getRecord") >= 1
    assert len(bsky.records()) == 1
