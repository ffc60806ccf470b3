"""The /rest/ routes of FakeLinkedIn (tests/fakes/linkedin_server.py), each beside the page of
learn.microsoft.com/en-us/linkedin/marketing/community-management/... it follows."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from fakes.linkedin_server import _METRIC_UNION, PART, POSTING_ROLES, rendered

if TYPE_CHECKING:
    from fakes.linkedin_server import FakeLinkedIn, Token
    from fakes.loopback import RecordedRequest

_LIST = re.compile(r"^List\((.*)\)$")


def route(li: FakeLinkedIn, method: str, path: str, request: Request, req: RecordedRequest, token: Token) -> Response:
    tail = path[len("/rest/") :]
    resource, _, key = tail.partition("/")
    action = req.query.get("action", [None])[0]
    handler = {
        ("POST", "posts", False): _create_post,
        ("GET", "posts", False): _find_posts,
        ("GET", "posts", True): _get_post,
        ("DELETE", "posts", True): _delete_post,
        ("POST", "images", False): _init_image,
        ("GET", "images", True): _get_image,
        ("POST", "videos", False): _finalize_video if action == "finalizeUpload" else _init_video,
        ("GET", "videos", True): _get_video,
        ("GET", "memberCreatorPostAnalytics", False): _member_analytics,
        ("GET", "organizationalEntityShareStatistics", False): _org_stats,
        ("GET", "socialActions", True): _list_comments if key.endswith("/comments") else _social_actions,
        ("POST", "socialActions", True): _create_comment,
        ("GET", "memberFollowersCount", False): _member_followers,
        ("GET", "networkSizes", True): _network_size,
        ("GET", "organizationAcls", False): _acls,
        ("GET", "organizations", True): _organization,
    }.get((method, resource, bool(key)))
    li._hit(f"{method} /rest/{resource}" + ("/{key}" if key else "") + (f"?action={action}" if action else ""))
    if handler is None:
        return li._error(404, f"No resource {method} {path}", "RESOURCE_NOT_FOUND")
    with li._lock:
        return handler(li, req, token, key)


def _role_ok(li: FakeLinkedIn, author: str) -> bool:
    if not author.startswith("urn:li:organization:"):
        return True
    return li.org_roles.get(author.rsplit(":", 1)[1]) in POSTING_ROLES


def _may_write(li: FakeLinkedIn, token: Token, author: str) -> bool:
    if author.startswith("urn:li:organization:"):
        return "w_organization_social" in token.scopes and _role_ok(li, author)
    return "w_member_social" in token.scopes and author == f"urn:li:person:{token.sub}"


def _may_read(li: FakeLinkedIn, token: Token, author: str) -> bool:
    """Reading posts back: r_member_social (restricted) or r_organization_social."""
    if author.startswith("urn:li:organization:"):
        return "r_organization_social" in token.scopes and author.rsplit(":", 1)[1] in li.org_roles
    return "r_member_social" in token.scopes


# -- Posts API: .../shares/posts-api ------------------------------------------------------------


def _create_post(li: FakeLinkedIn, req: RecordedRequest, token: Token, key: str) -> Response:
    # 201, the new post's URN in the x-restli-id header, no body ("Create a text-only post").
    body = req.json if isinstance(req.json, dict) else {}
    author = str(body.get("author") or "")
    if not _may_write(li, token, author):
        return li._denied("POST /rest/posts")
    missing = [k for k in ("author", "commentary", "visibility", "distribution", "lifecycleState") if k not in body]
    if missing:
        return li._error(422, f"missing fields: {', '.join(missing)}", "UNPROCESSABLE_ENTITY")
    if body["visibility"] not in ("PUBLIC", "CONNECTIONS", "LOGGED_IN", "CONTAINER"):
        return li._error(422, "invalid visibility", "UNPROCESSABLE_ENTITY")
    try:
        text = rendered(str(body["commentary"]))
    except ValueError as exc:  # an assumption: LinkedIn's answer to broken little text is not shown
        return li._error(400, f"commentary is not valid little text: {exc}", "INVALID_ARGUMENT")
    if len(text) > 3000:
        return li._error(422, "commentary is longer than 3000 characters", "UNPROCESSABLE_ENTITY")
    content = body.get("content")
    problem = _content_problem(li, content, author)
    if problem:
        return li._error(400, problem, "INVALID_ARGUMENT")
    kind = "ugcPost" if isinstance(content, dict) and "urn:li:video:" in str(content) else "share"
    urn = f"urn:li:{kind}:{li.next_id()}"
    li._store_post(urn, author, str(body["commentary"]), content, int(time.time() * 1000), body["visibility"])
    if li.lose_post_answers > 0:
        li.lose_post_answers -= 1
        li._lock.release()
        try:
            li._stopping.wait(30)  # the post exists; the answer never comes in time
        finally:
            li._lock.acquire()
    return Response("", status=201, headers={"x-restli-id": urn, "x-linkedin-id": urn})


def _content_problem(li: FakeLinkedIn, content: Any, author: str) -> str | None:
    if content is None:
        return None
    ids: list[str] = []
    if isinstance(content, dict) and isinstance(content.get("media"), dict):
        ids = [str(content["media"].get("id"))]
    elif isinstance(content, dict) and isinstance(content.get("multiImage"), dict):
        images = content["multiImage"].get("images") or []
        if not 2 <= len(images) <= 20:
            return "multiImage takes 2 to 20 images"
        ids = [str(i.get("id")) for i in images if isinstance(i, dict)]
    else:
        return "unknown content"
    for urn in ids:
        media = li.images.get(urn) or li.videos.get(urn)
        if media is None or media.get("owner") != author:
            return f"{urn} is not an upload of {author}"
        if media["status"] != "AVAILABLE":
            return f"{urn} is not AVAILABLE ({media['status']})"
    return None


def _find_posts(li: FakeLinkedIn, req: RecordedRequest, token: Token, key: str) -> Response:
    # "Find Posts by Authors": GET /rest/posts?author={encoded urn}&q=author&count=10&sortBy=LAST_MODIFIED
    if req.param("q") != "author":
        return li._error(400, "unknown finder", "INVALID_ARGUMENT")
    author = str(req.param("author") or "")
    if not _may_read(li, token, author):
        return li._denied("GET /rest/posts FINDER-author")
    start, count = int(req.param("start") or 0), int(req.param("count") or 10)
    mine = sorted((p for p in li.posts.values() if p["author"] == author), key=lambda p: p["createdAt"], reverse=True)
    return li._json({"paging": {"start": start, "count": count, "links": []}, "elements": mine[start : start + count]})


def _get_post(li: FakeLinkedIn, req: RecordedRequest, token: Token, key: str) -> Response:
    post = li.posts.get(key)
    if post is None:
        return li._error(404, f"Post {key} not found", "NOT_FOUND")
    if not _may_read(li, token, post["author"]):
        return li._denied(f"GET /rest/posts/{key}")
    return li._json(post)


def _delete_post(li: FakeLinkedIn, req: RecordedRequest, token: Token, key: str) -> Response:
    post = li.posts.get(key)
    if post is None:
        return li._error(404, f"Post {key} not found", "NOT_FOUND")
    if not _may_write(li, token, post["author"]):
        return li._denied(f"DELETE /rest/posts/{key}")
    li.delete_post(key)
    return Response("", status=204)


# -- Images API: .../shares/images-api; Videos API: .../shares/videos-api -------------------------


def _owner(req: RecordedRequest, token: Token, li: FakeLinkedIn) -> str | None:
    init = (req.json or {}).get("initializeUploadRequest") if isinstance(req.json, dict) else None
    owner = str((init or {}).get("owner") or "")
    return owner if _may_write(li, token, owner) else None


def _init_image(li: FakeLinkedIn, req: RecordedRequest, token: Token, key: str) -> Response:
    owner = _owner(req, token, li)
    if owner is None:
        return li._denied("POST /rest/images ACTION-initializeUpload")
    urn = f"urn:li:image:C4E10AQ{li.next_id()}"
    li.images[urn] = {"owner": owner, "status": "WAITING_UPLOAD", "data": b""}
    expires = int(time.time() * 1000) + 3600_000
    return li._json({"value": {"uploadUrlExpiresAt": expires, "uploadUrl": li.upload_url("image", urn), "image": urn}})


def _get_image(li: FakeLinkedIn, req: RecordedRequest, token: Token, key: str) -> Response:
    image = li.images.get(key)
    if image is None:
        return li._error(404, "no such image", "NOT_FOUND")
    return li._json({"id": key, "owner": image["owner"], "status": image["status"]})


def _init_video(li: FakeLinkedIn, req: RecordedRequest, token: Token, key: str) -> Response:
    owner = _owner(req, token, li)
    if owner is None:
        return li._denied("POST /rest/videos ACTION-initializeUpload")
    size = int(req.json["initializeUploadRequest"].get("fileSizeBytes") or 0)
    urn = f"urn:li:video:C5F10AQ{li.next_id()}"
    ranges = [(first, min(first + PART, size) - 1) for first in range(0, size, PART)]
    li.videos[urn] = {"owner": owner, "status": "WAITING_UPLOAD", "ranges": ranges, "etags": {}, "polls": 0}
    instructions = [
        {"uploadUrl": li.upload_url("video", urn, n), "firstByte": first, "lastByte": last}
        for n, (first, last) in enumerate(ranges)
    ]
    return li._json(
        {
            "value": {
                "uploadUrlsExpireAt": int(time.time() * 1000) + 3600_000,
                "video": urn,
                "uploadInstructions": instructions,
                "uploadToken": "",
            }
        }
    )


def _finalize_video(li: FakeLinkedIn, req: RecordedRequest, token: Token, key: str) -> Response:
    finalize = (req.json or {}).get("finalizeUploadRequest") or {}
    video = li.videos.get(str(finalize.get("video")))
    if video is None:
        return li._error(404, "no such video", "NOT_FOUND")
    expected = [video["etags"].get(n) for n in range(len(video["ranges"]))]
    if finalize.get("uploadedPartIds") != expected:
        return li._error(400, "uploadedPartIds must name every part's ETag, in order", "INVALID_ARGUMENT")
    video.update(status="PROCESSING", polls=li.video_polls)
    return Response("", status=200)


def _get_video(li: FakeLinkedIn, req: RecordedRequest, token: Token, key: str) -> Response:
    # {"status": PROCESSING | AVAILABLE | PROCESSING_FAILED | WAITING_UPLOAD, "duration", "downloadUrl", ...}
    video = li.videos.get(key)
    if video is None:
        return li._error(404, "no such video", "NOT_FOUND")
    if video["status"] == "PROCESSING":
        if video["polls"] <= 0:
            video["status"] = "AVAILABLE"
        video["polls"] -= 1
    body: dict[str, Any] = {"id": key, "owner": video["owner"], "status": video["status"]}
    if video["status"] == "PROCESSING_FAILED":
        body["processingFailureReason"] = "Video format is not supported"
    return li._json(body)


# -- statistics -----------------------------------------------------------------------------------


def _member_analytics(li: FakeLinkedIn, req: RecordedRequest, token: Token, key: str) -> Response:
    # .../members/post-statistics: q=entity&entity=(share:{urn})&queryType=IMPRESSION&aggregation=TOTAL
    if "r_member_postAnalytics" not in token.scopes:
        return li._denied("GET /rest/memberCreatorPostAnalytics FINDER-entity")
    m = re.fullmatch(r"\((share|ugc):(urn:li:(?:share|ugcPost):\d+)\)", str(req.param("entity") or ""))
    query_type, aggregation = req.param("queryType"), req.param("aggregation")
    if req.param("q") != "entity" or m is None or aggregation != "TOTAL":
        return li._error(400, "invalid entity finder parameters", "INVALID_ARGUMENT")
    if query_type not in ("IMPRESSION", "MEMBERS_REACHED", "RESHARE", "REACTION", "COMMENT"):
        return li._error(400, f"invalid queryType {query_type}", "INVALID_ARGUMENT")
    urn = m.group(2)
    if urn in li.deleted or urn not in li.posts:
        return li._error(404, f"{urn} not found", "NOT_FOUND")
    counts = li.analytics.get(urn, {})
    if query_type not in counts:
        return li._json({"paging": {"start": 0, "count": 10, "links": []}, "elements": []})
    kind: Any = {_METRIC_UNION: query_type} if li.metric_type_union else query_type
    return li._json(
        {
            "paging": {"start": 0, "count": 10, "links": []},
            "elements": [{"count": counts[query_type], "metricType": kind}],
        }
    )


def _list(value: Any) -> list[str]:
    m = _LIST.match(str(value or ""))
    return [v for v in m.group(1).split(",") if v] if m else []


def _org_stats(li: FakeLinkedIn, req: RecordedRequest, token: Token, key: str) -> Response:
    # .../organizations/share-statistics: q=organizationalEntity&organizationalEntity={org}&shares=List(...)
    org = str(req.param("organizationalEntity") or "")
    if "rw_organization_admin" not in token.scopes or li.org_roles.get(org.rsplit(":", 1)[-1]) != "ADMINISTRATOR":
        return li._denied("GET /rest/organizationalEntityShareStatistics")
    elements = []
    for field_name in ("shares", "ugcPosts"):
        for urn in _list(req.param(field_name)):
            stats = li.org_stats.get(urn)
            if stats is None or urn not in li.posts:
                continue  # LinkedIn leaves out what it has nothing for
            elements.append({"organizationalEntity": org, field_name[:-1]: urn, "totalShareStatistics": dict(stats)})
    return li._json({"paging": {"start": 0, "count": 10, "links": []}, "elements": elements})


def _social_actions(li: FakeLinkedIn, req: RecordedRequest, token: Token, key: str) -> Response:
    # .../shares/network-update-social-actions: likesSummary, commentsSummary
    post = li.posts.get(key)
    if post is None:
        return li._error(404, f"{key} not found", "NOT_FOUND")
    if not _may_read(li, token, post["author"]):
        return li._denied(f"GET /rest/socialActions/{key}")
    likes, comments = li.social.get(key, (0, 0))
    return li._json(
        {
            "target": key,
            "likesSummary": {
                "selectedLikes": [],
                "aggregatedTotalLikes": likes,
                "likedByCurrentUser": False,
                "totalLikes": likes,
            },
            "commentsSummary": {
                "selectedComments": [],
                "totalFirstLevelComments": comments,
                "aggregatedTotalComments": comments,
            },
        }
    )


# -- Comments API: .../shares/comments-api --------------------------------------------------------


def _commented(li: FakeLinkedIn, key: str) -> tuple[str, dict[str, Any] | None]:
    post, _, tail = key.partition("/")
    return post, (li.posts.get(post) if tail == "comments" else None)


def _create_comment(li: FakeLinkedIn, req: RecordedRequest, token: Token, key: str) -> Response:
    # "Create a Comment": POST /rest/socialActions/{shareUrn|ugcPostUrn|commentUrn}/comments with
    # {"actor", "object", "message": {"text"}}; 201, the comment in the body, its key in x-restli-id.
    urn, post = _commented(li, key)
    if post is None:
        return li._error(404, f"{urn} not found", "NOT_FOUND")
    body = req.json if isinstance(req.json, dict) else {}
    actor = str(body.get("actor") or "")
    if not _may_write(li, token, actor):
        return li._denied(f"POST /rest/socialActions/{urn}/comments")
    text = (body.get("message") or {}).get("text") if isinstance(body.get("message"), dict) else None
    if body.get("object") != urn or not isinstance(text, str) or not text:
        return li._error(
            422, "actor, object (the URN commented on) and message.text are required", "UNPROCESSABLE_ENTITY"
        )
    number = li.next_id()
    now = int(time.time() * 1000)
    comment = {
        "actor": actor,
        "commentUrn": f"urn:li:comment:({urn},{number})",
        "created": {"actor": actor, "time": now},
        "lastModified": {"actor": actor, "time": now},
        "id": str(number),
        "message": {"attributes": [], "text": text},
        "object": urn,
    }
    li.comments.setdefault(urn, []).append(comment)
    if li.lose_comment_answers > 0:
        li.lose_comment_answers -= 1
        li._lock.release()
        try:
            li._stopping.wait(30)  # the comment exists; the answer never comes in time
        finally:
            li._lock.acquire()
    return li._json(comment, 201, {"x-restli-id": comment["commentUrn"]})


def _list_comments(li: FakeLinkedIn, req: RecordedRequest, token: Token, key: str) -> Response:
    # "Get Comments on Shares": GET /rest/socialActions/{shareUrn|ugcPostUrn}/comments (r_member_social,
    # r_organization_social); {"paging", "elements": [comment, ...]}.
    urn, post = _commented(li, key)
    if post is None:
        return li._error(404, f"{urn} not found", "NOT_FOUND")
    if not _may_read(li, token, post["author"]):
        return li._denied(f"GET /rest/socialActions/{urn}/comments")
    start, count = int(req.param("start") or 0), int(req.param("count") or 10)
    listed = li.comments.get(urn, [])
    return li._json(
        {"paging": {"start": start, "count": count, "total": len(listed)}, "elements": listed[start : start + count]}
    )


def _member_followers(li: FakeLinkedIn, req: RecordedRequest, token: Token, key: str) -> Response:
    # .../members/follower-statistics: GET /rest/memberFollowersCount?q=me
    if "r_member_profileAnalytics" not in token.scopes:
        return li._denied("GET /rest/memberFollowersCount FINDER-me")
    element = {} if li.followers is None else {"memberFollowersCount": li.followers}
    return li._json({"paging": {"start": 0, "count": 10, "links": []}, "elements": [element]})


def _network_size(li: FakeLinkedIn, req: RecordedRequest, token: Token, key: str) -> Response:
    # .../organizations/organization-lookup-api: GET /rest/networkSizes/{org urn}?edgeType=COMPANY_FOLLOWED_BY_MEMBER
    if req.param("edgeType") != "COMPANY_FOLLOWED_BY_MEMBER":
        return li._error(400, "invalid edgeType", "INVALID_ARGUMENT")
    if not ({"rw_organization_admin", "r_organization_social"} & token.scopes):
        return li._denied(f"GET /rest/networkSizes/{key}")
    return li._json({"firstDegreeSize": li.org_followers})


def _acls(li: FakeLinkedIn, req: RecordedRequest, token: Token, key: str) -> Response:
    # .../organizations/organization-access-control-by-role: q=roleAssignee
    if req.param("q") != "roleAssignee":
        return li._error(400, "unknown finder", "INVALID_ARGUMENT")
    if not ({"rw_organization_admin", "w_organization_social", "r_organization_social"} & token.scopes):
        return li._denied("GET /rest/organizationAcls FINDER-roleAssignee")
    elements = [
        {
            "roleAssignee": f"urn:li:person:{token.sub}",
            "state": "APPROVED",
            "role": role,
            "organization": f"urn:li:organization:{org}",
        }
        for org, role in sorted(li.org_roles.items())
    ]
    return li._json({"paging": {"start": 0, "count": 100, "links": [], "total": len(elements)}, "elements": elements})


def _organization(li: FakeLinkedIn, req: RecordedRequest, token: Token, key: str) -> Response:
    if key not in li.org_roles:
        return li._error(404, "organization not found", "NOT_FOUND")
    if "rw_organization_admin" not in token.scopes:
        return li._denied(f"GET /rest/organizations/{key}")
    return li._json({"id": int(key), "localizedName": "Devtestco", "vanityName": "devtestco"})
