"""What a TikTok post may be, checked before anything is sent.

Two kinds of checks: what TikTok documents for every post (lengths, counts, types; the
Direct Post, Photo Post and Media Transfer references on developers.tiktok.com), and
what the creator may do now, from creator_info/query (which privacy levels, whether
comments, duets and stitches can be on, the longest video): TikTok's Direct Post
guidelines require an app to follow that answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from postcli.platforms.base import MediaItem, PublishRequest
from postcli.platforms.tiktok.spec import DEFAULT_PRIVACY
from postcli.platforms.values import int_or_none

# Direct Post: post_info.title (the caption) up to 2200 UTF-16 runes. Photo Post: title up to
# 90, description up to 4000; up to 35 photos of JPEG/WebP, 20 MB each.
CAPTION_MAX = 2200
PHOTO_TITLE_MAX = 90
DESCRIPTION_MAX = 4000
MAX_PHOTOS = 35
MAX_PHOTO_BYTES = 20_000_000
PHOTO_TYPES = ("image/jpeg", "image/webp")
# Media Transfer Guide, video restrictions: MP4 (recommended), WebM, MOV; up to 4 GB; up to
# 10 minutes (creator_info says how long this creator may post); 360-4096 px a side.
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")
MAX_VIDEO_BYTES = 4_000_000_000
MAX_VIDEO_SECONDS = 600.0
MIN_SIDE, MAX_SIDE = 360, 4096

VIDEO_ONLY = ("disable_duet", "disable_stitch", "cover_ms")
PHOTO_ONLY = ("photo_cover", "auto_add_music")
# --field name -> (creator_info flag, post_info key)
SWITCHES = {
    "disable_comment": ("comment_disabled", "disable_comment"),
    "disable_duet": ("duet_disabled", "disable_duet"),
    "disable_stitch": ("stitch_disabled", "disable_stitch"),
}


def utf16_length(text: str) -> int:
    """TikTok counts "UTF-16 runes": an emoji outside the BMP is two."""
    return len(text.encode("utf-16-le")) // 2


def is_video_post(req: PublishRequest) -> bool:
    return any(m.is_video for m in req.media)


def local_problems(req: PublishRequest) -> list[str]:
    """What TikTok documents for every post, checked without asking it."""
    fields = req.fields
    problems: list[str] = []
    videos = [m for m in req.media if m.is_video]
    photos = [m for m in req.media if not m.is_video]
    if not req.media:
        problems.append("a TikTok post needs a video or photos (--media FILE).")
    if videos and photos:
        problems.append("a TikTok post is a video or photos, not both.")
    if len(videos) > 1:
        problems.append("a TikTok post takes one video.")
    if videos:
        if utf16_length(req.text) > CAPTION_MAX:
            problems.append(f"the caption is {utf16_length(req.text)} UTF-16 units; TikTok takes {CAPTION_MAX}.")
        problems += [f"--field tiktok.{k} is for photo posts; this is a video." for k in PHOTO_ONLY if k in fields]
        problems += _video_problems(videos[0])
    elif photos:
        if utf16_length(req.text) > DESCRIPTION_MAX:
            problems.append(f"the text is {utf16_length(req.text)} UTF-16 units; TikTok takes {DESCRIPTION_MAX}.")
        if req.title and utf16_length(req.title) > PHOTO_TITLE_MAX:
            problems.append(f"the title is over {PHOTO_TITLE_MAX} UTF-16 units.")
        if len(photos) > MAX_PHOTOS:
            problems.append(f"{len(photos)} photos; TikTok takes {MAX_PHOTOS}.")
        problems += [f"--field tiktok.{k} is for videos; this is a photo post." for k in VIDEO_ONLY if k in fields]
        cover = fields.get("photo_cover")
        if cover is not None and cover > len(photos):
            problems.append(f"--field tiktok.photo_cover={cover}, but the post has {len(photos)} photos.")
    if fields.get("brand_content") and fields.get("privacy", DEFAULT_PRIVACY) == "SELF_ONLY":
        problems.append("branded content (tiktok.brand_content) cannot be private (SELF_ONLY): TikTok refuses it.")
    return problems


def _video_problems(video: MediaItem) -> list[str]:
    sides = [s for s in (video.width, video.height) if s]
    if sides and (min(sides) < MIN_SIDE or max(sides) > MAX_SIDE):
        return [f"{video.path.name} is {video.width}x{video.height}; TikTok takes {MIN_SIDE}-{MAX_SIDE} px a side."]
    return []


@dataclass(frozen=True)
class Creator:
    """creator_info/query's answer: what this account may post now."""

    username: str | None
    nickname: str | None
    privacy_levels: tuple[str, ...]
    disabled: dict[str, bool]  # comment_disabled, duet_disabled, stitch_disabled
    max_seconds: int | None

    @classmethod
    def of(cls, data: dict[str, Any]) -> Creator:
        levels = data.get("privacy_level_options")
        return cls(
            username=data.get("creator_username") if isinstance(data.get("creator_username"), str) else None,
            nickname=data.get("creator_nickname") if isinstance(data.get("creator_nickname"), str) else None,
            privacy_levels=tuple(str(x) for x in levels) if isinstance(levels, list) else (),
            disabled={k: data.get(k) is True for k in ("comment_disabled", "duet_disabled", "stitch_disabled")},
            max_seconds=int_or_none(data.get("max_video_post_duration_sec")),
        )


def creator_problems(req: PublishRequest, creator: Creator) -> list[str]:
    """What creator_info forbids this account now."""
    fields = req.fields
    problems: list[str] = []
    privacy = fields.get("privacy", DEFAULT_PRIVACY)
    if creator.privacy_levels and privacy not in creator.privacy_levels:
        problems.append(
            f"this account may post as {', '.join(creator.privacy_levels)} only (TikTok's creator_info), "
            f"not {privacy}: use --field tiktok.privacy={creator.privacy_levels[-1]}."
        )
    video = next((m for m in req.media if m.is_video), None)
    if video is not None and video.duration_s is not None and creator.max_seconds:
        if video.duration_s > creator.max_seconds:
            problems.append(
                f"{video.path.name} lasts {video.duration_s:g} s; this account may post videos of up to "
                f"{creator.max_seconds} s (TikTok's creator_info)."
            )
    for name, (flag, _key) in SWITCHES.items():
        if name in VIDEO_ONLY and video is None:
            continue
        if creator.disabled.get(flag) and fields.get(name) is False:
            what = name.removeprefix("disable_")
            problems.append(
                f"the account has turned {what}s off in its TikTok settings, so --field tiktok.{name}=false "
                "cannot turn them on."
            )
    return problems


def interactions(req: PublishRequest, creator: Creator, *, video: bool) -> dict[str, bool]:
    """post_info's disable_* switches: what was asked, else what the creator's settings say."""
    out = {}
    for name, (flag, key) in SWITCHES.items():
        if name in VIDEO_ONLY and not video:
            continue
        asked = req.fields.get(name)
        out[key] = bool(asked) if asked is not None else creator.disabled.get(flag, False)
    return out
