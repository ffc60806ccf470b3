"""Writing metric snapshots, and keeping the `latest` and `hourly` tables current.

Every snapshot insert goes through here so the report tables never drift from
the append-only history.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, NamedTuple

from postcli import metrics
from postcli.metrics import COUNTERS, HOURLY_COUNTERS, SNAPSHOT_COLUMNS, STATE_KEY, state_of
from postcli.store import rollup
from postcli.store.driver import to_stored
from postcli.store.models import (
    AccountMetricSnapshot,
    PostMetricHourly,
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
        .join(PostMetricSnapshot, PostMetricSnapshot.id == PostMetricLatest.snapshot_id)
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
    snap = PostMetricSnapshot(target_id=target.id, captured_at=captured_at, raw=snapshot_raw(m), **values)
    session.add(snap)
    session.flush()

    latest = session.get(PostMetricLatest, target.id)
    if latest is None:
        session.add(PostMetricLatest(target_id=target.id, snapshot_id=snap.id, captured_at=captured_at, **values))
    elif latest.captured_at <= captured_at:
        latest.snapshot_id = snap.id
        latest.captured_at = captured_at
        for k, v in values.items():
            setattr(latest, k, v)

    _update_hourly(session, target, captured_at, values)

    if target.last_metrics_at is None or target.last_metrics_at < captured_at:
        target.last_metrics_at = captured_at
    return snap


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def _update_hourly(session: Session, target: PostTarget, captured_at: datetime, values: dict[str, Any]) -> None:
    hour = hour_of(captured_at)
    counters = {k: values[k] for k in HOURLY_COUNTERS}
    target_id = target.id
    row = session.get(PostMetricHourly, (hour, target_id))
    if row is None:
        session.add(
            PostMetricHourly(
                hour=hour, target_id=target_id, account_id=target.account_id, captured_at=captured_at, **counters
            )
        )
    elif row.captured_at <= captured_at:
        row.captured_at = captured_at
        for k, v in counters.items():
            setattr(row, k, v)
    else:
        return  # an older snapshot of an hour already holding a newer one changes nothing
    session.flush()
    _refresh_deltas(session, target_id, hour)


def _refresh_deltas(session: Session, target_id: int, from_hour: datetime) -> None:
    """Recompute the deltas of `from_hour` and every later hour of the target.

    Later hours exist only when snapshots arrive out of order, so this is usually one row.
    A NULL counter is "not reported", not zero: it gets a NULL delta and is skipped when
    looking for the previous value, so a platform that skips one fetch does not make the
    next one count twice.
    """
    from sqlalchemy import select

    H = PostMetricHourly
    prev: dict[str, int | None] = {}
    before = session.execute(
        select(H).where(H.target_id == target_id, H.hour < from_hour).order_by(H.hour.desc()).limit(1)
    ).scalar_one_or_none()
    for k in HOURLY_COUNTERS:
        value = getattr(before, k) if before is not None else None
        if value is None and before is not None:
            value = session.execute(
                select(getattr(H, k))
                .where(H.target_id == target_id, H.hour < from_hour, getattr(H, k).is_not(None))
                .order_by(H.hour.desc())
                .limit(1)
            ).scalar_one_or_none()
        prev[k] = value
    rows = session.execute(select(H).where(H.target_id == target_id, H.hour >= from_hour).order_by(H.hour)).scalars()
    changes: dict[tuple[Any, int], rollup.Change] = {}
    dialect = session.get_bind().dialect.name
    for row in rows:
        old = [getattr(row, f"{k}_delta") for k in HOURLY_COUNTERS]
        for k in HOURLY_COUNTERS:
            value = getattr(row, k)
            setattr(row, f"{k}_delta", None if value is None else value - (prev[k] or 0))
            if value is not None:
                prev[k] = value
        new = [getattr(row, f"{k}_delta") for k in HOURLY_COUNTERS]
        rollup.merge(changes, (to_stored(row.hour, dialect), row.account_id), rollup.delta_change(old, new))
    rollup.add(session.connection(), changes)


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
    statements instead of several per item: one read of the hourly rows around this hour,
    one multi-row INSERT of the snapshots, an upsert each of post_metric_latest and
    post_metric_hourly, and one UPDATE of the targets' last_metrics_at, all straight through
    the driver (store/bulk.py). That is for the common case, a snapshot newer than everything
    stored for its target, where only the snapshot's own hour needs (re)computing. A target
    whose hourly table already holds something newer (an out-of-order snapshot), or that
    appears more than once in `items`, goes through record_post_snapshot one item at a time
    instead, so the results never differ.
    """
    if not items:
        return
    from postcli.store import bulk

    if not bulk.supported(session):  # e.g. SQLite < 3.35: no RETURNING
        for target, m, followers in items:
            record_post_snapshot(session, _orm_target(session, target), m, captured_at, follower_count=followers)
        return
    st = _statements(session.get_bind().dialect.name)
    session.flush()  # the statements below are not the ORM's, which would autoflush

    counts: dict[int, int] = {}
    for target, _m, _f in items:
        counts[target.id] = counts.get(target.id, 0) + 1
    hour = hour_of(captured_at)
    prev: dict[int, dict[str, int | None]] = {
        tid: dict.fromkeys(HOURLY_COUNTERS) for tid, n in counts.items() if n == 1
    }
    missing: dict[str, list[int]] = {}
    replaced: dict[int, tuple[int | None, ...]] = {}  # this hour's row a fast write overwrites: its deltas
    if prev:
        # Per target: its last hourly row before this hour (where the deltas count from) and any
        # row at or after it. A later hour, or a newer capture of this hour, means this snapshot
        # is out of order: later deltas would need recomputing, so it takes the one-by-one path.
        for row in session.execute(st["around"], {"ids": list(prev), "hour": hour}):
            tid = row[0]
            if tid not in prev:
                continue
            if row[1] < hour:
                counters = prev[tid]
                for k, value in zip(HOURLY_COUNTERS, row[3:]):
                    counters[k] = value
                    if value is None:  # not reported then: count from the last value that was
                        missing.setdefault(k, []).append(tid)
            elif row[1] > hour or row[2] > captured_at:
                del prev[tid]
            else:
                replaced[tid] = tuple(row[3 + len(HOURLY_COUNTERS) :])
        for k, tids in missing.items():
            tids = [tid for tid in tids if tid in prev]
            if tids:
                for tid, value in session.execute(st["last_" + k], {"ids": tids, "hour": hour}):
                    prev[tid][k] = value

    fast = [it for it in items if it[0].id in prev]
    if fast:
        _write_batch(session, fast, captured_at, hour, prev, replaced)
    for target, m, followers in items:
        if target.id not in prev:
            record_post_snapshot(session, _orm_target(session, target), m, captured_at, follower_count=followers)


