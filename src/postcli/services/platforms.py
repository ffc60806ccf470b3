"""The platforms as the CLI sees them: their specs (for building `accounts add|login`), and what
each supports, for `postcli platforms` — all read from the specs and adapter classes, never
written out a second time.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Iterable

from postcli import metrics
from postcli.errors import InvalidInput
from postcli.platforms import registry

if TYPE_CHECKING:
    from postcli.platforms.spec import PlatformSpec


def spec(name: str) -> PlatformSpec:
    return registry.spec(name)


def find(name: str) -> PlatformSpec | None:
    return registry.find(name)


def names(*, signin: bool = False, include_hidden: bool = False) -> list[str]:
    """Platform names; `signin`: only those with a browser sign-in."""
    return [s.name for s in registry.specs(include_hidden=include_hidden) if not signin or s.signin is not None]


def reports_post_metrics(name: str) -> bool:
    """Whether the platform reports numbers per post at all (its spec names some counters; the
    adapter's has_metrics says the same, tests/test_platform_specs.py checks it). One that does
    not (Google Business Profile) never gets a snapshot: the reports show "—" for its posts."""
    return registry.reports_post_metrics(name)


def post_metrics(name: str) -> frozenset[str] | None:
    """The counters per post the platform reports, from its spec (built-in ones known without
    importing it); None for a plugin no longer installed."""
    return registry.post_metrics(name)


def unmeasured_note(names: Iterable[str]) -> str | None:
    """Why the posts of these platforms show no numbers, said once; None when all report some."""
    missing = sorted({n for n in names if not reports_post_metrics(n)})
    if not missing:
        return None
    who = ", ".join(f"{registry.spec(n).display_name} ({n})" for n in missing)
    return f"{who} reports no numbers per post: postcli publishes there but has nothing to collect per post."


def option_owners(flag: str) -> list[str]:
    """The platforms whose identity options include `flag` (for "--page is for facebook")."""
    return [s.name for s in registry.specs() if any(o.flag == flag for o in s.options)]


def _limits(found: PlatformSpec) -> dict[str, Any]:
    from postcli.platforms.base import AccountContext

    adapter = registry.adapter_class(found.name)(
        AccountContext(platform=found.name, api_base_url=found.default_base_url or "")
    )
    limits = asdict(adapter.limits())
    limits["mime_types"] = list(limits["mime_types"])
    limits["public_media_kinds"] = list(limits["public_media_kinds"])
    return limits


def describe(name: str) -> dict[str, Any]:
    """What `name` supports, generated from its spec and adapter (docs/json.md, "platforms")."""
    found = registry.spec(name)
    cls = registry.adapter_class(found.name)
    limits = _limits(found)
    signin = found.signin
    env = [f"{found.env_prefix}{'PASSWORD' if c.kind == 'password' else 'TOKEN'}" for c in [found.credential] if c]
    env += [e.env for e in found.env_secrets]
    if signin is not None and signin.needs_app:
        env += [f"{found.env_prefix}CLIENT_ID", f"{found.env_prefix}CLIENT_SECRET"]
    env = list(dict.fromkeys(env))  # a secret read at `accounts add` may also be the sign-in's
    return {
        "name": found.name,
        "display_name": found.display_name,
        "summary": found.summary,
        "plugin": not registry.is_builtin(found.name),
        "simulated": found.simulated,
        "docs": found.docs or None,
        "publish": {
            "text": "text" in found.publishes and not limits["requires_media"],
            "images": "images" in found.publishes and limits["max_images"] > 0,
            "video": "video" in found.publishes and limits["max_videos"] > 0,
            "thread": "thread" in found.publishes,  # several parts as a reply chain (issue 28)
            "first_comment": "first_comment" in found.publishes,  # --first-comment under the post
            "title": found.title,
            "link": found.link,
            "fields": [
                {
                    "key": f"{found.name}.{f.key}",
                    "kind": f.kind,
                    "values": list(f.choices) or None,
                    "default": f.default,
                    "required": f.required,
                    "help": f.help,
                }
                for f in found.fields
            ],
        },
        "metrics": {
            "reported": [c for c in metrics.COUNTERS if c in found.metrics],
            "always_null": [c for c in metrics.COUNTERS if c not in found.metrics],
            "account": list(found.account_metrics),
            "note": found.metrics_note or None,
            "collected": cls.has_metrics,
            "settle_hours": cls.min_collect_hours,
        },
        "signin": {
            "browser": signin is not None,
            "kind": signin.kind if signin else None,
            "own_app": signin.needs_app if signin else None,
            "redirect": signin.redirect if signin else None,
            "scopes": list(signin.scopes) if signin else [],
            "console": signin.console or None if signin else None,
        },
        "connect": {
            "credential": found.credential.name if found.credential else None,
            "secrets": list(found.secrets),
            "environment": env,
            "options": [o.flag for o in found.options],
        },
        "limits": limits,
        "rate_limit": (
            {
                "requests": found.rate_limit[0],
                "seconds": found.rate_limit[1],
                "daily_reset": found.rate_limit_reset,
                "per_app": found.budget_per_app,
            }
            if found.rate_limit
            else None
        ),
    }


def overview() -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Every platform described, and the plugins that could not be loaded ({name: problem})."""
    described: list[dict[str, Any]] = []
    problems = registry.plugin_problems()
    for found in registry.specs():
        try:
            described.append(describe(found.name))
        except InvalidInput as exc:  # a plugin whose adapter does not import
            problems[found.name] = exc.message
    return described, problems
