"""Finding a user's Facebook Pages, and reading Page view metrics (for the Facebook adapter).

/me/accounts lists the Pages a user has a task on directly; Pages managed
through Business Manager are left out of it. They are the owned and client
Pages of the user's businesses:
  GET /me/businesses                       developers.facebook.com/docs/graph-api/reference/user/businesses
  GET /{business-id}/owned_pages           .../docs/marketing-api/reference/business/owned_pages
  GET /{business-id}/client_pages          .../docs/marketing-api/reference/business/client_pages
Reading them needs the business_management permission. They are optional discovery: no
answer from them fails a connect. Graph refuses a business's client_pages with code 100,
subcode 33 ("Object with ID ... does not exist, cannot be loaded due to missing permissions,
or does not support this operation") when the token may not read its clients' Pages, with a
permission error (10, 200-299) without business_management, or lists nothing; the Pages
that could be read are offered all the same. Only a rate limit or a dead token stop the
connect, as they would stop any other call. A Page any listing misses, or one
listed without its token, is read by id with the user token:
  GET /{page-id}?fields=access_token       .../docs/facebook-login/guides/access-tokens#pagetokens
"""

from __future__ import annotations

from typing import Any, Callable

from postcli.errors import AuthFailed, PlatformError, PlatformRateLimited, PlatformRejected, RemoteNotFound
from postcli.platforms.values import int_or_none

Get = Callable[..., Any]  # FacebookAdapter._get(path, token=..., **params): decoded JSON or a typed error

_MAX_PAGES = 10  # pages of 100 results per listing


def with_business_pages(pages: list[dict[str, Any]], get: Get, token: str) -> tuple[list[dict[str, Any]], list[str]]:
    """`pages`, then the owned and client Pages of the user's businesses not among them; and
    one line per listing Graph would not answer (said when the wanted Page is not found)."""
    seen = {str(p["id"]) for p in pages}
    found = list(pages)
    unread: list[str] = []
    businesses, why = listing(get, "me/businesses", token, "id,name")
    if why:
        unread.append(f"your businesses ({why})")
    for business in businesses:
        for edge in ("owned_pages", "client_pages"):
            items, why = listing(get, f"{business['id']}/{edge}", token, "id,name,access_token,tasks")
            if why:
                unread.append(
                    f"the {edge.replace('_', ' ')} of business {business.get('name') or business['id']} ({why})"
                )
            for page in items:
                if str(page["id"]) not in seen:
                    seen.add(str(page["id"]))
                    found.append(page)
    return found, unread


def listing(get: Get, path: str, token: str, fields: str) -> tuple[list[dict[str, Any]], str | None]:
    """Every item of a cursor-paged edge (up to 10 pages of 100), and why Graph stopped answering
    (None when it did not): what was read stands either way."""
    items: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(_MAX_PAGES):
        try:
            body = get(path, token=token, fields=fields, limit=100, after=after)
        except (PlatformRateLimited, AuthFailed):
            raise
        except PlatformError as exc:  # 100/33, no business_management, not a member of that business...
            return items, exc.message
        if not isinstance(body, dict):
            return items, "an answer that is not a Graph listing"
        items.extend(p for p in body.get("data") or [] if isinstance(p, dict) and p.get("id"))
        paging = body.get("paging") or {}
        after = (paging.get("cursors") or {}).get("after")
        if not after or not paging.get("next"):
            break
    return items, None


def read_page_directly(get: Get, page_id: str, token: str) -> dict[str, Any]:
    """id, name and access_token of a Page the user has a task on; {} when Graph refuses."""
    try:
        body = get(page_id, token=token, fields="id,name,access_token")
    except (PlatformRejected, RemoteNotFound):
        return {}
    if not isinstance(body, dict):
        return {}
    return {k: v for k, v in body.items() if k in ("id", "name", "access_token") and v}


def view_count(value: Any) -> int | None:
    """A view metric's value: a number, or an object of breakdown values summed over what
    is reported ({"value": {"page_uploaded": 3, "page_owned": 4}, ...}: the documented shape
    of an object-valued insight, developers.facebook.com/blog/post/2023/04/12/
    introducing-new-metric-to-the-page-insights-api); None when nothing is. Views add up
    across breakdowns; unique counts (reach) do not, so only view metrics come here."""
    if isinstance(value, dict):
        parts = [view_count(v) for v in value.values()]
        found = [p for p in parts if p is not None]
        return sum(found) if found else None
    return int_or_none(value)
