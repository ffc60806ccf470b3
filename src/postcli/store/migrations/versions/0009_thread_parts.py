"""threads and first comments (issue 28): target_parts, one publishing record per part of a
thread and per first comment; posts.parts, posts.split and posts.first_comment (the thread as
written); post_media.part (the part a file belongs to)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch_op:
        batch_op.add_column(sa.Column("parts", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("split", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("first_comment", sa.Text(), nullable=True))
    with op.batch_alter_table("post_media") as batch_op:
        batch_op.add_column(sa.Column("part", sa.Integer(), nullable=True))
    op.create_table(
        "target_parts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("target_id", sa.Integer(), sa.ForeignKey("post_targets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("platform_post_id", sa.String(length=512), nullable=True),
        sa.Column("platform_post_url", sa.String(length=2048), nullable=True),
        sa.Column("reply_ref", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("first_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("publish_state", sa.JSON(), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=True),
        sa.Column("metrics_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("target_id", "kind", "position", name="uq_part_target_kind_position"),
    )
    op.create_index("ix_target_parts_target_id", "target_parts", ["target_id"])


def downgrade() -> None:
    op.drop_index("ix_target_parts_target_id", table_name="target_parts")
    op.drop_table("target_parts")
    with op.batch_alter_table("post_media") as batch_op:
        batch_op.drop_column("part")
    with op.batch_alter_table("posts") as batch_op:
        batch_op.drop_column("first_comment")
        batch_op.drop_column("split")
        batch_op.drop_column("parts")
