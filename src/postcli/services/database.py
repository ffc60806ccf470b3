"""The store itself: status, upgrade, consistent backups, and copies to another database."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from postcli import settings
from postcli.errors import InvalidInput, PostcliError
from postcli.store import session as store

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.sql.schema import Table


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


@contextmanager
def _configured_store() -> Iterator[tuple[str, Any, str | None]]:
    """(url, engine, schema revision) of the configured store; a clear error when it cannot be opened."""
    from sqlalchemy.exc import DBAPIError

    url = store.normalize_url(settings.database_url())
    eng = store.make_engine(url)
    try:
        try:
            rev = store.current_revision(eng)
        except DBAPIError as exc:
            raise store.open_error(url, exc) from None
        yield url, eng, rev
    finally:
        eng.dispose()


def status() -> Status:
    from sqlalchemy import func, inspect, select, table

    with _configured_store() as (url, eng, rev):
        store.check_revision(rev)
        counts: dict[str, int] = {}
        if rev is not None:
            names = set(inspect(eng).get_table_names())
            with eng.connect() as conn:
                for name in (
                    "accounts",
                    "posts",
                    "post_targets",
                    "post_metric_snapshots",
                    "account_metric_snapshots",
                    "jobs",
                ):
                    if name in names:
                        counts[name] = conn.execute(select(func.count()).select_from(table(name))).scalar_one()
        return Status(
            backend=eng.dialect.name,
            url=store.safe_url(url),
            revision=rev,
            head=store.SCHEMA_HEAD,
            up_to_date=rev == store.SCHEMA_HEAD,
            counts=counts,
        )


def upgrade(progress: Callable[[int, int], None] | None = None) -> tuple[str | None, str]:
    """Migrate the configured store; `progress(done, total)` follows a migration that rebuilds
    a table (0010: the per-account hourly gains, from every snapshot)."""
    with _configured_store() as (_url, eng, before):
        if not store.check_revision(before):
            store.upgrade(eng, progress)
        return before, store.current_revision(eng) or ""


def backup(dest: str | Path, *, overwrite: bool = False) -> Path | None:
    """A consistent copy while other processes may be writing (SQLite's online backup), written by
    outfile.py like every file a user asks for (`-`: standard output). The path written, or None."""
    import sqlite3

    from postcli import outfile

    url = settings.database_url()
    if not url.startswith("sqlite"):
        raise InvalidInput(
            "db backup copies SQLite stores; for PostgreSQL use pg_dump.",
        )
    target = outfile.target(dest, force=overwrite, binary=True)  # refuses the store itself, and its -wal
    store.engine(url)  # creates/migrates the store first so there is something to copy
    src_path = url.split("///", 1)[1]

    def copy(tmp: Path) -> None:
        src = sqlite3.connect(src_path, timeout=30)
        out = sqlite3.connect(tmp)
        try:
            with out:
                src.backup(out)
            out.execute("PRAGMA journal_mode=DELETE")
        finally:
            out.close()
            src.close()

    try:
        # The copy holds the same posts as the store: private (0600) from its first byte.
        return target.fill(copy, private=True)
    except sqlite3.Error as exc:
        full = outfile.space_problem(target.path or Path(src_path))
        if full or getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL":
            raise PostcliError(
                f"backup failed: {full or 'the disk is full'}; nothing was written.",
                hint=outfile.room_hint(full or ""),
            ) from None
        raise PostcliError(f"backup failed: {exc}; nothing was written.") from None


# --- db copy ---------------------------------------------------------------------

SECRETS_NOTE = (
    "Account secrets are not in the database: they stay in the credentials store, keyed by "
    "account id, and the ids were kept, so they still match."
)


@dataclass
class TableCopy:
    table: str
    source: int
    target: int


@dataclass
class CopyResult:
    source: str  # URLs with passwords masked
    target: str
    backend: str
    revision: str
    tables: list[TableCopy] = field(default_factory=list)
    sequences_reset: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(t.target for t in self.tables)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "backend": self.backend,
            "revision": self.revision,
            "rows": self.rows,
            "tables": [vars(t).copy() for t in self.tables],
            "sequences_reset": self.sequences_reset,
            "secrets": SECRETS_NOTE,
        }


Progress = Callable[[str, int, int], None]  # (table, rows copied so far, rows in all)


def copy_to(target_url: str, *, batch_size: int = 1000, progress: Progress | None = None) -> CopyResult:
    """Copy the current store into an empty database (PostgreSQL or SQLite), ids kept.

    Everything on the target, the schema included, happens in one transaction holding
    the target's write lock: a failure anywhere leaves it as it was. The source is read
    in one transaction too, so the copy is a consistent snapshot even while other
    postcli processes write to it.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, DBAPIError, StatementError

    src_url = store.normalize_url(settings.database_url())
    dst_url = store.normalize_url(target_url.strip())
    try:
        backend = make_url(dst_url).get_backend_name() if "://" in dst_url else None
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number ("http://[::1")
        backend = None
    if backend not in ("postgresql", "sqlite"):
        raise InvalidInput(
            f"{store.safe_url(target_url)!r} is not a PostgreSQL or SQLite database URL.",
            hint="e.g. postgresql+psycopg://user:password@localhost:5432/postcli or sqlite:////path/to/copy.db",
        )
    if _same_database(src_url, dst_url):
        raise InvalidInput("the target is the current store itself.", hint="Give the URL of another, empty database.")
    src = store.engine(src_url)  # migrated to the head on first use, like for every command
    dst = store.make_engine(dst_url)
    result = CopyResult(
        source=store.safe_url(src_url), target=store.safe_url(dst_url), backend=dst.dialect.name, revision=""
    )
    try:
        try:
            dconn = dst.connect()
        except DBAPIError as exc:
            raise store.open_error(dst_url, exc) from None
        with src.connect() as sconn, dconn:
            if src.dialect.name == "postgresql":
                sconn = sconn.execution_options(isolation_level="REPEATABLE READ")  # one snapshot
            dconn = dconn.execution_options(postcli_immediate=True)  # the target's write lock
            with sconn.begin(), dconn.begin():
                _refuse_non_empty(dconn)
                from postcli.store.migrate import upgrade_connection

                upgrade_connection(dconn)
                result.revision = _revision(sconn)
                if _revision(dconn) != result.revision:
                    raise PostcliError(
                        f"the target's schema ({_revision(dconn)}) is not the source's ({result.revision})."
                    )
                _copy_tables(sconn, dconn, result, batch_size, progress)
                if dst.dialect.name == "postgresql":
                    result.sequences_reset = _reset_sequences(dconn)
                _verify(dconn, result)
    except _TableFailed as failed:  # a row the target refused
        raise _copy_error(dst_url, failed.exc, failed.table) from None
    except StatementError as exc:  # DBAPIError included: e.g. the migrations on the target
        raise _copy_error(dst_url, exc, None) from None
    finally:
        dst.dispose()
    return result


def _same_database(a: str, b: str) -> bool:
    from sqlalchemy.engine import make_url

    ua, ub = make_url(a), make_url(b)
    if ua.get_backend_name() == ub.get_backend_name() == "sqlite":
        da, db = ua.database, ub.database
        return bool(da and db) and Path(da or "").resolve() == Path(db or "").resolve()
    return ua.set(drivername="x", password=None) == ub.set(drivername="x", password=None)


def _copy_tables_in_order() -> list[Table]:
    from postcli.store.models import Base

    return list(Base.metadata.sorted_tables)  # parents before children: FK order


# Tables the target's own triggers keep: not copied but rebuilt once the rows they follow are
# in (the triggers are dropped for the copy: a trigger per target row queries its post's targets,
# which PostgreSQL plans as scans of the growing table while it has no statistics), then checked.
DERIVED = ("published_counts",)


def _refuse_non_empty(conn: Connection) -> None:
    """Empty = no tables at all, or only postcli's own tables (e.g. a store opened once) without rows."""
    from sqlalchemy import inspect, select

    names = set(inspect(conn).get_table_names())
    ours = {t.name: t for t in _copy_tables_in_order()}
    hint = "Copy into an empty database (e.g. one made with `createdb postcli`)."
    foreign = sorted(names - set(ours) - {"alembic_version"})
    if foreign:
        raise InvalidInput(
            f"the target database is not empty: it has tables postcli did not create ({', '.join(foreign[:5])}).",
            hint=hint,
        )
    if "alembic_version" in names:
        store.check_revision(_revision(conn))  # a newer postcli's store: refuse before touching it
    full = [
        name for name, t in ours.items() if name in names and conn.execute(select(1).select_from(t).limit(1)).first()
    ]
    if full:
        raise InvalidInput(f"the target database is not empty: {', '.join(full)} already hold rows.", hint=hint)


def _revision(conn: Connection) -> str:
    from postcli.store.driver import read_revision

    rev = read_revision(
        conn.connection.dbapi_connection, conn.dialect.name, lambda: store.safe_url(str(conn.engine.url))
    )
    return rev or ""


def _copy_tables(
    sconn: Connection, dconn: Connection, result: CopyResult, batch_size: int, progress: Progress | None
) -> None:
    from sqlalchemy import func, select

    from postcli.store import published_counts

    tables = _copy_tables_in_order()
    counts = {t.name: sconn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables}
    total = sum(n for name, n in counts.items() if name not in DERIVED)
    published_counts.uninstall(dconn)
    done = 0
    if progress:
        progress("", 0, total)
    to_pg = dconn.dialect.name == "postgresql"
    for table in tables:
        if table.name in DERIVED:
            result.tables.append(TableCopy(table.name, counts[table.name], 0))
            continue
        read, write, json_cols = _io_for(table, raw=to_pg)
        rows = sconn.execution_options(stream_results=True).execute(read)
        try:
            if to_pg:
                for n in _pg_copy(dconn, table, rows.partitions(batch_size)):
                    done += n
                    if progress:
                        progress(table.name, done, total)
            else:
                for part in rows.partitions(batch_size):
                    batch = [dict(r._mapping) for r in part]
                    for row in batch:
                        for name in json_cols:
                            row[name] = _json_value(row[name])
                    dconn.execute(write, batch)
                    done += len(batch)
                    if progress:
                        progress(table.name, done, total)
        except Exception as exc:
            raise _TableFailed(table.name, exc) from exc
        result.tables.append(TableCopy(table.name, counts[table.name], 0))
    published_counts.install(dconn)
    published_counts.rebuild(dconn)


class _TableFailed(Exception):
    def __init__(self, table: str, exc: Exception) -> None:
        super().__init__(table)
        self.table = table
        self.exc = exc


def _pg_copy(dconn: Connection, table: Table, batches: Any):
    """COPY ... FROM STDIN into PostgreSQL, on the target's own transaction: 10x an INSERT per row.

    Yields the number of rows written after each batch."""
    raw = dconn.connection.driver_connection
    assert raw is not None, "a live PostgreSQL connection"
    quote = dconn.dialect.identifier_preparer.quote
    cols = ", ".join(quote(c.name) for c in table.c)
    with raw.cursor() as cur, cur.copy(f"COPY {quote(table.name)} ({cols}) FROM STDIN") as copy:
        for part in batches:
            for row in part:
                copy.write_row(tuple(row))
            yield len(part)


def _io_for(table: Table, *, raw: bool = False):
    """(SELECT ordered by primary key, INSERT, JSON column names) for one table.

    JSON columns are read as their text so SQL NULL and JSON null stay apart (the ORM
    writes the first, Core inserts the second) and are written back as what they were.
    `raw` reads every value as the driver gives it (for COPY, which parses text itself):
    SQLite's stored datetime text needs no round trip through Python datetimes.
    """
    from sqlalchemy import JSON, MetaData, Text, cast, select, type_coerce
    from sqlalchemy.types import NullType

    json_cols = [c.name for c in table.c if isinstance(c.type, JSON)]
    cols = [
        cast(c, Text).label(c.name) if c.name in json_cols else type_coerce(c, NullType()).label(c.name) if raw else c
        for c in table.c
    ]
    read = select(*cols).order_by(*table.primary_key.columns)
    target = table.to_metadata(MetaData())
    for name in json_cols:
        target.c[name].type = JSON(none_as_null=True)
    return read, target.insert(), json_cols


def _json_value(text: str | None) -> Any:
    import json

    from sqlalchemy import JSON

    if text is None:
        return None  # SQL NULL
    value = json.loads(text)
    return JSON.NULL if value is None else value


def _reset_sequences(conn: Connection) -> list[str]:
    """Point each serial id's sequence past the copied ids, so the next insert gets a fresh one."""
    from sqlalchemy import text

    reset = []
    for table in _copy_tables_in_order():
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not pk[0].autoincrement or getattr(pk[0].type._type_affinity, "__name__", None) != "Integer":
            continue
        seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": pk[0].name}).scalar()
        if seq is None:
            continue
        col = conn.dialect.identifier_preparer.quote(pk[0].name)
        tbl = conn.dialect.identifier_preparer.quote(table.name)
        conn.execute(
            text(f"SELECT setval(:seq, COALESCE(MAX({col}), 1), MAX({col}) IS NOT NULL) FROM {tbl}"), {"seq": seq}
        )
        reset.append(seq)
    return reset


def _verify(conn: Connection, result: CopyResult) -> None:
    from sqlalchemy import func, select

    from postcli.store import published_counts

    tables = {t.name: t for t in _copy_tables_in_order()}
    wrong = []
    for tc in result.tables:
        tc.target = conn.execute(select(func.count()).select_from(tables[tc.table])).scalar_one()
        if tc.table in DERIVED:
            # What the triggers wrote must be what the copied rows give, whatever the source held.
            if published_counts.differences(conn):
                wrong.append(f"{tc.table} (not what the copied posts and targets give)")
        elif tc.target != tc.source:
            wrong.append(f"{tc.table} ({tc.source} read, {tc.target} written)")
    if wrong:
        raise PostcliError(
            f"the copy does not match the source: {', '.join(wrong)}; nothing was written.",
            hint="Is something else writing to the target? Run db copy again into an empty database.",
        )


def _copy_error(url: str, exc: BaseException, table: str | None) -> PostcliError:
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    reason = (lines[0] if lines else type(exc).__name__).rstrip(".")
    where = f"copying table {table}" if table else "preparing the target"
    return PostcliError(
        f"{where} failed: {reason}. Nothing was written to {store.safe_url(url)}.",
        hint="A value the source accepted does not fit the target (PostgreSQL refuses NUL characters and "
        "strings longer than a column's limit, which SQLite lets through). Fix it in the source, then run "
        "db copy again."
        if table
        else None,
    )
