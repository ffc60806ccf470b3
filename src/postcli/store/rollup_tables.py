"""The rollups' tables (SQLAlchemy models on models.Base): what reports read instead of the
snapshots. Their rules live in store/rollup.py, store/published.py and
store/published_counts.py."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, PrimaryKeyConstraint
from sqlalchemy.orm import Mapped, mapped_column

from postcli.store.model_base import Base, BigInt


class AccountPostHourly(Base):
    """Per account and UTC hour: what its targets' counters gained (store/rollup.py has the
    rule), kept current by services/snapshots.py, rebuilt from the snapshots by migration 0010.

    The timeline reads this: its cost follows accounts x hours in the period, not the posts
    collected in it; hours so it can cut days at the user's midnight. `{counter}` is the sum
    of the snapshots' gains, `{counter}_n` how many were reported (not NULL): a sum with
    n = 0 is NULL ("not reported"), not 0. Changes are added (ON CONFLICT ... + excluded),
    never recomputed, so concurrent writers on PostgreSQL cannot overwrite each other's sums.
    """

    __tablename__ = "account_post_hourly"

    hour: Mapped[datetime] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    likes: Mapped[int] = mapped_column(BigInt, default=0)
    comments: Mapped[int] = mapped_column(BigInt, default=0)
    shares: Mapped[int] = mapped_column(BigInt, default=0)
    engagement: Mapped[int] = mapped_column(BigInt, default=0)
    likes_n: Mapped[int] = mapped_column(Integer, default=0)
    comments_n: Mapped[int] = mapped_column(Integer, default=0)
    shares_n: Mapped[int] = mapped_column(Integer, default=0)
    engagement_n: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = ({"sqlite_with_rowid": False},)


class PublishedSums(Base):
    """Per account, UTC day its targets went live and UTC day of capture: how their snapshots
    changed the figures overview and platforms add up (store/published.py has the rule), kept by
    services/snapshots.py, rebuilt from the snapshots by migration 0011. `captured_day` 9999-12-31
    holds the totals (every capture: the figures as of now), by the UTC *hour* the targets went
    live (migration 0013; the heatmap reads them). `{figure}_n` counts reported values: a sum
    with n = 0 is NULL ("not reported"). Changes are added, never recomputed."""

    __tablename__ = "published_sums"

    # The key (migration 0017): the capture day, then the account, then the publish hour (day).
    # The totals' rows are one range per account, and a period that ended seeks the capture days
    # from its cutoff on; overview and platforms sum each account's run in key order, seeking
    # the accounts in scope, rather than sorting the period's rows by platform.
    captured_day: Mapped[datetime] = mapped_column(primary_key=True)
    went_live: Mapped[datetime] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    likes: Mapped[int] = mapped_column(BigInt, default=0)
    comments: Mapped[int] = mapped_column(BigInt, default=0)
    shares: Mapped[int] = mapped_column(BigInt, default=0)
    impressions: Mapped[int] = mapped_column(BigInt, default=0)
    reach: Mapped[int] = mapped_column(BigInt, default=0)
    engagement: Mapped[int] = mapped_column(BigInt, default=0)
    rate: Mapped[float] = mapped_column(Float, default=0.0)
    likes_n: Mapped[int] = mapped_column(Integer, default=0)
    comments_n: Mapped[int] = mapped_column(Integer, default=0)
    shares_n: Mapped[int] = mapped_column(Integer, default=0)
    impressions_n: Mapped[int] = mapped_column(Integer, default=0)
    reach_n: Mapped[int] = mapped_column(Integer, default=0)
    engagement_n: Mapped[int] = mapped_column(Integer, default=0)
    rate_n: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        PrimaryKeyConstraint("captured_day", "account_id", "went_live"),
        {"sqlite_with_rowid": False},
    )


class PublishedHour(Base):
    """Per account, UTC hour its targets went live and UTC day of capture: how their snapshots
    changed engagement (store/published.py), so the heatmap and best-times of a period that
    ended read hours as of its cut-off. Times are whole numbers: hours (`went_live`) and days
    (`captured_day`) since 1970-01-01 UTC, a third of the bytes of stored times."""

    __tablename__ = "published_hours"

    captured_day: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    went_live: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    engagement: Mapped[int] = mapped_column(BigInt, default=0)
    engagement_n: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = ({"sqlite_with_rowid": False},)


class PublishedCount(Base):
    """Per account and UTC publish hour: the targets that went live and the posts they were the
    first of (on their platform: `posts`; overall: `posts_all`). Kept exact by database triggers
    on post_targets and posts, created by migration 0012 (by day; by hour since 0013);
    store/published_counts.py has the rules, the triggers and the rebuild. Reports read it for
    whole days (overview, platforms) and whole hours (heatmap, best-times).

    `account_id` has no foreign key: the triggers write here while an account's delete cascades
    to its targets. Rows of a deleted account are harmless (reports join accounts), and in fact
    go: its targets' counts are taken out, and a row whose counts reach 0 is deleted.
    """

    __tablename__ = "published_counts"

    hour: Mapped[datetime] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    targets: Mapped[int] = mapped_column(Integer)
    posts: Mapped[int] = mapped_column(Integer)
    posts_all: Mapped[int] = mapped_column(Integer)

    __table_args__ = ({"sqlite_with_rowid": False},)
