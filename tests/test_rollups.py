"""The per-account hourly gains (account_post_hourly) the timeline reads.

Random snapshot series (Hypothesis: out of order, NULLs, batches and single writes, a
deleted post) must leave the table equal to its rebuild from the snapshots, and the
timeline over it equal to the same report computed here from the snapshots alone.
`db upgrade` rebuilds it (migration 0010) with progress."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from postcli.metrics import HOURLY_COUNTERS
from postcli.platforms.base import PostMetrics

UTC = timezone.utc
T0 = datetime(2024, 3, 1, tzinfo=UTC)
ZONES = ("UTC", "Europe/Berlin", "Asia/Kolkata", "America/St_Johns")

counter = st.one_of(st.none(), st.integers(0, 50))
snapshot = st.tuples(
    st.integers(0, 3),  # target
    st.integers(0, 36 * 60 - 1),  # minute after T0: a day and a half, so hours often repeat
    counter,
    counter,
    counter,
    st.booleans(),  # batch write (record_post_snapshots) or one (record_post_snapshot)
)


def _fresh_store() -> list[tuple[int, int]]:
    """Empty the store (the cascade takes everything) and make 2 accounts and 3 posts; the
    (target id, account id) pairs, the last post on both accounts."""
    from postcli.store.models import Account, Post, PostTarget
    from postcli.store.session import session_scope

    with session_scope() as s:
        s.connection().exec_driver_sql("DELETE FROM posts")
        s.connection().exec_driver_sql("DELETE FROM accounts")
    out = []
    with session_scope() as s:
        accounts = []
        for i, platform in enumerate(("bluesky", "mastodon")):
            a = Account(platform=platform, handle=f"h{i}", external_id=f"e{i}", api_base_url="https://x.example")
            s.add(a)
            accounts.append(a)
        s.flush()
        for i, accs in enumerate(([accounts[0]], [accounts[1]], accounts)):
            p = Post(text=f"p{i}", status="completed", published_at=T0, correlation_id=f"c{i}")
            s.add(p)
            for a in accs:
                p.targets.append(
                    PostTarget(
                        account_id=a.id,
                        platform=a.platform,
                        status="completed",
                        idempotency_key=f"k{i}-{a.id}",
                        platform_post_id=f"x{i}-{a.id}",
                        completed_at=T0,
                    )
                )
        s.flush()
        out = [(t.id, t.account_id) for p in s.query(Post).order_by(Post.id) for t in p.targets]
    return out


def _write(targets: list[tuple[int, int]], series: list[tuple]) -> None:
    from postcli.services.snapshots import TargetRef, record_post_snapshot, record_post_snapshots
    from postcli.store.models import PostTarget
    from postcli.store.session import session_scope

    seen: set[tuple[int, int]] = set()
    for idx, minute, likes, comments, shares, batch in series:
        tid, acc = targets[idx]
        if (tid, minute) in seen:  # one snapshot per target and moment: the order of equals is undefined
            continue
        seen.add((tid, minute))
        m = PostMetrics(likes=likes, comments=comments, shares=shares)
        when = T0 + timedelta(minutes=minute)
        with session_scope() as s:
            if batch:
                record_post_snapshots(s, [(TargetRef(tid, acc), m, None)], when)
            else:
                record_post_snapshot(s, s.get(PostTarget, tid), m, when)


def _table() -> dict[tuple, tuple]:
    from postcli.store.session import session_scope

    with session_scope() as s:
        rows = s.connection().exec_driver_sql("SELECT * FROM account_post_hourly").fetchall()
    # A row whose every sum and count is 0 says nothing: the rebuild does not write it.
    return {(r[0], r[1]): tuple(r[2:]) for r in rows if any(r[2:])}


def _rebuilt() -> dict[tuple, tuple]:
    from postcli.store import rollup
    from postcli.store.session import session_scope

    with session_scope() as s:
        rollup.rebuild(s.connection())
    return _table()


def _reference_timeline(account_id: int, start: datetime, end: datetime, tz: str) -> list[tuple]:
    """The timeline from the snapshots alone, as docs/reports.md defines it: each snapshot gains
    its value minus the target's last reported value before it, on the UTC hour it was taken."""
    from postcli.store.session import session_scope

    with session_scope() as s:
        snaps = (
            s.connection()
            .exec_driver_sql(
                "SELECT s.target_id, s.captured_at, s.likes, s.comments, s.shares, s.engagement "
                "FROM post_metric_snapshots s JOIN post_targets t ON t.id = s.target_id "
                f"WHERE t.account_id = {account_id} ORDER BY s.target_id, s.captured_at"
            )
            .fetchall()
        )
    if not snaps:
        return []  # the report's "no metrics collected yet" (no days at all)
    gains: dict[datetime, list[int | None]] = defaultdict(lambda: [None] * 4)
    prev: dict[int, list[int | None]] = defaultdict(lambda: [None] * 4)
    for tid, at, *values in snaps:
        at = at if isinstance(at, datetime) else datetime.fromisoformat(at)
        hour = at.replace(minute=0, second=0, microsecond=0, tzinfo=UTC)
        for i, v in enumerate(values):
            if v is not None:
                gains[hour][i] = (gains[hour][i] or 0) + v - (prev[tid][i] or 0)
                prev[tid][i] = v
    zone = ZoneInfo(tz)
    first = start.replace(minute=0, second=0, microsecond=0)
    if first < start:
        first += timedelta(hours=1)
    days: dict[date, list[int | None]] = {}
    d, last_day = start.astimezone(zone).date(), (end - timedelta(microseconds=1)).astimezone(zone).date()
    while d <= last_day:
        days[d] = [None] * 4
        d += timedelta(days=1)
    before = [any(g[i] is not None for h, g in gains.items() if h < first) for i in range(4)]
    firsts: dict[int, date] = {}
    for hour in sorted(gains):
        if first <= hour < end:
            day = hour.astimezone(zone).date()
            for i, g in enumerate(gains[hour]):
                if g is not None:
                    days[day][i] = (days[day][i] or 0) + g
                    firsts.setdefault(i, day)
    out = []
    for day, vals in days.items():
        filled = [
            0 if v is None and (before[i] or (i in firsts and day >= firsts[i])) else v for i, v in enumerate(vals)
        ]
        out.append((day, *filled))
    return out


