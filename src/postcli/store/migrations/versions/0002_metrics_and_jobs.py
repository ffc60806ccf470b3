"""metric snapshots (append-only, latest, hourly rollup), account snapshots, jobs

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

# PostgreSQL's INTEGER is 32-bit, SQLite's 64: counters are BIGINT there (SQLite DDL unchanged).
BIGINT = sa.Integer().with_variant(sa.BigInteger(), "postgresql")

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "post_metric_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("captured_at", sa.DateTime(), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=True),
        sa.Column("impressions", BIGINT, nullable=True),
        sa.Column("reach", BIGINT, nullable=True),
        sa.Column("views", BIGINT, nullable=True),
        sa.Column("likes", BIGINT, nullable=True),
        sa.Column("comments", BIGINT, nullable=True),
        sa.Column("shares", BIGINT, nullable=True),
        sa.Column("quotes", BIGINT, nullable=True),
        sa.Column("saves", BIGINT, nullable=True),
        sa.Column("clicks", BIGINT, nullable=True),
        sa.Column("video_views", BIGINT, nullable=True),
        sa.Column("engagement", BIGINT, nullable=True),
        sa.Column("follower_count", BIGINT, nullable=True),
        sa.ForeignKeyConstraint(["target_id"], ["post_targets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("post_metric_snapshots", schema=None) as batch_op:
        batch_op.create_index("ix_pms_target_captured", ["target_id", "captured_at"], unique=False)

    op.create_table(
        "post_metric_latest",
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("captured_at", sa.DateTime(), nullable=False),
        sa.Column("impressions", BIGINT, nullable=True),
        sa.Column("reach", BIGINT, nullable=True),
        sa.Column("views", BIGINT, nullable=True),
        sa.Column("likes", BIGINT, nullable=True),
        sa.Column("comments", BIGINT, nullable=True),
        sa.Column("shares", BIGINT, nullable=True),
        sa.Column("quotes", BIGINT, nullable=True),
        sa.Column("saves", BIGINT, nullable=True),
        sa.Column("clicks", BIGINT, nullable=True),
        sa.Column("video_views", BIGINT, nullable=True),
        sa.Column("engagement", BIGINT, nullable=True),
        sa.Column("follower_count", BIGINT, nullable=True),
        sa.ForeignKeyConstraint(["target_id"], ["post_targets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("target_id"),
    )

    op.create_table(
        "post_metric_hourly",
        sa.Column("hour", sa.DateTime(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("captured_at", sa.DateTime(), nullable=False),
        sa.Column("likes", BIGINT, nullable=True),
        sa.Column("comments", BIGINT, nullable=True),
        sa.Column("shares", BIGINT, nullable=True),
        sa.Column("engagement", BIGINT, nullable=True),
        sa.Column("likes_delta", BIGINT, nullable=True),
        sa.Column("comments_delta", BIGINT, nullable=True),
        sa.Column("shares_delta", BIGINT, nullable=True),
        sa.Column("engagement_delta", BIGINT, nullable=True),
        sa.ForeignKeyConstraint(["target_id"], ["post_targets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("hour", "target_id"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("post_metric_hourly", schema=None) as batch_op:
        batch_op.create_index("ix_pmh_target_hour", ["target_id", "hour"], unique=False)

    op.create_table(
        "account_metric_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("captured_at", sa.DateTime(), nullable=False),
        sa.Column("followers", BIGINT, nullable=True),
        sa.Column("following", BIGINT, nullable=True),
        sa.Column("posts_count", BIGINT, nullable=True),
        sa.Column("impressions", BIGINT, nullable=True),
        sa.Column("reach", BIGINT, nullable=True),
        sa.Column("profile_views", BIGINT, nullable=True),
        sa.Column("raw", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("account_metric_snapshots", schema=None) as batch_op:
        batch_op.create_index("ix_ams_account_captured", ["account_id", "captured_at"], unique=False)

    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", sa.DateTime(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("locked_by", sa.String(length=128), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_claim", ["status", "run_after"], unique=False)
        batch_op.create_index("ix_jobs_key", ["key"], unique=False)


def downgrade() -> None:
    op.drop_table("jobs")
    op.drop_table("account_metric_snapshots")
    op.drop_table("post_metric_hourly")
    op.drop_table("post_metric_latest")
    op.drop_table("post_metric_snapshots")
