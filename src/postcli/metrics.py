"""One definition of the derived metrics, used everywhere (DESIGN.md "Metrics").

NULL (None) means "the platform does not report it" and is never turned into 0.
"""

from __future__ import annotations

from typing import Iterable


def total(values: Iterable[int | None]) -> int | None:
    """Sum of the reported values; None when none was reported (3 + None = 3)."""
    reported = [v for v in values if v is not None]
    return sum(reported) if reported else None


def engagement(likes: int | None, comments: int | None, shares: int | None) -> int | None:
    return total((likes, comments, shares))


def engagement_rate(engagement_value: int | None, follower_count: int | None) -> float | None:
    if engagement_value is None or not follower_count:
        return None
    return engagement_value / follower_count


def virality(shares: int | None, engagement_value: int | None) -> float | None:
    if not engagement_value or shares is None:
        return None
    if shares <= 0:
        return None
    return shares / engagement_value
