"""Finding a user's Facebook Pages, and reading Page view metrics (for the Facebook adapter).

/me/accounts lists the Pages a user has a task on directly; Pages managed
through Business Manager are left out of it. They are the owned and client
Pages of the user's businesses:
  GET /me/businesses                       developers.facebook.com/docs/graph-api/reference/user/businesses
  GET /{business-id}/owned_pages           .../docs/marketing-api/reference/business/owned_pages
  GET /{business-id}/client_pages          .../docs/marketing-api/reference/business/client_pages
Reading them needs the business_management permission; without it (or without a
business) the /me/accounts list stands alone. A Page any listing misses, or one
listed without its token, is read by id with the user token:
  GET /{page-id}?fields=access_token       .../docs/facebook-login/guides/access-tokens#pagetokens
"""

from __future__ import annotations

from typing import Any, Callable

from postcli.errors import MalformedResponse, PlatformRejected, RemoteNotFound
from postcli.platforms.values import int_or_none

Get = Callable[..., Any]  # FacebookAdapter._get(path, token=..., **params): decoded JSON or a typed error

_MAX_PAGES = 10  # pages of 100 results per listing


def with_business_pages(pages: list[dict[str, Any]], get: Get, token: str) -> list[dict[str, Any]]:
    """`pages`, then the owned and client Pages of the user's businesses not among them."""
    seen = {str(p["id"]) for p in pages}
    found = list(pages)
    for business in listing(get, "me/businesses", token, "id,name"):
        for edge in ("owned_pages", "client_pages"):
            for page in listing(get, f"{business['id']}/{edge}", token, "id,name,access_token,tasks"):
                if str(page["id"]) not in seen:
                    seen.add(str(page["id"]))
                    found.append(page)
    return found


def listing(get: Get, path: str, token: str, fields: str) -> list[dict[str, Any]]:
    """Every item of a cursor-paged edge (up to 10 pages of 100); what was read when Graph refuses."""
    items: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(_MAX_PAGES):
        try:
            body = get(path, token=token, fields=fields, limit=100, after=after)
        except PlatformRejected:
            return items  # no business_management permission, not a member of that business...
        if not isinstance(body, dict):
            raise MalformedResponse(f"Facebook answered {path} with something else", platform="facebook")
        items.extend(p for p in body.get("data") or [] if isinstance(p, dict) and p.get("id"))
        paging = body.get("paging") or {}
        after = (paging.get("cursors") or {}).get("after")
        if not after or not paging.get("next"):
            break
    return items


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
