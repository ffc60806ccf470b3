"""A first comment under a LinkedIn post, as the post's author (the member or the Page).

Comments API (learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/comments-api,
"Create a Comment"): POST /rest/socialActions/{encoded post URN}/comments with `actor` (who
comments: w_member_social, or w_organization_social for a Page), `object` (the post's URN) and
`message.text`; LinkedIn answers 201 with the comment (`commentUrn`, `created.time`) and its
key in x-restli-id. `message` is attributed text, not a post's "little" text: nothing is escaped.

An answer that never came: LinkedIn has no idempotency key, so as for a post the request is
marked (state["posting"]) before it leaves. "Get Comments on Shares" (GET the same collection)
needs r_member_social (rarely granted) or r_organization_social: with it, the author's own
comment with exactly the text, made since the first attempt (minus the margin), is the one
(the oldest, when several; one made by hand in that window is taken for ours); without it the
outcome is unknown (OutcomeUnknown) and the user settles it (`post retry --published/--resend`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from postcli.platforms.base import (
    OutcomeUnknown,
    PlatformError,
    PlatformRejected,
    PlatformUnavailable,
    PublishRequest,
    PublishResult,
    RemoteNotFound,
)
from postcli.platforms.graph_comments import oldest_match
from postcli.platforms.linkedin.api import Forbidden, NotSent
from postcli.platforms.linkedin.text import feed_url, restli
from postcli.platforms.values import int_or_none

if TYPE_CHECKING:
    from postcli.platforms.linkedin.account import LinkedInAccount

# The longest comment LinkedIn's web composer takes; the Comments API page names no limit.
MAX_COMMENT = 1250
_COMMENT_URN = "urn:li:comment:("
_LISTED = 100


def comment_url(post: str, comment: str) -> str:
    """The post's page opened at the comment (the form of LinkedIn's "Copy link to comment")."""
    return f"{feed_url(post)}?commentUrn={quote(comment, safe='')}"


def comment_urn(ref: str) -> str | None:
    """urn:li:comment:(<thread>,<id>) in a bare URN or a comment link's commentUrn; None otherwise."""
    text = ref.strip()
    parts = urlsplit(text)
    if parts.scheme in ("http", "https"):
        host = (parts.hostname or "").lower()
        if host != "linkedin.com" and not host.endswith(".linkedin.com"):
            return None
        text = (parse_qs(parts.query).get("commentUrn") or [""])[0]
    text = unquote(text)
    if text.startswith(_COMMENT_URN) and text.endswith(")") and "," in text:
        return text
    return None


def publish(adapter: LinkedInAccount, req: PublishRequest) -> PublishResult:
    assert req.reply_to is not None
    post = req.reply_to.platform_post_id
    if len(req.text) > MAX_COMMENT:
        raise adapter._fail(
            PlatformRejected, f"the first comment is {len(req.text)} characters; LinkedIn takes {MAX_COMMENT}."
        )
    actor = adapter._author()
    body = {"actor": actor, "object": post, "message": {"text": req.text}}
    state = {k: v for k, v in req.state.items() if k != "posting"}
    # From here an answer that does not come may hide a comment that exists.
    req.save_state({**state, "posting": adapter._now().isoformat()})
    url = adapter._url("api", f"/rest/socialActions/{restli(post)}/comments")
    try:
        response = adapter.call("POST", url, "commenting on the post", json=body)
    except NotSent:
        req.save_state(state)
        raise
    except PlatformUnavailable as exc:
        raise unknown(adapter, exc.message, post) from None
    except PlatformError:
        req.save_state(state)  # LinkedIn answered no: nothing was made
        raise
    try:
        made = adapter.json_of(response, "reading the new comment")
    except PlatformError:
        made = {}
    urn = made.get("commentUrn") or response.headers.get("x-restli-id")
    if not isinstance(urn, str) or not urn.startswith(_COMMENT_URN):
        raise unknown(adapter, "LinkedIn answered without the new comment's URN", post)
    return _result(urn, post, made, req.text)


def unknown(adapter: LinkedInAccount, why: str, post: str) -> PlatformError:
    """A comment whose outcome is unknown: looked for on the retry where the app may read the
    post's comments; otherwise OutcomeUnknown (nothing is sent blind)."""
    scope = adapter._read_scope()
    if adapter._allowed(scope):
        return adapter._fail(PlatformUnavailable, why, hint="a retry looks for the comment under the post first")
    return adapter._fail(
        OutcomeUnknown,
        f"{why}: LinkedIn may have made the comment, and this app cannot read comments back to tell "
        f"(it lacks {scope}). Look under the post at {feed_url(post)}.",
    )


def find(adapter: LinkedInAccount, req: PublishRequest) -> PublishResult | None:
    """The author's comment with this text under the post, when an attempt reached LinkedIn."""
    assert req.reply_to is not None
    post = req.reply_to.platform_post_id
    if not req.state.get("posting"):
        return None
    scope = adapter._read_scope()
    if not adapter._allowed(scope):
        raise unknown(adapter, "the last attempt to comment got no answer", post)
    url = adapter._url("api", f"/rest/socialActions/{restli(post)}/comments?start=0&count={_LISTED}")
    try:
        listed = adapter.get_json(url, "looking for an earlier attempt among the post's comments")
    except Forbidden:
        adapter._withhold(scope)
        raise unknown(adapter, "the last attempt to comment got no answer", post) from None
    except RemoteNotFound:
        return None
    author = adapter._author()
    flat = [
        {
            "id": c.get("commentUrn"),
            "text": (c.get("message") or {}).get("text"),
            "time": _created(c),
            "actor": c.get("actor"),
        }
        for c in listed.get("elements") or []
        if isinstance(c, dict)
    ]
    found = oldest_match(
        flat,
        req.text,
        text_key="text",
        time_key="time",
        since=adapter.reconcile_since(req),
        mine=lambda c: c.get("actor") == author,
    )
    if found is None:
        return None
    return PublishResult(platform_post_id=str(found["id"]), url=comment_url(post, str(found["id"])), text=req.text)


def resolve(adapter: LinkedInAccount, ref: str) -> PublishResult:
    """A comment by its URN or link (`post retry --published` for a first comment): taken as given."""
    urn = comment_urn(ref)
    if urn is None:
        raise adapter._fail(
            RemoteNotFound,
            f"{ref!r} is not a LinkedIn comment link or URN",
            hint='give the comment\'s link ("Copy link to comment") or its urn:li:comment:(…)',
        )
    thread = urn[len(_COMMENT_URN) : -1].rsplit(",", 1)[0]
    return PublishResult(platform_post_id=urn, url=comment_url(thread, urn))


def _created(comment: dict[str, Any]) -> datetime | None:
    stamp = int_or_none((comment.get("created") or {}).get("time"))
    return datetime.fromtimestamp(stamp / 1000, timezone.utc) if stamp else None


def _result(urn: str, post: str, made: dict[str, Any], text: str) -> PublishResult:
    return PublishResult(platform_post_id=urn, url=comment_url(post, urn), published_at=_created(made), text=text)
