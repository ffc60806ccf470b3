"""`postcli accounts login tumblr` against the fake Tumblr API: the OAuth2 dialog on the
loopback listener (an exact registered port), the code exchange with a refresh token,
and the adapter's first refresh whose rotated refresh token is the one stored."""

from __future__ import annotations

import json

from fakes.tumblr_server import CLIENT_ID, CLIENT_SECRET, FakeTumblr
from postcli.signin.loopback import free_port
from signin_helpers import everything_but_credentials, start_login, stored_credentials


def _start(t: FakeTumblr, port: int):  # type: ignore[no-untyped-def]
    """`accounts login tumblr` on `port`, registered with the fake as the app's exact redirect."""
    redirect = f"http://127.0.0.1:{port}/callback"
    t.oauth.add_client(CLIENT_ID, CLIENT_SECRET, [redirect], ["basic", "write", "offline_access"])
    return start_login(
        "tumblr", "--blog", t.blog_name, "--port", str(port), "--api-base", t.url,
        "--authorize-url", f"{t.url}/oauth2/authorize", "--json",
        env={"POSTCLI_TUMBLR_CLIENT_ID": CLIENT_ID, "POSTCLI_TUMBLR_CLIENT_SECRET": CLIENT_SECRET},
    )  # fmt: skip


def _signed_in(t: FakeTumblr) -> int:
    """A Tumblr account connected through the browser sign-in; its id."""
    login = _start(t, free_port())
    login.browse()
    code, out, err = login.finish()
    assert code == 0, err
    return json.loads(out)["id"]


def test_tumblr_login_stores_the_rotated_refresh_token_and_posts(cli, home):
    port = free_port()
    redirect = f"http://127.0.0.1:{port}/callback"
    with FakeTumblr() as t:
        login = _start(t, port)
        q = login.query
        assert (q["redirect_uri"], q["scope"], q["client_id"]) == (redirect, "basic write offline_access", CLIENT_ID)
        assert "code_challenge" not in q  # Tumblr documents no PKCE
        assert login.browse().status_code == 200
        code, out, err = login.finish()
        assert code == 0, err
        account = json.loads(out)
        assert (account["platform"], account["handle"]) == ("tumblr", t.blog_name)

        (tok,) = t.oauth.token_requests
        assert (tok["grant_type"], tok["redirect_uri"], tok["client_secret"]) == (
            "authorization_code",
            redirect,
            CLIENT_SECRET,
        )
        # The code's tokens, then the adapter's first refresh: the rotated pair is what is stored.
        assert len(t.issued_tokens) == 2
        stored = stored_credentials(home)[f"account:{account['id']}"]
        assert (stored["access_token"], stored["refresh_token"]) == t.issued_tokens[-1]
        assert stored["client_secret"] == CLIENT_SECRET
        written = everything_but_credentials(home)
        for secret in (CLIENT_SECRET, *t.issued_tokens[0], *t.issued_tokens[1]):
            assert secret.encode() not in written and secret not in out + err

        post = cli.json("post", "create", "from the browser sign-in", "--to", "tumblr")
        assert post["status"] == "completed"


def test_tumblr_login_needs_the_blog_before_the_browser_opens(cli):
    r = cli("accounts", "login", "tumblr")
    assert r.exit_code == 2 and "--blog" in r.stderr


def _expire_now(home, account_id: int) -> None:  # type: ignore[no-untyped-def]
    """Make the stored token due for a refresh (as 42 minutes later)."""
    import sqlite3

    path = home / "credentials.json"
    data = json.loads(path.read_text())
    secrets = json.loads(data[f"account:{account_id}"])
    secrets["expires_at"] = "2020-01-01T00:00:00+00:00"
    data[f"account:{account_id}"] = json.dumps(secrets)
    path.write_text(json.dumps(data))
    with sqlite3.connect(home / "postcli.db") as conn:
        conn.execute("update accounts set token_expires_at = '2020-01-01 00:00:00.000000' where id = ?", (account_id,))


def test_two_processes_refreshing_at_once_spend_the_refresh_token_once(cli, home):
    import subprocess
    import sys
    from pathlib import Path

    with FakeTumblr() as t:
        account_id = _signed_in(t)
        _expire_now(home, account_id)
        refreshes_before = len(t.requests_to("POST", "/v2/oauth2/token"))
        # A slow token endpoint makes both processes want the refresh before either has saved one.
        t.set_delay(1.0, "POST", "/v2/oauth2/token")
        exe = Path(sys.executable).with_name("postcli")
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "postcli"]
        procs = [
            subprocess.Popen(
                cmd + ["accounts", "health", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for _ in range(2)
        ]
        results = [(p.wait(timeout=60), p.stdout.read(), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
        for rc, out, err in results:
            assert rc == 0, (out, err)
        refreshes = t.requests_to("POST", "/v2/oauth2/token")[refreshes_before:]
        assert len(refreshes) == 1  # the second process took the pair the first one stored
        stored = stored_credentials(home)[f"account:{account_id}"]
        assert (stored["access_token"], stored["refresh_token"]) == (t.access_token, t.refresh_token)
        r = cli.json("accounts", "list")
        assert [a["status"] for a in r] == ["active"]


def test_a_refused_refresh_marks_the_account_and_names_the_login_command(cli, home):
    with FakeTumblr() as t:
        account_id = _signed_in(t)
        _expire_now(home, account_id)
        t.refresh_fails_with = (400, {"error": "invalid_grant", "error_description": "The refresh token is invalid."})
        r = cli("accounts", "health")
        assert r.exit_code == 6
        assert f"postcli accounts login tumblr --blog {t.blog_name}" in r.stdout + r.stderr
        assert [a["status"] for a in cli.json("accounts", "list")] == ["token_expired"]
