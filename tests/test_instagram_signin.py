"""Instagram sign-in exchanges a short-lived token for a long-lived one (issue 14, item 8).

GET https://graph.instagram.com/access_token?grant_type=ig_exchange_token&client_secret=<APP_SECRET>
    &access_token=<SHORT_LIVED_TOKEN>
-> {"access_token": "<LONG_LIVED_TOKEN>", "token_type": "bearer", "expires_in": 5183944}
(https://developers.facebook.com/docs/instagram-platform/reference/access_token; the endpoint is not
versioned), as Threads does with th_exchange_token.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from fakes.instagram_server import USER_ID, FakeInstagram
from postcli.platforms.instagram.adapter import InstagramAdapter

SHORT = "IGAAshort-lived-token-1234567890"


@pytest.fixture
def server():
    with FakeInstagram() as s:
        s.add_short_token(SHORT)
        yield s


def test_a_short_lived_token_is_exchanged_with_the_app_secret(server):
    saved: list = []
    ctx = server.account_context(
        secrets={"app_secret": server.app_secret}, settings={}, external_id=None, save_secrets=saved.append
    )
    before = datetime.now(timezone.utc)
    info = InstagramAdapter(ctx).connect(None, SHORT)

    [exchange] = server.requests_to("GET", "/access_token")
    assert exchange.version is None  # /access_token, not /v27.0/access_token
    assert exchange.param("grant_type") == "ig_exchange_token"
    assert exchange.param("client_secret") == server.app_secret
    assert exchange.param("access_token") == SHORT
    long_lived = saved[-1]["access_token"]
    assert long_lived != SHORT and long_lived.startswith("IGAAexchanged-")
    assert saved[-1]["token_expires_estimated"] is False
    assert ctx.settings["token_source"] == "exchange" and "token_expiry" not in ctx.settings
    assert timedelta(days=59) < info.token_expires_at - before <= timedelta(seconds=5183944 + 5)
    assert info.external_id == USER_ID
    # The long-lived token is what the account uses from then on.
    server.reset_log()
    InstagramAdapter(server.account_context(secrets={"access_token": long_lived})).fetch_account_metrics()
    assert {r.param("access_token") for r in server.requests} == {long_lived}


def test_a_long_lived_token_that_cannot_be_exchanged_is_kept(server):
    saved: list = []
    ctx = server.account_context(
        secrets={"app_secret": server.app_secret}, settings={}, external_id=None, save_secrets=saved.append
    )
    InstagramAdapter(ctx).connect(None, server.token)
    assert saved[-1]["access_token"] == server.token
    assert saved[-1]["token_expires_estimated"] is True
    assert "token_exchange_error" in ctx.settings
    assert server.app_secret not in ctx.settings["token_exchange_error"]
    assert server.token not in ctx.settings["token_exchange_error"]


def test_without_the_app_secret_nothing_is_exchanged(server):
    ctx = server.account_context(secrets={}, settings={}, external_id=None)
    InstagramAdapter(ctx).connect(None, server.token)
    assert server.requests_to("GET", "/access_token") == []


def test_cli_reads_the_app_secret_from_the_environment(cli, home, server, monkeypatch):
    monkeypatch.setenv("POSTCLI_INSTAGRAM_APP_SECRET", server.app_secret)
    added = cli.json("accounts", "add", "instagram", "--api-base", server.url, "--token-stdin", input=SHORT + "\n")
    assert added["external_id"] == USER_ID
    assert len(server.requests_to("GET", "/access_token")) == 1
    shown = cli("accounts", "show", str(added["id"]), "--json").stdout
    assert SHORT not in shown and server.app_secret not in shown
