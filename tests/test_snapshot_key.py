"""Snapshots keyed by (target_id, captured_at) and account snapshots by (account_id, captured_at)
(migration 0015): the migration up and down keeps every snapshot's values, makes one of two
snapshots at one instant (the last written), and leaves the rollups equal to their rebuild; a
second account snapshot at one instant replaces the first; `db copy` keeps the snapshots
between SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from postcli.store.driver import SCHEMA_HEAD
from support.builders import paired_targets
from test_snapshots import T0, M, _record, _rollup_rows

PREVIOUS = "0014"  # the revision before the snapshots were keyed

COLUMNS = (
    "target_id, captured_at, raw, impressions, reach, views, likes, comments, shares, quotes, saves, clicks, "
    "video_views, engagement, follower_count"
)


def _migrate(target: str, up: bool) -> None:
    from alembic import command

    from postcli.store.migrate import alembic_config
    from postcli.store.session import engine

    with engine().begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        (command.upgrade if up else command.downgrade)(cfg, target)


def _rows(sql: str, *params) -> list[tuple]:
    from postcli.store.driver import placeholders
    from postcli.store.session import engine

    with engine().connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(placeholders(conn, sql), params)]


def _snapshots() -> list[tuple]:
    """Every snapshot, raw as text (JSON compares the same on both backends)."""
    return [
        (r[0], str(r[1])[:26], r[2] if r[2] is None or isinstance(r[2], str) else _json(r[2]), *r[3:])
        for r in _rows(f"SELECT {COLUMNS} FROM post_metric_snapshots ORDER BY target_id, captured_at")
    ]


def _json(value) -> str:
    import json

    return json.dumps(value, separators=(",", ":"))


def _latest() -> list[tuple]:
    return [
        (r[0], str(r[1])[:26], *r[2:])
        for r in _rows(
            "SELECT target_id, captured_at, likes, engagement, likes_reported FROM post_metric_latest ORDER BY target_id"
        )
    ]


def _accounts() -> list[tuple]:
    """Every account snapshot, by key."""
    return [
        (r[0], str(r[1])[:26], *r[2:])
        for r in _rows(
            "SELECT account_id, captured_at, followers, following, posts_count, impressions, reach, profile_views "
            "FROM account_metric_snapshots ORDER BY account_id, captured_at"
        )
    ]


def _record_accounts(rounds: list[tuple]) -> None:
    """(when, account id, followers) each, written one at a time."""
    from postcli.platforms.base import AccountMetrics
    from postcli.services.snapshots import record_account_snapshot
    from postcli.store.session import session_scope

    for when, account_id, followers in rounds:
        with session_scope() as s:
            record_account_snapshot(s, account_id, AccountMetrics(followers=followers, raw={"f": followers}), when)


def _store() -> list[int]:
    """Two accounts' targets with a few snapshots each, on both write paths, and the accounts'
    own snapshots."""
    from postcli.store.models import PostTarget
    from postcli.store.session import session_scope

    one, batch = paired_targets(3)
    h = timedelta(hours=1)
    with session_scope() as s:
        accounts = [s.get(PostTarget, t).account_id for t in (one[0], batch[0])]
    _record_accounts([(T0 + k * h, a, 10 * a + k) for a in accounts for k in range(3)])
    _record(
        one,
        batch,
        [
            (T0, [(0, M(5, 1, 0, raw={"a": 1}), 100), (1, M(2), None), (2, M(1, 1, 1), 9)]),
            (T0 + h, [(0, M(9, 2, None), 100), (1, M(3, 1, 1), 5)]),
            (T0 + 2 * h, [(0, M(11, 3, 1, raw={"b": [1, 2]}), 101), (2, M(), None)]),
        ],
    )
    return one + batch


def _column_names(table: str) -> set[str]:
    from sqlalchemy import inspect

    from postcli.store.session import engine

    return {c["name"] for c in inspect(engine()).get_columns(table)}


def _index_names(table: str) -> set[str]:
    from sqlalchemy import inspect

    from postcli.store.session import engine

    return {ix["name"] for ix in inspect(engine()).get_indexes(table)}


def test_migration_0015_up_and_down_keeps_the_snapshots_and_makes_one_of_two_at_one_instant(backend):
    from postcli.services.database import upgrade
    from postcli.store import rollup
    from postcli.store.driver import placeholders, to_stored
    from postcli.store.session import engine

    targets = _store()
    snaps, latest, rollups, accounts = _snapshots(), _latest(), _rollup_rows(), _accounts()
    assert len(snaps) == 14 and len(accounts) == 6

    _migrate(PREVIOUS, up=False)
    assert _snapshots() == snaps and _latest() == latest and _rollup_rows() == rollups
    assert _accounts() == accounts
    assert "ix_pms_target_captured" in _index_names("post_metric_snapshots")
    assert "ix_ams_account_captured" in _index_names("account_metric_snapshots")
    # Each latest row points at its snapshot by id again, the ids given in capture order.
    pointed = _rows(
        "SELECT l.target_id, s.target_id, s.captured_at = l.captured_at FROM post_metric_latest l "
        "JOIN post_metric_snapshots s ON s.id = l.snapshot_id ORDER BY l.target_id"
    )
    assert [(a, b, bool(same)) for a, b, same in pointed] == [(t, t, True) for t in sorted(targets)]
    ids = _rows("SELECT id FROM post_metric_snapshots ORDER BY captured_at, target_id")
    assert [i for (i,) in ids] == sorted(i for (i,) in ids)

    # What PREVIOUS allowed: a second snapshot of a target at an instant it has, written later
    # (a higher id: it stays) and one that was written earlier (a lower id: it goes).
    tid, at = _rows("SELECT target_id, captured_at FROM post_metric_latest ORDER BY target_id")[0]
    other, at2 = _rows(
        "SELECT target_id, min(captured_at) FROM post_metric_snapshots GROUP BY target_id ORDER BY target_id"
    )[-1]
    top = _rows("SELECT max(id) FROM post_metric_snapshots")[0][0]
    insert = (
        "INSERT INTO post_metric_snapshots (id, target_id, captured_at, raw, likes, engagement, follower_count) "
        "VALUES (?, ?, ?, NULL, ?, ?, ?)"
    )
    with engine().begin() as conn:
        conn.exec_driver_sql(placeholders(conn, insert), (top + 10, tid, at, 99, 99, 7))
        conn.exec_driver_sql(placeholders(conn, insert), (-1, other, at2, 55, 55, 7))
        conn.exec_driver_sql(
            placeholders(conn, "UPDATE post_metric_latest SET snapshot_id = ?, likes = 99 WHERE target_id = ?"),
            (top + 10, tid),
        )
        # As the writer left them then: both rows of each pair counted.
        rollup.rebuild(conn)
        rollup.rebuild_peaks(conn, ("engagement",))
        # The same for an account: written later (stays) and earlier (goes).
        a1, a2 = accounts[0][0], accounts[-1][0]
        top_a = conn.exec_driver_sql("SELECT max(id) FROM account_metric_snapshots").scalar_one()
        for sid, acc, when, followers in ((top_a + 5, a1, T0, 77), (-1, a2, T0, 66)):
            conn.exec_driver_sql(
                placeholders(
                    conn,
                    "INSERT INTO account_metric_snapshots (id, account_id, captured_at, followers) VALUES (?, ?, ?, ?)",
                ),
                (sid, acc, to_stored(when, conn.dialect.name), followers),
            )
    assert _rollup_rows() != rollups and len(_accounts()) == 8

    calls: list[tuple[int, int]] = []
    assert upgrade(progress=lambda done, total: calls.append((done, total))) == (PREVIOUS, SCHEMA_HEAD)
    assert calls and calls[-1] == (16, 16)  # (snapshots done, snapshots before)
    assert "ix_pms_target_captured" not in _index_names("post_metric_snapshots")
    after = _snapshots()
    assert len(after) == 14
    changed = {(r[0], r[1]): r for r in after if r not in snaps}
    key = (tid, str(at)[:26])
    assert list(changed) == [key]  # the earlier-written duplicate of `other` went
    assert (changed[key][2], changed[key][6], changed[key][13], changed[key][14]) == (None, 99, 99, 7)
    assert [r for r in after if (r[0], r[1]) != key] == [r for r in snaps if (r[0], r[1]) != key]
    # The rollups count what is left: their rebuild.
    upgraded = _rollup_rows()
    with engine().begin() as conn:
        rollup.rebuild(conn)
    assert _rollup_rows() == upgraded
    assert _latest()[0][:3] == (tid, str(at)[:26], 99)
    peaks = _rows("SELECT target_id, engagement_peak FROM post_metric_latest ORDER BY target_id")
    assert peaks == _rows(
        "SELECT target_id, max(engagement) FROM post_metric_snapshots GROUP BY target_id ORDER BY target_id"
    )
    assert dict(peaks)[other] < 55  # the duplicate that went had the highest engagement
    assert "snapshot_id" not in _column_names("post_metric_latest")
    assert "id" not in _column_names("post_metric_snapshots")
    # One account snapshot at each instant, the later-written one of the pair.
    assert "ix_ams_account_captured" not in _index_names("account_metric_snapshots")
    assert "id" not in _column_names("account_metric_snapshots")
    assert _accounts() == [(a1, accounts[0][1], 77, *(None,) * 5), *accounts[1:]]


def test_a_second_account_snapshot_at_one_instant_replaces_the_first(backend):
    from postcli.store.models import Account
    from postcli.store.session import session_scope

    with session_scope() as s:
        a = Account(platform="bluesky", handle="a", external_id="a", api_base_url="https://b.example")
        s.add(a)
        s.flush()
        acc = a.id
    _record_accounts([(T0, acc, 5), (T0 + timedelta(hours=1), acc, 6), (T0, acc, 7)])
    assert [(r[1][:19], r[2]) for r in _accounts()] == [("2024-03-01 10:15:00", 7), ("2024-03-01 11:15:00", 6)]


def _typed(table: str) -> list[dict]:
    """A table's rows through the models' types (times and JSON alike on both backends), by key."""
    from sqlalchemy import select

    from postcli.store.models import Base
    from postcli.store.session import engine

    t = Base.metadata.tables[table]
    with engine().connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]


def _state() -> tuple:
    return _typed("post_metric_snapshots"), _typed("post_metric_latest"), _rollup_rows()


def test_db_copy_keeps_the_snapshots_by_key_both_ways(pg_url, home, tmp_path, monkeypatch, cli):
    """SQLite -> PostgreSQL -> SQLite: every snapshot under its key (two a microsecond apart stay
    two), each latest row still finds its snapshot, and on the copy a write at an instant a
    target has still replaces that snapshot."""
    from postcli.services.posts.queries import LATEST_RAW_SQL
    from postcli.services.snapshots import latest_states, record_post_snapshot
    from postcli.store import rollup
    from postcli.store.models import PostTarget
    from postcli.store.session import engine, session_scope
    from support.backend import use

    targets = _store()
    _record(targets[:1], targets[3:4], [(T0 + timedelta(hours=2, microseconds=1), [(0, M(12, 3, 1), 101)])])
    before = _state()
    assert len(before[0]) == 16

    result = cli("db", "copy", "--to", pg_url)
    assert result.exit_code == 0, result.stderr
    use(monkeypatch, home, pg_url)
    assert _state() == before
    raws = _rows(LATEST_RAW_SQL.format(ids="(" + ", ".join(str(t) for t in targets) + ")"))
    assert len(raws) == len(targets)  # each latest row joins its snapshot
    with session_scope() as s:
        assert latest_states(s, targets) == {}
        record_post_snapshot(s, s.get(PostTarget, targets[0]), M(1, 1, 1), T0 + timedelta(hours=1))
    written = _state()
    assert len(written[0]) == 16 and written != before
    with engine().begin() as conn:
        rollup.rebuild(conn)
    assert _state() == written

    back = f"sqlite:///{tmp_path / 'back' / 'postcli.db'}"
    result = cli("db", "copy", "--to", back)
    assert result.exit_code == 0, result.stderr
    use(monkeypatch, home, back)
    assert _state() == written
