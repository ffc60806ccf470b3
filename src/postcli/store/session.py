"""Opening the store: engine, SQLite pragmas, and migrations applied on first use.

The schema revision is checked without importing Alembic when the database is
already current (the common case), so commands stay quick to start.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from postcli import settings
from postcli.errors import StoreError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session, sessionmaker

# The newest migration this code knows. tests/test_store.py checks it matches Alembic's head.
SCHEMA_HEAD = "0002"
SCHEMA_REVISIONS = ("0001", "0002")

_lock = threading.Lock()
_engines: dict[str, Engine] = {}
_factories: dict[str, sessionmaker[Session]] = {}


def _on_connect_sqlite(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str) -> Engine:
    from sqlalchemy import create_engine, event

    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _on_connect_sqlite)
        # pysqlite's own transaction handling defers BEGIN; issue it ourselves so
        # a read-then-write claim is one transaction (BEGIN IMMEDIATE where asked).
        event.listen(engine, "connect", lambda c, _r: setattr(c, "isolation_level", None))
        event.listen(engine, "begin", _begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _begin(conn) -> None:  # type: ignore[no-untyped-def]
    immediate = conn.get_execution_options().get("postcli_immediate")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def current_revision(engine: Engine) -> str | None:
    from sqlalchemy import inspect, text

    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
        return row[0] if row else None


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


def upgrade(engine: Engine) -> None:
    from postcli.store.migrate import run_upgrade

    run_upgrade(engine)


def engine(url: str | None = None, *, migrate: bool = True) -> Engine:
    url = url or settings.database_url()
    with _lock:
        eng = _engines.get(url)
        if eng is None:
            eng = make_engine(url)
            if migrate and not check_revision(current_revision(eng)):
                upgrade(eng)
            _engines[url] = eng
        return eng


def session_factory(url: str | None = None) -> sessionmaker[Session]:
    from sqlalchemy.orm import sessionmaker

    eng = engine(url)
    key = str(eng.url)
    with _lock:
        fac = _factories.get(key)
        if fac is None:
            fac = sessionmaker(eng, expire_on_commit=False)
            _factories[key] = fac
        return fac


@contextmanager
def session_scope(url: str | None = None, *, immediate: bool = True, readonly: bool = False) -> Iterator[Session]:
    """One transaction: committed on success, rolled back on any error.

    On SQLite a transaction that reads and then writes must take the write lock
    at BEGIN (IMMEDIATE): a deferred one that finds its snapshot stale when it
    first writes fails at once with SQLITE_BUSY, busy_timeout or not. So every
    scope is IMMEDIATE unless it says it only reads (`readonly=True`).
    """
    factory = session_factory(url)
    session = factory()
    try:
        if immediate and not readonly:
            session.connection(execution_options={"postcli_immediate": True})
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def reset() -> None:
    """Forget cached engines (tests switch POSTCLI_HOME between cases)."""
    with _lock:
        for eng in _engines.values():
            eng.dispose()
        _engines.clear()
        _factories.clear()
