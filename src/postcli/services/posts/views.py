"""The JSON shapes of posts and publishing results (docs/json.md).

One mapping, `post_view`, over plain row values (a mapping per post, target and
media row): `post show`'s ORM post (`post_dict`) and `post list`'s rows from the
read path (store/dbapi.py, services/posts/queries.py) both go through it, so they
cannot drift apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping

from postcli.services.posts.fields import decode

if TYPE_CHECKING:
    from postcli.services.posts.results import DeleteReport, DueReport, PublishOutcome
    from postcli.store.models import Post

Row = Mapping[str, Any]

# The store columns each view reads (a target row also carries its account's "handle").
POST_COLUMNS = (
    "id",
    "status",
    "text",
    "scheduled_at",
    "timezone",
    "correlation_id",
    "source",
    "created_at",
    "updated_at",
    "published_at",
    "last_error",
    "title",
    "link",
    "parts",
    "split",
    "first_comment",
)
TARGET_COLUMNS = (
    "id",
    "account_id",
    "platform",
    "status",
    "text_override",
    "platform_post_id",
    "platform_post_url",
    "error",
    "attempt_count",
    "last_attempt_at",
    "completed_at",
    "fields",
)
MEDIA_COLUMNS = (
    "position",
    "mime_type",
    "original_filename",
    "size_bytes",
    "width",
    "height",
    "duration_s",
    "alt_text",
    "sha256",
    "storage",
    "override_for",
    "part",
)
# A thread's parts and a first comment of a target (target_parts), as the views read them.
PART_COLUMNS = ("target_id", "kind", "position", "text", "status", "platform_post_id", "platform_post_url", "error")


def target_note(t: Row) -> str | None:
    """What the platform's spec says about a published target beside its link (spec.target_note)."""
    from postcli.platforms import registry

    if t["status"] != "completed":
        return None
    found = registry.find(t["platform"])
    if found is None or found.target_note is None:
        return None
    return found.target_note(t["platform_post_id"], decode(t["fields"]) or {})


def _json(value: Any) -> Any:
    """A JSON column: as stored (the ORM), or its text (the plain read path)."""
    import json

    return json.loads(value) if isinstance(value, str) else value


def _part(p: Row) -> dict[str, Any]:
    return {
        "position": p["position"],
        "text": p["text"],
        "status": p["status"],
        "platform_post_id": p["platform_post_id"],
        "url": p["platform_post_url"],
        "error": p["error"],
    }


def part_views(rows: Iterable[Row]) -> dict[str, Any]:
    """A target's part records as its view shows them: "parts" and "first_comment"."""
    rows = list(rows)
    records = sorted((p for p in rows if p["kind"] == "part"), key=lambda p: p["position"])
    comment = next((p for p in rows if p["kind"] == "comment"), None)
    return {
        "parts": [_part(p) for p in records],
        "first_comment": {k: v for k, v in _part(comment).items() if k != "position"} if comment else None,
    }


def target_view(t: Row, text: str | None = None, parts: Iterable[Row] = ()) -> dict[str, Any]:
    """A target; `text` is what it publishes when it has no part records (its own or the
    post's), `parts` its records (a thread's parts, a first comment)."""
    shown = part_views(parts)
    one = {
        "position": 1,
        "text": t["text_override"] if t["text_override"] is not None else text,
        "status": t["status"],
        "platform_post_id": t["platform_post_id"],
        "url": t["platform_post_url"],
        "error": t["error"],
    }
    return {
        "id": t["id"],
        "account_id": t["account_id"],
        "platform": t["platform"],
        "handle": t["handle"],
        "status": t["status"],
        "text_override": t["text_override"],
        "platform_post_id": t["platform_post_id"],
        "url": t["platform_post_url"],
        "error": t["error"],
        "attempt_count": t["attempt_count"],
        "last_attempt_at": t["last_attempt_at"],
        "completed_at": t["completed_at"],
        "fields": decode(t["fields"]) or {},
        "note": target_note(t),
        # What the platform said of the post at the last collect, when it is up but not simply
        # live (a Reddit post its moderators removed): PostMetrics.platform_state.
        "platform_state": t.get("platform_state"),
        "parts": shown["parts"] or [one],
        "first_comment": shown["first_comment"],
    }