def _timeline(account_id: int, start: datetime, end: datetime, tz: str) -> list[tuple]:
    from postcli.services.reports import ReportQuery, timeline
    from postcli.store.dbapi import open_reader

    with open_reader() as db:
        r = timeline(db, ReportQuery(start=start, end=end, tz=tz, account=str(account_id)))
    order = {k: i for i, k in enumerate(HOURLY_COUNTERS)}
    return [(d.date, *(v for _, v in sorted(((order[k], getattr(d, k)) for k in HOURLY_COUNTERS)))) for d in r.days]


@settings(max_examples=40)
@given(
    series=st.lists(snapshot, min_size=1, max_size=25),
    delete_one=st.booleans(),
    start_h=st.integers(0, 36),
    hours=st.integers(1, 48),
    start_min=st.sampled_from((0, 30)),
    tz=st.sampled_from(ZONES),
)
def test_rollup_equals_its_rebuild_and_the_timeline_the_snapshots(series, delete_one, start_h, hours, start_min, tz):
    targets = _fresh_store()
    _write(targets, series)
    if delete_one:  # the post on both accounts
        from postcli.store import rollup
        from postcli.store.models import Post, PostTarget
        from postcli.store.session import session_scope

        with session_scope() as s:
            post = s.get(Post, s.get(PostTarget, targets[-1][0]).post_id)
            rollup.forget_targets(s.connection(), [t.id for t in post.targets])
            s.delete(post)
    kept = _table()
    assert kept == _rebuilt()
    start = T0 + timedelta(hours=start_h, minutes=start_min)
    end = start + timedelta(hours=hours)
    for acc in sorted({a for _t, a in targets}):
        assert _timeline(acc, start, end, tz) == _reference_timeline(acc, start, end, tz)


def test_post_delete_takes_its_gains_out(cli):
    """`post delete` (the local record) leaves the accounts' hourly sums as if it never was."""
    targets = _fresh_store()
    _write(targets, [(0, 10, 5, 1, None, True), (2, 20, 7, None, None, False), (3, 30, 2, 2, 2, True)])
    from postcli.store.models import PostTarget
    from postcli.store.session import session_scope

    with session_scope() as s:
        post_id = s.get(PostTarget, targets[-1][0]).post_id
    assert len(_table()) == 2
    result = cli("post", "delete", str(post_id))
    assert result.exit_code == 0, result.output
    assert _table() == {k: v for k, v in _rebuilt().items()}
    assert sum(v[0] for v in _table().values()) == 5  # only post 0's likes are left


