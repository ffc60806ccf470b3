"""`postcli accounts login mastodon` against a fake instance: app registration, consent,
PKCE code exchange, then publishing and collecting with the token it stored."""

from __future__ import annotations

import json
import socket

from fakes.mastodon_server import FakeMastodon
from fakes.oauth_server import s256
from signin_helpers import db_rows, everything_but_credentials, start_login, stored_credentials

TOKEN = "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0"


def _write_collect_config(home) -> None:  # type: ignore[no-untyped-def]
    (home / "config.toml").write_text("[collect]\nmin_interval_seconds = 0\nbackoff_seconds = 0.01\n")


def test_login_registers_the_app_signs_in_with_pkce_then_posts_and_collects(cli, home):
    _write_collect_config(home)
    with FakeMastodon(token=TOKEN) as m:
        login = start_login("mastodon", "--instance", m.url, "--json")
        q = login.query
        assert login.url.startswith(f"{m.url}/oauth/authorize?")
        assert q["response_type"] == "code" and q["scope"] == "read write"
        assert q["code_challenge_method"] == "S256" and len(q["state"]) >= 32
        assert q["redirect_uri"].startswith("http://127.0.0.1:") and q["redirect_uri"].endswith("/callback")
        page = login.browse()
        assert page.status_code == 200 and "close this tab" in page.text
        code, out, err = login.finish()
        assert code == 0, err
        assert "Warning" not in err and "Traceback" not in err
        account = json.loads(out)
        assert (account["platform"], account["handle"], account["reconnected"]) == (
            "mastodon",
            f"mastodonpy_test@{m.domain}",
            False,
        )

        # What the instance saw: one app registration with the port-less loopback URI, then a
        # token request from that client with the PKCE verifier of the challenge and the same redirect.
        apps = m.requests_to("POST", "/api/v1/apps")
        assert len(apps) == 1
        assert apps[0].param("redirect_uris") == "http://127.0.0.1/callback"
        assert apps[0].param("scopes") == "read write"
        (client,) = m.oauth.clients.values()
        assert q["client_id"] == client.client_id
        (tok,) = m.oauth.token_requests
        assert tok["client_id"] == client.client_id and tok["client_secret"] == client.client_secret
        assert s256(tok["code_verifier"]) == q["code_challenge"]
        assert tok["redirect_uri"] == q["redirect_uri"]

        # Secrets only in the credentials store.
        creds = stored_credentials(home)
        assert creds[f"account:{account['id']}"]["access_token"] == TOKEN
        assert creds[f"app:mastodon:{m.url}"]["client_secret"] == client.client_secret
        written = everything_but_credentials(home)
        assert TOKEN.encode() not in written and client.client_secret.encode() not in written
        assert TOKEN not in out + err and client.client_secret not in out + err

        # The token works for publishing and collecting.
        r = cli("post", "create", "hello from the browser sign-in", "--to", "mastodon", "--json")
        assert r.exit_code == 0, r.stderr
        assert [s["content"] for s in m.statuses] == ["<p>hello from the browser sign-in</p>"]
        assert cli.json("collect")["fetched"] == 1
        assert db_rows(home, "select count(*) from post_metric_snapshots")[0][0] == 1

        # A second sign-in reuses the registered app and reconnects the same account.
        login = start_login("mastodon", "--instance", m.url, "--json")
        assert login.query["client_id"] == client.client_id
        login.browse()
        code, out, err = login.finish()
        assert code == 0, err
        assert json.loads(out)["reconnected"] is True
        assert len(m.requests_to("POST", "/api/v1/apps")) == 1
        assert db_rows(home, "select count(*) from accounts")[0][0] == 1


def test_no_browser_accepts_the_pasted_redirect_address(home):
    with FakeMastodon(token=TOKEN) as m:
        login = start_login("mastodon", "--instance", m.url, "--no-browser")
        redirect = login.consent()
        assert redirect.status_code == 302
        login.paste(redirect.headers["location"])
        code, out, err = login.finish()
        assert code == 0, err
        assert "Connected mastodon account" in out
        assert db_rows(home, "select platform, status from accounts") == [("mastodon", "active")]


def _nothing_stored(home, m) -> None:  # type: ignore[no-untyped-def]
    assert db_rows(home, "select count(*) from accounts") in ([], [(0,)])
    assert not [k for k in stored_credentials(home) if k.startswith("account:")]
    assert not m.oauth.token_requests or all(r.get("code") for r in m.oauth.token_requests)


def test_a_declined_consent_says_so_and_stores_nothing(home):
    with FakeMastodon(token=TOKEN) as m:
        m.oauth.decision = "deny"
        login = start_login("mastodon", "--instance", m.url)
        assert login.browse().status_code == 200
        code, out, err = login.finish()
        assert code == 1
        assert "declined" in err and "Traceback" not in err
        assert m.oauth.token_requests == []
        _nothing_stored(home, m)


