"""`post import`: track a post made outside postcli so it is collected like any other."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from postcli import urlcheck
from postcli.errors import InvalidInput
from postcli.platforms import registry
from postcli.services import accounts as accounts_svc
from postcli.services.posts.compose import new_idempotency_key
from postcli.services.posts.views import post_dict
from postcli.store.models import Account, Post, PostTarget, utcnow
from postcli.store.session import session_scope

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _guess_account(session: Session, ref: str) -> Account:
    accounts = [a for a in accounts_svc.list_accounts(session) if a.status != "disabled"]
    platform = registry.platform_of(ref)
    if platform is not None:
        candidates = [a for a in accounts if a.platform == platform]
        # A link or URI often names its author (a handle, a blog, a DID): prefer that account.
        own = [a for a in candidates if _names(ref, a)]
        candidates = own or candidates
    elif ref.isdigit():
        # A bare post id only means something on one server (a Mastodon status id).
        candidates = [a for a in accounts if (s := registry.find(a.platform)) is not None and s.import_bare_ids]
    else:
        host = urlparse(ref).netloc.lower()
        candidates = [a for a in accounts if host and urlparse(a.api_base_url).netloc.lower() == host]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        examples = "; ".join(s.import_example for s in registry.specs() if s.import_example)
        raise InvalidInput(
            f"no connected account matches {ref!r}.",
            hint=f"Give a link to a post of a connected account (e.g. {examples}); "
            "or name the account with --account ID.",
        )
    raise InvalidInput(
        f"cannot tell which account {ref!r} belongs to.",
        hint="Name it with --account ID.",
    )


def _names(ref: str, account: Account) -> bool:
    """Does `ref` name `account`: its handle or id as the URI's authority, a path segment
    (@handle too) or the first label of the host (myblog.tumblr.com)?"""
    names = {n.lower() for n in (account.handle, account.external_id) if n}
    if not names:
        return False
    url = urlparse(ref)
    if url.scheme not in ("http", "https", ""):
        return url.netloc.lower() in names  # at://did:plc:…/…
    segments = {part.lower().lstrip("@") for part in url.path.split("/") if part}
    label = url.netloc.lower().split(".", 1)[0]
    return bool(names & segments) or label in names


def import_post(ref: str, *, account: str | None = None) -> tuple[dict[str, Any], bool]:
    """Returns (post as views.post_dict, created); importing the same post twice returns the first import."""
    from sqlalchemy import select

    ref = ref.strip()
    # A platform's own URI scheme (at://, urn:li:) is its spec's to read; anything else is a link.
    schemes = [x.lower() for spec in registry.specs(include_hidden=True) for x in spec.import_schemes]
    if not ref.lower().startswith(("at:", *schemes)):
        urlcheck.link(ref, what="the post link")
    with session_scope() as session:
        acc = accounts_svc.get_account(session, account) if account else _guess_account(session, ref)
    if not ref:
        raise InvalidInput("give a post URL, an at:// URI or a status id.")
    found = accounts_svc.adapter_for(acc).resolve_post(ref)
    if found.author and acc.external_id and found.author.lower() != acc.external_id.lower():
        # Numbers of someone else's post would be reported as this account's (and its
        # engagement rate divided by this account's followers).
        raise InvalidInput(
            f"{ref} was posted by {found.author}, not by {acc.handle}.",
            hint="Import posts of a connected account (connect the other one first).",
        )
    # IMMEDIATE: two imports of the same post at once must not both find it missing.
    with session_scope(immediate=True) as session:
        existing = session.scalars(
            select(PostTarget).where(
                PostTarget.account_id == acc.id, PostTarget.platform_post_id == found.platform_post_id
            )
        ).first()
        if existing is not None:
            return post_dict(existing.post), False
        now = utcnow()
        published = found.published_at or now
        # A stranger's text is data, but PostgreSQL refuses NUL in text columns (SQLite would
        # keep it): stored as U+FFFD on both, so a store copies between them. Printing makes
        # every other control character visible (output.clean).
        text = (found.text or "").replace("\x00", "\ufffd")
        post = Post(
            text=text,
            status="completed",
            source="import",
            created_at=now,
            updated_at=now,
            published_at=published,
            timezone="UTC",
        )
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
        return post_dict(post), True
