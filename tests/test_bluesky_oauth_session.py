"""A Bluesky OAuth session after sign-in, against the fake PDS + authorization server (issue 22).

As the reference server (@atproto/oauth-provider) runs it for a public client like postcli's:
- the session ends two weeks after sign-in (SESSION_LIFETIME, then `invalid_grant` "Session
  expired"; atproto.com/specs/oauth, "Tokens and Session Lifetime": "for 'untrusted' public
  clients, overall session lifetime and the lifetime of individual refresh tokens should both
  be limited to 2 weeks"): postcli shows the end as the account's token expiry, `accounts
  health` warns ahead of it and exits 6 once it is over;
- a spent refresh token presented again is "Refresh token replayed": the reason is kept;
- a PDS that keeps refusing a token costs one refresh, not three;
- "Clients must reject responses missing a DPoP-Nonce header (case insensitive), if the
  request included DPoP" (the spec, "Demonstrating Proof of Possession");
- before a refresh the account's DID must still lead to the issuer of the session, as the
  reference client's `verifyIssuer` checks.

Time: the fake's session clock is a FakeClock moved on by days; the client's own record of
when the sign-in happened is moved back the same way in the stored credentials. Nothing sleeps.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from fakes.atproto_oauth_server import FakeAtprotoOAuth
from fakes.clock import FakeClock
from signin_helpers import start_login, stored_credentials

DAY = 86400


@pytest.fixture
def atp():
    with FakeAtprotoOAuth() as server:
        server.clock = FakeClock(time.time())
        server.add_account("alice.test", "unused-password", display_name="Alice")
        yield server


def _signed_in(atp: FakeAtprotoOAuth) -> dict:
    login = start_login(
        "bluesky",
        "--handle",
        "alice.test",
        "--api-base",
        atp.url,
        "--json",
        env={"POSTCLI_PLC_DIRECTORY": atp.url},
    )
    assert login.browse().status_code == 200
    code, out, err = login.finish()
    assert code == 0, err
    return json.loads(out)


def _secrets(home, account_id: int) -> dict:
    return stored_credentials(home)[f"account:{account_id}"]


def _edit_secrets(home, account_id: int, **changes) -> dict:
    creds = home / "credentials.json"
    data = json.loads(creds.read_text())
    secrets = {**json.loads(data[f"account:{account_id}"]), **changes}
    data[f"account:{account_id}"] = json.dumps(secrets)
    creds.write_text(json.dumps(data))
    return secrets


def _days_later(atp: FakeAtprotoOAuth, home, account_id: int, days: float) -> None:
    """`days` pass for the server's sessions and for the client's record of its sign-in."""
    atp.clock.sleep(days * DAY)
    started = _secrets(home, account_id)["session_started_at"]
    _edit_secrets(home, account_id, session_started_at=started - days * DAY)


def _refresh_grants(atp: FakeAtprotoOAuth) -> list[dict]:
    return [t for t in atp.token_requests if t["grant_type"] == "refresh_token"]


# -- the session's end ------------------------------------------------------------------


def test_the_session_end_two_weeks_out_is_the_accounts_token_expiry(atp, home, cli):
    before = datetime.now(timezone.utc)
    account = _signed_in(atp)
    [listed] = cli.json("accounts", "list")
    ends = datetime.fromisoformat(listed["token_expires_at"].replace("Z", "+00:00"))
    if ends.tzinfo is None:
        ends = ends.replace(tzinfo=timezone.utc)
    assert before + timedelta(days=14) - timedelta(seconds=5) <= ends <= before + timedelta(days=14, minutes=5)
    assert _secrets(home, account["id"])["session_started_at"] <= time.time()
    rows = cli.json("accounts", "health")
    assert rows[0]["healthy"] and rows[0]["message"] is None  # two weeks away: nothing to say yet


def test_health_warns_in_the_last_days_of_the_session(atp, home, cli):
    account = _signed_in(atp)
    _days_later(atp, home, account["id"], 12)
    atp.expire_access_tokens()  # twelve days on, the hour-long access token is long gone
    r = cli("accounts", "health")
    assert r.exit_code == 0, r.stdout + r.stderr
    said = " ".join(r.stderr.split())
    assert "the Bluesky sign-in ends on" in said and "two weeks" in said
    assert "postcli accounts login bluesky --handle alice.test" in said and "app password" in said
    [row] = cli.json("accounts", "health")
    assert row["healthy"] and "ends on" in row["message"]
    assert len(_refresh_grants(atp)) == 1  # the session still renews until its end


def test_after_two_weeks_health_exits_6_and_says_the_sign_in_ended(atp, home, cli):
    account = _signed_in(atp)
    _days_later(atp, home, account["id"], 14.5)
    r = cli("accounts", "health")
    assert r.exit_code == 6, r.stdout + r.stderr
    said = " ".join(r.stderr.split())
    assert "sign-in ended on" in said and "Session expired" in said  # the server's own reason, kept
    assert "postcli accounts login bluesky --handle alice.test" in said
    assert [a["status"] for a in cli.json("accounts", "list")] == ["token_expired"]
    assert len(_refresh_grants(atp)) == 1


# -- refreshing --------------------------------------------------------------------------


def test_a_replayed_refresh_token_is_refused_with_the_servers_reason(atp, home, cli):
    account = _signed_in(atp)
    spent = _secrets(home, account["id"])
    atp.expire_access_tokens()
    assert cli("collect").exit_code == 0  # rotates the pair: the stored refresh token is spent
    _edit_secrets(home, account["id"], **spent)  # e.g. a backup of the credentials put back
    atp.expire_access_tokens()
    r = cli("accounts", "health", "--json")
    assert r.exit_code == 6
    [row] = json.loads(r.stdout)
    assert "Refresh token replayed" in row["message"]


def test_one_persistent_refusal_spends_one_refresh_token(atp, home, cli):
    _signed_in(atp)
    atp.refuse_all_tokens = True  # the PDS refuses every token, renewed or not
    r = cli("post", "create", "hello", "--to", "bluesky", "--json")
    assert r.exit_code == 6, r.stdout + r.stderr
    assert len(_refresh_grants(atp)) == 1
    [target] = json.loads(r.stdout)["targets"]
    assert "invalid_token" in target["error"], target


def test_the_issuer_is_checked_before_a_refresh(atp, home, cli):
    _signed_in(atp)
    atp.resource_auth_server = atp.url.replace("127.0.0.1", "localhost")  # the account "moved"
    atp.expire_access_tokens()
    r = cli("accounts", "health", "--json")
    assert r.exit_code == 6
    [row] = json.loads(r.stdout)
    assert "now names the authorization server" in row["message"] and "localhost" in row["message"]
    assert _refresh_grants(atp) == []  # no refresh token was spent on the wrong server


# -- DPoP-Nonce ---------------------------------------------------------------------------


def test_a_pds_answer_without_a_dpop_nonce_is_not_used(atp, home, cli):
    _signed_in(atp)
    atp.omit_nonce_on = {"/xrpc/com.atproto.server.getSession"}
    [row] = cli.json("accounts", "health")
    assert not row["healthy"] and row["error_code"] == "unreachable" and "DPoP-Nonce" in row["message"]


def test_a_token_answer_without_a_dpop_nonce_stores_nothing(atp, home):
    atp.omit_nonce_on = {"/oauth/token"}
    login = start_login(
        "bluesky", "--handle", "alice.test", "--api-base", atp.url, env={"POSTCLI_PLC_DIRECTORY": atp.url}
    )
    login.browse()
    code, _, err = login.finish()
    assert code != 0 and "DPoP-Nonce" in " ".join(err.split())
    assert stored_credentials(home) == {}
