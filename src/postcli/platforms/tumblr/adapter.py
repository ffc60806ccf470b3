"""Tumblr adapter: posts in NPF over API v2 (api.py holds the client and the tokens).

References (docs/platforms/tumblr.md lists what each choice rests on):
  https://www.tumblr.com/docs/en/api/v2   (github.com/tumblr/docs api.md)
  https://www.tumblr.com/docs/npf         (github.com/tumblr/docs npf-spec.md)
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from datetime import datetime, timedelta
from typing import Any, ClassVar, Iterator
from urllib.parse import urlparse

from postcli.platforms.base import (
    AccountInfo,
    AccountMetrics,
    AuthFailed,
    HealthResult,
    Limits,
    MalformedResponse,
    MediaItem,
    PlatformError,
    PlatformRejected,
    PostMetrics,
    PublishRequest,
    PublishResult,
    RemoteNotFound,
)
from postcli.platforms.spec import PlatformSpec
from postcli.platforms.tumblr.api import NO_REFRESH_HINT, TumblrApi
from postcli.platforms.tumblr.npf import (
    blog_identifier,
    from_timestamp,
    media_blocks,
    normalized,
    npf_text,
    paragraphs,
    post_reference,
)
from postcli.platforms.tumblr.spec import SPEC
from postcli.platforms.values import as_utc, int_or_none

_int_or_none = int_or_none
_as_datetime = as_utc

# NPF "Post Content Limits".
TEXT_BLOCK_MAX = 4096  # Unicode code points per text block
MAX_TEXT_BLOCKS = 1000
MAX_IMAGE_BLOCKS = 30
MAX_NATIVE_VIDEOS = 1
ALT_TEXT_MAX = 4096
# 1 MB per stored post including the NPF JSON; the spec says ~900,000 characters in practice.
MAX_TEXT_BYTES = 900_000
MIME_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4", "video/quicktime")

# Reconciliation looks at posts published from the first attempt minus this (clock skew).
RECONCILE_MARGIN = timedelta(minutes=5)
_PAGE_SIZE = 20  # /posts takes limit 1..20
_RECONCILE_PAGES = 3

# --- the adapter ------------------------------------------------------------------------


class TumblrAdapter(TumblrApi):
    """One Tumblr blog, posted to with the OAuth2 tokens of a user who can post there."""

    spec: ClassVar[PlatformSpec] = SPEC
    has_metrics: ClassVar[bool] = True
    # Notes are fetched one post per call: there is no multi-post notes endpoint.
    metrics_batch_size: ClassVar[int] = 1
    metrics_request_per_post: ClassVar[bool] = True  # one request per post: the rate budget charges per post
    # No idempotency key: find_published looks among the blog's newest posts.
    reconciles_by_recent_posts: ClassVar[bool] = True
    reconcile_margin: ClassVar[timedelta] = RECONCILE_MARGIN

    # -- account -------------------------------------------------------------

    def connect(self, identifier: str | None, secret: str) -> AccountInfo:
        """Verify the token with GET /v2/user/info and pick the blog among the user's blogs.

        With a refresh token, client id and client secret the tokens are refreshed
        once first: that proves the refresh credentials work and tells the expiry.
        """
        token = (secret or "").strip()
        if not token:
            raise self._fail(
                AuthFailed,
                "a Tumblr OAuth2 access token is required",
                hint="register an app at https://www.tumblr.com/oauth/apps and authorize it (scopes: basic write offline_access)",
            )
        wanted = blog_identifier(identifier or self.ctx.handle)
        if not wanted:
            raise self._fail(PlatformRejected, "no Tumblr blog given", hint="postcli accounts add tumblr --blog NAME")
        secrets = {k: v for k, v in (self.ctx.secrets or {}).items() if v and k != "expires_at"}
        secrets["access_token"] = token
        self.ctx.secrets = secrets
        self.ctx.token_expires_at = None
        self._remember_secrets()
        if secrets.get("refresh_token") and not self._can_refresh():
            missing = [
                n
                for n, ok in (
                    ("--client-id", (self.ctx.settings or {}).get("client_id")),
                    ("POSTCLI_TUMBLR_CLIENT_SECRET", secrets.get("client_secret")),
                )
                if not ok
            ]
            raise self._fail(
                PlatformRejected,
                f"a refresh token was given, but refreshing also needs {' and '.join(missing)}",
                hint="give your app's OAuth2 client id and secret, or leave out the refresh token",
            )
        expires_at = None
        if self._can_refresh():
            with self._lock:
                expires_at = self._refresh()
        user = self._api("GET", "/v2/user/info", "reading the token's user").get("user") or {}
        blogs = [b for b in (user.get("blogs") or []) if isinstance(b, dict) and b.get("name")]
        blog = self._find_blog(blogs, wanted)
        if blog is None:
            names = ", ".join(sorted(str(b["name"]) for b in blogs)) or "none"
            raise self._fail(
                PlatformRejected,
                f"the Tumblr user {user.get('name') or '?'} cannot post to the blog {wanted!r}; "
                f"the token can post to: {names}",
                hint="pass one of those with --blog, or authorize as a user who can post to that blog",
            )
        name = str(blog["name"])
        uuid = str(blog["uuid"]) if blog.get("uuid") else None
        settings = {k: v for k, v in (self.ctx.settings or {}).items()}
        settings.update(blog_name=name, blog_uuid=uuid, blog_url=blog.get("url"), user_name=user.get("name"))
        self.ctx.settings = settings
        self.ctx.settings_changed = True
        self.ctx.handle = name
        self.ctx.external_id = uuid or name
        self.ctx.save_secrets(dict(self.ctx.secrets))
        return AccountInfo(
            external_id=uuid or name,
            handle=name,
            display_name=blog.get("title") or None,
            token_expires_at=expires_at,
        )

    @staticmethod
    def _find_blog(blogs: list[dict[str, Any]], wanted: str) -> dict[str, Any] | None:
        for blog in blogs:
            url_host = (urlparse(str(blog.get("url") or "")).hostname or "").lower()
            if wanted in (str(blog["name"]).lower(), str(blog.get("uuid") or "").lower(), url_host):
                return blog
        return None

    def limits(self) -> Limits:
        return Limits(
            max_text=TEXT_BLOCK_MAX,
            # Each line becomes a text block; a block holds 4096 code points.
            count_unit="characters in its longest paragraph",
            max_images=MAX_IMAGE_BLOCKS,
            max_videos=MAX_NATIVE_VIDEOS,
            max_alt_text=ALT_TEXT_MAX,
            mime_types=MIME_TYPES,
            images_and_video=True,
            needs_public_media_url=False,
        )

    def text_length(self, text: str) -> int:
        """Code points of the longest paragraph: the limit is per NPF text block."""
        return max((len(p) for p in paragraphs(text)), default=0)

    # -- publishing ----------------------------------------------------------

    def _content_problems(self, blocks: list[str], media: list[MediaItem]) -> list[str]:
        problems = []
        long = [i + 1 for i, p in enumerate(blocks) if len(p) > TEXT_BLOCK_MAX]
        if long:
            problems.append(
                f"paragraph {', '.join(map(str, long))} is over {TEXT_BLOCK_MAX} characters (Tumblr's limit per paragraph)."
            )
        if len(blocks) > MAX_TEXT_BLOCKS:
            problems.append(f"{len(blocks)} paragraphs, the limit is {MAX_TEXT_BLOCKS}.")
        if sum(len(p.encode()) for p in blocks) > MAX_TEXT_BYTES:
            problems.append(f"the text is over {MAX_TEXT_BYTES:,} bytes (Tumblr stores at most 1 MB per post).")
        images = [m for m in media if not m.is_video]
        videos = [m for m in media if m.is_video]
        if len(images) > MAX_IMAGE_BLOCKS:
            problems.append(f"{len(images)} images, the limit is {MAX_IMAGE_BLOCKS}.")
        if len(videos) > MAX_NATIVE_VIDEOS:
            problems.append(f"{len(videos)} videos, the limit is {MAX_NATIVE_VIDEOS} uploaded video.")
        for m in media:
            if m.mime_type not in MIME_TYPES:
                problems.append(f"{m.path.name} is {m.mime_type}, which Tumblr does not take.")
            if m.alt_text and len(m.alt_text) > ALT_TEXT_MAX:
                problems.append(f"alt text of {m.path.name} is over {ALT_TEXT_MAX} characters.")
        if not blocks and not media:
            problems.append("there is nothing to post.")
        return problems

    def _open(self, item: MediaItem) -> Any:
        try:
            return open(item.path, "rb")
        except OSError as exc:
            raise self._fail(PlatformError, f"cannot read media file {item.path.name}: {exc.strerror or exc}") from None

    def publish(self, req: PublishRequest) -> PublishResult:
        """POST /v2/blog/{blog}/posts with NPF content: text blocks, then image and video blocks.

        Media travel in the same request (multipart: a "json" part, then one part
        per file named by its media object's "identifier").
        """
        blocks = paragraphs(req.text)
        problems = self._content_problems(blocks, req.media)
        if problems:
            raise self._fail(PlatformRejected, "cannot publish to Tumblr: " + " ".join(problems))
        content: list[dict[str, Any]] = [{"type": "text", "text": p} for p in blocks]
        for i, item in enumerate(req.media):
            media: dict[str, Any] = {"type": item.mime_type, "identifier": f"media-{i}"}
            if item.width and item.height:
                media.update(width=item.width, height=item.height)
            if item.is_video:
                content.append({"type": "video", "media": media})
            else:
                block: dict[str, Any] = {"type": "image", "media": [media]}
                if item.alt_text:
                    block["alt_text"] = item.alt_text
                content.append(block)
        body = {"content": content, "state": "published"}
        with ExitStack() as stack:
            handles = [(f"media-{i}", item, stack.enter_context(self._open(item))) for i, item in enumerate(req.media)]

            def build() -> dict[str, Any]:
                if not handles:
                    return {"json": body}
                parts: list[tuple[str, Any]] = [("json", (None, json.dumps(body), "application/json"))]
                for ident, item, handle in handles:
                    handle.seek(0)
                    parts.append((ident, (item.path.name, handle, item.mime_type)))
                return {"files": parts}

            created = self._api("POST", self._blog_path("posts"), "publishing the post", build=build)
        post_id = created.get("id_string") or created.get("id")  # documented as a string: never a float
        if post_id in (None, ""):
            raise self._fail(MalformedResponse, f"{self._host} did not say which post it created")
        return self._published(str(post_id))

    def _published(self, post_id: str) -> PublishResult:
        """The new post's URL and time, read back; the post exists whatever this lookup meets."""
        fallback = PublishResult(
            platform_post_id=post_id,
            url=f"https://www.tumblr.com/{self._blog_name()}/{post_id}",
            published_at=self._now(),
        )
        try:
            found = self._result(self._get_post(post_id, f"reading back post {post_id}"))
        except PlatformError:
            # e.g. a video still transcoding is not listed yet.
            return fallback
        return PublishResult(
            platform_post_id=post_id,
            url=found.url or fallback.url,
            published_at=found.published_at or fallback.published_at,
        )

    def _get_post(self, post_id: str, what: str) -> dict[str, Any]:
        """GET /v2/blog/{blog}/posts?id= : the post in NPF, or RemoteNotFound."""
        found = self._api("GET", self._blog_path("posts"), what, params=self._keyed({"id": post_id, "npf": "true"}))
        posts = found.get("posts")
        if not isinstance(posts, list) or not posts or not isinstance(posts[0], dict):
            raise self._fail(RemoteNotFound, f"post {post_id} is not on the blog {self._blog_name()}")
        return posts[0]

    def _result(self, post: dict[str, Any]) -> PublishResult:
        post_id = post.get("id_string") or post.get("id")  # id_string: the id as text, never a float
        if post_id in (None, ""):
            raise self._fail(MalformedResponse, f"{self._host} listed a post without an id")
        return PublishResult(
            platform_post_id=str(post_id),
            url=post.get("post_url") or f"https://www.tumblr.com/{self._blog_name()}/{post_id}",
            published_at=from_timestamp(post.get("timestamp")),
            text=npf_text(post.get("content")) or None,
        )

    def recent_posts(self, since: datetime | None) -> Iterator[dict[str, Any]]:
        for page in range(_RECONCILE_PAGES):
            found = self._api(
                "GET",
                self._blog_path("posts"),
                "looking for an earlier attempt among the blog's posts",
                params=self._keyed({"npf": "true", "limit": _PAGE_SIZE, "offset": page * _PAGE_SIZE}),
            )
            listed = found.get("posts")
            posts = [p for p in listed if isinstance(p, dict)] if isinstance(listed, list) else []
            yield from posts
            if len(posts) < _PAGE_SIZE:
                return

    def find_published(self, req: PublishRequest) -> PublishResult | None:
        """Was `req` published by an attempt whose outcome is unknown?

        Tumblr has no idempotency key, so this looks at the blog's newest posts
        (up to 60), published since the first attempt minus 5 minutes, for one
        whose text blocks read as `req.text` (whitespace-insensitive) with as many
        media blocks as `req.media`. A post published by hand with the same text
        in that window would be taken for ours.
        """
        return self.find_in_recent_posts(req)

    def post_created_at(self, post: dict[str, Any]) -> datetime | None:
        return from_timestamp(post.get("timestamp"))

    def same_post(self, post: dict[str, Any], req: PublishRequest) -> bool:
        content = post.get("content")
        return normalized(npf_text(content)) == normalized(req.text) and media_blocks(content) == len(req.media)

    def reconciled(self, post: dict[str, Any], req: PublishRequest) -> PublishResult:
        return self._result(post)

    def delete(self, platform_post_id: str) -> None:
        try:
            self._api(
                "POST",
                self._blog_path("post/delete"),
                f"deleting post {platform_post_id}",
                build=lambda: {"data": {"id": str(platform_post_id)}},
            )
        except RemoteNotFound:
            pass  # already gone is what we wanted

    # -- metrics -------------------------------------------------------------

    def _metrics(self, post_id: str, notes: dict[str, Any]) -> PostMetrics:
        likes = _int_or_none(notes.get("total_likes"))
        reblogs = _int_or_none(notes.get("total_reblogs"))
        replies = _int_or_none(notes.get("total_replies"))  # not documented; used if ever sent
        source = "total_replies" if replies is not None else None
        listed = notes.get("notes")
        links = notes.get("_links")
        if not isinstance(links, dict):
            links = {}
        if replies is None and isinstance(listed, list) and not links.get("next"):
            # Conversation mode lists every reply; without a next page the list is whole.
            replies = sum(1 for n in listed if isinstance(n, dict) and n.get("type") == "reply")
            source = "counted"
        raw = {
            "id": post_id,
            "total_notes": _int_or_none(notes.get("total_notes")),
            "total_likes": likes,
            "total_reblogs": reblogs,
            "replies": replies,
            "replies_source": source,
        }
        return PostMetrics(likes=likes, shares=reblogs, comments=replies, raw=raw)

    def fetch_post_metrics(self, platform_post_ids: list[str]) -> dict[str, PostMetrics | None]:
        """One GET /v2/blog/{blog}/notes?id=&mode=conversation per post.

        That mode reports total_likes and total_reblogs; replies are counted from
        the listed notes when the list is complete, else None. A 404 = deleted.
        """
        result: dict[str, PostMetrics | None] = {}
        for post_id in dict.fromkeys(str(i) for i in platform_post_ids):
            try:
                notes = self._api(
                    "GET",
                    self._blog_path("notes"),
                    f"fetching the notes of post {post_id}",
                    params=self._keyed({"id": post_id, "mode": "conversation"}),
                )
            except RemoteNotFound:
                result[post_id] = None  # deleted; the other posts still count
                continue
            result[post_id] = self._metrics(post_id, notes)
        return result

    def fetch_account_metrics(self) -> AccountMetrics:
        """Followers from the blog's entry in GET /v2/user/info, posts from GET /v2/blog/{blog}/info.

        The docs list `followers` for each of `user.blogs` ("/user/info"), not in the
        blog info. A blog missing from user.blogs (the user lost access) or an entry
        without `followers` falls back to /followers?limit=1 (total_users).
        """
        user = self._api("GET", "/v2/user/info", "reading the blog's follower count").get("user") or {}
        blogs = [b for b in (user.get("blogs") or []) if isinstance(b, dict) and b.get("name")]
        settings = self.ctx.settings or {}
        wanted = [str(w).lower() for w in (settings.get("blog_uuid"), self._blog_name()) if w]
        entry = next((b for b in (self._find_blog(blogs, w) for w in wanted) if b is not None), None)
        followers = _int_or_none(entry.get("followers")) if entry is not None else None
        source = "user_info" if followers is not None else None
        info = self._api("GET", self._blog_path("info"), "reading the blog's counters", params=self._keyed())
        blog = info.get("blog")
        if not isinstance(blog, dict):
            raise self._fail(MalformedResponse, f"{self._host} sent no blog info")
        if followers is None:
            found = self._api("GET", self._blog_path("followers"), "counting the blog's followers", params={"limit": 1})
            followers = _int_or_none(found.get("total_users"))
            source = "followers" if followers is not None else None
        raw: dict[str, Any] = {
            "name": blog.get("name"),
            "uuid": blog.get("uuid"),
            "posts": _int_or_none(blog.get("posts")),
            "followers": followers,
            "followers_source": source,
        }
        return AccountMetrics(followers=followers, posts_count=raw["posts"], raw=raw)

    # -- health and import -----------------------------------------------------

    def check_health(self) -> HealthResult:
        """Refresh first when the access token is within 10 minutes of expiry, then GET /v2/user/info."""
        if self._can_refresh() and self._refresh_due():
            with self._lock:
                if self._refresh_due():
                    self._refresh()
        user = self._api("GET", "/v2/user/info", "checking the access token").get("user") or {}
        expires = self._expires_at()
        blogs = [b for b in (user.get("blogs") or []) if isinstance(b, dict) and b.get("name")]
        settings = self.ctx.settings or {}
        wanted = [str(w).lower() for w in (settings.get("blog_uuid"), self._blog_name()) if w]
        if not any(self._find_blog(blogs, w) for w in wanted):
            return HealthResult(
                ok=False,
                error_code="blog_unavailable",
                message=f"the token's user can no longer post to the blog {self._blog_name()}",
                token_expires_at=expires,
            )
        message = None
        if not self._can_refresh():
            message = "the access token cannot be refreshed (no refresh token); " + NO_REFRESH_HINT
        return HealthResult(ok=True, message=message, token_expires_at=expires)

    def resolve_post(self, url_or_id: str) -> PublishResult:
        ref = post_reference(url_or_id)
        if ref is None:
            raise self._fail(
                RemoteNotFound,
                f"{url_or_id!r} is not a Tumblr post URL or id",
                hint="give the post id or its URL, e.g. https://www.tumblr.com/BLOG/ID",
            )
        blog, post_id = ref
        ours = {str(self._blog_name() or "").lower()}
        blog_url = (self.ctx.settings or {}).get("blog_url")
        if blog_url:
            ours.add(blog_identifier(str(blog_url)))
        if blog is not None and blog not in ours:
            raise self._fail(
                RemoteNotFound,
                f"{url_or_id!r} is a post of {blog}, not of this account's blog {self._blog_name()}",
                hint="import posts into the account of the blog they were published on",
            )
        return self._result(self._get_post(post_id, f"fetching post {post_id}"))
