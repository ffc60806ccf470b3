"""Every problem of every target, found before anything is sent.

A target's `Limits` (from its adapter, each with its source: docs/media.md,
docs/platforms/) are checked against the text and the media it would get; all
problems are reported in one error, each kind with its fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

from postcli.errors import InvalidInput
from postcli.platforms.base import MediaItem
from postcli.services import accounts as accounts_svc
from postcli.services.posts import fields as fields_svc
from postcli.services.posts import media_for as media_for_svc
from postcli.services.posts import thread as thread_svc

if TYPE_CHECKING:
    from postcli.store.models import Account, Post


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
    carousel = len(media) > 1
    video_bytes, video_seconds, in_what = limits.max_video_bytes, limits.max_video_seconds, ""
    if carousel and (limits.carousel_max_video_bytes or limits.carousel_max_video_seconds):
        video_bytes = limits.carousel_max_video_bytes or video_bytes
        video_seconds = limits.carousel_max_video_seconds or video_seconds
        in_what = " for a video in a carousel"
    for m in media:
        if m.mime_type not in limits.mime_types:
            problems.append(
                Problem(
                    f"{m.path.name} is {m.mime_type}, which it does not take ({', '.join(limits.mime_types)}).",
                    FIX_TYPE,
                )
            )
        cap = video_bytes if m.is_video else limits.max_image_bytes
        if m.mime_type == "image/gif" and limits.max_gif_bytes is not None:
            cap = limits.max_gif_bytes
        if cap is not None and m.size_bytes > cap:
            limit = f"the limit{in_what if m.is_video else ''} is {cap:,}"
            problems.append(Problem(f"{m.path.name} is {m.size_bytes:,} bytes, {limit}.", FIX_TOO_BIG))
        if limits.max_alt_text is not None and m.alt_text and len(m.alt_text) > limits.max_alt_text:
            problems.append(
                Problem(
                    f"alt text of {m.path.name} is {len(m.alt_text)} characters, the limit is {limits.max_alt_text}.",
                    FIX_ALT,
                )
            )
        if m.is_video and m.duration_s is not None:
            if video_seconds is not None and m.duration_s > video_seconds:
                problems.append(
                    Problem(
                        f"{m.path.name} is {_seconds(m.duration_s)} long, the limit{in_what} is {_seconds(video_seconds)}.",
                        FIX_DURATION,
                    )
                )
            if limits.min_video_seconds is not None and m.duration_s < limits.min_video_seconds:
                problems.append(
                    Problem(
                        f"{m.path.name} is {_seconds(m.duration_s)} long, the minimum is {_seconds(limits.min_video_seconds)}.",
                        FIX_DURATION,
                    )
                )
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


# --- text and targets -----------------------------------------------------------------


@dataclass
class TargetPlan:
    account: Account
    text: str
    text_override: str | None
    media: list[MediaItem] | None = None  # its own (--media-for); None: the post's media
    thread: thread_svc.Thread | None = None  # parts, --split, --first-comment (services/posts/thread.py)
    part_media: dict[int, list[MediaItem]] = field(default_factory=dict)  # --media-for-part
    texts: list[str] = field(default_factory=list)  # what it publishes, part by part (set by validate_targets)
    title: str | None = None
    fields: dict[str, Any] | None = None  # this platform's --field values as checked (no defaults)


def own_text(overrides: dict[str, str], account: Account) -> str | None:
    """The account's own text (account id, then handle, then platform), None when it has none."""
    for key in media_for_svc.account_keys(account):
        if key in overrides:
            return overrides[key]
    return None


def parse_text_for(values: Iterable[str]) -> dict[str, str]:
    """`--text-for PLATFORM=TEXT` (or ACCOUNT=TEXT) -> {key: text}."""
    out: dict[str, str] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(
                f"--text-for {value!r} is not PLATFORM=TEXT.", hint='Example: --text-for mastodon="Longer text"'
            )
        out[key.strip().lower().lstrip("@")] = text
    return out


