"""What the CLI says about the store without importing it (docs/design.md, "Layers"):
where things are kept, with the database password masked, and what to do about a
database file that cannot be used.
"""

from __future__ import annotations

from typing import Any


def locations() -> dict[str, Any]:
    """The config file, data directory and database URL (password masked), for `config path`."""
    from postcli import settings
    from postcli.store.session import safe_url

    p = settings.paths()
    return {
        "config_file": str(p.config_file),
        "config_exists": p.config_file.exists(),
        "data_dir": str(p.data_dir),
        "database_url": safe_url(settings.database_url()),
    }


def unusable_database_hint(reason: str) -> str:
    """The fix for a SQLite store the driver refused (read-only, damaged, not a database)."""
    from postcli.store.session import sqlite_hint

    return sqlite_hint(reason)


def full_disk(reason: str) -> str | None:
    """'no space left on the device holding ...' when that is why SQLite failed (see store.session.disk_full)."""
    from postcli import settings
    from postcli.store.session import disk_full

    return disk_full(settings.database_url(), reason)
