"""`postcli accounts login threads` against the fake Threads API: the Meta dialog with a
registered https redirect and paste-back, the code exchange, the long-lived exchange
(th_exchange_token, done by the adapter's connect), then publishing and collecting."""

from __future__ import annotations

import json

from fakes.threads_server import FakeThreads
from signin_helpers import db_rows, everything_but_credentials, start_login, stored_credentials

APP_ID = "1234567890123456"
APP_SECRET = "0123456789abcdef0123456789abcdef"
REDIRECT = "https://localhost/callback"


def _start(t: FakeThreads, *extra: str, secret: str = APP_SECRET):  # type: ignore[no-untyped-def]
    return start_login(
        "threads",
        "--redirect-uri",
        REDIRECT,
        "--api-base",
        t.url,
        "--authorize-url",
        f"{t.url}/oauth/authorize",
        *extra,
        env={"POSTCLI_THREADS_CLIENT_ID": APP_ID, "POSTCLI_THREADS_CLIENT_SECRET": secret},
    )


def test_threads_login_pastes_back_exchanges_for_a_long_lived_token_then_posts_and_collects(cli, home):
    (home / "config.toml").write_text("[collect]\nbackoff_seconds = 0.01\nmax_attempts = 2\n")
    with FakeThreads(app_secret=APP_SECRET) as t:
        t.oauth.add_client(
            APP_ID,
            APP_SECRET,
            [REDIRECT],
            ["threads_basic", "threads_content_publish", "threads_manage_insights", "threads_delete"],
        )
        login = _start(t, "--json")
        q = login.query
        assert (q["client_id"], q["redirect_uri"], q["response_type"]) == (APP_ID, REDIRECT, "code")
        assert q["scope"] == "threads_basic,threads_content_publish,threads_manage_insights,threads_delete"
        redirect = login.consent()
        assert redirect.status_code == 302 and redirect.headers["location"].startswith(REDIRECT + "?code=")
        login.paste(redirect.headers["location"])
        code, out, err = login.finish()
        assert code == 0, err
        account = json.loads(out)
        assert (account["platform"], account["handle"], account["external_id"]) == ("threads", t.username, t.user_id)
        assert account["token_expires_at"]

        (tok,) = t.oauth.token_requests
        assert (tok["client_id"], tok["client_secret"], tok["redirect_uri"], tok["grant_type"]) == (
            APP_ID,
            APP_SECRET,
            REDIRECT,
            "authorization_code",
        )
        (exchange,) = t.calls("GET", "/access_token")
        assert exchange.param("grant_type") == "th_exchange_token"
        short = exchange.param("access_token")
        assert t.tokens[short]["kind"] == "short"

        stored = stored_credentials(home)[f"account:{account['id']}"]
        assert stored["app_secret"] == APP_SECRET
        long_lived = stored["access_token"]
        assert long_lived != short and t.tokens[long_lived]["kind"] == "long"
        written = everything_but_credentials(home)
        for secret in (APP_SECRET, short, long_lived):
            assert secret.encode() not in written and secret not in out + err

        post = cli.json("post", "create", "Signed in from the browser", "--to", "threads")
        assert post["status"] == "completed"
        (published,) = t.published
        create = t.calls("POST", f"/v1.0/{t.user_id}/threads")
        assert create[0].param("access_token") == long_lived
        t.set_insights(published["id"], views=10, likes=2, replies=0, reposts=0)
        assert cli.json("collect")["fetched"] == 1
        assert db_rows(home, "select views, likes from post_metric_snapshots") == [(10, 2)]


def test_threads_wrong_app_secret_is_named_and_nothing_is_stored(home):
    with FakeThreads(app_secret=APP_SECRET) as t:
        t.oauth.add_client(
            APP_ID,
            APP_SECRET,
            [REDIRECT],
            ["threads_basic", "threads_content_publish", "threads_manage_insights", "threads_delete"],
        )
        login = _start(t, secret="wrong-secret-000")
        login.paste(login.consent().headers["location"])
        code, out, err = login.finish()
        assert code == 2
        assert "client id/secret" in err and "Error validating client secret." in err
        assert "wrong-secret-000" not in err
        assert db_rows(home, "select count(*) from accounts") in ([], [(0,)])
        assert not stored_credentials(home)


def test_threads_denied_in_the_dialog(home):
    with FakeThreads(app_secret=APP_SECRET) as t:
        t.oauth.add_client(
            APP_ID,
            APP_SECRET,
            [REDIRECT],
            ["threads_basic", "threads_content_publish", "threads_manage_insights", "threads_delete"],
        )
        t.oauth.decision = "deny"
        login = _start(t)
        login.paste(login.consent().headers["location"])
        code, out, err = login.finish()
        assert code == 1 and "declined" in err
        assert t.oauth.token_requests == []
        assert not stored_credentials(home)


def test_threads_needs_an_https_redirect_and_the_app(cli):
    r = cli("accounts", "login", "threads")
    assert r.exit_code == 2 and "--redirect-uri" in r.stderr
    r = cli("accounts", "login", "threads", "--redirect-uri", REDIRECT)
    assert r.exit_code == 2 and "POSTCLI_THREADS_CLIENT_ID" in r.stderr and "docs/signin.md" in r.stderr
    r = cli("accounts", "login", "threads", "--redirect-uri", "http://example.org/cb")
    assert r.exit_code == 2 and "not an https URL" in r.stderr
