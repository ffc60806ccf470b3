"""`postcli accounts login x` against the fake X API: OAuth 2.0 authorization code with PKCE
(S256) at /i/oauth2/authorize, the exact callback X compares, HTTP Basic for a confidential
app and client_id in the body for a public one, the 2-hour token's expiry kept, and the
refresh that rotates the refresh token (stored at once), or fails for a revoked app."""

from __future__ import annotations

import json
import sqlite3

from fakes.oauth_server import s256
from fakes.x_server import CLIENT_ID, CLIENT_SECRET, SCOPES, FakeX
from postcli.signin.loopback import free_port
from signin_helpers import everything_but_credentials, start_login, stored_credentials


def _start(x: FakeX, port: int, *extra: str, secret: str | None = CLIENT_SECRET, registered: int | None = None):  # type: ignore[no-untyped-def]
    """`accounts login x` on `port`, the app's callback registered for `registered` (default: the same port)."""
    x.oauth.add_client(CLIENT_ID, x.client_secret, [f"http://127.0.0.1:{registered or port}/callback"], SCOPES)
    env = {"POSTCLI_X_CLIENT_ID": CLIENT_ID}
    if secret:
        env["POSTCLI_X_CLIENT_SECRET"] = secret
    return start_login(
        "x", "--port", str(port), "--api-base", x.url, "--authorize-url", f"{x.url}/i/oauth2/authorize", "--json", *extra,
        env=env,
    )  # fmt: skip


def _signed_in(x: FakeX, **kw) -> int:  # type: ignore[no-untyped-def]
    login = _start(x, free_port(), **kw)
    login.browse()
    code, out, err = login.finish()
    assert code == 0, err
    return json.loads(out)["id"]


def test_x_login_with_pkce_and_basic_auth_stores_the_tokens_and_their_expiry(cli, home):
    port = free_port()
    with FakeX() as x:
        login = _start(x, port)
        q = login.query
        assert (q["redirect_uri"], q["scope"], q["client_id"]) == (
            f"http://127.0.0.1:{port}/callback",
            "tweet.read tweet.write users.read media.write offline.access",
            CLIENT_ID,
        )
        assert q["code_challenge_method"] == "S256" and q["response_type"] == "code"
        assert login.browse().status_code == 200
        code, out, err = login.finish()
        assert code == 0, err
        account = json.loads(out)
        assert (account["platform"], account["handle"], account["external_id"]) == ("x", "alice_x", x.user_id)
        assert account["token_expires_at"]

        (tok,) = x.oauth.token_requests
        assert tok["_auth"] == "basic" and "client_secret" not in tok and "client_id" not in tok
        assert s256(tok["code_verifier"]) == q["code_challenge"]
        assert tok["redirect_uri"] == f"http://127.0.0.1:{port}/callback"
        stored = stored_credentials(home)[f"account:{account['id']}"]
        assert (stored["access_token"], stored["refresh_token"]) == x.issued_tokens[-1]
        assert stored["client_secret"] == CLIENT_SECRET and stored["expires_at"]
        assert len(x.issued_tokens) == 1  # the expiry came with the code: no refresh at connect
        written = everything_but_credentials(home)
        for secret in (CLIENT_SECRET, *x.issued_tokens[0]):
            assert secret.encode() not in written and secret not in out + err

        post = cli.json("post", "create", "from the browser sign-in", "--to", "x")
        assert post["status"] == "completed" and len(x.posts) == 1


def test_a_public_app_signs_in_with_its_client_id_in_the_body(cli, home):
    with FakeX(confidential=False) as x:
        account_id = _signed_in(x, secret=None)
        (tok,) = x.oauth.token_requests
        assert tok["_auth"] == "post" and tok["client_id"] == CLIENT_ID and "client_secret" not in tok
        stored = stored_credentials(home)[f"account:{account_id}"]
        assert "client_secret" not in stored and stored["refresh_token"] == x.refresh_token


def test_a_callback_other_than_the_registered_one_is_refused_by_the_consent_page():
    with FakeX() as x:
        login = _start(x, free_port(), registered=free_port())
        try:
            page = login.consent()
            assert page.status_code == 400 and "redirect uri" in page.text
        finally:
            login.proc.kill()
            login.proc.wait()


