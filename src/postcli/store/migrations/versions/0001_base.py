"""accounts, posts, post_media, post_targets

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

# PostgreSQL's INTEGER is 32-bit, SQLite's 64: byte sizes are BIGINT there (SQLite DDL unchanged).
BIGINT = sa.Integer().with_variant(sa.BigInteger(), "postgresql")

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("handle", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("api_base_url", sa.String(length=1024), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("token_expires_at", sa.DateTime(), nullable=True),
        sa.Column("last_checked_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "api_base_url", "external_id", name="uq_account_identity"),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_platform"), ["platform"], unique=False)

    op.create_table(
        "posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("correlation_id", sa.String(length=255), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("locked_by", sa.String(length=128), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("last_refresh_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("correlation_id"),
    )
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_posts_content_hash"), ["content_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_posts_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_posts_published_at"), ["published_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_posts_scheduled_at"), ["scheduled_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_posts_status"), ["status"], unique=False)

    op.create_table(
        "post_media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("storage", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=1024), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("mime_type", sa.String(length=64), nullable=False),
        sa.Column("original_filename", sa.String(length=1024), nullable=True),
        sa.Column("size_bytes", BIGINT, nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("alt_text", sa.Text(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("post_media", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_post_media_post_id"), ["post_id"], unique=False)

    op.create_table(
        "post_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("text_override", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("platform_post_id", sa.String(length=512), nullable=True),
        sa.Column("platform_post_url", sa.String(length=2048), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("first_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("last_metrics_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("post_id", "account_id", name="uq_target_post_account"),
    )
    with op.batch_alter_table("post_targets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_post_targets_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_post_targets_completed_at"), ["completed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_post_targets_platform"), ["platform"], unique=False)
        batch_op.create_index(batch_op.f("ix_post_targets_post_id"), ["post_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_post_targets_status"), ["status"], unique=False)
        batch_op.create_index("ix_target_platform_post", ["account_id", "platform_post_id"], unique=False)


def downgrade() -> None:
    op.drop_table("post_targets")
    op.drop_table("post_media")
    op.drop_table("posts")
    op.drop_table("accounts")
