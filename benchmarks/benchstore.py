"""Where benchmarks/reports.py keeps its store, SQLite or PostgreSQL: the bulk loader, a
throwaway PostgreSQL server, the steps after a load there (sequences, VACUUM ANALYZE), and
the store's size.

The server is the tests' (tests/pgserver.py: initdb + pg_ctl as the `postgres` OS user in a
temp dir, durability off), restarted with the settings below: the tests' 32 MB of shared
buffers would make a multi-GB store read every page through the kernel, and a bulk load of
10 million rows would checkpoint every few seconds with the default max_wal_size (1 GB). JIT
and the planner keep their stock settings, as a person's server has them.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the PostgreSQL starter lives with the tests

DBNAME = "postcli_bench"
SERVER_SETTINGS = {
    "shared_buffers": "512MB",
    "maintenance_work_mem": "256MB",
    "max_wal_size": "4GB",
}
# The tables whose ids the bulk load writes itself: their sequences must follow.
SERIAL_TABLES = ("accounts", "posts", "post_targets")


ACCOUNT_COLUMNS = ("id", "platform", "handle", "external_id", "api_base_url", "status", "created_at", "settings")
ACCOUNT_SNAPSHOT_COLUMNS = ("account_id", "captured_at", "followers", "following", "raw")
POST_COLUMNS = (
    "id",
    "text",
    "status",
    "timezone",
    "correlation_id",
    "source",
    "created_at",
    "updated_at",
    "published_at",
)
TARGET_COLUMNS = (
    "id",
    "post_id",
    "account_id",
    "platform",
    "status",
    "idempotency_key",
    "platform_post_id",
    "platform_post_url",
    "attempt_count",
    "completed_at",
    "last_metrics_at",
)
METRIC_COLUMNS = ("impressions", "reach", "likes", "comments", "shares", "quotes", "engagement", "follower_count")
SNAPSHOT_COLUMNS = ("target_id", "captured_at", *METRIC_COLUMNS)
LATEST_COLUMNS = ("target_id", "captured_at", *METRIC_COLUMNS)


class Loader:
    """Rows into the store's tables in one transaction: executemany on SQLite, COPY on
    PostgreSQL (where executemany would take an hour at 10x)."""

    def __init__(self) -> None:
        from postcli.store.session import engine

        eng = engine()
        self.pg = eng.dialect.name == "postgresql"
        self.raw = eng.raw_connection()
        self.cur = self.raw.cursor()
        if not self.pg:
            self.cur.execute("BEGIN")  # psycopg opens its transaction itself

    def ts(self, dt: datetime) -> str | datetime:
        """A time as the store keeps it: SQLAlchemy's text on SQLite, naive UTC on PostgreSQL."""
        return dt.replace(tzinfo=None) if self.pg else dt.strftime("%Y-%m-%d %H:%M:%S.%f")

    def insert(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        names = ", ".join(columns)
        if self.pg:
            with self.raw.driver_connection.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            self.cur.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})", rows)

    def commit(self) -> None:
        if self.pg:
            self.raw.commit()
        else:
            self.cur.execute("COMMIT")
        self.raw.close()


def start(keep: bool = False) -> Any:
    """A throwaway server holding an empty database DBNAME (tests/pgserver.py's PgServer).

    With `keep` the server outlives this process: its dir loses the owner's pid, so the
    tests' sweep of orphaned servers leaves it alone."""
    from pgserver import _start, find_bindir

    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("--pg needs PostgreSQL's initdb and pg_ctl (on PATH or in /usr/lib/postgresql/*/bin)")
    srv = _start(bindir)
    try:
        with (srv.datadir / "postgresql.auto.conf").open("a") as fh:
            fh.writelines(f"{k} = '{v}'\n" for k, v in SERVER_SETTINGS.items())
        done = srv.run("pg_ctl", "restart", "-D", str(srv.datadir), "-l", str(srv.root / "server.log"), "-w")
        if done.returncode != 0:
            raise SystemExit(f"PostgreSQL did not restart:\n{done.stdout}\n{done.stderr}\n{srv.log()}")
        with srv.admin() as conn:
            conn.execute(f'CREATE DATABASE "{DBNAME}"')
    except BaseException:
        srv.stop()
        raise
    if keep:
        (srv.root / "owner.pid").unlink()
    return srv


def stop_command(srv: Any) -> str:
    runas = " ".join(srv.runas)
    return f"{runas} {srv.bindir / 'pg_ctl'} stop -D {srv.datadir} -m fast && rm -rf {srv.root}".strip()


def _connect(url: str, **kwargs: Any) -> Any:
    import psycopg

    try:
        return psycopg.connect("postgresql://" + url.split("://", 1)[1], **kwargs)
    except psycopg.OperationalError as exc:
        raise SystemExit(f"cannot open {url}: {str(exc).strip().splitlines()[0]}") from None


def holds_store(url: str) -> bool:
    """Whether the database already holds posts (then the benchmark reuses it)."""
    with _connect(url) as conn:
        if conn.execute("SELECT to_regclass('posts')").fetchone()[0] is None:
            return False
        return conn.execute("SELECT EXISTS (SELECT 1 FROM posts)").fetchone()[0]


def after_load(url: str | None, home: Path) -> None:
    """PostgreSQL: the sequences past the ids the load wrote (so postcli can write to the store
    after it), then VACUUM ANALYZE: planner statistics, and the visibility map index-only scans
    need. SQLite: VACUUM, as PostgreSQL's leaves no dead rows either: the rollup rebuild rewrites
    whole tables, and the free pages it leaves (about a tenth of the file) would count in the
    bytes per snapshot of a store that only ever grew."""
    if url is None:
        import sqlite3

        conn = sqlite3.connect(home / "postcli.db", isolation_level=None)
        conn.execute("VACUUM")
        conn.close()
        return
    with _connect(url, autocommit=True) as conn:
        for table in SERIAL_TABLES:
            seq = conn.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table,)).fetchone()[0]
            if seq is not None:
                conn.execute(f"SELECT setval(%s, coalesce((SELECT max(id) FROM {table}), 0) + 1, false)", (seq,))
        conn.execute("VACUUM ANALYZE")


def size(home: Path, url: str | None) -> int:
    """The store's bytes, everything included (tables, indexes, rollups, raw payloads), printed
    with what they are."""
    if url:
        with _connect(url) as conn:
            tables = conn.execute(
                "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() ORDER BY 2 DESC"
            ).fetchall()
        total = sum(n for _, n in tables)
        print(f"database size {total / 1e6:.0f} MB (pg_total_relation_size of its tables: with indexes and TOAST)")
        print("  " + ", ".join(f"{name} {n / 1e6:.0f} MB" for name, n in tables if n >= 1e6))
        return total
    import sqlite3

    # The write-ahead log back into the file first (as the last connection's close would do).
    conn = sqlite3.connect(home / "postcli.db")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    # Whatever WAL is left counts too.
    total = sum(p.stat().st_size for p in home.glob("postcli.db*"))
    print(f"database size {total / 1e6:.0f} MB")
    return total


def server_version(url: str) -> str:
    with _connect(url) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]
