"""A Pin's counters from GET /v5/pins/{pin_id}/analytics (the API description's PinAnalyticsResponse).

The answer is keyed by app type ("all" without a split) and holds daily_metrics, one record per
day with a data_status, and summary_metrics over the range. Pinterest takes 24-72 hours to
settle a day: a day still PROCESSING has no numbers yet, so the counters are the sums over the
days that are READY (or ESTIMATE), and a counter with no such day is None (null), never 0; a
later `collect` (min_collect_hours) reads the day again once it is ready. Days before the Pin
existed (BEFORE_PIN_CREATED and the like) count for nothing either way.

The range can reach 90 days back at most (start_date's description), so for an older Pin the
counters cover its last 90 days, not its whole life: raw says which range was read.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from postcli.platforms.base import PostMetrics
from postcli.platforms.values import as_dict, int_or_none

# Pinterest's metric -> postcli's counter. OUTBOUND_CLICK (clicks to the Pin's link) is kept in
# raw: postcli's "clicks" is what the issue maps, the PIN_CLICK (clicks on the Pin).
COUNTERS = {"IMPRESSION": "impressions", "SAVE": "saves", "PIN_CLICK": "clicks", "VIDEO_MRC_VIEW": "video_views"}
STANDARD_METRICS = ("IMPRESSION", "SAVE", "PIN_CLICK", "OUTBOUND_CLICK")
VIDEO_METRICS = (*STANDARD_METRICS, "VIDEO_MRC_VIEW")
COUNTED = {"READY", "ESTIMATE"}
MAX_DAYS_BACK = 89  # start_date "cannot be more than 90 days back from today": stay inside it


def date_range(created: date | None, today: date) -> tuple[date, date]:
    """From the Pin's creation day (or 90 days back, whichever is later) to today (UTC)."""
    earliest = today - timedelta(days=MAX_DAYS_BACK)
    start = created if created is not None and earliest <= created <= today else earliest
    return start, today


def metric_types(is_video: bool) -> tuple[str, ...]:
    # The video metrics are listed for video Pins only (query_pin_analytics_metric_types).
    return VIDEO_METRICS if is_video else STANDARD_METRICS


def post_metrics(answer: Any, requested: tuple[str, ...], start: date, end: date) -> PostMetrics:
    body = as_dict(answer)
    block = as_dict(body.get("all"))
    if not block and len(body) == 1:  # a single app type under another name
        block = as_dict(next(iter(body.values())))
    daily = block.get("daily_metrics")
    totals: dict[str, int | None] = {}
    processing: list[str] = []
    counted_days: list[str] = []
    if isinstance(daily, list):
        days = [d for d in daily if isinstance(d, dict)]
        ready = [d for d in days if d.get("data_status") in COUNTED]
        processing = sorted(str(d.get("date")) for d in days if d.get("data_status") == "PROCESSING")
        counted_days = sorted(str(d.get("date")) for d in ready)
        for metric in requested:
            values = [int_or_none(as_dict(d.get("metrics")).get(metric)) for d in ready]
            known = [v for v in values if v is not None]
            totals[metric] = sum(known) if known else None
    else:
        # No daily records: the summary is all there is (nothing says what is still processing).
        summary = as_dict(block.get("summary_metrics"))
        totals = {metric: int_or_none(summary.get(metric)) for metric in requested}
    raw: dict[str, Any] = {
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "metrics": totals,
        "days_counted": len(counted_days),
        "counted_through": counted_days[-1] if counted_days else None,
        "processing_days": processing,
        "summary_metrics": as_dict(block.get("summary_metrics")) or None,
        "lifetime_metrics": as_dict(block.get("lifetime_metrics")) or None,
    }
    counters = {COUNTERS[m]: totals.get(m) for m in requested if m in COUNTERS}
    return PostMetrics(**counters, raw=raw)
