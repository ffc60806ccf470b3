"""Deleting a post: from the store, and with `remote` from the platforms first.

A post whose remote delete failed stays in the store: it is the only link to
what is still online.
"""

from __future__ import annotations

from typing import Any

from postcli.errors import BadState, PlatformError
from postcli.secrets_redact import redact
from postcli.services import accounts as accounts_svc
from postcli.services import exit_codes
from postcli.services.posts.publish import finish_target
from postcli.services.posts.queries import get_post, load_post
from postcli.services.posts.results import DeleteReport, TargetOutcome
from postcli.store import rollup
from postcli.store.models import PostTarget
from postcli.store.session import session_scope

__all__ = ["DeleteReport", "delete_post"]


def _online(target: PostTarget) -> list[str]:
    """What of a target is on the platform, last published first: its post, or a thread's
    parts and its first comment where that is a reply or outlives its post (Reddit); a comment
    under an Instagram, Facebook, LinkedIn or YouTube post goes with the post."""
    from postcli.platforms.registry import adapter_class

    if not target.parts:
        return [target.platform_post_id] if target.status == "completed" and target.platform_post_id else []
    cls = adapter_class(target.platform)
    replies = cls.threads or cls.comment_outlives_post
    out = [
        p.platform_post_id
        for p in sorted(target.parts, key=lambda p: (p.kind == "part", -p.position))
        if p.status == "completed" and p.platform_post_id and (p.kind == "part" or replies)
    ]
    return out


def delete_post(post_id: int | str, *, remote: bool = False) -> DeleteReport:
    post = load_post(post_id)
    if post.status == "processing":
        raise BadState(f"post {post.id} is being published right now.", hint="Wait until it finishes.")
    report = DeleteReport(post_id=post.id, removed_local=False)
    if remote:
        failures = False
        for target in post.targets:
            base: dict[str, Any] = dict(
                target_id=target.id,
                account_id=target.account_id,
                platform=target.platform,
                handle=target.account.handle,
            )
            if target.status == "unknown":
                # It may be online, and postcli has no id to delete it by.
                failures = True
                why = (
                    "the outcome of publishing there is unknown, so postcli has no id to delete it by: "
                    f"delete it on the platform if it is there, or record it first with "
                    f"`postcli post retry {post.id} --published LINK`."
                )
                report.remote.append(TargetOutcome(**base, status="failed", error=why, error_kind="unknown"))
                continue
            online = _online(target)
            if not online:
                continue
            try:
                adapter = accounts_svc.adapter_for(target.account)
                for platform_post_id in online:
                    adapter.delete(platform_post_id)
            except PlatformError as exc:
                failures = True
                report.remote.append(
                    TargetOutcome(
                        **base, status="failed", error=redact(exc.message), error_kind=exit_codes.kind_of(exc)
                    )
                )
                continue
            finish_target(target.id, "deleted")
            report.remote.append(TargetOutcome(**base, status="deleted"))
        if failures:
            # Keep the local record: it is the only link to what is still online.
            return report
    with session_scope(immediate=True) as session:
        current = get_post(session, post.id)
        # Checked again where it is deleted: a run may have claimed it since it was read.
        if current.status == "processing":
            raise BadState(f"post {post.id} is being published right now.", hint="Wait until it finishes.")
        # The timeline's per-account sums must lose what the post's targets added to them.
        rollup.forget_targets(session.connection(), [t.id for t in current.targets])
        session.delete(current)
    report.removed_local = True
    return report
