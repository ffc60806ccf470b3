"""Opening the store: engine, SQLite pragmas, and migrations applied on first use.

The schema revision is checked without importing Alembic when the database is
already current (the common case), so commands stay quick to start.

SQLite and PostgreSQL (psycopg 3) are both first-class; docs/postgres.md says what
differs. On both, a scope that may write takes the store's one write lock when it
begins (SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction-level advisory lock), so a
read-then-write claim never races another process.
"""

from __future__ import annotations

import os
import re
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from postcli import settings
from postcli.errors import InvalidInput, StoreError
from postcli.store.driver import (  # noqa: F401 - the revision rules live in driver.py; re-exported
    SCHEMA_HEAD,
    SCHEMA_REVISIONS,
    check_revision,
    connect_sqlite,
    sqlite_read_only,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session, sessionmaker

_lock = threading.Lock()
_engines: dict[str, Engine] = {}
_factories: dict[str, sessionmaker[Session]] = {}


def _on_connect_sqlite(dbapi_conn: Any, _record: Any) -> None:
    from postcli.store.driver import apply_pragmas

    apply_pragmas(dbapi_conn)


def normalize_url(url: str) -> str:
    """postgres:// and postgresql:// mean psycopg 3 (SQLAlchemy would pick psycopg2, not a dependency)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def safe_url(url: str) -> str:
    """The URL with any password masked, for messages and `db status`."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL must not leak what it holds either
        return url.split("://", 1)[0] + "://***"


def open_error(url: str, exc: BaseException) -> StoreError:
    """A database that cannot be reached or opened, said without the password."""
    from sqlalchemy.engine import make_url

    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    reason = lines[0] if lines else type(exc).__name__
    try:
        password = make_url(url).password
    except Exception:  # noqa: BLE001
        password = None
    if password:
        reason = reason.replace(str(password), "***")
    # A driver may quote the URL it could not read, user and password included.
    reason = re.sub(r"(://)[^/@\s\"']*@", r"\1***@", reason)
    if url.startswith("sqlite"):
        full = disk_full(url, reason)
        if full:
            from postcli.outfile import room_hint

            return StoreError(f"cannot open the database {safe_url(url)}: {full}.", hint=room_hint(full))
        return StoreError(f"cannot open the database {safe_url(url)}: {reason}", hint=sqlite_hint(reason))
    return StoreError(
        f"cannot open the database {safe_url(url)}: {reason}",
        hint="Check POSTCLI_DATABASE_URL (postgresql+psycopg://user:password@host:port/dbname) "
        "and that the server is running.",
    )


def disk_full(url: str, reason: str) -> str | None:
    """SQLite says "disk I/O error" or "database or disk is full" when it cannot grow a file: when the
    device holding the store is full (or the process's file size limit is reached), say that instead."""
    low = reason.lower()
    if not url.startswith("sqlite") or ("disk i/o error" not in low and "disk is full" not in low):
        return None
    from postcli.outfile import space_problem

    path = url.split("///", 1)[1].split("?", 1)[0] if "///" in url else ""
    return space_problem(Path(path)) if path and path != ":memory:" else None


def sqlite_hint(reason: str) -> str:
    """What to do about a SQLite file that cannot be used: about the file, never PostgreSQL settings."""
    low = reason.lower()
    if "readonly" in low or "read-only" in low or "unable to open" in low or "permission" in low:
        return (
            "This user cannot write the database file or its directory (SQLite writes -wal/-shm files "
            "beside it). Make both writable, or run as their owner; reading commands work without it."
        )
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return (
            "The file is damaged or not a postcli store. Restore it from a backup (`postcli db backup` "
            "makes one), or move it aside to start a new store."
        )
    return "Check the database file and its directory (`postcli config path` shows where it is)."


def make_engine(url: str) -> Engine:
    from sqlalchemy import create_engine, event

    url = normalize_url(url)
    if url.startswith("postgresql"):
        return _make_pg_engine(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        readonly = False
        if path and path != ":memory:" and "?" not in path:
            _create_private(Path(path))
            readonly = sqlite_read_only(Path(path))
        if readonly:
            engine = create_engine(url, creator=lambda: connect_sqlite(Path(path)))
        else:
            engine = create_engine(url, connect_args={"timeout": 30})
            event.listen(engine, "connect", _on_connect_sqlite)
        # pysqlite's own transaction handling defers BEGIN; issue it ourselves so
        # a read-then-write claim is one transaction (BEGIN IMMEDIATE where asked).
        event.listen(engine, "connect", lambda c, _r: setattr(c, "isolation_level", None))
        event.listen(engine, "begin", _begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _create_private(path: Path) -> None:
    """A new store is created 0600: it holds a person's posts. SQLite gives its -wal and
    -shm files the database file's mode, so they are private too."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def _begin(conn: Any) -> None:
    immediate = conn.get_execution_options().get("postcli_immediate")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# pg_advisory_xact_lock key of the store's write lock ("postcli" in ASCII). Advisory locks
# are per database, so two stores on one server do not contend.
PG_WRITE_LOCK = 0x706F7374636C69


def _make_pg_engine(url: str) -> Engine:
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url

    connect_args = {}
    if "options" not in make_url(url).query:
        # Stored times are naive UTC; a session in UTC keeps any server-side time maths honest
        # whatever the server's own TimeZone is.
        connect_args["options"] = "-c timezone=UTC"
    from sqlalchemy.exc import NoSuchModuleError

    try:
        engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    except NoSuchModuleError:
        raise InvalidInput(
            f"{safe_url(url)} names a PostgreSQL driver SQLAlchemy does not know.",
            hint="Use postgresql+psycopg://user:password@host:port/dbname (psycopg 3).",
        ) from None
    except ModuleNotFoundError:
        raise StoreError(
            "PostgreSQL support needs the psycopg driver, which is not installed.",
            hint="pip install 'postcli[postgres]'  (or: pip install 'psycopg[binary]')",
        ) from None
    event.listen(engine, "begin", _begin_pg)
    return engine


def _begin_pg(conn: Any) -> None:
    """PostgreSQL's BEGIN IMMEDIATE: wait (up to 30 s, like SQLite's busy_timeout) for the write lock.

    READ COMMITTED alone lets two processes both read a post as `scheduled` and both
    claim it; with the lock the second one reads after the first committed.
    """
    options = conn.get_execution_options()
    if not options.get("postcli_immediate") or not options.get("postcli_pg_lock", True):
        return
    from sqlalchemy.exc import OperationalError

    try:
        conn.exec_driver_sql("SET LOCAL lock_timeout = '30s'")
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK})")
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available
            raise StoreError(
                "the database is busy (another postcli has been writing to it for 30 s).",
                hint="Try again in a moment.",
            ) from None
        raise


def current_revision(engine: Engine) -> str | None:
    """The store's schema revision (driver.read_revision, the one reading of it)."""
    from postcli.store.driver import read_revision

    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        return read_revision(raw, engine.dialect.name, lambda: safe_url(str(engine.url)))


def upgrade(engine: Engine, progress: Callable[[int, int], None] | None = None) -> None:
    from postcli.store.migrate import run_upgrade

    run_upgrade(engine, progress=progress)


def engine(url: str | None = None, *, migrate: bool = True) -> Engine:
    from sqlalchemy.exc import DBAPIError

    url = normalize_url(url or settings.database_url())
    with _lock:
        eng = _engines.get(url)
        if eng is None:
            eng = make_engine(url)
            if migrate:
                try:
                    rev = current_revision(eng)
                except DBAPIError as exc:  # unreachable server, unknown database, refused login
                    eng.dispose()
                    raise open_error(url, exc) from None
                if not check_revision(rev):
                    if eng.dialect.name == "sqlite" and sqlite_read_only(Path(eng.url.database or "")):
                        eng.dispose()
                        raise StoreError(
                            f"the store {eng.url.database} needs a schema upgrade, but this user cannot write it.",
                            hint="Run `postcli db upgrade` as a user who can write it, or make it writable.",
                        )
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
def session_scope(
    url: str | None = None, *, immediate: bool = True, readonly: bool = False, pg_lock: bool = True
) -> Iterator[Session]:
    """One transaction: committed on success, rolled back on any error.

    On SQLite a transaction that reads and then writes must take the write lock
    at BEGIN (IMMEDIATE): a deferred one that finds its snapshot stale when it
    first writes fails at once with SQLITE_BUSY, busy_timeout or not. So every
    scope is IMMEDIATE unless it says it only reads (`readonly=True`).

    PostgreSQL gets the same one-writer-at-a-time rule from an advisory lock, so code
    written against SQLite's semantics stays correct. A scope that guards itself with
    row locks (SELECT ... FOR UPDATE [SKIP LOCKED]) may pass `pg_lock=False` to run
    beside other writers there; it changes nothing on SQLite.
    """
    factory = session_factory(url)
    session = factory()
    try:
        if immediate and not readonly:
            session.connection(execution_options={"postcli_immediate": True, "postcli_pg_lock": pg_lock})
        yield session
        session.commit()
    except BaseException as exc:
        session.rollback()
        refused = _refused_value(exc)
        if refused is not None:
            raise refused from None
        raise
    finally:
        session.close()


def _refused_value(exc: BaseException) -> InvalidInput | None:
    """A value the database will not store (PostgreSQL enforces VARCHAR lengths and refuses NUL
    characters, where SQLite takes both): one line, not a dump of the statement and its row."""
    from sqlalchemy.exc import DataError

    if not isinstance(exc, DataError):
        return None
    lines = str(exc.orig).strip().splitlines()
    reason = lines[0] if lines else "invalid value"
    return InvalidInput(
        f"the database refused a value, nothing was stored: {reason}.",
        hint="PostgreSQL limits some text fields (e.g. a correlation id or a handle to 255 characters) "
        "and refuses NUL characters.",
    )


def reset() -> None:
    """Forget cached engines (tests switch POSTCLI_HOME between cases)."""
    with _lock:
        for eng in _engines.values():
            eng.dispose()
        _engines.clear()
        _factories.clear()
