"""Facebook post and Page metrics: post fields and insights through the Batch API, 50
requests a call (v26.0 removed the root `GET /?ids=` lookup; a batch also answers per
post, so a deleted post is one error among successes), insights with the 2025 names
(`post_media_view`, `post_total_media_view_unique`): a name Graph refuses is dropped and
remembered in settings, never a failed run.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from postcli.platforms.base import (
    AccountMetrics,
    PlatformRejected,
    PlatformUnavailable,
    PostMetrics,
    RemoteNotFound,
)
from postcli.platforms.facebook.client import PLATFORM, FacebookClient
from postcli.platforms.facebook.pages import view_count
from postcli.platforms.graph import BATCH_LIMIT
from postcli.platforms.values import as_utc, int_or_none

_as_datetime = as_utc
_int = int_or_none

POST_METRICS = ("post_media_view", "post_total_media_view_unique", "post_clicks")
PAGE_METRICS = ("page_media_view", "page_total_media_view_unique")
ENGAGEMENT_FIELDS = "reactions.limit(0).summary(total_count),comments.limit(0).summary(total_count),shares"


def _error_of(body: Any) -> dict[str, Any]:
    err = body.get("error") if isinstance(body, dict) else None
    return err if isinstance(err, dict) else {}


def _invalid_metric(err: dict[str, Any]) -> bool:
    # "(#100) The value must be a valid insights metric"
    return err.get("code") == 100 and "metric" in str(err.get("message", "")).lower()


def _no_insights_permission(err: dict[str, Any]) -> bool:
    # (#10) / (#200-299): the token lacks read_insights (the ANALYZE task).
    code = err.get("code")
    return isinstance(code, int) and (code == 10 or 200 <= code < 300)


class FacebookInsights(FacebookClient):
    def _post_metric_names(self) -> tuple[str, ...]:
        names = (self.ctx.settings or {}).get("post_insight_metrics")
        return tuple(names) if isinstance(names, list) else POST_METRICS

    @staticmethod
    def _metrics_url(post_id: str, metrics: tuple[str, ...]) -> str:
        fields = "id," + ENGAGEMENT_FIELDS
        if metrics:
            fields += f",insights.metric({','.join(metrics)})"
        return f"{post_id}?{urlencode({'fields': fields})}"

    def fetch_post_metrics(self, platform_post_ids: list[str]) -> dict[str, PostMetrics | None]:
        ids = [str(i) for i in dict.fromkeys(platform_post_ids)]
        result: dict[str, PostMetrics | None] = {}
        for start in range(0, len(ids), BATCH_LIMIT):
            result.update(self._metrics_chunk(ids[start : start + BATCH_LIMIT]))
        return result

    def _metrics_chunk(self, ids: list[str]) -> dict[str, PostMetrics | None]:
        out: dict[str, PostMetrics | None] = {}
        pending = list(ids)
        retried_nulls = False
        for _ in range(4):  # at most: nulls retried once, metric names learned twice
            metrics = self._post_metric_names()
            answers = self._batch([self._metrics_url(pid, metrics) for pid in pending])
            nulls: list[str] = []
            refused: list[tuple[str, dict[str, Any]]] = []
            for pid, (status, body) in zip(pending, answers):
                if status is None:
                    nulls.append(pid)
                elif status < 400 and isinstance(body, dict) and "error" not in body:
                    out[pid] = self._post_metrics(body, metrics)
                else:
                    err = _error_of(body)
                    if metrics and (_invalid_metric(err) or _no_insights_permission(err)):
                        refused.append((pid, err))
                        continue
                    error = self._batch_error(status or 500, body)
                    if not isinstance(error, RemoteNotFound):
                        raise error
                    out[pid] = None  # deleted (code 100, subcode 33)
            if refused:
                self._learn_post_metrics(refused[0][0], metrics, refused[0][1])
            elif nulls and retried_nulls:
                raise PlatformUnavailable(f"{self._graph.host} did not finish the metrics batch", platform=PLATFORM)
            retried_nulls = retried_nulls or bool(nulls)
            pending = nulls + [pid for pid, _ in refused]
            if not pending:
                return out
        raise PlatformUnavailable(f"{self._graph.host} kept refusing the metrics batch", platform=PLATFORM)

    def _learn_post_metrics(self, post_id: str, metrics: tuple[str, ...], err: dict[str, Any]) -> None:
        """Keep only the insights metrics Graph still accepts (asked one by one, once)."""
        kept: list[str] = []
        if not _no_insights_permission(err):
            answers = self._batch([f"{post_id}/insights?{urlencode({'metric': m})}" for m in metrics])
            for metric, (status, body) in zip(metrics, answers):
                if status is None:
                    raise PlatformUnavailable(f"{self._graph.host} did not finish the metrics batch", platform=PLATFORM)
                if status < 400:
                    kept.append(metric)
                elif not _invalid_metric(_error_of(body)):
                    error = self._batch_error(status, body)
                    if isinstance(error, RemoteNotFound):
                        return  # the post went meanwhile; the next round reports it deleted
                    raise error  # rate limited, auth...: learn nothing from a failed probe
            if len(kept) == len(metrics):
                kept = []  # refused together, accepted alone: do without insights rather than loop
        self._remember("post_insight_metrics", kept)

    @staticmethod
    def _post_metrics(body: dict[str, Any], metrics: tuple[str, ...]) -> PostMetrics:
        def total(edge: str) -> int | None:
            value = body.get(edge)
            return _int(((value or {}).get("summary") or {}).get("total_count")) if isinstance(value, dict) else None

        insights: dict[str, Any] = {}
        for row in (body.get("insights") or {}).get("data") or []:
            values = row.get("values") or []
            if row.get("name") and values and isinstance(values[-1], dict):
                insights[str(row["name"])] = values[-1].get("value")
        shares = body.get("shares")
        return PostMetrics(
            likes=total("reactions"),
            comments=total("comments"),
            # Graph leaves `shares` out of a post nobody has shared.
            shares=_int(shares.get("count")) if isinstance(shares, dict) else 0,
            views=view_count(insights.get("post_media_view")) if "post_media_view" in metrics else None,
            reach=(
                _int(insights.get("post_total_media_view_unique"))
                if "post_total_media_view_unique" in metrics
                else None
            ),
            clicks=_int(insights.get("post_clicks")) if "post_clicks" in metrics else None,
            raw=body,
        )

    def fetch_account_metrics(self) -> AccountMetrics:
        page_id = self._page_id()
        fields = "id,followers_count,fan_count"
        with_insights = (self.ctx.settings or {}).get("page_insights") is not False
        if with_insights:
            fields += f",insights.metric({','.join(PAGE_METRICS)}).period(days_28)"
        try:
            body = self._get(page_id, fields=fields)
        except PlatformRejected:
            err = self._graph.last_error()
            if not (with_insights and (_invalid_metric(err) or _no_insights_permission(err))):
                raise
            self._remember("page_insights", False)
            body = self._get(page_id, fields="id,followers_count,fan_count")
        body = self._dict(body, "reading the Page")
        insights: dict[str, Any] = {}
        for row in (body.get("insights") or {}).get("data") or []:
            values = row.get("values") or []
            if row.get("name") and values and isinstance(values[-1], dict):
                insights[str(row["name"])] = values[-1].get("value")
        return AccountMetrics(
            followers=_int(body.get("followers_count")),
            # Meta names page_media_view as the replacement of page_impressions (28 days here).
            impressions=view_count(insights.get("page_media_view")),
            reach=_int(insights.get("page_total_media_view_unique")),
            raw=body,
        )
