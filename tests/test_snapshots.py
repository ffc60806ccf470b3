"""services/snapshots.record_post_snapshots: a batch leaves exactly the rows that
record_post_snapshot one item at a time leaves (latest with its reported values, the accounts'
hourly gains, targets)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from postcli.platforms.base import PostMetrics
from support.builders import paired_targets as _targets

UTC = timezone.utc
T0 = datetime(2024, 3, 1, 10, 15, tzinfo=UTC)


def _record(one: list[int], batch: list[int], rounds: list[tuple[datetime, list[tuple[int, PostMetrics, int | None]]]]):
    """Each round: items as (index into the target lists, metrics, follower_count)."""
    from postcli.services.snapshots import record_post_snapshot, record_post_snapshots
    from postcli.store.models import PostTarget
    from postcli.store.session import session_scope

    for when, items in rounds:
        with session_scope() as s:
            for i, m, f in items:
                record_post_snapshot(s, s.get(PostTarget, one[i]), m, when, follower_count=f)
        with session_scope() as s:
            record_post_snapshots(s, [(s.get(PostTarget, batch[i]), m, f) for i, m, f in items], when)


def _state(target_ids: list[int]) -> list[dict]:
    from sqlalchemy import select

    from postcli.store import rollup
    from postcli.store.models import PostMetricLatest, PostMetricSnapshot, PostTarget
    from postcli.store.published import PEAKS
    from postcli.store.session import session_scope

    counters = (
        "impressions",
        "reach",
        "views",
        "likes",
        "comments",
        "shares",
        "quotes",
        "saves",
        "clicks",
        "video_views",
        "engagement",
        "follower_count",
    )
    out = []
    with session_scope(readonly=True) as s:
        for tid in target_ids:
            target = s.get(PostTarget, tid)
            latest = s.get(PostMetricLatest, tid)
            snaps = s.scalars(
                select(PostMetricSnapshot)
                .where(PostMetricSnapshot.target_id == tid)
                .order_by(PostMetricSnapshot.captured_at)
            ).all()
            history = rollup.target_history(s.connection(), [tid])
            out.append(
                {
                    "last_metrics_at": target.last_metrics_at,
                    "latest": None
                    if latest is None
                    else {
                        "captured_at": latest.captured_at,
                        # the snapshot it copies, by position in the target's history
                        "snapshot": [x.captured_at for x in snaps].index(latest.captured_at),
                        **{k: getattr(latest, k) for k in (*counters, *rollup.REPORTED, *PEAKS)},
                    },
                    "snapshots": [(x.captured_at, x.raw, *(getattr(x, k) for k in counters)) for x in snaps],
                    # per UTC hour: the gains of likes, comments, shares, engagement, then how many reported
                    "gains": sorted(
                        (_hour(h), *c) for (h, acc), c in history.hourly.items() if acc == target.account_id
                    ),
                    # per (publish day or, in the totals, hour; capture day): what it adds to
                    # published_sums, rate rounded
                    "sums": sorted(
                        (str(day)[:13], str(cap)[:10], *(round(v, 9) for v in c))
                        for (day, cap, _acc), c in (history.published.sums or {}).items()
                    ),
                    # per (publish hour, capture day) numbers: what it adds to published_hours
                    "hours": sorted((h, d, *c) for (h, d, _acc), c in (history.published.hours or {}).items()),
                }
            )
    return out


def _hour(stored) -> int:  # a stored hour's hour of day (text on SQLite, a datetime on PostgreSQL)
    return stored.hour if isinstance(stored, datetime) else int(stored[11:13])


def _account_rows(account_id: int) -> list[tuple]:
    from postcli.store.session import session_scope

    with session_scope(readonly=True) as s:
        rows = s.connection().exec_driver_sql(
            f"SELECT hour, likes, comments, shares, engagement, likes_n, comments_n, shares_n, engagement_n "
            f"FROM account_post_hourly WHERE account_id = {account_id} ORDER BY hour"
        )
        return [(_hour(r[0]), *r[1:]) for r in rows if any(r[1:])]


def _published_rows(account_id: int) -> list[tuple]:
    from postcli.store.published import COUNTS, FIGURES
    from postcli.store.session import session_scope

    with session_scope(readonly=True) as s:
        rows = s.connection().exec_driver_sql(
            f"SELECT went_live, captured_day, {', '.join((*FIGURES, *COUNTS))} FROM published_sums "
            f"WHERE account_id = {account_id} ORDER BY went_live, captured_day"
        )
        # went_live to the hour: the totals' rows are by publish hour
        return [(str(r[0])[:13], str(r[1])[:10], *(round(v, 9) for v in r[2:])) for r in rows if any(r[2:])]


def _hour_rows(account_id: int) -> list[tuple]:
    from postcli.store.session import session_scope

    with session_scope(readonly=True) as s:
        rows = s.connection().exec_driver_sql(
            "SELECT went_live, captured_day, engagement, engagement_n FROM published_hours "
            f"WHERE account_id = {account_id} ORDER BY went_live, captured_day"
        )
        return [tuple(r) for r in rows if any(r[2:])]


def _account_of(target_id: int) -> int:
    from postcli.store.models import PostTarget
    from postcli.store.session import session_scope

    with session_scope(readonly=True) as s:
        return s.get(PostTarget, target_id).account_id


def M(likes=None, comments=None, shares=None, **kw) -> PostMetrics:
    return PostMetrics(likes=likes, comments=comments, shares=shares, **kw)


def test_batch_equals_one_by_one_including_nulls_and_out_of_order(backend):
    one, batch = _targets(7)
    rounds = [
        # 0: full counters; 1: comments never reported; 2: nothing reported at all (NULL, never 0);
        # 3: starts later; 4: shares reported, then skipped, then back; 5: only views;
        # 6: shares skipped for an hour, in order.
        (
            T0,
            [
                (0, M(5, 1, 0, raw={"a": 1}), 100),
                (1, M(3, None, 1), None),
                (2, M(), 100),
                (4, M(1, 1, 2), 100),
                (5, PostMetrics(views=9), None),
                (6, M(1, 1, 2), None),
            ],
        ),
        # same hour, newer: replaces the hour's row, deltas still from the previous hour (none yet)
        (
            T0 + timedelta(minutes=30),
            [(0, M(6, 1, 0), 100), (1, M(4, None, 1), None), (2, M(), 100), (4, M(2, 1, None), 100)],
        ),
        (
            T0 + timedelta(hours=1, minutes=5),
            [
                (0, M(8, 2, 1), 101),
                (1, M(4, None, 2), None),
                (2, M(), None),
                (3, M(1, 0, 0), 101),
                (4, M(3, None, None), 101),
                (5, PostMetrics(views=12), None),
                (6, M(1, 1, None), None),
            ],
        ),
        # two hours later: 4's shares come back (delta counts from the last non-NULL value, 2)
        (
            T0 + timedelta(hours=3),
            [(0, M(8, 2, 1), 101), (3, M(4, 1, 0), None), (4, M(5, 2, 4), 101), (6, M(2, 1, 5), None)],
        ),
        # out of order: older than what 0 and 4 hold (later deltas recomputed); 1 and 3 are new hours
        (
            T0 + timedelta(hours=2),
            [(0, M(7, 2, 1), 101), (1, M(5, None, 2), None), (4, M(4, 1, 3), 101), (3, M(2, 1, 0), None)],
        ),
        # older than the stored capture of the same hour: changes neither latest nor hourly
        (T0 + timedelta(hours=3) - timedelta(minutes=1), [(3, M(3, 1, 0), None), (0, M(9, 9, 9), None)]),
        # the same target twice in one batch
        (T0 + timedelta(hours=5), [(2, M(1, None, None), 100), (2, M(2, None, None), 100), (5, M(1), None)]),
    ]
    _record(one, batch, rounds)
    expected, got = _state(one), _state(batch)
    assert got == expected

    # The accounts' hourly sums agree too, and equal their rebuild from the snapshots.
    assert _account_rows(_account_of(batch[0])) == _account_rows(_account_of(one[0]))
    by_target: dict = {}
    for x in got:
        for hour, *change in x["gains"]:
            by_target[hour] = [a + b for a, b in zip(by_target.get(hour, [0] * 8), change)]
    assert _account_rows(_account_of(batch[0])) == sorted((h, *c) for h, c in by_target.items() if any(c))

    # And the sums by publish and capture day: the same on both accounts, and what the
    # targets' histories add up to.
    assert _published_rows(_account_of(batch[0])) == _published_rows(_account_of(one[0]))
    summed: dict = {}
    for x in got:
        for day, cap, *change in x["sums"]:
            summed[(day, cap)] = [a + b for a, b in zip(summed.get((day, cap), [0] * 14), change)]
    want = sorted((d, c, *(round(v, 9) for v in vals)) for (d, c), vals in summed.items() if any(vals))
    assert _published_rows(_account_of(batch[0])) == want
    assert len({d[:10] for d, *_r in want}) == 2 and any(c.startswith("9999") for _d, c, *_r in want)
    assert _hour_rows(_account_of(batch[0])) == _hour_rows(_account_of(one[0]))
    hours: dict = {}
    for x in got:
        for hour, day, *change in x["hours"]:
            hours[(hour, day)] = [a + b for a, b in zip(hours.get((hour, day), [0, 0]), change)]
    assert _hour_rows(_account_of(batch[0])) == sorted((h, d, *c) for (h, d), c in hours.items() if any(c))
    assert got[0]["hours"]  # (engagement changed: the comparison is not of two empty lists)

    # NULL stays NULL: the target that reported nothing until 15:00 gained nothing reported before.
    assert [row[1:] for row in got[2]["gains"] if row[0] < 15] == [(0,) * 8] * 2
    assert got[2]["latest"]["likes_reported"] == 2 and got[2]["latest"]["comments_reported"] is None
    assert got[2]["snapshots"][0][2:] == (None,) * 11 + (100,)  # every counter and engagement NULL
    # A skipped counter gains nothing reported, and the next value counts from the last reported
    # one (4's shares: 2 at 10:15, skipped at 10:45 and 11:20, 3 at 12:00 (written last), 4 at 13:00).
    shares = [(row[0], row[3], row[7]) for row in got[4]["gains"]]
    assert shares == [(10, 2, 1), (11, 0, 0), (12, 1, 1), (13, 1, 1)]
    assert [(row[0], row[3], row[7]) for row in got[6]["gains"]] == [(10, 2, 1), (11, 0, 0), (13, 3, 1)]
    assert got[4]["latest"]["shares_reported"] == 4 and got[6]["latest"]["shares_reported"] == 5


def test_batch_uses_a_few_statements():
    from sqlalchemy import event

    from postcli.services.snapshots import record_post_snapshots
    from postcli.store.models import PostTarget
    from postcli.store.session import engine, session_scope

    _one, batch = _targets(25)
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # noqa: ANN001
        statements.append(statement)

    for r in range(2):
        when = T0 + timedelta(hours=r)
        with session_scope() as s:
            targets = [s.get(PostTarget, tid) for tid in batch]
            statements.clear()
            event.listen(engine(), "before_cursor_execute", count)
            try:
                record_post_snapshots(s, [(t, M(r, r, None), 10) for t in targets], when)
            finally:
                event.remove(engine(), "before_cursor_execute", count)
        # read the targets with their latest rows, snapshots, latest, the accounts' hourly gains,
        # the sums by publish day, the engagement by publish hour, targets
        assert len(statements) <= 7, statements
    st = _state(batch)
    assert all(x["gains"][-1][1:] == (1, 1, 0, 2, 1, 1, 0, 1) for x in st)


def _stated(likes: int, state: str | None, raw: dict | None = None) -> PostMetrics:
    m = M(likes, raw=raw or {})
    m.platform_state = state
    return m


def test_a_platform_state_rides_with_its_snapshot_and_post_show_says_the_newest(backend, cli):
    """PostMetrics.platform_state (a post its moderators removed, still up for its author) is kept
    in the snapshot's raw by both write paths; `post show` and `post list` say what the newest
    snapshot said."""
    from sqlalchemy import select

    from postcli.services.posts.queries import show_post
    from postcli.store.models import PostMetricSnapshot, PostTarget
    from postcli.store.session import session_scope

    one, batch = _targets(2)
    _record(
        one,
        batch,
        [(T0, [(0, _stated(3, "removed by the moderators", {"score": 3}), None), (1, _stated(1, None), None)])],
    )
    for ids in (one, batch):
        with session_scope(readonly=True) as s:
            raws = [s.scalar(select(PostMetricSnapshot.raw).where(PostMetricSnapshot.target_id == t)) for t in ids]
            post_ids = [s.get(PostTarget, t).post_id for t in ids]
        assert raws == [{"score": 3, "platform_state": "removed by the moderators"}, None]
        removed, plain = (show_post(p)["targets"][0] for p in post_ids)
        assert (removed["platform_state"], plain["platform_state"]) == ("removed by the moderators", None)
    shown = cli("post", "show", str(post_ids[0]), env={"COLUMNS": "200"}).stdout
    assert "completed (removed by the moderators)" in shown
    # The plain read path of `post list` reads it too.
    listed = {p["id"]: p["targets"][0]["platform_state"] for p in cli.json("post", "list", "--limit", "50")["posts"]}
    assert (listed[post_ids[0]], listed[post_ids[1]]) == ("removed by the moderators", None)

    # Approved again: the newest snapshot says nothing, and neither does `post show`.
    _record(one, batch, [(T0 + timedelta(hours=1), [(0, _stated(4, None), None)])])
    assert show_post(post_ids[0])["targets"][0]["platform_state"] is None


def _rollup_rows() -> tuple[list, list]:
    """Both rollups, every account: account_post_hourly, then published_sums."""
    from postcli.store.models import Account
    from postcli.store.session import session_scope

    with session_scope(readonly=True) as s:
        accounts = sorted(a.id for a in s.query(Account))
    return [r for a in accounts for r in _account_rows(a)], [r for a in accounts for r in _published_rows(a)]


def test_a_second_write_at_one_instant_replaces_the_first(backend):
    """Keyed by (target, captured_at): a write at an instant the target already has replaces
    that snapshot, in order or not, on both write paths, and the store then holds exactly what
    it would had only the later write been made (target 0: the collisions, target 2: the
    writes that survive); the rollups equal their rebuild."""
    from postcli.store import rollup
    from postcli.store.session import session_scope

    one, batch = _targets(3)
    h = timedelta(hours=1)
    rounds = [
        (T0, [(0, M(5, 1, 0, raw={"a": 1}), 100), (2, M(5, 1, 0, raw={"a": 1}), 100)]),
        (T0 + h, [(0, M(9, 2, None), 100)]),
        # again at T0 + 1h, the newest: fewer likes, comments not reported
        (T0 + h, [(0, M(7, None, 1, raw={"b": 2}), 101)]),
        (T0 + 2 * h, [(0, M(20, 3, 1), 101)]),  # the highest engagement, soon replaced
        # again at T0 + 1h, now older than the newest: out of order and at an instant it has
        (T0 + h, [(0, M(6, 4, 2), 102), (2, M(6, 4, 2), 102)]),
        # again at the newest's instant, and twice at one instant in one batch
        (T0 + 2 * h, [(0, M(8, None, 2), None), (2, M(8, None, 2), None)]),
        (T0 + 3 * h, [(0, M(1, 1, 1), 7), (0, M(2, 2, 2), 8), (2, M(2, 2, 2), 8)]),
    ]
    _record(one, batch, rounds)
    got = _state(one)
    assert _state(batch) == got
    for x in (got, _state(batch)):
        for key in ("last_metrics_at", "latest", "snapshots", "gains"):
            assert x[0][key] == x[2][key], key
    assert [s[:5] for s in got[0]["snapshots"]] == [
        (T0, {"a": 1}, None, None, None),
        (T0 + h, None, None, None, None),
        (T0 + 2 * h, None, None, None, None),
        (T0 + 3 * h, None, None, None, None),
    ]
    assert [(s[5], s[6], s[7], s[-1]) for s in got[0]["snapshots"]] == [
        (5, 1, 0, 100),
        (6, 4, 2, 102),
        (8, None, 2, None),
        (2, 2, 2, 8),
    ]
    assert got[0]["latest"]["engagement_peak"] == 12  # 6 + 4 + 2 at T0 + 1h: the highest kept
    kept = _rollup_rows()
    with session_scope() as s:
        rollup.rebuild(s.connection())
    assert _rollup_rows() == kept
