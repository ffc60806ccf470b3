"""Publishing in steps: a video's chunks sent to the upload URL, and the post's status asked
until TikTok says how it ended.

Media Transfer Guide (developers.tiktok.com/doc/content-posting-api-media-transfer-guide):
a video under 5 MB goes whole; otherwise chunks of 5-64 MB, total_chunk_count = size //
chunk_size, the last chunk taking the trailing bytes (up to 128 MB), sent in order with
PUT {upload_url}, Content-Range: bytes FIRST-LAST/TOTAL; 206 while parts are missing, 201
once the video is whole. The upload URL is good for an hour.

Get Post Status (…/content-posting-api-reference-get-video-status): POST
/v2/post/publish/status/fetch/ {"publish_id"} answers status (PROCESSING_UPLOAD,
PROCESSING_DOWNLOAD, SEND_TO_USER_INBOX, PUBLISH_COMPLETE, FAILED), fail_reason,
uploaded_bytes and, for a public post once moderated, publicaly_available_post_id (so
spelled). 30 requests a minute per token.

What a retry needs is saved with req.save_state before the step it lets the retry resume
(docs/adapters.md, "Publishing in steps"): the publish id and upload URL before the first
byte, the chunks TikTok has after each one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from postcli.platforms.base import (
    PlatformError,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
    PublishRequest,
    RemoteNotFound,
)
from postcli.platforms.values import as_utc, int_or_none

if TYPE_CHECKING:
    from postcli.platforms.tiktok.api import TikTokApi

STATUS_PATH = "/v2/post/publish/status/fetch/"
CHUNK = 5 * 1024 * 1024  # TikTok's smallest chunk: a dropped connection costs at most two
URL_TTL = timedelta(minutes=55)  # the upload URL lasts an hour; keep a margin
FIRST_WAIT_S, MOST_WAIT_S = 2.0, 30.0  # status/fetch: 30 a minute per token
POLL_FOR_S = 600.0
DROPS_PER_UPLOAD = 3

COMPLETE, FAILED, INBOX = "PUBLISH_COMPLETE", "FAILED", "SEND_TO_USER_INBOX"
# fail_reason values (Get Post Status, "fail_reason") and what they mean for the user.
FAIL_REASONS = {
    "file_format_check_failed": "TikTok does not take the file's format (MP4, WebM or MOV; H.264/H.265/VP8/VP9)",
    "duration_check_failed": "the video is longer or shorter than TikTok allows this account",
    "frame_rate_check_failed": "the video's frame rate is outside 23-60 FPS",
    "picture_size_check_failed": "the video's picture size is outside 360-4096 px a side",
    "video_pull_failed": "TikTok could not fetch the video from its URL",
    "photo_pull_failed": "TikTok could not fetch the photos from their URLs (an expired presigned URL, "
    "or a domain not verified for your app)",
    "publish_cancelled": "the post was cancelled",
    "auth_removed": "the user removed the app's access",
    "spam_risk_user_banned_from_posting": "TikTok does not let this account post now",
}


def chunk_plan(size: int) -> tuple[int, int]:
    """(chunk_size, total_chunk_count): whole under two chunks, else CHUNK-byte chunks."""
    if size < 2 * CHUNK:
        return size, 1
    return CHUNK, size // CHUNK


def chunk_bounds(index: int, size: int, chunk: int, count: int) -> tuple[int, int]:
    first = index * chunk
    return first, (size - 1 if index == count - 1 else first + chunk - 1)


@dataclass
class Status:
    status: str
    fail_reason: str | None
    uploaded_bytes: int | None
    post_id: str | None
    raw: dict[str, Any]

    @classmethod
    def of(cls, data: dict[str, Any]) -> Status:
        ids = data.get("publicaly_available_post_id") or data.get("publicly_available_post_id")
        first = ids[0] if isinstance(ids, list) and ids else None
        reason = data.get("fail_reason")
        return cls(
            status=str(data.get("status") or ""),
            fail_reason=str(reason) if reason else None,
            uploaded_bytes=int_or_none(data.get("uploaded_bytes")),
            post_id=str(first) if first not in (None, "") else None,
            raw=data,
        )


def fetch_status(api: TikTokApi, publish_id: str) -> Status:
    api.ctx.charge_request("status/fetch")
    data = api.call("POST", STATUS_PATH, "asking TikTok how the post is doing", json={"publish_id": publish_id})
    return Status.of(data)


def failure(api: TikTokApi, st: Status) -> PlatformError:
    reason = st.fail_reason or "no reason given"
    if reason == "spam_risk_too_many_posts":
        return api.fail(
            PlatformRateLimited,
            "TikTok did not publish the post: the daily cap of posts made through the API is reached "
            "(spam_risk_too_many_posts)",
            hint="try again tomorrow",
        )
    if reason == "internal":
        return api.fail(PlatformUnavailable, "TikTok failed the post with an internal error (fail_reason internal)")
    said = FAIL_REASONS.get(reason)
    return api.fail(PlatformRejected, f"TikTok did not publish the post: {said + f' ({reason})' if said else reason}")


def await_outcome(api: TikTokApi, publish_id: str) -> Status:
    """Ask until TikTok says PUBLISH_COMPLETE (returned) or FAILED (raised), for at most
    POLL_FOR_S on ctx.clock; waits grow from 2 to 30 s (status/fetch allows 30 a minute)."""
    deadline = api.ctx.clock() + POLL_FOR_S
    wait = FIRST_WAIT_S
    while True:
        st = fetch_status(api, publish_id)
        if st.status == COMPLETE:
            return st
        if st.status == FAILED:
            raise failure(api, st)
        if st.status == INBOX:
            raise api.fail(
                PlatformRejected,
                "TikTok sent the post to the creator's inbox instead of publishing it: finish it in the TikTok app",
            )
        if api.ctx.clock() + wait > deadline:
            raise api.fail(
                PlatformUnavailable,
                f"TikTok is still processing the post after {POLL_FOR_S:g} s ({st.status or 'no status'})",
                hint="`postcli post retry` asks TikTok how it ended; the video is never sent twice",
            )
        api.ctx.sleep(wait)
        wait = min(wait * 2, MOST_WAIT_S)


class UploadGone(Exception):
    """The upload URL no longer takes chunks (expired or unknown): start again with a new init."""


def send_video(api: TikTokApi, req: PublishRequest, state: dict[str, Any], start: int) -> None:
    """Send the chunks from `start` on, saving after each one how many TikTok has. A dropped
    connection asks TikTok how much arrived and goes on from there (a few times)."""
    video = next(m for m in req.media if m.is_video)
    size, chunk, count, url = state["size"], state["chunk_size"], state["chunks"], state["upload_url"]
    api.hold(url)
    drops = 0
    index = start
    with open(video.path, "rb") as f:
        while index < count:
            first, last = chunk_bounds(index, size, chunk, count)
            f.seek(first)
            data = f.read(last - first + 1)
            what = f"uploading part {index + 1} of {count} of {video.path.name}"
            headers = {
                "Content-Type": video.mime_type,
                "Content-Range": f"bytes {first}-{last}/{size}",
                "Content-Length": str(len(data)),
            }
            try:
                response = api.send("PUT", url, what, content=data, headers=headers)
            except PlatformUnavailable:
                drops += 1
                if drops > DROPS_PER_UPLOAD:
                    raise
                index = resume_from(api, state)
                continue
            if response.status_code in (403, 404, 410):
                raise UploadGone()
            if response.status_code == 416 and drops < DROPS_PER_UPLOAD:
                drops += 1  # TikTok wants another part than this one: ask which
                index = resume_from(api, state)
                continue
            if response.status_code not in (200, 201, 206):
                raise api.error(response, api.decode(response), what)
            index += 1
            state["uploaded"] = index
            req.save_state(dict(state))


def resume_from(api: TikTokApi, state: dict[str, Any]) -> int:
    """The chunk to send next: from the bytes TikTok says it has, else from what was saved."""
    st = fetch_status(api, state["publish_id"])
    if st.uploaded_bytes is not None:
        return min(st.uploaded_bytes // state["chunk_size"], state["chunks"])
    return int(state.get("uploaded") or 0)


def url_alive(state: dict[str, Any]) -> bool:
    made = as_utc(state.get("init_at"))
    return made is not None and datetime.now(timezone.utc) < made + URL_TTL


def resumable(api: TikTokApi, state: dict[str, Any]) -> Status | None:
    """An earlier attempt's post as TikTok has it now; None when it made no post, so starting
    again cannot post twice (FAILED, or a video TikTok never had whole and can no longer get)."""
    try:
        st = fetch_status(api, state["publish_id"])
    except (RemoteNotFound, PlatformRejected):
        # TikTok does not know the publish id (any more). Only an upload that never finished
        # is surely no post.
        if state.get("kind") == "video" and int(state.get("uploaded") or 0) < int(state.get("chunks") or 1):
            return None
        raise
    if st.status == FAILED:
        return None
    incomplete = st.uploaded_bytes is not None and st.uploaded_bytes < int(state.get("size") or 0)
    if st.status == "PROCESSING_UPLOAD" and state.get("kind") == "video" and incomplete and not url_alive(state):
        return None
    return st
