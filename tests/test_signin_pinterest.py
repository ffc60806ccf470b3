"""`postcli accounts login pinterest` against the fake Pinterest: the consent page with
comma-separated scopes and the exact registered redirect (a fixed port), the code exchange with
HTTP Basic app id:secret and continuous_refresh, the default board (--board, or chosen at the
prompt), then refreshes whose rotated refresh token is what is stored, and a revoked token."""

from __future__ import annotations

import json

from fakes.pinterest_server import BOARD_ID, CLIENT_ID, CLIENT_SECRET, OTHER_BOARD_ID, SCOPES, FakePinterest
from postcli.signin.loopback import free_port
from signin_helpers import db_rows, everything_but_credentials, start_login, stored_credentials

ENV = {"POSTCLI_PINTEREST_CLIENT_ID": CLIENT_ID, "POSTCLI_PINTEREST_CLIENT_SECRET": CLIENT_SECRET}


def start(p: FakePinterest, *args: str, port: int | None = None):  # type: ignore[no-untyped-def]
    """`accounts login pinterest` on a port registered with the fake as the app's exact redirect."""
    port = port or free_port()
    p.oauth.add_client(CLIENT_ID, CLIENT_SECRET, [f"http://127.0.0.1:{port}/callback"], SCOPES)
    return start_login(
        "pinterest", "--port", str(port), "--api-base", p.url, "--authorize-url", f"{p.url}/oauth/", "--json",
        *args, env=ENV,
    )  # fmt: skip


def signed_in(p: FakePinterest, *args: str) -> dict:  # type: ignore[type-arg]
    login = start(p, "--board", BOARD_ID, *args)
    login.browse()
    code, out, err = login.finish()
    assert code == 0, err
    return json.loads(out)


def refreshes(p: FakePinterest) -> list:  # type: ignore[type-arg]
    return [r for r in p.requests_to("POST", "/v5/oauth/token") if r.param("grant_type") == "refresh_token"]


def settings_of(home, account_id: int) -> dict:  # type: ignore[no-untyped-def, type-arg]
    (row,) = db_rows(home, f"select settings from accounts where id = {account_id}")
    return json.loads(row[0])


def test_login_sends_the_documented_consent_and_exchange_and_asks_for_the_board(home):
    port = free_port()
    redirect = f"http://127.0.0.1:{port}/callback"
    with FakePinterest() as p:
        login = start(p, port=port)
        q = login.query
        assert login.url.startswith(f"{p.url}/oauth/?")
        assert (q["client_id"], q["redirect_uri"], q["response_type"]) == (CLIENT_ID, redirect, "code")
        assert q["scope"] == "boards:read,boards:write,pins:read,pins:write,user_accounts:read"
        assert "code_challenge" not in q and len(q["state"]) >= 32
        assert login.browse().status_code == 200
        login.paste("2")  # two boards and no --board: the prompt asks; the second is Garden
        code, out, err = login.finish()
        assert code == 0, err
        assert "Which board" in err and "Garden" in err
        account = json.loads(out)
        assert (account["platform"], account["handle"]) == ("pinterest", p.username)

        (tok,) = p.oauth.token_requests
        assert tok["_auth"] == "basic" and "client_secret" not in tok  # HTTP Basic, never the form
        assert (tok["grant_type"], tok["redirect_uri"], tok["continuous_refresh"]) == (
            "authorization_code",
            redirect,
            "true",
        )
        stored = stored_credentials(home)[f"account:{account['id']}"]
        access, refresh = p.issued_tokens[0]
        assert (stored["access_token"], stored["refresh_token"], stored["client_secret"]) == (
            access,
            refresh,
            CLIENT_SECRET,
        )
        assert stored["expires_at"] > "20" and stored["refresh_expires_at"] > "20"
        settings = settings_of(home, account["id"])
        assert (settings["board_id"], settings["board_name"], settings["client_id"]) == (
            OTHER_BOARD_ID,
            "Garden",
            CLIENT_ID,
        )
        (expiry,) = db_rows(home, "select token_expires_at from accounts")
        assert expiry[0] is not None  # `accounts list` and `accounts health` show it
        written = everything_but_credentials(home)
        for secret in (CLIENT_SECRET, access, refresh):
            assert secret.encode() not in written and secret not in out + err


