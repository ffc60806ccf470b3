"""`post list` reads through the store's one read path (store/dbapi.py: no SQLAlchemy on a current
store, SQLite or PostgreSQL); it must say exactly what the ORM says of the same posts."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from postcli import output
from postcli.services.posts import queries
from postcli.store.models import Account, Post, PostMedia, PostTarget
from postcli.store.session import session_scope


def orm_page(*, status, platform, page, limit, sort, order):  # type: ignore[no-untyped-def]
    """The reference: the same page read with the ORM and mapped by views.post_dict (what
    `post list` did on PostgreSQL and on a store to migrate before the read paths were one)."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import selectinload

    from postcli.services.posts import views

    with session_scope(readonly=True) as session:
        q = select(Post)
        if status:
            q = q.where(Post.status == status)
        if platform:
            q = q.where(Post.id.in_(select(PostTarget.post_id).where(PostTarget.platform == platform)))
        total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
        col = getattr(Post, queries.SORTS[sort])
        ordered = col.desc() if order == "desc" else col.asc()
        q = q.order_by(col.is_(None), ordered, Post.id.desc() if order == "desc" else Post.id.asc())
        q = q.options(selectinload(Post.targets).selectinload(PostTarget.account), selectinload(Post.media))
        posts = session.scalars(q.offset((page - 1) * limit).limit(limit))
        return [views.post_dict(p) for p in posts], total


@pytest.fixture
def store(home, backend):
    now = datetime(2026, 5, 1, 12, tzinfo=timezone.utc)
    with session_scope() as s:
        a = Account(platform="mastodon", handle="me@x.social", external_id="1", api_base_url="https://x.social")
        b = Account(
            platform="bluesky", handle="me.bsky.social", external_id="did:plc:x", api_base_url="https://bsky.social"
        )
        s.add_all([a, b])
        s.flush()
        for i in range(7):
            p = Post(
                text=f"post {i}",
                status=["completed", "scheduled", "failed", "draft"][i % 4],
                created_at=now + timedelta(minutes=i),
                updated_at=now,
                published_at=now + timedelta(hours=i) if i % 4 == 0 else None,
                scheduled_at=now + timedelta(days=i) if i % 4 == 1 else None,
                timezone="Europe/Berlin",
            )
            p.targets.append(
                PostTarget(
                    account_id=a.id,
                    platform="mastodon",
                    status="completed",
                    idempotency_key=f"m{i}",
                    platform_post_id=str(i),
                    platform_post_url=f"https://x.social/@me/{i}",
                    attempt_count=1,
                    completed_at=now,
                )
            )
            if i % 2:
                p.targets.append(
                    PostTarget(
                        account_id=b.id,
                        platform="bluesky",
                        status="failed",
                        idempotency_key=f"b{i}",
                        error="boom",
                        attempt_count=2,
                    )
                )
                p.media.append(
                    PostMedia(
                        position=0,
                        key="k.png",
                        mime_type="image/png",
                        size_bytes=10,
                        sha256="ab" * 32,
                        width=3,
                        height=4,
                        alt_text="alt",
                    )
                )
            s.add(p)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(status=None, platform=None, page=1, limit=20, sort="created", order="desc"),
        dict(status=None, platform="bluesky", page=1, limit=2, sort="created", order="asc"),
        dict(status=None, platform=None, page=2, limit=3, sort="published", order="desc"),
        dict(status="scheduled", platform=None, page=1, limit=5, sort="scheduled", order="asc"),
        dict(status="nothing", platform=None, page=1, limit=5, sort="created", order="desc"),
    ],
)
def test_post_list_equals_the_orm_view(store, kwargs):
    assert output.to_json(queries.list_posts(**kwargs)) == output.to_json(orm_page(**kwargs))


def test_a_store_that_is_not_current_is_migrated_then_read_the_same_way(home):
    # Was: the stdlib path stepped aside (None) and the ORM read the page. Now there is one read
    # path: it creates or migrates the store through store/session.py first, as the reports do.
    assert not (home / "postcli.db").exists()
    assert queries.list_posts() == ([], 0)
    assert (home / "postcli.db").exists()


def test_post_list_does_not_import_sqlalchemy_on_a_current_store(store, home, backend):
    code = (
        "import sys\n"
        "from postcli.cli import app\n"
        "try:\n    app(['post', 'list', '--json'])\nexcept SystemExit:\n    pass\n"
        "print('SA=' + str('sqlalchemy' in sys.modules), file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "SA=False" in out.stderr, out.stderr
    assert json.loads(out.stdout)["total"] == 7
