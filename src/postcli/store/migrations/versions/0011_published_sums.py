"""published_sums: per account, publish day and capture day, the figures overview and platforms
add up (store/published.py), rebuilt with account_post_hourly from the snapshots in one pass

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BIGINT = sa.Integer().with_variant(sa.BigInteger(), "postgresql")
FIGURES = ("likes", "comments", "shares", "impressions", "reach", "engagement")


def upgrade() -> None:
    from postcli.store import rollup

    op.create_table(
        "published_sums",
        sa.Column("captured_day", sa.DateTime(), nullable=False),
        sa.Column("day", sa.DateTime(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        *(sa.Column(k, BIGINT, nullable=False) for k in FIGURES),
        sa.Column("rate", sa.Float(), nullable=False),
        *(sa.Column(f"{k}_n", sa.Integer(), nullable=False) for k in (*FIGURES, "rate")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("captured_day", "day", "account_id"),
        sqlite_with_rowid=False,
    )
    # `db upgrade` passes a progress callback (a bar); the automatic upgrade on first use none.
    config = op.get_context().config
    progress = config.attributes.get("progress") if config is not None else None
    # Today's rollup code writes the column 0013 renamed `day` to.
    op.execute("ALTER TABLE published_sums RENAME COLUMN day TO went_live")
    rollup.rebuild(op.get_bind(), progress, hourly=False, hours=False)
    op.execute("ALTER TABLE published_sums RENAME COLUMN went_live TO day")


def downgrade() -> None:
    op.drop_table("published_sums")
