"""Instagram post and account metrics. Insights lag up to 48 hours and some metrics are
refused per media type (error 100 naming them): those are dropped and the rest kept.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from postcli.platforms.base import (
    AccountMetrics,
    MalformedResponse,
    PlatformError,
    PlatformRejected,
    PostMetrics,
    RemoteNotFound,
)
from postcli.platforms.graph import graph_version_for, insights_by_name
from postcli.platforms.graph_tokens import UserTokenAdapter
from postcli.platforms.instagram.spec import SPEC
from postcli.platforms.values import int_or_none as _int

PLATFORM = "instagram"
DEFAULT_BASE_URL = SPEC.hosts["api"]
# The Graph version: graph.DEFAULT_GRAPH_VERSION unless config ([graph] version) or the
# account (settings["api_version"], from `accounts add instagram --graph-version`) says otherwise.

# Media insights asked for every post; saved -> saves. impressions/plays/video_views
# were removed in 2025 in favour of views.
POST_METRICS = ("views", "reach", "likes", "comments", "shares", "saved")
_METRIC_KEY = {
    "views": "views",
    "reach": "reach",
    "likes": "likes",
    "comments": "comments",
    "shares": "shares",
    "saved": "saves",
}
ACCOUNT_METRICS = ("reach", "views", "profile_views")

# graph.py formats every Graph error as "<host>: <text> (code N[/subcode])".
_CODE = re.compile(r"\(code (-?\d+)(?:/(\d+))?\)\s*$")
_UNSUPPORTED = (
    re.compile(r"does not support the ([\w ,]+?) metrics? for", re.IGNORECASE),
    re.compile(r"metrics? ([\w ,]+?) (?:is|are) not (?:available|supported)", re.IGNORECASE),
    re.compile(r"the ([\w ,]+?) metrics? (?:is|are) not (?:available|supported)", re.IGNORECASE),
)


def error_code(exc: PlatformError) -> tuple[int | None, int | None]:
    """(code, subcode) of a Graph error raised by GraphClient (its attributes; else the message)."""
    if getattr(exc, "code", None) is not None:
        return exc.code, getattr(exc, "subcode", None)  # type: ignore[attr-defined]
    m = _CODE.search(exc.message or "")
    if not m:
        return None, None
    return int(m.group(1)), (int(m.group(2)) if m.group(2) else None)


def unsupported_metrics(message: str, asked: list[str]) -> list[str]:
    """The metrics a code-100 insights error names as not available for this media."""
    for pattern in _UNSUPPORTED:
        m = pattern.search(message or "")
        if m:
            named = {n.strip() for n in re.split(r"[,\s]+", m.group(1)) if n.strip()}
            return [a for a in asked if a in named]
    return []


def _insight_value(item: dict[str, Any]) -> int | None:
    values = item.get("values")
    if isinstance(values, list) and values and isinstance(values[0], dict):
        return _int(values[0].get("value"))
    total = item.get("total_value")
    if isinstance(total, dict):
        return _int(total.get("value"))
    return None


def _insights(body: Any) -> dict[str, int | None]:
    return insights_by_name(body, _insight_value, label="Instagram", platform=PLATFORM)


class InstagramInsights(UserTokenAdapter):
    """The account id, and the metrics of InstagramAdapter."""

    platform: ClassVar[str] = PLATFORM

    # -- plumbing -----------------------------------------------------------------

    def _graph_version(self) -> str:
        return graph_version_for(self.ctx.settings, self.ctx.graph_version)

    def _ig_user_id(self) -> str:
        return self._own_id("ig_user_id", field="user_id", what="the account id")

    # -- metrics -------------------------------------------------------------------

    def fetch_post_metrics(self, platform_post_ids: list[str]) -> dict[str, PostMetrics | None]:
        result: dict[str, PostMetrics | None] = {}
        for media_id in dict.fromkeys(str(i) for i in platform_post_ids):
            try:
                result[media_id] = self._post_metrics(media_id)
            except RemoteNotFound:
                result[media_id] = None  # deleted
        return result

    def _post_metrics(self, media_id: str) -> PostMetrics:
        asked = list(POST_METRICS)
        dropped: list[str] = []
        raw: dict[str, Any] = {"id": media_id}
        while asked:
            try:
                with self._calls(f"reading the insights of post {media_id}"):
                    values = _insights(self._graph().get(f"{media_id}/insights", metric=",".join(asked)))
            except PlatformRejected as exc:
                names = unsupported_metrics(exc.message, asked)
                if not names:
                    # No insights for this post ("not enough viewers", posted before the
                    # account turned professional, no insights permission): fall back to
                    # the counters on the media itself.
                    raw["insights_error"] = exc.message
                    return self._counter_metrics(media_id, raw)
                dropped.extend(names)
                asked = [m for m in asked if m not in names]
                continue
            raw["insights"] = values
            if dropped:
                raw["unsupported"] = dropped
            # A metric with no data is left out of the answer: None, never 0.
            return PostMetrics(raw=raw, **{_METRIC_KEY[m]: values.get(m) for m in POST_METRICS if m in values})
        raw["unsupported"] = dropped
        return self._counter_metrics(media_id, raw)

    def _counter_metrics(self, media_id: str, raw: dict[str, Any]) -> PostMetrics:
        with self._calls(f"reading post {media_id}"):
            fields = self._graph().get(media_id, fields="id,media_type,media_product_type,like_count,comments_count")
        raw["fields"] = {k: fields.get(k) for k in ("media_type", "media_product_type", "like_count", "comments_count")}
        return PostMetrics(likes=_int(fields.get("like_count")), comments=_int(fields.get("comments_count")), raw=raw)

    def fetch_account_metrics(self) -> AccountMetrics:
        with self._calls("reading the account's counters"):
            me = self._graph().get("me", fields="user_id,username,followers_count,follows_count,media_count")
        raw: dict[str, Any] = {
            k: me.get(k) for k in ("user_id", "username", "followers_count", "follows_count", "media_count")
        }
        insights = self._account_insights(str(me.get("user_id") or self._ig_user_id()), raw)
        raw["insights"] = insights
        return AccountMetrics(
            followers=_int(me.get("followers_count")),
            following=_int(me.get("follows_count")),
            posts_count=_int(me.get("media_count")),
            impressions=None,  # removed from the API in 2025
            reach=insights.get("reach"),
            profile_views=insights.get("profile_views"),
            raw=raw,
        )

    def _account_insights(self, ig: str, raw: dict[str, Any]) -> dict[str, int | None]:
        """Yesterday-to-now totals; optional: an account without them still has counters."""
        asked = list(ACCOUNT_METRICS)
        for _ in range(2):
            try:
                with self._calls("reading the account's insights"):
                    return _insights(
                        self._graph().get(
                            f"{ig}/insights", metric=",".join(asked), period="day", metric_type="total_value"
                        )
                    )
            except (PlatformRejected, MalformedResponse) as exc:
                names = unsupported_metrics(exc.message, asked)
                asked = [m for m in asked if m not in names]
                if not names or not asked:
                    raw["insights_error"] = exc.message
                    return {}
        return {}
