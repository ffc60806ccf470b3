"""Post metrics from GET /2/tweets?ids= (docs.x.com/x-api/fundamentals/metrics).

- public_metrics: like, reply, retweet (repost in the current OpenAPI), quote, bookmark and
  impression counts, for any post;
- non_public_metrics / organic_metrics: impression_count, url_link_clicks,
  user_profile_clicks, only for the user's own posts of the last 30 days. Asked for a post
  outside that, X drops the post from `data` and says why in `errors` with a 200
  ("Field Authorization Error", type .../not-authorized-for-field): the post is read again
  with public fields only. A deleted post is a resource-not-found entry in `errors`.
- video views: the media's public_metrics.view_count (expansions=attachments.media_keys).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from postcli.platforms.base import PostMetrics
from postcli.platforms.values import as_dict, int_or_none
from postcli.platforms.x.api import problem_type, problems
from postcli.platforms.x.posts import created_at_of_id

# "only available for Posts that have been created within the last 30 days"; a day's margin
# keeps a post at the edge from costing a refused request and a second read.
PRIVATE_DAYS = timedelta(days=29)
PRIVATE_FIELDS = ("non_public_metrics", "organic_metrics")
DELETED = ("resource-not-found",)
FIELD_DENIED = ("not-authorized-for-field", "field-unauthorized")


def private_allowed(post_id: str, now: datetime) -> bool:
    created = created_at_of_id(post_id)
    return created is None or now - created < PRIVATE_DAYS


def lookup_params(ids: list[str], fields_param: str, *, private: bool) -> dict[str, str]:
    fields = ["public_metrics", "created_at", "attachments", *(PRIVATE_FIELDS if private else ())]
    return {
        "ids": ",".join(ids),
        fields_param: ",".join(fields),
        "expansions": "attachments.media_keys",
        "media.fields": "media_key,type,public_metrics",
    }


def read_answer(body: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], dict[str, Any], set[str], set[str]]:
    """(posts by id, media by key, ids deleted, ids whose private fields were refused)."""
    posts = {str(p["id"]): p for p in body.get("data") or [] if isinstance(p, dict) and p.get("id")}
    media = {
        str(m["media_key"]): m
        for m in as_dict(body.get("includes")).get("media") or []
        if isinstance(m, dict) and m.get("media_key")
    }
    deleted: set[str] = set()
    denied: set[str] = set()
    for p in problems({"errors": body.get("errors")}):
        rid = str(p.get("resource_id") or p.get("value") or "")
        if not rid:
            continue
        if problem_type(p) in DELETED:
            deleted.add(rid)
        elif problem_type(p) in FIELD_DENIED:
            denied.add(rid)
    return posts, media, deleted - set(posts), denied - set(posts)


def _first(*values: Any) -> int | None:
    for value in values:
        number = int_or_none(value)
        if number is not None:
            return number
    return None


def to_metrics(post: dict[str, Any], media: dict[str, Any]) -> PostMetrics:
    public = as_dict(post.get("public_metrics"))
    private = as_dict(post.get("non_public_metrics"))
    organic = as_dict(post.get("organic_metrics"))
    keys = as_dict(post.get("attachments")).get("media_keys") or []
    attached = [as_dict(media.get(str(k))) for k in keys if isinstance(k, (str, int))]
    views = [int_or_none(as_dict(m.get("public_metrics")).get("view_count")) for m in attached]
    counted = [v for v in views if v is not None]
    raw = {
        "id": post.get("id"),
        "public_metrics": public or None,
        "non_public_metrics": private or None,
        "organic_metrics": organic or None,
        "media": [
            {"media_key": m.get("media_key"), "type": m.get("type"), "public_metrics": m.get("public_metrics")}
            for m in attached
        ],
    }
    return PostMetrics(
        impressions=_first(
            public.get("impression_count"), private.get("impression_count"), organic.get("impression_count")
        ),
        likes=_first(public.get("like_count")),
        comments=_first(public.get("reply_count")),
        # The guides say retweet_count, the current OpenAPI repost_count.
        shares=_first(public.get("retweet_count"), public.get("repost_count")),
        quotes=_first(public.get("quote_count")),
        saves=_first(public.get("bookmark_count")),
        clicks=_first(private.get("url_link_clicks"), organic.get("url_link_clicks")),
        video_views=sum(counted) if counted else None,
        raw=raw,
    )
