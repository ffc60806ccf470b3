"""What every table model shares: the declarative Base, its time type and BigInt (models.py
and rollup_tables.py both build on it)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, TypeDecorator
from sqlalchemy.orm import DeclarativeBase

from postcli.store.driver import SQLITE_TIME_FORMAT, naive_utc


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (sortable, and SQLite's date functions read it); read back tz-aware UTC.

    On SQLite the text form is store/driver.py's SQLITE_TIME_FORMAT, the one the read path
    (store/dbapi.py) and store/bulk.py write too."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            from sqlalchemy.dialects.sqlite import DATETIME

            return dialect.type_descriptor(DATETIME(storage_format=SQLITE_TIME_FORMAT))
        return super().load_dialect_impl(dialect)

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else naive_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


# Counters and byte sizes: SQLite's INTEGER is 64-bit, PostgreSQL's 32-bit (a 3 GB video, a
# viral post's views). BIGINT there; the SQLite schema stays INTEGER as it always was.
BigInt = Integer().with_variant(BigInteger(), "postgresql")


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}
