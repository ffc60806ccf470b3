"""per-platform media: post_media.override_for (--media-for PLATFORM=FILE)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("post_media") as batch_op:
        batch_op.add_column(sa.Column("override_for", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("post_media") as batch_op:
        batch_op.drop_column("override_for")
