"""`postcli post list` and `postcli post show`: reading posts."""

from __future__ import annotations

from typing import Optional

import typer

from postcli.cli import completion
from postcli.cli._options import JsonOpt, TzOpt, check_post_filters, count_value, id_value, text_value


def list_(
    status: Optional[str] = typer.Option(
        None,
        "--status",
        metavar="STATUS",
        parser=text_value,
        help="draft, scheduled, pending, processing, completed, partial_success, failed or cancelled.",
    ),
    platform: Optional[str] = typer.Option(
        None,
        "--platform",
        metavar="PLATFORM",
        parser=text_value,
        autocompletion=completion.platforms,
        help="Only posts with a target on this platform.",
    ),
    page: int = typer.Option(1, "--page", metavar="N", parser=count_value, help="Page number (1-based)."),
    limit: int = typer.Option(20, "--limit", metavar="N", parser=count_value, help="Posts per page."),
    sort: str = typer.Option("created", "--sort", metavar="created|published|scheduled", help="Sort by this time."),
    order: str = typer.Option("desc", "--order", metavar="desc|asc", help="Newest (desc) or oldest (asc) first."),
    tz: TzOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List posts, newest first."""
    from postcli import output, settings
    from postcli.services.posts.queries import check_list_args, list_posts

    tz_name = settings.time_zone(tz)
    check_list_args(page=page, limit=limit, sort=sort, order=order)
    status, platform = check_post_filters(status, platform)
    posts, total = list_posts(status=status, platform=platform, page=page, limit=limit, sort=sort, order=order)
    if as_json:
        output.print_json({"total": total, "page": page, "limit": limit, "posts": posts})
        return
    if not posts:
        output.line(
            "No posts match." if total or status or platform else "No posts yet. Create one with `postcli post create`."
        )
        return
    output.table(
        ["id", "status", "when", "targets", "text"],
        [
            [
                str(p["id"]),
                p["status"],
                output.fmt_time(p["published_at"] or p["scheduled_at"] or p["created_at"], tz_name)
                + (" (scheduled)" if p["status"] == "scheduled" else ""),
                ", ".join(f"{t['platform']}:{t['status']}" for t in p["targets"]),
                output.excerpt(p["text"], 48),
            ]
            for p in posts
        ],
        caption=f"page {page} of {max(1, -(-total // limit))} · {total} posts · times in {tz_name}",
    )


def show(
    post_id: str = typer.Argument(
        ..., metavar="ID", parser=id_value, autocompletion=completion.posts, help="The post id."
    ),
    tz: TzOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a post with its targets and their links."""
    from postcli import output, settings
    from postcli.services.posts.queries import show_post

    data = show_post(post_id)
    if as_json:
        output.print_json(data)
        return
    tz_name = settings.time_zone(tz)
    output.kv(
        [
            ("id", str(data["id"])),
            ("status", data["status"]),
            ("text", data["text"]),
        ]
        + [(k, data[k]) for k in ("title", "link") if data[k] is not None]
        + [
            ("scheduled", output.fmt_time(data["scheduled_at"], tz_name)),
            ("published", output.fmt_time(data["published_at"], tz_name)),
            ("created", output.fmt_time(data["created_at"], tz_name)),
            ("error", data["error"] or output.NULL),
        ]
        + [
            (
                f"media {m['position'] + 1}" + (f" for {m['override_for']}" if m["override_for"] else ""),
                f"{m['original_filename']} ({m['mime_type']}, {m['size_bytes']:,} bytes)"
                + (f" alt: {m['alt_text']}" if m["alt_text"] else ""),
            )
            for m in data["media"]
        ]
        + [
            (f"{t['platform']} fields", ", ".join(f"{k}={_field_text(v)}" for k, v in t["fields"].items()))
            for t in data["targets"]
            if t["fields"]
        ]
    )
    output.table(
        ["target", "platform", "account", "status", "attempts", "link / error"],
        [
            [
                str(t["id"]),
                t["platform"],
                t["handle"] or "",
                t["status"] + (f" ({t['platform_state']})" if t.get("platform_state") else ""),
                str(t["attempt_count"]),
                " ".join(x for x in (t["url"] or t["error"], t["note"]) if x),
            ]
            for t in data["targets"]
        ],
    )
    for t in data["targets"]:
        if len(t["parts"]) > 1 or t["first_comment"]:
            _parts(t)


def _parts(target: dict[str, object]) -> None:
    """A thread's parts (and its first comment) on one target, each with its link or error."""
    from postcli import output

    parts = list(target["parts"])  # type: ignore[call-overload]
    comment = target["first_comment"]
    rows = [
        [str(p["position"]), p["status"], output.excerpt(p["text"], 40), p["url"] or p["error"] or ""] for p in parts
    ]
    if isinstance(comment, dict):
        rows.append(
            [
                "comment",
                comment["status"],
                output.excerpt(comment["text"], 40),
                comment["url"] or comment["error"] or "",
            ]
        )
    output.table(
        ["part", "status", "text", "link / error"],
        rows,
        title=f"{target['platform']} ({target['handle']}): {len(parts)} part(s)"
        + (" and a first comment" if comment else ""),
    )


def _field_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)
