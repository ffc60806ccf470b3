"""snapshot key: post_metric_snapshots keyed by (target_id, captured_at), without a rowid on
SQLite and without its id, so the key's index is the table itself (ix_pms_target_captured goes:
about 37 bytes per snapshot); post_metric_latest finds its snapshot by that key
(snapshot_id goes)

Two snapshots of one target at one instant (possible before: a frozen clock collecting twice)
become one, the last written (highest id), as a write at an instant already stored now
replaces it (services/snapshots.py). Only when there were such pairs are the rollups rebuilt
from what is left, so they stay what a rebuild gives.

Revision ID: 0014
Revises: 0013
"""

from typing import Any, Callable

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BIGINT = sa.Integer().with_variant(sa.BigInteger(), "postgresql")
COUNTERS = (
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
COLUMNS = ("target_id", "captured_at", "raw", *COUNTERS)
TABLE = "post_metric_snapshots"
OLD = "post_metric_snapshots_0013"  # the table being copied from, under another name meanwhile
TARGETS_PER_STEP = 20_000  # targets copied per statement (~400k snapshots at the benchmark's rate)


def _columns() -> list[sa.Column]:
    return [
        sa.Column("captured_at", sa.DateTime(), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=True),
        *(sa.Column(k, BIGINT, nullable=True) for k in COUNTERS),
    ]


def _progress() -> Callable[[int, int], None] | None:
    # `db upgrade` passes a progress callback (a bar); the automatic upgrade on first use none.
    config = op.get_context().config
    return config.attributes.get("progress") if config is not None else None


def _set_aside(conn: Any) -> None:
    """Rename the current table (and on PostgreSQL its key's index, a name the new table needs)."""
    op.execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
    if conn.dialect.name == "postgresql":
        op.execute(f"ALTER INDEX {TABLE}_pkey RENAME TO {OLD}_pkey")


def _copy_by_target(conn: Any, sql: str, total: int, progress: Callable[[int, int], None] | None) -> None:
    """Run `sql` (an INSERT ... SELECT taking a first and an end target id) for every range of
    TARGETS_PER_STEP target ids, reporting (snapshots copied, total) after each."""
    low, high = conn.exec_driver_sql(f"SELECT min(target_id), max(target_id) FROM {OLD}").one()
    done = 0
    if low is not None:
        mark = "%s" if conn.dialect.paramstyle != "qmark" else "?"
        sql = sql.format(first=mark, end=mark)
        for first in range(low, high + 1, TARGETS_PER_STEP):
            done += max(conn.exec_driver_sql(sql, (first, first + TARGETS_PER_STEP)).rowcount, 0)
            if progress is not None:
                progress(min(done, total), total)
    if progress is not None:
        progress(total, total)


def upgrade() -> None:
    from postcli.store import rollup

    conn = op.get_bind()
    pg = conn.dialect.name == "postgresql"
    progress = _progress()
    total = int(conn.exec_driver_sql(f"SELECT count(*) FROM {TABLE}").scalar_one())
    collisions = conn.exec_driver_sql(
        f"SELECT 1 FROM {TABLE} GROUP BY target_id, captured_at HAVING count(*) > 1 LIMIT 1"
    ).first()
    _set_aside(conn)
    op.create_table(
        TABLE,
        sa.Column("target_id", sa.Integer(), autoincrement=False, nullable=False),
        *_columns(),
        sa.ForeignKeyConstraint(["target_id"], ["post_targets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("target_id", "captured_at"),
        sqlite_with_rowid=False,
    )
    cols = ", ".join(COLUMNS)
    where = "WHERE target_id >= {first} AND target_id < {end}"
    # In key order, so the new table's pages fill in order; of two rows with one key, the last
    # written (highest id) stays.
    if pg:
        sql = (
            f"INSERT INTO {TABLE} ({cols}) SELECT DISTINCT ON (target_id, captured_at) {cols} FROM {OLD} "
            f"{where} ORDER BY target_id, captured_at, id DESC"
        )
    else:  # read through ix_pms_target_captured, which is in this order already
        sql = f"INSERT OR REPLACE INTO {TABLE} ({cols}) SELECT {cols} FROM {OLD} {where} ORDER BY target_id, captured_at, id"
    _copy_by_target(conn, sql, total, progress)
    op.drop_table(OLD)  # its index and (PostgreSQL) id sequence with it
    with op.batch_alter_table("post_metric_latest") as batch:
        batch.drop_column("snapshot_id")
    if collisions is not None:
        # The gains and sums counted both rows of each pair: recount them from what is left.
        rollup.rebuild(conn)


def downgrade() -> None:
    conn = op.get_bind()
    progress = _progress()
    total = int(conn.exec_driver_sql(f"SELECT count(*) FROM {TABLE}").scalar_one())
    _set_aside(conn)
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        *_columns(),
        sa.ForeignKeyConstraint(["target_id"], ["post_targets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    # New ids in capture order, as they were given when the rows were written.
    cols = ", ".join(COLUMNS)
    op.execute(f"INSERT INTO {TABLE} ({cols}) SELECT {cols} FROM {OLD} ORDER BY captured_at, target_id")
    if progress is not None:
        progress(total, total)
    op.drop_table(OLD)
    op.create_index("ix_pms_target_captured", TABLE, ["target_id", "captured_at"])
    with op.batch_alter_table("post_metric_latest") as batch:
        batch.add_column(sa.Column("snapshot_id", sa.Integer(), nullable=True))
    op.execute(
        f"UPDATE post_metric_latest SET snapshot_id = (SELECT s.id FROM {TABLE} s "
        "WHERE s.target_id = post_metric_latest.target_id AND s.captured_at = post_metric_latest.captured_at)"
    )
    with op.batch_alter_table("post_metric_latest") as batch:
        batch.alter_column("snapshot_id", existing_type=sa.Integer(), nullable=False)
