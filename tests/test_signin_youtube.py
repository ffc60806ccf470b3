"""`postcli accounts login youtube` against the fake Google OAuth server and YouTube API: the
consent page with a loopback redirect on any port and PKCE S256, the code exchange with the
Desktop client's secret in the form, a refresh that keeps the (non-rotating) refresh token,
the 7-day end of a sign-in for an app in Testing, and a revoked sign-in."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from fakes.oauth_server import s256
from fakes.youtube_server import CLIENT_ID, CLIENT_SECRET, SCOPE, FakeYouTube
from signin_helpers import db_rows, everything_but_credentials, start_login, stored_credentials

ENV = {"POSTCLI_YOUTUBE_CLIENT_ID": CLIENT_ID, "POSTCLI_YOUTUBE_CLIENT_SECRET": CLIENT_SECRET}


def _start(yt: FakeYouTube, *extra: str):  # type: ignore[no-untyped-def]
    yt.add_client()  # a Desktop client: Google takes any loopback port
    return start_login(
        "youtube", "--api-base", yt.url, "--authorize-url", f"{yt.url}/o/oauth2/v2/auth", "--json", *extra, env=ENV
    )


def _signed_in(yt: FakeYouTube, *extra: str) -> dict:  # type: ignore[type-arg]
    login = _start(yt, *extra)
    assert login.browse().status_code == 200
    code, out, err = login.finish()
    assert code == 0, err
    return json.loads(out)


def _settings(home) -> dict:  # type: ignore[no-untyped-def, type-arg]
    ((raw,),) = db_rows(home, "select settings from accounts")
    return json.loads(raw)


def test_login_with_pkce_on_any_loopback_port_stores_the_channel_and_when_the_sign_in_ends(home):
    with FakeYouTube() as yt:
        login = _start(yt)
        q = login.query
        assert q["redirect_uri"].startswith("http://127.0.0.1:") and q["redirect_uri"].endswith("/callback")
        assert (q["scope"], q["client_id"], q["response_type"]) == (SCOPE, CLIENT_ID, "code")
        assert q["code_challenge_method"] == "S256" and q["code_challenge"]
        assert (q["access_type"], q["prompt"]) == ("offline", "consent")  # a refresh token every time
        assert login.browse().status_code == 200
        code, out, err = login.finish()
        assert code == 0, err
        account = json.loads(out)
        assert (account["platform"], account["handle"], account["external_id"]) == (
            "youtube",
            "alicevideos",
            yt.channel_id,
        )

        (tok,) = yt.oauth.token_requests
        assert (tok["grant_type"], tok["redirect_uri"], tok["client_id"]) == (
            "authorization_code",
            q["redirect_uri"],
            CLIENT_ID,
        )
        assert tok["client_secret"] == CLIENT_SECRET and tok["_auth"] == "post"
        assert s256(tok["code_verifier"]) == q["code_challenge"]

        # The code's tokens, then connect's one refresh: a new access token, the same refresh token.
        (code_access, code_refresh), (refreshed, none) = yt.issued
        assert none is None
        stored = stored_credentials(home)[f"account:{account['id']}"]
        assert (stored["access_token"], stored["refresh_token"], stored["client_secret"]) == (
            refreshed,
            code_refresh,
            CLIENT_SECRET,
        )

        # An app in Testing (the default): the sign-in ends 7 days after it was made.
        ends = datetime.fromisoformat(account["token_expires_at"]).replace(tzinfo=timezone.utc)
        assert abs((ends - (datetime.now(timezone.utc) + timedelta(days=7))).total_seconds()) < 120
        settings = _settings(home)
        assert (settings["app_status"], settings["client_id"], settings["channel_id"]) == (
            "testing",
            CLIENT_ID,
            yt.channel_id,
        )

        written = everything_but_credentials(home)
        for secret in (CLIENT_SECRET, code_access, code_refresh, refreshed):
            assert secret.encode() not in written and secret not in out + err


def test_a_production_app_has_no_end_and_a_bad_status_is_refused_before_the_browser(cli, home):
    with FakeYouTube() as yt:
        account = _signed_in(yt, "--app-status", "production")
        assert account["token_expires_at"] is None and _settings(home)["app_status"] == "production"
    r = cli("accounts", "login", "youtube", "--app-status", "beta")
    assert r.exit_code == 2 and "testing or production" in r.stderr


def test_health_warns_two_days_before_a_testing_sign_in_ends(cli, home):
    import sqlite3

    with FakeYouTube() as yt:
        _signed_in(yt)
        r = cli("accounts", "health")
        assert r.exit_code == 0 and "Testing" not in r.stderr  # a week to go: nothing to say yet
        settings = _settings(home)
        settings["refresh_expires_at"] = (datetime.now(timezone.utc) + timedelta(hours=30)).isoformat()
        with sqlite3.connect(home / "postcli.db") as conn:
            conn.execute("update accounts set settings = ?", (json.dumps(settings),))
        r = cli("accounts", "health")
        assert r.exit_code == 0
        assert "the Google sign-in ends at" in r.stderr and "publish the app" in r.stderr


def _expire_now(home, account_id: int) -> None:  # type: ignore[no-untyped-def]
    """Make the stored access token due for a refresh (as an hour later)."""
    path = home / "credentials.json"
    data = json.loads(path.read_text())
    secrets = json.loads(data[f"account:{account_id}"])
    secrets["expires_at"] = "2020-01-01T00:00:00+00:00"
    data[f"account:{account_id}"] = json.dumps(secrets)
    path.write_text(json.dumps(data))


def test_an_hour_later_the_token_is_refreshed_and_the_refresh_token_kept(cli, home):
    with FakeYouTube() as yt:
        account = _signed_in(yt)
        before = stored_credentials(home)[f"account:{account['id']}"]
        _expire_now(home, account["id"])
        yt.expire_access_token()
        assert cli.json("accounts", "metrics", "alicevideos")["followers"] == 1200
        after = stored_credentials(home)[f"account:{account['id']}"]
        assert after["access_token"] == yt.access_token != before["access_token"]
        assert after["refresh_token"] == before["refresh_token"]
        assert yt.count("POST /token (refresh_token)") == 2  # connect's, then this one


def test_a_revoked_sign_in_marks_the_account_and_names_the_login_command(cli, home):
    with FakeYouTube() as yt:
        account = _signed_in(yt)
        _expire_now(home, account["id"])
        yt.revoke()
        r = cli("accounts", "health")
        assert r.exit_code == 6
        assert "postcli accounts login youtube" in r.stdout + r.stderr
        assert [a["status"] for a in cli.json("accounts", "list")] == ["token_expired"]
        assert CLIENT_SECRET not in r.stdout + r.stderr


def test_a_token_answer_without_a_refresh_token_stores_nothing(cli, home):
    with FakeYouTube() as yt:
        issue = yt._issue_from_code
        yt.oauth.issue_token = lambda client, scopes: {
            k: v for k, v in issue(client, scopes).items() if k != "refresh_token"
        }
        login = _start(yt)
        assert login.browse().status_code == 200
        code, out, err = login.finish()
        assert code == 1 and "no refresh token" in err
        assert cli.json("accounts", "list") == []


def test_no_browser_reads_the_pasted_address_and_signs_in(home):
    """`--no-browser`: the user opens the printed URL elsewhere and pastes the address the browser
    ended on; postcli takes the code from it (its state checked) as from the listener."""
    with FakeYouTube() as yt:
        login = _start(yt, "--no-browser")
        redirect = login.consent().headers["location"]
        assert redirect.startswith(login.query["redirect_uri"] + "?")
        login.paste(redirect)
        code, out, err = login.finish()
        assert code == 0, err
        assert json.loads(out)["external_id"] == yt.channel_id
        (tok,) = yt.oauth.token_requests
        assert s256(tok["code_verifier"]) == login.query["code_challenge"]
