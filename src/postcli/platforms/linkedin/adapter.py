"""LinkedIn adapter: a member, or an organization Page the member administers.

Posts API (learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api):
POST /rest/posts with the author, the commentary as "little" text (text.py), the visibility
and the media uploaded first (media.py); the new post's URN is in the x-restli-id header.
Metrics are in insights.py, the HTTP plumbing and tokens in api.py. docs/platforms/linkedin.md
says what each choice rests on.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, ClassVar, Iterator

from postcli.platforms.base import (
    AccountMetrics,
    Limits,
    MalformedResponse,
    MediaItem,
    OutcomeUnknown,
    PlatformError,
    PlatformRejected,
    PlatformUnavailable,
    PostMetrics,
    PublishRequest,
    PublishResult,
    RemoteNotFound,
)
from postcli.platforms.linkedin import comments, insights, media
from postcli.platforms.linkedin.account import LinkedInAccount
from postcli.platforms.linkedin.api import Forbidden, NotSent
from postcli.platforms.linkedin.spec import SPEC
from postcli.platforms.linkedin.text import activity_urn, escape, feed_url, org_urn, post_urn, restli, unescape
from postcli.platforms.spec import PlatformSpec
from postcli.platforms.values import int_or_none

MAX_TEXT = 3000  # commentary, in characters
MAX_IMAGES = 20  # a multiImage post takes 2 to 20
MAX_ALT_TEXT = 4086
MAX_VIDEO_BYTES = 500_000_000  # Videos API: 75 KB to 500 MB, 3 s to 30 min, MP4
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif")
VIDEO_TYPES = ("video/mp4",)
_RECENT_PAGE, _RECENT_PAGES = 20, 2


def _normalized(text: str) -> str:
    return " ".join(text.split())


class LinkedInAdapter(LinkedInAccount):
    spec: ClassVar[PlatformSpec] = SPEC
    # Member posts need five requests each; Page posts come twenty to a request.
    metrics_batch_size: ClassVar[int] = 20
    # No idempotency key; with read access find_published looks among the author's posts.
    reconciles_by_recent_posts: ClassVar[bool] = True

    # -- publishing -----------------------------------------------------------------------------

    def limits(self) -> Limits:
        return Limits(
            max_text=MAX_TEXT,
            max_images=MAX_IMAGES,
            max_videos=1,
            max_video_bytes=MAX_VIDEO_BYTES,
            max_alt_text=MAX_ALT_TEXT,
            max_video_seconds=1800,
            min_video_seconds=3,
            mime_types=IMAGE_TYPES + VIDEO_TYPES,
            images_and_video=False,
            max_items=MAX_IMAGES,
        )

    def text_length(self, text: str) -> int:
        """Characters as typed (the escapes postcli adds are not the user's)."""
        return len(text)

    def _problems(self, req: PublishRequest, visibility: str) -> list[str]:
        problems = []
        if len(req.text) > MAX_TEXT:
            problems.append(f"the text is {len(req.text)} characters; LinkedIn takes {MAX_TEXT}.")
        images = [m for m in req.media if not m.is_video]
        videos = [m for m in req.media if m.is_video]
        if images and videos:
            problems.append("a LinkedIn post takes images or one video, not both.")
        if len(images) > MAX_IMAGES:
            problems.append(f"{len(images)} images; a LinkedIn post takes at most {MAX_IMAGES}.")
        if len(videos) > 1:
            problems.append(f"{len(videos)} videos; a LinkedIn post takes one.")
        for m in req.media:
            if m.mime_type not in IMAGE_TYPES + VIDEO_TYPES:
                problems.append(f"{m.path.name} is {m.mime_type}; LinkedIn takes JPEG, PNG, GIF and MP4.")
            if m.is_video and m.size_bytes > MAX_VIDEO_BYTES:
                problems.append(f"{m.path.name} is over 500 MB, LinkedIn's video limit.")
            if m.alt_text and len(m.alt_text) > MAX_ALT_TEXT:
                problems.append(f"the alt text of {m.path.name} is over {MAX_ALT_TEXT} characters.")
        if visibility == "CONNECTIONS" and self._org():
            problems.append("a Page has no connections: use linkedin.visibility=PUBLIC or LOGGED_IN.")
        if not req.text.strip() and not req.media:
            problems.append("there is nothing to post.")
        return problems

    def _content(self, req: PublishRequest, author: str, state: dict[str, Any]) -> dict[str, Any] | None:
        if not req.media:
            return None
        video = next((m for m in req.media if m.is_video), None)
        if video is not None:
            return {"media": {"id": self._video(req, video, author, state)}}
        images = [{"id": media.upload_image(self, author, m), **self._alt(m)} for m in req.media]
        if len(images) == 1:
            return {"media": images[0]}
        return {"multiImage": {"images": images}}

    @staticmethod
    def _alt(item: MediaItem) -> dict[str, str]:
        return {"altText": item.alt_text} if item.alt_text else {}

    def _video(self, req: PublishRequest, item: MediaItem, author: str, state: dict[str, Any]) -> str:
        """The video's URN once LinkedIn has processed it; an earlier attempt's upload is used
        again when LinkedIn still has it (state["video"])."""
        earlier = state.get("video")
        if isinstance(earlier, str):
            try:
                status = media.video_status(self, earlier, "checking the earlier upload").get("status")
            except RemoteNotFound:
                status = None
            if status in ("AVAILABLE", "PROCESSING"):
                if status == "PROCESSING":
                    media.wait_available(self, earlier, item.path.name)
                return earlier
        urn, wait = media.upload_video(self, author, item)
        state["video"] = urn
        req.save_state(dict(state))
        wait()
        return urn

    def publish(self, req: PublishRequest) -> PublishResult:
        visibility = str(req.fields.get("visibility") or "PUBLIC")
        problems = self._problems(req, visibility)
        if problems:
            raise self._fail(PlatformRejected, "cannot publish to LinkedIn: " + " ".join(problems))
        author = self._author()
        state = {k: v for k, v in req.state.items() if k != "posting"}
        content = self._content(req, author, state)
        body: dict[str, Any] = {
            "author": author,
            "commentary": escape(req.text),
            "visibility": visibility,
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if content is not None:
            body["content"] = content
        # From here an answer that does not come may hide a post that exists.
        req.save_state({**state, "posting": self._now().isoformat()})
        try:
            response = self.call("POST", self._url("api", "/rest/posts"), "publishing the post", json=body)
        except NotSent:
            req.save_state(state)
            raise
        except PlatformUnavailable as exc:
            raise self._unknown(exc.message) from None
        except PlatformError:
            req.save_state(state)  # LinkedIn answered no: nothing was made
            raise
        urn = response.headers.get("x-restli-id")
        if not urn:
            raise self._unknown("LinkedIn answered without the new post's id (x-restli-id)")
        return PublishResult(platform_post_id=urn, url=feed_url(urn), published_at=self._now())

    def _unknown(self, why: str) -> PlatformError:
        """An attempt whose outcome is unknown: a retry looks among the author's posts where
        the app may read them; where it may not, OutcomeUnknown (nothing is sent blind)."""
        scope = self._read_scope()
        if self._allowed(scope):
            return self._fail(PlatformUnavailable, why, hint="a retry looks for the post among yours first")
        where = (
            f"https://www.linkedin.com/company/{self._org()}/"
            if self._org()
            else "https://www.linkedin.com/in/me/recent-activity/all/"
        )
        return self._fail(
            OutcomeUnknown,
            f"{why}: LinkedIn may have made the post, and this app cannot read posts back to tell "
            f"(it lacks {scope}). Look for it at {where}.",
        )

    def find_published(self, req: PublishRequest) -> PublishResult | None:
        """Was `req` made by an attempt whose answer was lost? Only an attempt that reached
        POST /rest/posts can have made it (state["posting"]). Then the author's newest posts
        (GET /rest/posts?q=author, needs r_member_social or r_organization_social) are searched
        for the same text and media count; without that access: OutcomeUnknown. A post made by
        hand with the same text since the first attempt would be taken for ours."""
        if not req.state.get("posting"):
            return None
        if not self._allowed(self._read_scope()):
            raise self._unknown("the last attempt got no answer")
        try:
            return self.find_in_recent_posts(req)
        except Forbidden:
            self._withhold(self._read_scope())
            raise self._unknown("the last attempt got no answer") from None

    def recent_posts(self, since: datetime | None) -> Iterator[dict[str, Any]]:
        for page in range(_RECENT_PAGES):
            url = self._url(
                "api",
                f"/rest/posts?author={restli(self._author())}&q=author&count={_RECENT_PAGE}"
                f"&start={page * _RECENT_PAGE}&sortBy=CREATED",
            )
            found = self.get_json(url, "looking for an earlier attempt among your posts")
            posts = [p for p in found.get("elements") or [] if isinstance(p, dict)]
            yield from posts
            if len(posts) < _RECENT_PAGE:
                return

    def post_created_at(self, post: dict[str, Any]) -> datetime | None:
        stamp = int_or_none(post.get("createdAt") or post.get("publishedAt"))
        return datetime.fromtimestamp(stamp / 1000, timezone.utc) if stamp else None

    @staticmethod
    def _media_count(post: dict[str, Any]) -> int:
        content = post.get("content")
        if not isinstance(content, dict):
            return 0
        multi = content.get("multiImage")
        if isinstance(multi, dict):
            return len(multi.get("images") or [])
        return 1 if isinstance(content.get("media"), dict) else 0

    def same_post(self, post: dict[str, Any], req: PublishRequest) -> bool:
        text = unescape(str(post.get("commentary") or ""))
        return _normalized(text) == _normalized(req.text) and self._media_count(post) == len(req.media)

    def reconciled(self, post: dict[str, Any], req: PublishRequest) -> PublishResult:
        return self._result(post)

    def _result(self, post: dict[str, Any]) -> PublishResult:
        urn = post.get("id")
        if not isinstance(urn, str):
            raise self._fail(MalformedResponse, "LinkedIn listed a post without an id")
        stamp = int_or_none(post.get("publishedAt") or post.get("createdAt"))
        return PublishResult(
            platform_post_id=urn,
            url=feed_url(urn),
            published_at=datetime.fromtimestamp(stamp / 1000, timezone.utc) if stamp else None,
            text=unescape(str(post.get("commentary") or "")) or None,
            author=post.get("author") if isinstance(post.get("author"), str) else None,
        )

    def delete(self, platform_post_id: str) -> None:
        try:
            self.call("DELETE", self._url("api", f"/rest/posts/{restli(platform_post_id)}"), "deleting the post")
        except RemoteNotFound:
            pass  # already gone is what we wanted

    def resolve_post(self, url_or_id: str) -> PublishResult:
        """A post by its URN or link (/feed/update/<urn>/, /embed/feed/update/<urn>). It is
        read back where the app may (author, text, time); otherwise taken as given."""
        urn = post_urn(url_or_id)
        if urn is None:
            activity = activity_urn(url_or_id)
            raise self._fail(
                RemoteNotFound,
                f"{url_or_id!r} names a LinkedIn activity ({activity}), not the post's URN"
                if activity
                else f"{url_or_id!r} is not a LinkedIn post link or URN",
                hint='give the post\'s urn:li:share:… or urn:li:ugcPost:… (in the link of "Embed this post")',
            )
        if self._allowed(self._read_scope()):
            try:
                return self._result(
                    self.get_json(self._url("api", f"/rest/posts/{restli(urn)}"), f"reading the post {urn}")
                )
            except Forbidden:
                self._withhold(self._read_scope())
        return PublishResult(platform_post_id=urn, url=feed_url(urn))

    # -- the first comment (comments.py) -------------------------------------------------------

    def publish_comment(self, req: PublishRequest) -> PublishResult:
        return comments.publish(self, req)

    def find_comment(self, req: PublishRequest) -> PublishResult | None:
        return comments.find(self, req)

    def comment_limit(self) -> int:
        return comments.MAX_COMMENT

    def resolve_comment(self, url_or_id: str) -> PublishResult:
        return comments.resolve(self, url_or_id)

    # -- metrics ------------------------------------------------------------------------------

    def fetch_post_metrics(self, platform_post_ids: list[str]) -> dict[str, PostMetrics | None]:
        ids = list(dict.fromkeys(str(i) for i in platform_post_ids))
        org = self._org()
        found: dict[str, PostMetrics | None] = {}
        lacking: list[str] = []
        if org:
            if self._allowed("rw_organization_admin"):
                try:
                    found.update(insights.org_posts(self, org_urn(org), ids))
                except Forbidden:
                    self._withhold("rw_organization_admin")
            if "rw_organization_admin" in self._withheld() or not self._allowed("rw_organization_admin"):
                lacking.append("rw_organization_admin")
        for urn in ids:
            if urn not in found:
                found[urn] = self._one_post(urn, org, lacking)
        return {urn: found[urn] for urn in ids}

    def _one_post(self, urn: str, org: str | None, lacking: list[str]) -> PostMetrics | None:
        """A post the batch did not answer: member analytics, else social actions, else
        nothing (None counters, or None for a post LinkedIn says is gone)."""
        sources = [] if org else [("r_member_postAnalytics", insights.member_post)]
        sources.append((self._read_scope(), insights.social_actions))
        lacking = list(lacking)
        for scope, fetch in sources:
            if not self._allowed(scope):
                lacking.append(scope)
                continue
            try:
                return fetch(self, urn)
            except RemoteNotFound:
                return None  # deleted; the other posts keep their numbers
            except Forbidden:
                self._withhold(scope)
                lacking.append(scope)
        if org and self._allowed(self._read_scope()) and insights.post_exists(self, urn) is False:
            return None
        self._withheld_now.update(lacking)
        return PostMetrics(raw={"id": urn, "withheld": sorted(set(lacking))})

    def _withheld(self) -> set[str]:
        return {*(self._settings().get("withheld") or []), *self._withheld_now}

    def fetch_account_metrics(self) -> AccountMetrics:
        org = self._org()
        scope = "rw_organization_admin" if org else "r_member_profileAnalytics"
        if self._allowed(scope):
            try:
                return insights.org_followers(self, org_urn(org)) if org else insights.member_followers(self)
            except Forbidden:
                self._withhold(scope)
        self._withheld_now.add(scope)
        return AccountMetrics(raw={"withheld": [scope]})

    def collect_notes(self) -> list[str]:
        if not self._withheld_now:
            return []
        scopes = " ".join(sorted(self._withheld_now))
        return [
            f"LinkedIn withholds some counters from this app (it lacks {scopes}): they stay null. Add the "
            "LinkedIn product that grants them, then sign in again with those scopes (docs/platforms/linkedin.md)."
        ]
