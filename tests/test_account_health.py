"""`postcli accounts metrics|health` against the loopback fakes (issue 4)."""

from __future__ import annotations

import json

import pytest

from fakes.bluesky_server import FakeBlueskyServer
from fakes.mastodon_server import FakeMastodon
from support.accounts import BSKY_PASS, MASTO_TOKEN, connect_bluesky, connect_mastodon, db, write_config


@pytest.fixture
def masto():
    with FakeMastodon(token=MASTO_TOKEN, followers_count=50, following_count=7) as server:
        yield server


@pytest.fixture
def bsky():
    with FakeBlueskyServer() as server:
        server.add_account("alice.test", BSKY_PASS, followers=200, follows=3)
        yield server


def test_metrics_live_then_snapshot_fallback_then_series(cli, home, masto):
    write_config(home)
    m_id = connect_mastodon(cli, masto)

    live = cli.json("accounts", "metrics", str(m_id))
    assert live["source"] == "live" and live["followers"] == 50 and live["following"] == 7
    assert live["needs_reconnect"] is False
    # Mastodon reports no impressions/reach/profile views: NULL, not 0.
    assert live["impressions"] is None and live["reach"] is None and live["profile_views"] is None
    assert [tuple(r) for r in db(home).execute("select followers from account_metric_snapshots")] == [(50,)]

    masto.fail_next("GET", "/api/v1/accounts/verify_credentials", 500)
    r = cli("accounts", "metrics", str(m_id), "--json")
    assert r.exit_code == 0, r.stderr
    fallback = json.loads(r.stdout)
    assert fallback["source"] == "snapshot" and fallback["followers"] == 50
    assert "live metrics unavailable" in r.stderr and "Traceback" not in r.stderr

    text = cli("accounts", "metrics", str(m_id))
    assert text.exit_code == 0 and "live" in text.stdout and "50" in text.stdout

    series = cli.json("accounts", "metrics", str(m_id), "--since", "2000-01-01")
    assert [row["followers"] for row in series["data"]] == [50, 50]
    assert cli.json("accounts", "metrics", str(m_id), "--until", "2000-01-01")["data"] == []
    assert cli("accounts", "metrics", str(m_id), "--since", "not a date").exit_code == 2

    masto.stop()  # unreachable: the stored snapshot answers
    stopped = cli("accounts", "metrics", str(m_id), "--json", env={"POSTCLI_TIMEOUT": "2"})
    assert stopped.exit_code == 0 and json.loads(stopped.stdout)["source"] == "snapshot"


def test_metrics_without_any_snapshot_says_so(cli, home, masto):
    m_id = connect_mastodon(cli, masto)
    masto.fail_next("GET", "/api/v1/accounts/verify_credentials", 503)
    r = cli("accounts", "metrics", str(m_id))
    assert r.exit_code == 0, r.stderr
    assert "no metrics collected yet" in r.stdout.lower()
    masto.fail_next("GET", "/api/v1/accounts/verify_credentials", 503)
    data = cli.json("accounts", "metrics", str(m_id))
    assert data["metrics"] is None and data["source"] is None
    assert cli("accounts", "metrics", "nobody").exit_code == 3


def test_metrics_of_revoked_account_exits_6_with_the_snapshot(cli, home, masto):
    m_id = connect_mastodon(cli, masto)
    cli.json("accounts", "metrics", str(m_id))
    masto.revoke_token()
    r = cli("accounts", "metrics", str(m_id), "--json")
    assert r.exit_code == 6 and "reconnect" in r.stderr.lower()
    assert json.loads(r.stdout)["source"] == "snapshot"
    # A structured flag, not the word "reconnect" found in the warning, decides exit 6.
    assert json.loads(r.stdout)["needs_reconnect"] is True


