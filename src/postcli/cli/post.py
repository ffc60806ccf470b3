"""`postcli post ...`: compose, schedule, publish, list and delete posts."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional

import typer

from postcli.cli import completion
from postcli.cli import post_thread as th
from postcli.cli._options import (
    JsonOpt,
    TzOpt,
    id_value,
    path_value,
    read_time,
    ref_value,
    text_value,
)
from postcli.cli.post_outcome import _exit_for, _render_outcome, _warn_rate_limited  # noqa: F401 - used below and by toplevel
from postcli.errors import InvalidInput

app = typer.Typer(help="Compose, schedule, publish, list and delete posts.", no_args_is_help=True)

MEDIA_FOR_HELP = (
    "An image or video for one platform (or account) instead of --media: its targets get these files,"
    " the others the --media ones. Repeatable."
)
ALT_FOR_HELP = "Alt text for the --media-for file of that platform in the same position. Repeatable."


def _media_pairs(media: list[Path], alt: list[str]) -> list[tuple[Path, str | None]]:
    if len(alt) > len(media):
        raise InvalidInput(
            f"{len(alt)} --alt given for {len(media)} --media.", hint="Give one --alt per --media, in order."
        )
    return [(m, alt[i] if i < len(alt) else None) for i, m in enumerate(media)]


@app.command("create")
def create(
    texts: List[str] = typer.Argument(
        None,
        metavar="TEXT...",
        help="The post text; several are the parts of a thread, in order. Use - to read one text from standard input.",
    ),
    to: List[str] = typer.Option(
        ...,
        "--to",
        metavar="ACCOUNT",
        parser=ref_value,
        autocompletion=completion.targets,
        help="Account id, handle, platform name (when you have one account there), or 'all'. Repeatable.",
    ),
    media: List[Path] = typer.Option(
        [], "--media", metavar="FILE", parser=path_value, help="An image or video to attach. Repeatable."
    ),
    alt: List[str] = typer.Option(
        [], "--alt", metavar="TEXT", help="Alt text for the --media in the same position. Repeatable."
    ),
    text_for: List[str] = typer.Option(
        [],
        "--text-for",
        metavar="PLATFORM=TEXT",
        parser=text_value,
        help="Different text for one platform (or account). Repeatable.",
    ),
    at: Optional[str] = typer.Option(
        None, "--at", metavar="WHEN", parser=text_value, help='Schedule: "2026-12-01 09:00", "tomorrow 9:00", "+2h".'
    ),
    tz: TzOpt = None,
    media_for: List[str] = typer.Option(
        [], "--media-for", metavar="PLATFORM=FILE", parser=text_value, help=MEDIA_FOR_HELP
    ),
    alt_for: List[str] = typer.Option([], "--alt-for", metavar="PLATFORM=TEXT", help=ALT_FOR_HELP),
    title: Optional[str] = typer.Option(
        None,
        "--title",
        metavar="TEXT",
        parser=text_value,
        help="A title, where the platform has one (YouTube, Reddit...).",
    ),
    link: Optional[str] = typer.Option(
        None,
        "--link",
        metavar="URL",
        parser=text_value,
        help="A link, where the platform takes one apart from the text.",
    ),
    field: List[str] = typer.Option(
        [],
        "--field",
        metavar="PLATFORM.KEY=VALUE",
        parser=text_value,
        help="A per-platform field, e.g. youtube.privacy=unlisted (`postcli platforms NAME` lists them). Repeatable.",
    ),
    queue: bool = typer.Option(False, "--queue", help="Schedule into the next slot free in every target's queue."),
    queue_each: bool = typer.Option(
        False, "--queue-each", help="Each target takes its own next free slot (one post per target)."
    ),
    draft: bool = typer.Option(False, "--draft", help="Save as a draft; publish later with `post publish`."),
    correlation_id: Optional[str] = typer.Option(
        None,
        "--correlation-id",
        metavar="KEY",
        parser=text_value,
        help="Your id for this post: repeating the command returns the same post.",
    ),
    from_file: Optional[str] = typer.Option(
        None, "--from-file", metavar="FILE", parser=text_value, help=th.FROM_FILE_HELP
    ),
    split: bool = typer.Option(False, "--split", help=th.SPLIT_HELP),
    numbered: bool = typer.Option(False, "--numbered", help=th.NUMBERED_HELP),
    first_comment: Optional[str] = typer.Option(None, "--first-comment", metavar="TEXT", help=th.FIRST_COMMENT_HELP),
    media_for_part: List[str] = typer.Option(
        [], "--media-for-part", metavar="N=FILE", parser=text_value, help=th.MEDIA_FOR_PART_HELP
    ),
    alt_for_part: List[str] = typer.Option([], "--alt-for-part", metavar="N=TEXT", help=th.ALT_FOR_PART_HELP),
    as_json: JsonOpt = False,
) -> None:
    """Create a post and publish it now (default), at a time (--at), or keep it as a draft.

    Several TEXT (or --from-file, or --split) make a thread: a reply chain where the platform
    has threads, the parts joined by a blank line where it has none. Every target is
    validated before anything is sent. Exit 7 when some targets (or parts) published and
    some failed; retry those with `postcli post retry ID`, which goes on where it stopped.
    """
    from postcli import output, settings
    from postcli.services.posts import compose, publish, queries, views
    from postcli.services.posts.fields import parse as parse_fields
    from postcli.services.posts.media_for import parse as parse_media_for
    from postcli.services.posts.validation import parse_text_for

    thread = th.read(texts or [], from_file, split, numbered, media_for_part, alt_for_part)
    text = thread.text
    extra: dict[str, Any] = dict(
        parts=thread.parts, split=thread.split, first_comment=first_comment, media_for_part=thread.media_for_part
    )
    tz_name = settings.time_zone(tz)
    when = read_time(at, tz, option="--at") if at else None
    if queue or queue_each:
        from postcli.cli.post_queue import create_queued

        create_queued(
            text, to, each=queue_each, at=at, draft=draft, correlation_id=correlation_id, as_json=as_json,
            text_for=parse_text_for(text_for), media=_media_pairs(media, alt),
            media_for=parse_media_for(media_for, alt_for), tz=tz_name, title=title, link=link, fields=parse_fields(field),
            **extra,
        )  # fmt: skip
        return
    created = compose.create_post(
        text,
        to,
        text_for=parse_text_for(text_for),
        media=_media_pairs(media, alt),
        media_for=parse_media_for(media_for, alt_for),
        at=when,
        tz=tz_name,
        draft=draft,
        correlation_id=correlation_id,
        title=title,
        link=link,
        fields=parse_fields(field),
        **extra,
    )
    for w in created.warnings:
        output.warn(w)
    post = created.post
    # --json has one shape (docs/json.md) for drafts, scheduled and published posts, new or
    # repeated; "created" is false when an earlier identical post was returned.
    if not created.created:
        if as_json:
            output.print_json(views.created_dict(post, False))
        else:
            output.line(
                f"Post {post['id']} already exists for this content ({post['status']}); nothing new was created."
            )
        return
    if post["status"] == "pending":
        outcome = publish.publish_post(post["id"], allowed=("pending",))
        if as_json:
            output.print_json(views.created_dict(queries.show_post(post["id"]), True, outcome))
        else:
            _render_outcome(outcome, as_json)
        _exit_for(outcome)
        return
    if as_json:
        output.print_json(views.created_dict(post, True))
    elif post["status"] == "draft":
        output.line(f"Saved draft {post['id']}. Publish it with `postcli post publish {post['id']}`.")
    else:
        output.line(
            f"Scheduled post {post['id']} for {output.fmt_time(post['scheduled_at'], post['timezone'])}"
            f" ({post['timezone']}). Make sure cron runs `postcli publish-due`."
        )


def _register_views() -> None:
    from postcli.cli.post_retry import retry
    from postcli.cli.post_views import list_, show

    app.command("list")(list_)
    app.command("show")(show)
    app.command("retry")(retry)
    from postcli.cli.post_import_file import import_file

    app.command("import-file")(import_file)


_register_views()


@app.command("publish")
def publish(
    post_id: str = typer.Argument(
        ...,
        metavar="ID",
        parser=id_value,
        autocompletion=completion.posts,
        help="The post id (a draft or scheduled post).",
    ),
    as_json: JsonOpt = False,
) -> None:
    """Publish a draft or scheduled post now."""
    from postcli.services.posts.publish import publish_now

    outcome = publish_now(post_id)
    _render_outcome(outcome, as_json)
    _exit_for(outcome)


@app.command("delete")
def delete(
    post_id: str = typer.Argument(
        ..., metavar="ID", parser=id_value, autocompletion=completion.posts, help="The post id."
    ),
    remote: bool = typer.Option(False, "--remote", help="Also delete it on the platforms it was published to."),
    as_json: JsonOpt = False,
) -> None:
    """Delete a post from the store (and with --remote, from the platforms)."""
    from postcli import output
    from postcli.services.posts.delete import delete_post
    from postcli.services.posts.views import delete_dict

    report = delete_post(post_id, remote=remote)
    if as_json:
        output.print_json(delete_dict(report))
    else:
        for t in report.remote:
            output.line(f"{t.platform} ({t.handle}): {t.status}" + (f" - {t.error}" if t.error else ""))
        if report.removed_local:
            output.line(f"Deleted post {report.post_id}.")
        else:
            output.line(f"Kept post {report.post_id} in the store because a remote delete failed; try again.")
    if report.exit_code:
        raise typer.Exit(report.exit_code)


@app.command("import")
def import_(
    ref: str = typer.Argument(
        ..., metavar="URL", parser=text_value, help="A bsky.app link, an at:// URI, or a Mastodon status URL or id."
    ),
    account: Optional[str] = typer.Option(
        None,
        "--account",
        metavar="ACCOUNT",
        parser=ref_value,
        autocompletion=completion.accounts,
        help="The account it belongs to (id or handle).",
    ),
    as_json: JsonOpt = False,
) -> None:
    """Track a post made outside postcli, so it is collected and reported like any other."""
    from postcli import output
    from postcli.services.importing import import_post

    post, created = import_post(ref, account=account)
    if as_json:
        output.print_json({**post, "created": created})
        return
    verb = "Imported" if created else "Already tracked as"
    target = post["targets"][0]
    output.line(f"{verb} post {post['id']} ({target['url'] or target['platform_post_id']}).")
    from datetime import datetime, timedelta, timezone

    from postcli import settings

    days = settings.config().collect_days
    published = post["published_at"]
    if published is not None and published < datetime.now(timezone.utc) - timedelta(days=days):
        # `collect` only snapshots the last N days; say so rather than leave the user waiting.
        output.line(
            f"It was published more than {days} days ago, so `postcli collect` skips it; "
            f"`postcli analytics refresh {post['id']}` fetches it on demand."
        )


def _show_post(post: dict[str, Any], as_json: bool, message: str) -> None:
    from postcli import output

    if as_json:
        output.print_json(post)
    else:
        output.line(message)


@app.command("edit")
def edit(
    post_id: str = typer.Argument(
        ..., metavar="ID", parser=id_value, autocompletion=completion.posts, help="A draft or scheduled post."
    ),
    text: Optional[str] = typer.Option(None, "--text", metavar="TEXT", help="New text."),
    to: List[str] = typer.Option(
        [],
        "--to",
        metavar="ACCOUNT",
        parser=ref_value,
        autocompletion=completion.targets,
        help="Replace the targets (repeatable, like `post create`).",
    ),
    text_for: List[str] = typer.Option(
        [], "--text-for", metavar="PLATFORM=TEXT", parser=text_value, help="Text for one platform (repeatable)."
    ),
    media: List[Path] = typer.Option(
        [], "--media", metavar="FILE", parser=path_value, help="Replace the media (repeatable)."
    ),
    alt: List[str] = typer.Option([], "--alt", metavar="TEXT", help="Alt text per --media, in order."),
    media_for: List[str] = typer.Option(
        [],
        "--media-for",
        metavar="PLATFORM=FILE",
        parser=text_value,
        help="Replace the media of one platform (or account) only; other platforms keep theirs. Repeatable.",
    ),
    alt_for: List[str] = typer.Option([], "--alt-for", metavar="PLATFORM=TEXT", help=ALT_FOR_HELP),
    no_media: bool = typer.Option(False, "--no-media", help="Remove all media (--media-for files too)."),
    at: Optional[str] = typer.Option(
        None, "--at", metavar="WHEN", parser=text_value, help="New publish time (scheduled posts)."
    ),
    tz: TzOpt = None,
    part: List[str] = typer.Option(
        [],
        "--part",
        metavar="N=TEXT",
        help="New text of part N of a thread (one past the last adds a part; empty removes it). Repeatable.",
    ),
    first_comment: Optional[str] = typer.Option(
        None, "--first-comment", metavar="TEXT", help="Set the first comment (empty: remove it)."
    ),
    media_for_part: List[str] = typer.Option(
        [], "--media-for-part", metavar="N=FILE", parser=text_value, help="Replace the media of part N. Repeatable."
    ),
    alt_for_part: List[str] = typer.Option([], "--alt-for-part", metavar="N=TEXT", help=th.ALT_FOR_PART_HELP),
    as_json: JsonOpt = False,
) -> None:
    """Change a draft or scheduled post (text, targets, media, time, a thread's parts). Validated again.

    --text makes a thread one text again; --part N=TEXT changes one part."""
    from postcli.services.posts.compose import edit_post
    from postcli.services.posts.media_for import parse as parse_media_for
    from postcli.services.posts.thread import parse_media_for_part
    from postcli.services.posts.validation import parse_text_for

    if media and no_media:
        raise InvalidInput("--media and --no-media contradict each other.")
    post = edit_post(
        post_id,
        text=text,
        to=list(to) or None,
        text_for=parse_text_for(text_for),
        media=[] if no_media else (_media_pairs(media, alt) if media else None),
        media_for=parse_media_for(media_for, alt_for),
        at=read_time(at, tz, option="--at") if at else None,
        tz=tz,
        part_texts=th.part_texts(part),
        first_comment=first_comment,
        media_for_part=parse_media_for_part(media_for_part, alt_for_part),
    )
    _show_post(post, as_json, f"Updated post {post['id']} ({post['status']}).")


@app.command("schedule")
def schedule(
    post_id: str = typer.Argument(
        ..., metavar="ID", parser=id_value, autocompletion=completion.posts, help="A draft or scheduled post."
    ),
    at: str = typer.Option(
        ..., "--at", metavar="WHEN", parser=text_value, help='When: "2026-12-01 09:00", "tomorrow 9:00", "+2h".'
    ),
    tz: TzOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Schedule a draft (or move a scheduled post). cron's `postcli publish-due` publishes it."""
    from postcli import output, settings
    from postcli.services.posts.compose import schedule_post

    post = schedule_post(post_id, read_time(at, tz, option="--at"), tz=settings.time_zone(tz))
    when = output.fmt_time(post["scheduled_at"], post["timezone"])
    _show_post(post, as_json, f"Scheduled post {post['id']} for {when} ({post['timezone']}).")


@app.command("cancel")
def cancel(
    post_id: str = typer.Argument(
        ..., metavar="ID", parser=id_value, autocompletion=completion.posts, help="A draft or scheduled post."
    ),
    as_json: JsonOpt = False,
) -> None:
    """Cancel a draft or scheduled post (it stays in the list as cancelled)."""
    from postcli.services.posts.compose import cancel_post

    post = cancel_post(post_id)
    _show_post(post, as_json, f"Cancelled post {post['id']}.")
