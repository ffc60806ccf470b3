"""account_post_hourly: the per-account hourly gains the timeline reads, and each target's last
reported counters on post_metric_latest, both rebuilt from the snapshots; post_metric_hourly
(per target and hour, 40% of a store) goes

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BIGINT = sa.Integer().with_variant(sa.BigInteger(), "postgresql")
COUNTERS = ("likes", "comments", "shares", "engagement")


def upgrade() -> None:
    from postcli.store import rollup

    op.create_table(
        "account_post_hourly",
        sa.Column("hour", sa.DateTime(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        *(sa.Column(k, BIGINT, nullable=False) for k in COUNTERS),
        *(sa.Column(f"{k}_n", sa.Integer(), nullable=False) for k in COUNTERS),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("hour", "account_id"),
        sqlite_with_rowid=False,
    )
    for k in COUNTERS:
        op.add_column("post_metric_latest", sa.Column(f"{k}_reported", BIGINT, nullable=True))
    # `db upgrade` passes a progress callback (a bar); the automatic upgrade on first use none.
    config = op.get_context().config
    progress = config.attributes.get("progress") if config is not None else None
    rollup.rebuild(op.get_bind(), progress, sums=False, hours=False)
    op.drop_index("ix_pmh_target_hour", table_name="post_metric_hourly")
    op.drop_table("post_metric_hourly")


def downgrade() -> None:
    # The per-target hourly rollup is not rebuilt: a store going back to 0008 has an empty one.
    op.create_table(
        "post_metric_hourly",
        sa.Column("hour", sa.DateTime(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("captured_at", sa.DateTime(), nullable=False),
        *(sa.Column(k, BIGINT, nullable=True) for k in COUNTERS),
        *(sa.Column(f"{k}_delta", BIGINT, nullable=True) for k in COUNTERS),
        sa.ForeignKeyConstraint(["target_id"], ["post_targets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("hour", "target_id"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_pmh_target_hour", "post_metric_hourly", ["target_id", "hour"])
    with op.batch_alter_table("post_metric_latest") as batch:
        for k in COUNTERS:
            batch.drop_column(f"{k}_reported")
    op.drop_table("account_post_hourly")
