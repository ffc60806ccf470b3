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

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from postcli.services import reports
from postcli.store.dbapi import reader

MIN_POSTS = 3  # posts with reported engagement a slot needs before it is ranked
# Quarter hours: every zone's offset is a whole number of them (+05:30, +05:45), so a
# bucket never straddles a local hour, whatever the offset at that moment (DST included).
BUCKET_SECONDS = 900

MEANING = (
    "Slots are ranked by mean engagement per post (likes + comments + shares, as of the period's end) "
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
            "weekday_name": reports.WEEKDAYS[self.weekday],
            "hour": self.hour,
            "posts": self.posts,
            "reported_posts": self.reported_posts,
            "mean_engagement": self.mean_engagement,
        }


COLUMNS = ("rank", "weekday", "weekday_name", "hour", "posts", "reported_posts", "mean_engagement")


@dataclass
class BestTimesReport:
    meta: reports.Meta
    ranked: list[Slot]
    thin: list[Slot]  # posted in, but fewer than MIN_POSTS with reported engagement

    def as_json(self) -> dict[str, Any]:
        return {
            **self.meta.as_json(),
            "min_posts": MIN_POSTS,
            "meaning": MEANING,
            "ranked": [s.as_json() for s in self.ranked],
            "too_few_posts": [s.as_json() for s in self.thin],
        }

    def csv(self) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
        # Ranked slots first; the thin ones follow with an empty rank.
        return COLUMNS, [s.as_json() for s in (*self.ranked, *self.thin)]


def best_times(session: Any, q: reports.ReportQuery, *, now: datetime | None = None) -> BestTimesReport:
    db = reader(session)
    sc, meta = reports._scope(db, q, "best-times")
    meta.empty = reports._store_empty_reason(db, sc)
    if meta.empty:
        return BestTimesReport(meta, [], [])
    bucket = db.epoch_bucket(reports._PUBLISHED, BUCKET_SECONDS)
    frm, params = reports._published_targets(sc, reports._now(now))
    found = db.rows(
        f"SELECT {bucket}, count(t.id), count(m.engagement), sum(m.engagement) {frm} GROUP BY {bucket}", **params
    )
    zone = sc.q.zone
    acc: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0])  # posts, reported, sum
    for b, posts, reported, total in found:
        loc = datetime.fromtimestamp(int(b) * BUCKET_SECONDS, timezone.utc).astimezone(zone)
        a = acc[(loc.weekday(), loc.hour)]
        a[0] += posts
        a[1] += reported
        a[2] += int(total or 0)
    slots = [
        Slot(d, h, posts, reported, total / reported if reported else None)
        for (d, h), (posts, reported, total) in sorted(acc.items())
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
        meta.empty = reports._nothing_published(sc)
    return BestTimesReport(meta, ranked, thin)
