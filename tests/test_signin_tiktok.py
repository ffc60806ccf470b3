"""`postcli accounts login tiktok` against the fake TikTok: Login Kit for desktop as TikTok
documents it (developers.tiktok.com/doc/login-kit-desktop) — client_key instead of client_id,
comma-separated scopes, a loopback redirect with a port, a PKCE challenge that is the hex
SHA-256 of the verifier, a code with "*" and "!" that comes back percent-encoded — then the
refresh that rotates the refresh token, and a revoked token. The test plays the browser."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import httpx

from fakes.tiktok_server import CLIENT_KEY, CLIENT_SECRET, SCOPES, FakeTikTok
from signin_helpers import db_rows, everything_but_credentials, start_login, stored_credentials

ENV = {"POSTCLI_TIKTOK_CLIENT_ID": CLIENT_KEY, "POSTCLI_TIKTOK_CLIENT_SECRET": CLIENT_SECRET}


def _login(t: FakeTikTok, *extra: str):  # type: ignore[no-untyped-def]
    return start_login(
        "tiktok", "--api-base", t.url, "--authorize-url", f"{t.url}/v2/auth/authorize/", "--json", *extra, env=ENV
    )


def signed_in(t: FakeTikTok) -> int:
    """A TikTok account connected through the browser sign-in; its id."""
    login = _login(t)
    login.browse()
    code, out, err = login.finish()
    assert code == 0, err
    return json.loads(out)["id"]


def test_login_kit_for_desktop_as_tiktok_documents_it(home):
    with FakeTikTok() as t:
        login = _login(t)
        q = login.query
        assert q["client_key"] == CLIENT_KEY and "client_id" not in q
        assert q["scope"] == ",".join(SCOPES) and q["response_type"] == "code"
        redirect = urlsplit(q["redirect_uri"])
        assert (redirect.scheme, redirect.hostname, redirect.path) == ("http", "127.0.0.1", "/callback")
        assert redirect.port  # TikTok: "URIs must have a port number"
        assert re.fullmatch(r"[0-9a-f]{64}", q["code_challenge"]) and q["code_challenge_method"] == "S256"

        consent = login.consent()
        assert consent.status_code == 302, consent.text
        back = consent.headers["location"]
        assert "%2A" in back and "%21" in back  # the code's "*" and "!", percent-encoded
        assert httpx.get(back, timeout=10).status_code == 200
        code, out, err = login.finish()
        assert code == 0, err
        account = json.loads(out)
        assert (account["platform"], account["handle"], account["external_id"]) == (
            "tiktok",
            "alice.makes",
            t.open_id,
        )
        expires = datetime.fromisoformat(account["token_expires_at"].replace("Z", "+00:00"))
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=timezone.utc)
        assert expires > datetime.now(timezone.utc) + timedelta(days=360)  # the refresh token's year

        (sent,) = t.oauth.token_requests
        issued_code = parse_qs(urlsplit(back).query)["code"][0]
        assert "*" in issued_code and "!" in issued_code
        assert sent["code"] == issued_code  # decoded once, sent as issued
        assert (sent["client_key"], sent["client_secret"], sent["grant_type"]) == (
            CLIENT_KEY,
            CLIENT_SECRET,
            "authorization_code",
        )
        assert sent["redirect_uri"] == q["redirect_uri"] and "client_id" not in sent
        assert hashlib.sha256(sent["code_verifier"].encode()).hexdigest() == q["code_challenge"]

        stored = stored_credentials(home)[f"account:{account['id']}"]
        assert (stored["access_token"], stored["refresh_token"]) == t.issued[0]
        assert stored["client_secret"] == CLIENT_SECRET and stored["expires_at"] and stored["refresh_expires_at"]
        assert len(t.issued) == 1  # the expiry is known from the sign-in: connect did not refresh
        (settings,) = db_rows(home, "select settings from accounts")
        kept = json.loads(settings[0])
        assert kept["client_key"] == CLIENT_KEY and kept["scopes"] == sorted(SCOPES)
        written = everything_but_credentials(home)
        for secret in (CLIENT_SECRET, *t.issued[0], issued_code):
            assert secret.encode() not in written and secret not in out + err


def _expire_access_token(home, account_id: int) -> None:  # type: ignore[no-untyped-def]
    path = home / "credentials.json"
    data = json.loads(path.read_text())
    secrets = json.loads(data[f"account:{account_id}"])
    secrets["expires_at"] = "2020-01-01T00:00:00+00:00"  # 24 hours have passed
    data[f"account:{account_id}"] = json.dumps(secrets)
    path.write_text(json.dumps(data))


def test_a_refresh_rotates_the_refresh_token_and_the_new_pair_is_stored(cli, home):
    with FakeTikTok() as t:
        account_id = signed_in(t)
        first = t.issued[0]
        _expire_access_token(home, account_id)
        r = cli("accounts", "health", "--json")
        assert r.exit_code == 0, r.stderr
        (refresh,) = [x for x in t.requests_to("POST", "/v2/oauth/token/") if x.param("grant_type") == "refresh_token"]
        assert (refresh.param("client_key"), refresh.param("refresh_token")) == (CLIENT_KEY, first[1])
        stored = stored_credentials(home)[f"account:{account_id}"]
        assert (stored["access_token"], stored["refresh_token"]) == t.issued[-1] != first
        assert datetime.fromisoformat(stored["expires_at"]) > datetime.now(timezone.utc) + timedelta(hours=23)
        # The next command uses the stored pair without refreshing again.
        assert cli.json("accounts", "metrics", "alice.makes")["followers"] == 1200
        assert len(t.issued) == 2


def test_a_revoked_token_asks_to_sign_in_again(cli, home):
    with FakeTikTok() as t:
        signed_in(t)
        t.revoke()
        r = cli("accounts", "health")
        assert r.exit_code == 6
        assert "postcli accounts login tiktok" in r.stdout + r.stderr
        assert [a["status"] for a in cli.json("accounts", "list")] == ["token_expired"]


def test_a_declined_consent_stores_nothing(home):
    with FakeTikTok() as t:
        t.oauth.decision = "deny"
        login = _login(t)
        login.browse()
        code, _out, err = login.finish()
        assert code == 1 and "declined" in err
        assert stored_credentials(home) == {} and db_rows(home, "select id from accounts") == []
