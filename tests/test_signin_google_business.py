"""`postcli accounts login google-business` against the fake Business Profile APIs: Google's
installed-app flow (loopback redirect on any port, PKCE S256, the Desktop client's secret in the
form), then which location: the only one, the one the user picks, or exit 2 listing them when
no one can answer; and a project without API access (a quota of 0) explained."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from fakes.google_business_server import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, SCOPE, FakeGoogleBusiness
from fakes.oauth_server import s256
from signin_helpers import db_rows, everything_but_credentials, start_login, stored_credentials

ENV = {"POSTCLI_GOOGLE_BUSINESS_CLIENT_ID": CLIENT_ID, "POSTCLI_GOOGLE_BUSINESS_CLIENT_SECRET": CLIENT_SECRET}


def start(gb: FakeGoogleBusiness, *args: str):  # type: ignore[no-untyped-def]
    gb.add_client()
    return start_login(
        "google-business", *args, "--api-base", gb.url, "--authorize-url", f"{gb.url}/o/oauth2/v2/auth", "--json",
        env=ENV,
    )  # fmt: skip


def test_login_uses_pkce_on_a_loopback_port_and_keeps_the_only_location(cli, home):
    with FakeGoogleBusiness() as gb:
        login = start(gb)
        q = login.query
        assert q["redirect_uri"].startswith("http://127.0.0.1:") and q["redirect_uri"].endswith("/callback")
        assert (q["scope"], q["client_id"], q["response_type"]) == (SCOPE, CLIENT_ID, "code")
        assert q["code_challenge_method"] == "S256" and q["code_challenge"]
        assert (q["access_type"], q["prompt"]) == ("offline", "consent")  # a refresh token on every sign-in
        assert login.browse().status_code == 200
        code, out, err = login.finish()
        assert code == 0, err
        account = json.loads(out)
        loc = gb.location
        assert (account["platform"], account["handle"]) == ("google-business", loc["title"])
        assert account["external_id"] == loc["name"].split("/")[1]
        # An app in Testing (the default): the sign-in ends in 7 days, and `accounts list` says when.
        ends = datetime.fromisoformat(str(account["token_expires_at"]).replace("Z", "+00:00"))
        ends = ends if ends.tzinfo else ends.replace(tzinfo=timezone.utc)
        assert timedelta(days=6, hours=23) < ends - datetime.now(timezone.utc) <= timedelta(days=7)

        (tok,) = gb.oauth.token_requests
        assert (tok["grant_type"], tok["client_id"], tok["client_secret"], tok["_auth"]) == (
            "authorization_code",
            CLIENT_ID,
            CLIENT_SECRET,
            "post",
        )
        assert tok["redirect_uri"] == q["redirect_uri"] and s256(tok["code_verifier"]) == q["code_challenge"]
        # The sign-in listed the locations once to see whether to ask; connect listed them again.
        assert len(gb.requests_to("GET", "/v1/accounts")) == 4
        stored = stored_credentials(home)[f"account:{account['id']}"]
        assert stored["refresh_token"] == REFRESH_TOKEN and stored["client_secret"] == CLIENT_SECRET
        assert stored["access_token"] in gb.access_tokens
        written = everything_but_credentials(home)
        for secret in (CLIENT_SECRET, REFRESH_TOKEN, *gb.access_tokens):
            assert secret.encode() not in written and secret not in out + err

        # An hour later the access token is dead: the next call refreshes once and goes on.
        gb.expire_access_tokens()
        before = gb.count("POST /token refresh")
        health = cli.json("accounts", "health")
        assert [h["healthy"] for h in health] == [True]
        assert gb.count("POST /token refresh") == before + 1


def test_several_locations_and_no_one_to_answer_is_exit_2_listing_them(home):
    with FakeGoogleBusiness(locations=2) as gb:
        login = start(gb)
        login.browse()
        code, out, err = login.finish()  # standard input closed: nobody answers the question
        assert code == 2, (out, err)
        assert "several Business Profile locations" in err  # the question was asked
        for loc in gb.locations[next(iter(gb.locations))]:
            assert loc["name"].split("/")[1] in err and loc["title"] in err
        assert "--location" in err
        assert db_rows(home, "select id from accounts") == []


def test_several_locations_and_the_user_picks_one(home):
    with FakeGoogleBusiness(locations=2) as gb:
        second = gb.locations[next(iter(gb.locations))][1]
        login = start(gb)
        login.browse()
        login.paste("2")
        code, out, err = login.finish()
        assert code == 0, err
        assert json.loads(out)["external_id"] == second["name"].split("/")[1]


def test_location_given_up_front_is_not_asked(home):
    with FakeGoogleBusiness(locations=3) as gb:
        third = gb.locations[next(iter(gb.locations))][2]
        login = start(gb, "--location", third["title"])
        login.browse()
        code, out, err = login.finish()
        assert code == 0, err
        assert "Which one?" not in err
        assert json.loads(out)["handle"] == third["title"]


def test_a_project_without_api_access_is_explained_and_nothing_is_stored(home):
    with FakeGoogleBusiness() as gb:
        gb.quota_zero = True
        login = start(gb)
        login.browse()
        code, out, err = login.finish()
        assert code == 5, (out, err)
        assert "quota of 0" in err and "support.google.com/business/contact/api_default" in err
        assert db_rows(home, "select id from accounts") == [] and stored_credentials(home) == {}
        for secret in (CLIENT_SECRET, REFRESH_TOKEN, *gb.access_tokens):
            assert secret not in out + err


def test_no_browser_reads_the_pasted_address_and_signs_in(home):
    """`--no-browser`: the pasted address carries the code; the only location is taken."""
    with FakeGoogleBusiness() as gb:
        login = start(gb, "--no-browser")
        redirect = login.consent().headers["location"]
        assert redirect.startswith(login.query["redirect_uri"] + "?")
        login.paste(redirect)
        code, out, err = login.finish()
        assert code == 0, err
        account = json.loads(out)
        assert account["external_id"] == gb.location["name"].split("/")[1]
        (tok,) = gb.oauth.token_requests
        assert s256(tok["code_verifier"]) == login.query["code_challenge"]
