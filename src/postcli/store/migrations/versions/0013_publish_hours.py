"""publish hours: published_counts by UTC publish hour instead of day, published_sums' totals
by publish hour (its `day` column becomes `went_live`) and an index on the latest rows'
engagement, so the heatmap, best-times and top of a period ending now read rollups and an index
instead of every target of the period (docs/design.md, "Reports read rollups"); two of
post_targets' indexes go (prefixes of two others)

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _counts_table(key: str) -> None:
    op.create_table(
        "published_counts",
        sa.Column(key, sa.DateTime(), nullable=False),
        sa.Column("account_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("targets", sa.Integer(), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("posts_all", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(key, "account_id"),
        sqlite_with_rowid=False,
    )


def upgrade() -> None:
    from postcli.store import published, published_counts

    conn = op.get_bind()
    published_counts.uninstall(conn)
    op.drop_table("published_counts")
    _counts_table("hour")
    published_counts.install(conn)
    published_counts.rebuild(conn)
    op.execute("ALTER TABLE published_sums RENAME COLUMN day TO went_live")
    published.rebuild_totals(conn)
    op.create_index("ix_post_metric_latest_engagement", "post_metric_latest", ["engagement"])
    # Prefixes of uq_target_post_account and ix_target_platform_post: ~1.4 bytes per snapshot.
    op.drop_index("ix_post_targets_post_id", table_name="post_targets")
    op.drop_index("ix_post_targets_account_id", table_name="post_targets")


def downgrade() -> None:
    from postcli.store import published, published_counts
    from postcli.store.driver import placeholders

    conn = op.get_bind()
    op.drop_index("ix_post_metric_latest_engagement", table_name="post_metric_latest")
    op.create_index("ix_post_targets_post_id", "post_targets", ["post_id"])
    op.create_index("ix_post_targets_account_id", "post_targets", ["account_id"])
    # The totals by day again: their hours added up (a sum of sums), through a temporary table.
    pg = conn.dialect.name == "postgresql"
    day = "date_trunc('day', went_live)" if pg else "substr(went_live, 1, 10) || ' 00:00:00.000000'"
    figures = ", ".join(f"sum({c})" for c in (*published.FIGURES, *published.COUNTS))
    columns = ", ".join(published.COLUMNS)
    totals = (published.totals_key(conn.dialect.name),)
    op.execute("CREATE TEMPORARY TABLE totals_by_day AS SELECT * FROM published_sums WHERE 1 = 0")
    conn.exec_driver_sql(
        placeholders(
            conn,
            f"INSERT INTO totals_by_day ({columns}) SELECT {day}, captured_day, account_id, {figures} "
            "FROM published_sums WHERE captured_day = ? GROUP BY 1, 2, 3",
        ),
        totals,
    )
    conn.exec_driver_sql(placeholders(conn, "DELETE FROM published_sums WHERE captured_day = ?"), totals)
    op.execute(f"INSERT INTO published_sums ({columns}) SELECT {columns} FROM totals_by_day")
    op.execute("DROP TABLE totals_by_day")
    op.execute("ALTER TABLE published_sums RENAME COLUMN went_live TO day")
    published_counts.uninstall(conn)
    op.drop_table("published_counts")
    _counts_table("day")
    published_counts.install(conn, key="day")
    published_counts.rebuild(conn, key="day")