def test_a_redirect_with_another_state_is_refused_and_the_code_never_exchanged(home):
    with FakeMastodon(token=TOKEN) as m:
        m.oauth.tamper_state = "forged-state"
        login = start_login("mastodon", "--instance", m.url)
        login.browse()
        code, out, err = login.finish()
        assert code == 1
        assert "state does not match" in err
        assert m.oauth.token_requests == []
        _nothing_stored(home, m)


def test_a_pasted_address_with_another_state_is_refused(home):
    with FakeMastodon(token=TOKEN) as m:
        login = start_login("mastodon", "--instance", m.url, "--no-browser")
        location = login.consent().headers["location"]
        login.paste(location.replace(f"state={login.query['state']}", "state=someone-elses"))
        code, out, err = login.finish()
        assert code == 1 and "state does not match" in err
        assert m.oauth.token_requests == []
        _nothing_stored(home, m)


def test_no_redirect_in_time_ends_with_the_no_browser_hint(home):
    with FakeMastodon(token=TOKEN) as m:
        login = start_login("mastodon", "--instance", m.url, env={"POSTCLI_LOGIN_TIMEOUT": "0.5"})
        code, out, err = login.finish()
        assert code == 1
        assert "no sign-in arrived within 0.5 seconds" in err and "--no-browser" in err
        _nothing_stored(home, m)


def test_a_wrong_client_secret_is_named_and_nothing_is_stored(home):
    with FakeMastodon(token=TOKEN) as m:
        m.oauth.add_client("my-app", "the-right-secret", ["http://127.0.0.1/callback"], ["read", "write"])
        login = start_login(
            "mastodon",
            "--instance",
            m.url,
            env={
                "POSTCLI_MASTODON_CLIENT_ID": "my-app",
                "POSTCLI_MASTODON_CLIENT_SECRET": "not-the-secret",
                "POSTCLI_DEBUG": "1",
            },
        )
        assert login.query["client_id"] == "my-app"
        login.browse()
        code, out, err = login.finish()
        assert code == 2
        assert "does not accept the app's client id/secret" in err and "POSTCLI_MASTODON_CLIENT_ID" in err
        assert "Traceback" in err and "not-the-secret" not in err  # --debug shows the traceback, not the secret
        assert m.requests_to("POST", "/api/v1/apps") == []
        _nothing_stored(home, m)


def test_a_redirect_uri_the_app_does_not_know_stops_at_the_consent_page(home):
    with FakeMastodon(token=TOKEN) as m:
        m.oauth.add_client("my-app", "secret-1", ["https://example.org/callback"], ["read", "write"])
        login = start_login(
            "mastodon",
            "--instance",
            m.url,
            env={
                "POSTCLI_MASTODON_CLIENT_ID": "my-app",
                "POSTCLI_MASTODON_CLIENT_SECRET": "secret-1",
                "POSTCLI_LOGIN_TIMEOUT": "0.5",
            },
        )
        page = login.consent()
        assert page.status_code == 400 and "redirect uri" in page.text
        code, out, err = login.finish()
        assert code == 1 and "--no-browser" in err
        _nothing_stored(home, m)


def test_a_port_in_use_is_named(cli, home):
    with socket.socket() as busy, FakeMastodon(token=TOKEN) as m:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = cli("accounts", "login", "mastodon", "--instance", m.url, "--port", str(port))
        assert r.exit_code == 2
        assert f"port {port} on 127.0.0.1 is in use" in r.stderr and "--port" in r.stderr
        assert m.oauth.authorize_requests == []


def test_login_without_an_instance_asks_for_it(cli):
    r = cli("accounts", "login", "mastodon")
    assert r.exit_code == 2 and "--instance" in r.stderr


def test_a_refused_token_marks_the_account_and_names_the_login_command(cli, home):
    with FakeMastodon(token=TOKEN) as m:
        r = cli("accounts", "add", "mastodon", "--instance", m.url, "--token-stdin", input=TOKEN + "\n")
        assert r.exit_code == 0, r.stderr
        m.revoke_token()
        r = cli("accounts", "health")
        assert r.exit_code == 6
        assert f"postcli accounts login mastodon --instance {m.url}" in r.stdout + r.stderr
        assert db_rows(home, "select status from accounts") == [("token_expired",)]
        r = cli("post", "create", "after the revocation", "--to", "mastodon", "--json")
        assert r.exit_code == 6
        assert f"postcli accounts login mastodon --instance {m.url}" in r.stdout


def test_an_app_the_instance_forgot_is_registered_again_before_the_browser_opens(home):
    with FakeMastodon(token=TOKEN) as m:
        login = start_login("mastodon", "--instance", m.url)
        login.browse()
        assert login.finish()[0] == 0
        (old,) = m.oauth.clients
        m.oauth.remove_client(old)

        login = start_login("mastodon", "--instance", m.url)
        assert login.query["client_id"] != old
        assert login.browse().status_code == 200
        code, out, err = login.finish()
        assert code == 0, err
        assert len(m.requests_to("POST", "/api/v1/apps")) == 2
        assert stored_credentials(home)[f"app:mastodon:{m.url}"]["client_id"] == login.query["client_id"]
