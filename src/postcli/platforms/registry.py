"""Platform name -> adapter class, imported only when used (SDKs are slow to import)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from postcli.errors import InvalidInput

if TYPE_CHECKING:
    from postcli.platforms.base import AccountContext, AdapterBase

_ADAPTERS = {
    "bluesky": "postcli.platforms.bluesky.adapter:BlueskyAdapter",
    "mastodon": "postcli.platforms.mastodon.adapter:MastodonAdapter",
    "sandbox": "postcli.platforms.sandbox:SandboxAdapter",
    "threads": "postcli.platforms.threads.adapter:ThreadsAdapter",
    "instagram": "postcli.platforms.instagram.adapter:InstagramAdapter",
    "facebook": "postcli.platforms.facebook.adapter:FacebookAdapter",
    "tumblr": "postcli.platforms.tumblr.adapter:TumblrAdapter",
}

DEFAULT_BASE_URLS = {
    "bluesky": "https://bsky.social",
    "sandbox": "sandbox://local",
    "threads": "https://graph.threads.net",
    "instagram": "https://graph.instagram.com",
    "facebook": "https://graph.facebook.com",
    "tumblr": "https://api.tumblr.com",
}


def platform_names() -> list[str]:
    return sorted(_ADAPTERS)


def adapter_class(platform: str) -> type[AdapterBase]:
    try:
        target = _ADAPTERS[platform]
    except KeyError:
        raise InvalidInput(
            f"unknown platform {platform!r}.",
            hint=f"Supported platforms: {', '.join(platform_names())}.",
        ) from None
    module_name, _, cls_name = target.partition(":")
    return getattr(importlib.import_module(module_name), cls_name)


def make_adapter(ctx: AccountContext) -> AdapterBase:
    return adapter_class(ctx.platform)(ctx)
