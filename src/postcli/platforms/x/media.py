"""Media for a post through the v2 chunked upload (docs.x.com/x-api/media, OpenAPI
"initializeMediaUpload", "appendMediaUpload", "finalizeMediaUpload", "getMediaUploadStatus",
"createMediaMetadata"):

  POST /2/media/upload/initialize   {"media_type", "total_bytes", "media_category"}
                                    -> {"data": {"id", "media_key", "expires_after_secs"}}
  POST /2/media/upload/{id}/append  multipart: media (the chunk), segment_index (0..999)
  POST /2/media/upload/{id}/finalize -> {"data": {..., "processing_info": {"state",
                                    "check_after_secs"}}} when the file is still processed
  GET  /2/media/upload?command=STATUS&media_id= until the state is "succeeded" (or "failed")
  POST /2/media/metadata            {"id", "metadata": {"alt_text": {"text"}}} (1,000 characters)

Limits (x-api/media/introduction, quickstart/best-practices): images (JPEG, PNG, WEBP) 5 MB,
an animated GIF 15 MB, a video 512 MB of 0.5 to 140 seconds; up to 4 images, or 1 GIF, or 1
video per post.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from postcli.platforms.base import (
    MalformedResponse,
    MediaItem,
    PlatformError,
    PlatformRejected,
    PlatformUnavailable,
)
from postcli.platforms.values import as_dict, int_or_none

if TYPE_CHECKING:
    from postcli.platforms.x.api import XApi

IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
GIF = "image/gif"
VIDEO_TYPES = ("video/mp4", "video/quicktime")
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_GIF_BYTES = 15 * 1024 * 1024
MAX_VIDEO_BYTES = 512 * 1024 * 1024
MAX_IMAGES = 4
MAX_ALT_TEXT = 1000
MIN_VIDEO_SECONDS, MAX_VIDEO_SECONDS = 0.5, 140.0
# 1 MiB segments, as X's own examples: 512 of them for the biggest video, within 0..999.
CHUNK_BYTES = 1024 * 1024
# How long a video may take to process before the publish gives up (nothing is posted then).
MAX_PROCESSING_SECONDS = 600.0
DEFAULT_CHECK_SECONDS = 5


def category(item: MediaItem) -> str:
    if item.is_video:
        return "tweet_video"
    return "tweet_gif" if item.mime_type == GIF else "tweet_image"


def problems(media: list[MediaItem]) -> list[str]:
    """What X would refuse in `media`, in words (before anything is uploaded)."""
    out: list[str] = []
    gifs = [m for m in media if m.mime_type == GIF]
    videos = [m for m in media if m.is_video]
    images = [m for m in media if not m.is_video and m.mime_type != GIF]
    if (gifs or videos) and len(media) > 1:
        out.append("a post takes up to 4 images, or one GIF, or one video, not a mix.")
    if len(images) > MAX_IMAGES:
        out.append(f"{len(images)} images, X takes up to {MAX_IMAGES}.")
    for m in media:
        if m.mime_type not in (*IMAGE_TYPES, GIF, *VIDEO_TYPES):
            out.append(f"{m.path.name} is {m.mime_type}, which X does not take.")
            continue
        cap = MAX_VIDEO_BYTES if m.is_video else MAX_GIF_BYTES if m.mime_type == GIF else MAX_IMAGE_BYTES
        if m.size_bytes > cap:
            out.append(f"{m.path.name} is {m.size_bytes:,} bytes, X takes up to {cap:,} for it.")
        if m.alt_text and len(m.alt_text) > MAX_ALT_TEXT:
            out.append(f"the alt text of {m.path.name} is over {MAX_ALT_TEXT} characters.")
    return out


def _open(item: MediaItem, api: XApi) -> Any:
    try:
        return open(item.path, "rb")
    except OSError as exc:
        raise api._fail(PlatformError, f"cannot read media file {item.path.name}: {exc.strerror or exc}") from None


def upload(api: XApi, item: MediaItem, number: int) -> tuple[str, float | None]:
    """Upload one file and set its alt text; (its media id, how many seconds X keeps it
    unused), once X can attach it to a post."""
    what = f"uploading {item.path.name}"
    with _open(item, api) as handle:
        size = os.fstat(handle.fileno()).st_size
        started = api._api(
            "POST",
            "/2/media/upload/initialize",
            what,
            endpoint="POST /2/media/upload/initialize",
            kind="upload",
            json={"media_type": item.mime_type, "total_bytes": size, "media_category": category(item)},
        )
        media_id = str(as_dict(started.get("data")).get("id") or "")
        if not media_id:
            raise api._fail(MalformedResponse, f"{api._host_name('upload')} gave no media id while {what}")
        parts = max(1, -(-size // CHUNK_BYTES))
        for index in range(parts):
            chunk = handle.read(CHUNK_BYTES)
            api._api(
                "POST",
                f"/2/media/upload/{media_id}/append",
                f"{what} (part {index + 1} of {parts})",
                endpoint="POST /2/media/upload/:id/append",
                kind="upload",
                data={"segment_index": str(index)},
                files={"media": (f"media-{number}", chunk, "application/octet-stream")},
            )
    done = as_dict(
        api._api(
            "POST",
            f"/2/media/upload/{media_id}/finalize",
            what,
            endpoint="POST /2/media/upload/:id/finalize",
            kind="upload",
        ).get("data")
    )
    _wait(api, media_id, as_dict(done.get("processing_info")), item)
    if item.alt_text:
        api._api(
            "POST",
            "/2/media/metadata",
            f"setting the alt text of {item.path.name}",
            endpoint="POST /2/media/metadata",
            kind="upload",
            json={"id": media_id, "metadata": {"alt_text": {"text": item.alt_text}}},
        )
    keep = int_or_none(done.get("expires_after_secs")) or int_or_none(
        as_dict(started.get("data")).get("expires_after_secs")
    )
    return media_id, float(keep) if keep is not None else None


def _wait(api: XApi, media_id: str, info: dict[str, Any], item: MediaItem) -> None:
    """Poll STATUS until the file is processed, as long as X says to wait between checks."""
    ctx = api.ctx
    deadline = ctx.clock() + MAX_PROCESSING_SECONDS
    while info:
        state = str(info.get("state") or "")
        if state == "succeeded":
            return
        if state == "failed":
            error = as_dict(info.get("error"))
            reason = error.get("message") or error.get("name") or "no reason given"
            raise api._fail(PlatformRejected, f"X could not process {item.path.name}: {reason}")
        wait = int_or_none(info.get("check_after_secs"))
        wait = DEFAULT_CHECK_SECONDS if wait is None or wait < 0 else wait
        if ctx.clock() + wait > deadline:
            raise api._fail(
                PlatformUnavailable,
                f"X was still processing {item.path.name} after {MAX_PROCESSING_SECONDS:g} s; nothing was posted",
                hint="retry later: `postcli post retry` uploads it again",
            )
        ctx.sleep(wait)
        ctx.charge_request("media status")
        answer = api._api(
            "GET",
            "/2/media/upload",
            f"checking the processing of {item.path.name}",
            endpoint="GET /2/media/upload",
            kind="upload",
            params={"command": "STATUS", "media_id": media_id},
        )
        info = as_dict(as_dict(answer.get("data")).get("processing_info"))
        if not info:
            return  # no processing_info: ready to use
