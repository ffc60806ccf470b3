"""`postcli accounts login instagram` against the fake Instagram API: the Instagram Login
dialog with a registered https redirect and paste-back, and the code exchange whose token
comes wrapped in {"data": [...]}."""

from __future__ import annotations

import json

from fakes.instagram_server import USER_ID, FakeInstagram
from signin_helpers import everything_but_credentials, start_login, stored_credentials

APP_ID, APP_SECRET = "990000000000001", "ig-app-secret-0123456789abcdef"
REDIRECT = "https://localhost/callback"
SCOPES = [
    "instagram_business_basic",
    "instagram_business_content_publish",
    "instagram_business_manage_insights",
    "instagram_business_manage_comments",
]


def _start(ig: FakeInstagram, secret: str = APP_SECRET):  # type: ignore[no-untyped-def]
    return start_login(
        "instagram",
        "--redirect-uri",
        REDIRECT,
        "--api-base",
        ig.url,
        "--authorize-url",
        f"{ig.url}/oauth/authorize",
        "--json",
        env={"POSTCLI_INSTAGRAM_CLIENT_ID": APP_ID, "POSTCLI_INSTAGRAM_CLIENT_SECRET": secret},
    )


def test_instagram_login_exchanges_the_code_and_connects(home):
    with FakeInstagram(app_secret=APP_SECRET) as ig:
        ig.oauth.add_client(APP_ID, APP_SECRET, [REDIRECT], SCOPES)
        login = _start(ig)
        assert login.query["scope"] == ",".join(SCOPES)
        login.paste(login.consent().headers["location"])
        code, out, err = login.finish()
        assert code == 0, err
        account = json.loads(out)
        assert (account["platform"], account["external_id"]) == ("instagram", USER_ID)
        (tok,) = ig.oauth.token_requests
        assert (tok["client_id"], tok["client_secret"], tok["redirect_uri"]) == (APP_ID, APP_SECRET, REDIRECT)
        stored = stored_credentials(home)[f"account:{account['id']}"]
        assert stored["app_secret"] == APP_SECRET
        (short,) = ig.short_tokens
        # The adapter trades the dialog's 1-hour token for a 60-day one (ig_exchange_token).
        assert stored["access_token"] != short and "long-lived" in stored["access_token"]
        assert any(
            r.path.endswith("/access_token") and r.param("grant_type") == "ig_exchange_token" for r in ig.requests
        )
        written = everything_but_credentials(home)
        for secret in (APP_SECRET, short, stored["access_token"]):
            assert secret.encode() not in written and secret not in out + err


def test_instagram_wrong_app_secret_is_named(home):
    with FakeInstagram() as ig:
        ig.oauth.add_client(APP_ID, APP_SECRET, [REDIRECT], SCOPES)
        login = _start(ig, secret="not-the-ig-secret")
        login.paste(login.consent().headers["location"])
        code, out, err = login.finish()
        assert code == 2 and "Error validating client secret." in err
        assert not stored_credentials(home)
