"""A post's media as a Bluesky embed: up to 4 images or 1 video, uploaded as blobs to the PDS."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from postcli.platforms.base import MalformedResponse, MediaItem, PlatformRejected
from postcli.platforms.bluesky.values import PLATFORM, content

if TYPE_CHECKING:  # pragma: no cover
    from atproto_client import Client


def read_media(item: MediaItem) -> tuple[MediaItem, bytes]:
    try:
        return item, item.path.read_bytes()
    except OSError as exc:
        # A PlatformError so the publishing service fails just this target, not the command.
        raise PlatformRejected(
            f"cannot read media file {item.path}: {exc.strerror or exc}.", platform=PLATFORM
        ) from None


def build_embed(client: Client, media: list[tuple[MediaItem, bytes]]) -> Any:
    from atproto_client import models

    if not media:
        return None
    videos = [m for m in media if m[0].is_video]
    images = [m for m in media if not m[0].is_video]
    if videos and images or len(videos) > 1 or len(images) > 4:
        raise PlatformRejected("a Bluesky post takes up to 4 images or 1 video, not both.", platform=PLATFORM)

    def aspect(item: MediaItem) -> Any:
        if item.width and item.height:
            return models.AppBskyEmbedDefs.AspectRatio(width=item.width, height=item.height)
        return None

    def upload(item: MediaItem, data: bytes) -> Any:
        from atproto_client.models.blob_ref import BlobRef

        # Raw bytes go as `content=` (the SDK's upload_blob passes httpx the deprecated `data=`),
        # with the real MIME type: the PDS records it in the blob ref.
        response = client.invoke_procedure(
            "com.atproto.repo.uploadBlob",
            content=data,
            headers={"Content-Type": item.mime_type},
            output_encoding="application/json",
        )
        blob = content(response).get("blob")
        if not isinstance(blob, dict):
            raise MalformedResponse("uploadBlob answered without a blob.", platform=PLATFORM)
        return BlobRef.model_validate(blob)

    if videos:
        item, data = videos[0]
        # The "simple" upload of docs.bsky.app: the blob goes to the PDS and the
        # video service transcodes it once the post is on the firehose.
        return models.AppBskyEmbedVideo.Main(
            video=upload(item, data), alt=item.alt_text or None, aspect_ratio=aspect(item)
        )
    return models.AppBskyEmbedImages.Main(
        images=[
            models.AppBskyEmbedImages.Image(
                alt=item.alt_text or "", image=upload(item, data), aspect_ratio=aspect(item)
            )
            for item, data in images
        ]
    )
