"""Platform name -> its spec and adapter class, each imported only when used.

The built-in platforms are one line each below. Others come from installed distributions
through the `postcli.platforms` entry-point group: an entry point names a PlatformSpec
object (`example = "postcli_example.spec:SPEC"`). Entry points are read only when a name
is not built in or when every platform is listed; a plugin that fails to load is kept in
`plugin_problems()` (shown by `postcli platforms`) and never breaks another command.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from postcli.errors import InvalidInput

if TYPE_CHECKING:
    from postcli.platforms.base import AccountContext, AdapterBase
    from postcli.platforms.spec import PlatformSpec, SignInHooks

ENTRY_POINT_GROUP = "postcli.platforms"

BUILTIN: dict[str, str] = {
    "bluesky": "postcli.platforms.bluesky.spec",
    "mastodon": "postcli.platforms.mastodon.spec",
    "threads": "postcli.platforms.threads.spec",
    "instagram": "postcli.platforms.instagram.spec",
    "facebook": "postcli.platforms.facebook.spec",
    "tumblr": "postcli.platforms.tumblr.spec",
    "x": "postcli.platforms.x.spec",
    "linkedin": "postcli.platforms.linkedin.spec",
    "tiktok": "postcli.platforms.tiktok.spec",
    "google-business": "postcli.platforms.google_business.spec",
    "youtube": "postcli.platforms.youtube.spec",
    "pinterest": "postcli.platforms.pinterest.spec",
    "reddit": "postcli.platforms.reddit.spec",
    "sandbox": "postcli.platforms.sandbox_spec",
    # Simulated networks for `postcli demo`: each reports what its real counterpart reports.
    "sim-bluesky": "postcli.platforms.simulated.specs:BLUESKY",
    "sim-mastodon": "postcli.platforms.simulated.specs:MASTODON",
    "sim-instagram": "postcli.platforms.simulated.specs:INSTAGRAM",
    "sim-threads": "postcli.platforms.simulated.specs:THREADS",
}

# The built-in platforms whose spec says `simulated`, known without importing a spec: every
# report asks it of each account in scope (tests/test_platform_specs.py holds it to the specs).
SIMULATED_BUILTIN = frozenset({"sandbox", "sim-bluesky", "sim-mastodon", "sim-instagram", "sim-threads"})

# The counters per post each built-in platform's spec names, known the same way: a text report
# asks them of every platform it shows (which ones show "—" because the platform never reports
# them), and importing platforms/spec.py (its dataclasses) would cost each one about 5 ms of a
# start-up that should be as light as `postcli --help`.
_SOCIAL = ("comments", "likes", "shares")
POST_METRICS_BUILTIN: dict[str, frozenset[str]] = {
    name: frozenset(metrics)
    for name, metrics in {
        "bluesky": (*_SOCIAL, "quotes"),
        "mastodon": (*_SOCIAL, "quotes"),
        "threads": (*_SOCIAL, "quotes", "views"),
        "instagram": (*_SOCIAL, "reach", "saves", "views"),
        "facebook": (*_SOCIAL, "clicks", "reach", "views"),
        "tumblr": _SOCIAL,
        "x": (*_SOCIAL, "clicks", "impressions", "quotes", "saves", "video_views"),
        "linkedin": (*_SOCIAL, "clicks", "impressions", "reach"),
        "tiktok": (*_SOCIAL, "views"),
        "google-business": (),
        "youtube": ("comments", "likes", "video_views", "views"),
        "pinterest": ("clicks", "impressions", "saves", "video_views"),
        "reddit": (*_SOCIAL, "impressions"),
        "sandbox": (*_SOCIAL, "impressions", "quotes", "reach"),
        "sim-bluesky": (*_SOCIAL, "quotes"),
        "sim-mastodon": (*_SOCIAL, "quotes"),
        "sim-instagram": (*_SOCIAL, "reach", "saves", "views"),
        "sim-threads": (*_SOCIAL, "quotes", "views"),
    }.items()
}
NO_POST_METRICS_BUILTIN = frozenset(name for name, metrics in POST_METRICS_BUILTIN.items() if not metrics)

_specs: dict[str, PlatformSpec] = {}
_plugins_read = False
_problems: dict[str, str] = {}


def _builtin(name: str) -> PlatformSpec | None:
    module = BUILTIN.get(name)
    if module is None:
        return None
    spec = _specs.get(name)
    if spec is None:
        module_name, _, attr = module.partition(":")
        spec = getattr(importlib.import_module(module_name), attr or "SPEC")
        _specs[name] = spec
    return spec


def _read_plugins() -> None:
    """Load every entry point of the group once; a broken one is remembered, not raised."""
    global _plugins_read
    if _plugins_read:
        return
    _plugins_read = True
    from importlib.metadata import entry_points

    from postcli.platforms.spec import PlatformSpec

    try:
        found = list(entry_points(group=ENTRY_POINT_GROUP))
    except Exception as exc:  # noqa: BLE001 - a damaged installation must not stop postcli
        _problems["(entry points)"] = f"could not read installed plugins: {type(exc).__name__}: {exc}"
        return
    for ep in found:
        where = f"{ep.name} ({ep.value})"
        if ep.name in BUILTIN:
            _problems[ep.name] = f"{where}: the name is taken by a built-in platform; ignored."
            continue
        try:
            spec = ep.load()
        except Exception as exc:  # noqa: BLE001 - whatever a plugin raises, report it
            _problems[ep.name] = f"{where}: could not be loaded: {type(exc).__name__}: {exc}"
            continue
        if not isinstance(spec, PlatformSpec):
            _problems[ep.name] = f"{where}: is a {type(spec).__name__}, not a PlatformSpec."
            continue
        if spec.name != ep.name:
            _problems[ep.name] = f"{where}: its spec is named {spec.name!r}; the entry point must use that name."
            continue
        _specs[spec.name] = spec


def spec(name: str) -> PlatformSpec:
    """The spec of `name`; InvalidInput (exit 2) naming the platforms there are."""
    found = _builtin(name)
    if found is not None:
        return found
    _read_plugins()
    if name in _specs:
        return _specs[name]
    problem = _problems.get(name)
    if problem:
        raise InvalidInput(f"the platform plugin {problem}", hint="Reinstall or remove the plugin.")
    raise InvalidInput(f"unknown platform {name!r}.", hint=f"Supported platforms: {', '.join(platform_names())}.")


def find(name: str) -> PlatformSpec | None:
    """The spec of `name`, or None (a platform of a plugin no longer installed)."""
    try:
        return spec(name)
    except InvalidInput:
        return None


def is_simulated(name: str) -> bool:
    """Whether `name` is a simulated network (False for a plugin no longer installed)."""
    if name in BUILTIN:
        return name in SIMULATED_BUILTIN
    found = find(name)
    return found is not None and found.simulated


def reports_post_metrics(name: str) -> bool:
    """Whether `name` reports numbers per post (True for a plugin no longer installed: nothing
    is known against it)."""
    if name in BUILTIN:
        return name not in NO_POST_METRICS_BUILTIN
    found = find(name)
    return found is None or bool(found.metrics)


def post_metrics(name: str) -> frozenset[str] | None:
    """The counters per post `name` reports (None for a plugin no longer installed)."""
    if name in POST_METRICS_BUILTIN:
        return POST_METRICS_BUILTIN[name]
    found = find(name)
    return None if found is None else frozenset(found.metrics)


def specs(*, include_hidden: bool = False) -> list[PlatformSpec]:
    """Every platform, built-in first then plugins, each in name order."""
    for name in BUILTIN:
        _builtin(name)
    _read_plugins()
    builtin = sorted((s for n, s in _specs.items() if n in BUILTIN), key=lambda s: s.name)
    plugins = sorted((s for n, s in _specs.items() if n not in BUILTIN), key=lambda s: s.name)
    return [s for s in builtin + plugins if include_hidden or not s.hidden]


def platform_names(*, include_hidden: bool = False) -> list[str]:
    return [s.name for s in specs(include_hidden=include_hidden)]


def platform_of(ref: str) -> str | None:
    """The platform whose spec claims the link or URI `ref`: a URI scheme (at://) or a web host
    (subdomains too); None when no spec does."""
    from urllib.parse import urlparse

    host = urlparse(ref).netloc.lower().split(":")[0]
    for found in specs(include_hidden=True):
        if any(ref.startswith(scheme) for scheme in found.import_schemes):
            return found.name
        if host and any(host == h or host.endswith("." + h) for h in found.import_hosts):
            return found.name
    return None


def plugin_problems() -> dict[str, str]:
    _read_plugins()
    return dict(_problems)


def is_builtin(name: str) -> bool:
    return name in BUILTIN


def _load(target: str) -> object:
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def adapter_class(platform: str) -> type[AdapterBase]:
    found = spec(platform)
    try:
        cls = _load(found.adapter)
    except Exception as exc:  # noqa: BLE001 - a plugin's adapter that does not import
        if is_builtin(platform):
            raise
        raise InvalidInput(
            f"the {platform} plugin's adapter {found.adapter} could not be loaded: {type(exc).__name__}: {exc}",
            hint="Reinstall or remove the plugin.",
        ) from None
    return cls  # type: ignore[return-value]


def signin_hooks(platform: str) -> SignInHooks:
    from postcli.platforms.spec import SignInHooks

    found = spec(platform)
    target = found.signin.hooks if found.signin is not None else ""
    cls = _load(target) if target else SignInHooks
    return cls(found)  # type: ignore[operator]


def make_adapter(ctx: AccountContext) -> AdapterBase:
    return adapter_class(ctx.platform)(ctx)
