"""A location's numbers from the Business Profile Performance API, as account metrics.

References:
  https://developers.google.com/my-business/reference/performance/rest/v1/locations/fetchMultiDailyMetricsTimeSeries
      GET businessprofileperformance.googleapis.com/v1/{location=locations/*}:fetchMultiDailyMetricsTimeSeries
      ?dailyMetrics=A&dailyMetrics=B&dailyRange.startDate.year=...: {"multiDailyMetricTimeSeries":
      [{"dailyMetricTimeSeries": [{"dailyMetric": "WEBSITE_CLICKS", "timeSeries": {"datedValues": [...]}}]}]}
  https://developers.google.com/my-business/reference/performance/rest/v1/TimeSeries
      a DatedValue is {"date": {"year", "month", "day"}, "value": "12"} (int64 as a string); its
      value "will not be present when the value is zero"
  https://developers.google.com/my-business/reference/performance/rest/v1/DailyMetric
      BUSINESS_IMPRESSIONS_{DESKTOP,MOBILE}_{MAPS,SEARCH} ("multiple impressions by a unique user
      within a single day are counted as a single impression"), CALL_CLICKS, WEBSITE_CLICKS,
      BUSINESS_DIRECTION_REQUESTS

What goes where (docs/platforms/google-business.md): the four impression series summed are the
profile's views (AccountMetrics.profile_views, what the Business Profile calls "profile views");
views on Search and on Maps, calls, website clicks and direction requests stay in raw. A metric
missing from the answer, or answered with no dated values, is None; a dated value without a
value is 0, as documented.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from postcli.platforms.base import AccountMetrics
from postcli.platforms.values import as_dict, int_or_none

SEARCH = ("BUSINESS_IMPRESSIONS_DESKTOP_SEARCH", "BUSINESS_IMPRESSIONS_MOBILE_SEARCH")
MAPS = ("BUSINESS_IMPRESSIONS_DESKTOP_MAPS", "BUSINESS_IMPRESSIONS_MOBILE_MAPS")
ACTIONS = {
    "calls": "CALL_CLICKS",
    "website_clicks": "WEBSITE_CLICKS",
    "direction_requests": "BUSINESS_DIRECTION_REQUESTS",
}
DAILY_METRICS = (*MAPS, *SEARCH, *ACTIONS.values())
# A snapshot is the sum over the 28 days up to yesterday: a rolling window, like the
# Business Profile's own performance page, so two snapshots compare like with like.
WINDOW_DAYS = 28


def window(today: date) -> tuple[date, date]:
    end = today - timedelta(days=1)
    return end - timedelta(days=WINDOW_DAYS - 1), end


def params(start: date, end: date) -> list[tuple[str, str | int]]:
    """The query: every metric repeated as dailyMetrics, the range as dailyRange.* fields."""
    query: list[tuple[str, str | int]] = [("dailyMetrics", m) for m in DAILY_METRICS]
    for edge, day in (("startDate", start), ("endDate", end)):
        query += [(f"dailyRange.{edge}.{part}", getattr(day, part)) for part in ("year", "month", "day")]
    return query


def totals(body: Any) -> dict[str, int | None]:
    """{metric: the sum of its dated values} for every metric asked; None when not reported."""
    found: dict[str, int | None] = dict.fromkeys(DAILY_METRICS)
    for multi in as_dict(body).get("multiDailyMetricTimeSeries") or []:
        for series in as_dict(multi).get("dailyMetricTimeSeries") or []:
            series = as_dict(series)
            metric = series.get("dailyMetric")
            values = as_dict(series.get("timeSeries")).get("datedValues")
            if metric not in found or not isinstance(values, list) or not values:
                continue
            counts = [int_or_none(as_dict(v).get("value", 0)) for v in values]
            if any(c is None for c in counts):
                continue  # an unreadable value: not a number to report
            found[metric] = sum(c for c in counts if c is not None)
    return found


def _sum(found: dict[str, int | None], metrics: tuple[str, ...]) -> int | None:
    values = [found[m] for m in metrics]
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def account_metrics(body: Any, start: date, end: date) -> AccountMetrics:
    found = totals(body)
    search, maps = _sum(found, SEARCH), _sum(found, MAPS)
    views = None if search is None or maps is None else search + maps
    raw: dict[str, Any] = {
        "window": {"start": start.isoformat(), "end": end.isoformat()},
        "daily_metrics": found,
        "views_search": search,
        "views_maps": maps,
        **{key: found[metric] for key, metric in ACTIONS.items()},
    }
    return AccountMetrics(profile_views=views, raw=raw)
