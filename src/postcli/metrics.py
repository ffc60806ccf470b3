"""The metric vocabulary, defined once (DESIGN.md "Metrics"): the counter keys, engagement,
engagement rate (in Python and as the SQL the reports run), and the one-line description
of each metric the CLI prints. The adapters' PostMetrics, the snapshot tables, the
snapshot writer, the per-post view and the reports all derive from this module
(tests/test_metrics_vocabulary.py holds them to it).

NULL (None) means "the platform does not report it" and is never turned into 0.

Imported by the adapters' base and by the CLI: it must import nothing but the standard library.
"""

from __future__ import annotations

from typing import Iterable

# What a platform reports about one post: PostMetrics' fields, the snapshot tables' counter columns.
COUNTERS = ("impressions", "reach", "views", "likes", "comments", "shares", "quotes", "saves", "clicks", "video_views")
# engagement adds these up; quotes and saves are stored and shown but not in it.
ENGAGEMENT_PARTS = ("likes", "comments", "shares")
# Every stored post snapshot: the counters, then what is derived or looked up when it is taken.
SNAPSHOT_COLUMNS = (*COUNTERS, "engagement", "follower_count")
# What `analytics post` sums across a post's targets.
TOTALS = (*COUNTERS, "engagement")
# What the per-account hourly gains (account_post_hourly) add up and the timeline sums.
HOURLY_COUNTERS = (*ENGAGEMENT_PARTS, "engagement")

ENGAGEMENT_FORMULA = " + ".join(ENGAGEMENT_PARTS)

# Beside the counters, a snapshot's raw JSON may carry the platform's word on the post when it
# is up but not simply live (PostMetrics.platform_state: a Reddit post its moderators removed).
STATE_KEY = "platform_state"


def state_of(raw: object) -> str | None:
    """The platform state a snapshot's raw JSON (a dict, or its text on the plain read path) holds."""
    if isinstance(raw, (str, bytes)):
        import json

        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    value = raw.get(STATE_KEY) if isinstance(raw, dict) else None
    return str(value) if value else None


# One line per metric, as the CLI and the HTML report print them.
DESCRIPTIONS: dict[str, str] = {
    "impressions": "times the post was shown",
    "reach": "distinct accounts the post was shown to",
    "views": "views of the post (Threads, Instagram)",
    "likes": "likes (favourites on Mastodon)",
    "comments": "replies and comments",
    "shares": "reposts, reblogs and shares",
    "quotes": "quote posts (not in engagement)",
    "saves": "bookmarks and saves (not in engagement)",
    "clicks": "link clicks",
    "video_views": "video plays",
    "engagement": f"{ENGAGEMENT_FORMULA}, over those the platform reported",
    "follower_count": "the account's followers when the snapshot was taken",
    "engagement_rate": "engagement ÷ followers at the snapshot",
    "virality": "shares ÷ engagement",
}


def total(values: Iterable[int | None]) -> int | None:
    """Sum of the reported values; None when none was reported (3 + None = 3)."""
    reported = [v for v in values if v is not None]
    return sum(reported) if reported else None


def engagement(likes: int | None, comments: int | None, shares: int | None) -> int | None:
    return total((likes, comments, shares))


def engagement_rate(engagement_value: int | None, follower_count: int | None) -> float | None:
    """engagement / follower_count; None when either is unknown or there are no followers.

    engagement_rate_sql is the same rule in SQL: keep the two in step."""
    if engagement_value is None or follower_count is None or follower_count <= 0:
        return None
    return engagement_value / follower_count


def engagement_rate_sql(engagement_col: str = "engagement", follower_col: str = "follower_count") -> str:
    """engagement_rate as an SQL expression over two columns (SQLite and PostgreSQL alike).

    The columns are SQL written by the caller (e.g. "m.engagement"), never user input.
    """
    return f"CASE WHEN {follower_col} > 0 THEN CAST({engagement_col} AS FLOAT) / {follower_col} ELSE NULL END"


def virality(shares: int | None, engagement_value: int | None) -> float | None:
    if not engagement_value or shares is None:
        return None
    if shares <= 0:
        return None
    return shares / engagement_value
