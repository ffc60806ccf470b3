"""Deleting a post: from the store, and with `remote` from the platforms first.

A post whose remote delete failed stays in the store: it is the only link to
what is still online.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from postcli.errors import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, BadState, PlatformError
from postcli.secrets_redact import redact
from postcli.services import accounts as accounts_svc
from postcli.services.posts.publish import TargetOutcome, error_kind, finish_target
from postcli.services.posts.queries import get_post, load_post
from postcli.store.session import session_scope


@dataclass
class DeleteReport:
    post_id: int
    removed_local: bool
    remote: list[TargetOutcome] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """7 when some remote deletes failed, 1 when all did."""
        failed = [t for t in self.remote if t.status == "failed"]
        if not failed:
            return EXIT_OK
        return EXIT_PARTIAL if len(failed) < len(self.remote) else EXIT_ERROR


def delete_post(post_id: int | str, *, remote: bool = False) -> DeleteReport:
    post = load_post(post_id)
    if post.status == "processing":
        raise BadState(f"post {post.id} is being published right now.", hint="Wait until it finishes.")
    report = DeleteReport(post_id=post.id, removed_local=False)
    if remote:
        failures = False
        for target in post.targets:
            if target.status != "completed" or not target.platform_post_id:
                continue
            base: dict[str, Any] = dict(
                target_id=target.id,
                account_id=target.account_id,
                platform=target.platform,
                handle=target.account.handle,
            )
            try:
                accounts_svc.adapter_for(target.account).delete(target.platform_post_id)
            except PlatformError as exc:
                failures = True
                report.remote.append(
                    TargetOutcome(**base, status="failed", error=redact(exc.message), error_kind=error_kind(exc))
                )
                continue
            finish_target(target.id, "deleted")
            report.remote.append(TargetOutcome(**base, status="deleted"))
        if failures:
            # Keep the local record: it is the only link to what is still online.
            return report
    with session_scope() as session:
        session.delete(get_post(session, post.id))
    report.removed_local = True
    return report
