"""`postcli accounts login bluesky` (AT Protocol OAuth, loopback client, PAR, PKCE, DPoP)
against the fake PDS + authorization server + PLC directory, then `post create` and
`collect` with the DPoP-bound session."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from fakes.atproto_oauth_server import SCOPE, FakeAtprotoOAuth
from signin_helpers import everything_but_credentials, start_login, stored_credentials


@pytest.fixture
def atp():
    with FakeAtprotoOAuth() as server:
        server.add_account("alice.test", "unused-password", display_name="Alice")
        yield server


def _login(atp: FakeAtprotoOAuth, *extra: str):
    return start_login(
        "bluesky",
        "--handle",
        "alice.test",
        "--api-base",
        atp.url,
        "--json",
        *extra,
        env={"POSTCLI_PLC_DIRECTORY": atp.url},
    )


def _signed_in(atp: FakeAtprotoOAuth, home) -> dict:
    login = _login(atp)
    assert login.browse().status_code == 200
    code, out, err = login.finish()
    assert code == 0, err
    return json.loads(out)


def _secrets(home, account_id: int) -> dict:
    return stored_credentials(home)[f"account:{account_id}"]


def test_login_resolves_the_handle_pushes_the_request_and_stores_a_dpop_bound_session(atp, home):
    login = _login(atp)
    # The browser is sent to the authorize endpoint with only the client id and the pushed request.
    q = login.query
    assert set(q) == {"client_id", "request_uri"}
    assert login.url.startswith(f"{atp.url}/oauth/authorize?")
    (par,) = atp.par_requests
    redirect = par["redirect_uri"]
    assert urlsplit(redirect).hostname == "127.0.0.1" and urlsplit(redirect).path == "/callback"
    # The loopback client: http://localhost, redirect URI and scope in its query, exact encoding.
    port = urlsplit(redirect).port
    assert (
        q["client_id"]
        == par["client_id"]
        == (
            f"http://localhost?redirect_uri=http%3A%2F%2F127.0.0.1%3A{port}%2Fcallback"
            "&scope=atproto%20transition%3Ageneric"
        )
    )
    assert (par["scope"], par["code_challenge_method"], par["login_hint"]) == (SCOPE, "S256", "alice.test")
    # PAR went out twice: the first proof had no nonce and was answered use_dpop_nonce.
    assert ("/oauth/par", "use_dpop_nonce") in atp.dpop_refusals

    assert login.browse().status_code == 200
    code, out, err = login.finish()
    assert code == 0, err
    account = json.loads(out)
    assert (account["platform"], account["handle"]) == ("bluesky", "alice.test")
    did = atp.account("alice.test").did
    assert account["external_id"] == did
    (tok,) = atp.token_requests
    assert (tok["grant_type"], tok["redirect_uri"], tok["client_id"]) == (
        "authorization_code",
        redirect,
        par["client_id"],
    )

    stored = _secrets(home, account["id"])
    (issued,) = atp.issued
    assert (stored["access_token"], stored["refresh_token"]) == (issued["access_token"], issued["refresh_token"])
    assert stored["auth"] == "oauth" and stored["did"] == did
    assert stored["dpop_key"]["kty"] == "EC" and "d" in stored["dpop_key"]
    assert stored["token_endpoint"] == f"{atp.url}/oauth/token" and stored["issuer"] == atp.url
    # The session was checked on the PDS with the token and a proof (getSession).
    (check,) = atp.calls("com.atproto.server.getSession")
    assert check.headers["Authorization"].startswith("DPoP ") and check.did == did
    written = everything_but_credentials(home)
    for secret in (issued["access_token"], issued["refresh_token"], stored["dpop_key"]["d"]):
        assert secret.encode() not in written and secret not in out + err


def test_post_create_and_collect_use_dpop_proofs_with_nonce_rotation_and_refresh(atp, home, cli):
    account = _signed_in(atp, home)
    did = atp.account("alice.test").did

    atp.rotate_nonce()  # the PDS's nonce changes mid-session: one use_dpop_nonce, then the retry works
    post = cli.json("post", "create", "hello over DPoP", "--to", "bluesky")
    assert post["status"] == "completed"
    (create,) = [r for r in atp.calls("com.atproto.repo.createRecord") if r.status == 200]
    assert create.json["repo"] == did and create.json["record"]["text"] == "hello over DPoP"
    assert create.headers["Authorization"] == "DPoP " + _secrets(home, account["id"])["access_token"]
    assert ("/xrpc/com.atproto.repo.createRecord", "use_dpop_nonce") in atp.dpop_refusals
    assert atp.count("com.atproto.repo.createRecord") == 1  # the refused proof never reached the handler

    # The access token lapses: the PDS refuses it, postcli refreshes (rotating) and retries.
    atp.expire_access_tokens()
    old_refresh = _secrets(home, account["id"])["refresh_token"]
    r = cli("collect", "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["fetched"] == 1
    grants = [t for t in atp.token_requests if t["grant_type"] == "refresh_token"]
    assert [g["refresh_token"] for g in grants] == [old_refresh]
    stored = _secrets(home, account["id"])
    assert (stored["access_token"], stored["refresh_token"]) == (
        atp.issued[-1]["access_token"],
        atp.issued[-1]["refresh_token"],
    )
    assert atp.calls("app.bsky.feed.getPosts")[-1].status == 200
    assert any(err == "invalid_token" for _, err in atp.dpop_refusals)  # the lapsed token was refused


def test_a_refused_refresh_marks_the_account_and_names_the_login_command(atp, home, cli):
    _signed_in(atp, home)
    atp.expire_access_tokens()
    atp.revoke_refresh_tokens()  # the session was revoked (signed out in the Bluesky app)
    r = cli("accounts", "health")
    assert r.exit_code == 6
    # The hint names the account's own server: without it a self-hosted PDS's handle does not resolve.
    assert f"postcli accounts login bluesky --handle alice.test --service {atp.url}" in r.stdout + r.stderr
    assert [a["status"] for a in cli.json("accounts", "list")] == ["token_expired"]
    assert atp.token_requests[-1]["grant_type"] == "refresh_token"


def test_a_declined_consent_stores_nothing(atp, home):
    atp.decision = "deny"
    login = _login(atp)
    assert login.browse().status_code == 200
    code, out, err = login.finish()
    assert code == 1 and "declined" in err
    assert stored_credentials(home) == {} and atp.token_requests == []


def test_a_redirect_with_another_state_is_refused(atp, home):
    atp.tamper_state = "attacker-state"
    login = _login(atp)
    assert login.browse().status_code == 200
    code, out, err = login.finish()
    assert code == 1 and "state does not match" in err
    assert stored_credentials(home) == {} and atp.token_requests == []


def test_a_redirect_from_another_issuer_is_refused(atp, home):
    atp.tamper_iss = "https://evil.example"  # a mix-up attack: the code is not this server's
    login = _login(atp)
    assert login.browse().status_code == 200
    code, out, err = login.finish()
    assert code == 1 and "another authorization server" in err
    assert stored_credentials(home) == {} and atp.token_requests == []


def test_two_processes_refreshing_at_once_spend_the_refresh_token_once(atp, home, cli):
    import subprocess
    import sys
    from pathlib import Path

    account = _signed_in(atp, home)
    creds = home / "credentials.json"
    data = json.loads(creds.read_text())
    secrets = json.loads(data[f"account:{account['id']}"])
    secrets["expires_at"] = 1  # due: both processes refresh before their first request
    data[f"account:{account['id']}"] = json.dumps(secrets)
    creds.write_text(json.dumps(data))
    atp.token_delay = 1.0  # both want the refresh before either has saved one
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
    grants = [t for t in atp.token_requests if t["grant_type"] == "refresh_token"]
    assert [g["refresh_token"] for g in grants] == [secrets["refresh_token"]]
    stored = _secrets(home, account["id"])
    assert (stored["access_token"], stored["refresh_token"]) == (
        atp.issued[-1]["access_token"],
        atp.issued[-1]["refresh_token"],
    )
    assert [a["status"] for a in cli.json("accounts", "list")] == ["active"]


def test_the_pushed_request_works_once(atp, home):
    login = _login(atp)
    first = login.consent()
    assert first.status_code == 302
    assert login.consent().status_code == 400  # the same request_uri again
    import httpx

    httpx.get(first.headers["location"], timeout=10)
    code, _, err = login.finish()
    assert code == 0, err


def test_no_browser_paste_back(atp, home):
    login = _login(atp, "--no-browser")
    redirect = login.consent().headers["location"]
    assert parse_qs(urlsplit(redirect).query)["iss"] == [atp.url]
    login.paste(redirect)
    code, out, err = login.finish()
    assert code == 0, err
    assert json.loads(out)["handle"] == "alice.test"


def test_no_redirect_in_time_stores_nothing(atp, home):
    login = _login(atp, "--timeout", "1")
    code, out, err = login.finish()
    assert code == 1 and "no sign-in arrived within 1 seconds" in err and "--no-browser" in err
    assert stored_credentials(home) == {} and atp.token_requests == []


def test_a_pds_without_oauth_points_to_app_passwords(cli, atp, home):
    atp.oauth_enabled = False
    r = cli(
        "accounts",
        "login",
        "bluesky",
        "--handle",
        "alice.test",
        "--api-base",
        atp.url,
        env={"POSTCLI_PLC_DIRECTORY": atp.url},
    )
    assert r.exit_code == 1
    assert "may not offer OAuth sign-in" in r.stderr and "postcli accounts add bluesky" in r.stderr
    assert atp.par_requests == [] and stored_credentials(home) == {}


def test_a_did_that_does_not_claim_the_handle_is_refused(cli, atp, home):
    # The handle's domain points at Bob's DID, but Bob's DID document does not name that handle.
    bob = atp.add_account("bob.test", "unused")
    atp.handle_claims["alice.test"] = bob
    r = cli(
        "accounts",
        "login",
        "bluesky",
        "--handle",
        "alice.test",
        "--api-base",
        atp.url,
        "--timeout",
        "2",
        env={"POSTCLI_PLC_DIRECTORY": atp.url, "BROWSER": "true"},
    )
    assert r.exit_code == 1 and "does not claim the handle" in r.stderr
    assert atp.par_requests == [] and stored_credentials(home) == {}


def test_an_unknown_handle_is_bad_input(cli, atp):
    r = cli(
        "accounts",
        "login",
        "bluesky",
        "--handle",
        "nobody.test",
        "--api-base",
        atp.url,
        env={"POSTCLI_PLC_DIRECTORY": atp.url},
    )
    assert r.exit_code == 2 and "no Bluesky account has that handle" in r.stderr
    assert atp.count("com.atproto.identity.resolveHandle") == 1 and atp.par_requests == []


def test_login_needs_the_handle(cli):
    r = cli("accounts", "login", "bluesky")
    assert r.exit_code == 2 and "needs your handle" in r.stderr and "--handle" in r.stderr


def test_an_image_upload_is_resent_whole_after_a_nonce_refusal(atp, home, cli, tmp_path):
    from PIL import Image

    _signed_in(atp, home)
    image = tmp_path / "a.png"
    Image.new("RGB", (40, 30), "red").save(image, format="PNG")
    atp.rotate_nonce()  # the upload is the first PDS call: it meets the new nonce
    out = cli.json("post", "create", "a picture", "--to", "bluesky", "--media", str(image), "--alt", "red")
    assert out["status"] == "completed", out
    assert ("/xrpc/com.atproto.repo.uploadBlob", "use_dpop_nonce") in atp.dpop_refusals
    (upload,) = atp.calls("com.atproto.repo.uploadBlob")
    assert upload.body == image.read_bytes() and upload.headers["Authorization"].startswith("DPoP ")
    embed = atp.last("com.atproto.repo.createRecord").json["record"]["embed"]
    assert embed["images"][0]["image"]["size"] == len(image.read_bytes())


def test_add_bluesky_on_a_terminal_offers_the_browser_sign_in(atp, home, monkeypatch):
    import httpx

    from support.terminal import Terminal

    monkeypatch.setenv("POSTCLI_PLC_DIRECTORY", atp.url)
    term = Terminal("accounts", "add", "bluesky", "--handle", "alice.test", "--service", atp.url, "--json")
    term.read_until(r"Sign in with the browser instead \(postcli accounts login bluesky\)\?")
    term.type("y\r")
    url = term.read_until(r"(http://127\.0\.0\.1:\d+/oauth/authorize\?\S+)").group(1)
    consent = httpx.get(url, follow_redirects=False, timeout=10)
    assert consent.status_code == 302
    assert httpx.get(consent.headers["location"], timeout=10).status_code == 200
    assert term.finish() == 0, term.seen
    account = json.loads(term.seen[term.seen.index("{") : term.seen.rindex("}") + 1])
    assert (account["platform"], account["handle"]) == ("bluesky", "alice.test")
    assert _secrets(home, account["id"])["auth"] == "oauth"
    assert atp.count("com.atproto.server.createSession") == 0  # no app password involved


def test_login_takes_service_as_accounts_add_does_and_hints_the_handle_as_typed(atp, home):
    login = start_login(
        "bluesky", "--handle", "@ALICE.test", "--service", atp.url, "--json", env={"POSTCLI_PLC_DIRECTORY": atp.url}
    )
    (par,) = atp.par_requests
    assert par["login_hint"] == "ALICE.test"  # what the user typed, not the resolved form
    assert login.browse().status_code == 200
    code, out, err = login.finish()
    assert code == 0, err
    assert json.loads(out)["handle"] == "alice.test"
