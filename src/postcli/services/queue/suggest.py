"""`postcli queue suggest`: weekly slots from the account's own numbers.

The best-times report for the account (weekday x hour of publishing, in the queue's zone, mean
engagement per post over the last SUGGEST_DAYS days) gives the ranked slots; each suggestion
carries the posts it rests on and how its mean compares with the account's mean over all its
posts in the window. A slot needs the best-times minimum of posts of its own; with none that
has, nothing is suggested (exit 4, saying how much data is needed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from postcli import settings
from postcli.services.queue import slots as slots_mod
from postcli.services.queue.service import QueueInfo, not_enough, set_queue
from postcli.store.models import utcnow

SUGGEST_DAYS = 90


@dataclass(frozen=True)
class Suggestion:
    slot: slots_mod.Slot
    posts: int  # posts with reported engagement it rests on
    mean_engagement: float
    vs_mean: float | None  # its mean over the account's mean, minus 1 (+0.25 = 25 % better)

    def as_json(self) -> dict[str, Any]:
        return {
            "weekday": slots_mod.DAYS[self.slot.weekday],
            "time": f"{self.slot.clock:%H:%M}",
            "posts": self.posts,
            "mean_engagement": self.mean_engagement,
            "vs_account_mean": self.vs_mean,
        }


@dataclass
class Suggested:
    account: str
    timezone: str
    account_mean: float | None
    suggestions: list[Suggestion]
    applied: list[QueueInfo]

    @property
    def slots_text(self) -> str:
        return slots_mod.render([s.slot for s in self.suggestions])

    def as_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "timezone": self.timezone,
            "days": SUGGEST_DAYS,
            "account_mean_engagement": self.account_mean,
            "slots": self.slots_text,
            "suggestions": [s.as_json() for s in self.suggestions],
            "applied": bool(self.applied),
        }


def suggest(
    account: str, *, count: int = 5, tz: str | None = None, apply: bool = False, now: datetime | None = None
) -> Suggested:
    from postcli.services.reports import catalog
    from postcli.services.reports.best_times import MIN_POSTS
    from postcli.services.reports.scope import ReportQuery

    now = now or utcnow()
    tz_name = settings.time_zone(tz)
    report = catalog.run(
        "best-times", ReportQuery(start=now - timedelta(days=SUGGEST_DAYS), end=now, tz=tz_name, account=account)
    )
    every = [*report.ranked, *report.thin]
    reported = sum(s.reported_posts for s in every)
    total = sum((s.mean_engagement or 0.0) * s.reported_posts for s in every)
    mean = total / reported if reported else None
    if not report.ranked:
        raise not_enough(sum(s.posts for s in every), MIN_POSTS)
    chosen = [
        Suggestion(
            slots_mod.Slot(s.weekday, s.hour * 60),
            s.reported_posts,
            float(s.mean_engagement or 0.0),
            (float(s.mean_engagement or 0.0) / mean - 1) if mean else None,
        )
        for s in report.ranked[:count]
    ]
    applied = set_queue([account], slots_mod.render([c.slot for c in chosen]), tz_name) if apply else []
    return Suggested(account, tz_name, mean, chosen, applied)
