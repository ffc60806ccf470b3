"""How a simulated network's audience behaves: deterministic numbers from a seed.

A post's counters grow along a saturating curve (most of it within `tau` hours of publishing,
then flat), scaled by the account's audience when it was published, the post's own quality
(most posts modest, a few take off), how close it landed to the network's busy hours and its
weekday. Collecting twice at the same simulated moment gives the same numbers; later
collections never go down.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Mapping


@dataclass(frozen=True)
class Profile:
    followers: int  # the account's audience when it was connected
    growth_per_day: float  # followers gained per day (a little faster early on)
    reach_share: float  # share of followers a typical post reaches
    peaks: tuple[int, ...]  # UTC hours the audience is around
    weekday: tuple[float, float, float, float, float, float, float]  # Monday..Sunday factors
    tau_hours: tuple[float, float]  # a post reaches ~63% of its final numbers within this many hours
    # counter -> its final value as a share of the post's reach (views > 1: seen more than once)
    rates: Mapping[str, float] = field(default_factory=dict)
    following: int = 180


def unit(seed: str, *parts: str) -> float:
    """A stable number in [0, 1) (not Python's hash(): that changes per process)."""
    digest = hashlib.sha256(":".join((seed, *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def followers_at(profile: Profile, seed: str, handle: str, days: float) -> int:
    base = int(profile.followers * (0.85 + 0.3 * unit(seed, handle, "base")))
    early = 12 * profile.growth_per_day * (1 - math.exp(-max(days, 0) / 12))
    return base + int(profile.growth_per_day * max(days, 0) + early)


def _timing(profile: Profile, hour: int) -> float:
    closest = min(min(abs(hour - h), 24 - abs(hour - h)) for h in profile.peaks)
    return 0.55 + 0.9 * math.exp(-(closest**2) / 5)


def post_counters(
    profile: Profile, seed: str, post_id: str, published_at: datetime, now: datetime, audience: int
) -> dict[str, int]:
    """Every counter in `profile.rates` for one post at `now` (whole numbers)."""
    published = published_at.astimezone(timezone.utc)
    hours = max(0.0, (now - published).total_seconds() / 3600)
    quality = 0.35 + 2.0 * unit(seed, post_id, "quality") ** 2
    reach = audience * profile.reach_share * quality * _timing(profile, published.hour)
    reach *= profile.weekday[published.weekday()]
    low, high = profile.tau_hours
    tau = low + (high - low) * unit(seed, post_id, "tau")
    out: dict[str, int] = {}
    for counter, rate in profile.rates.items():
        noise = 0.7 + 0.6 * unit(seed, post_id, counter)
        # Views and reach come first; replies and saves keep trickling in a little longer.
        slow = 1.0 if counter in ("views", "reach", "impressions") else 1.4
        out[counter] = int(reach * rate * noise * (1 - math.exp(-hours / (tau * slow))))
    return out
