"""What Instagram accepts in one post (Content publishing guide, IG User /media reference),
checked before anything is sent."""

from __future__ import annotations

import re

from postcli.platforms.base import MediaItem, PublishRequest

# Content publishing guide and IG User /media reference.
MAX_CAPTION = 2200
MAX_HASHTAGS = 30
MAX_MENTIONS = 20
MAX_CAROUSEL_ITEMS = 10
MAX_ALT_TEXT = 1000
MAX_IMAGE_BYTES = 8_000_000  # "8 MB"; the error text says MiB, the smaller bound is safe
MAX_VIDEO_BYTES = 300 * 1024 * 1024  # Reels: 300 MB
# IG User Media reference, Reel specifications: "Duration: 15 mins max, 3 seconds min".
MIN_VIDEO_SECONDS, MAX_VIDEO_SECONDS = 3, 15 * 60
# A carousel item is a VIDEO container, not a Reel ("reels are not supported" in carousels), held
# to the video specifications: "Duration: 60 seconds maximum, 3 seconds minimum", "File size:
# 100MB maximum" (IG User Media reference; docs/platforms/instagram.md says where the page puts them).
CAROUSEL_MAX_VIDEO_BYTES = 100 * 1024 * 1024
CAROUSEL_MAX_VIDEO_SECONDS = 60
IMAGE_TYPES = ("image/jpeg",)
VIDEO_TYPES = ("video/mp4", "video/quicktime")
MIN_ASPECT, MAX_ASPECT = 4 / 5, 1.91  # images outside 4:5 .. 1.91:1 are refused, not cropped

_HASHTAG = re.compile(r"(?<![\w&#])#\w+")
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_.]+")


def content_problems(req: PublishRequest) -> list[str]:
    """Why Instagram would refuse `req`, in words; empty when it is fine. Nothing is sent."""
    problems: list[str] = []
    if not req.media:
        problems.append(
            "Instagram cannot publish a post without an image or a video (text-only posts do "
            "not exist there); add a JPEG image or an MP4/MOV video."
        )
    length = len(req.text)
    if length > MAX_CAPTION:
        problems.append(f"the caption is {length} characters, Instagram allows {MAX_CAPTION:,}.")
    hashtags = len(_HASHTAG.findall(req.text))
    if hashtags > MAX_HASHTAGS:
        problems.append(f"the caption has {hashtags} hashtags, Instagram allows {MAX_HASHTAGS}.")
    mentions = len(_MENTION.findall(req.text))
    if mentions > MAX_MENTIONS:
        problems.append(f"the caption has {mentions} @mentions, Instagram allows {MAX_MENTIONS}.")
    if len(req.media) > MAX_CAROUSEL_ITEMS:
        problems.append(f"{len(req.media)} media files, an Instagram carousel holds at most {MAX_CAROUSEL_ITEMS}.")
    for item in req.media:
        problems.extend(item_problems(item, in_carousel=len(req.media) > 1))
    return problems


def item_problems(item: MediaItem, *, in_carousel: bool = False) -> list[str]:
    name = item.path.name
    problems = []
    if item.is_video:
        cap, longest = MAX_VIDEO_BYTES, MAX_VIDEO_SECONDS
        what = "a Reel"
        if in_carousel:
            cap, longest, what = CAROUSEL_MAX_VIDEO_BYTES, CAROUSEL_MAX_VIDEO_SECONDS, "a video in a carousel"
        if item.mime_type not in VIDEO_TYPES:
            problems.append(f"{name} is {item.mime_type}; Instagram takes MP4 or MOV videos.")
        elif item.size_bytes > cap:
            problems.append(f"{name} is {item.size_bytes:,} bytes, Instagram takes {what} up to {cap:,}.")
        if item.duration_s is not None and not MIN_VIDEO_SECONDS <= item.duration_s <= longest:
            problems.append(
                f"{name} lasts {item.duration_s:g} s, Instagram takes {what} of {MIN_VIDEO_SECONDS} to {longest:g} s."
            )
    elif item.mime_type not in IMAGE_TYPES:
        problems.append(f"{name} is {item.mime_type}; Instagram only takes JPEG images (convert it to JPEG).")
    else:
        if item.size_bytes > MAX_IMAGE_BYTES:
            problems.append(f"{name} is {item.size_bytes:,} bytes, Instagram takes images up to {MAX_IMAGE_BYTES:,}.")
        if item.width and item.height:
            ratio = item.width / item.height
            if not MIN_ASPECT - 1e-3 <= ratio <= MAX_ASPECT + 1e-3:
                problems.append(
                    f"{name} is {item.width}x{item.height}; Instagram takes images between 4:5 "
                    "(portrait) and 1.91:1 (landscape)."
                )
        if item.alt_text and len(item.alt_text) > MAX_ALT_TEXT:
            problems.append(
                f"the alt text of {name} is {len(item.alt_text)} characters, Instagram allows {MAX_ALT_TEXT}."
            )
    if not item.public_url:
        problems.append(
            f"{name} has no public URL: Instagram fetches media itself, so publishing needs the "
            "S3 media store ([s3] in config.toml)."
        )
    return problems
