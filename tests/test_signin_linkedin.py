"""`postcli accounts login linkedin` against the fake LinkedIn: the consent page with an exact
registered redirect (no PKCE), the code exchange with the client id and secret in the form
body, the scopes a LinkedIn app must have been granted, programmatic refresh and a revoked token."""

from __future__ import annotations

import json
import sqlite3

from fakes.linkedin_server import (
    ALL_SCOPES,
    CLIENT_ID,
    CLIENT_SECRET,
    MEMBER_SCOPES,
    MEMBER_URN,
    ORG_ID,
    ORG_URN,
    FakeLinkedIn,
)
from postcli.signin.loopback import free_port
from signin_helpers import everything_but_credentials, start_login, stored_credentials

ENV = {"POSTCLI_LINKEDIN_CLIENT_ID": CLIENT_ID, "POSTCLI_LINKEDIN_CLIENT_SECRET": CLIENT_SECRET}


def _start(li: FakeLinkedIn, *args: str, port: int | None = None, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """`accounts login linkedin` with the app registered for exactly this redirect."""
    port = port or free_port()
    li.oauth.add_client(CLIENT_ID, CLIENT_SECRET, [f"http://127.0.0.1:{port}/callback"], ALL_SCOPES)
    return start_login(
        "linkedin", "--port", str(port), "--api-base", li.url,
        "--authorize-url", f"{li.url}/oauth/v2/authorization", "--json", *args, env={**ENV, **(env or {})},
    )  # fmt: skip


def _signed_in(li: FakeLinkedIn, *args: str, env: dict[str, str] | None = None) -> dict:  # type: ignore[type-arg]
    login = _start(li, *args, env=env)
    assert login.browse().status_code == 200
    code, out, err = login.finish()
    assert code == 0, err
    return json.loads(out)


def test_login_as_a_member_exchanges_the_code_with_the_secret_in_the_form(cli, home):
    port = free_port()
    with FakeLinkedIn() as li:
        login = _start(li, port=port)
        q = login.query
        assert q["redirect_uri"] == f"http://127.0.0.1:{port}/callback"
        assert (q["response_type"], q["client_id"], q["scope"]) == ("code", CLIENT_ID, "openid profile w_member_social")
        assert "code_challenge" not in q  # no PKCE for LinkedIn web apps
        assert login.browse().status_code == 200
        code, out, err = login.finish()
        assert code == 0, err
        account = json.loads(out)
        assert (account["platform"], account["external_id"], account["handle"]) == (
            "linkedin",
            MEMBER_URN,
            "Alice Example",
        )
        assert account["token_expires_at"] is not None
        (tok,) = li.oauth.token_requests
        assert tok["_auth"] == "post" and (tok["client_id"], tok["client_secret"]) == (CLIENT_ID, CLIENT_SECRET)
        assert tok["redirect_uri"] == f"http://127.0.0.1:{port}/callback"
        stored = stored_credentials(home)[f"account:{account['id']}"]
        assert stored["access_token"] == li.issued[0]["access_token"] and stored["client_secret"] == CLIENT_SECRET
        with sqlite3.connect(home / "postcli.db") as conn:
            (settings,) = conn.execute("select settings from accounts").fetchone()
        assert json.loads(settings)["scopes"] == sorted(MEMBER_SCOPES)
        written = everything_but_credentials(home)
        for secret in (CLIENT_SECRET, li.issued[0]["access_token"]):
            assert secret.encode() not in written and secret not in out + err

        post = cli.json("post", "create", "from the browser sign-in (really)", "--to", "linkedin")
        assert post["status"] == "completed"
        assert post["targets"][0]["url"].startswith("https://www.linkedin.com/feed/update/urn:li:share:")


def test_the_redirect_is_the_registered_fixed_port_when_none_is_given(home):
    with FakeLinkedIn() as li:
        li.oauth.add_client(CLIENT_ID, CLIENT_SECRET, ["http://127.0.0.1:8765/callback"], ALL_SCOPES)
        login = start_login(
            "linkedin", "--no-browser", "--api-base", li.url,
            "--authorize-url", f"{li.url}/oauth/v2/authorization", "--json", env=ENV,
        )  # fmt: skip
        assert login.query["redirect_uri"] == "http://127.0.0.1:8765/callback"
        consent = login.consent()
        assert consent.status_code == 302
        login.paste(consent.headers["location"])
        code, out, err = login.finish()
        assert code == 0, err
        # Any other port is not the registered redirect: the consent page refuses it (no redirect).
        other = _start(li)
        li.oauth.clients[CLIENT_ID].redirect_uris[:] = ["http://127.0.0.1:8765/callback"]
        assert other.consent().status_code == 400
        other.proc.kill()
        other.proc.wait()


def test_login_as_a_page_asks_for_the_page_scopes_and_checks_the_role(home):
    with FakeLinkedIn() as li:
        login = _start(li, "--org", ORG_ID)
        assert login.query["scope"].split(" ") == [
            "openid",
            "profile",
            "w_member_social",
            "w_organization_social",
            "r_organization_social",
            "rw_organization_admin",
        ]
        assert login.browse().status_code == 200
        code, out, err = login.finish()
        assert code == 0, err
        account = json.loads(out)
        assert (account["external_id"], account["handle"]) == (ORG_URN, "Devtestco")
        assert li.requests_to("GET", "/rest/organizationAcls")


def test_a_scope_the_app_lacks_names_the_scope_to_drop(home):
    with FakeLinkedIn(app_scopes=MEMBER_SCOPES) as li:
        login = _start(li, "--scopes", "openid profile w_member_social r_member_postAnalytics")
        assert login.browse().status_code == 200
        code, out, err = login.finish()
        assert code == 1
        assert "unauthorized_scope_error" in err and "does not have r_member_postAnalytics" in err
        assert 'postcli accounts login linkedin --scopes "openid profile w_member_social"' in err
        assert stored_credentials(home) == {} and li.oauth.token_requests == []


def test_the_configured_scopes_are_asked_and_kept(home):
    with FakeLinkedIn() as li:
        scopes = "openid,profile,w_member_social,r_member_postAnalytics"
        account = _signed_in(li, env={"POSTCLI_LINKEDIN_SCOPES": scopes})
        assert li.oauth.authorize_requests[-1]["scope"] == "openid profile w_member_social r_member_postAnalytics"
        with sqlite3.connect(home / "postcli.db") as conn:
            (settings,) = conn.execute("select settings from accounts where id = ?", (account["id"],)).fetchone()
        assert "r_member_postAnalytics" in json.loads(settings)["scopes"]


def _due_for_refresh(home, account_id: int) -> None:  # type: ignore[no-untyped-def]
    path = home / "credentials.json"
    data = json.loads(path.read_text())
    secrets = json.loads(data[f"account:{account_id}"])
    secrets["expires_at"] = "2020-01-01T00:00:00+00:00"
    data[f"account:{account_id}"] = json.dumps(secrets)
    path.write_text(json.dumps(data))
    with sqlite3.connect(home / "postcli.db") as conn:
        conn.execute("update accounts set token_expires_at = '2020-01-01 00:00:00.000000' where id = ?", (account_id,))


def test_an_app_with_programmatic_refresh_gets_a_new_token_before_the_old_ends(cli, home):
    with FakeLinkedIn(refresh_tokens=True) as li:
        account = _signed_in(li)
        stored = stored_credentials(home)[f"account:{account['id']}"]
        assert stored["refresh_token"] == li.issued[0]["refresh_token"]
        _due_for_refresh(home, account["id"])
        health = cli.json("accounts", "health")
        assert [h["healthy"] for h in health] == [True]
        (refresh,) = li.requests_to("POST", "/oauth/v2/accessToken")[1:]
        assert refresh.form["grant_type"] == ["refresh_token"] and refresh.headers.get("Authorization") is None
        stored = stored_credentials(home)[f"account:{account['id']}"]
        assert stored["access_token"] == li.issued[-1]["access_token"] != li.issued[0]["access_token"]


def test_a_revoked_token_needs_the_login_command(cli, home):
    with FakeLinkedIn() as li:
        account = _signed_in(li)
        li.tokens[li.issued[0]["access_token"]].revoked = True
        r = cli("accounts", "health")
        assert r.exit_code == 6 and "postcli accounts login linkedin" in r.stderr
        (health,) = cli.json("accounts", "health", code=6)
        assert health["id"] == account["id"] and "revoked" in health["message"]
        assert [a["status"] for a in cli.json("accounts", "list")] == ["token_expired"]
