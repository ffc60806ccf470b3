"""Facebook Pages adapter over the Graph API (postcli.platforms.graph underneath).

Wire choices, each from the Graph API docs (see docs/platforms/facebook.md): the Graph
version of graph.DEFAULT_GRAPH_VERSION (v27.0), `[graph] version` in config.toml, or the
account's `settings["api_version"]` (`--graph-version`). Metrics: insights.py.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any, ClassVar, Iterator
from urllib.parse import parse_qs, urlparse

from postcli.platforms.base import (
    Limits,
    MalformedResponse,
    MediaItem,
    PlatformError,
    PlatformRejected,
    PlatformUnavailable,
    PublishRequest,
    PublishResult,
    RemoteNotFound,
)
from postcli.platforms.facebook.account import FacebookAccount
from postcli.platforms.facebook.client import PLATFORM
from postcli.platforms.facebook.spec import SPEC
from postcli.platforms.graph import BATCH_LIMIT
from postcli.platforms.graph_comments import oldest_match
from postcli.platforms.spec import PlatformSpec
from postcli.platforms.values import as_utc, int_or_none

_as_datetime = as_utc
_int = int_or_none

# The Graph version: graph.DEFAULT_GRAPH_VERSION unless config ([graph] version) or the
# account (settings["api_version"], from `accounts add facebook --graph-version`) says otherwise.

# Page feed reference: a post's message holds at most 63,206 characters.
MAX_TEXT = 63_206
# Photo reference: static images must be under 10 MB.
MAX_IMAGE_BYTES = 10 * 1024 * 1024
# postcli's own cap on photos in one multi-photo post (Graph documents none).
MAX_IMAGES = 10
# Photo reference lists JPEG, PNG, GIF (also BMP/TIFF, which postcli does not accept);
# WebP is not listed, so it is not offered.
MIME_TYPES = ("image/jpeg", "image/png", "image/gif", "video/mp4", "video/quicktime")


# Reconciliation looks at posts created this long before the first attempt (clock skew).
RECONCILE_MARGIN = timedelta(minutes=10)
_RECONCILE_PAGES = 4
_PAGE_SIZE = 25

# --- small helpers -------------------------------------------------------------


def _normalized(text: str | None) -> str:
    # Facebook trims the message and normalizes line endings; compare what survives.
    return "\n".join(line.rstrip() for line in (text or "").replace("\r\n", "\n").strip().split("\n"))


# --- the adapter -----------------------------------------------------------------


class FacebookAdapter(FacebookAccount):
    """One Facebook Page (`ctx.settings["page_id"]`)."""

    spec: ClassVar[PlatformSpec] = SPEC
    has_metrics: ClassVar[bool] = True
    metrics_batch_size: ClassVar[int] = BATCH_LIMIT
    metrics_request_per_post: ClassVar[bool] = True  # one request per post (Graph counts batch items singly)
    # No idempotency key: find_published looks among the Page's posts of the last day.
    reconciles_by_recent_posts: ClassVar[bool] = True
    reconcile_margin: ClassVar[timedelta] = RECONCILE_MARGIN
    reconcile_lookback: ClassVar[timedelta | None] = timedelta(days=1) + RECONCILE_MARGIN
    # Page insights update about once a day: keep collecting a post for two days.
    min_collect_hours: ClassVar[int] = 48

    # A video's Page post appears once Facebook has taken the upload in.
    video_post_timeout: ClassVar[float] = 120.0
    _first_poll_delay: ClassVar[float] = 0.5
    _max_poll_delay: ClassVar[float] = 5.0

    # -- limits ------------------------------------------------------------------

    def limits(self) -> Limits:
        return Limits(
            max_text=MAX_TEXT,
            count_unit="characters",
            max_images=MAX_IMAGES,
            max_videos=1,
            max_image_bytes=MAX_IMAGE_BYTES,
            max_video_bytes=None,
            max_alt_text=None,
            mime_types=MIME_TYPES,
            images_and_video=False,
            needs_public_media_url=False,
        )

    def text_length(self, text: str) -> int:
        return len(text or "")

    # -- publishing ----------------------------------------------------------------

    def _check(self, req: PublishRequest) -> None:
        """Refuse what Facebook would refuse, before anything is sent."""
        length = self.text_length(req.text)
        if length > MAX_TEXT:
            raise PlatformRejected(
                f"the text is {length} characters; a Facebook post takes at most {MAX_TEXT}", platform=PLATFORM
            )
        videos = [m for m in req.media if m.is_video]
        images = [m for m in req.media if not m.is_video]
        problems = [f"{m.path.name} is {m.mime_type}" for m in req.media if m.mime_type not in MIME_TYPES]
        if videos and images:
            problems.append("a video cannot share a post with photos")
        if len(videos) > 1:
            problems.append("one video per post")
        if len(images) > MAX_IMAGES:
            problems.append(f"{len(images)} photos (at most {MAX_IMAGES})")
        problems += [f"{m.path.name} is over 10 MB" for m in images if m.size_bytes > MAX_IMAGE_BYTES]
        if not req.text.strip() and not req.media:
            problems.append("the post is empty")
        if problems:
            raise PlatformRejected("cannot publish to Facebook: " + "; ".join(problems), platform=PLATFORM)

    def publish(self, req: PublishRequest) -> PublishResult:
        self._check(req)
        page_id = self._page_id()
        videos = [m for m in req.media if m.is_video]
        if videos:
            return self._publish_video(page_id, req.text, videos[0])
        data: dict[str, Any] = {"message": req.text or None}
        for i, item in enumerate(req.media):
            # Photos uploaded unpublished, then attached: one post with all of them.
            data[f"attached_media[{i}]"] = json.dumps({"media_fbid": self._upload_photo(page_id, item)})
        body = self._dict(self._call("POST", f"{page_id}/feed", data=data), "publishing the post")
        if not body.get("id"):
            raise MalformedResponse(f"{self._graph.host} returned no post id", platform=PLATFORM)
        return self._read_back(str(body["id"]), req.text)

    def _open(self, item: MediaItem) -> Any:
        try:
            return open(item.path, "rb")
        except OSError as exc:
            raise PlatformError(
                f"cannot read media file {item.path.name}: {exc.strerror or exc}", platform=PLATFORM
            ) from None

    def _upload_photo(self, page_id: str, item: MediaItem) -> str:
        data = {"published": "false", "alt_text_custom": item.alt_text or None}
        body = self._send_file(f"{page_id}/photos", data, item)
        return self._new_id(body, item, f"no photo id for {item.path.name}")

    def _send_file(self, path: str, data: dict[str, Any], item: MediaItem) -> Any:
        """POST `data` with the file as the multipart `source` part."""
        with self._open(item) as fh:
            return self._call("POST", path, data=data, files={"source": (item.path.name, fh, item.mime_type)})

    def _new_id(self, body: Any, item: MediaItem, missing: str) -> str:
        new_id = self._dict(body, f"uploading {item.path.name}").get("id")
        if not new_id:
            raise MalformedResponse(f"{self._graph.host} returned {missing}", platform=PLATFORM)
        return str(new_id)

    def _publish_video(self, page_id: str, text: str, item: MediaItem) -> PublishResult:
        data: dict[str, Any] = {"description": text or None}
        if item.public_url:
            # Facebook fetches the file itself: no large upload through this connection.
            data["file_url"] = item.public_url
            body = self._call("POST", f"{page_id}/videos", data=data)
        else:
            body = self._send_file(f"{page_id}/videos", data, item)
        return self._video_post(self._new_id(body, item, "no video id"), text, item.path.name)

    def _video_post(self, video_id: str, text: str, name: str) -> PublishResult:
        """Wait for the Page post of an uploaded video (Video.post_id)."""
        deadline = self._clock() + self.video_post_timeout
        delay = self._first_poll_delay
        while True:
            video = self._dict(
                self._get(video_id, fields="post_id,permalink_url,created_time,status"), f"waiting for {name}"
            )
            status = (video.get("status") or {}).get("video_status")
            if status == "error":
                raise PlatformRejected(f"Facebook could not process {name}", platform=PLATFORM)
            if video.get("post_id"):
                return self._read_back(str(video["post_id"]), text)
            if self._clock() + delay > deadline:
                raise PlatformUnavailable(
                    f"Facebook took {name} (video {video_id}) but had not made its post after "
                    f"{self.video_post_timeout:g} s",
                    platform=PLATFORM,
                    hint="postcli looks for the post before it sends the video again",
                )
            self._sleep(delay)
            delay = min(delay * 1.5, self._max_poll_delay)

    def _read_back(self, post_id: str, text: str | None) -> PublishResult:
        try:
            post = self._dict(self._get(post_id, fields="id,permalink_url,created_time"), "reading the new post")
        except PlatformError:
            # The post exists; only its link is unknown. Never report a success as a failure.
            return PublishResult(platform_post_id=post_id, url=self._fallback_url(post_id), text=text)
        return self._result(post, text)

    def _fallback_url(self, post_id: str) -> str:
        page, _, story = post_id.partition("_")
        return f"https://www.facebook.com/{page}/posts/{story}" if story else f"https://www.facebook.com/{post_id}"

    def _result(self, post: dict[str, Any], text: str | None = None) -> PublishResult:
        post_id = str(post["id"])
        url = post.get("permalink_url")
        if isinstance(url, str) and url.startswith("/"):
            url = "https://www.facebook.com" + url
        return PublishResult(
            platform_post_id=post_id,
            url=url or self._fallback_url(post_id),
            published_at=_as_datetime(post.get("created_time")),
            text=post.get("message") if text is None else text,
        )

    def find_published(self, req: PublishRequest) -> PublishResult | None:
        """Was `req` already published? Graph has no idempotency keys.

        Looks at the Page's own posts created since the first attempt (minus ten
        minutes of clock skew; the last day when the first attempt is unknown),
        newest first, up to 100 posts, for one whose message is exactly the text.
        An identical post made outside postcli in that window is taken for ours.
        """
        return self.find_in_recent_posts(req)

    def recent_posts(self, since: datetime | None) -> Iterator[dict[str, Any]]:
        after: str | None = None
        for _ in range(_RECONCILE_PAGES):
            body = self._dict(
                self._get(
                    f"{self._page_id()}/posts",
                    fields="id,message,created_time,permalink_url",
                    since=int(since.timestamp()) if since is not None else None,
                    limit=_PAGE_SIZE,
                    after=after,
                ),
                "looking for an earlier attempt",
            )
            yield from body.get("data") or []
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not after or not paging.get("next"):
                return

    def post_created_at(self, post: dict[str, Any]) -> datetime | None:
        return _as_datetime(post.get("created_time"))

    def same_post(self, post: dict[str, Any], req: PublishRequest) -> bool:
        return _normalized(post.get("message")) == _normalized(req.text) and bool(post.get("id"))

    def reconciled(self, post: dict[str, Any], req: PublishRequest) -> PublishResult:
        return self._result(post, req.text)

    def delete(self, platform_post_id: str) -> None:
        try:
            self._call("DELETE", platform_post_id)
        except RemoteNotFound:
            pass  # already gone is what we wanted

    # -- the first comment ---------------------------------------------------------------

    def publish_comment(self, req: PublishRequest) -> PublishResult:
        """POST /{page-post-id}/comments with `message`, as the Page (its token; the Page's
        pages_manage_engagement permission): developers.facebook.com/docs/graph-api/reference/object/comments."""
        assert req.reply_to is not None
        body = self._dict(
            self._call("POST", f"{req.reply_to.platform_post_id}/comments", data={"message": req.text}),
            "commenting on the post",
        )
        if not body.get("id"):
            raise MalformedResponse(f"{self._graph.host} returned no comment id", platform=PLATFORM)
        comment_id = str(body["id"])
        try:
            found = self._dict(self._get(comment_id, fields="id,permalink_url,created_time"), "reading the comment")
        except PlatformError:  # the comment exists; only its link is unknown
            found = {}
        return self._comment(comment_id, found, req.text)

    def find_comment(self, req: PublishRequest) -> PublishResult | None:
        """The Page's own comment with this text under the post (graph_comments.py)."""
        assert req.reply_to is not None
        body = self._dict(
            self._get(
                f"{req.reply_to.platform_post_id}/comments",
                fields="id,message,created_time,from,permalink_url",
                filter="stream",
                order="reverse_chronological",
            ),
            "looking for an earlier attempt among the post's comments",
        )
        page_id = self._page_id()
        found = oldest_match(
            [c for c in body.get("data") or [] if isinstance(c, dict)],
            req.text,
            text_key="message",
            time_key="created_time",
            since=self.reconcile_since(req),
            mine=lambda c: str((c.get("from") or {}).get("id") or page_id) == page_id,
        )
        return None if found is None else self._comment(str(found["id"]), found, req.text)

    def _comment(self, comment_id: str, found: dict[str, Any], text: str) -> PublishResult:
        url = found.get("permalink_url")
        return PublishResult(
            platform_post_id=comment_id,
            url=url if isinstance(url, str) else None,
            published_at=_as_datetime(found.get("created_time")),
            text=text,
        )

    # -- metrics -------------------------------------------------------------------

    # -- resolve ---------------------------------------------------------------------

    def resolve_post(self, url_or_id: str) -> PublishResult:
        post_id = self._post_id_of((url_or_id or "").strip())
        post = self._dict(self._get(post_id, fields="id,message,created_time,permalink_url"), f"reading post {post_id}")
        return self._result(post)

    def _post_id_of(self, value: str) -> str:
        """PAGEID_POSTID, a bare post id of this Page, or a facebook.com post URL.

        URLs: /{page}/posts/{numeric id}, /permalink.php?story_fbid=..&id=..,
        /story.php?story_fbid=..&id=... Obfuscated `pfbid...` links carry no Graph id.
        """
        if re.fullmatch(r"\d+_\d+", value):
            return value
        if value.isdigit():
            return f"{self._page_id()}_{value}"
        parsed = urlparse(value if "://" in value else f"https://{value}")
        host = parsed.netloc.lower()
        if parsed.scheme in ("http", "https") and (host == "facebook.com" or host.endswith(".facebook.com")):
            query = parse_qs(parsed.query)
            story, owner = (query.get("story_fbid") or [""])[0], (query.get("id") or [""])[0]
            if parsed.path.rstrip("/") in ("/permalink.php", "/story.php") and story.isdigit() and owner.isdigit():
                return f"{owner}_{story}"
            m = re.fullmatch(r"/([^/]+)/posts/(\d+)/?", parsed.path)
            if m:
                owner = m.group(1) if m.group(1).isdigit() else self._page_id()
                return f"{owner}_{m.group(2)}"
        raise RemoteNotFound(
            f"{value!r} is not a Facebook post id or post URL postcli can read",
            platform=PLATFORM,
            hint="give PAGEID_POSTID, or a URL like https://www.facebook.com/PAGE/posts/123 "
            "or .../permalink.php?story_fbid=123&id=PAGEID (pfbid links cannot be resolved)",
        )
