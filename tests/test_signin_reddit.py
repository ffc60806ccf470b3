"""`postcli accounts login reddit` against the fake Reddit, the test playing the browser: the
installed app's consent page with duration=permanent on the registered redirect, the code
exchanged with HTTP Basic "client_id:" (an empty password) and Reddit's User-Agent, the
refresh token kept, and Reddit's HTTP-200 refusals read from the body."""

from __future__ import annotations

import base64
import json

from fakes.reddit_server import CLIENT_ID, FakeReddit
from postcli.signin.loopback import free_port
from signin_helpers import db_rows, everything_but_credentials, start_login, stored_credentials


def _start(r: FakeReddit, port: int, *extra: str):  # type: ignore[no-untyped-def]
    r.register_app(f"http://127.0.0.1:{port}/callback")
    return start_login(
        "reddit", "--user", r.username, "--port", str(port), "--api-base", r.url,
        "--authorize-url", f"{r.url}/api/v1/authorize", "--json", *extra,
        env={"POSTCLI_REDDIT_CLIENT_ID": CLIENT_ID},
    )  # fmt: skip


def test_reddit_login_asks_a_permanent_grant_and_exchanges_the_code_with_an_empty_secret(cli, home):
    port = free_port()
    with FakeReddit() as r:
        login = _start(r, port)
        q = login.query
        assert (q["client_id"], q["redirect_uri"], q["duration"], q["response_type"]) == (
            CLIENT_ID,
            f"http://127.0.0.1:{port}/callback",
            "permanent",
            "code",
        )
        assert q["scope"] == "identity submit read history edit flair"
        assert "code_challenge" not in q  # Reddit documents no PKCE
        assert login.browse().status_code == 200
        code, out, err = login.finish()
        assert code == 0, err
        account = json.loads(out)
        assert (account["platform"], account["handle"], account["external_id"]) == ("reddit", r.username, "t2_3ebyblla")
        assert account["token_expires_at"]

        exchange, refresh = r.requests_to("POST", "/api/v1/access_token")
        for call in (exchange, refresh):
            kind, _, value = call.headers["Authorization"].partition(" ")
            assert kind == "Basic" and base64.b64decode(value).decode() == f"{CLIENT_ID}:"
            assert call.headers["User-Agent"].endswith(f"(by /u/{r.username})")
        assert exchange.param("grant_type") == "authorization_code" and "client_secret" not in exchange.form
        assert refresh.param("grant_type") == "refresh_token"
        stored = stored_credentials(home)[f"account:{account['id']}"]
        assert (stored["access_token"], stored["refresh_token"]) == (r.access_token, r.refresh_token)
        assert db_rows(home, "select settings from accounts")[0][0].count(CLIENT_ID) == 1
        written = everything_but_credentials(home)
        for access, refresh_token in r.issued:
            for secret in (access, refresh_token):
                assert secret and secret.encode() not in written and secret not in out + err

        post = cli.json(
            "post", "create", "signed in through the browser", "--to", "reddit", "--title", "Hello",
            "--field", "reddit.subreddit=test",
        )  # fmt: skip
        assert post["status"] == "completed"


def test_a_code_refused_with_http_200_ends_the_sign_in_with_nothing_stored(home):
    with FakeReddit() as r:
        login = _start(r, free_port())
        # Reddit's answer to a spent or foreign code: {"error": "invalid_grant"} with HTTP 200.
        r.fail_next("POST", "/api/v1/access_token", 200, json={"error": "invalid_grant"})
        login.browse()
        code, out, err = login.finish()
        assert code == 1, (out, err)
        assert "refused the authorization code; nothing was stored" in err
        assert db_rows(home, "select id from accounts") == [] and stored_credentials(home) == {}


def test_a_grant_without_a_refresh_token_is_not_stored(home):
    with FakeReddit() as r:
        login = _start(r, free_port())
        # The consent page grants for an hour only (duration=temporary): no refresh token.
        login.url = login.url.replace("duration=permanent", "duration=temporary")
        login.browse()
        code, out, err = login.finish()
        assert code == 1 and "no refresh token" in err
        assert db_rows(home, "select id from accounts") == []


def test_reddit_login_needs_the_username_before_the_browser_opens(cli):
    r = cli("accounts", "login", "reddit")
    assert r.exit_code == 2 and "--user" in r.stderr
    r = cli("accounts", "login", "reddit", "--user", "not a name!")
    assert r.exit_code == 2 and "not a Reddit username" in r.stderr


def test_a_revoked_app_marks_the_account_and_names_the_login_command(cli, home):
    with FakeReddit() as r:
        login = _start(r, free_port())
        login.browse()
        code, out, err = login.finish()
        assert code == 0, err
        r.revoke()
        res = cli("accounts", "health")
        assert res.exit_code == 6, (res.stdout, res.stderr)
        assert f"postcli accounts login reddit --user {r.username}" in res.stdout + res.stderr
        assert [a["status"] for a in cli.json("accounts", "list")] == ["token_expired"]


def test_no_browser_reads_the_pasted_address_and_signs_in(home):
    """`--no-browser`: the address the browser ended on, pasted, is traded with the empty-secret Basic."""
    with FakeReddit() as r:
        login = _start(r, free_port(), "--no-browser")
        redirect = login.consent().headers["location"]
        assert redirect.startswith(login.query["redirect_uri"] + "?")
        login.paste(redirect)
        code, out, err = login.finish()
        assert code == 0, err
        account = json.loads(out)
        assert account["handle"] == r.username
        assert stored_credentials(home)[f"account:{account['id']}"]["refresh_token"]
