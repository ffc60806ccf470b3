"""`--title`, `--link` and `--field PLATFORM.KEY=VALUE`: what a post gives the platforms whose
spec takes them, checked against each target's spec before anything is stored or sent."""

from __future__ import annotations

import json
from typing import Any, Iterable
from urllib.parse import urlsplit

from postcli import urlcheck
from postcli.errors import InvalidInput
from postcli.platforms import registry

MAX_LINK = 2048


def parse(values: Iterable[str]) -> dict[str, dict[str, str]]:
    """["PLATFORM.KEY=VALUE", ...] -> {PLATFORM: {KEY: VALUE}} (values unchecked)."""
    parsed: dict[str, dict[str, str]] = {}
    for raw in values:
        name, sep, value = raw.partition("=")
        platform, dot, key = name.strip().partition(".")
        if not sep or not dot or not platform or not key:
            raise InvalidInput(
                f"--field {raw!r} is not PLATFORM.KEY=VALUE.",
                hint="For example --field youtube.privacy=unlisted; `postcli platforms NAME` lists the fields.",
            )
        platform, key = platform.strip().lower(), key.strip().lower()
        if key in parsed.get(platform, {}):
            raise InvalidInput(f"--field {platform}.{key} is given twice.", hint="Give each field once.")
        parsed.setdefault(platform, {})[key] = value
    return parsed


def check(raw: dict[str, dict[str, str]], platforms: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The fields as each platform's spec reads them; a platform without a target, an unknown key
    or a bad value is InvalidInput naming what is allowed."""
    targeted = set(platforms)
    checked: dict[str, dict[str, Any]] = {}
    for platform, items in raw.items():
        if platform not in targeted:
            raise InvalidInput(
                f"--field {platform}.… is for {platform}, which is not among the targets.",
                hint="Leave it out, or add a target on that platform with --to.",
            )
        spec = registry.spec(platform)
        for key, value in items.items():
            field = spec.field(key)
            if field is None:
                allowed = ", ".join(f"{platform}.{f.key}" for f in spec.fields) or "none"
                raise InvalidInput(f"{platform} has no field {key!r}.", hint=f"Its fields: {allowed}.")
            checked.setdefault(platform, {})[key] = field.parse(platform, value)
    for platform in targeted:
        spec = registry.spec(platform)
        # A field an account setting can stand in for is checked per account (account_problems).
        missing = [
            f.key for f in spec.fields if f.required and not f.setting and f.key not in checked.get(platform, {})
        ]
        if missing:
            raise InvalidInput(
                f"{spec.display_name} needs --field {', '.join(f'{platform}.{k}=…' for k in missing)}.",
                hint=f"`postcli platforms {platform}` says what each field takes.",
            )
    return checked


def account_problems(platform: str, settings: dict[str, Any] | None, given: dict[str, Any] | None) -> list[str]:
    """A required field neither the post (`given`) nor the account's setting supplies (Pinterest's
    board without --field pinterest.board and without a default board), in words naming both ways."""
    found = registry.find(platform)
    if found is None:
        return []
    problems = []
    for f in found.fields:
        if not (f.required and f.setting) or (given or {}).get(f.key) or (settings or {}).get(f.setting):
            continue
        option = next((o for o in found.options if o.role == f"setting:{f.setting}"), None)
        default = f", or give the account a default ({option.flag} {option.metavar})" if option else ""
        problems.append(f"no {f.key} given: add --field {platform}.{f.key}=…{default}.")
    return problems


def check_title_and_link(title: str | None, link: str | None, platforms: Iterable[str]) -> list[str]:
    """Refuses a missing required title or a bad link (exit 2); returns warnings for a title or
    link that some targets do not use."""
    warnings: list[str] = []
    if link is not None:
        try:
            parts = urlsplit(link.strip())
            ok = parts.scheme in ("http", "https") and bool(parts.hostname) and len(link) <= MAX_LINK
        except ValueError:  # "http://[::1": not a URL at all
            ok = False
        if not ok:
            raise InvalidInput(
                f"--link {link!r} is not an http(s) URL of at most {MAX_LINK} characters.",
                hint="For example --link https://example.com/article",
            )
        urlcheck.link(link, what="--link")  # no user:password@ in a link that is published
    for platform in sorted(set(platforms)):
        spec = registry.spec(platform)
        if spec.title == "required" and not (title or "").strip():
            raise InvalidInput(f"{spec.display_name} needs a title.", hint="Add --title TEXT.")
        if title is not None and spec.title != "no" and spec.title_max and len(title) > spec.title_max:
            raise InvalidInput(
                f"the title is {len(title)} characters; {spec.display_name} takes at most {spec.title_max}.",
                hint="Shorten --title.",
            )
        bad = sorted({c for c in title or "" if c in spec.title_forbidden}) if spec.title != "no" else []
        if bad:
            raise InvalidInput(
                f"{spec.display_name} titles may not contain {' or '.join(repr(c) for c in bad)}.",
                hint="Remove them from --title.",
            )
        if title is not None and spec.title == "no":
            warnings.append(f"{spec.display_name} posts have no title: --title is not sent there.")
        if link is not None and spec.link == "no":
            warnings.append(
                f"{spec.display_name} takes no separate link: --link is not sent there (put it in the text)."
            )
    return warnings


def check_post(
    title: str | None, link: str | None, checked: dict[str, dict[str, Any]], platforms: Iterable[str]
) -> None:
    """Each target platform's check of the post as a whole (its spec's `check_post`): fields
    that depend on each other or on --link. InvalidInput (exit 2) before anything is stored."""
    for platform in sorted(set(platforms)):
        spec = registry.spec(platform)
        if spec.check_post is not None:
            spec.check_post(title, link, with_defaults(platform, checked.get(platform)))


def with_defaults(platform: str, stored: Any) -> dict[str, Any]:
    """The fields an adapter gets: the spec's defaults, then what the post gave."""
    given = decode(stored) or {}
    found = registry.find(platform)
    defaults = {f.key: f.parse(platform, f.default) for f in found.fields if f.default is not None} if found else {}
    return {**defaults, **given}


def decode(value: Any) -> dict[str, Any] | None:
    """A stored fields value (a dict, or JSON text from the plain read path)."""
    if value is None or isinstance(value, dict):
        return value
    try:
        loaded = json.loads(value)
    except (TypeError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None
