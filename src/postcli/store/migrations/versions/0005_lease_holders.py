"""lease holders: posts.locked_proc and jobs.locked_proc (services/holders.py)

What tells a claim's holder apart from any other process with the same host and pid,
so a run can take over a claim whose holder is provably dead before its lease runs out.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("posts", "jobs"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("locked_proc", sa.String(length=128), nullable=True))


def downgrade() -> None:
    for table in ("posts", "jobs"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("locked_proc")
