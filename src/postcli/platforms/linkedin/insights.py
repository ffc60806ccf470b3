"""Post and account counters, from whichever source the app's access level opens.

- Member posts: memberCreatorPostAnalytics?q=entity (r_member_postAnalytics), one request per
  metric: IMPRESSION, MEMBERS_REACHED, REACTION, COMMENT, RESHARE, aggregation TOTAL
  (learn.microsoft.com/en-us/linkedin/marketing/community-management/members/post-statistics).
  Each element is {"count", "metricType"}; metricType is the name, or in other versions a
  union {"com.linkedin.…CreatorPostAnalyticsMetricTypeV1": name}: both are read.
- Page posts: organizationalEntityShareStatistics?q=organizationalEntity&shares=List(…)&
  ugcPosts=List(…) (rw_organization_admin), one request for the batch: totalShareStatistics
  impressionCount, uniqueImpressionsCount, clickCount, likeCount, commentCount, shareCount
  (…/organizations/share-statistics).
- Otherwise socialActions/{urn} (r_member_social / r_organization_social): likes and comments
  (…/shares/network-update-social-actions).
Without any of them the counters stay None and the adapter says so once (collect_notes).

Accounts: memberFollowersCount?q=me (…/members/follower-statistics) and
networkSizes/{organization}?edgeType=COMPANY_FOLLOWED_BY_MEMBER (…/organizations/organization-lookup-api).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from postcli.platforms.base import AccountMetrics, PostMetrics, RemoteNotFound
from postcli.platforms.linkedin.api import Forbidden
from postcli.platforms.linkedin.text import restli
from postcli.platforms.values import as_dict, int_or_none

if TYPE_CHECKING:
    from postcli.platforms.linkedin.api import LinkedInApi

MEMBER_METRICS = {
    "IMPRESSION": "impressions",
    "MEMBERS_REACHED": "reach",
    "REACTION": "likes",
    "COMMENT": "comments",
    "RESHARE": "shares",
}
ORG_METRICS = {
    "impressionCount": "impressions",
    "uniqueImpressionsCount": "reach",
    "clickCount": "clicks",
    "likeCount": "likes",
    "commentCount": "comments",
    "shareCount": "shares",
}


def metric_type(element: dict[str, Any]) -> str | None:
    """An element's metricType: "IMPRESSION", or {"com.linkedin.…MetricTypeV1": "IMPRESSION"}."""
    value = element.get("metricType")
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        inner = next(iter(value.values()))
        return inner if isinstance(inner, str) else None
    return None


def _entity(urn: str) -> str:
    """The finder's union parameter: (share:<urn>) or (ugc:<urn>), the URN encoded."""
    kind = "ugc" if ":ugcPost:" in urn else "share"
    return f"({kind}:{restli(urn)})"


def member_post(api: LinkedInApi, urn: str) -> PostMetrics:
    """Five TOTAL counts of one of the member's posts; RemoteNotFound when it is gone."""
    counts: dict[str, int | None] = {}
    for query_type, counter in MEMBER_METRICS.items():
        url = (
            api.host("api") + "/rest/memberCreatorPostAnalytics?q=entity"
            f"&entity={_entity(urn)}&queryType={query_type}&aggregation=TOTAL"
        )
        body = api.get_json(url, f"reading the {query_type.lower()} count of {urn}")
        total: int | None = None
        for element in body.get("elements") or []:
            if not isinstance(element, dict):
                continue
            # An element of another metric, or of a shape postcli cannot read, is not counted.
            if metric_type(element) != query_type and "metricType" in element:
                continue
            count = int_or_none(element.get("count"))
            if count is not None:
                total = (total or 0) + count
        counts[counter] = total
    raw = {"id": urn, "source": "memberCreatorPostAnalytics", **{q: counts[c] for q, c in MEMBER_METRICS.items()}}
    return PostMetrics(**counts, raw=raw)


def org_posts(api: LinkedInApi, org: str, urns: list[str]) -> dict[str, PostMetrics]:
    """Lifetime statistics of the Page's posts in one request; a post LinkedIn leaves out is missing."""
    shares = [u for u in urns if ":share:" in u]
    ugc = [u for u in urns if ":ugcPost:" in u]
    url = (
        api.host("api")
        + f"/rest/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity={restli(org)}"
    )
    if shares:
        url += "&shares=List(" + ",".join(restli(u) for u in shares) + ")"
    if ugc:
        url += "&ugcPosts=List(" + ",".join(restli(u) for u in ugc) + ")"
    body = api.get_json(url, f"reading the statistics of {len(urns)} Page post(s)")
    out: dict[str, PostMetrics] = {}
    for element in body.get("elements") or []:
        if not isinstance(element, dict):
            continue
        urn = element.get("share") or element.get("ugcPost")
        if not isinstance(urn, str):
            continue
        stats = as_dict(element.get("totalShareStatistics"))
        counts = {counter: int_or_none(stats.get(key)) for key, counter in ORG_METRICS.items()}
        raw = {"id": urn, "source": "organizationalEntityShareStatistics", **{k: stats.get(k) for k in ORG_METRICS}}
        out[urn] = PostMetrics(**counts, raw=raw)
    return out


def social_actions(api: LinkedInApi, urn: str) -> PostMetrics:
    """Likes and comments of one post; RemoteNotFound when it is gone."""
    body = api.get_json(
        api.host("api") + f"/rest/socialActions/{restli(urn)}", f"reading the likes and comments of {urn}"
    )
    likes = as_dict(body.get("likesSummary"))
    comments = as_dict(body.get("commentsSummary"))
    like_count = int_or_none(likes.get("totalLikes"))
    if like_count is None:
        like_count = int_or_none(likes.get("aggregatedTotalLikes"))
    comment_count = int_or_none(comments.get("aggregatedTotalComments"))
    if comment_count is None:
        comment_count = int_or_none(comments.get("totalFirstLevelComments"))
    raw = {"id": urn, "source": "socialActions", "likesSummary": likes, "commentsSummary": comments}
    return PostMetrics(likes=like_count, comments=comment_count, raw=raw)


def post_exists(api: LinkedInApi, urn: str) -> bool | None:
    """GET /rest/posts/{urn}: True, False (404: deleted), or None when the app may not read it."""
    try:
        api.get_json(api.host("api") + f"/rest/posts/{restli(urn)}", f"looking up {urn}")
    except RemoteNotFound:
        return False
    except Forbidden:
        return None
    return True


def member_followers(api: LinkedInApi) -> AccountMetrics:
    body = api.get_json(api.host("api") + "/rest/memberFollowersCount?q=me", "reading your follower count")
    elements = [e for e in body.get("elements") or [] if isinstance(e, dict)]
    followers = int_or_none(elements[0].get("memberFollowersCount")) if elements else None
    return AccountMetrics(followers=followers, raw={"source": "memberFollowersCount", "followers": followers})


def org_followers(api: LinkedInApi, org: str) -> AccountMetrics:
    url = api.host("api") + f"/rest/networkSizes/{restli(org)}?edgeType=COMPANY_FOLLOWED_BY_MEMBER"
    body = api.get_json(url, "reading the Page's follower count")
    followers = int_or_none(body.get("firstDegreeSize"))
    return AccountMetrics(followers=followers, raw={"source": "networkSizes", "followers": followers})
