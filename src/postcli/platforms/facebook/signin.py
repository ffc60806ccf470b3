"""Facebook sign-in: which Page to post as, asked right after the consent (not after a
second sign-in) when the user manages several and gave no --page."""

from __future__ import annotations

from typing import Any, Callable

from postcli.errors import PlatformUnavailable
from postcli.signin.profiles import META_GRAPH_VERSION

Chooser = Callable[[list[tuple[str, str]]], str | None]


def managed_pages(api: str, user_token: str, *, timeout: float) -> list[tuple[str, str]]:
    """(id, name) of the Pages the user token manages (the first 100; --page reaches the rest)."""
    import httpx

    from postcli.platforms.tls import context

    try:
        with httpx.Client(timeout=timeout, verify=context()) as http:
            response = http.get(
                f"{api}/{META_GRAPH_VERSION}/me/accounts",
                params={"fields": "id,name", "limit": 100, "access_token": user_token},
            )
    except httpx.HTTPError as exc:
        raise PlatformUnavailable(
            f"listing your Facebook Pages: no answer ({type(exc).__name__}).", platform="facebook"
        ) from None
    try:
        body: Any = response.json()
    except ValueError:
        return []
    data = body.get("data") if isinstance(body, dict) and response.status_code == 200 else None
    return [(str(p["id"]), str(p.get("name") or p["id"])) for p in data or [] if isinstance(p, dict) and p.get("id")]


def choose_page(api: str, user_token: str, chooser: Chooser | None, *, timeout: float) -> str | None:
    """The Page id the user picks, or None to let the adapter decide (one Page) or explain (several)."""
    if chooser is None:
        return None
    pages = managed_pages(api, user_token, timeout=timeout)
    if len(pages) < 2:
        return None
    return chooser(pages)
