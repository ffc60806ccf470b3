"""One write path, one read path, and what they share written once (issue 21, item 6): the stored
time format (store/driver.py) is what the ORM stores, what the read path (store/dbapi.py) passes
and what store/bulk.py writes, to the character; the schema revision is read and judged in one
place, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from postcli.errors import StoreError
from postcli.store import dbapi, driver
from postcli.store.models import Account
from postcli.store.session import session_scope

UTC = timezone.utc
INSTANTS = [
    datetime(2024, 3, 1, 12, 30, tzinfo=UTC),
    datetime(2024, 3, 1, 12, 30, 0, 1, tzinfo=UTC),
    datetime(2024, 10, 27, 1, 30, tzinfo=timezone(timedelta(hours=2))),  # not UTC: converted
    datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC),  # a year before 1000: %Y would not pad it
]


def test_the_orm_the_read_path_and_bulk_store_a_time_alike(home):
    with session_scope() as s:
        for i, when in enumerate(INSTANTS):
            s.add(Account(platform="mastodon", handle=f"a{i}", external_id=str(i), api_base_url="x", created_at=when))
    raw = [r[0] for r in sqlite3.connect(home / "postcli.db").execute("select created_at from accounts order by id")]
    assert raw == [driver.to_stored(w, "sqlite") for w in INSTANTS]
    assert raw == [dbapi.Reader(None, "sqlite")._param(w) for w in INSTANTS]
    from postcli.store.bulk import Bulk

    with session_scope() as s:
        assert raw == [Bulk(s).dt(w) for w in INSTANTS]
    assert [driver.from_stored(r) for r in raw] == INSTANTS
    with session_scope(readonly=True) as s:  # and the ORM reads back what the read path reads
        assert [a.created_at for a in s.query(Account).order_by(Account.id)] == INSTANTS


def test_the_read_path_and_the_engine_judge_the_revision_alike(home, backend):
    with session_scope() as s:
        s.add(Account(platform="mastodon", handle="a", external_id="1", api_base_url="x"))
    with dbapi.open_reader() as db:
        rev = driver.read_revision(db.conn, db.dialect, lambda: "the store")
    assert rev == driver.SCHEMA_HEAD
    with session_scope() as s:
        s.execute(__import__("sqlalchemy").text("update alembic_version set version_num = '9999'"))
    from postcli.store import session as store_session

    store_session.reset()
    with pytest.raises(StoreError, match="newer version of postcli"):
        with dbapi.open_reader():
            pass
    with pytest.raises(StoreError, match="newer version of postcli"):
        store_session.engine()


def test_tables_without_a_revision_are_refused_by_the_read_path_too(home, backend):
    with session_scope() as s:
        s.add(Account(platform="mastodon", handle="a", external_id="1", api_base_url="x"))
        s.execute(__import__("sqlalchemy").text("drop table alembic_version"))
    from postcli.store import session as store_session

    store_session.reset()
    with pytest.raises(StoreError, match="no schema version"):
        with dbapi.open_reader():
            pass
