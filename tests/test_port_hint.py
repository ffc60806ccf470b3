"""`accounts login --port N` when N is taken (issue 23, class 8): the hint names the remedy that
works. Where the platform matches the registered redirect URI exactly (Tumblr, Facebook),
leaving --port out does not help (it means the registered default port): free the port or
register another one. Where any loopback port works (Mastodon), pick another or leave it out."""

from __future__ import annotations

import socket

import pytest

from fakes.mastodon_server import FakeMastodon
from fakes.tumblr_server import CLIENT_ID, CLIENT_SECRET, FakeTumblr


@pytest.fixture
def busy_port():  # type: ignore[no-untyped-def]
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        yield busy.getsockname()[1]


def test_a_registered_port_in_use_says_to_free_it_or_register_another(cli, busy_port):
    env = {"POSTCLI_TUMBLR_CLIENT_ID": CLIENT_ID, "POSTCLI_TUMBLR_CLIENT_SECRET": CLIENT_SECRET}
    with FakeTumblr() as t:
        r = cli(
            "accounts", "login", "tumblr", "--blog", t.blog_name, "--port", str(busy_port),
            "--api-base", t.url, "--authorize-url", f"{t.url}/oauth2/authorize", env=env,
        )  # fmt: skip
    assert r.exit_code == 2, r.stderr
    assert f"port {busy_port} on 127.0.0.1 is in use" in r.stderr
    assert f"http://127.0.0.1:{busy_port}/callback" in r.stderr and "register" in r.stderr
    # Before: "leave --port out to use any free one", which for Tumblr means port 8765 again.
    assert "leave --port out" not in r.stderr.lower() and "any free one" not in r.stderr


def test_any_port_platforms_still_say_pick_another_or_leave_it_out(cli, busy_port):
    with FakeMastodon(token="t") as m:
        r = cli("accounts", "login", "mastodon", "--instance", m.url, "--port", str(busy_port))
    assert r.exit_code == 2 and "leave --port out" in r.stderr.lower(), r.stderr
    assert "register" not in r.stderr


def test_a_port_the_user_may_not_open_is_named_as_such():
    # Ports below 1024 need root; the test suite may run as root, so the wording is checked directly.
    from postcli.signin.loopback import _port_refused

    for registered in (False, True):
        err = _port_refused(80, True, registered)
        assert "below 1024" in err.message and "1024 to 65535" in (err.hint or "")
