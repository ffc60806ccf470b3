"""Refreshing a token whose refresh token rotates (works once): Tumblr today; X, TikTok,
Pinterest, Reddit and AT Protocol OAuth tomorrow.

The rule: refresh under the account's inter-process lock, first re-reading the stored
secrets. If another process rotated the pair meanwhile, take the stored pair instead of
spending the old refresh token (which the platform would refuse, killing the account).
Whatever the refresh returns is saved before the lock is released.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from postcli.platforms.base import AccountContext


@contextmanager
def rotating_refresh(ctx: AccountContext, key: str = "refresh_token") -> Iterator[bool]:
    """Hold the refresh lock; yields True when the stored secrets carry a newer `key` than
    ctx.secrets, in which case ctx.secrets has been updated to them."""
    with ctx.refresh_lock():
        stored = dict(ctx.load_secrets() or {})
        mine = (ctx.secrets or {}).get(key)
        newer = bool(stored.get(key)) and stored.get(key) != mine
        if newer:
            ctx.secrets = {**(ctx.secrets or {}), **stored}
        yield newer
