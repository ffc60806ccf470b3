"""The read path of the reports: one set of SQL on the DB-API drivers (sqlite3, psycopg).

Importing SQLAlchemy (engine, compiler, ORM, models) costs ~0.5 s, more than
`postcli --help` takes in all; a report on a store at the current schema needs
none of it. Reports are written once, in plain SQL with `:name` parameters, and
this module is the whole dialect layer:

- connecting: sqlite3 for sqlite URLs, psycopg for postgresql ones (the session
  module, and with it SQLAlchemy and Alembic, only when the store must be created
  or migrated first);
- parameters: `:name` as is for sqlite3, `%(name)s` for psycopg;
- datetimes: the store keeps naive UTC (SQLite as text), read back aware UTC, in
  the one format store/driver.py defines for the ORM too;
- the few expressions that differ (`epoch_bucket`, `days_table`).

`reader(session)` wraps the connection of an open ORM session in the same
interface, so callers that hold a session run the very same SQL. This is the one
read path: the reports, the dashboard, `analytics post` and `post list` read here.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Iterator, Sequence

from postcli import settings
from postcli.store import driver

_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class Reader:
    """A DB-API connection plus its dialect: `rows(sql, **params)`, `one(...)`, `dt(value)`."""

    def __init__(self, conn: Any, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect  # "sqlite" or "postgresql"
        self._sql_cache: dict[str, str] = {}

    # --- statements -------------------------------------------------------------

    def _sql(self, sql: str) -> str:
        if self.dialect == "sqlite":
            return sql
        out = self._sql_cache.get(sql)
        if out is None:
            out = self._sql_cache[sql] = _PARAM.sub(r"%(\1)s", sql.replace("%", "%%"))
        return out

    def _param(self, v: Any) -> Any:
        return driver.to_stored(v, self.dialect) if isinstance(v, datetime) else v

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        cur = self.conn.cursor()
        try:
            cur.execute(self._sql(sql), {k: self._param(v) for k, v in params.items()})
            return list(cur.fetchall())
        finally:
            cur.close()

    def dicts(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        """The rows as {column: value}, values as the driver returns them."""
        cur = self.conn.cursor()
        try:
            cur.execute(self._sql(sql), {k: self._param(v) for k, v in params.items()})
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]
        finally:
            cur.close()

    def one(self, sql: str, **params: Any) -> tuple[Any, ...] | None:
        found = self.rows(sql, **params)
        return found[0] if found else None

    def scalar(self, sql: str, **params: Any) -> Any:
        row = self.one(sql, **params)
        return None if row is None else row[0]

    # --- values -----------------------------------------------------------------

    @staticmethod
    def dt(value: Any) -> datetime | None:
        """A stored datetime (text on SQLite, naive on PostgreSQL) as aware UTC."""
        return driver.from_stored(value)

    # --- the expressions that differ --------------------------------------------

    def epoch_bucket(self, expr: str, seconds: int) -> str:
        """floor(unix time / seconds) of a stored UTC datetime, as an integer."""
        if self.dialect == "sqlite":
            return f"(CAST(strftime('%s', {expr}) AS INTEGER) / {int(seconds)})"
        return f"CAST(floor(extract(epoch FROM {expr}) / {int(seconds)}) AS BIGINT)"

    def days_table(self, name: str, bounds: Sequence[tuple[str, datetime, datetime]]) -> tuple[str, dict[str, Any]]:
        """A FROM item `name(day, lo, hi)` holding the given rows, as one or three parameters
        whatever their number (a VALUES list would pass the drivers' parameter limits)."""
        if self.dialect == "sqlite":
            import json  # here: most reports never build a days table

            data = json.dumps([(d, self._param(lo), self._param(hi)) for d, lo, hi in bounds])
            sql = (
                f"(SELECT json_extract(value, '$[0]') AS day, json_extract(value, '$[1]') AS lo, "
                f"json_extract(value, '$[2]') AS hi FROM json_each(:{name}_json)) AS {name}"
            )
            return sql, {f"{name}_json": data}
        sql = f"unnest(:{name}_d::text[], :{name}_lo::timestamp[], :{name}_hi::timestamp[]) AS {name}(day, lo, hi)"
        return sql, {
            f"{name}_d": [b[0] for b in bounds],
            f"{name}_lo": [self._param(b[1]) for b in bounds],
            f"{name}_hi": [self._param(b[2]) for b in bounds],
        }


def in_list(name: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """`(:name_0, :name_1, ...)` and its parameters (a list of NULL when empty: matches nothing)."""
    if not values:
        return "(NULL)", {}
    params = {f"{name}_{i}": v for i, v in enumerate(values)}
    return "(" + ", ".join(f":{k}" for k in params) + ")", params


def reader(session: Any) -> Reader:
    """The same interface over an open ORM session's connection (inside its transaction)."""
    if isinstance(session, Reader):
        return session
    dialect = session.get_bind().dialect.name
    raw = session.connection().connection.dbapi_connection
    return Reader(raw, "postgresql" if dialect == "postgresql" else "sqlite")


@contextmanager
def open_reader(url: str | None = None) -> Iterator[Reader]:
    """A read-only transaction on the store, without SQLAlchemy when the store is current.

    A missing, new or outdated store is created/migrated through store.session first,
    exactly as any other command would; then read here like any other.
    """
    from postcli.store import session as store_session

    url = store_session.normalize_url(url or settings.database_url())
    if url.startswith("sqlite:///") and url[len("sqlite:///") :] not in ("", ":memory:"):
        rd = _sqlite(url) or _sqlite(url, migrate=True)
    elif url.startswith("postgresql+psycopg://"):
        rd = _postgres(url) or _postgres(url, migrate=True)
    else:  # any other URL SQLAlchemy accepts: its connection, the same SQL
        rd = None
    if rd is None:
        with store_session.session_scope(url, readonly=True) as s:
            yield reader(s)
        return
    try:
        yield rd
    finally:
        try:
            rd.conn.rollback()
        finally:
            rd.conn.close()


@contextmanager
def open_existing_reader(url: str | None = None) -> Iterator[Reader | None]:
    """The store as it is, or None where reading it would first create or migrate it (or it is
    not SQLite or PostgreSQL): for hints that must never change anything, such as shell completion."""
    from postcli.store import session as store_session

    url = store_session.normalize_url(url or settings.database_url())
    rd = None
    if url.startswith("sqlite:///") and url[len("sqlite:///") :] not in ("", ":memory:"):
        rd = _sqlite(url)
    elif url.startswith("postgresql+psycopg://"):
        rd = _postgres(url)
    try:
        yield rd
    finally:
        if rd is not None:
            try:
                rd.conn.rollback()
            finally:
                rd.conn.close()


def _sqlite(url: str, *, migrate: bool = False) -> Reader | None:
    import sqlite3
    from pathlib import Path

    from postcli.store import session as store_session

    if migrate:
        store_session.engine(url)  # creates or upgrades the file, or says why it cannot
    path = Path(url[len("sqlite:///") :])
    if not path.is_file():
        return None
    try:
        conn = driver.connect_sqlite(path)  # read-only when this user cannot write the store
    except sqlite3.Error:
        if migrate:
            raise
        return None
    return _current(Reader(conn, "sqlite"), url, migrate)


def _current(rd: Reader, url: str, migrate: bool) -> Reader | None:
    """`rd` in a transaction (one snapshot for all of a report's statements) when its store is at
    this postcli's schema; None (closed) when it must be created or migrated first."""
    from postcli.store import session as store_session

    try:
        current = driver.check_revision(driver.read_revision(rd.conn, rd.dialect, lambda: store_session.safe_url(url)))
    except Exception as exc:
        rd.conn.close()
        if migrate or not _driver_error(exc):
            raise
        return None
    if not current:
        rd.conn.close()
        return None
    if rd.dialect == "sqlite":
        rd.conn.execute("BEGIN")
    return rd


def _driver_error(exc: BaseException) -> bool:
    """A database error from sqlite3 or psycopg (not postcli's own StoreError)."""
    return type(exc).__module__.split(".")[0] in ("sqlite3", "psycopg")


def _postgres(url: str, *, migrate: bool = False) -> Reader | None:
    from postcli.store import session as store_session

    try:
        import psycopg
    except ModuleNotFoundError:
        return None  # the session path says how to install it
    if migrate:
        store_session.engine(url)
    conninfo = "postgresql://" + url[len("postgresql+psycopg://") :]
    kwargs: dict[str, Any] = {} if "options=" in conninfo else {"options": "-c timezone=UTC"}
    try:
        conn = psycopg.connect(conninfo, **kwargs)
    except psycopg.Error as exc:
        raise store_session.open_error(url, exc) from None
    rd = _current(Reader(conn, "postgresql"), url, migrate)
    if rd is not None:
        # A report's queries read a few hundred rows each: starting parallel workers costs ~20 ms
        # a query (measured at 10M snapshots), more than the query itself.
        rd.conn.execute("SET max_parallel_workers_per_gather = 0")
    return rd
