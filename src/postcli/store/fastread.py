"""A read path for `post list` that does not import SQLAlchemy.

Importing SQLAlchemy's ORM costs ~0.45 s, more than half of `post list`'s
0.7 s budget. When the store is a SQLite file already at the current schema,
the listing is read with the stdlib sqlite3 module instead. Anything else
(PostgreSQL, a store that needs migrating) returns None and the ORM path runs.
tests/test_fastread.py pins the output to the ORM path's, field for field.
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
    path = Path(url[len("sqlite:///"):])
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


def _dt(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)


_SORT_COLUMNS = {"created": "created_at", "published": "published_at", "scheduled": "scheduled_at"}


def check_list_args(*, page: int, limit: int, sort: str, order: str) -> None:
    """The listing's argument rules, shared by this path and the ORM path."""
    from postcli.errors import InvalidInput

    if sort not in _SORT_COLUMNS:
        raise InvalidInput(f"--sort {sort!r} is not one of: {', '.join(_SORT_COLUMNS)}.")
    if order not in ("asc", "desc"):
        raise InvalidInput(f"--order {order!r} is not asc or desc.")
    if page < 1 or limit < 1:
        raise InvalidInput("--page and --limit must be 1 or more.")


def list_posts(*, status: str | None, platform: str | None, page: int, limit: int, sort: str,
               order: str) -> tuple[list[dict[str, Any]], int] | None:
    """The same page as services.publishing.list_posts, as post_dict()s; None = use the ORM."""
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
        col = _SORT_COLUMNS[sort]
        direction = "DESC" if order == "desc" else "ASC"
        rows = conn.execute(
            f"SELECT * FROM posts p {clause} ORDER BY p.{col} IS NULL, p.{col} {direction}, p.id {direction} "
            "LIMIT ? OFFSET ?",
            [*args, limit, (page - 1) * limit],
        ).fetchall()
        ids = [r["id"] for r in rows]
        marks = ",".join("?" * len(ids))
        targets: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        media: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        if ids:
            for t in conn.execute(
                f"SELECT t.*, a.handle FROM post_targets t LEFT JOIN accounts a ON a.id = t.account_id "
                f"WHERE t.post_id IN ({marks}) ORDER BY t.id",
                ids,
            ):
                targets[t["post_id"]].append(
                    {
                        "id": t["id"],
                        "account_id": t["account_id"],
                        "platform": t["platform"],
                        "handle": t["handle"],
                        "status": t["status"],
                        "text_override": t["text_override"],
                        "platform_post_id": t["platform_post_id"],
                        "url": t["platform_post_url"],
                        "error": t["error"],
                        "attempt_count": t["attempt_count"],
                        "last_attempt_at": _dt(t["last_attempt_at"]),
                        "completed_at": _dt(t["completed_at"]),
                    }
                )
            for m in conn.execute(f"SELECT * FROM post_media WHERE post_id IN ({marks}) ORDER BY position", ids):
                media[m["post_id"]].append(
                    {
                        "position": m["position"],
                        "mime_type": m["mime_type"],
                        "original_filename": m["original_filename"],
                        "size_bytes": m["size_bytes"],
                        "width": m["width"],
                        "height": m["height"],
                        "duration_s": m["duration_s"],
                        "alt_text": m["alt_text"],
                        "sha256": m["sha256"],
                        "storage": m["storage"],
                        "override_for": m["override_for"],
                    }
                )
        posts = [
            {
                "id": r["id"],
                "status": r["status"],
                "text": r["text"],
                "scheduled_at": _dt(r["scheduled_at"]),
                "timezone": r["timezone"],
                "correlation_id": r["correlation_id"],
                "source": r["source"],
                "created_at": _dt(r["created_at"]),
                "updated_at": _dt(r["updated_at"]),
                "published_at": _dt(r["published_at"]),
                "error": r["last_error"],
                "targets": targets[r["id"]],
                "media": media[r["id"]],
            }
            for r in rows
        ]
        return posts, total
    finally:
        conn.close()