def test_without_port_the_callback_is_the_fixed_default_one():
    with FakeX() as x:
        x.oauth.add_client(CLIENT_ID, x.client_secret, ["http://127.0.0.1:8765/callback"], SCOPES)
        login = start_login(
            "x", "--no-browser", "--api-base", x.url, "--authorize-url", f"{x.url}/i/oauth2/authorize",
            env={"POSTCLI_X_CLIENT_ID": CLIENT_ID, "POSTCLI_X_CLIENT_SECRET": CLIENT_SECRET},
        )  # fmt: skip
        assert login.query["redirect_uri"] == "http://127.0.0.1:8765/callback"
        login.paste(login.consent().headers["location"])
        code, _out, err = login.finish()
        assert code == 0, err


def test_login_without_an_app_says_which_variables_to_set(cli):
    r = cli("accounts", "login", "x")
    assert r.exit_code == 2
    assert "POSTCLI_X_CLIENT_ID" in r.stderr and "console.x.com" in r.stderr
    assert "and secret" not in r.stderr  # a public app has none


def _expire_now(home, account_id: int) -> None:  # type: ignore[no-untyped-def]
    """Make the stored token due for a refresh (as 2 hours later)."""
    path = home / "credentials.json"
    data = json.loads(path.read_text())
    secrets = json.loads(data[f"account:{account_id}"])
    secrets["expires_at"] = "2020-01-01T00:00:00+00:00"
    data[f"account:{account_id}"] = json.dumps(secrets)
    path.write_text(json.dumps(data))
    with sqlite3.connect(home / "postcli.db") as conn:
        conn.execute("update accounts set token_expires_at = '2020-01-01 00:00:00.000000' where id = ?", (account_id,))


def test_the_refresh_rotates_the_refresh_token_and_the_new_pair_is_stored_at_once(cli, home):
    with FakeX() as x:
        account_id = _signed_in(x)
        first = x.refresh_token
        _expire_now(home, account_id)
        r = cli("accounts", "health", "--json")
        assert r.exit_code == 0, r.stderr
        assert len(x.requests_to("POST", "/2/oauth2/token")) == 2  # the code, then one refresh
        refresh = x.requests_to("POST", "/2/oauth2/token")[-1]
        assert refresh.headers["Authorization"].startswith("Basic ") and refresh.form["refresh_token"] == [first]
        stored = stored_credentials(home)[f"account:{account_id}"]
        assert (stored["access_token"], stored["refresh_token"]) == (x.access_token, x.refresh_token)
        assert stored["refresh_token"] != first
        listed = cli.json("accounts", "list")
        assert listed[0]["token_expires_at"] > "2021"
        # The next command uses the stored pair without refreshing again.
        x.reset_log()
        assert cli.json("accounts", "metrics", "alice_x")["followers"] == 321
        assert x.requests_to("POST", "/2/oauth2/token") == []


def test_a_revoked_app_marks_the_account_and_names_the_login_command(cli, home):
    with FakeX() as x:
        account_id = _signed_in(x)
        x.revoke()
        _expire_now(home, account_id)
        r = cli("accounts", "health")
        assert r.exit_code == 6
        assert "postcli accounts login x" in r.stdout + r.stderr
        assert [a["status"] for a in cli.json("accounts", "list")] == ["token_expired"]


def test_two_processes_due_for_a_refresh_spend_the_refresh_token_once(cli, home):
    """Each X refresh token works once: the second process must take the pair the first stored."""
    import subprocess
    import sys
    from pathlib import Path

    from test_x_cli import connect

    with FakeX() as x:
        account_id = connect(cli, x)  # refreshes once to learn the expiry
        _expire_now(home, account_id)
        x.reset_log()
        x.set_delay(1.0, "POST", "/2/oauth2/token")  # both want the refresh before either stored one
        exe = Path(sys.executable).with_name("postcli")
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "postcli"]
        procs = [
            subprocess.Popen(
                [*cmd, "accounts", "metrics", "alice_x", "--json"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, (out, err)
        refreshes = [r for r in x.requests_to("POST", "/2/oauth2/token") if r.param("grant_type") == "refresh_token"]
        assert len(refreshes) == 1 and all(r.status == 200 for r in x.requests_to("GET", "/2/users/me"))
        stored = stored_credentials(home)[f"account:{account_id}"]
        assert (stored["access_token"], stored["refresh_token"]) == (x.access_token, x.refresh_token)
        assert [a["status"] for a in cli.json("accounts", "list")] == ["active"]
