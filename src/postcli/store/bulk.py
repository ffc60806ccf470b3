"""Bulk statements straight through the database driver, for `collect`'s hot path.

SQLAlchemy spends tens of microseconds per row of an executemany turning every
parameter into its driver form (construct_params, a type processor per value).
For the thousands of rows one `collect` writes that was most of its CPU, and the
collector is CPU-bound. Here statements are plain SQL that SQLite (3.32+) and
PostgreSQL both accept (the same ON CONFLICT syntax), run through
the session's own connection and transaction, and values are put in driver form
by store/driver.py's to_stored (times) and the dialect's JSON bind processor: what is
stored is exactly what the ORM would store (tests/test_bulk.py compares the two,
column by column). Bulk is not a way of its own into the store: it runs on the
ORM session's connection, inside its transaction (the one write path).

Write SQL with `?` placeholders; they become `%s` for psycopg. No `%` or `?`
may appear in the SQL otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from postcli.store.driver import to_stored

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# Bound parameters per statement: SQLite's limit is 32766 (3.32+), PostgreSQL's 65535.
_MAX_PARAMS = 30000


def supported(session: Session) -> bool:
    """Whether this store takes the bulk path: PostgreSQL, or SQLite 3.32+ (_MAX_PARAMS bound
    parameters per statement; before 3.32 the limit was 999)."""
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        return True
    import sqlite3

    return dialect.name == "sqlite" and sqlite3.sqlite_version_info >= (3, 32)


class Bulk:
    """Driver-level statements inside `session`'s transaction."""

    def __init__(self, session: Session) -> None:
        from sqlalchemy import JSON

        self.conn = session.connection()
        dialect = self.conn.dialect
        self.dialect = dialect.name
        self.postgres = dialect.name == "postgresql"
        self._pyformat = dialect.paramstyle != "qmark"
        self._json_proc = JSON().dialect_impl(dialect).bind_processor(dialect)
        self._dt_cache: dict[datetime, Any] = {}

    def dt(self, value: datetime | None) -> Any:
        """A tz-aware datetime in driver form (store/driver.py: as UTCDateTime stores it)."""
        if value is None:
            return None
        out = self._dt_cache.get(value)
        if out is None:
            out = self._dt_cache[value] = to_stored(value, self.dialect)
        return out

    def json(self, value: Any) -> Any:
        """A JSON column's value in driver form; None stays SQL NULL."""
        if value is None:
            return None
        return self._json_proc(value) if self._json_proc else value

    @staticmethod
    def from_json(value: Any) -> Any:
        """A JSON column as the driver returned it (text on SQLite, decoded on PostgreSQL)."""
        return json.loads(value) if isinstance(value, (str, bytes)) else value

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self._pyformat else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One statement; the rows it returns (if any) as tuples, values in driver form."""
        result = self.conn.exec_driver_sql(self._sql(sql), tuple(params))
        return [tuple(r) for r in result] if result.returns_rows else []

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = [tuple(r) for r in rows]
        if rows:
            self.conn.exec_driver_sql(self._sql(sql), rows)

    def select_ids(
        self, sql: str, params: Sequence[Any], ids: Sequence[int], suffix: str = ""
    ) -> list[tuple[Any, ...]]:
        """`sql` ending in "... IN", run for `ids` (a chunk at a time) after `params`."""
        out: list[tuple[Any, ...]] = []
        for start in range(0, len(ids), _MAX_PARAMS):
            chunk = ids[start : start + _MAX_PARAMS]
            out.extend(self.execute(f"{sql} {in_list(len(chunk))}{suffix}", (*params, *chunk)))
        return out

    def update_ids(self, sql: str, params: Sequence[Any], ids: Sequence[int]) -> None:
        """`sql` ending in "... WHERE id IN", run for `ids` (a chunk at a time) after `params`."""
        for start in range(0, len(ids), _MAX_PARAMS):
            chunk = ids[start : start + _MAX_PARAMS]
            self.conn.exec_driver_sql(self._sql(f"{sql} {in_list(len(chunk))}"), (*params, *chunk))

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Multi-row INSERTs of `rows` (tuples in `columns` order)."""
        width = len(columns)
        per = max(1, _MAX_PARAMS // width)
        one = "(" + ", ".join("?" * width) + ")"
        for start in range(0, len(rows), per):
            chunk = rows[start : start + per]
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([one] * len(chunk))}"
            self.execute(sql, [v for row in chunk for v in row])


def in_list(n: int) -> str:
    """`(?, ?, ...)` for an IN of n values."""
    return "(" + ", ".join("?" * n) + ")"