FIX_EMPTY = "Write some text (or attach --media FILE)."
FIX_NEEDS_MEDIA = "Attach an image or video with --media FILE."
FIX_TOO_LONG = "Shorten the text, or give that platform its own with --text-for PLATFORM=TEXT."
FIX_SPLIT = (
    "Shorten the text, cut it into parts with --split, or give that platform its own with --text-for PLATFORM=TEXT."
)
FIX_JOINED = "Give {platform} its own text with --text-for {platform}=TEXT, or leave it out of --to."
FIX_COMMENT = "Leave out --first-comment (or shorten it), or leave the platforms that take none out of --to."
FIX_PART = "Number the parts from 1 up to the number of parts (--media-for-part N=FILE)."
FIX_FIELD = "Give the field with --field, or set the account's default (`accounts login` / `accounts add`)."
FIX_CHARS = "Remove those characters, or give that platform its own with --text-for PLATFORM=TEXT."
FIX_S3 = "Configure the S3 media store ([s3] in config.toml, see docs/media.md), or leave that account out of --to."
FIX_PREFLIGHT = (
    "Change what the platform refuses (--field PLATFORM.KEY=VALUE, the media), or leave that account out of --to."
)


def validate_targets(
    plans: list[TargetPlan],
    media: list[MediaItem],
    adapters: dict[int, Any] | None = None,
    *,
    preflight: bool = False,
) -> None:
    """Every problem of every target, in one error, before anything is sent. `adapters`: a cache
    by account id (a bulk import validates thousands of rows against the same few accounts).
    Sets each plan's `texts`: the parts it publishes.

    `preflight`: when nothing else is wrong, each adapter's checks that need the platform
    (AdapterBase.preflight: TikTok's creator_info) run too; drafts and bulk imports skip them."""
    problems: list[Problem] = []
    common = media
    checked = []
    for plan in plans:
        media = common if plan.media is None else plan.media
        account = plan.account
        if adapters is None:
            adapter = accounts_svc.adapter_for(account)
        else:
            adapter = adapters.get(account.id) or adapters.setdefault(account.id, accounts_svc.adapter_for(account))
        checked.append((plan, adapter, media))
        name = f"{account.platform} ({account.handle})"
        try:
            plan.texts = thread_svc.texts_for(adapter, plan.text, plan.text_override, plan.thread)
        except InvalidInput as exc:
            problems.append(Problem(f"{name}: {exc.message}", exc.hint or FIX_TOO_LONG))
            continue
        problems += _target_problems(plan, adapter, name, media)
    if preflight and not problems:
        problems = [p for plan, adapter, media in checked for p in _preflight(plan, adapter, media)]
    if problems:
        fixes = dict.fromkeys(p.fix for p in problems)
        raise InvalidInput("cannot publish: " + " ".join(problems), hint=" ".join(fixes) + " Nothing was sent.")


def _target_problems(plan: TargetPlan, adapter: Any, name: str, media: list[MediaItem]) -> list[Problem]:
    problems: list[Problem] = []
    account, limits, thread = plan.account, adapter.limits(), plan.thread
    parts = thread_svc.pieces(plan.texts, media, plan.part_media, adapter.threads)
    joined_parts = (
        len(thread.parts or ()) if thread is not None and not adapter.threads and plan.text_override is None else 0
    )
    extra = sorted(n for n in plan.part_media if n > len(parts)) if adapter.threads else []
    if extra:
        problems.append(
            Problem(
                f"{name}: --media-for-part {extra[0]} names a part it does not have (it has {len(parts)}).", FIX_PART
            )
        )
    for n, (text, files) in enumerate(parts, start=1):
        label = name if len(parts) == 1 else f"{name} part {n} of {len(parts)}"
        if not text.strip() and not files:
            problems.append(Problem(f"{label}: the text is empty.", FIX_EMPTY))
        if n == 1 and limits.requires_media and not files:
            problems.append(
                Problem(
                    f"{name}: {account.platform} posts need at least one image or video (--media FILE).",
                    FIX_NEEDS_MEDIA,
                )
            )
        length = adapter.text_length(text)
        if length > limits.max_text and joined_parts:
            problems.append(
                Problem(
                    f"{name}: {account.platform} has no threads, and the {joined_parts} parts joined are "
                    f"{length} {limits.count_unit}, over its limit of {limits.max_text}.",
                    FIX_JOINED.format(platform=account.platform),
                )
            )
        elif length > limits.max_text:
            problems.append(
                Problem(
                    f"{label}: text is {length} {limits.count_unit}, the limit is {limits.max_text}"
                    + (f" (each link counts {limits.url_weight})" if limits.url_weight else "")
                    + ".",
                    FIX_SPLIT if adapter.threads else FIX_TOO_LONG,
                )
            )
        bad = sorted({c for c in text if c in limits.forbidden_chars})
        if bad:
            problems.append(
                Problem(f"{label}: the text may not contain {' or '.join(repr(c) for c in bad)} there.", FIX_CHARS)
            )
        problems.extend(Problem(f"{label}: {p}", p.fix) for p in media_problems(limits, files))
        fetched = [m for m in files if ("video" if m.is_video else "image") in limits.public_media_kinds]
        if fetched and limits.needs_public_media_url and not _s3_configured():
            what = "media" if len(limits.public_media_kinds) > 1 else f"{limits.public_media_kinds[0]}s"
            problems.append(
                Problem(
                    f"{name}: {account.platform} fetches {what} from a public URL, so it needs the S3 media store"
                    " ([s3] in config.toml, see docs/media.md).",
                    FIX_S3,
                )
            )
    missing = fields_svc.account_problems(account.platform, account.settings, plan.fields)
    problems.extend(Problem(f"{name}: {p}", FIX_FIELD) for p in missing)
    return problems + _comment_problems(plan, adapter, name)


