"""Uploading a post's images and video before the post is made.

Images API (learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/images-api):
POST /rest/images?action=initializeUpload {"initializeUploadRequest": {"owner"}} answers
{"value": {"uploadUrl", "image": "urn:li:image:…"}}; the bytes go in a PUT to uploadUrl.

Videos API (…/shares/videos-api): POST /rest/videos?action=initializeUpload with the file size
answers uploadInstructions (one per 4 MiB part: uploadUrl, firstByte, lastByte), the video URN
and an uploadToken; each part is PUT to its URL and answers an ETag; POST
/rest/videos?action=finalizeUpload names the ETags in order; GET /rest/videos/{urn} tells its
status until AVAILABLE (or PROCESSING_FAILED).

Upload URLs are used as LinkedIn returns them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlsplit

from postcli.platforms.base import MalformedResponse, MediaItem, PlatformError, PlatformRejected, PlatformUnavailable
from postcli.platforms.linkedin.text import restli

if TYPE_CHECKING:
    from postcli.platforms.linkedin.api import LinkedInApi

PART = 4 * 1024 * 1024  # the Videos API's part size (4 MiB)
VIDEO_WAIT_SECONDS = 900.0  # how long publishing waits for LinkedIn to process a video
_FIRST_POLL, _MAX_POLL = 2.0, 30.0


def _value(api: LinkedInApi, response: Any, what: str) -> dict[str, Any]:
    value = api.json_of(response, what).get("value")
    if not isinstance(value, dict):
        raise api._fail(MalformedResponse, f"LinkedIn's answer has no upload instructions while {what}")
    return value


def _ours(api: LinkedInApi, url: str) -> bool:
    """May the access token go with a PUT to `url`: a LinkedIn host, or the one the account uses."""
    host = (urlsplit(url).hostname or "").lower()
    api_host = (urlsplit(api.host("api")).hostname or "").lower()
    return host == api_host or host == "linkedin.com" or host.endswith(".linkedin.com")


def _put(api: LinkedInApi, url: str, data: bytes, what: str, *, auth: bool) -> Any:
    headers = {"Content-Type": "application/octet-stream"}
    if auth and _ours(api, url):
        headers["Authorization"] = f"Bearer {api._access_token()}"
    response = api._send("PUT", url, what, headers=headers, content=data)
    if not 200 <= response.status_code < 300:
        raise api._error(response, what)
    return response


def _read(api: LinkedInApi, item: MediaItem, offset: int = 0, size: int = -1) -> bytes:
    try:
        with open(item.path, "rb") as fh:
            fh.seek(offset)
            return fh.read(size)
    except OSError as exc:
        raise api._fail(PlatformError, f"cannot read media file {item.path.name}: {exc.strerror or exc}") from None


def upload_image(api: LinkedInApi, owner: str, item: MediaItem) -> str:
    what = f"uploading {item.path.name}"
    url = api.host("api") + "/rest/images?action=initializeUpload"
    value = _value(api, api.call("POST", url, what, json={"initializeUploadRequest": {"owner": owner}}), what)
    upload_url, urn = value.get("uploadUrl"), value.get("image")
    if not isinstance(upload_url, str) or not isinstance(urn, str):
        raise api._fail(MalformedResponse, f"LinkedIn sent no upload URL or image URN while {what}")
    _put(api, upload_url, _read(api, item), what, auth=True)  # the docs' example sends the token
    return urn


def upload_video(api: LinkedInApi, owner: str, item: MediaItem) -> tuple[str, Callable[[], None]]:
    """Upload and finalize the video; (its URN, a wait until LinkedIn has processed it)."""
    what = f"uploading {item.path.name}"
    size = len(_read(api, item)) if item.size_bytes <= 0 else item.size_bytes
    url = api.host("api") + "/rest/videos?action=initializeUpload"
    body = {
        "initializeUploadRequest": {
            "owner": owner,
            "fileSizeBytes": size,
            "uploadCaptions": False,
            "uploadThumbnail": False,
        }
    }
    value = _value(api, api.call("POST", url, what, json=body), what)
    urn, instructions = value.get("video"), value.get("uploadInstructions")
    if not isinstance(urn, str) or not isinstance(instructions, list) or not instructions:
        raise api._fail(MalformedResponse, f"LinkedIn sent no video URN or upload instructions while {what}")
    etags: list[str] = []
    parts = sorted((i for i in instructions if isinstance(i, dict)), key=lambda i: int(i.get("firstByte") or 0))
    for n, part in enumerate(parts, 1):
        first, last, part_url = part.get("firstByte"), part.get("lastByte"), part.get("uploadUrl")
        if not isinstance(first, int) or not isinstance(last, int) or not isinstance(part_url, str):
            raise api._fail(MalformedResponse, f"LinkedIn sent an unreadable upload instruction while {what}")
        response = _put(api, part_url, _read(api, item, first, last - first + 1), f"{what} (part {n})", auth=False)
        etag = response.headers.get("etag")
        if not etag:
            raise api._fail(MalformedResponse, f"LinkedIn sent no ETag for part {n} while {what}")
        etags.append(etag)
    finalize = {
        "finalizeUploadRequest": {"video": urn, "uploadToken": value.get("uploadToken") or "", "uploadedPartIds": etags}
    }
    api.call("POST", api.host("api") + "/rest/videos?action=finalizeUpload", f"finishing {what}", json=finalize)
    return urn, lambda: wait_available(api, urn, item.path.name)


def video_status(api: LinkedInApi, urn: str, what: str) -> dict[str, Any]:
    return api.get_json(api.host("api") + f"/rest/videos/{restli(urn)}", what)


def wait_available(api: LinkedInApi, urn: str, name: str) -> None:
    """Poll GET /rest/videos/{urn} (on the account's request budget) until AVAILABLE."""
    what = f"waiting for LinkedIn to process {name}"
    deadline = api.ctx.clock() + VIDEO_WAIT_SECONDS
    delay = _FIRST_POLL
    while True:
        api.ctx.charge_request("video status")
        found = video_status(api, urn, what)
        status = found.get("status")
        if status == "AVAILABLE":
            return
        if status == "PROCESSING_FAILED":
            reason = found.get("processingFailureReason") or "no reason given"
            raise api._fail(PlatformRejected, f"LinkedIn could not process {name}: {reason}")
        if api.ctx.clock() + delay > deadline:
            raise api._fail(
                PlatformUnavailable,
                f"LinkedIn was still processing {name} after {VIDEO_WAIT_SECONDS / 60:g} minutes (status {status})",
                hint="`postcli post retry` goes on with the uploaded video; nothing was posted",
            )
        api.ctx.sleep(delay)
        delay = min(delay * 2, _MAX_POLL)
