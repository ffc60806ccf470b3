"""snapshot key: post_metric_snapshots keyed by (target_id, captured_at) and
account_metric_snapshots by (account_id, captured_at), without a rowid on SQLite and without
their ids, so each key's index is the table itself (ix_pms_target_captured and
ix_ams_account_captured go: about 43 bytes per post snapshot at 1x); post_metric_latest finds
its snapshot by that key (snapshot_id goes)

Two snapshots of one target (account) at one instant (possible before: a frozen clock
collecting twice) become one, the last written (highest id), as a write at an instant already
stored now replaces it (services/snapshots.py). Only when two post snapshots were made one are
the rollups rebuilt from what is left, so they stay what a rebuild gives.

Revision ID: 0015
Revises: 0014
"""

from typing import Any, Callable, NamedTuple

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BIGINT = sa.Integer().with_variant(sa.BigInteger(), "postgresql")
POST_COUNTERS = (
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
ACCOUNT_COUNTERS = ("followers", "following", "posts_count", "impressions", "reach", "profile_views")
PER_STEP = 20_000  # owners (targets) copied per statement (~400k snapshots at the benchmark's rate)


class Snapshots(NamedTuple):
    table: str
    owner: str  # the key's first column
    owners: str  # the table it refers to
    ix: str  # the index on (owner, captured_at) before
    counters: tuple[str, ...]
    raw_first: bool  # where the raw column was: before the counters or after them

    @property
    def old(self) -> str:  # the table being copied from, under another name meanwhile
        return f"{self.table}_unkeyed"

    @property
    def columns(self) -> tuple[str, ...]:
        raw = ("raw",)
        return (
            self.owner,
            "captured_at",
            *(raw if self.raw_first else ()),
            *self.counters,
            *(() if self.raw_first else raw),
        )


POSTS = Snapshots("post_metric_snapshots", "target_id", "post_targets", "ix_pms_target_captured", POST_COUNTERS, True)
ACCOUNTS = Snapshots(
    "account_metric_snapshots", "account_id", "accounts", "ix_ams_account_captured", ACCOUNT_COUNTERS, False
)


def _progress() -> Callable[[int, int], None] | None:
    # `db upgrade` passes a progress callback (a bar); the automatic upgrade on first use none.
    config = op.get_context().config
    return config.attributes.get("progress") if config is not None else None


def _create(t: Snapshots, *, keyed: bool) -> None:
    """The table keyed (`keyed`) or as it was before (an id, and the index on the key's columns),
    after the current one is set aside (on PostgreSQL with its key's index: a name it needs)."""
    op.execute(f"ALTER TABLE {t.table} RENAME TO {t.old}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER INDEX {t.table}_pkey RENAME TO {t.old}_pkey")
    types: dict[str, Any] = {t.owner: sa.Integer(), "captured_at": sa.DateTime(), "raw": sa.JSON()}
    columns: list[Any] = [
        sa.Column(c, types.get(c, BIGINT), autoincrement=False, nullable=c not in (t.owner, "captured_at"))
        for c in t.columns
    ]
    columns.append(sa.ForeignKeyConstraint([t.owner], [f"{t.owners}.id"], ondelete="CASCADE"))
    if keyed:
        op.create_table(t.table, *columns, sa.PrimaryKeyConstraint(t.owner, "captured_at"), sqlite_with_rowid=False)
    else:
        op.create_table(t.table, sa.Column("id", sa.Integer(), nullable=False), *columns, sa.PrimaryKeyConstraint("id"))


def _copy(conn: Any, t: Snapshots, progress: Callable[[int, int], None] | None) -> bool:
    """Copy the set-aside rows into the keyed table in key order, PER_STEP owners a statement,
    reporting (rows copied, rows in all) after each; of two rows with one key the last written
    (highest id) stays. Whether there were such rows."""
    total = int(conn.exec_driver_sql(f"SELECT count(*) FROM {t.old}").scalar_one())
    pair = conn.exec_driver_sql(
        f"SELECT 1 FROM {t.old} GROUP BY {t.owner}, captured_at HAVING count(*) > 1 LIMIT 1"
    ).first()
    cols = ", ".join(t.columns)
    mark = "%s" if conn.dialect.paramstyle != "qmark" else "?"
    where = f"WHERE {t.owner} >= {mark} AND {t.owner} < {mark}"
    if conn.dialect.name == "postgresql":
        sql = (
            f"INSERT INTO {t.table} ({cols}) SELECT DISTINCT ON ({t.owner}, captured_at) {cols} FROM {t.old} "
            f"{where} ORDER BY {t.owner}, captured_at, id DESC"
        )
    else:  # read through the old index, which is in this order already
        sql = f"INSERT OR REPLACE INTO {t.table} ({cols}) SELECT {cols} FROM {t.old} {where} ORDER BY {t.owner}, captured_at, id"
    low, high = conn.exec_driver_sql(f"SELECT min({t.owner}), max({t.owner}) FROM {t.old}").one()
    done = 0
    if low is not None:
        for first in range(low, high + 1, PER_STEP):
            done += max(conn.exec_driver_sql(sql, (first, first + PER_STEP)).rowcount, 0)
            if progress is not None:
                progress(min(done, total), total)
    if progress is not None:
        progress(total, total)
    op.drop_table(t.old)  # its index and (PostgreSQL) id sequence with it
    return pair is not None


def upgrade() -> None:
    from postcli.store import rollup

    conn = op.get_bind()
    _create(ACCOUNTS, keyed=True)
    _copy(conn, ACCOUNTS, None)
    _create(POSTS, keyed=True)
    pairs = _copy(conn, POSTS, _progress())
    with op.batch_alter_table("post_metric_latest") as batch:
        batch.drop_column("snapshot_id")
    if pairs:
        # The gains, sums and peaks counted both rows of each pair: recount them from what is left.
        rollup.rebuild(conn)
        rollup.rebuild_peaks(conn, ("engagement",))


def _uncopy(t: Snapshots) -> None:
    """Back to the shape before: ids given in capture order, as they were when the rows were written."""
    _create(t, keyed=False)
    cols = ", ".join(t.columns)
    op.execute(f"INSERT INTO {t.table} ({cols}) SELECT {cols} FROM {t.old} ORDER BY captured_at, {t.owner}")
    op.drop_table(t.old)
    op.create_index(t.ix, t.table, [t.owner, "captured_at"])


def downgrade() -> None:
    progress = _progress()
    _uncopy(ACCOUNTS)
    _uncopy(POSTS)
    if progress is not None:
        done = int(op.get_bind().exec_driver_sql(f"SELECT count(*) FROM {POSTS.table}").scalar_one())
        progress(done, done)
    with op.batch_alter_table("post_metric_latest") as batch:
        batch.add_column(sa.Column("snapshot_id", sa.Integer(), nullable=True))
    op.execute(
        f"UPDATE post_metric_latest SET snapshot_id = (SELECT s.id FROM {POSTS.table} s "
        "WHERE s.target_id = post_metric_latest.target_id AND s.captured_at = post_metric_latest.captured_at)"
    )
    with op.batch_alter_table("post_metric_latest") as batch:
        batch.alter_column("snapshot_id", existing_type=sa.Integer(), nullable=False)