def _orm_target(session: Session, target: PostTarget | TargetRef) -> PostTarget:
    if isinstance(target, PostTarget):
        return target
    found = session.get(PostTarget, target.id)
    if found is None:
        raise ValueError(f"no target {target.id}")
    return found


_SNAPSHOT_COLUMNS = ("target_id", "captured_at", "raw", *SNAPSHOT_COLUMNS)
_LATEST_COLUMNS = ("target_id", "snapshot_id", "captured_at", *SNAPSHOT_COLUMNS)
_HOURLY_COLUMNS = (
    "hour",
    "target_id",
    "account_id",
    "captured_at",
    *HOURLY_COUNTERS,
    *(k + "_delta" for k in HOURLY_COUNTERS),
)


def _upsert_sql(table: str, columns: tuple[str, ...], key: tuple[str, ...], keep: tuple[str, ...] = ()) -> str:
    """INSERT or, when the key exists and this capture is not older, overwrite (SQLite and PostgreSQL alike)."""
    sets = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key and c not in keep)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets} "
        f"WHERE excluded.captured_at >= {table}.captured_at"
    )


_UPSERT_LATEST = _upsert_sql("post_metric_latest", _LATEST_COLUMNS, ("target_id",))
_UPSERT_HOURLY = _upsert_sql("post_metric_hourly", _HOURLY_COLUMNS, ("hour", "target_id"), keep=("account_id",))
_TOUCH_TARGETS = (
    "UPDATE post_targets SET last_metrics_at = ? WHERE id = ? AND (last_metrics_at IS NULL OR last_metrics_at < ?)"
)


