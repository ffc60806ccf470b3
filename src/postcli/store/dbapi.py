"""The read path of the reports: one set of SQL on the DB-API drivers (sqlite3, psycopg).

Importing SQLAlchemy (engine, compiler, ORM, models) costs ~0.5 s, more than
`postcli --help` takes in all; a report on a store at the current schema needs
none of it. Reports are written once, in plain SQL with `:name` parameters, and
this module is the whole dialect layer:

- connecting: sqlite3 for sqlite URLs, psycopg for postgresql ones (the session
  module, and with it SQLAlchemy and Alembic, only when the store must be created
  or migrated first);
- parameters: `:name` as is for sqlite3, `%(name)s` for psycopg;
- datetimes: the store keeps naive UTC (SQLite as SQLAlchemy's text form), read
  back aware UTC;
- the few expressions that differ (`epoch_bucket`, `days_table`).

`reader(session)` wraps the connection of an open ORM session in the same
interface, so callers that hold a session run the very same SQL.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator, Sequence

from postcli import settings

_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_SQLITE_TS = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's DateTime in SQLite: sorts as text


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
        if isinstance(v, datetime):
            if v.tzinfo is None:
                raise ValueError("naive datetime given to the store; use an aware one")
            v = v.astimezone(timezone.utc).replace(tzinfo=None)
            return v.strftime(_SQLITE_TS) if self.dialect == "sqlite" else v
        return v

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        cur = self.conn.cursor()
        try:
            cur.execute(self._sql(sql), {k: self._param(v) for k, v in params.items()})
            return list(cur.fetchall())
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
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=timezone.utc)

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
        if store_session.sqlite_read_only(path):  # reading works on a store this user cannot write
            conn = store_session._connect_read_only(path)
        else:
            conn = sqlite3.connect(str(path), timeout=30)
            conn.execute("PRAGMA busy_timeout=30000")
        rev = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        if migrate:
            raise
        return None
    try:
        current = store_session.check_revision(rev[0] if rev else None)
    except BaseException:
        conn.close()
        raise
    if not current:
        conn.close()
        return None
    conn.execute("BEGIN")  # one snapshot for all of a report's statements
    return Reader(conn, "sqlite")


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
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('alembic_version') IS NOT NULL")
            rev = None
            if (cur.fetchone() or (False,))[0]:
                cur.execute("SELECT version_num FROM alembic_version")
                row = cur.fetchone()
                rev = row[0] if row else None
        if not store_session.check_revision(rev):
            conn.close()
            return None
    except BaseException:
        conn.close()
        raise
    return Reader(conn, "postgresql")
