"""peaks and hours: post_metric_latest.engagement_peak (each target's highest engagement, whose
index replaces the one on engagement) and published_hours (engagement by UTC publish hour and
capture day), so top, the heatmap and best-times of a period that ended read an index and
rollups instead of a snapshot per post (docs/design.md, "Reports read rollups")

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BIGINT = sa.Integer().with_variant(sa.BigInteger(), "postgresql")


def upgrade() -> None:
    from postcli.store import rollup

    op.add_column("post_metric_latest", sa.Column("engagement_peak", BIGINT, nullable=True))
    rollup.rebuild_peaks(op.get_bind(), ("engagement",))
    op.drop_index("ix_post_metric_latest_engagement", table_name="post_metric_latest")
    op.create_index("ix_post_metric_latest_peak", "post_metric_latest", ["engagement_peak"])
    op.create_table(
        "published_hours",
        sa.Column("captured_day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("went_live", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("engagement", BIGINT, nullable=False),
        sa.Column("engagement_n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("captured_day", "went_live", "account_id"),
        sqlite_with_rowid=False,
    )
    # `db upgrade` passes a progress callback (a bar); the automatic upgrade on first use none.
    config = op.get_context().config
    progress = config.attributes.get("progress") if config is not None else None
    rollup.rebuild(op.get_bind(), progress, hourly=False, sums=False)


def downgrade() -> None:
    op.drop_table("published_hours")
    op.drop_index("ix_post_metric_latest_peak", table_name="post_metric_latest")
    op.execute("ALTER TABLE post_metric_latest DROP COLUMN engagement_peak")
    op.create_index("ix_post_metric_latest_engagement", "post_metric_latest", ["engagement"])
