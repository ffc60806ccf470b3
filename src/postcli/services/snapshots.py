"""Writing metric snapshots, and keeping post_metric_latest and account_post_hourly current.

Every snapshot insert goes through here so the report tables never drift from
the history.

A snapshot is keyed by (target, captured_at). A second write of a target at an instant it
already has (a frozen clock collecting twice, a retried write) replaces the first: the store
then holds what it would hold had only the second been written, rollups included (they are
recomputed from the target's history, before and after, as for a snapshot out of order). The
reports never told two snapshots of one instant apart anyway: as of a moment they read the
newest write.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, NamedTuple

from postcli import metrics
from postcli.metrics import COUNTERS, HOURLY_COUNTERS, SNAPSHOT_COLUMNS, STATE_KEY, state_of
from postcli.store import published, rollup
from postcli.store.driver import to_stored
from postcli.store.models import (
    AccountMetricSnapshot,
    PostMetricLatest,
    PostMetricSnapshot,
    PostTarget,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.orm import Session

    from postcli.platforms.base import AccountMetrics, PostMetrics


def snapshot_raw(m: PostMetrics) -> dict[str, Any] | None:
    """The raw JSON a snapshot stores: the platform's answer, and its word on the post's state
    (under metrics.STATE_KEY: the state is as old as the numbers beside it, and needs no column)."""
    if m.platform_state:
        return {**(m.raw or {}), STATE_KEY: m.platform_state}
    return m.raw or None


def latest_states(session: Session, target_ids: Sequence[int | None]) -> dict[int, str]:
    """{target id: platform state} from each target's newest snapshot, where it says one."""
    from sqlalchemy import select

    ids = sorted({t for t in target_ids if t is not None})
    if not ids:
        return {}
    rows = session.execute(
        select(PostMetricLatest.target_id, PostMetricSnapshot.raw)
        .join(
            PostMetricSnapshot,
            (PostMetricSnapshot.target_id == PostMetricLatest.target_id)
            & (PostMetricSnapshot.captured_at == PostMetricLatest.captured_at),
        )
        .where(PostMetricLatest.target_id.in_(ids))
    )
    return {tid: state for tid, raw in rows if (state := state_of(raw))}


def record_post_snapshot(
    session: Session,
    target: PostTarget,
    m: PostMetrics,
    captured_at: datetime,
    follower_count: int | None = None,
) -> PostMetricSnapshot:
    values: dict[str, Any] = {k: getattr(m, k) for k in COUNTERS}
    values["engagement"] = metrics.engagement(m.likes, m.comments, m.shares)
    values["follower_count"] = follower_count
    latest = session.get(PostMetricLatest, target.id)
    conn = session.connection()
    dialect = session.get_bind().dialect.name
    # Newer than every snapshot of the target: its gain counts from the latest row's values.
    # Otherwise (rare: a snapshot out of order, or a second one at an instant the target has)
    # the target's contributions are recomputed from its history, before and after, and the
    # difference added.
    in_order = latest is None or latest.captured_at < captured_at
    newest = latest is None or latest.captured_at <= captured_at  # post_metric_latest copies it
    before: rollup.History | None = None
    snap: PostMetricSnapshot | None = None
    if not in_order:
        session.flush()
        before = rollup.target_history(conn, [target.id], sign=-1)
        snap = session.get(PostMetricSnapshot, (target.id, captured_at))
    if snap is None:
        snap = PostMetricSnapshot(target_id=target.id, captured_at=captured_at, raw=snapshot_raw(m), **values)
        session.add(snap)
    else:  # the same instant again: the later write replaces the earlier
        snap.raw = snapshot_raw(m)
        for k, v in values.items():
            setattr(snap, k, v)
    session.flush()

    new = [values[k] for k in HOURLY_COUNTERS]
    now = published.figures([values[k] for k in published.VALUES])
    assert now is not None
    if before is None:
        top = published.highest(None if latest is None else [getattr(latest, c) for c in published.PEAKS], now)
        prev = None if latest is None else [getattr(latest, c) for c in rollup.REPORTED]
        change, reported = rollup.gain(prev, new)
        hour = to_stored(hour_of(captured_at), dialect)
        rollup.add(conn, {(hour, target.account_id): change})
        live = target.completed_at or target.post.published_at
        if live is not None:
            was = None if latest is None else published.figures([getattr(latest, c) for c in published.VALUES])
            sums = published.Changes()
            published.record(
                sums,
                to_stored(live, dialect),
                to_stored(captured_at, dialect),
                target.account_id,
                published.change(was, now),
                published.totals_key(dialect),
            )
            published.add(conn, sums)
    else:
        after = rollup.target_history(conn, [target.id])
        rollup.merge_history(after, before)
        after.add_to(conn)
        reported = after.reported[target.id]
        top = after.peaks[target.id]  # from the history: a snapshot replaced may have held them
    own: dict[str, Any] = dict(zip(rollup.REPORTED, reported))
    own.update(zip(published.PEAKS, top))
    if latest is None:
        latest = PostMetricLatest(target_id=target.id, captured_at=captured_at, **values, **own)
        session.add(latest)
    else:
        if newest:
            latest.captured_at = captured_at
            for k, v in values.items():
                setattr(latest, k, v)
        for k, v in own.items():
            setattr(latest, k, v)

    if target.last_metrics_at is None or target.last_metrics_at < captured_at:
        target.last_metrics_at = captured_at
    return snap


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


