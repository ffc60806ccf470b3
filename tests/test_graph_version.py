"""The Graph API version is a setting (issue 14, item 5): default v27.0, `[graph] version`
in config.toml for every account, `accounts add ... --graph-version` for one.

v27.0 was released on 4 November 2026:
https://developers.facebook.com/blog/post/2026/11/04/introducing-graph-api-v27-and-marketing-api-v27/
Every Graph path carries the version (https://developers.facebook.com/docs/graph-api/guides/versioning),
so the fakes record which one each request used.
"""

from __future__ import annotations

import pytest

from fakes.facebook_server import FakeFacebook
from fakes.instagram_server import USER_ID, FakeInstagram
from postcli.platforms.facebook.adapter import FacebookAdapter
from postcli.platforms.instagram.adapter import InstagramAdapter


@pytest.fixture
def fb():
    with FakeFacebook() as server:
        yield server


@pytest.fixture
def ig():
    with FakeInstagram() as server:
        yield server


def test_the_default_is_v27(fb, ig):
    page = fb.add_page("Cafe")
    FacebookAdapter(fb.account_context(page, settings={"page_id": page.id})).fetch_account_metrics()
    InstagramAdapter(ig.account_context(settings={"ig_user_id": USER_ID})).fetch_account_metrics()
    assert {r.version for r in fb.requests} == {"v27.0"}
    assert {r.version for r in ig.requests} == {"v27.0"}


def test_the_configured_version_reaches_every_graph_account(cli, home, fb, ig):
    (home / "config.toml").write_text('[graph]\nversion = "v25.0"\n')
    page = fb.add_page("Cafe")
    cli.json("accounts", "add", "facebook", "--api-base", fb.url, "--token-stdin", input=page.token + "\n")
    added = cli.json("accounts", "add", "instagram", "--api-base", ig.url, "--token-stdin", input=ig.token + "\n")
    assert "api_version" not in (added.get("settings") or {})
    fb.reset_log()
    ig.reset_log()
    cli.json("collect")  # the collector's adapters read the version from config too
    assert fb.requests and {r.version for r in fb.requests} == {"v25.0"}
    assert ig.requests and {r.version for r in ig.requests if r.version} == {"v25.0"}


def test_an_account_version_wins_over_the_configured_one(cli, home, fb):
    (home / "config.toml").write_text('[graph]\nversion = "v25.0"\n')
    page = fb.add_page("Cafe")
    cli.json(
        "accounts",
        "add",
        "facebook",
        "--api-base",
        fb.url,
        "--graph-version",
        "v24.0",
        "--token-stdin",
        input=page.token + "\n",
    )
    assert {r.version for r in fb.requests} == {"v24.0"}
    fb.reset_log()
    out = cli.json("post", "create", "versioned", "--to", "facebook")
    assert out["status"] == "completed"
    assert {r.version for r in fb.requests} == {"v24.0"}


def test_a_malformed_account_version_is_refused_before_anything_is_sent(cli, fb):
    page = fb.add_page("Cafe")
    r = cli(
        "accounts",
        "add",
        "facebook",
        "--api-base",
        fb.url,
        "--graph-version",
        "27",
        "--token-stdin",
        input=page.token + "\n",
    )
    assert r.exit_code == 2 and "v27.0" in r.stderr
    assert fb.requests == []


def test_a_malformed_configured_version_is_a_clear_config_error(cli, home, ig):
    (home / "config.toml").write_text('[graph]\nversion = "latest"\n')
    r = cli("accounts", "add", "instagram", "--api-base", ig.url, "--token-stdin", input=ig.token + "\n")
    assert r.exit_code == 2 and "[graph] version" in r.stderr
    assert ig.requests == []
