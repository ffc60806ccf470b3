"""The store itself: status, upgrade, consistent backups."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from postcli import settings
from postcli.errors import InvalidInput, PostcliError
from postcli.store import session as store


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@dataclass
class Status:
    backend: str
    url: str
    revision: str | None
    head: str
    up_to_date: bool
    counts: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def status() -> Status:
    from sqlalchemy import func, inspect, select, table

    url = settings.database_url()
    eng = store.make_engine(url)
    try:
        rev = store.current_revision(eng)
        store.check_revision(rev)
        counts: dict[str, int] = {}
        if rev is not None:
            names = set(inspect(eng).get_table_names())
            with eng.connect() as conn:
                for name in ("accounts", "posts", "post_targets", "post_metric_snapshots", "account_metric_snapshots", "jobs"):
                    if name in names:
                        counts[name] = conn.execute(select(func.count()).select_from(table(name))).scalar_one()
        return Status(
            backend=eng.dialect.name,
            url=_safe_url(url),
            revision=rev,
            head=store.SCHEMA_HEAD,
            up_to_date=rev == store.SCHEMA_HEAD,
            counts=counts,
        )
    finally:
        eng.dispose()


def upgrade() -> tuple[str | None, str]:
    url = settings.database_url()
    eng = store.make_engine(url)
    try:
        before = store.current_revision(eng)
        if not store.check_revision(before):
            store.upgrade(eng)
        return before, store.current_revision(eng) or ""
    finally:
        eng.dispose()


def backup(dest: Path, *, overwrite: bool = False) -> Path:
    """A consistent copy while other processes may be writing (SQLite's online backup)."""
    import sqlite3

    url = settings.database_url()
    if not url.startswith("sqlite"):
        raise InvalidInput(
            "db backup copies SQLite stores; for PostgreSQL use pg_dump.",
        )
    store.engine(url)  # creates/migrates the store first so there is something to copy
    src_path = url.split("///", 1)[1]
    dest = dest.expanduser()
    if dest.exists() and not overwrite:
        raise InvalidInput(f"{dest} already exists.", hint="Choose another file or pass --force.")
    if dest.resolve() == Path(src_path).resolve():
        raise InvalidInput("the backup file cannot be the database itself.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".partial")
    tmp.unlink(missing_ok=True)
    try:
        src = sqlite3.connect(src_path, timeout=30)
        out = sqlite3.connect(tmp)
        try:
            with out:
                src.backup(out)
            out.execute("PRAGMA journal_mode=DELETE")
        finally:
            out.close()
            src.close()
        tmp.replace(dest)
    except sqlite3.Error as exc:
        tmp.unlink(missing_ok=True)
        raise PostcliError(f"backup failed: {exc}") from None
    return dest