def test_login_with_board_takes_it_and_a_board_the_user_has_not_stores_nothing(home):
    with FakePinterest() as p:
        account = signed_in(p)
        assert settings_of(home, account["id"])["board_id"] == BOARD_ID
        login = start(p, "--board", "999")
        login.browse()
        code, out, err = login.finish()
        assert code == 2
        assert "no board 999" in err and f"Garden ({OTHER_BOARD_ID})" in err and "Traceback" not in err
        assert settings_of(home, account["id"])["board_id"] == BOARD_ID  # the account is as it was


def test_a_board_id_that_is_not_digits_is_refused_before_the_browser(cli):
    r = cli("accounts", "login", "pinterest", "--board", "summer-recipes")
    assert r.exit_code == 2 and "board id" in r.stderr


def test_expiry_refreshes_once_and_the_rotated_pair_is_what_is_stored(cli, home):
    import sqlite3

    with FakePinterest() as p:
        account = signed_in(p)
        key = f"account:{account['id']}"
        # 30 days later: the stored expiry is past and the token is refused.
        path = home / "credentials.json"
        data = json.loads(path.read_text())
        secrets = json.loads(data[key])
        secrets["expires_at"] = "2020-01-01T00:00:00+00:00"
        data[key] = json.dumps(secrets)
        path.write_text(json.dumps(data))
        with sqlite3.connect(home / "postcli.db") as conn:
            conn.execute("update accounts set token_expires_at = '2020-01-01 00:00:00.000000'")
        p.expire_access_token()
        old_refresh = secrets["refresh_token"]

        r = cli("accounts", "health", "--json")
        assert r.exit_code == 0, r.stderr
        (refresh,) = refreshes(p)
        assert refresh.form["refresh_token"] == [old_refresh]
        stored = stored_credentials(home)[key]
        assert (stored["access_token"], stored["refresh_token"]) == p.issued_tokens[-1]
        assert stored["refresh_token"] != old_refresh
        # The next run uses the stored pair without refreshing again.
        assert cli("accounts", "health").exit_code == 0
        assert len(refreshes(p)) == 1


def test_a_revoked_token_asks_to_sign_in_again(cli, home):
    with FakePinterest() as p:
        signed_in(p)
        p.revoke()
        r = cli("accounts", "health")
        assert r.exit_code == 6
        assert "postcli accounts login pinterest" in r.stdout + r.stderr
        assert [a["status"] for a in cli.json("accounts", "list")] == ["token_expired"]


def test_a_declined_consent_stores_nothing(home):
    with FakePinterest() as p:
        p.oauth.decision = "deny"
        login = start(p)
        login.browse()
        code, out, err = login.finish()
        assert code == 1 and "declined" in err
        assert p.oauth.token_requests == [] and db_rows(home, "select count(*) from accounts") in ([], [(0,)])


def test_no_browser_reads_the_pasted_address_and_signs_in(home):
    """`--no-browser`: the address the browser ended on, pasted, is traded as the listener would."""
    with FakePinterest() as p:
        login = start(p, "--board", BOARD_ID, "--no-browser")
        redirect = login.consent().headers["location"]
        assert redirect.startswith(login.query["redirect_uri"] + "?")
        login.paste(redirect)
        code, out, err = login.finish()
        assert code == 0, err
        account = json.loads(out)
        assert settings_of(home, account["id"])["board_id"] == BOARD_ID
        assert stored_credentials(home)[f"account:{account['id']}"]["refresh_token"]
