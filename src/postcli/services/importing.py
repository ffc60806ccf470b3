"""`post import`: track a post made outside postcli so it is collected like any other."""

from __future__ import annotations

from urllib.parse import urlparse

from postcli.errors import InvalidInput
from postcli.services import accounts as accounts_svc
from postcli.services.publishing import _loaded, new_idempotency_key
from postcli.store.models import Account, Post, PostTarget, utcnow
from postcli.store.session import session_scope


def _guess_account(session, ref: str) -> Account:  # type: ignore[no-untyped-def]
    accounts = [a for a in accounts_svc.list_accounts(session) if a.status != "disabled"]
    if ref.startswith("at://") or "bsky.app/" in ref:
        candidates = [a for a in accounts if a.platform == "bluesky"]
    else:
        host = urlparse(ref).netloc.lower()
        candidates = [a for a in accounts if host and urlparse(a.api_base_url).netloc.lower() == host]
    if len(candidates) == 1:
        return candidates[0]
    raise InvalidInput(
        f"cannot tell which account {ref!r} belongs to.",
        hint="Name it with --account ID.",
    )


def import_post(ref: str, *, account: str | None = None) -> tuple[Post, bool]:
    """Returns (post, created); importing the same post twice returns the first import."""
    from sqlalchemy import select

    ref = ref.strip()
    with session_scope() as session:
        acc = accounts_svc.get_account(session, account) if account else _guess_account(session, ref)
    found = accounts_svc.adapter_for(acc).resolve_post(ref)
    with session_scope() as session:
        existing = session.scalars(
            select(PostTarget).where(PostTarget.account_id == acc.id, PostTarget.platform_post_id == found.platform_post_id)
        ).first()
        if existing is not None:
            return _loaded(session, existing.post), False
        now = utcnow()
        published = found.published_at or now
        post = Post(text=found.text or "", status="completed", source="import", created_at=now, updated_at=now,
                    published_at=published, timezone="UTC")
        post.targets.append(
            PostTarget(
                account_id=acc.id,
                platform=acc.platform,
                status="completed",
                idempotency_key=new_idempotency_key(acc.platform),
                platform_post_id=found.platform_post_id,
                platform_post_url=found.url,
                completed_at=published,
            )
        )
        session.add(post)
        session.flush()
        return _loaded(session, post), True
