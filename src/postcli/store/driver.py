"""What the write path (the ORM, store/session.py, with store/bulk.py on its connection) and the
read path (store/dbapi.py) share, below SQLAlchemy, written once:

- how a time is stored: naive UTC; on SQLite as text in SQLITE_TIME_FORMAT, which the ORM's
  column type (models.UTCDateTime) is pinned to, so the two can never disagree;
- which schema revision a store is at, and whether this postcli can use it;
- how a SQLite file is opened with the stdlib driver (pragmas; read-only when this user cannot
  write it).

Stdlib only: the reports import it without SQLAlchemy.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from postcli.errors import StoreError

if TYPE_CHECKING:
    import sqlite3

    from sqlalchemy.engine import Connection

# --- the schema revision ----------------------------------------------------------------

# The newest migration this code knows. tests/test_store.py checks it matches Alembic's head.
SCHEMA_HEAD = "0017"
SCHEMA_REVISIONS = (
    "0001",
    "0002",
    "0003",
    "0004",
    "0005",
    "0006",
    "0007",
    "0008",
    "0009",
    "0010",
    "0011",
    "0012",
    "0013",
    "0014",
    "0015",
    "0016",
    "0017",
)


def check_revision(rev: str | None) -> bool:
    """True when the schema is current; raise when it was made by a newer postcli."""
    if rev == SCHEMA_HEAD:
        return True
    if rev is not None and rev not in SCHEMA_REVISIONS:
        raise StoreError(
            f"this database was created by a newer version of postcli (schema {rev}; "
            f"this version knows up to {SCHEMA_HEAD}).",
            hint="Upgrade postcli (pip install -U postcli), or point POSTCLI_HOME / "
            "POSTCLI_DATABASE_URL at another store.",
        )
    return False


def read_revision(conn: Any, dialect: str, where: Callable[[], str]) -> str | None:
    """The store's schema revision through a DB-API connection; None for an empty database.

    A store with postcli's tables but no alembic_version cannot be migrated (the migrations
    would create tables that are there): refused, saying why. `where()` names the store (called
    only then: naming it with the password masked imports SQLAlchemy)."""
    cur = conn.cursor()
    try:
        names = ("alembic_version", "posts", "accounts")
        if dialect == "sqlite":
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (?, ?, ?)", names)
        else:
            cur.execute(
                "SELECT relname FROM pg_class WHERE oid IN (to_regclass(%s), to_regclass(%s), to_regclass(%s))", names
            )
        present = {row[0] for row in cur.fetchall()}
        if "alembic_version" not in present:
            if present:
                raise StoreError(
                    f"the store {where()} has postcli's tables but no schema version "
                    "(its alembic_version table is gone), so postcli cannot tell how to upgrade it.",
                    hint="Restore it from a backup (`postcli db backup` makes one), or move it aside to start "
                    "a new store.",
                )
            return None
        cur.execute("SELECT version_num FROM alembic_version")
        row = cur.fetchone()
        return row[0] if row else None
    finally:
        cur.close()


# --- stored times -------------------------------------------------------------------------

# SQLAlchemy's own default for SQLite DATETIME (sorts as text; SQLite's date functions read it).
SQLITE_TIME_FORMAT = "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"


def naive_utc(value: datetime) -> datetime:
    """An aware datetime as the naive UTC the store keeps; a naive one is refused (its zone is unknown)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store; use an aware one")
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def placeholders(conn: Connection, sql: str) -> str:
    """A statement written with `?` placeholders, in the style of `conn`'s driver (sqlite3 takes
    them as they are, psycopg wants `%s`)."""
    return sql if conn.dialect.paramstyle == "qmark" else sql.replace("?", "%s")


def to_stored(value: datetime, dialect: str) -> Any:
    """An aware datetime in the driver's form: text on SQLite, naive UTC on PostgreSQL."""
    v = naive_utc(value)
    if dialect != "sqlite":
        return v
    return SQLITE_TIME_FORMAT % {
        "year": v.year,
        "month": v.month,
        "day": v.day,
        "hour": v.hour,
        "minute": v.minute,
        "second": v.second,
        "microsecond": v.microsecond,
    }


def from_stored(value: Any) -> datetime | None:
    """A stored time (text on SQLite, naive on PostgreSQL) as aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc)


# --- opening a SQLite file -----------------------------------------------------------------


def sqlite_read_only(path: Path) -> bool:
    """True when this user may read the store but not write it (a read-only file or directory:
    SQLite needs to create the -wal and -shm files beside it)."""
    import os

    return path.is_file() and (not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK))


# The store's pragmas, on every read-write connection of either path.
SQLITE_PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000")


def apply_pragmas(conn: Any) -> None:
    cur = conn.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cur.execute(f"PRAGMA {pragma}")
    finally:
        cur.close()


def connect_sqlite(path: Path) -> sqlite3.Connection:
    """The store's SQLite file through the stdlib driver, autocommit (callers say BEGIN), usable from
    any thread: read-write with the store's pragmas, or read-only when this user cannot write it.

    Read-only without -wal/-shm files (a cleanly closed store) and no way to create them, SQLite
    can only open a WAL database as immutable; that is safe here because nobody who can write
    left a log behind. With them present it reads them (mode=ro)."""
    import sqlite3
    from urllib.parse import quote

    if sqlite_read_only(path):
        wal_present = Path(f"{path}-wal").exists() and Path(f"{path}-shm").exists()
        flags = "mode=ro" if wal_present else "mode=ro&immutable=1"
        conn = sqlite3.connect(f"file:{quote(str(path))}?{flags}", uri=True, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=30000")
    else:
        conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
        apply_pragmas(conn)
    conn.isolation_level = None
    return conn
