"""`analytics post ID`: one post's latest numbers per target, totals and history.

Read through store/dbapi.py (plain SQL on sqlite3/psycopg, like the reports) so the
command does not load SQLAlchemy; services/post_analytics.py re-exports it for
`analytics refresh`, which shows the same view after writing its snapshot.
"""

from __future__ import annotations

from typing import Any

from postcli import metrics
from postcli.errors import BadState, NotFound
from postcli.metrics import COUNTERS, SNAPSHOT_COLUMNS, TOTALS
from postcli.services.platforms import reports_post_metrics
from postcli.store.dbapi import Reader, in_list, open_reader

UNPUBLISHED = ("draft", "scheduled", "pending", "cancelled")
_SNAP_COLUMNS = ", ".join((*SNAPSHOT_COLUMNS, "captured_at"))


def _row(db: Reader, target: dict[str, Any], snap: tuple[Any, ...] | None) -> dict[str, Any]:
    n = len(COUNTERS)
    values = dict(zip(COUNTERS, snap[:n])) if snap is not None else dict.fromkeys(COUNTERS)
    engagement = snap[n] if snap is not None else None
    follower_count = snap[n + 1] if snap is not None else None
    return {
        "target_id": target["id"],
        "platform": target["platform"],
        "handle": target["handle"],
        "status": target["status"],
        "url": target["url"],
        **values,
        "engagement": engagement,
        "follower_count": follower_count,
        "engagement_rate": metrics.engagement_rate(engagement, follower_count),
        "virality": metrics.virality(values["shares"], engagement),
        "captured_at": db.dt(snap[n + 2]) if snap is not None else None,
        # False: the platform has no numbers per post (Google Business Profile); never a snapshot.
        "metrics_reported": reports_post_metrics(target["platform"]),
    }


def _parts(db: Reader, marks: str, params: dict[str, Any]) -> dict[int, list[dict[str, Any]]]:
    """Each thread's parts with their own latest counters (target_parts.metrics), by target id."""
    import json

    out: dict[int, list[dict[str, Any]]] = {}
    for target_id, position, status, url, post_id, stored, at in db.rows(
        "SELECT target_id, position, status, platform_post_url, platform_post_id, metrics, metrics_at "
        f"FROM target_parts WHERE kind = 'part' AND target_id IN {marks} ORDER BY target_id, position",
        **params,
    ):
        values = json.loads(stored) if isinstance(stored, str) else (stored or {})
        counters = {k: values.get(k) for k in COUNTERS}
        out.setdefault(target_id, []).append(
            {
                "position": position,
                "status": status,
                "url": url,
                "platform_post_id": post_id,
                **counters,
                "engagement": metrics.engagement(counters["likes"], counters["comments"], counters["shares"]),
                "captured_at": db.dt(at),
            }
        )
    return out


def _one_part(row: dict[str, Any], post_id: str | None) -> dict[str, Any]:
    """A post of one part, as --by-part shows it: its own numbers."""
    return {
        "position": 1,
        "status": row["status"],
        "url": row["url"],
        "platform_post_id": post_id,
        **{k: row[k] for k in COUNTERS},
        "engagement": row["engagement"],
        "captured_at": row["captured_at"],
    }


def totals(rows: list[dict[str, Any]]) -> dict[str, int | None]:
    """Sums of reported values only: NULL + NULL = NULL, 3 + NULL = 3."""
    return {f"total_{k}": metrics.total(r[k] for r in rows) for k in TOTALS}


def post_analytics(
    post_id: int | str, *, platform: str | None = None, history: bool = False, by_part: bool = False
) -> dict[str, Any]:
    with open_reader() as db:
        return read_post_analytics(db, post_id, platform=platform, history=history, by_part=by_part)


def read_post_analytics(
    db: Reader, post_id: int | str, *, platform: str | None = None, history: bool = False, by_part: bool = False
) -> dict[str, Any]:
    text = str(post_id).strip()
    post = (
        db.one("SELECT id, status, published_at, text FROM posts WHERE id = :id", id=int(text))
        if text.isdigit()
        else None
    )
    if post is None:
        raise NotFound(f"no post {text!r}.", hint="See your posts with `postcli post list`.")
    pid, status, published_at, post_text = post
    targets = [
        dict(zip(("id", "platform", "handle", "status", "url", "platform_post_id", "account_status"), r))
        for r in db.rows(
            "SELECT t.id, t.platform, a.handle, t.status, t.platform_post_url, t.platform_post_id, a.status "
            "FROM post_targets t JOIN accounts a ON a.id = t.account_id WHERE t.post_id = :id ORDER BY t.id",
            id=pid,
        )
    ]
    if status in UNPUBLISHED or not any(t["platform_post_id"] for t in targets):
        raise BadState(
            f"analytics are only available after a post is published (post {pid} is {status}).",
            hint=f"Publish it with `postcli post publish {pid}`." if status in ("draft", "scheduled") else None,
        )
    targets = [t for t in targets if t["platform_post_id"]]
    if platform:
        targets = [t for t in targets if t["platform"] == platform]
        if not targets:
            raise NotFound(f"post {pid} has no published target on {platform}.")
    marks, params = in_list("t", [t["id"] for t in targets])
    latest = {
        r[0]: r[1:]
        for r in db.rows(
            f"SELECT target_id, {_SNAP_COLUMNS} FROM post_metric_latest WHERE target_id IN {marks}", **params
        )
    }
    rows = [_row(db, t, latest.get(t["id"])) for t in targets]
    parts = _parts(db, marks, params)
    post_ids = {t["id"]: t["platform_post_id"] for t in targets}
    for row in rows:
        # A thread's row holds the sums over its parts; `--by-part` lists each part's own.
        row["part_count"] = len(parts.get(row["target_id"], ())) or 1
        if by_part:
            row["parts"] = parts.get(row["target_id"]) or [_one_part(row, post_ids[row["target_id"]])]
    result: dict[str, Any] = {
        "post_id": pid,
        "status": status,
        "published_at": db.dt(published_at),
        "text": post_text,
        "metrics_by_target": rows,
        "aggregated_metrics": totals(rows),
        "collected": any(r["captured_at"] is not None for r in rows),
        "needs_reconnect": sorted(
            {f"{t['platform']}:{t['handle']}" for t in targets if t["account_status"] == "token_expired"}
        ),
    }
    if history:
        by_id = {t["id"]: t for t in targets}
        snaps = db.rows(
            f"SELECT target_id, {_SNAP_COLUMNS} FROM post_metric_snapshots WHERE target_id IN {marks} "
            "ORDER BY captured_at, target_id",
            **params,
        )
        result["history"] = [_row(db, by_id[s[0]], s[1:]) for s in snaps]
    return result
