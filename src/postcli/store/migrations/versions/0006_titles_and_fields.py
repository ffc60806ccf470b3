"""posts.title and posts.link (--title, --link), post_targets.fields (--field PLATFORM.KEY=VALUE),
post_targets.publish_state (what a publish in progress saved for its retry)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch_op:
        batch_op.add_column(sa.Column("title", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("link", sa.String(length=2048), nullable=True))
    with op.batch_alter_table("post_targets") as batch_op:
        batch_op.add_column(sa.Column("fields", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("publish_state", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("post_targets") as batch_op:
        batch_op.drop_column("publish_state")
        batch_op.drop_column("fields")
    with op.batch_alter_table("posts") as batch_op:
        batch_op.drop_column("link")
        batch_op.drop_column("title")
