"""`accounts add PLATFORM` without a token offers the browser sign-in (issue 17): on a terminal
it asks first, and `y` runs `accounts login` with the options `add` was given; without a
terminal the error names `postcli accounts login PLATFORM`."""

from __future__ import annotations

import json

import httpx

from fakes.mastodon_server import FakeMastodon
from signin_helpers import stored_credentials
from support.terminal import Terminal

TOKEN = "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0"


def test_add_mastodon_on_a_terminal_offers_the_browser_and_yes_signs_in(home):
    with FakeMastodon(token=TOKEN) as m:
        term = Terminal("accounts", "add", "mastodon", "--instance", m.url, "--json")
        term.read_until(r"Sign in with the browser instead \(postcli accounts login mastodon\)\?")
        term.type("y\r")
        url = term.read_until(r"(http://127\.0\.0\.1:\d+/oauth/authorize\?\S+)").group(1)
        consent = httpx.get(url, follow_redirects=False, timeout=10)
        assert consent.status_code == 302
        assert httpx.get(consent.headers["location"], timeout=10).status_code == 200
        assert term.finish() == 0, term.seen
        account = json.loads(term.seen[term.seen.index("{") : term.seen.rindex("}") + 1])
        assert (account["platform"], account["api_base_url"]) == ("mastodon", m.url)
        assert stored_credentials(home)[f"account:{account['id']}"]["access_token"] == TOKEN
        # The instance given to `add` is the one signed in to: one app registration there.
        assert len(m.requests_to("POST", "/api/v1/apps")) == 1


def test_add_mastodon_on_a_terminal_no_asks_for_the_token_as_before(home):
    with FakeMastodon(token=TOKEN) as m:
        term = Terminal("accounts", "add", "mastodon", "--instance", m.url, "--json")
        term.read_until(r"Sign in with the browser instead")
        term.type("n\r")
        # Click writes "...token:" itself, then getpass turns echo off (flushing what was typed)
        # and writes the " ": type only after that.
        term.read_until(r"Mastodon access token: ")
        term.type(TOKEN + "\r")
        assert term.finish() == 0, term.seen
        assert TOKEN not in term.seen  # a hidden prompt
        assert not m.requests_to("POST", "/api/v1/apps")


def test_add_without_a_terminal_names_the_browser_sign_in(cli):
    r = cli("accounts", "add", "mastodon", "--instance", "https://mastodon.example")
    assert r.exit_code == 2
    assert "postcli accounts login mastodon" in r.stderr
