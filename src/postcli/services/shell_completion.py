"""What a shell's tab completion offers (cli/completion.py asks): platform names, accounts, posts.

Read from the store as it is: a store that is missing or would need migrating offers nothing
rather than being created or changed by a key press.
"""

from __future__ import annotations

from typing import NamedTuple

# A shell shows this many at most; more would scroll past without helping.
MAX_POSTS = 200


class AccountRef(NamedTuple):
    id: int
    handle: str
    platform: str


class PostRef(NamedTuple):
    id: int
    status: str
    text: str


def platforms() -> list[str]:
    """The platforms the registry lists (built-in and installed plugins; not the hidden sandbox)."""
    from postcli.services import platforms

    return sorted(platforms.names())


def accounts() -> list[AccountRef]:
    """The accounts not removed, oldest first."""
    from postcli.store.dbapi import open_existing_reader

    with open_existing_reader() as db:
        if db is None:
            return []
        rows = db.rows("SELECT id, handle, platform FROM accounts WHERE removed_at IS NULL ORDER BY id")
    return [AccountRef(int(i), str(h), str(p)) for i, h, p in rows]


def posts() -> list[PostRef]:
    """The newest posts first (at most MAX_POSTS)."""
    from postcli.store.dbapi import open_existing_reader

    with open_existing_reader() as db:
        if db is None:
            return []
        rows = db.rows("SELECT id, status, text FROM posts ORDER BY id DESC LIMIT :n", n=MAX_POSTS)
    return [PostRef(int(i), str(s), str(t or "")) for i, s, t in rows]
