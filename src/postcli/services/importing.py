"""`post import`: track a post made outside postcli so it is collected like any other."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from postcli import urlcheck
from postcli.errors import InvalidInput
from postcli.services import accounts as accounts_svc
from postcli.services.posts.compose import new_idempotency_key
from postcli.services.posts.views import post_dict
from postcli.store.models import Account, Post, PostTarget, utcnow
from postcli.store.session import session_scope

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _guess_account(session: Session, ref: str) -> Account:
    accounts = [a for a in accounts_svc.list_accounts(session) if a.status != "disabled"]
    if ref.startswith("at://") or "bsky.app/" in ref:
        candidates = [a for a in accounts if a.platform == "bluesky"]
        # The post names its author (a handle in a link, a DID in a URI): prefer that account.
        author = _bluesky_author(ref)
        own = [a for a in candidates if author and author in (a.handle.lower(), (a.external_id or "").lower())]
        candidates = own or candidates
    elif ref.isdigit():
        # A bare status id only means something on one instance.
        candidates = [a for a in accounts if a.platform == "mastodon"]
    elif _web_platform(ref):
        candidates = [a for a in accounts if a.platform == _web_platform(ref)]
        # A Tumblr link names its blog: prefer that account.
        url = urlparse(ref)
        own = [
            a
            for a in candidates
            if (a.handle and f"{a.handle.lower()}." in url.netloc.lower())
            or f"/{(a.handle or '').lower()}/" in url.path.lower()
        ]
        candidates = own or candidates
    else:
        host = urlparse(ref).netloc.lower()
        candidates = [a for a in accounts if host and urlparse(a.api_base_url).netloc.lower() == host]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise InvalidInput(
            f"no connected account matches {ref!r}.",
            hint="Give a bsky.app link, an at:// URI, a status URL on your Mastodon instance, or a "
            "Threads, Instagram, Facebook or Tumblr post link; or name the account with --account ID.",
        )
    raise InvalidInput(
        f"cannot tell which account {ref!r} belongs to.",
        hint="Name it with --account ID.",
    )


# Web hosts of the platforms whose API lives elsewhere (links are not on api_base_url).
_WEB_HOSTS = {
    "threads.net": "threads",
    "threads.com": "threads",
    "instagram.com": "instagram",
    "instagr.am": "instagram",
    "facebook.com": "facebook",
    "fb.com": "facebook",
    "tumblr.com": "tumblr",
}


def _web_platform(ref: str) -> str | None:
    host = urlparse(ref).netloc.lower().split(":")[0]
    for suffix, platform in _WEB_HOSTS.items():
        if host == suffix or host.endswith("." + suffix):
            return platform
    return None


def _bluesky_author(ref: str) -> str | None:
    if ref.startswith("at://"):
        return ref[len("at://") :].split("/", 1)[0].lower() or None
    parts = urlparse(ref).path.strip("/").split("/")
    return parts[1].lower() if len(parts) >= 2 and parts[0] == "profile" else None


def import_post(ref: str, *, account: str | None = None) -> tuple[dict[str, Any], bool]:
    """Returns (post as views.post_dict, created); importing the same post twice returns the first import."""
    from sqlalchemy import select

    ref = ref.strip()
    if not ref.lower().startswith("at:"):
        urlcheck.link(ref, what="the post link")
    with session_scope() as session:
        acc = accounts_svc.get_account(session, account) if account else _guess_account(session, ref)
    if not ref:
        raise InvalidInput("give a post URL, an at:// URI or a status id.")
    found = accounts_svc.adapter_for(acc).resolve_post(ref)
    if acc.platform == "bluesky" and acc.external_id:
        # Numbers of someone else's post would be reported as this account's (and its
        # engagement rate divided by this account's followers).
        author = _bluesky_author(found.platform_post_id)
        if author and author != acc.external_id.lower():
            raise InvalidInput(
                f"{ref} was posted by {author}, not by {acc.handle}.",
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
