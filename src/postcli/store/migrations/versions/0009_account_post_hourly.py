"""account_post_hourly: the per-account hourly gains the timeline reads, rebuilt from post_metric_hourly

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BIGINT = sa.Integer().with_variant(sa.BigInteger(), "postgresql")


def upgrade() -> None:
    from postcli.store import rollup

    op.create_table(
        "account_post_hourly",
        sa.Column("hour", sa.DateTime(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        *(sa.Column(k, BIGINT, nullable=False) for k in rollup.SUMS),
        *(sa.Column(k, sa.Integer(), nullable=False) for k in rollup.COUNTS),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("hour", "account_id"),
        sqlite_with_rowid=False,
    )
    # `db upgrade` passes a progress callback (a bar); the automatic upgrade on first use none.
    config = op.get_context().config
    progress = config.attributes.get("progress") if config is not None else None
    rollup.rebuild(op.get_bind(), progress)


def downgrade() -> None:
    op.drop_table("account_post_hourly")