def test_db_upgrade_rebuilds_the_rollup_with_progress():
    """A store at 0009 (no account_post_hourly) gets it rebuilt from the snapshots by
    `db upgrade`, which reports (done, total) as it goes."""
    from postcli.services.database import upgrade
    from postcli.store.migrate import alembic_config
    from postcli.store.session import SCHEMA_HEAD, engine

    targets = _fresh_store()
    _write(targets, [(i % 4, 90 * i, i, None, i % 3, i % 2 == 0) for i in range(60)])
    expected = _table()
    assert expected
    from alembic import command

    with engine().begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0009")
    calls: list[tuple[int, int]] = []
    before, after = upgrade(progress=lambda done, total: calls.append((done, total)))
    assert (before, after) == ("0009", SCHEMA_HEAD)
    assert _table() == expected
    assert calls and calls[-1] == (60, 60)  # (snapshots done, snapshots in all)


@settings(max_examples=25)
@given(
    series=st.lists(snapshot, min_size=1, max_size=25),
    end_min=st.integers(1, 36 * 60),
    sort=st.sampled_from(("engagement", "likes", "engagement_rate")),
)
def test_reports_as_of_a_past_end_equal_the_snapshots(series, end_min, sort):
    """A period that ended in the past reads a target's latest row when it is older than the
    end, else its latest snapshot before the end: either way what the snapshots say."""
    from postcli.services.reports import ReportQuery, platforms, top
    from postcli.store.dbapi import open_reader
    from postcli.store.session import session_scope

    targets = _fresh_store()
    _write(targets, series)
    end = T0 + timedelta(minutes=end_min)
    q = ReportQuery(start=T0 - timedelta(hours=1), end=end)
    now = T0 + timedelta(days=30)
    with open_reader() as db:
        rows = {
            r.platform: (r.targets, r.engagement, r.likes, r.comments, r.shares)
            for r in platforms(db, q, now=now).platforms
        }
        ranked = [(p.target_id, p.engagement, p.likes) for p in top(db, q, sort=sort, limit=10, now=now).posts]
    with session_scope() as s:
        snaps = (
            s.connection()
            .exec_driver_sql(
                "SELECT s.target_id, t.platform, s.captured_at, s.id, s.engagement, s.likes, s.comments, s.shares "
                "FROM post_metric_snapshots s JOIN post_targets t ON t.id = s.target_id ORDER BY s.captured_at, s.id"
            )
            .fetchall()
        )
    as_of: dict[int, tuple] = {}
    platform_of = {}
    for tid, platform, at, _id, *values in snaps:
        at = at if isinstance(at, datetime) else datetime.fromisoformat(at)
        platform_of[tid] = platform
        if at.replace(tzinfo=UTC) < end:
            as_of[tid] = tuple(values)
    want: dict[str, list] = {}
    for tid, acc in targets:
        platform = "bluesky" if acc == targets[0][1] else "mastodon"
        row = want.setdefault(platform, [0, None, None, None, None])
        row[0] += 1
        for i, v in enumerate(as_of.get(tid, (None,) * 4)):
            if v is not None:
                row[i + 1] = (row[i + 1] or 0) + v
    assert rows == {p: tuple(v) for p, v in want.items()}
    got = {tid: (eng, likes) for tid, eng, likes in ranked}
    assert got == {tid: as_of.get(tid, (None, None))[:2] for tid, _acc in targets}


def test_rebuild_in_small_steps_equals_the_writes():
    """The rebuild streams snapshots a step at a time; a target's rows straddle steps."""
    from postcli.store import rollup
    from postcli.store.session import session_scope

    targets = _fresh_store()
    _write(targets, [(i % 4, 37 * i, i, None if i % 5 else i, i % 3, i % 2 == 0) for i in range(80)])

    def reported() -> list[tuple]:
        with session_scope() as s:
            sql = f"SELECT target_id, {', '.join(rollup.REPORTED)} FROM post_metric_latest ORDER BY target_id"
            return [tuple(r) for r in s.connection().exec_driver_sql(sql)]

    written, written_reported = _table(), reported()
    calls: list[tuple[int, int]] = []
    with session_scope() as s:
        s.connection().exec_driver_sql(f"UPDATE post_metric_latest SET {rollup.REPORTED[0]} = NULL")
        rollup.rebuild(s.connection(), lambda done, total: calls.append((done, total)), step=7)
    assert _table() == written and reported() == written_reported
    assert calls[0] == (7, 80) and calls[-1] == (80, 80)
