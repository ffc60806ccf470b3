"""store/bulk.py writes through the driver exactly what the ORM writes, on SQLite and PostgreSQL.

The collector's hot path (snapshots, latest, the accounts' hourly gains, job enqueue) goes through it; the
reports and every other reader go through the ORM, so a datetime or JSON value stored
in another form (another text format on SQLite, another type on PostgreSQL) would sort,
compare or parse differently.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from support.builders import paired_targets

UTC = timezone.utc


def _raw_job_rows(keys: list[str]) -> dict[str, tuple]:
    """The stored values of two jobs as the driver returns them (no SQLAlchemy types)."""
    from sqlalchemy import text

    from postcli.store.session import session_scope

    with session_scope(readonly=True) as s:
        rows = (
            s.connection()
            .exec_driver_sql("SELECT key, kind, payload, status, attempts, run_after, created_at, updated_at FROM jobs")
            .all()
        )
        assert s.execute(text("SELECT count(*) FROM jobs")).scalar() == len(keys)
    return {r[0]: tuple(r[1:]) for r in rows}


def test_enqueue_stores_what_the_orm_stores(backend):
    from postcli.services import jobs
    from postcli.store.models import Job
    from postcli.store.session import session_scope

    # An odd offset and microseconds: the stored form must be UTC, to the microsecond.
    now = datetime(2026, 3, 29, 1, 30, 5, 123456, tzinfo=timezone(timedelta(hours=-7, minutes=-30)))
    payload = {"target_id": 7, "note": 'é ☃ "quoted"'}
    with session_scope() as s:
        s.add(
            Job(
                kind="post_metrics",
                key="orm",
                payload=payload,
                status="queued",
                attempts=0,
                run_after=now,
                created_at=now,
                updated_at=now,
            )
        )
    with session_scope() as s:
        res = jobs.enqueue_many(s, [("post_metrics", "bulk", payload)], now)
    assert res.added == 1
    rows = _raw_job_rows(["orm", "bulk"])
    assert rows["bulk"] == rows["orm"]
    # ... and it reads back through the ORM as the same aware UTC moment.
    from sqlalchemy import select

    with session_scope(readonly=True) as s:
        got = {j.key: (j.run_after, j.payload) for j in s.scalars(select(Job))}
    assert got["bulk"] == got["orm"] == (now.astimezone(UTC), payload)


def test_snapshot_raw_json_and_times_stored_as_the_orm_stores_them(backend):
    from postcli.platforms.base import PostMetrics
    from postcli.services.snapshots import TargetRef, record_post_snapshot, record_post_snapshots
    from postcli.store.models import PostTarget
    from postcli.store.session import session_scope

    one, batch = paired_targets(1)
    when = datetime(2026, 11, 23, 9, 59, 59, 999999, tzinfo=UTC)
    raw = {"uri": "at://did:plc:x/app.bsky.feed.post/3k", "likeCount": 3, "text": "ünïcode ✓"}
    with session_scope() as s:
        record_post_snapshot(s, s.get(PostTarget, one[0]), PostMetrics(likes=3, raw=raw), when, follower_count=10)
    with session_scope() as s:
        t = s.get(PostTarget, batch[0])
        record_post_snapshots(s, [(TargetRef(t.id, t.account_id), PostMetrics(likes=3, raw=raw), 10)], when)

    def stored(tid: int) -> list[tuple]:
        with session_scope(readonly=True) as s:
            c = s.connection()
            q = "SELECT captured_at, raw, likes, follower_count FROM post_metric_snapshots WHERE target_id = "
            snap = c.exec_driver_sql(q + str(tid)).all()
            latest = c.exec_driver_sql(
                f"SELECT captured_at, likes, engagement FROM post_metric_latest WHERE target_id = {tid}"
            ).all()
            hourly = c.exec_driver_sql(
                "SELECT hour, likes, likes_n FROM account_post_hourly "
                f"WHERE account_id = (SELECT account_id FROM post_targets WHERE id = {tid})"
            ).all()
            touched = c.exec_driver_sql(f"SELECT last_metrics_at FROM post_targets WHERE id = {tid}").all()
        return [tuple(r) for r in snap + latest + hourly + touched]

    assert stored(batch[0]) == stored(one[0])