# --- batches ---------------------------------------------------------------------------------


class TargetRef(NamedTuple):
    """What a batch write needs of a target: a PostTarget will do, or just these two ids."""

    id: int
    account_id: int


def record_post_snapshots(
    session: Session,
    items: Sequence[tuple[PostTarget | TargetRef, PostMetrics, int | None]],
    captured_at: datetime,
) -> None:
    """Record one snapshot per (target, metrics, follower_count), all captured at `captured_at`.

    Leaves the same rows as record_post_snapshot on each item in turn, in a handful of
    statements instead of several per item: one read of the targets' latest rows, one
    multi-row INSERT of the snapshots, an upsert each of post_metric_latest and
    account_post_hourly, and one UPDATE of the targets' last_metrics_at, all straight through
    the driver (store/bulk.py). That is for the common case, a snapshot newer than everything
    stored for its target, whose gain counts from the latest row's reported values. A target
    with a snapshot stored at `captured_at` or later (out of order, or the same instant again),
    or that appears more than once in `items`, goes through record_post_snapshot one item at a
    time instead, so the results never differ.
    """
    if not items:
        return
    from postcli.store import bulk

    if not bulk.supported(session):  # e.g. SQLite < 3.32
        for target, m, followers in items:
            record_post_snapshot(session, _orm_target(session, target), m, captured_at, follower_count=followers)
        return
    session.flush()  # the statements below are not the ORM's, which would autoflush

    counts: dict[int, int] = {}
    for target, _m, _f in items:
        counts[target.id] = counts.get(target.id, 0) + 1
    prev: dict[int, _Prev | None] = {tid: None for tid, n in counts.items() if n == 1}
    live: dict[int, datetime | None] = {}
    if prev:
        nr, nv = len(rollup.REPORTED), len(published.VALUES)
        for tid, at, *row, completed, posted in session.execute(_latest_statement(), {"ids": list(prev)}):
            live[tid] = completed or posted
            if at is None:
                continue  # its first snapshot
            if at >= captured_at:
                del prev[tid]  # out of order or the same instant again: the one-by-one path
            else:
                prev[tid] = _Prev(row[:nr], published.figures(row[nr : nr + nv]), tuple(row[nr + nv :]))

    fast = [it for it in items if it[0].id in prev]
    if fast:
        _write_batch(session, fast, captured_at, prev, live)
    for target, m, followers in items:
        if target.id not in prev:
            record_post_snapshot(session, _orm_target(session, target), m, captured_at, follower_count=followers)


class _Prev(NamedTuple):
    """A target's latest row, as the batch write needs it."""

    reported: list[int | None]  # rollup.REPORTED
    figures: tuple[Any, ...] | None  # published.figures of its values
    peaks: tuple[Any, ...]  # its published.PEAKS


def _orm_target(session: Session, target: PostTarget | TargetRef) -> PostTarget:
    if isinstance(target, PostTarget):
        return target
    found = session.get(PostTarget, target.id)
    if found is None:
        raise ValueError(f"no target {target.id}")
    return found


_SNAPSHOT_COLUMNS = ("target_id", "captured_at", "raw", *SNAPSHOT_COLUMNS)
_LATEST_COLUMNS = ("target_id", "captured_at", *SNAPSHOT_COLUMNS, *rollup.REPORTED, *published.PEAKS)


def _upsert_sql(table: str, columns: tuple[str, ...], key: tuple[str, ...]) -> str:
    """INSERT or, when the key exists and this capture is not older, overwrite (SQLite and PostgreSQL alike)."""
    sets = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets} "
        f"WHERE excluded.captured_at >= {table}.captured_at"
    )


_UPSERT_LATEST = _upsert_sql("post_metric_latest", _LATEST_COLUMNS, ("target_id",))
_TOUCH_TARGETS = (
    "UPDATE post_targets SET last_metrics_at = ? WHERE id = ? AND (last_metrics_at IS NULL OR last_metrics_at < ?)"
)


