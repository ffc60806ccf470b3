"""peaks: post_metric_latest's highest likes, comments, shares, impressions, reach and
engagement rate of any snapshot, each indexed, beside 0014's engagement_peak, so top by any
sort walks an index (services/reports/ranking.py)

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BIGINT = sa.Integer().with_variant(sa.BigInteger(), "postgresql")
PEAKED = ("likes", "comments", "shares", "impressions", "reach", "rate")  # models.PEAKED, as of 0016


def upgrade() -> None:
    from postcli.store import rollup

    for f in PEAKED:
        op.add_column("post_metric_latest", sa.Column(f"{f}_peak", sa.Float() if f == "rate" else BIGINT))
    rollup.rebuild_peaks(op.get_bind(), PEAKED)
    for f in PEAKED:
        op.create_index(f"ix_post_metric_latest_{f}_peak", "post_metric_latest", [f"{f}_peak"])


def downgrade() -> None:
    for f in PEAKED:
        op.drop_index(f"ix_post_metric_latest_{f}_peak", table_name="post_metric_latest")
    with op.batch_alter_table("post_metric_latest") as batch:
        for f in PEAKED:
            batch.drop_column(f"{f}_peak")
