"""Each platform describes itself once (platforms/<name>/spec.py) and everything above reads it:
no module outside platforms/ names a platform, `accounts add|login` are built from the specs,
`postcli platforms` is generated from them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from postcli import metrics
from postcli.platforms import registry
from postcli.platforms.spec import PlatformSpec

SRC = Path(__file__).resolve().parents[1] / "src" / "postcli"
NAMES = re.compile(
    r"[\"'](bluesky|mastodon|threads|instagram|facebook|tumblr|linkedin|pinterest|reddit|tiktok|youtube|google-business|google_business)[\"']"
)
VISIBLE = [
    "bluesky",
    "facebook",
    "google-business",
    "instagram",
    "linkedin",
    "mastodon",
    "pinterest",
    "reddit",
    "threads",
    "tiktok",
    "tumblr",
    "x",
    "youtube",
]


def test_no_module_outside_platforms_names_a_platform() -> None:
    found = [
        f"{path.relative_to(SRC)}:{n}: {line.strip()}"
        for path in SRC.rglob("*.py")
        if "platforms" not in path.relative_to(SRC).parts[:1]
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if NAMES.search(line)
    ]
    assert found == []


@pytest.mark.parametrize("name", registry.platform_names(include_hidden=True))
def test_each_spec_is_whole_and_its_adapter_says_the_same(name: str) -> None:
    spec = registry.spec(name)
    assert isinstance(spec, PlatformSpec) and spec.name == name
    cls = registry.adapter_class(name)
    assert cls.spec is spec and cls.platform == name
    assert cls.default_base_url == (spec.default_base_url or "")
    assert set(spec.metrics) <= set(metrics.COUNTERS), set(spec.metrics) - set(metrics.COUNTERS)
    flags = [o.flag for o in spec.options]
    assert len(flags) == len(set(flags))
    if spec.signin is not None and spec.signin.hooks:
        assert type(registry.signin_hooks(name)).__name__.endswith("SignIn")
    assert spec.hidden == spec.simulated  # only the sandbox is hidden, and it is labelled simulated
    # The reports read "no numbers per post" from the spec, collect from the adapter: one answer.
    assert cls.has_metrics == bool(spec.metrics)


def test_unknown_platforms_are_refused_with_the_list(cli) -> None:
    r = cli("accounts", "add", "myspace", "--token-stdin")
    assert r.exit_code == 2 and "unknown platform 'myspace'" in r.stderr and "bluesky" in r.stderr
    r = cli("platforms", "myspace")
    assert r.exit_code == 2 and "unknown platform" in r.stderr


def test_accounts_add_and_login_are_built_from_the_specs(cli) -> None:
    r = cli("accounts", "add", "--help")
    assert r.exit_code == 0
    for name in VISIBLE:
        assert f"  {name} " in r.stdout
    assert "sandbox" not in r.stdout  # hidden, though `accounts add sandbox` works
    tumblr = cli("accounts", "add", "tumblr", "--help").stdout
    assert "--blog BLOG" in tumblr and "--client-id ID" in tumblr and "--token-stdin" in tumblr
    assert "--instance" not in tumblr
    bluesky = cli("accounts", "add", "bluesky", "--help").stdout
    assert "--password-stdin" in bluesky and "--service URL" in bluesky and "--api-base" not in bluesky
    login = cli("accounts", "login", "bluesky", "--help").stdout
    assert "--handle HANDLE" in login and "--service URL" in login and "--no-browser" in login
    facebook = cli("accounts", "login", "facebook", "--help").stdout
    assert "--config-id ID" in facebook and "--app-id" not in facebook
    r = cli("accounts", "add", "tumblr", "--blog", "b", "--instance", "https://m.example", "--token-stdin")
    assert r.exit_code == 2 and "--instance is for mastodon, not tumblr" in r.stderr


def test_postcli_platforms_lists_what_each_supports(cli) -> None:
    out = cli.json("platforms")
    assert [p["name"] for p in out["platforms"]] == VISIBLE and out["broken_plugins"] == []
    by = {p["name"]: p for p in out["platforms"]}
    assert by["instagram"]["publish"]["text"] is False  # no text-only posts
    assert by["bluesky"]["metrics"]["always_null"] == [
        "impressions",
        "reach",
        "views",
        "saves",
        "clicks",
        "video_views",
    ]
    assert by["mastodon"]["signin"] == {
        "browser": True,
        "kind": "OAuth 2.0 authorization code",
        "own_app": False,
        "redirect": "loopback",
        "scopes": ["read", "write"],
        "console": "none: postcli registers itself on your instance",
    }
    assert by["threads"]["signin"]["own_app"] is True and by["threads"]["signin"]["redirect"] == "https"
    assert by["bluesky"]["limits"]["max_text"] == 300 and by["bluesky"]["limits"]["count_unit"] == "graphemes"
    assert by["tumblr"]["rate_limit"] == {"requests": 1000, "seconds": 3600, "daily_reset": None, "per_app": False}
    x = by["x"]
    assert (x["limits"]["max_text"], x["limits"]["url_weight"], x["limits"]["max_gif_bytes"]) == (280, 23, 15 << 20)
    assert (x["signin"]["redirect"], x["signin"]["own_app"]) == ("loopback-fixed", True)
    assert x["publish"]["fields"][0]["key"] == "x.reply_settings"
    one = cli.json("platforms", "facebook")
    assert one == by["facebook"]
    text = cli("platforms", "bluesky")
    assert text.exit_code == 0 and "always null" in text.stdout and "docs/platforms/bluesky.md" in text.stdout


def test_the_reconnect_hint_names_the_accounts_own_server(cli) -> None:
    from postcli.services.accounts import reconnect_hint
    from postcli.store.models import Account

    account = Account(platform="bluesky", handle="alice.pds.test", api_base_url="https://pds.example", external_id="d")
    hint = reconnect_hint(account)
    assert "accounts login bluesky --handle alice.pds.test --service https://pds.example" in hint
    assert "accounts add bluesky --handle alice.pds.test --service https://pds.example" in hint


def test_each_environment_variable_is_listed_once(cli) -> None:
    """A client secret both kept by the sign-in and read at `accounts add` is one variable."""
    for p in cli.json("platforms")["platforms"]:
        env = p["connect"]["environment"]
        assert len(env) == len(set(env)), (p["name"], env)


def test_the_registry_knows_which_built_in_networks_are_simulated_without_their_specs():
    from postcli.platforms import registry

    assert registry.SIMULATED_BUILTIN == {n for n in registry.BUILTIN if registry.spec(n).simulated}
    assert registry.is_simulated("sandbox") and not registry.is_simulated("bluesky")
    assert not registry.is_simulated("no-such-plugin")


def test_the_registry_knows_which_built_in_networks_report_no_numbers_per_post_without_their_specs():
    from postcli.platforms import registry

    assert registry.NO_POST_METRICS_BUILTIN == {n for n in registry.BUILTIN if not registry.spec(n).metrics}
    # What the text reports' "—" note names per platform, the same way.
    assert registry.POST_METRICS_BUILTIN == {n: set(registry.spec(n).metrics) for n in registry.BUILTIN}
    assert registry.post_metrics("no-such-plugin") is None
    assert not registry.reports_post_metrics("google-business") and registry.reports_post_metrics("bluesky")
    assert registry.reports_post_metrics("no-such-plugin")
