"""Threads post and profile insights, read one post per call (no multi-id insights call is
documented), and the profile id they hang on.
"""

from __future__ import annotations

from typing import Any, ClassVar

from postcli.platforms.base import (
    AccountMetrics,
    PostMetrics,
    RemoteNotFound,
)
from postcli.platforms.graph import insights_by_name
from postcli.platforms.graph_tokens import UserTokenAdapter
from postcli.platforms.threads.spec import SPEC
from postcli.platforms.values import int_or_none as _int

PLATFORM = "threads"
DEFAULT_BASE_URL = SPEC.hosts["api"]
DEFAULT_API_VERSION = "v1.0"

POST_METRICS = ("views", "likes", "replies", "reposts", "quotes", "shares")
# Threads' own "shares" (sends) has no key in DESIGN.md's metrics: it stays in raw.
_METRIC_KEY = {"views": "views", "likes": "likes", "replies": "comments", "reposts": "shares", "quotes": "quotes"}
ACCOUNT_METRICS = ("followers_count", "views", "likes", "replies", "reposts", "quotes", "clicks")


def _insight_value(item: dict[str, Any]) -> int | None:
    """One insights entry: media metrics put it in values[0]; user metrics in
    total_value, daily `values` (views) or `link_total_values` (clicks)."""
    total = item.get("total_value")
    if isinstance(total, dict):
        return _int(total.get("value"))
    links = item.get("link_total_values")
    if isinstance(links, list):
        found = [n for n in (_int(v.get("value")) for v in links if isinstance(v, dict)) if n is not None]
        return sum(found) if found else None
    values = item.get("values")
    if isinstance(values, list):
        found = [n for n in (_int(v.get("value")) for v in values if isinstance(v, dict)) if n is not None]
        # A media metric has one lifetime value; profile views come per day.
        return sum(found) if found else None
    return None


def _insights(body: Any) -> dict[str, int | None]:
    return insights_by_name(body, _insight_value, label="Threads", platform=PLATFORM)


class ThreadsInsights(UserTokenAdapter):
    """The Graph version, the profile id, and the metrics of ThreadsAdapter."""

    platform: ClassVar[str] = PLATFORM

    # -- plumbing -----------------------------------------------------------------

    def _graph_version(self) -> str:
        return str((self.ctx.settings or {}).get("api_version") or DEFAULT_API_VERSION)

    def _unversioned(self, path: str) -> str:
        # /access_token and /refresh_access_token live outside the versioned tree;
        # /v1.0/access_token answers "Unsupported request".
        return f"{self._graph().base_url}/{path}"

    def _user_id(self) -> str:
        return self._own_id("user_id", field="id", what="the profile id")

    # -- metrics -------------------------------------------------------------------

    def fetch_post_metrics(self, platform_post_ids: list[str]) -> dict[str, PostMetrics | None]:
        result: dict[str, PostMetrics | None] = {}
        for media_id in dict.fromkeys(str(i) for i in platform_post_ids):
            try:
                with self._calls(f"reading the insights of thread {media_id}"):
                    values = _insights(self._graph().get(f"{media_id}/insights", metric=",".join(POST_METRICS)))
            except RemoteNotFound:
                result[media_id] = None  # deleted
                continue
            # A metric missing from the answer was not reported: None, never 0.
            result[media_id] = PostMetrics(
                raw={"id": media_id, "insights": values},
                **{key: values.get(name) for name, key in _METRIC_KEY.items()},
            )
        return result

    def fetch_account_metrics(self) -> AccountMetrics:
        user_id = self._user_id()
        with self._calls("reading the profile's insights"):
            values = _insights(self._graph().get(f"{user_id}/threads_insights", metric=",".join(ACCOUNT_METRICS)))
        return AccountMetrics(
            followers=values.get("followers_count"),
            # User insights' "views" are profile views, per day over the API's default
            # window (yesterday and today); their sum.
            profile_views=values.get("views"),
            raw={"id": user_id, "insights": values, "window": "yesterday-today"},
        )
