"""The platform names postcli knows, for checking a `--platform` value before any work starts.

Here rather than in the CLI because the names come from the adapter registry, and the CLI
does not import platforms (docs/design.md, "Layers").
"""

from __future__ import annotations


def known() -> frozenset[str]:
    """Every platform with a spec (the simulated sandbox and installed plugins included)."""
    from postcli.platforms import registry

    return frozenset(registry.platform_names(include_hidden=True))


def is_known(name: str) -> bool:
    """Whether postcli knows `name`: a built-in name without importing a spec or reading the
    installed plugins (`--platform mastodon` on every report: ~20 ms), others through them."""
    from postcli.platforms import registry

    return registry.is_builtin(name) or name in known()