def test_an_outage_whose_message_mentions_reconnecting_is_not_a_reconnect(cli, home, masto):
    """Exit 6 comes from the account needing a reconnect, not from the word in a message."""
    m_id = connect_mastodon(cli, masto)
    cli.json("accounts", "metrics", str(m_id))
    # Mastodon shows a 4xx's {"error": ...} text; the adapter passes it on (not an auth failure).
    masto.fail_next(
        "GET",
        "/api/v1/accounts/verify_credentials",
        422,
        json={"error": "Busy migrating: reconnect your client in an hour"},
    )
    r = cli("accounts", "metrics", str(m_id), "--json")
    assert "reconnect your client" in r.stderr  # the platform's words are shown...
    assert r.exit_code == 0, r.stderr  # ... but the account is fine: the snapshot answers
    assert json.loads(r.stdout)["source"] == "snapshot"
    assert cli.json("accounts", "list")[0]["status"] == "active"


def test_health_healthy_then_revoked(cli, home, bsky, masto):
    b_id = connect_bluesky(cli, bsky)
    m_id = connect_mastodon(cli, masto)
    rows = cli.json("accounts", "health")
    assert [(r["id"], r["healthy"], r["status"], r["error_code"], r["checked_live"]) for r in rows] == [
        (b_id, True, "active", None, True),
        (m_id, True, "active", None, True),
    ]
    assert rows[0]["token_expires_at"] and rows[0]["checked_at"]
    assert set(rows[0]) >= {"healthy", "status", "error_code", "token_expires_at", "checked_live", "checked_at"}

    masto.revoke_token()
    r = cli("accounts", "health", "--json")
    assert r.exit_code == 6, r.stderr
    by_id = {row["id"]: row for row in json.loads(r.stdout)}
    assert by_id[b_id]["healthy"] and by_id[b_id]["status"] == "active"
    assert (by_id[m_id]["healthy"], by_id[m_id]["status"], by_id[m_id]["error_code"]) == (
        False,
        "token_expired",
        "token_expired",
    )
    assert "accounts add mastodon" in by_id[m_id]["reconnect"]
    assert cli.json("accounts", "show", str(m_id))["status"] == "token_expired"
    # One account at a time, by id or handle.
    assert cli("accounts", "health", str(b_id)).exit_code == 0
    assert cli("accounts", "health", "nobody").exit_code == 3
    text = cli("accounts", "health")
    assert text.exit_code == 6 and "NO" in text.stdout


def test_health_platform_down_is_unreachable_not_expired(cli, home, masto):
    m_id = connect_mastodon(cli, masto)
    masto.fail_next("GET", "/api/v1/accounts/verify_credentials", 502)
    r = cli("accounts", "health", str(m_id), "--json")
    assert r.exit_code == 0, r.stderr
    row = json.loads(r.stdout)[0]
    assert (row["healthy"], row["status"], row["error_code"]) == (False, "active", "unreachable")


def test_bluesky_token_near_expiry_is_refreshed_and_persisted(cli, home):
    from postcli import credentials

    with FakeBlueskyServer(access_ttl=60) as server:  # under the SDK's 15-minute margin: refresh first
        server.add_account("alice.test", BSKY_PASS)
        b_id = connect_bluesky(cli, server)
        before = credentials.load(b_id)["session"]
        refreshes = server.count("com.atproto.server.refreshSession")
        rows = cli.json("accounts", "health")
        assert rows[0]["healthy"] and rows[0]["status"] == "active"
        assert server.count("com.atproto.server.refreshSession") == refreshes + 1
        assert server.count("com.atproto.server.createSession") == 1  # only the connect
        after = credentials.load(b_id)["session"]
        assert after != before  # the rotated tokens were saved

        # Revoked for good (app password deleted, sessions revoked): reconnect.
        server.revoke_sessions("alice.test")
        server.set_password("alice.test", "another-password")
        r = cli("accounts", "health", "--json")
        assert r.exit_code == 6, r.stderr
        row = json.loads(r.stdout)[0]
        assert (row["healthy"], row["status"], row["error_code"]) == (False, "token_expired", "token_expired")