def _write_batch(
    session: Session,
    items: list[tuple[PostTarget | TargetRef, PostMetrics, int | None]],
    captured_at: datetime,
    prev: dict[int, _Prev | None],
    live: dict[int, datetime | None],
) -> None:
    from sqlalchemy.orm.attributes import set_committed_value

    from postcli.store.bulk import Bulk

    db = Bulk(session)
    at, hour_db = db.dt(captured_at), db.dt(hour_of(captured_at))
    totals = published.totals_key(session.get_bind().dialect.name)
    counters: list[tuple[Any, ...]] = []
    reported: list[list[int | None]] = []
    peaks: list[tuple[Any, ...]] = []
    gains: dict[tuple[Any, int], rollup.Change] = {}
    sums = published.Changes()
    for target, m, followers in items:
        values = tuple(getattr(m, k) for k in COUNTERS)
        likes, comments, shares = m.likes, m.comments, m.shares
        engagement = metrics.engagement(likes, comments, shares)
        counters.append((*values, engagement, followers))
        before = prev[target.id]
        now = published.figures((likes, comments, shares, m.impressions, m.reach, engagement, followers))
        assert now is not None
        peaks.append(published.highest(None if before is None else before.peaks, now))
        change, now_reported = rollup.gain(
            None if before is None else before.reported, (likes, comments, shares, engagement)
        )
        reported.append(now_reported)
        rollup.merge(gains, (hour_db, target.account_id), change)
        went_live = live.get(target.id)
        if went_live is not None:
            was = None if before is None else before.figures
            published.record(sums, db.dt(went_live), at, target.account_id, published.change(was, now), totals)

    # One multi-row INSERT per few hundred rows: every key is new (each target's stored
    # snapshots are all older, and it is in a fast batch once).
    db.insert(
        "post_metric_snapshots",
        _SNAPSHOT_COLUMNS,
        [(t.id, at, db.json(snapshot_raw(m)), *c) for (t, m, _f), c in zip(items, counters)],
    )
    db.executemany(
        _UPSERT_LATEST,
        [(t.id, at, *c, *r, *p) for (t, _m, _f), c, r, p in zip(items, counters, reported, peaks)],
    )
    rollup.add(db.conn, gains)
    published.add(db.conn, sums)
    db.executemany(_TOUCH_TARGETS, [(at, t.id, at) for t, _m, _f in items])

    written = {t.id for t, _m, _f in items}
    for target, _m, _f in items:  # what _TOUCH_TARGETS just wrote, without marking them dirty
        if isinstance(target, PostTarget) and (target.last_metrics_at is None or target.last_metrics_at < captured_at):
            set_committed_value(target, "last_metrics_at", captured_at)
    # ORM copies of the rows just written (e.g. loaded by the caller) are stale now.
    for key in list(session.identity_map.keys()):
        cls, pk = key[0], key[1]
        if cls is PostMetricLatest and pk[0] in written:
            obj = session.identity_map.get(key)
            if obj is not None:
                session.expire(obj)
        elif cls is PostTarget and pk[0] in written:
            obj = session.identity_map.get(key)
            if obj is not None and not any(obj is t for t, _m, _f in items):
                session.expire(obj, ["last_metrics_at"])


_LATEST_STATEMENT: list[Any] = []


def _latest_statement() -> Any:
    """The batch's one read of its targets: (id, their latest row's captured_at, reported values,
    values and peaks (NULLs without one), when they went live: completed_at, their
    post's published_at). Built once: building costs more than running it."""
    if not _LATEST_STATEMENT:
        from sqlalchemy import bindparam, select

        from postcli.store.models import Post

        L = PostMetricLatest
        columns = (*rollup.REPORTED, *published.VALUES)
        _LATEST_STATEMENT.append(
            select(
                PostTarget.id,
                L.captured_at,
                *(getattr(L, c) for c in columns),
                *(getattr(L, c) for c in published.PEAKS),
                PostTarget.completed_at,
                Post.published_at,
            )
            .join(Post, Post.id == PostTarget.post_id)
            .outerjoin(L, L.target_id == PostTarget.id)
            .where(PostTarget.id.in_(bindparam("ids", expanding=True)))
        )
    return _LATEST_STATEMENT[0]


def latest_followers(session: Session, account_id: int) -> int | None:
    """The newest reported follower count: the denominator of a post snapshot's engagement rate."""
    from sqlalchemy import select

    return session.scalar(
        select(AccountMetricSnapshot.followers)
        .where(AccountMetricSnapshot.account_id == account_id, AccountMetricSnapshot.followers.is_not(None))
        .order_by(AccountMetricSnapshot.captured_at.desc())
        .limit(1)
    )


def record_account_snapshot(
    session: Session, account_id: int, m: AccountMetrics, captured_at: datetime
) -> AccountMetricSnapshot:
    """Keyed by (account, captured_at): a second write at an instant the account has replaces it."""
    values: dict[str, Any] = {
        "followers": m.followers,
        "following": m.following,
        "posts_count": m.posts_count,
        "impressions": m.impressions,
        "reach": m.reach,
        "profile_views": m.profile_views,
        "raw": m.raw or None,
    }
    snap = session.get(AccountMetricSnapshot, (account_id, captured_at))
    if snap is None:
        snap = AccountMetricSnapshot(account_id=account_id, captured_at=captured_at, **values)
        session.add(snap)
    else:
        for k, v in values.items():
            setattr(snap, k, v)
    return snap
