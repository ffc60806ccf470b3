"""Finding posts: by id (for the other services) and `post list` / `post show` (as views).

`post list` reads through the store's one read path (store/dbapi.py: plain SQL on
sqlite3/psycopg, no SQLAlchemy import when the store is current, half its time
budget), on SQLite and PostgreSQL alike. Its page is built by views.post_view, as
`post show`'s ORM post is; tests/test_fastread.py pins the two equal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from postcli.errors import InvalidInput, NotFound
from postcli.services.posts import views

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from postcli.store.dbapi import Reader
    from postcli.store.models import Post

SORTS = {"created": "created_at", "published": "published_at", "scheduled": "scheduled_at"}

Page = tuple[list[dict[str, Any]], int]


def get_post(session: Session, post_id: int | str) -> Post:
    from postcli.store.models import Post

    text = str(post_id).strip()
    post = session.get(Post, int(text)) if text.isdigit() else None
    if post is None:
        raise NotFound(f"no post {text!r}.", hint="See your posts with `postcli post list`.")
    return post


def loaded(post: Post) -> Post:
    """Touch relationships so the post is usable after its session closes."""
    for t in post.targets:
        _ = t.account
        _ = list(t.parts)
    _ = list(post.media)
    return post


def load_post(post_id: int | str) -> Post:
    """The ORM post with its targets, accounts and media, for the services' own use."""
    from postcli.store.session import session_scope

    with session_scope(readonly=True) as session:
        return loaded(get_post(session, post_id))


def show_post(post_id: int | str) -> dict[str, Any]:
    """`post show`: the post as views.post_dict."""
    from postcli.store.session import session_scope

    with session_scope(readonly=True) as session:
        return views.post_dict(get_post(session, post_id))


def check_list_args(*, page: int, limit: int, sort: str, order: str) -> None:
    if sort not in SORTS:
        raise InvalidInput(f"--sort {sort!r} is not one of: {', '.join(SORTS)}.")
    if order not in ("asc", "desc"):
        raise InvalidInput(f"--order {order!r} is not asc or desc.")
    if page < 1 or limit < 1:
        raise InvalidInput("--page and --limit must be 1 or more.")


def list_posts(
    *,
    status: str | None = None,
    platform: str | None = None,
    page: int = 1,
    limit: int = 20,
    sort: str = "created",
    order: str = "desc",
) -> Page:
    """One page of posts (views.post_view each) and the number of posts that match."""
    check_list_args(page=page, limit=limit, sort=sort, order=order)
    from postcli.store.dbapi import open_reader

    with open_reader() as db:
        return read_page(db, status=status, platform=platform, page=page, limit=limit, sort=sort, order=order)


def read_page(
    db: Reader, *, status: str | None, platform: str | None, page: int, limit: int, sort: str, order: str
) -> Page:
    """The page through a store reader (store/dbapi.py): the posts, their targets (each with its
    account's handle and platform state) and their media, in four statements."""
    from postcli.metrics import state_of
    from postcli.store.dbapi import in_list

    col = SORTS[sort]
    direction = "DESC" if order == "desc" else "ASC"
    where, params = [], {}
    if status:
        where.append("p.status = :status")
        params["status"] = status
    if platform:
        where.append("p.id IN (SELECT post_id FROM post_targets WHERE platform = :platform)")
        params["platform"] = platform
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    total = db.scalar(f"SELECT count(*) FROM posts p {clause}", **params) or 0
    posts = db.dicts(
        f"SELECT {_cols('p', views.POST_COLUMNS)} FROM posts p {clause} "
        f"ORDER BY p.{col} IS NULL, p.{col} {direction}, p.id {direction} LIMIT :limit OFFSET :offset",
        **params,
        limit=limit,
        offset=(page - 1) * limit,
    )
    ids = [p["id"] for p in posts]
    targets: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    media: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    parts: dict[int, list[dict[str, Any]]] = {}
    if ids:
        marks, id_params = in_list("id", ids)
        for t in db.dicts(
            f"SELECT t.post_id, {_cols('t', views.TARGET_COLUMNS)}, a.handle FROM post_targets t "
            f"LEFT JOIN accounts a ON a.id = t.account_id WHERE t.post_id IN {marks} ORDER BY t.id",
            **id_params,
        ):
            targets[t["post_id"]].append(_times(db, t))
        for p in db.dicts(
            f"SELECT {_cols('p', views.PART_COLUMNS)} FROM target_parts p JOIN post_targets t ON t.id = p.target_id "
            f"WHERE t.post_id IN {marks} ORDER BY p.id",
            **id_params,
        ):
            parts.setdefault(p["target_id"], []).append(p)
        listed = [t["id"] for ts in targets.values() for t in ts]
        if listed:
            t_marks, t_params = in_list("t", listed)
            states = {tid: state_of(raw) for tid, raw in db.rows(LATEST_RAW_SQL.format(ids=t_marks), **t_params)}
            for ts in targets.values():
                for t in ts:
                    t["platform_state"] = states.get(t["id"])
        for m in db.dicts(
            f"SELECT post_id, {', '.join(views.MEDIA_COLUMNS)} FROM post_media WHERE post_id IN {marks} "
            "ORDER BY post_id, position",
            **id_params,
        ):
            media[m["post_id"]].append(m)
    return [views.post_view(_times(db, p), targets[p["id"]], media[p["id"]], parts) for p in posts], total


# Each target's newest snapshot's raw JSON (its platform state); `{ids}` is an IN list.
LATEST_RAW_SQL = (
    "SELECT l.target_id, s.raw FROM post_metric_latest l "
    "JOIN post_metric_snapshots s ON s.target_id = l.target_id AND s.captured_at = l.captured_at "
    "WHERE l.target_id IN {ids}"
)


def _cols(alias: str, names: tuple[str, ...]) -> str:
    return ", ".join(f"{alias}.{n}" for n in names)


def _times(db: Reader, row: dict[str, Any]) -> dict[str, Any]:
    """Every `*_at` column as an aware UTC datetime, as the ORM reads it."""
    for k, v in row.items():
        if k.endswith("_at"):
            row[k] = db.dt(v)
    return row
