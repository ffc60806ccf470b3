"""The rollups the reports read: the per-account hourly gains (account_post_hourly) the
timeline reads, and the sums by publish and capture day (published_sums) overview and
platforms read.

Random snapshot series (Hypothesis: out of order, NULLs, batches and single writes, a
deleted post) must leave both tables equal to their rebuild from the snapshots, and the
reports over them equal to the same reports computed here from the snapshots alone.
`db upgrade` rebuilds them (migrations 0010, 0011) with progress."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from postcli.metrics import HOURLY_COUNTERS
from postcli.platforms.base import PostMetrics
from postcli.store.driver import SCHEMA_HEAD

UTC = timezone.utc
T0 = datetime(2024, 3, 1, tzinfo=UTC)
ZONES = ("UTC", "Europe/Berlin", "Asia/Kolkata", "America/St_Johns")
LIVE_H = (-20, 3, 30)  # hours after T0 each post went live

counter = st.one_of(st.none(), st.integers(0, 50))
snapshot = st.tuples(
    st.integers(0, 3),  # target
    st.integers(0, 36 * 60 - 1),  # minute after T0: a day and a half, so hours often repeat
    counter,
    counter,
    counter,
    st.booleans(),  # batch write (record_post_snapshots) or one (record_post_snapshot)
)


# A snapshot series and a period around it, ending before, at or after "now" (minutes after T0).
PERIODS = {
    "series": st.lists(snapshot, min_size=1, max_size=25),
    "start_min": st.integers(-30 * 60, 40 * 60),
    "length_min": st.integers(1, 3 * 24 * 60),
    "now_min": st.integers(-24 * 60, 5 * 24 * 60),
}


def _fresh_store(minutes: tuple[int, int, int] = (0, 0, 0)) -> list[tuple[int, int]]:
    """Empty the store (the cascade takes everything) and make 2 accounts and 3 posts (live at
    LIVE_H hours after T0, plus `minutes`); the (target id, account id) pairs, the last post on
    both accounts."""
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
            # Live on three UTC days (the day before T0, T0's, the day after), so periods have
            # whole days and parts of days.
            live = T0 + timedelta(hours=LIVE_H[i], minutes=minutes[i])
            p = Post(text=f"p{i}", status="completed", published_at=live, correlation_id=f"c{i}")
            s.add(p)
            for a in accs:
                p.targets.append(
                    PostTarget(
                        account_id=a.id,
                        platform=a.platform,
                        status="completed",
                        idempotency_key=f"k{i}-{a.id}",
                        platform_post_id=f"x{i}-{a.id}",
                        # the post on both accounts goes live on the second two hours later
                        completed_at=live + timedelta(hours=2 if i == 2 and a is accounts[1] else 0),
                    )
                )
        s.flush()
        out = [(t.id, t.account_id) for p in s.query(Post).order_by(Post.id) for t in p.targets]
    return out


def _write(targets: list[tuple[int, int]], series: list[tuple]) -> None:
    from postcli.services.snapshots import TargetRef, record_post_snapshot, record_post_snapshots
    from postcli.store.models import PostTarget
    from postcli.store.session import session_scope

    # A target written twice at one minute keeps the second write (services/snapshots.py).
    for idx, minute, likes, comments, shares, batch in series:
        tid, acc = targets[idx]
        m = PostMetrics(
            likes=likes,
            comments=comments,
            shares=shares,
            impressions=None if likes is None else 10 * likes + minute % 5,
            reach=None if comments is None else comments + 3,
        )
        followers = None if minute % 3 == 0 else minute % 4 * (7 + minute % 11)  # 0 followers too: no rate
        when = T0 + timedelta(minutes=minute)
        with session_scope() as s:
            if batch:
                record_post_snapshots(s, [(TargetRef(tid, acc), m, followers)], when)
            else:
                record_post_snapshot(s, s.get(PostTarget, tid), m, when, follower_count=followers)


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


def _sums() -> dict[tuple, tuple]:
    """published_sums, the rate's float sum to 9 places (added in another order by the writer
    than by the rebuild), rows that say nothing left out."""
    from postcli.store.published import COLUMNS
    from postcli.store.session import session_scope

    rate = COLUMNS.index("rate")
    with session_scope() as s:
        rows = s.connection().exec_driver_sql(f"SELECT {', '.join(COLUMNS)} FROM published_sums").fetchall()
        hours = s.connection().exec_driver_sql("SELECT * FROM published_hours").fetchall()
    out = {}
    for r in rows:
        values = [round(v, 9) if i == rate else v for i, v in enumerate(r)][3:]
        if any(values):
            out[tuple(r[:3])] = tuple(v + 0.0 if isinstance(v, float) else v for v in values)
    # published_hours (engagement by publish hour and capture day) too, under keys of its own.
    out.update({("hours", *r[:3]): tuple(r[3:]) for r in hours if any(r[3:])})
    return out


def _peaks() -> tuple[dict, dict]:
    """Each latest row's peaks (store/published.py's PEAKS), and the highest value of each
    figure among its snapshots (the rate rounded: the writer divides in Python, this in SQL)."""
    from postcli.metrics import engagement_rate_sql
    from postcli.store.published import FIGURES, PEAKS
    from postcli.store.session import session_scope

    def rounded(rows) -> dict:
        return {r[0]: tuple(round(v, 9) if isinstance(v, float) else v for v in r[1:]) for r in rows}

    assert FIGURES[-1] == "rate"
    highest = ", ".join(f"max({c})" for c in (*FIGURES[:-1], engagement_rate_sql()))
    with session_scope() as s:
        c = s.connection()
        kept = rounded(c.exec_driver_sql(f"SELECT target_id, {', '.join(PEAKS)} FROM post_metric_latest").fetchall())
        want = rounded(
            c.exec_driver_sql(
                f"SELECT target_id, {highest} FROM post_metric_snapshots "
                "WHERE target_id IN (SELECT target_id FROM post_metric_latest) GROUP BY target_id"
            ).fetchall()
        )
    return kept, want


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
    kept, sums = _table(), _sums()
    assert kept == _rebuilt()
    assert sums == _sums()
    peaks, highest = _peaks()
    assert peaks == highest
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
    from postcli.store.session import engine

    targets = _fresh_store()
    _write(targets, [(i % 4, 90 * i, i, None, i % 3, i % 2 == 0) for i in range(60)])
    expected, expected_sums = _table(), _sums()
    assert expected and expected_sums
    from alembic import command

    with engine().begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0009")
    calls: list[tuple[int, int]] = []
    before, after = upgrade(progress=lambda done, total: calls.append((done, total)))
    assert (before, after) == ("0009", SCHEMA_HEAD)
    assert _table() == expected and _sums() == expected_sums
    assert calls and calls[-1] == (60, 60)  # (snapshots done, snapshots in all)


def _scenario(
    series: list[tuple],
    start_min: int,
    length_min: int,
    now_min: int,
    one_account: bool,
    minutes: tuple[int, int, int] = (0, 0, 0),
    tz: str = "UTC",
) -> tuple:
    """A fresh store with `series` written, and the period (minutes after T0) as a ReportQuery:
    (targets, start, end, now, account or None, query)."""
    from postcli.services.reports import ReportQuery

    targets = _fresh_store(minutes)
    _write(targets, series)
    start = T0 + timedelta(minutes=start_min)
    end = start + timedelta(minutes=length_min)
    now = T0 + timedelta(minutes=now_min)
    account = targets[0][1] if one_account else None
    q = ReportQuery(start=start, end=end, tz=tz, account=None if account is None else str(account))
    return targets, start, end, now, account, q


def _aware(v) -> datetime:
    """A stored time (text on SQLite) as aware UTC."""
    return (v if isinstance(v, datetime) else datetime.fromisoformat(v)).replace(tzinfo=UTC)


def _cutoff(end: datetime, now: datetime) -> datetime | None:
    """What a period ending at `end` is read as of (docs/reports.md), None for the latest."""
    if end >= now:
        return None
    day_end = end.replace(hour=0, minute=0, second=0, microsecond=0)
    day_end += timedelta(days=1) if day_end < end else timedelta(0)
    return None if day_end >= now else day_end


def _reference(start: datetime, end: datetime, now: datetime, account: int | None) -> tuple[dict, dict]:
    """platforms' rows and each target's (engagement, likes), from the snapshots alone, as
    docs/reports.md defines them: the targets that went live in [start, end), each as of its
    last snapshot (before the end of the UTC day the period ended in, when that is before now)."""
    from postcli.store.session import session_scope

    with session_scope() as s:
        c = s.connection()
        snaps = c.exec_driver_sql(
            "SELECT target_id, captured_at, engagement, likes, comments, shares, impressions, reach, follower_count "
            "FROM post_metric_snapshots ORDER BY captured_at, target_id"
        ).fetchall()
        targets = c.exec_driver_sql(
            "SELECT t.id, t.post_id, t.account_id, t.platform, t.completed_at FROM post_targets t ORDER BY t.id"
        ).fetchall()
        platforms = dict(c.exec_driver_sql("SELECT id, platform FROM accounts").fetchall())

    aware, cut = _aware, _cutoff(end, now)
    as_of: dict[int, tuple] = {}
    for tid, at, *values in snaps:
        if cut is None or aware(at) < cut:
            as_of[tid] = tuple(values)
    collected = {tid for tid, *_rest in snaps}
    if not any(tid in collected for tid, _p, acc, *_r in targets if account in (None, acc)):
        return {"": (0, 0)}, {}  # "no metrics collected yet" in the scope: nothing at all to report
    rows: dict[str, dict] = {}
    for name in sorted(set(platforms.values()) if account is None else {platforms[account]}):
        rows[name] = {"posts": set(), "targets": 0, "figures": [[] for _ in range(7)]}
    ranked = {}
    for tid, post_id, acc, platform, live in targets:
        if (account is not None and acc != account) or not start <= aware(live) < end:
            continue
        row = rows[platform]
        row["posts"].add(post_id)
        row["targets"] += 1
        eng, likes, comments, shares, impressions, reach, followers = as_of.get(tid, (None,) * 7)
        rate = None if eng is None or not followers or followers <= 0 else eng / followers
        for i, v in enumerate((eng, likes, comments, shares, impressions, reach, rate)):
            if v is not None:
                row["figures"][i].append(v)
        ranked[tid] = (eng, likes, rate)
    # overview's posts: each post counted where its first live target (by time, then id) is,
    # among the targets in scope
    firsts: dict[int, tuple] = {}
    for tid, post_id, acc, _platform, live in targets:
        if account in (None, acc):
            firsts[post_id] = min(firsts.get(post_id, (aware(live), tid)), (aware(live), tid))
    in_period = {tid for _p, (live, tid) in firsts.items() if start <= live < end}
    totals = (len(in_period), sum(r["targets"] for r in rows.values()))
    out: dict = {"": totals}
    for name, row in rows.items():
        eng, likes, comments, shares, impressions, reach, rate = (sum(v) if v else None for v in row["figures"])
        n_eng, n_rate = len(row["figures"][0]), len(row["figures"][6])
        out[name] = (
            len(row["posts"]),
            row["targets"],
            eng,
            None if not n_eng else round(eng / n_eng, 9),
            None if not n_rate else round(rate / n_rate, 9),
            likes,
            comments,
            shares,
            impressions,
            reach,
        )
    return out, ranked


@settings(max_examples=60)
@given(
    **PERIODS,
    sort=st.sampled_from(("engagement", "likes", "engagement_rate")),
    one_account=st.booleans(),
)
# Starting half an hour after post 1 went live (T0 + 3 h), in its hour: ending now, and ended.
@example([(1, 300, 7, 1, 0, True)], 3 * 60 + 30, 2 * 24 * 60, 24 * 60, "likes", False)
@example([(1, 300, 7, 1, 0, True)], 3 * 60 + 30, 2 * 24 * 60, 4 * 24 * 60, "likes", False)
def test_platforms_and_top_equal_the_snapshots(series, start_min, length_min, now_min, sort, one_account):
    """Read from the rollups (whole UTC days) and the targets (parts of days at the edges),
    platforms says what the snapshots say; so does top, read from the targets."""
    from postcli.services.reports import overview, platforms, top
    from postcli.store.dbapi import open_reader

    targets, start, end, now, account, q = _scenario(series, start_min, length_min, now_min, one_account)
    with open_reader() as db:
        rows = {
            r.platform: (
                r.posts,
                r.targets,
                r.engagement,
                None if r.avg_engagement_per_post is None else round(r.avg_engagement_per_post, 9),
                None if r.engagement_rate is None else round(r.engagement_rate, 9),
                r.likes,
                r.comments,
                r.shares,
                r.impressions,
                r.reach,
            )
            for r in platforms(db, q, now=now).platforms
        }
        ranked = {p.target_id: (p.engagement, p.likes) for p in top(db, q, sort=sort, limit=10, now=now).posts}
        over = overview(db, q, now=now)
    want_rows, want_ranked = _reference(start, end, now, account)
    assert (over.posts_published, over.targets_published) == want_rows.pop("", (0, 0))
    assert rows == want_rows
    assert ranked == {t: v[:2] for t, v in want_ranked.items()}


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


def test_a_rebuild_past_its_memory_writes_each_sum_once(monkeypatch):
    """Past FLUSH keys the rebuild sets its published sums aside and adds them up at the end:
    the same table as the writes made, each row written once (a row rewritten by every part
    that shares its key was, on PostgreSQL, a dead row version each time)."""
    from postcli.store import rollup
    from postcli.store.session import session_scope

    targets = _fresh_store()
    _write(targets, [(i % 4, 37 * i, i, None if i % 5 else i, i % 3, i % 2 == 0) for i in range(80)])
    written = _sums()
    monkeypatch.setattr(rollup, "FLUSH", 2)  # a part every step: every totals row is in several
    with session_scope() as s:
        c = s.connection()
        c.exec_driver_sql("CREATE TEMP TABLE sums_updates (n INTEGER)")
        c.exec_driver_sql(
            "CREATE TEMP TRIGGER count_sums_updates AFTER UPDATE ON main.published_sums "
            "BEGIN INSERT INTO sums_updates VALUES (1); END"
        )
        rollup.rebuild(c, step=7, hourly=False)
        updates = c.exec_driver_sql("SELECT count(*) FROM sums_updates").scalar_one()
        c.exec_driver_sql("DROP TRIGGER count_sums_updates")
        c.exec_driver_sql("DROP TABLE sums_updates")
    assert _sums() == written
    assert updates == 0


def test_a_period_that_ended_reads_its_whole_days_as_of_the_cutoff():
    """Post 1 went live at T0 + 3 h; T0's day is whole in both periods. Ending at a UTC midnight
    the cutoff is the end itself; ending a minute later, the end of that day."""
    from postcli.services.reports import ReportQuery, platforms
    from postcli.store.dbapi import open_reader

    targets = _fresh_store()
    _write(targets, [(1, 5 * 60, 1, None, None, True), (1, 30 * 60, 10, None, None, False)])
    now = T0 + timedelta(days=5)
    start = T0 - timedelta(hours=1)
    for end, likes in ((T0 + timedelta(days=1), 1), (T0 + timedelta(days=1, minutes=1), 10), (now, 10)):
        with open_reader() as db:
            rows = {r.platform: r.likes for r in platforms(db, ReportQuery(start=start, end=end), now=now).platforms}
        assert rows == {"bluesky": None, "mastodon": likes}, end
        assert _reference(start, end, now, None)[0]["mastodon"][5] == likes


def test_bounds_given_in_another_zone_cut_the_same_utc_days():
    """A ReportQuery's bounds need only be aware: the same moments in Europe/Berlin read the
    same whole UTC days and cutoff as in UTC."""
    from postcli.services.reports import ReportQuery, overview, platforms
    from postcli.store.dbapi import open_reader

    targets = _fresh_store()
    _write(targets, [(1, 5 * 60, 1, None, None, True), (1, 30 * 60, 10, None, None, False), (0, 60, 3, 1, 1, True)])
    berlin = ZoneInfo("Europe/Berlin")
    now = T0 + timedelta(days=5)
    for start, end in ((T0 - timedelta(hours=21), T0 + timedelta(days=1)), (T0 - timedelta(hours=1), now)):
        utc = ReportQuery(start=start, end=end)
        local = ReportQuery(start=start.astimezone(berlin), end=end.astimezone(berlin))
        with open_reader() as db:
            want = [r.as_json() for r in platforms(db, utc, now=now).platforms]
            assert want and [r.as_json() for r in platforms(db, local, now=now).platforms] == want
            assert overview(db, local, now=now).body() == overview(db, utc, now=now).body()


def _reference_slots(start: datetime, end: datetime, now: datetime, account: int | None, zone: str) -> dict:
    """{(local weekday, hour): (targets, reported, mean engagement)} of the targets that went live
    in [start, end), from the snapshots alone, engagement as of the cutoff (docs/reports.md)."""
    from postcli.store.session import session_scope

    with session_scope() as s:
        c = s.connection()
        snaps = c.exec_driver_sql(
            "SELECT target_id, captured_at, engagement FROM post_metric_snapshots ORDER BY captured_at, target_id"
        ).fetchall()
        targets = c.exec_driver_sql("SELECT id, account_id, completed_at FROM post_targets").fetchall()

    aware, cut = _aware, _cutoff(end, now)
    as_of = {tid: eng for tid, at, eng in snaps if cut is None or aware(at) < cut}
    collected = {tid for tid, _at, _eng in snaps}
    if not any(tid in collected for tid, acc, _live in targets if account in (None, acc)):
        return {}  # "no metrics collected yet" in the scope
    slots: dict = defaultdict(lambda: [0, 0, 0])
    for tid, acc, live in targets:
        if account in (None, acc) and start <= aware(live) < end:
            local = aware(live).astimezone(ZoneInfo(zone))
            slot = slots[(local.weekday(), local.hour)]
            slot[0] += 1
            if as_of.get(tid) is not None:
                slot[1] += 1
                slot[2] += as_of[tid]
    return {k: (n, r, None if not r else round(e / r, 9)) for k, (n, r, e) in slots.items()}


@settings(max_examples=60)
@given(
    **PERIODS,
    zone=st.sampled_from(ZONES),
    one_account=st.booleans(),
)
# Ending now, cutting the hours that hold post 0 (live at T0 - 19:43; the period starts after it
# in its hour) and post 1 (T0 + 3:40; the period ends before it in its hour).
@example([(0, 60, 5, 1, 1, True), (1, 300, 7, 0, 0, False)], -19 * 60 - 30, 23 * 60, 3 * 60 + 30, "UTC", False)
@example([(0, 60, 5, 1, 1, True), (1, 300, 7, 0, 0, False)], -19 * 60 - 30, 24 * 60, 0, "Europe/Berlin", False)
# Ended (T0 to T0 + 5 h, cut off at T0 + 24 h) with post 1's hour whole, and post 1 changed after
# the cutoff: its hour is read from the rollups as of the cutoff.
@example([(1, 300, 7, 0, 0, True), (1, 26 * 60, 20, 1, 0, False)], 0, 5 * 60, 3 * 24 * 60, "UTC", False)
# The same, post 1 first collected after the cutoff: it was not reported as of then.
@example([(0, 60, 5, 1, 1, True), (1, 26 * 60, 20, 1, 0, True)], 0, 5 * 60, 3 * 24 * 60, "UTC", False)
def test_heatmap_and_best_times_equal_the_snapshots(series, start_min, length_min, now_min, zone, one_account):
    """In a zone of whole hours, they read the whole UTC hours from the rollups by publish hour
    (as of a past cutoff: less what was captured from its day on) and the parts of hours at the
    edges from the targets; otherwise target by target. Either way they say what the snapshots say. The posts go live at minutes
    past the hour, so the edges cut hours that hold them."""
    from postcli.services.reports import heatmap
    from postcli.services.reports.best_times import best_times
    from postcli.store.dbapi import open_reader

    _targets, start, end, now, account, q = _scenario(
        series, start_min, length_min, now_min, one_account, minutes=(17, 40, 5), tz=zone
    )
    with open_reader() as db:
        heat = heatmap(db, q, now=now)
        best = best_times(db, q, now=now)
    want = _reference_slots(start, end, now, account, zone)
    cells = {
        (c.weekday, c.hour): (c.posts, None if c.mean_engagement is None else round(c.mean_engagement, 9))
        for c in heat.cells
        if c.posts
    }
    assert cells == {k: (n, mean) for k, (n, _r, mean) in want.items()}
    slots = {
        (x.weekday, x.hour): (
            x.posts,
            x.reported_posts,
            None if x.mean_engagement is None else round(x.mean_engagement, 9),
        )
        for x in (*best.ranked, *best.thin)
    }
    assert slots == want


_TIES = [(i, 60, 5, 0, 0, True) for i in range(4)]  # every target at engagement 5
_APART = [(i, 60, 9 - i, 0, 0, True) for i in range(4)]
_TWO = [(0, 60, 5, 0, 0, True), (1, 60, 6, 0, 0, True)]  # two targets have no engagement at all
_FELL = [(1, 300, 50, 0, 0, True), (1, 49 * 60, 1, 0, 0, False), (2, 35 * 60, 10, 0, 0, True)]
_WHOLE = {"start_min": -1800, "length_min": 4320, "one_account": False}  # T0 - 30 h for 3 days
# Post 0 goes live at T0 + 31:40, between post 2's targets: target ids are not in publish order.
_TOP_MINUTES = (51 * 60 + 40, 40, 5)


@settings(max_examples=60)
@given(
    **PERIODS,
    limit=st.integers(1, 4),
    candidates=st.sampled_from(((1, 2), (1,), (100, 1000))),
    one_account=st.booleans(),
    sort=st.sampled_from(("engagement", "likes", "engagement_rate")),
)
# Every target ties on engagement: the order is by publish time, and no walk may stop at a tie.
# Whole period (T0 - 30 h for 3 days), ending now.
@example(series=_TIES, now_min=2400, limit=2, candidates=(1, 2), sort="engagement", **_WHOLE)
@example(series=_TIES, now_min=2400, limit=3, candidates=(100,), sort="engagement", **_WHOLE)
@example(series=_APART, now_min=2400, limit=1, candidates=(2,), sort="engagement", **_WHOLE)
@example(series=_TWO, now_min=2400, limit=3, candidates=(100,), sort="engagement", **_WHOLE)
# Ended (cut off at T0 + 48 h): post 1 had 50 then, 1 since; post 2 has 10. The walk must go by
# the highest engagement ever, not the latest; and likes the same way by the highest likes.
@example(series=_FELL, now_min=7200, limit=1, candidates=(1,), sort="engagement", **_WHOLE)
@example(series=_FELL, now_min=7200, limit=1, candidates=(1,), sort="likes", **_WHOLE)
def test_top_by_engagement_is_the_snapshots_order(
    series, start_min, length_min, now_min, limit, candidates, one_account, sort, monkeypatch
):
    """Top walks the index on the targets' highest value of what it sorts by (k = a few per
    target asked for, then more, then the period target by target); whichever way it ends, its
    ranking is the snapshots' order as of the period's cutoff: the value (NULL last), then the
    later publish time, then the higher target id. Few candidates per target (1, 2) make it go past its
    first walks; the posts tie often (counters 0-50)."""
    from postcli.services.reports import ranking, top
    from postcli.store.dbapi import open_reader

    monkeypatch.setattr(ranking, "CANDIDATES", candidates)
    targets, start, end, now, account, q = _scenario(
        series, start_min, length_min, now_min, one_account, minutes=_TOP_MINUTES
    )

    def value(v):  # the rate to 9 places: the report divides in SQL, the reference in Python
        return round(v, 9) if isinstance(v, float) else v

    with open_reader() as db:
        got = [(p.target_id, value(getattr(p, sort))) for p in top(db, q, sort=sort, limit=limit, now=now).posts]
    i = ("engagement", "likes", "engagement_rate").index(sort)
    ranked = {t: value(v[i]) for t, v in _reference(start, end, now, account)[1].items()}
    live = {tid: T0 + timedelta(hours=LIVE_H[i], minutes=_TOP_MINUTES[i]) for i, (tid, _a) in enumerate(targets[:3])}
    live[targets[3][0]] = live[targets[2][0]] + timedelta(hours=2)
    order = sorted(ranked, key=lambda t: (ranked[t] is None, -(ranked[t] or 0), -live[t].timestamp(), -t))
    assert got == [(t, ranked[t]) for t in order[:limit]]


def test_top_walks_the_engagement_index_through_ties(monkeypatch):
    """The walk answers without reading the period when it can: its last value's ties are read
    whole (so a tie at the k-th candidate does not send it to the period), and a tie wider than
    MOST does."""
    from postcli.services.reports import ReportQuery, ranking
    from postcli.services.reports.scope import Scope
    from postcli.store.dbapi import open_reader

    monkeypatch.setattr(ranking, "CANDIDATES", (1,))
    q = ReportQuery(start=T0 - timedelta(hours=30), end=T0 + timedelta(days=2))
    sc = Scope(q=q, platform=None, account=None, dialect="sqlite")
    now = T0 + timedelta(days=2)
    for series, want in ((_APART, [1, 2]), (_TIES, [4, 1])):
        targets = _fresh_store(minutes=_TOP_MINUTES)  # (peaks are kept: each series on its own)
        _write(targets, series)
        with open_reader() as db:
            found = ranking._best(db, sc, now, "engagement", 2)
        assert found == [targets[i - 1][0] for i in want]
        monkeypatch.setattr(ranking, "MOST", 1)
        with open_reader() as db:
            assert ranking._best(db, sc, now, "engagement", 2) is None
        monkeypatch.setattr(ranking, "MOST", 5000)


def test_a_period_is_settled_when_its_posts_did_not_change_since_its_cutoff():
    """days_since_cutoff: a period that ended is read as of now (no capture days to take out)
    when no figure of its posts (in scope) changed on or after its cutoff's day; a change to a
    post of the period, and only to one in scope, keeps the cutoff: the days from it to the last
    capture."""
    from postcli.services.reports import ReportQuery
    from postcli.services.reports.period_sums import days_since_cutoff
    from postcli.services.reports.scope import AccountRef, Scope
    from postcli.store.dbapi import open_reader

    targets = _fresh_store()
    # Post 0 (T0 - 20 h, account 1) and post 1 (T0 + 3 h, account 2) collected on T0's day.
    _write(targets, [(0, 60, 5, 1, 1, True), (1, 240, 7, 0, 0, True)])
    now = T0 + timedelta(days=5)
    q = ReportQuery(start=T0 - timedelta(days=1), end=T0 + timedelta(hours=12))  # cutoff: T0 + 1 day
    cut = T0 + timedelta(days=1)

    def since(account: int | None = None) -> list[datetime]:
        ref = (
            None if account is None else AccountRef(account, "bluesky" if account == targets[0][1] else "mastodon", "h")
        )
        with open_reader() as db:
            sc = Scope(q=q, platform=None, account=ref, dialect=db.dialect)
            return days_since_cutoff(db, sc, now, sc.account_platforms(db))

    assert since() == []  # nothing captured after T0's day
    _write(targets, [(1, 26 * 60, 9, 0, 0, False)])  # post 1 changes on the cutoff's day
    assert since() == [cut] and since(targets[1][1]) == [cut]
    assert since(targets[0][1]) == []  # post 0's account: nothing of its changed
    _write(targets, [(2, 50 * 60, 3, 0, 0, True)])  # post 2 is not in the period
    assert since(targets[0][1]) == [] and since() == [cut, cut + timedelta(days=1)]
