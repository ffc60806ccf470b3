"""Issue 23 items 4 and 5: the one URL check (urlcheck.py) for every server URL a user gives.

No user:password@ (it would be stored and printed with the URL), no plain http off this
machine without --insecure-http (the token would cross the network in clear), and URLs that
do not parse (`http://[::1`, `javascript:x`, a bad port) are exit 2, never "This is a bug".
The fakes run on http://127.0.0.1:PORT, which needs no flag.
"""

from __future__ import annotations

import json

import pytest

from fakes.bluesky_server import FakeBlueskyServer
from fakes.mastodon_server import FakeMastodon
from fakes.threads_server import DEFAULT_TOKEN as THREADS_TOKEN
from fakes.threads_server import FakeThreads
from signin_helpers import db_rows, everything_but_credentials, start_login
from support.accounts import BSKY_PASS, MASTO_TOKEN
from support.cli import run_postcli

PASSWORD = "hunter2-in-the-url"


def _with_userinfo(url: str) -> str:
    return url.replace("://", f"://alice:{PASSWORD}@", 1)


def _everywhere_local(url: str) -> str:
    """The fake's URL on 0.0.0.0: not a loopback address by name, yet Linux and macOS connect
    it to this machine, so plain http off loopback can be tried without a network."""
    return url.replace("127.0.0.1", "0.0.0.0")


def _add(cli, platform: str, url: str, *extra: str):  # type: ignore[no-untyped-def]
    if platform == "mastodon":
        args, secret = ["--instance", url, "--token-stdin"], MASTO_TOKEN
    elif platform == "bluesky":
        args, secret = ["--handle", "alice.test", "--service", url, "--password-stdin"], BSKY_PASS
    else:
        args, secret = ["--api-base", url, "--token-stdin"], THREADS_TOKEN
    return cli("accounts", "add", platform, *args, *extra, "--json", input=secret + "\n")


@pytest.fixture(params=["mastodon", "bluesky", "threads"])
def server(request):  # type: ignore[no-untyped-def]
    if request.param == "mastodon":
        with FakeMastodon(token=MASTO_TOKEN) as m:
            yield "mastodon", m
    elif request.param == "bluesky":
        with FakeBlueskyServer() as b:
            b.add_account("alice.test", password=BSKY_PASS)
            yield "bluesky", b
    else:
        with FakeThreads() as t:
            yield "threads", t


def test_a_password_in_the_url_is_refused_and_never_stored_or_printed(cli, home, server):
    platform, fake = server
    r = _add(cli, platform, _with_userinfo(fake.url))
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert "user name or password" in r.stderr and "***@" in r.stderr
    assert PASSWORD not in r.stdout + r.stderr
    assert fake.requests == []  # refused before anything was sent
    assert cli.json("accounts", "list") == []
    assert PASSWORD.encode() not in everything_but_credentials(home)


def test_plain_http_off_loopback_needs_insecure_http(cli, home, server):
    platform, fake = server
    url = _everywhere_local(fake.url)
    r = _add(cli, platform, url)
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert "plain http" in r.stderr and "--insecure-http" in r.stderr
    assert fake.requests == []
    assert cli.json("accounts", "list") == []

    r = _add(cli, platform, url, "--insecure-http")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["api_base_url"] == url


def test_loopback_http_needs_no_flag(cli, server):
    platform, fake = server
    r = _add(cli, platform, fake.url + "/")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["api_base_url"] == fake.url


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:5000", "http://127.8.9.10", "http://[::1]:8080", "http://localhost:3000", "https://example.com"],
)
def test_the_check_lets_loopback_and_https_through(url):
    from postcli.services.accounts import normalize_base_url

    assert normalize_base_url("mastodon", url) == url


