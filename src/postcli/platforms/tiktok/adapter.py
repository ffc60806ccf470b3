"""TikTok adapter: Direct Post of videos (uploaded in chunks) and photos (pulled from the S3
store's URLs), metrics from the Display API. api.py holds the client and the tokens,
upload.py the chunks and the status, rules.py what a post may be.

References (docs/platforms/tiktok.md lists what each choice rests on):
  developers.tiktok.com/doc/content-posting-api-reference-query-creator-info
  developers.tiktok.com/doc/content-posting-api-reference-direct-post
  developers.tiktok.com/doc/content-posting-api-reference-photo-post
  developers.tiktok.com/doc/tiktok-api-v2-get-user-info
  developers.tiktok.com/doc/tiktok-api-v2-video-query
  developers.tiktok.com/doc/tiktok-api-v2-video-list
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Iterator
from urllib.parse import urlsplit

from postcli.platforms.base import (
    AccountInfo,
    AccountMetrics,
    AuthFailed,
    HealthResult,
    Limits,
    MalformedResponse,
    PlatformRejected,
    PostMetrics,
    PublishRequest,
    PublishResult,
    RemoteNotFound,
)
from postcli.platforms.tiktok import rules, upload
from postcli.platforms.tiktok.api import NO_REFRESH, TikTokApi
from postcli.platforms.tiktok.spec import DEFAULT_PRIVACY, is_publish_id
from postcli.platforms.values import as_dict, as_str, as_utc, int_or_none

CREATOR_PATH = "/v2/post/publish/creator_info/query/"
VIDEO_INIT_PATH = "/v2/post/publish/video/init/"
CONTENT_INIT_PATH = "/v2/post/publish/content/init/"
USER_PATH = "/v2/user/info/"
QUERY_PATH = "/v2/video/query/"
LIST_PATH = "/v2/video/list/"
QUERY_FIELDS = "id,create_time,share_url,title,video_description,view_count,like_count,comment_count,share_count"
IDENTITY_FIELDS = "open_id,union_id,display_name,username"
STATS_FIELDS = "open_id,username,follower_count,following_count,likes_count,video_count"
QUERY_MAX = 20  # video ids per video/query call
LIST_PAGES = 3  # recent posts looked through when reconciling a photo post
_POST_URL = re.compile(r"tiktok\.com/(?:@[^/]+/)?(?:video|photo)/(\d+)")


class TikTokAdapter(TikTokApi):
    """One TikTok account, posting as the user who signed in (Login Kit tokens)."""

    metrics_batch_size: ClassVar[int] = QUERY_MAX
    # TikTok's API lists public videos only and hides videos under review, and has no delete
    # endpoint: a video it stops listing is "not visible now", never taken for deleted.
    absence_is_deletion: ClassVar[bool] = False
    # A photo post whose init got no answer is looked for among the recent public posts.
    reconciles_by_recent_posts: ClassVar[bool] = True

    # -- account -------------------------------------------------------------------

    def connect(self, identifier: str | None, secret: str) -> AccountInfo:
        """Keep the token (and refresh it once when postcli can but does not know its expiry:
        a token from `accounts add`), then read who it belongs to from user/info."""
        token = (secret or "").strip()
        if not token:
            raise self.fail(
                AuthFailed, "a TikTok access token is required", hint="sign in with `postcli accounts login tiktok`"
            )
        secrets = {k: v for k, v in (self.ctx.secrets or {}).items() if v}
        secrets["access_token"] = token
        self.ctx.secrets = secrets
        self.hold_secrets(secrets)
        if secrets.get("refresh_token") and not self.can_refresh():
            needs = (("--client-id", self.client_key()), ("POSTCLI_TIKTOK_CLIENT_SECRET", secrets.get("client_secret")))
            missing = [name for name, given in needs if not given]
            raise self.fail(
                PlatformRejected,
                f"a refresh token was given, but refreshing also needs {' and '.join(missing)}",
                hint="give your app's client key and secret, or leave out the refresh token",
            )
        if self.can_refresh() and self.access_expires_at() is None:
            self.refresh()
        user = as_dict(
            self.call("GET", USER_PATH, "reading the token's user", params={"fields": IDENTITY_FIELDS}).get("user")
        )
        open_id = as_str(user.get("open_id"))
        if not open_id:
            raise self.fail(MalformedResponse, "TikTok's user/info answer has no open_id")
        username = as_str(user.get("username"))
        settings = dict(self.ctx.settings or {})
        settings.update(open_id=open_id, username=username, display_name=as_str(user.get("display_name")))
        self.ctx.settings = settings
        self.ctx.settings_changed = True
        self.ctx.save_secrets(dict(self.ctx.secrets))
        self.ctx.token_expires_at = self.reconnect_by()
        return AccountInfo(
            external_id=open_id,
            handle=username or as_str(user.get("display_name")) or open_id,
            display_name=as_str(user.get("display_name")),
            token_expires_at=self.ctx.token_expires_at,
        )

    def limits(self) -> Limits:
        return Limits(
            max_text=rules.DESCRIPTION_MAX,  # a video's caption: 2200, checked with the post
            count_unit="UTF-16 units",
            max_images=rules.MAX_PHOTOS,
            max_videos=1,
            max_image_bytes=rules.MAX_PHOTO_BYTES,
            max_video_bytes=rules.MAX_VIDEO_BYTES,
            max_video_seconds=rules.MAX_VIDEO_SECONDS,
            mime_types=rules.PHOTO_TYPES + rules.VIDEO_TYPES,
            images_and_video=False,
            needs_public_media_url=True,
            public_media_kinds=("image",),  # photos are pulled from a URL; videos are uploaded
            requires_media=True,
        )

    def text_length(self, text: str) -> int:
        return rules.utf16_length(text)

    # -- publishing ------------------------------------------------------------------

    def creator(self) -> rules.Creator:
        data = self.call("POST", CREATOR_PATH, "asking TikTok what this account may post (creator_info)", json={})
        return rules.Creator.of(data)

    def preflight(self, req: PublishRequest) -> None:
        """TikTok's documented limits, then creator_info's: privacy levels, video length, the
        comment/duet/stitch switches. Raises PlatformRejected before anything is sent."""
        self._check(req)

    def _check(self, req: PublishRequest) -> rules.Creator:
        problems = rules.local_problems(req)
        if problems:
            raise self.fail(PlatformRejected, "cannot post to TikTok: " + " ".join(problems))
        creator = self.creator()
        problems = rules.creator_problems(req, creator)
        if problems:
            raise self.fail(PlatformRejected, "cannot post to TikTok: " + " ".join(problems))
        return creator

    def publish(self, req: PublishRequest) -> PublishResult:
        """Direct Post. A retry first asks TikTok about the earlier attempt's publish id
        (resuming its upload, or waiting for its outcome) and starts again only when that
        attempt can have made no post."""
        state = dict(req.state or {})
        if state.get("publish_id"):
            done = self._resume(req, state)
            if done is not None:
                return done
        creator = self._check(req)
        if rules.is_video_post(req):
            return self._post_video(req, creator)
        return self._post_photos(req, creator)

    def _post_info(self, req: PublishRequest, creator: rules.Creator, *, video: bool) -> dict[str, Any]:
        f = req.fields
        info: dict[str, Any] = {"privacy_level": f.get("privacy", DEFAULT_PRIVACY)}
        info.update(rules.interactions(req, creator, video=video))
        for key, name in (("brand_content", "brand_content_toggle"), ("brand_organic", "brand_organic_toggle")):
            info[name] = bool(f.get(key))
        if f.get("ai_generated") is not None:
            info["is_aigc"] = bool(f["ai_generated"])
        if video:
            info["title"] = req.text
            if f.get("cover_ms") is not None:
                info["video_cover_timestamp_ms"] = f["cover_ms"]
        else:
            info["title"] = req.title or ""
            info["description"] = req.text
            if f.get("auto_add_music") is not None:
                info["auto_add_music"] = bool(f["auto_add_music"])
        return info

    def _post_video(self, req: PublishRequest, creator: rules.Creator) -> PublishResult:
        video = next(m for m in req.media if m.is_video)
        size = video.path.stat().st_size if video.path.exists() else video.size_bytes
        chunk, count = upload.chunk_plan(size)
        for _ in range(2):  # a second init only when the first upload URL stopped taking chunks
            data = self.call(
                "POST",
                VIDEO_INIT_PATH,
                "starting the video post",
                json={
                    "post_info": self._post_info(req, creator, video=True),
                    "source_info": {
                        "source": "FILE_UPLOAD",
                        "video_size": size,
                        "chunk_size": chunk,
                        "total_chunk_count": count,
                    },
                },
            )
            publish_id, url = as_str(data.get("publish_id")), as_str(data.get("upload_url"))
            if not publish_id or not url:
                raise self.fail(MalformedResponse, "TikTok's video/init answer has no publish_id or upload_url")
            self.hold(url)
            state = {
                "kind": "video",
                "publish_id": publish_id,
                "upload_url": url,
                "init_at": datetime.now(timezone.utc).isoformat(),
                "size": size,
                "chunk_size": chunk,
                "chunks": count,
                "uploaded": 0,
            }
            req.save_state(dict(state))  # before the first byte: a retry resumes, never posts twice
            try:
                upload.send_video(self, req, state, 0)
            except upload.UploadGone:
                continue
            return self._outcome(req, publish_id)
        raise self.fail(PlatformRejected, "TikTok's upload URL refused the video twice; nothing was posted")

    def _post_photos(self, req: PublishRequest, creator: rules.Creator) -> PublishResult:
        urls = [m.public_url for m in req.media]
        if not all(urls):
            raise self.fail(
                PlatformRejected,
                "TikTok pulls photos from a public URL: publishing them needs the S3 media store "
                "([s3] in config.toml), on a domain verified for your TikTok app",
            )
        self.hold(*[u for u in urls if u])
        cover = req.fields.get("photo_cover")
        body = {
            "post_info": self._post_info(req, creator, video=False),
            "source_info": {
                "source": "PULL_FROM_URL",
                "photo_cover_index": (cover - 1) if cover else 0,
                "photo_images": urls,
            },
            "post_mode": "DIRECT_POST",
            "media_type": "PHOTO",
        }
        sent_at = datetime.now(timezone.utc).isoformat()
        # The init is the post: a lost answer leaves a post postcli cannot ask about by id.
        req.save_state({"kind": "photos", "sent_at": sent_at})
        data = self.call("POST", CONTENT_INIT_PATH, "posting the photos", json=body)
        publish_id = as_str(data.get("publish_id"))
        if not publish_id:
            raise self.fail(MalformedResponse, "TikTok's content/init answer has no publish_id")
        req.save_state({"kind": "photos", "sent_at": sent_at, "publish_id": publish_id})
        return self._outcome(req, publish_id)

    def _resume(self, req: PublishRequest, state: dict[str, Any]) -> PublishResult | None:
        st = upload.resumable(self, state)
        if st is None:
            return None  # that attempt made no post: start again
        if st.status == upload.COMPLETE:
            return self._result(req, st, state["publish_id"])
        if st.status == "PROCESSING_UPLOAD" and state.get("kind") == "video":
            have = st.uploaded_bytes if st.uploaded_bytes is not None else None
            if have is None or have < int(state["size"]):
                start = upload.resume_from(self, state) if have is None else have // int(state["chunk_size"])
                try:
                    upload.send_video(self, req, state, min(start, int(state["chunks"])))
                except upload.UploadGone:
                    return None  # the URL is dead and TikTok never had the whole video
        return self._outcome(req, state["publish_id"])

    def _outcome(self, req: PublishRequest, publish_id: str) -> PublishResult:
        return self._result(req, upload.await_outcome(self, publish_id), publish_id)

    def _result(self, req: PublishRequest, st: upload.Status, publish_id: str) -> PublishResult:
        """A public post TikTok has moderated has its post id; any other is known by its
        publish id until collect learns one (PostMetrics.resolved)."""
        video = rules.is_video_post(req) if req.media else True
        post_id = st.post_id or publish_id
        return PublishResult(
            platform_post_id=post_id,
            url=self.post_url(post_id, video=video) if st.post_id else None,
            published_at=datetime.now(timezone.utc),
            text=req.text,
        )

    def post_url(self, post_id: str, *, video: bool = True) -> str | None:
        username = as_str((self.ctx.settings or {}).get("username"))
        if not username:
            return None
        return f"{self.spec.host('web')}/@{username}/{'video' if video else 'photo'}/{post_id}"

    def find_published(self, req: PublishRequest) -> PublishResult | None:
        """The earlier attempt's post: by its publish id when it got one (TikTok's status),
        else, for a photo post whose init got no answer, among the account's recent public
        posts with the same text (a private post is not listed, and may be sent again)."""
        state = dict(req.state or {})
        if state.get("publish_id"):
            st = upload.resumable(self, state)
            if st is not None and st.status == upload.COMPLETE:
                return self._result(req, st, state["publish_id"])
            return None  # publish resumes it, or starts again when it made no post
        if state.get("kind") == "photos" and state.get("sent_at"):
            return self.find_in_recent_posts(req)
        return None

    def reconcile_since(self, req: PublishRequest) -> datetime | None:
        at = as_utc((req.state or {}).get("sent_at")) or as_utc(req.first_attempt_at)
        return at - self.reconcile_margin if at is not None else None

    def recent_posts(self, since: datetime | None) -> Iterator[dict[str, Any]]:
        cursor: Any = None
        for _ in range(LIST_PAGES):
            body: dict[str, Any] = {"max_count": QUERY_MAX}
            if cursor is not None:
                body["cursor"] = cursor
            data = self.call(
                "POST", LIST_PATH, "looking for an earlier attempt among the recent posts",
                params={"fields": QUERY_FIELDS}, json=body,
            )  # fmt: skip
            yield from (v for v in data.get("videos") or [] if isinstance(v, dict))
            cursor = data.get("cursor")
            if not data.get("has_more"):
                return

    def post_created_at(self, post: dict[str, Any]) -> datetime | None:
        stamp = int_or_none(post.get("create_time"))
        return datetime.fromtimestamp(stamp, timezone.utc) if stamp is not None else None

    def same_post(self, post: dict[str, Any], req: PublishRequest) -> bool:
        said = {" ".join(str(post.get(k) or "").split()) for k in ("title", "video_description")}
        return " ".join(req.text.split()) in said

    def reconciled(self, post: dict[str, Any], req: PublishRequest) -> PublishResult:
        return self._published_of(post)

    def delete(self, platform_post_id: str) -> None:
        raise self.fail(
            PlatformRejected,
            "TikTok's API cannot delete posts: delete it in the TikTok app",
            hint="`postcli post delete ID` (without --remote) forgets it in postcli",
        )

    # -- metrics -------------------------------------------------------------------------

    def _query(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """video/query for up to 20 ids at a time: the account's public videos among them."""
        found: dict[str, dict[str, Any]] = {}
        for i in range(0, len(ids), QUERY_MAX):
            data = self.call(
                "POST", QUERY_PATH, "reading the videos' counts",
                params={"fields": QUERY_FIELDS}, json={"filters": {"video_ids": ids[i : i + QUERY_MAX]}},
            )  # fmt: skip
            for v in data.get("videos") or []:
                if isinstance(v, dict) and v.get("id") not in (None, ""):
                    found[str(v["id"])] = v
        return found

    def _public_id(self, publish_id: str) -> str | None:
        """The post id TikTok gave a post known by its publish id, once moderation is done."""
        try:
            st = upload.fetch_status(self, publish_id)
        except (RemoteNotFound, PlatformRejected):
            return None
        return st.post_id if st.status == upload.COMPLETE else None

    def fetch_post_metrics(self, platform_post_ids: list[str]) -> dict[str, PostMetrics | None]:
        """video/query's view, like, comment and share counts (public videos only).

        A post known by its publish id is asked about first (status/fetch): once TikTok gives
        it a post id, its metrics carry it (`resolved`) for the target to keep. None: TikTok
        does not show the post now (private, in moderation, under review, or deleted: it
        does not say which), and the collector keeps it as published (absence_is_deletion)."""
        asked = list(dict.fromkeys(str(i) for i in platform_post_ids))
        post_ids: dict[str, str] = {}
        resolved: dict[str, PublishResult] = {}
        for pid in asked:
            if not is_publish_id(pid):
                post_ids[pid] = pid
                continue
            found = self._public_id(pid)
            if found is not None:
                post_ids[pid] = found
                resolved[pid] = PublishResult(found, url=self.post_url(found), published_at=None)
        videos = self._query(list(dict.fromkeys(post_ids.values()))) if post_ids else {}
        result: dict[str, PostMetrics | None] = {}
        for pid in asked:
            video = videos.get(post_ids.get(pid, ""))
            if video is None:
                # Its id is news worth keeping even before video/query lists it.
                result[pid] = None
                if pid in resolved:
                    result[pid] = waiting = PostMetrics(raw={"id": post_ids[pid]})
                    waiting.resolved = resolved[pid]
                continue
            m = self._metrics(video)
            if pid in resolved:
                m.resolved = PublishResult(post_ids[pid], url=self._link(video))
            result[pid] = m
        return result

    @staticmethod
    def _metrics(video: dict[str, Any]) -> PostMetrics:
        counts = {k: int_or_none(video.get(k)) for k in ("view_count", "like_count", "comment_count", "share_count")}
        return PostMetrics(
            views=counts["view_count"],
            likes=counts["like_count"],
            comments=counts["comment_count"],
            shares=counts["share_count"],
            raw={"id": str(video.get("id")), **counts, "share_url": video.get("share_url")},
        )

    def fetch_account_metrics(self) -> AccountMetrics:
        user = as_dict(
            self.call("GET", USER_PATH, "reading the account's counts", params={"fields": STATS_FIELDS}).get("user")
        )
        raw = {k: int_or_none(user.get(k)) for k in ("follower_count", "following_count", "likes_count", "video_count")}
        return AccountMetrics(
            followers=raw["follower_count"],
            following=raw["following_count"],
            posts_count=raw["video_count"],
            raw=raw,
        )

    # -- health and import ------------------------------------------------------------------

    def check_health(self) -> HealthResult:
        """Refresh when the access token is near its end, then user/info."""
        self.refresh_if_due()
        user = as_dict(
            self.call("GET", USER_PATH, "checking the access token", params={"fields": "open_id"}).get("user")
        )
        expires = self.reconnect_by()
        self.ctx.token_expires_at = expires
        theirs, ours = as_str(user.get("open_id")), self.ctx.external_id
        if ours and theirs and theirs != ours:
            return HealthResult(
                ok=False,
                error_code="other_user",
                message="the token belongs to another TikTok user than this account",
                token_expires_at=expires,
            )
        message = None if self.can_refresh() else NO_REFRESH
        if self.can_refresh() and expires is not None and expires - datetime.now(timezone.utc) < timedelta(days=14):
            message = (
                f"the refresh token ends on {expires:%Y-%m-%d}: sign in again before (postcli accounts login tiktok)"
            )
        return HealthResult(ok=True, message=message, token_expires_at=expires)

    def resolve_post(self, url_or_id: str) -> PublishResult:
        text = url_or_id.strip()
        m = _POST_URL.search(text)
        post_id = m.group(1) if m else (text if text.isdigit() else None)
        if post_id is None or (m is None and urlsplit(text).scheme):
            raise self.fail(
                RemoteNotFound,
                f"{url_or_id!r} is not a TikTok post link or id",
                hint="give the id or a link such as https://www.tiktok.com/@you/video/7310…",
            )
        video = self._query([post_id]).get(post_id)
        if video is None:
            raise self.fail(
                RemoteNotFound,
                f"TikTok shows no public post {post_id} of this account",
                hint="TikTok's API reads the account's own public posts only",
            )
        return self._published_of(video)

    def _link(self, video: dict[str, Any]) -> str | None:
        """The post's link: video/query's share_url without its tracking query, else built."""
        share = as_str(video.get("share_url"))
        return share.split("?", 1)[0] if share else self.post_url(str(video.get("id")))

    def _published_of(self, video: dict[str, Any]) -> PublishResult:
        post_id = str(video["id"])
        return PublishResult(
            platform_post_id=post_id,
            url=self._link(video),
            published_at=self.post_created_at(video),
            text=as_str(video.get("video_description")) or as_str(video.get("title")),
            author=as_str((self.ctx.settings or {}).get("open_id")),
        )
