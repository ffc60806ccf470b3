"""A read path for `post list` that does not import SQLAlchemy.

Importing SQLAlchemy's ORM costs ~0.45 s, more than half of `post list`'s
0.7 s budget. When the store is a SQLite file already at the current schema,
the listing is read with the stdlib sqlite3 module instead. Anything else
(PostgreSQL, a store that needs migrating) returns None and the ORM path runs.
It returns plain rows; services/posts/views.py maps them, as it maps the ORM's,
and tests/test_fastread.py pins the two pages equal, field for field.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from postcli import settings
from postcli.store.session import SCHEMA_HEAD


def _connect() -> sqlite3.Connection | None:
    url = settings.database_url()
    if not url.startswith("sqlite:///"):
        return None
    path = Path(url[len("sqlite:///") :])
    if not path.is_file():
        return None
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        conn.close()
        return None
    if not row or row[0] != SCHEMA_HEAD:
        conn.close()
        return None
    conn.row_factory = sqlite3.Row
    return conn


def _values(row: sqlite3.Row) -> dict[str, Any]:
    """A row's plain values, as the ORM reads them: every `*_at` column is an aware UTC datetime."""
    return {k: _dt(row[k]) if k.endswith("_at") else row[k] for k in row.keys()}


def _dt(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)


_SORT_COLUMNS = ("created_at", "published_at", "scheduled_at")
Row = dict[str, Any]


def list_posts(
    *, status: str | None, platform: str | None, page: int, limit: int, sort_column: str, order: str
) -> tuple[list[tuple[Row, list[Row], list[Row]]], int] | None:
    """The same page as services.posts.queries.orm_page, as plain rows: (post, its targets (each
    with its account's handle), its media) per post, and the total. None = use the ORM."""
    if sort_column not in _SORT_COLUMNS or order not in ("asc", "desc"):
        raise ValueError(f"cannot sort by {sort_column} {order}")
    conn = _connect()
    if conn is None:
        return None
    try:
        where, args = [], []
        if status:
            where.append("p.status = ?")
            args.append(status)
        if platform:
            where.append("p.id IN (SELECT post_id FROM post_targets WHERE platform = ?)")
            args.append(platform)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        total = conn.execute(f"SELECT count(*) FROM posts p {clause}", args).fetchone()[0]
        col = sort_column
        direction = "DESC" if order == "desc" else "ASC"
        rows = conn.execute(
            f"SELECT * FROM posts p {clause} ORDER BY p.{col} IS NULL, p.{col} {direction}, p.id {direction} "
            "LIMIT ? OFFSET ?",
            [*args, limit, (page - 1) * limit],
        ).fetchall()
        ids = [r["id"] for r in rows]
        marks = ",".join("?" * len(ids))
        targets: dict[int, list[Row]] = {i: [] for i in ids}
        media: dict[int, list[Row]] = {i: [] for i in ids}
        if ids:
            for t in conn.execute(
                f"SELECT t.*, a.handle FROM post_targets t LEFT JOIN accounts a ON a.id = t.account_id "
                f"WHERE t.post_id IN ({marks}) ORDER BY t.id",
                ids,
            ):
                targets[t["post_id"]].append(_values(t))
            for m in conn.execute(f"SELECT * FROM post_media WHERE post_id IN ({marks}) ORDER BY position", ids):
                media[m["post_id"]].append(_values(m))
        return [(_values(r), targets[r["id"]], media[r["id"]]) for r in rows], total
    finally:
        conn.close()
