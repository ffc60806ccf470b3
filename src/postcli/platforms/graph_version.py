"""The one Meta Graph API version setting, for sign-in and every Graph client.

v27.0 came out on 4 November 2026 (developers.facebook.com/blog/post/2026/11/04/
introducing-graph-api-v27-and-marketing-api-v27/); docs/platforms/facebook.md says how
that was checked. `[graph] version` in config.toml overrides it for every account and
every sign-in, `accounts add ... --graph-version` for one account (settings["api_version"]).
Threads has its own versioning (v1.0) and does not use this.
"""

from __future__ import annotations

from typing import Any

from postcli.errors import InvalidInput
from postcli.platforms.spec import Option
from postcli.settings import check_graph_version

DEFAULT_GRAPH_VERSION = "v27.0"


def valid_graph_version(value: str) -> bool:
    """True for a version as Graph spells it ("v27.0")."""
    try:
        check_graph_version(value or "", "", InvalidInput)
    except InvalidInput:
        return False
    return True


def graph_version_for(settings: dict[str, Any] | None, configured: str | None) -> str:
    """The account's own version (settings["api_version"]), else the configured one, else the default."""
    own = (settings or {}).get("api_version")
    return str(own or configured or DEFAULT_GRAPH_VERSION)


def _check_option(value: str) -> str:
    return check_graph_version(value, f"--graph-version {value!r}:", InvalidInput)


def graph_version_option() -> Option:
    """`accounts add facebook|instagram --graph-version`: the account's own version."""
    return Option(
        "--graph-version",
        "VERSION",
        "Meta Graph API version for this account, e.g. v27.0 (default: [graph] version in "
        "config.toml, else postcli's current default).",
        login="no",
        role="setting:api_version",
        check=_check_option,
    )