def _write_batch(
    session: Session,
    items: list[tuple[PostTarget | TargetRef, PostMetrics, int | None]],
    captured_at: datetime,
    hour: datetime,
    prev: dict[int, dict[str, int | None]],
    replaced: dict[int, tuple[int | None, ...]],
) -> None:
    from sqlalchemy.orm.attributes import set_committed_value

    from postcli.store.bulk import Bulk

    db = Bulk(session)
    at, hour_db = db.dt(captured_at), db.dt(hour)
    counters: list[tuple[Any, ...]] = []
    hourly: list[tuple[Any, ...]] = []
    gains: dict[tuple[Any, int], rollup.Change] = {}
    for target, m, followers in items:
        values = tuple(getattr(m, k) for k in COUNTERS)
        likes, comments, shares = m.likes, m.comments, m.shares
        engagement = metrics.engagement(likes, comments, shares)
        counters.append((*values, engagement, followers))
        before = prev[target.id]
        row: list[Any] = [hour_db, target.id, target.account_id, at, likes, comments, shares, engagement]
        for k, value in zip(HOURLY_COUNTERS, (likes, comments, shares, engagement)):
            row.append(None if value is None else value - (before[k] or 0))
        hourly.append(tuple(row))
        rollup.merge(
            gains,
            (hour_db, target.account_id),
            rollup.delta_change(replaced.get(target.id), row[-len(HOURLY_COUNTERS) :]),
        )

    # One multi-row INSERT per few hundred rows; the ids come back matched by target (a
    # target is in a fast batch once).
    snap_ids = dict(
        db.insert(
            "post_metric_snapshots",
            _SNAPSHOT_COLUMNS,
            [(t.id, at, db.json(snapshot_raw(m)), *c) for (t, m, _f), c in zip(items, counters)],
            returning=("target_id", "id"),
        )
    )
    db.executemany(_UPSERT_LATEST, [(t.id, snap_ids[t.id], at, *c) for (t, _m, _f), c in zip(items, counters)])
    db.executemany(_UPSERT_HOURLY, hourly)
    rollup.add(db.conn, gains)
    db.executemany(_TOUCH_TARGETS, [(at, t.id, at) for t, _m, _f in items])

    written = {t.id for t, _m, _f in items}
    for target, _m, _f in items:  # what _TOUCH_TARGETS just wrote, without marking them dirty
        if isinstance(target, PostTarget) and (target.last_metrics_at is None or target.last_metrics_at < captured_at):
            set_committed_value(target, "last_metrics_at", captured_at)
    # ORM copies of the rows just written (e.g. loaded by the caller) are stale now.
    for key in list(session.identity_map.keys()):
        cls, pk = key[0], key[1]
        if (cls is PostMetricLatest and pk[0] in written) or (cls is PostMetricHourly and pk[1] in written):
            obj = session.identity_map.get(key)
            if obj is not None:
                session.expire(obj)
        elif cls is PostTarget and pk[0] in written:
            obj = session.identity_map.get(key)
            if obj is not None and not any(obj is t for t, _m, _f in items):
                session.expire(obj, ["last_metrics_at"])


_STATEMENTS: dict[str, dict[str, Any]] = {}


def _statements(dialect_name: str) -> dict[str, Any]:
    """record_post_snapshots' statements, built once per dialect (building them costs more
    than running them on a batch)."""
    st = _STATEMENTS.get(dialect_name)
    if st is not None:
        return st
    from sqlalchemy import and_, bindparam, func, select

    hourly = PostMetricHourly.__table__
    H = hourly.c
    ids: Any = bindparam("ids", expanding=True)
    hour = bindparam("hour", type_=H.hour.type)
    st = {}

    # Driven from post_targets so the correlated MAX(hour) is computed once per target and the
    # hourly rows are then an index range (ix_pmh_target_hour), not a scan of every hour.
    targets = PostTarget.__table__.alias("t")

    def last_hour_before(*conds: Any) -> Any:
        h2 = hourly.alias()
        return (
            select(func.max(h2.c.hour))
            .where(h2.c.target_id == targets.c.id, h2.c.hour < hour, *(c(h2.c) for c in conds))
            .scalar_subquery()
        )

    st["around"] = (
        select(
            H.target_id,
            H.hour,
            H.captured_at,
            *(H[k] for k in HOURLY_COUNTERS),
            *(H[k + "_delta"] for k in HOURLY_COUNTERS),
        )
        .select_from(targets)
        .join(hourly, and_(H.target_id == targets.c.id, H.hour >= func.coalesce(last_hour_before(), hour)))
        .where(targets.c.id.in_(ids))
    )
    for k in HOURLY_COUNTERS:
        st["last_" + k] = (
            select(H.target_id, H[k])
            .select_from(targets)
            .join(
                hourly, and_(H.target_id == targets.c.id, H.hour == last_hour_before(lambda c, k=k: c[k].is_not(None)))
            )
            .where(targets.c.id.in_(ids))
        )

    _STATEMENTS[dialect_name] = st
    return st


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
    snap = AccountMetricSnapshot(
        account_id=account_id,
        captured_at=captured_at,
        followers=m.followers,
        following=m.following,
        posts_count=m.posts_count,
        impressions=m.impressions,
        reach=m.reach,
        profile_views=m.profile_views,
        raw=m.raw or None,
    )
    session.add(snap)
    return snap