def test_the_service_parameter_allows_plain_http_off_loopback():
    """What --insecure-http feeds: add_account(insecure_http=) -> normalize_base_url(insecure_http=)."""
    from postcli.errors import InvalidInput
    from postcli.services.accounts import normalize_base_url

    with pytest.raises(InvalidInput, match="plain http"):
        normalize_base_url("mastodon", "http://10.1.2.3")
    assert normalize_base_url("mastodon", "http://10.1.2.3", insecure_http=True) == "http://10.1.2.3"


BAD_URLS = ["http://[::1", "javascript:x", "https://host:x", "https://host:0", "https://", "https://a b.example"]


@pytest.mark.parametrize("url", BAD_URLS)
@pytest.mark.parametrize(
    "args",
    [
        ["accounts", "add", "mastodon", "--token-stdin", "--instance"],
        ["accounts", "add", "bluesky", "--handle", "a.test", "--password-stdin", "--service"],
        ["accounts", "add", "threads", "--token-stdin", "--api-base"],
        ["accounts", "login", "mastodon", "--no-browser", "--instance"],
        ["accounts", "login", "bluesky", "--no-browser", "--handle", "a.test", "--api-base"],
        ["accounts", "login", "tumblr", "--no-browser", "--blog", "b", "--api-base"],
        ["accounts", "login", "tumblr", "--no-browser", "--blog", "b", "--authorize-url"],
    ],
    ids=lambda a: " ".join(a[:3]) + " " + a[-1] if isinstance(a, list) else a,
)
def test_a_url_that_does_not_parse_is_bad_input(cli, args, url):
    env = {"POSTCLI_TUMBLR_CLIENT_ID": "cid", "POSTCLI_TUMBLR_CLIENT_SECRET": "csecret"}
    r = cli(*args, url, input="secret\n", env=env)
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert "This is a bug" not in r.stderr
    assert r.stderr.startswith("error: ") and r.stderr.count("error:") == 1


@pytest.mark.parametrize("ref", ["http://[::1", "javascript:x", "https://host:x/@a/1", f"https://u:{PASSWORD}@h/@a/1"])
def test_post_import_refuses_a_link_that_does_not_parse(cli, ref):
    with FakeMastodon(token=MASTO_TOKEN) as m:
        r = cli("accounts", "add", "mastodon", "--instance", m.url, "--token-stdin", input=MASTO_TOKEN + "\n")
        assert r.exit_code == 0, r.stderr
        for extra in ([], ["--account", "1"]):
            r = cli("post", "import", ref, *extra)
            assert r.exit_code == 2, (extra, r.stdout, r.stderr)
            assert "This is a bug" not in r.stderr and PASSWORD not in r.stderr


@pytest.mark.parametrize("option", ["--instance", "--authorize-url"])
def test_login_refuses_a_password_in_any_url_before_anything_is_sent(home, option):
    with FakeMastodon(token=MASTO_TOKEN) as m:
        args = ["--instance", m.url, "--authorize-url", f"{m.url}/oauth/authorize"]
        args[args.index(option) + 1] = _with_userinfo(args[args.index(option) + 1])
        r = run_postcli("accounts", "login", "mastodon", "--no-browser", *args, input="")
        assert r.returncode == 2, (r.stdout, r.stderr)
        assert PASSWORD not in r.stdout + r.stderr and "***@" in r.stderr
        assert m.requests == []
    assert db_rows(home, "select count(*) from accounts") in ([], [(0,)])


def test_login_plain_http_off_loopback_needs_insecure_http(home):
    with FakeMastodon(token=MASTO_TOKEN) as m:
        instance = _everywhere_local(m.url)
        r = run_postcli("accounts", "login", "mastodon", "--no-browser", "--instance", instance, input="")
        assert r.returncode == 2, (r.stdout, r.stderr)
        assert "plain http" in r.stderr and "--insecure-http" in r.stderr
        assert m.requests == []

        login = start_login("mastodon", "--instance", instance, "--insecure-http", "--json")
        login.browse()
        code, out, err = login.finish()
        assert code == 0, err
        assert json.loads(out)["api_base_url"] == instance
