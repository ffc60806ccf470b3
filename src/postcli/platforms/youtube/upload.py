"""A video upload that survives a dropped connection or a killed process without ever
sending the video twice: YouTube's resumable upload protocol
(developers.google.com/youtube/v3/guides/using_resumable_upload_protocol).

1. POST {upload}/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status with
   the video resource as JSON, X-Upload-Content-Length and X-Upload-Content-Type: the
   answer's Location is the session URI ("Step 1", "Step 2"). It is saved as the
   target's publish state (req.save_state) before the first byte is sent.
2. PUT the file to the session URI in chunks whose sizes are multiples of 256 KiB, each
   with Content-Range: bytes FIRST-LAST/TOTAL; 308 Resume Incomplete with
   Range: bytes=0-N says how much YouTube has; 200 or 201 ends it with the video
   resource ("Step 3", "Upload a video in chunks").
3. After a dropped connection or a 5xx, and on `post retry` after a killed process:
   PUT with no body and Content-Range: bytes */TOTAL asks how far it got (308 and Range,
   or 201 and the video), and the upload goes on from there ("Step 4", "Step 5").
4. 404 (or 410): the session has expired and the upload must start over ("Check the
   status..."). A video exists only once every byte arrived, so starting over is safe
   when the last chunk was never sent; when it was, the channel's newest uploads are
   searched for the video first.
"""

from __future__ import annotations

import os
import re
from typing import Any, Protocol

from postcli.platforms.base import (
    AccountContext,
    MalformedResponse,
    PlatformError,
    PlatformRejected,
    PlatformUnavailable,
    PublishRequest,
    PublishResult,
)
from postcli.platforms.youtube import rules

UPLOAD_PATH = "/upload/youtube/v3/videos"
UNIT = 256 * 1024  # chunk sizes are multiples of 256 KiB ("Upload a video in chunks")
DEFAULT_CHUNK_KIB = 8 * 1024
CHUNK_ENV = "POSTCLI_YOUTUBE_CHUNK_KIB"
MAX_RESUMES = 5  # dropped connections or 5xx answers one attempt goes on after
_RANGE = re.compile(r"\s*bytes=0-(\d+)\s*")


class Api(Protocol):
    """What the upload uses of the adapter (google_api.GoogleApi and the YouTube adapter)."""

    ctx: AccountContext

    def url(self, kind: str, path: str) -> str: ...
    def host_of(self, url: str) -> str: ...
    def authorized(self, method: str, url: str, what: str, **kwargs: Any) -> Any: ...
    def decode(self, response: Any) -> Any: ...
    def error(self, response: Any, body: Any, what: str) -> PlatformError: ...
    def fail(self, cls: type[PlatformError], message: str, **kw: Any) -> PlatformError: ...
    def result(self, video: dict[str, Any], req: PublishRequest) -> PublishResult: ...
    def published_video(self, video_id: str, req: PublishRequest) -> PublishResult: ...
    def find_in_recent_posts(self, req: PublishRequest) -> PublishResult | None: ...


class Expired(Exception):
    """The session URI answers 404/410: the session is gone."""


def chunk_size() -> int:
    """Bytes per PUT: POSTCLI_YOUTUBE_CHUNK_KIB (a multiple of 256) or 8 MiB. Smaller chunks
    lose less to a dropped connection; larger ones are faster."""
    raw = os.environ.get(CHUNK_ENV)
    if not raw:
        return DEFAULT_CHUNK_KIB * 1024
    try:
        kib = int(raw)
    except ValueError:
        kib = 0
    if kib <= 0 or kib % 256:
        raise PlatformRejected(
            f"{CHUNK_ENV}={raw!r} is not a positive multiple of 256; nothing was sent.",
            platform="youtube",
            hint=f"e.g. {CHUNK_ENV}=8192 (8 MiB), or unset it.",
        )
    return kib * 1024


def next_offset(range_header: str | None) -> int:
    """The first byte YouTube does not have, from a 308's Range header (none: nothing yet)."""
    if not range_header:
        return 0
    match = _RANGE.fullmatch(range_header)
    if match is None:
        raise ValueError(range_header)
    return int(match.group(1)) + 1


