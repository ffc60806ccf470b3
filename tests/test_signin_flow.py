"""The redirect parsing every sign-in shares: a pasted address, a query, or a bare code."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postcli.signin.flow import SignInFailed, parse_redirect

STATE = "s" * 32


def test_a_pasted_address_gives_its_code():
    url = f"http://127.0.0.1:5555/callback?code=abc123&state={STATE}"
    assert parse_redirect(url + "\n", STATE) == "abc123"
    assert parse_redirect(f"?code=abc123&state={STATE}", STATE) == "abc123"
    assert parse_redirect(f"https://localhost/callback?state={STATE}&code=xyz#_", STATE) == "xyz"


def test_a_bare_code_is_taken_as_it_is():
    assert parse_redirect("  AQBx-code_123  ", STATE) == "AQBx-code_123"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"http://127.0.0.1:1/callback?error=access_denied&state={STATE}", "declined"),
        ("http://127.0.0.1:1/callback?error=access_denied&state=other", "state does not match"),
        (
            f"http://127.0.0.1:1/callback?error=invalid_scope&error_description=bad+scope&state={STATE}",
            "invalid_scope (bad scope)",
        ),
        ("http://127.0.0.1:1/callback?code=abc&state=other", "state does not match"),
        ("http://127.0.0.1:1/callback?code=abc", "state does not match"),
        (f"http://127.0.0.1:1/callback?state={STATE}", "no authorization code"),
        ("   ", "nothing was pasted"),
        (
            f"http://127.0.0.1:1/callback?error=server_error&error_description=%1B%5B2Jgone&state={STATE}",
            "server_error (?[2Jgone)",
        ),
    ],
)
def test_what_ends_a_sign_in(text, message):
    with pytest.raises(SignInFailed) as err:
        parse_redirect(text, STATE)
    assert message in err.value.message


@given(st.text())
def test_any_paste_gives_a_code_or_a_clear_sign_in_error(text):
    try:
        code = parse_redirect(text, STATE)
    except SignInFailed as err:
        assert err.message
    else:
        assert code and code == code.strip()


def test_options_of_another_platform_are_refused(cli):
    r = cli("accounts", "login", "tumblr", "--blog", "b", "--instance", "https://mastodon.social")
    assert r.exit_code == 2 and "--instance is for mastodon" in r.stderr
    r = cli("accounts", "login", "mastodon", "--instance", "https://m.example", "--page", "P")
    assert r.exit_code == 2 and "--page is for facebook" in r.stderr


def test_the_cli_modules_do_not_import_the_oauth_library():
    import subprocess
    import sys

    code = (
        "import sys, postcli.cli, postcli.cli.login; "
        "heavy = [m for m in ('authlib', 'httpx') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_public_client_authenticates_as_its_platform_says():
    """SignIn.public_client_auth: the client id in the form by default; HTTP Basic with an empty
    password where the platform says so (Reddit's installed apps). A secret keeps client_auth.
    The headers a platform's hooks give travel with the code exchange (Reddit's User-Agent)."""
    import dataclasses

    from postcli.platforms.spec import AppCredentials, SignIn
    from postcli.signin.flow import _oauth_client

    base = SignIn(authorize_url="https://x/authorize", token_url="https://x/token", scopes=("read",))
    public, confidential = AppCredentials("cid", None, "test"), AppCredentials("cid", "sec", "test")
    redirect = "http://127.0.0.1:1/callback"
    basic = dataclasses.replace(base, client_auth="client_secret_basic", public_client_auth="client_secret_basic")
    cases = [(base, public, "none"), (base, confidential, "client_secret_post"), (basic, public, "client_secret_basic")]
    for signin, app, method in cases:
        with _oauth_client(signin, app, redirect, ("read",), 5) as client:
            assert client.token_endpoint_auth_method == method
            # authlib would write a missing secret as the text "None" into the Basic header.
            assert client.client_secret == (app.client_secret or "")
    with _oauth_client(basic, public, redirect, ("read",), 5, {"User-Agent": "linux:app:v1 (by /u/me)"}) as client:
        assert client.headers["User-Agent"] == "linux:app:v1 (by /u/me)"


# -- the platform's own names for the client id and the PKCE challenge (SignIn knobs) -----------


class _AuthorizationOnly:
    """Just an authorization server (consent page at /authorize, token endpoint at /token)."""

    def __init__(self, oauth):  # type: ignore[no-untyped-def]
        import threading

        from fakes.loopback import LoopbackServer

        outer = self

        class Server(LoopbackServer):
            thread_name = "fake-oauth"

            def _wsgi(self, environ, start_response):  # type: ignore[no-untyped-def]
                from werkzeug.wrappers import Request

                request = Request(environ)
                page = outer.oauth.authorize if request.path == "/authorize" else outer.oauth.token
                return page(request)(environ, start_response)

        self.oauth = oauth
        self.server = Server()
        self.server._stopping = threading.Event()


@pytest.mark.parametrize(
    ("challenge", "param"),
    [("base64url", "client_id"), ("hex", "client_key")],
)
def test_the_flow_names_the_client_id_and_writes_the_challenge_as_the_platform_says(challenge, param, home):
    import hashlib
    from urllib.parse import parse_qs, urlsplit

    import httpx

    from fakes.oauth_server import AuthorizationServer, s256
    from fakes.tiktok_server import tiktok_code
    from postcli.platforms.spec import AppCredentials, Endpoints, SignIn
    from postcli.signin import flow

    oauth = AuthorizationServer(
        issue_token=lambda client, scopes: {"access_token": "tok-from-code-123", "token_type": "bearer"},
        scope_separator=",",
        require_pkce=True,
        client_id_param=param,
        pkce_encoding=challenge,
        new_code=tiktok_code,  # "*" and "!" in the code, percent-encoded in the redirect
    )
    oauth.add_client("the-app", "the-secret", ["http://127.0.0.1/callback"], ["a.read", "b.write"])
    fake = _AuthorizationOnly(oauth)
    visited: list[str] = []

    def browser(url: str) -> bool:
        visited.append(url)
        consent = httpx.get(url, timeout=10)
        assert consent.status_code == 302, consent.text
        visited.append(consent.headers["location"])
        httpx.get(consent.headers["location"], timeout=10)
        return True

    signin = SignIn(
        authorize_url="", token_url="", scopes=("a.read", "b.write"), scope_separator=",",
        pkce_challenge=challenge, client_id_param=param,
    )  # fmt: skip
    with fake.server as server:
        token = flow.run(
            signin,
            AppCredentials("the-app", "the-secret", source="test"),
            Endpoints(f"{server.url}/authorize", f"{server.url}/token"),
            flow.FlowOptions(scopes=(), timeout=10, open_browser=browser),
            scopes=signin.scopes,
            port=0,
        )
    assert token["access_token"] == "tok-from-code-123"
    query = {k: v[0] for k, v in parse_qs(urlsplit(visited[0]).query).items()}
    assert query[param] == "the-app" and ("client_id" in query) == (param == "client_id")
    assert query["scope"] == "a.read,b.write" and query["code_challenge_method"] == "S256"
    (sent,) = oauth.token_requests
    verifier = sent["code_verifier"]
    expected = hashlib.sha256(verifier.encode()).hexdigest() if challenge == "hex" else s256(verifier)
    assert query["code_challenge"] == expected
    assert (sent[param], sent["client_secret"]) == ("the-app", "the-secret")
    assert ("client_id" in sent) == (param == "client_id")
    # The code came back percent-encoded and was sent as it was issued.
    (code,) = oauth.grants
    assert "*" in code and "!" in code and "%2A" in visited[1] and "%21" in visited[1]
    assert sent["code"] == code
