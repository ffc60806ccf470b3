"""What a target's `Limits` say about the media it would get: one message per problem.

Checked before anything is sent (publishing.validate_targets); the limits come
from the adapters, each with its source (docs/media.md, docs/platforms/).
"""

from __future__ import annotations

from typing import Any

from postcli.platforms.base import MediaItem


class Problem(str):
    """A validation problem, carrying the fix for it (one hint per kind of problem)."""

    fix: str

    def __new__(cls, text: str, fix: str) -> Problem:
        obj = super().__new__(cls, text)
        obj.fix = fix
        return obj


_OWN = ", or give that platform its own with --media-for PLATFORM=FILE"
FIX_TYPE = "Convert the file to one of the listed types" + _OWN + "."
FIX_TOO_BIG = "Make the file smaller (resize or compress it)" + _OWN + "."
FIX_ALT = "Shorten the alt text (--alt, --alt-for)."
FIX_COUNT = "Attach fewer files, or spread them over several posts."
FIX_MIXED = "Post the images and the video separately."
FIX_DURATION = "Trim the video to the platform's length limits" + _OWN + "."


def media_problems(limits: Any, media: list[MediaItem]) -> list[Problem]:
    problems: list[Problem] = []
    images = [m for m in media if not m.is_video]
    videos = [m for m in media if m.is_video]
    for m in media:
        if m.mime_type not in limits.mime_types:
            problems.append(Problem(
                f"{m.path.name} is {m.mime_type}, which it does not take ({', '.join(limits.mime_types)}).", FIX_TYPE
            ))
        cap = limits.max_video_bytes if m.is_video else limits.max_image_bytes
        if cap is not None and m.size_bytes > cap:
            problems.append(Problem(f"{m.path.name} is {m.size_bytes:,} bytes, the limit is {cap:,}.", FIX_TOO_BIG))
        if limits.max_alt_text is not None and m.alt_text and len(m.alt_text) > limits.max_alt_text:
            problems.append(Problem(
                f"alt text of {m.path.name} is {len(m.alt_text)} characters, the limit is {limits.max_alt_text}.",
                FIX_ALT,
            ))
        if m.is_video and m.duration_s is not None:
            if limits.max_video_seconds is not None and m.duration_s > limits.max_video_seconds:
                problems.append(Problem(
                    f"{m.path.name} is {_seconds(m.duration_s)} long, the limit is {_seconds(limits.max_video_seconds)}.",
                    FIX_DURATION,
                ))
            if limits.min_video_seconds is not None and m.duration_s < limits.min_video_seconds:
                problems.append(Problem(
                    f"{m.path.name} is {_seconds(m.duration_s)} long, the minimum is {_seconds(limits.min_video_seconds)}.",
                    FIX_DURATION,
                ))
    if len(images) > limits.max_images:
        problems.append(Problem(f"{len(images)} images, the limit is {limits.max_images}.", FIX_COUNT))
    if len(videos) > limits.max_videos:
        problems.append(Problem(f"{len(videos)} videos, the limit is {limits.max_videos}.", FIX_COUNT))
    if limits.max_items is not None and len(media) > limits.max_items:
        problems.append(Problem(f"{len(media)} media files, the limit is {limits.max_items}.", FIX_COUNT))
    if images and videos and not limits.images_and_video:
        problems.append(Problem("images and a video cannot be mixed in one post.", FIX_MIXED))
    return problems


def _seconds(value: float) -> str:
    """301.5 -> "5 min 1.5 s"; 3 -> "3 s"."""
    minutes, secs = divmod(round(value, 2), 60)
    text = f"{secs:g} s" if secs or not minutes else ""
    return (f"{int(minutes)} min " + text).strip() if minutes else text