class ResumableUpload:
    """One target's upload; its progress lives in req.state so another process can go on."""

    def __init__(self, api: Api, req: PublishRequest) -> None:
        self.api = api
        self.req = req
        self.item = rules.the_video(req)
        self.mime = self.item.mime_type
        self.resumes = 0

    @property
    def state(self) -> dict[str, Any]:
        return self.req.state

    def _save(self, **changes: Any) -> None:
        self.req.state = {**self.req.state, **changes}
        self.req.save_state(dict(self.req.state))

    def _forget(self) -> None:
        self.req.state = {}
        self.req.save_state({})

    def _size(self) -> int:
        try:
            return self.item.path.stat().st_size
        except OSError as exc:
            raise PlatformError(
                f"cannot read {self.item.path.name}: {exc.strerror or exc}", platform="youtube"
            ) from None

    # -- the steps ----------------------------------------------------------------------

    def run(self) -> PublishResult:
        size = self._size()
        chunk = chunk_size()
        if self.state.get("video_id"):
            return self.api.published_video(str(self.state["video_id"]), self.req)
        session = self.state.get("session_uri")
        if session and self.state.get("size") != size:
            self._forget()  # not this file's session (the stored file cannot change; be safe)
            session = None
        started_over = False
        while True:
            try:
                if not session:
                    session = self._start(size)
                    offset = 0
                else:
                    done, offset = self.status()
                    if done is not None:
                        return done
                return self._send(str(session), offset, size, chunk)
            except Expired:
                found = self.created_anyway()
                if found is not None:
                    return found
                if started_over:
                    raise self.api.fail(
                        PlatformUnavailable,
                        "the upload session expired twice in one attempt; nothing was published",
                    ) from None
                started_over = True
                self._forget()
                session = None

    def _start(self, size: int) -> str:
        """Step 1: a new session, saved before any byte of the video is sent."""
        what = "starting the video upload"
        url = self.api.url("upload", UPLOAD_PATH)
        response = self.api.authorized(
            "POST",
            url,
            what,
            params={"uploadType": "resumable", "part": "snippet,status"},
            json=rules.metadata(self.req),
            headers={"X-Upload-Content-Length": str(size), "X-Upload-Content-Type": self.mime},
        )
        if response.status_code != 200:
            raise self.api.error(response, self.api.decode(response), what)
        location = response.headers.get("Location")
        if not location:
            raise self.api.fail(MalformedResponse, f"{self.api.host_of(url)} started no upload session (no Location)")
        self._save(session_uri=location, size=size, final_sent=False)
        return str(location)

    def status(self) -> tuple[PublishResult | None, int]:
        """Step 4: (the video, when the upload is complete; else None, the next byte to send)."""
        return self._answer(self._ask(), "asking YouTube how much of the video it has")

    def _answer(self, response: Any, what: str) -> tuple[PublishResult | None, int]:
        code = response.status_code
        if code in (200, 201):
            return self._finished(response, what), int(self.state.get("size") or 0)
        if code == 308:
            try:
                return None, next_offset(response.headers.get("Range"))
            except ValueError:
                raise self.api.fail(
                    MalformedResponse, f"YouTube sent a Range postcli cannot read while {what}"
                ) from None
        if code in (404, 410):
            raise Expired()
        raise self.api.error(response, self.api.decode(response), what)

    def _finished(self, response: Any, what: str) -> PublishResult:
        body = self.api.decode(response)
        video_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(video_id, str) or not video_id:
            raise self.api.fail(MalformedResponse, f"YouTube finished the upload without a video id while {what}")
        self._save(video_id=video_id)
        return self.api.result(body, self.req)

    def _send(self, session: str, offset: int, size: int, chunk: int) -> PublishResult:
        """Steps 2, 3 and 5: the rest of the file from `offset`, a chunk per PUT."""
        with open(self.item.path, "rb") as handle:
            while True:
                if offset >= size:
                    raise self.api.fail(MalformedResponse, "YouTube has every byte of the video but did not finish it")
                last = min(offset + chunk, size) - 1
                what = f"uploading bytes {offset}-{last} of {size}"
                if last == size - 1 and not self.state.get("final_sent"):
                    # From here on a video may exist even if no answer comes back.
                    self._save(final_sent=True)
                handle.seek(offset)
                data = handle.read(last - offset + 1)
                headers = {"Content-Type": self.mime, "Content-Range": f"bytes {offset}-{last}/{size}"}
                try:
                    response = self.api.authorized("PUT", session, what, content=data, headers=headers)
                except PlatformUnavailable:
                    response = None  # the connection dropped: how much arrived is YouTube's to say
                if response is None or response.status_code >= 500:
                    done, offset = self._recover(response)
                else:
                    done, offset = self._answer(response, what)
                if done is not None:
                    return done

    def _recover(self, failed: Any) -> tuple[PublishResult | None, int]:
        """After a dropped connection (`failed` None) or a 5xx: ask how far the upload got,
        pausing before each question after a 5xx and asking again while the question meets
        the same; past MAX_RESUMES the attempt ends (the session stays saved: `post retry`
        goes on from there)."""
        what = "asking YouTube how much of the video it has"
        while True:
            self.resumes += 1
            if self.resumes > MAX_RESUMES:
                raise self.api.fail(
                    PlatformUnavailable,
                    f"the upload was interrupted {MAX_RESUMES} times; what YouTube has is kept",
                    hint="`postcli post retry` goes on from where it stopped",
                )
            if failed is not None:
                self.api.ctx.sleep(min(2.0 ** (self.resumes - 1), 30.0))  # exponential backoff for a 5xx
            try:
                response = self._ask()
            except PlatformUnavailable:
                failed = None
                continue
            if response.status_code >= 500:
                failed = response
                continue
            return self._answer(response, what)

    def _ask(self) -> Any:
        size = int(self.state.get("size") or self._size())
        return self.api.authorized(
            "PUT",
            str(self.state["session_uri"]),
            "asking YouTube how much of the video it has",
            content=b"",
            headers={"Content-Range": f"bytes */{size}"},
        )

    def created_anyway(self) -> PublishResult | None:
        """After an expired session: the video, if the last chunk went out and YouTube made it."""
        if not self.state.get("final_sent"):
            return None  # no video exists before its last byte arrives
        found = self.api.find_in_recent_posts(self.req)
        if found is not None:
            self._save(video_id=found.platform_post_id)
        return found
