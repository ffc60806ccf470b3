"""A Pin's media_source: an image in the request (image_base64) or by public URL (image_url, from
the S3 store), or a video uploaded beforehand (video_id).

The video steps (developers.pinterest.com/docs/api-features/creating-boards-and-pins/#creating-video-pins,
and the API description's media operations):
  1. POST /v5/media {"media_type": "video"} registers the upload: media_id, upload_url and
     upload_parameters (an S3 form policy, used exactly as returned);
  2. a multipart POST to upload_url with every upload parameter, then the file as `file`
     (no Pinterest token: the URL is Amazon's);
  3. GET /v5/media/{media_id} until status is `succeeded` (or `failed`), on the account's
     clock and request budget;
  4. the Pin names it: {"source_type": "video_id", "media_id": ...}.
The media_id is saved in the publish state before the upload, so `post retry` after a crash
uses the video already processed instead of uploading it again.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from postcli.platforms.base import (
    MalformedResponse,
    MediaItem,
    PlatformError,
    PlatformRejected,
    PlatformUnavailable,
    PublishRequest,
    RemoteNotFound,
)
from postcli.platforms.values import as_dict, as_str

if TYPE_CHECKING:
    from postcli.platforms.pinterest.api import PinterestApi

# Polling a registered video: waits grow to POLL_MAX, for at most PROCESSING_LIMIT seconds.
POLL_FIRST = 2.0
POLL_MAX = 15.0
PROCESSING_LIMIT = 15 * 60.0
# The cover of a video Pin: the frame at one second (the first frame is often black); the API
# takes cover_image_key_frame_time instead of an uploaded cover image.
COVER_FRAME_SECONDS = 1


def media_source(api: PinterestApi, item: MediaItem, req: PublishRequest) -> dict[str, Any]:
    if item.is_video:
        media_id = video_media_id(api, item, req)
        return {"source_type": "video_id", "media_id": media_id, "cover_image_key_frame_time": COVER_FRAME_SECONDS}
    if (item.public_url or "").startswith(("https://", "http://")):
        return {"source_type": "image_url", "url": item.public_url}
    try:
        data = item.path.read_bytes()
    except OSError as exc:
        raise api._fail(PlatformError, f"cannot read media file {item.path.name}: {exc.strerror or exc}") from None
    return {"source_type": "image_base64", "content_type": item.mime_type, "data": base64.b64encode(data).decode()}


def video_media_id(api: PinterestApi, item: MediaItem, req: PublishRequest) -> str:
    """The media_id of `item` processed by Pinterest: the one an earlier attempt uploaded when it
    is still good, else a new upload."""
    earlier = as_str(req.state.get("media_id"))
    if earlier:
        status = media_status(api, earlier)
        if status == "succeeded":
            return earlier
        if status == "processing":
            wait_until_processed(api, earlier)
            return earlier
        # "registered": the file never arrived (the crash came mid-upload); "failed" or gone:
        # a new upload, as a first attempt would.
    registered = api._object("POST", "/v5/media", "registering the video upload", json={"media_type": "video"})
    media_id = as_str(registered.get("media_id")) or ""
    upload_url = as_str(registered.get("upload_url")) or ""
    if not media_id.isdigit() or not upload_url.startswith(("https://", "http://")):
        raise api._fail(MalformedResponse, f"{api._api_host()} sent no usable media_id and upload_url")
    req.save_state({**req.state, "media_id": media_id})
    upload(api, item, upload_url, as_dict(registered.get("upload_parameters")))
    wait_until_processed(api, media_id)
    return media_id


def upload(api: PinterestApi, item: MediaItem, url: str, parameters: dict[str, Any]) -> None:
    """The file to the upload URL with the returned form fields, in their order, file last."""
    from urllib.parse import urlparse

    what = f"uploading {item.path.name}"
    try:
        handle = open(item.path, "rb")  # noqa: SIM115 - closed below, after the request
    except OSError as exc:
        raise api._fail(PlatformError, f"cannot read media file {item.path.name}: {exc.strerror or exc}") from None
    with handle:
        fields = {str(k): str(v) for k, v in parameters.items()}
        response = api._exchange(
            "POST", url, what, data=fields, files={"file": (item.path.name, handle, item.mime_type)}
        )
    host = urlparse(url).netloc
    if 200 <= response.status_code < 300:
        return
    if response.status_code >= 500:
        raise api._fail(PlatformUnavailable, f"{host} answered HTTP {response.status_code} while {what}")
    raise api._fail(
        PlatformRejected,
        f"{host} refused the video (HTTP {response.status_code}) while {what}",
        hint="an upload URL works once and for a limited time; `postcli post retry` registers a new one",
    )


def media_status(api: PinterestApi, media_id: str) -> str | None:
    """registered, processing, succeeded or failed; None when Pinterest no longer knows it."""
    api.ctx.charge_request("checking the video upload")
    try:
        found = api._object("GET", f"/v5/media/{media_id}", f"checking video upload {media_id}")
    except RemoteNotFound:
        return None
    return as_str(found.get("status"))


def wait_until_processed(api: PinterestApi, media_id: str) -> None:
    """Poll until the video is `succeeded`; `failed` is refused with Pinterest's word for it."""
    ctx = api.ctx
    start = ctx.clock()
    pause = POLL_FIRST
    while True:
        status = media_status(api, media_id)
        if status == "succeeded":
            return
        if status == "failed":
            raise api._fail(
                PlatformRejected,
                f"Pinterest could not process the video (media {media_id} failed)",
                hint="Pinterest takes MP4 or MOV videos of 4 seconds to 15 minutes (docs/platforms/pinterest.md)",
            )
        if status is None:
            raise api._fail(RemoteNotFound, f"Pinterest no longer knows video upload {media_id}")
        if ctx.clock() - start >= PROCESSING_LIMIT:
            raise api._fail(
                PlatformUnavailable,
                f"the video (media {media_id}) was still {status} after {PROCESSING_LIMIT / 60:.0f} minutes",
                hint="`postcli post retry` goes on waiting for the same upload",
            )
        ctx.sleep(pause)
        pause = min(POLL_MAX, pause * 1.5)
