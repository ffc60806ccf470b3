"""`postcli accounts login facebook` against the fake Graph API: the dialog on a fixed
loopback port, the code exchange, the Page chosen at the prompt, then the adapter's
long-lived exchange and the Page token stored."""

from __future__ import annotations

import json

from fakes.facebook_server import FakeFacebook
from postcli.signin.loopback import free_port
from signin_helpers import everything_but_credentials, start_login, stored_credentials

APP_ID, APP_SECRET = "1234567890", "fake-app-secret-abcdef"
SCOPES = ["pages_show_list", "pages_manage_posts", "pages_read_engagement", "read_insights", "pages_manage_engagement"]


def _start(fb: FakeFacebook, port: int, *extra: str):  # type: ignore[no-untyped-def]
    return start_login(
        "facebook",
        "--port",
        str(port),
        "--api-base",
        fb.url,
        "--authorize-url",
        f"{fb.url}/v26.0/dialog/oauth",
        "--json",
        *extra,
        env={"POSTCLI_FACEBOOK_CLIENT_ID": APP_ID, "POSTCLI_FACEBOOK_CLIENT_SECRET": APP_SECRET},
    )


def test_facebook_login_asks_which_page_and_stores_its_token(cli, home):
    port = free_port()
    with FakeFacebook(app_id=APP_ID, app_secret=APP_SECRET) as fb:
        cafe, bakery = fb.add_page("Cafe Nova"), fb.add_page("Bakery \x1b[31mRed")
        fb.signin_user = fb.add_user("Ana", [cafe, bakery])
        fb.oauth.add_client(APP_ID, APP_SECRET, [f"http://127.0.0.1:{port}/callback"], SCOPES)
        login = _start(fb, port)
        assert login.query["scope"] == ",".join(SCOPES)
        assert login.browse().status_code == 200
        login.paste("2")  # the prompt: the second Page
        code, out, err = login.finish()
        assert code == 0, err
        assert "1. Cafe Nova" in err and "\x1b" not in err
        account = json.loads(out)
        assert (account["platform"], account["external_id"]) == ("facebook", bakery.id)

        (tok,) = fb.oauth.token_requests
        assert (tok["client_id"], tok["client_secret"], tok["redirect_uri"]) == (
            APP_ID,
            APP_SECRET,
            f"http://127.0.0.1:{port}/callback",
        )
        assert len(fb.exchanges) == 1 and fb.exchanges[0].startswith("EAAUSER")  # made long-lived
        stored = stored_credentials(home)[f"account:{account['id']}"]
        assert stored["access_token"] == bakery.long_token and stored["app_secret"] == APP_SECRET
        written = everything_but_credentials(home)
        assert APP_SECRET.encode() not in written and bakery.long_token.encode() not in written
        assert APP_SECRET not in out + err and bakery.long_token not in out + err


def test_facebook_login_with_page_asks_nothing(home):
    port = free_port()
    with FakeFacebook(app_id=APP_ID, app_secret=APP_SECRET) as fb:
        cafe, bakery = fb.add_page("Cafe Nova"), fb.add_page("Bakery")
        fb.signin_user = fb.add_user("Ana", [cafe, bakery])
        fb.oauth.add_client(APP_ID, APP_SECRET, [f"http://127.0.0.1:{port}/callback"], SCOPES)
        login = _start(fb, port, "--page", "Cafe Nova")
        login.browse()
        code, out, err = login.finish()
        assert code == 0, err
        assert "several" not in err
        assert json.loads(out)["external_id"] == cafe.id


def test_facebook_wrong_app_secret_is_named(home):
    port = free_port()
    with FakeFacebook(app_id=APP_ID, app_secret=APP_SECRET) as fb:
        page = fb.add_page("Cafe Nova")
        fb.signin_user = fb.add_user("Ana", [page])
        fb.oauth.add_client(APP_ID, "the-other-secret", [f"http://127.0.0.1:{port}/callback"], SCOPES)
        login = _start(fb, port)
        login.browse()
        code, out, err = login.finish()
        assert code == 2 and "Error validating client secret." in err
        assert not stored_credentials(home)


