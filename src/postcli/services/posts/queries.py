"""Finding posts: by id (for the other services) and `post list` / `post show` (as views).

`post list` reads a current SQLite store with the stdlib (store/fastread.py: no
SQLAlchemy import, half its time budget); anything else goes through the ORM.
Both pages are built by views.post_view; tests/test_fastread.py pins them equal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from postcli.errors import InvalidInput, NotFound
from postcli.services.posts import views

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

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
    args: dict[str, Any] = dict(status=status, platform=platform, page=page, limit=limit, sort=sort, order=order)
    found = fast_page(**args)
    return found if found is not None else orm_page(**args)


def fast_page(*, status: str | None, platform: str | None, page: int, limit: int, sort: str, order: str) -> Page | None:
    """The page read with the stdlib; None when the store is not a current SQLite file."""
    from postcli.store import fastread

    found = fastread.list_posts(
        status=status, platform=platform, page=page, limit=limit, sort_column=SORTS[sort], order=order
    )
    if found is None:
        return None
    rows, total = found
    return [views.post_view(post, targets, media) for post, targets, media in rows], total


def orm_page(*, status: str | None, platform: str | None, page: int, limit: int, sort: str, order: str) -> Page:
    """The page read with the ORM (PostgreSQL, or a store that needs migrating first)."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import selectinload

    from postcli.store.models import Post, PostTarget
    from postcli.store.session import session_scope

    with session_scope(readonly=True) as session:
        q = select(Post)
        if status:
            q = q.where(Post.status == status)
        if platform:
            q = q.where(Post.id.in_(select(PostTarget.post_id).where(PostTarget.platform == platform)))
        total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
        col = getattr(Post, SORTS[sort])
        ordered = col.desc() if order == "desc" else col.asc()
        q = q.order_by(col.is_(None), ordered, Post.id.desc() if order == "desc" else Post.id.asc())
        # Three queries for the whole page instead of two per post.
        q = q.options(selectinload(Post.targets).selectinload(PostTarget.account), selectinload(Post.media))
        posts = session.scalars(q.offset((page - 1) * limit).limit(limit))
        return [views.post_dict(p) for p in posts], total
