"""Best times to post: weekday x hour slots ranked by mean engagement per post.

What the ranking means: among the posts published in the period (in scope), those
published in that local weekday/hour went on to get, on average, that much engagement
(likes + comments + shares, as of the period's end). A slot is ranked only when at least
MIN_POSTS of its posts had engagement reported; thinner slots are listed apart, since one
lucky post says little.

What it does not mean: that posting then *causes* more engagement (the content, the
platform's ranking and the audience differ from post to post), nor anything about slots
you never posted in. Older posts have had longer to gather engagement than newer ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from postcli.metrics import ENGAGEMENT_FORMULA
from postcli.services.reports.publish_slots import WEEKDAYS, bucket_seconds, slot_totals
from postcli.services.reports.scope import Report, ReportQuery, begin, utc_now

MIN_POSTS = 3  # posts with reported engagement a slot needs before it is ranked

MEANING = (
    f"Slots are ranked by mean engagement per post ({ENGAGEMENT_FORMULA}, as of the period's end) "
    f"over posts published then, in your time zone; only slots with at least {MIN_POSTS} posts with "
    "reported engagement are ranked. It shows when your posts did well, not that posting then makes them "
    "do well: content and audience differ, and older posts have had longer to gather engagement."
)


@dataclass
class Slot:
    weekday: int  # 0 = Monday
    hour: int  # local hour, 0-23
    posts: int  # targets published in the slot
    reported_posts: int  # of which engagement was reported
    mean_engagement: float | None  # over the reported ones
    rank: int | None = None  # None: too few posts to rank

    def as_json(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "weekday": self.weekday,
            "weekday_name": WEEKDAYS[self.weekday],
            "hour": self.hour,
            "posts": self.posts,
            "reported_posts": self.reported_posts,
            "mean_engagement": self.mean_engagement,
        }


COLUMNS = ("rank", "weekday", "weekday_name", "hour", "posts", "reported_posts", "mean_engagement")


@dataclass
class BestTimesReport(Report):
    ranked: list[Slot]
    thin: list[Slot]  # posted in, but fewer than MIN_POSTS with reported engagement

    columns = COLUMNS

    def body(self) -> dict[str, Any]:
        return {
            "min_posts": MIN_POSTS,
            "meaning": MEANING,
            "ranked": [s.as_json() for s in self.ranked],
            "too_few_posts": [s.as_json() for s in self.thin],
        }

    def csv_rows(self) -> list[dict[str, Any]]:
        # Ranked slots first; the thin ones follow with an empty rank.
        return [s.as_json() for s in (*self.ranked, *self.thin)]


def best_times(session: Any, q: ReportQuery, *, now: datetime | None = None) -> BestTimesReport:
    db, sc, meta = begin(session, q, "best-times")
    if meta.empty:
        return BestTimesReport(meta, [], [])
    slots = [
        Slot(d, h, t.posts, t.reported, t.mean)
        for (d, h), t in sorted(slot_totals(db, sc, utc_now(now), bucket_seconds(sc)).items())
    ]
    # Best mean first; ties go to the slot with more evidence, then the earlier in the week.
    ranked = sorted(
        (s for s in slots if s.reported_posts >= MIN_POSTS),
        key=lambda s: (-(s.mean_engagement or 0.0), -s.reported_posts, s.weekday, s.hour),
    )
    for i, s in enumerate(ranked, start=1):
        s.rank = i
    thin = sorted(
        (s for s in slots if s.reported_posts < MIN_POSTS),
        key=lambda s: (s.mean_engagement is None, -(s.mean_engagement or 0.0), s.weekday, s.hour),
    )
    if not slots:
        meta.empty = sc.nothing_published()
    return BestTimesReport(meta, ranked, thin)