def post_view(
    post: Row, targets: Iterable[Row], media: Iterable[Row], parts: Mapping[int, Iterable[Row]] | None = None
) -> dict[str, Any]:
    """The stable JSON shape of a post, from its row, its target rows, its media rows and its
    targets' part records (by target id)."""
    written = _json(post["parts"])
    return {
        "id": post["id"],
        "status": post["status"],
        "text": post["text"],
        "title": post["title"],
        "link": post["link"],
        "scheduled_at": post["scheduled_at"],
        "timezone": post["timezone"],
        "correlation_id": post["correlation_id"],
        "source": post["source"],
        "created_at": post["created_at"],
        "updated_at": post["updated_at"],
        "published_at": post["published_at"],
        "error": post["last_error"],
        "thread": {"parts": written, "split": post["split"]} if written or post["split"] else None,
        "first_comment": post["first_comment"],
        "targets": [target_view(t, post["text"], (parts or {}).get(t["id"], ())) for t in targets],
        "media": [{k: m[k] for k in MEDIA_COLUMNS} for m in media],
    }


def _values(obj: Any, columns: Iterable[str]) -> dict[str, Any]:
    return {c: getattr(obj, c) for c in columns}


def post_dict(post: Post) -> dict[str, Any]:
    """`post_view` of an ORM post (its targets and media loaded); the targets' platform states
    are read through the post's session, when it still has one."""
    from sqlalchemy.orm import object_session

    from postcli.services.snapshots import latest_states

    session = object_session(post)
    states = latest_states(session, [t.id for t in post.targets]) if session is not None else {}
    return post_view(
        _values(post, POST_COLUMNS),
        [
            {
                **_values(t, TARGET_COLUMNS),
                "handle": t.account.handle if t.account else None,
                "platform_state": states.get(t.id),
            }
            for t in post.targets
        ],
        [_values(m, MEDIA_COLUMNS) for m in post.media],
        {t.id: [_values(p, PART_COLUMNS) for p in t.parts] for t in post.targets},
    )


def created_dict(post: dict[str, Any], created: bool, outcome: PublishOutcome | None = None) -> dict[str, Any]:
    """`post create --json`: one shape for drafts, scheduled and published posts, new or repeated.

    The post (as `post show --json`) with the outcome's keys merged in: "post_id", "note",
    "created", and per target "target_id", "reconciled", "retry_at" and "notice".
    """
    outcomes = {t.target_id: t for t in outcome.targets} if outcome else {}
    targets = [
        {
            **t,
            "target_id": t["id"],
            "reconciled": t["id"] in outcomes and outcomes[t["id"]].reconciled,
            "retry_at": outcomes[t["id"]].retry_at if t["id"] in outcomes else None,
            "notice": outcomes[t["id"]].notice if t["id"] in outcomes else None,
        }
        for t in post["targets"]
    ]
    return {
        **post,
        "targets": targets,
        "post_id": post["id"],
        "note": outcome.note if outcome else None,
        "created": created,
    }


def outcome_dict(outcome: PublishOutcome) -> dict[str, Any]:
    return {
        "post_id": outcome.post_id,
        "status": outcome.status,
        "note": outcome.note,
        "targets": [
            {
                "target_id": t.target_id,
                "account_id": t.account_id,
                "platform": t.platform,
                "handle": t.handle,
                "status": t.status,
                "url": t.url,
                "error": t.error,
                "reconciled": t.reconciled,
                "retry_at": t.retry_at,
                "notice": t.notice,
                **(t.parts or {}),
            }
            for t in outcome.targets
        ],
    }


def due_dict(report: DueReport) -> dict[str, Any]:
    """`publish-due --json`."""
    return {
        "published": [outcome_dict(o) for o in report.published],
        "expired": report.expired,
        "skipped": [pid for pid, _why in report.skipped],
        "errors": [{"post_id": pid, "error": err} for pid, err in report.errors],
    }


def delete_dict(report: DeleteReport) -> dict[str, Any]:
    """`post delete --json`."""
    return {
        "post_id": report.post_id,
        "removed_local": report.removed_local,
        "remote": [
            {"platform": t.platform, "handle": t.handle, "status": t.status, "error": t.error} for t in report.remote
        ],
    }
