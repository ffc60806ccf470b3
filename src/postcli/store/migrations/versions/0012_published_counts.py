"""published_counts: per account and UTC publish day, the targets published and the posts they
were the first of, kept by triggers on post_targets and posts (store/published_counts.py) and
filled from the rows already there

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from postcli.store import published_counts

    op.create_table(
        "published_counts",
        sa.Column("day", sa.DateTime(), nullable=False),
        sa.Column("account_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("targets", sa.Integer(), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("posts_all", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "account_id"),
        sqlite_with_rowid=False,
    )
    conn = op.get_bind()
    published_counts.install(conn, key="day")  # by hour since 0013
    published_counts.rebuild(conn, key="day")


def downgrade() -> None:
    from postcli.store import published_counts

    published_counts.uninstall(op.get_bind())
    op.drop_table("published_counts")
