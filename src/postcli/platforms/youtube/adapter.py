"""YouTube adapter: videos through the YouTube Data API v3 on a channel's Google OAuth tokens.

References (docs/platforms/youtube.md lists what each choice rests on):
  https://developers.google.com/youtube/v3/docs/videos            (list, insert, delete; the resource)
  https://developers.google.com/youtube/v3/docs/channels/list
  https://developers.google.com/youtube/v3/docs/playlistItems/list
  https://developers.google.com/youtube/v3/guides/using_resumable_upload_protocol
  https://developers.google.com/youtube/v3/determine_quota_cost

Google's plumbing (the HTTP client, its errors, token refresh) is platforms/google_api.py;
the upload is upload.py; what an upload may be, and video URLs, rules.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Iterator

from postcli.platforms import google_oauth
from postcli.platforms.base import (
    AccountContext,
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
from postcli.platforms.google_api import GoogleApi
from postcli.platforms.spec import PlatformSpec
from postcli.platforms.values import as_dict, as_utc, int_or_none
from postcli.platforms.youtube import comments, rules
from postcli.platforms.youtube.spec import SPEC
from postcli.platforms.youtube.upload import Expired, ResumableUpload

API = "/youtube/v3"
BATCH = 50  # ids per videos.list call (the common practice; see docs/platforms/youtube.md)
# Units per call (developers.google.com/youtube/v3/determine_quota_cost). videos.insert draws
# on its own daily bucket (100 calls by default), not on these units.
COST = {"list": 1, "videos.delete": 50}
_RECONCILE_PAGES = 2
AUDIT_FORM = "https://support.google.com/youtube/contact/yt_api_form"
_BROKEN_PROCESSING = {"failed", "terminated"}
_BROKEN_UPLOAD = {"failed", "rejected"}


class YouTubeAdapter(GoogleApi):
    """One YouTube channel, as the Google account that signed in sees it (channels mine=true)."""

    spec: ClassVar[PlatformSpec] = SPEC
    metrics_batch_size: ClassVar[int] = BATCH
    # Only after an expired upload session whose last chunk went out: the channel's uploads.
    reconciles_by_recent_posts: ClassVar[bool] = True
    reconcile_oldest_match: ClassVar[bool] = True  # the uploads playlist's order is not documented
    reconcile_margin: ClassVar[timedelta] = timedelta(minutes=10)
    # uploadLimitExceeded (400): the channel's daily upload limit ("try again in 24 hours").
    daily_quota_reasons: ClassVar[frozenset[str]] = GoogleApi.daily_quota_reasons | {"uploadLimitExceeded"}
    rejected_hints: ClassVar[dict[str, str]] = {
        "forbidden": "the signed-in account may not do this to that video (is it this channel's?)",
        "invalidTitle": "check --title (100 characters, no < or >)",
        "invalidDescription": "check the text (5000 bytes, no < or >)",
        "invalidTags": "check --field youtube.tags",
        "invalidCategoryId": "check --field youtube.category (videoCategories.list gives the ids)",
        "youtubeSignupRequired": "the Google account has no YouTube channel yet: create one on youtube.com",
    }

    def __init__(self, ctx: AccountContext) -> None:
        super().__init__(ctx)
        self._notes: list[str] = []  # videos whose processing failed, said once by collect

    def collect_notes(self) -> list[str]:
        with self._lock:
            notes, self._notes = self._notes, []
        return notes

    def api_url(self, resource: str) -> str:
        return self.url("api", f"{API}/{resource}")

    def _charge(self, what: str, cost: int = COST["list"]) -> None:
        self.ctx.charge_request(what, cost)

    # -- account ---------------------------------------------------------------------

    def _my_channel(self, part: str, what: str) -> dict[str, Any]:
        body = self.call("GET", self.api_url("channels"), what, params={"part": part, "mine": "true"})
        items = [i for i in (as_dict(body).get("items") or []) if isinstance(i, dict) and i.get("id")]
        if not items:
            raise self.fail(
                PlatformRejected,
                "the signed-in Google account has no YouTube channel",
                hint="create the channel on youtube.com, or sign in (choosing the channel's account) again",
            )
        return items[0]

    def connect(self, identifier: str | None, secret: str) -> AccountInfo:
        """Check the token with channels.list mine=true; with a refresh token, client id and
        secret, refresh once first (it proves they work, and Google may say how long the
        refresh token lives)."""
        token = (secret or "").strip()
        if not token:
            raise self.fail(
                AuthFailed, "a Google OAuth access token is required", hint="postcli accounts login youtube"
            )
        secrets = {k: v for k, v in (self.ctx.secrets or {}).items() if v and k != "expires_at"}
        secrets["access_token"] = token
        self.ctx.secrets = secrets
        self._remember_secrets()
        settings = {k: v for k, v in (self.ctx.settings or {}).items() if v is not None}
        status = settings.setdefault("app_status", "testing")
        self.ctx.settings = settings
        if secrets.get("refresh_token") and not self._can_refresh():
            missing = [
                n
                for n, ok in (("--client-id", self._client_id()), ("a client secret", secrets.get("client_secret")))
                if not ok
            ]
            raise self.fail(
                PlatformRejected,
                f"a refresh token was given, but refreshing also needs {' and '.join(missing)}",
                hint="give your Google app's client id and POSTCLI_YOUTUBE_CLIENT_SECRET, or sign in with "
                "postcli accounts login youtube",
            )
        ends = None
        if self._can_refresh():
            with self._lock:
                answer = self._refresh()
            now = datetime.now(timezone.utc)
            told = google_oauth.refresh_expiry(answer, status, now) if answer.get("refresh_token_expires_in") else None
            ends = told or google_oauth.sign_in_ends(settings) or google_oauth.refresh_expiry({}, status, now)
        channel = self._my_channel("snippet,contentDetails", "reading the signed-in channel")
        snippet = as_dict(channel.get("snippet"))
        uploads = as_dict(as_dict(channel.get("contentDetails")).get("relatedPlaylists")).get("uploads")
        channel_id = str(channel["id"])
        handle = str(snippet.get("customUrl") or "").lstrip("@") or str(snippet.get("title") or "") or channel_id
        settings.update(channel_id=channel_id, channel_title=snippet.get("title"), uploads_playlist=uploads)
        settings["refresh_expires_at"] = ends.isoformat() if ends else None
        self.ctx.settings = {k: v for k, v in settings.items() if v is not None}
        self.ctx.settings_changed = True
        self.ctx.handle, self.ctx.external_id = handle, channel_id
        self.ctx.token_expires_at = ends
        self.ctx.save_secrets(dict(self.ctx.secrets))
        return AccountInfo(
            external_id=channel_id, handle=handle, display_name=snippet.get("title") or None, token_expires_at=ends
        )

    def limits(self) -> Limits:
        return Limits(
            max_text=rules.DESCRIPTION_MAX_BYTES,
            count_unit="bytes",
            max_images=0,
            max_videos=1,
            max_video_bytes=rules.MAX_VIDEO_BYTES,
            mime_types=rules.MIME_TYPES,
            requires_media=True,
            forbidden_chars=rules.FORBIDDEN,
        )

    def text_length(self, text: str) -> int:
        """The description's UTF-8 bytes: its limit is 5000 bytes."""
        return len(text.encode("utf-8"))

    # -- publishing ------------------------------------------------------------------

    def publish(self, req: PublishRequest) -> PublishResult:
        """A resumable upload (upload.py), its session saved before the first byte."""
        bad = rules.problems(req)
        if bad:
            raise self.fail(PlatformRejected, "cannot publish to YouTube: " + " ".join(bad))
        return ResumableUpload(self, req).run()

    def find_published(self, req: PublishRequest) -> PublishResult | None:
        """After an unknown outcome: the video, if a saved session finished it (or the saved
        video id); None when the upload may go on or start (no video exists before its last
        byte arrives)."""
        state = req.state
        if not any(m.is_video for m in req.media):
            return None
        if state.get("video_id"):
            return self.published_video(str(state["video_id"]), req)
        if not state.get("session_uri"):
            return None
        upload = ResumableUpload(self, req)
        try:
            done, _offset = upload.status()
        except Expired:
            return upload.created_anyway()
        return done

    def published_video(self, video_id: str, req: PublishRequest) -> PublishResult:
        """The result for a video an earlier attempt made (read back when it can be)."""
        self._charge("videos.list")
        body = self.call(
            "GET",
            self.api_url("videos"),
            f"reading video {video_id}",
            params={"part": "snippet,status", "id": video_id},
        )
        items = [i for i in (as_dict(body).get("items") or []) if isinstance(i, dict) and i.get("id") == video_id]
        if items:
            return self.result(items[0], req)
        return PublishResult(
            platform_post_id=video_id, url=rules.WATCH_URL + video_id, published_at=datetime.now(timezone.utc)
        )

    def result(self, video: dict[str, Any], req: PublishRequest) -> PublishResult:
        """The PublishResult for a video resource, with a notice when YouTube did not make it
        as asked: an unaudited project's uploads are locked private (videos.insert)."""
        video_id = str(video.get("id") or "")
        if not video_id:
            raise self.fail(MalformedResponse, "YouTube described a video without an id")
        snippet, status = as_dict(video.get("snippet")), as_dict(video.get("status"))
        asked = str(req.fields.get("privacy") or "private")
        given = status.get("privacyStatus")
        notes = []
        if given and given != asked:
            notes.append(
                f"YouTube made video {video_id} {given}, not {asked} as asked: Google Cloud projects that have not "
                f"passed YouTube's API audit can only upload private videos ({AUDIT_FORM}). The upload itself worked."
            )
        if status.get("uploadStatus") in _BROKEN_UPLOAD:
            why = status.get("rejectionReason") or status.get("failureReason") or "no reason given"
            notes.append(f"YouTube says the upload of video {video_id} {status['uploadStatus']}: {why}.")
        return PublishResult(
            platform_post_id=video_id,
            url=rules.WATCH_URL + video_id,
            published_at=as_utc(snippet.get("publishedAt")) or datetime.now(timezone.utc),
            text=snippet.get("description"),
            author=snippet.get("channelId"),
            notice=" ".join(notes) or None,
        )

    # -- the first comment (comments.py) ---------------------------------------------

    def channel_id(self) -> str:
        return str((self.ctx.settings or {}).get("channel_id") or self.ctx.external_id or "")

    def publish_comment(self, req: PublishRequest) -> PublishResult:
        return comments.publish(self, req)

    def find_comment(self, req: PublishRequest) -> PublishResult | None:
        return comments.find(self, req)

    def comment_limit(self) -> int:
        return comments.MAX_COMMENT

    # -- reconciling (an expired session after the last chunk went out) -------------------

    def _uploads_playlist(self) -> str:
        playlist = (self.ctx.settings or {}).get("uploads_playlist")
        if playlist:
            return str(playlist)
        self._charge("channels.list")
        channel = self._my_channel("contentDetails", "finding the channel's uploads")
        found = as_dict(as_dict(channel.get("contentDetails")).get("relatedPlaylists")).get("uploads")
        if not found:
            raise self.fail(MalformedResponse, "YouTube named no uploads playlist for the channel")
        self.ctx.settings = {**(self.ctx.settings or {}), "uploads_playlist": found}
        self.ctx.settings_changed = True
        return str(found)

    def recent_posts(self, since: datetime | None) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {
            "part": "snippet,contentDetails,status",
            "playlistId": self._uploads_playlist(),
            "maxResults": BATCH,
        }
        for _ in range(_RECONCILE_PAGES):
            self._charge("playlistItems.list")
            body = as_dict(
                self.call(
                    "GET",
                    self.api_url("playlistItems"),
                    "looking for the video among the channel's uploads",
                    params=params,
                )
            )
            yield from (i for i in (body.get("items") or []) if isinstance(i, dict))
            if not body.get("nextPageToken"):
                return
            params["pageToken"] = body["nextPageToken"]

    def post_created_at(self, post: dict[str, Any]) -> datetime | None:
        details, snippet = as_dict(post.get("contentDetails")), as_dict(post.get("snippet"))
        return as_utc(details.get("videoPublishedAt") or snippet.get("publishedAt"))

    def same_post(self, post: dict[str, Any], req: PublishRequest) -> bool:
        snippet = as_dict(post.get("snippet"))
        return (
            str(snippet.get("title") or "").strip() == (req.title or "").strip()
            and str(snippet.get("description") or "").strip() == req.text.strip()
        )

    def reconciled(self, post: dict[str, Any], req: PublishRequest) -> PublishResult:
        details, snippet = as_dict(post.get("contentDetails")), as_dict(post.get("snippet"))
        video_id = details.get("videoId") or as_dict(snippet.get("resourceId")).get("videoId")
        if not video_id:
            raise self.fail(MalformedResponse, "YouTube listed an upload without a video id")
        video = {"id": video_id, "snippet": {**snippet, "publishedAt": details.get("videoPublishedAt")}}
        return self.result({**video, "status": as_dict(post.get("status"))}, req)

    def delete(self, platform_post_id: str) -> None:
        """videos.delete: 204; a video already gone (404) is what was wanted."""
        self._charge("videos.delete", COST["videos.delete"])
        try:
            self.call(
                "DELETE",
                self.api_url("videos"),
                f"deleting video {platform_post_id}",
                ok=(200, 204),
                params={"id": platform_post_id},
            )
        except RemoteNotFound:
            pass

    # -- metrics ---------------------------------------------------------------------

    def _metrics(self, video: dict[str, Any] | None) -> PostMetrics | None:
        if video is None:
            return None  # videos.list leaves out a video that no longer exists
        status, processing = as_dict(video.get("status")), as_dict(video.get("processingDetails"))
        if status.get("uploadStatus") == "deleted":
            return None
        stats = as_dict(video.get("statistics"))
        views = int_or_none(stats.get("viewCount"))
        raw = {
            "id": video.get("id"),
            "statistics": stats,
            "privacy": status.get("privacyStatus"),
            "upload_status": status.get("uploadStatus"),
            "failure_reason": status.get("failureReason"),
            "rejection_reason": status.get("rejectionReason"),
            "processing_status": processing.get("processingStatus"),
            "processing_failure_reason": processing.get("processingFailureReason"),
        }
        if processing.get("processingStatus") in _BROKEN_PROCESSING or status.get("uploadStatus") in _BROKEN_UPLOAD:
            reasons = [
                r
                for r in (
                    processing.get("processingFailureReason"),
                    status.get("failureReason"),
                    status.get("rejectionReason"),
                )
                if r
            ]
            state = processing.get("processingStatus") or status.get("uploadStatus")
            with self._lock:
                self._notes.append(
                    f"video {video.get('id')}: YouTube's processing {state} ({', '.join(reasons) or 'no reason given'})"
                )
        return PostMetrics(
            views=views,
            video_views=views,
            likes=int_or_none(stats.get("likeCount")),
            comments=int_or_none(stats.get("commentCount")),
            raw=raw,
        )

    def fetch_post_metrics(self, platform_post_ids: list[str]) -> dict[str, PostMetrics | None]:
        """videos.list part=statistics,status,processingDetails, 50 ids a call. A count the
        answer leaves out (likes hidden, comments off) is None; a video missing from `items`
        is deleted. Impressions, reach and shares are not in the Data API: always None."""
        result: dict[str, PostMetrics | None] = {}
        unique = list(dict.fromkeys(str(i) for i in platform_post_ids))
        for start in range(0, len(unique), BATCH):
            batch = unique[start : start + BATCH]
            body = self.call(
                "GET",
                self.api_url("videos"),
                f"fetching the numbers of {len(batch)} video(s)",
                # No maxResults: videos.list does not take it with `id` (its reference, "maxResults").
                params={"part": "statistics,status,processingDetails", "id": ",".join(batch)},
            )
            items = {str(i["id"]): i for i in (as_dict(body).get("items") or []) if isinstance(i, dict) and i.get("id")}
            for video_id in batch:
                result[video_id] = self._metrics(items.get(video_id))
        return result

    def fetch_account_metrics(self) -> AccountMetrics:
        """channels.list part=statistics mine=true: subscribers (None when the channel hides
        them), its video count; views of the channel kept in raw."""
        stats = as_dict(self._my_channel("statistics", "reading the channel's counters").get("statistics"))
        hidden = bool(stats.get("hiddenSubscriberCount"))
        followers = None if hidden else int_or_none(stats.get("subscriberCount"))
        raw = {**stats, "hidden_subscribers": hidden}
        return AccountMetrics(followers=followers, posts_count=int_or_none(stats.get("videoCount")), raw=raw)

    # -- health and import -----------------------------------------------------------

    def check_health(self) -> HealthResult:
        """Refresh when due, then channels.list mine=true; warns when the sign-in ends soon."""
        self._charge("channels.list")
        channel = self._my_channel("id", "checking the sign-in")
        settings = self.ctx.settings or {}
        ends = google_oauth.sign_in_ends(settings)
        if settings.get("channel_id") and channel["id"] != settings["channel_id"]:
            return HealthResult(
                ok=False,
                error_code="channel_changed",
                message=f"the tokens now belong to channel {channel['id']}, not {settings['channel_id']}",
                token_expires_at=ends,
            )
        message = google_oauth.ending_message(ends)
        if not self._can_refresh():
            message = (
                "the access token cannot be refreshed (no refresh token) and lasts an hour; " + self.reconnect_hint()
            )
        return HealthResult(ok=True, message=message, token_expires_at=ends)

    def resolve_post(self, url_or_id: str) -> PublishResult:
        video_id = rules.video_id(url_or_id)
        if video_id is None:
            raise self.fail(
                RemoteNotFound,
                f"{url_or_id!r} is not a YouTube video URL or id",
                hint="give the video id or its URL, e.g. https://www.youtube.com/watch?v=ID",
            )
        self._charge("videos.list")
        body = self.call(
            "GET",
            self.api_url("videos"),
            f"fetching video {video_id}",
            params={"part": "snippet,status", "id": video_id},
        )
        items = [i for i in (as_dict(body).get("items") or []) if isinstance(i, dict) and i.get("id") == video_id]
        if not items:
            raise self.fail(RemoteNotFound, f"video {video_id} is not on YouTube (or not visible to this account)")
        found = self.result(items[0], PublishRequest(text="", idempotency_key=""))
        found.notice = None  # nothing was asked of an imported video
        snippet = as_dict(items[0].get("snippet"))
        found.text = snippet.get("description") or snippet.get("title")
        return found