def _comment_problems(plan: TargetPlan, adapter: Any, name: str) -> list[Problem]:
    comment = plan.thread.first_comment if plan.thread is not None else None
    if comment is None:
        return []
    limits = adapter.limits()
    if not adapter.first_comment:
        return [Problem(f"{name}: {plan.account.platform} takes no first comment.", FIX_COMMENT)]
    if not comment.strip():
        return [Problem(f"{name}: the first comment is empty.", FIX_COMMENT)]
    length, most = adapter.text_length(comment), adapter.comment_limit()
    if length > most:
        return [
            Problem(f"{name}: the first comment is {length} {limits.count_unit}, the limit is {most}.", FIX_COMMENT)
        ]
    bad = sorted({c for c in comment if c in limits.forbidden_chars})
    if bad:
        return [Problem(f"{name}: the first comment may not contain {' or '.join(map(repr, bad))}.", FIX_CHARS)]
    return []


def _preflight(plan: TargetPlan, adapter: Any, media: list[MediaItem]) -> list[Problem]:
    from postcli.errors import PlatformError, PlatformRejected
    from postcli.platforms.base import PublishRequest
    from postcli.services.posts.fields import with_defaults

    account = plan.account
    req = PublishRequest(
        text=plan.texts[0] if plan.texts else plan.text,
        idempotency_key="",
        media=media,
        title=plan.title,
        fields=with_defaults(account.platform, plan.fields),
    )
    try:
        adapter.preflight(req)
    except PlatformRejected as exc:
        return [Problem(f"{account.platform} ({account.handle}): {exc.message}", exc.hint or FIX_PREFLIGHT)]
    except PlatformError:
        pass  # an outage or an expired token: publishing meets it and says so
    finally:
        accounts_svc.save_settings_if_changed(adapter.ctx)
    return []


def stored_plans(post: Post) -> tuple[list[TargetPlan], list[MediaItem]]:
    """The plans of a stored post's targets (but those of removed accounts) and its common media."""
    from postcli.services import media as media_svc

    thread = thread_svc.Thread.of(post.parts, post.split, post.first_comment)
    part_media = {n: [media_svc.media_info(m) for m in rows] for n, rows in thread_svc.part_rows(post.media).items()}
    plans = [
        TargetPlan(
            account=t.account,
            text=t.text_override if t.text_override is not None else post.text,
            text_override=t.text_override,
            media=[media_svc.media_info(m) for m in media_for_svc.rows_for(t.account, post.media)],
            thread=thread,
            part_media=part_media,
            title=post.title,
            fields=fields_svc.decode(t.fields),
        )
        for t in post.targets
        if t.account.removed_at is None  # refused when publishing, with its own message
    ]
    common = [media_svc.media_info(m) for m in post.media if m.override_for is None and m.part is None]
    return plans, common


def validate_stored(post: Post, *, preflight: bool = True) -> list[TargetPlan]:
    """Validate a stored post as `post create` validates a new one (no media download); the plans."""
    plans, common = stored_plans(post)
    validate_targets(plans, common, preflight=preflight)
    return plans


def _s3_configured() -> bool:
    from postcli.services import s3store

    return s3store.load_config() is not None