def test_facebook_login_for_business_sends_the_configuration_and_no_scope(home):
    port = free_port()
    with FakeFacebook(app_id=APP_ID, app_secret=APP_SECRET) as fb:
        page = fb.add_page("Cafe Nova")
        fb.signin_user = fb.add_user("Ana", [page])
        fb.oauth.add_client(APP_ID, APP_SECRET, [f"http://127.0.0.1:{port}/callback"], SCOPES)
        fb.oauth.configs["cfg-778899"] = SCOPES
        login = _start(fb, port, "--config-id", "cfg-778899")
        assert login.query["config_id"] == "cfg-778899" and "scope" not in login.query
        login.browse()
        code, out, err = login.finish()
        assert code == 0, err
        assert json.loads(out)["external_id"] == page.id


def test_the_configuration_id_also_comes_from_the_environment_or_the_config(home):
    port = free_port()
    (home / "config.toml").write_text('[apps.facebook]\nconfig_id = "cfg-from-file"\n')
    with FakeFacebook(app_id=APP_ID, app_secret=APP_SECRET) as fb:
        fb.signin_user = fb.add_user("Ana", [fb.add_page("Cafe Nova")])
        fb.oauth.add_client(APP_ID, APP_SECRET, [f"http://127.0.0.1:{port}/callback"], SCOPES)
        login = _start(fb, port)
        assert login.query["config_id"] == "cfg-from-file" and "scope" not in login.query
        login.proc.kill()
        login.proc.wait()
        env = {"POSTCLI_FACEBOOK_CONFIG_ID": "cfg-from-env"}
        login = start_login(
            "facebook",
            "--port",
            str(port),
            "--api-base",
            fb.url,
            "--authorize-url",
            f"{fb.url}/v27.0/dialog/oauth",
            env={"POSTCLI_FACEBOOK_CLIENT_ID": APP_ID, "POSTCLI_FACEBOOK_CLIENT_SECRET": APP_SECRET, **env},
        )
        assert login.query["config_id"] == "cfg-from-env"
        login.proc.kill()
        login.proc.wait()


def test_sign_in_uses_the_configured_graph_version(home):
    port = free_port()
    (home / "config.toml").write_text('[graph]\nversion = "v25.0"\n')
    with FakeFacebook(app_id=APP_ID, app_secret=APP_SECRET) as fb:
        page = fb.add_page("Cafe Nova")
        fb.signin_user = fb.add_user("Ana", [page, fb.add_page("Bakery")])
        fb.oauth.add_client(APP_ID, APP_SECRET, [f"http://127.0.0.1:{port}/callback"], SCOPES)
        login = _start(fb, port)
        login.browse()
        login.paste("1")
        code, out, err = login.finish()
        assert code == 0, err
        versions = {(r.path, r.version) for r in fb.requests if r.path in ("/oauth/access_token", "/me/accounts")}
        assert versions == {("/oauth/access_token", "v25.0"), ("/me/accounts", "v25.0")}
        # The real consent page, as printed (nothing is fetched from it here).
        login = start_login(
            "facebook",
            "--port",
            str(port),
            env={"POSTCLI_FACEBOOK_CLIENT_ID": APP_ID, "POSTCLI_FACEBOOK_CLIENT_SECRET": APP_SECRET},
        )
        login.proc.kill()
        login.proc.wait()
        assert login.url.startswith("https://www.facebook.com/v25.0/dialog/oauth?")


def test_facebook_login_in_a_business_manager_connects_the_readable_page(home):
    """Issue 22: client_pages answering 100/33 is optional discovery, not a failed login."""
    port = free_port()
    with FakeFacebook(app_id=APP_ID, app_secret=APP_SECRET) as fb:
        own = fb.add_page("Cafe Nova")
        fb.signin_user = fb.add_user("Ana", [own])
        fb.add_business(fb.signin_user, "Agency", client=[fb.add_page("Client")], clients_readable=False)
        fb.oauth.add_client(APP_ID, APP_SECRET, [f"http://127.0.0.1:{port}/callback"], SCOPES)
        login = _start(fb, port)
        login.browse()
        code, out, err = login.finish()
        assert code == 0, err
        assert json.loads(out)["external_id"] == own.id
        (business,) = fb.businesses
        assert fb.requests_to("GET", f"/{business}/client_pages")
