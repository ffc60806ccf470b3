"""User tokens of Threads and Instagram: the short- to long-lived exchange, and keeping a token.

Both exchange on their host's unversioned /access_token with the app secret:
  Threads:   GET https://graph.threads.net/access_token?grant_type=th_exchange_token&client_secret=...
             (developers.facebook.com/docs/threads/get-started/long-lived-tokens)
  Instagram: GET https://graph.instagram.com/access_token?grant_type=ig_exchange_token&client_secret=...
             (developers.facebook.com/docs/instagram-platform/reference/access_token)
and answer {"access_token": "...", "token_type": "bearer", "expires_in": 5183944}
(a long-lived token lives 60 days). A token that is long-lived already is refused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, ContextManager

from postcli.platforms.base import AccountContext
from postcli.platforms.graph import GraphClient
from postcli.platforms.values import int_or_none


def exchange_token(
    graph: GraphClient,
    calls: Callable[[str], ContextManager[None]],
    *,
    grant_type: str,
    app_secret: str,
    token: str,
) -> tuple[str, int | None]:
    """(the long-lived token, its lifetime in seconds if reported); a typed error when refused."""
    with calls("exchanging the token for a long-lived one"):
        body: Any = graph.request(
            "GET", f"{graph.base_url}/access_token",
            params={"grant_type": grant_type, "client_secret": app_secret}, token=token,
        )
        return str(body["access_token"]), int_or_none(body.get("expires_in"))


def store_token(ctx: AccountContext, token: str, obtained: datetime, expires: datetime, *, estimated: bool) -> None:
    """Keep a (new) user token in the account's secrets, saved at once.

    Its dates live beside it in the secrets: save_secrets persists them at once
    (a refreshed token must survive a crash), and check_health reads them (the
    health service does not save settings).
    """
    ctx.secrets = {
        **(ctx.secrets or {}),
        "access_token": token,
        "token_obtained_at": obtained.isoformat(),
        "token_expires_at": expires.isoformat(),
        "token_expires_estimated": estimated,
    }
    ctx.save_secrets(dict(ctx.secrets))
    ctx.token_expires_at = expires
