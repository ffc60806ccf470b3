"""Pinterest's sign-in steps around the shared code flow: keep the token's lifetimes, and ask
which board is the account's default when the user has several and gave no --board."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from postcli.platforms.spec import AppCredentials, Connection, SignInContext, SignInHooks
from postcli.platforms.values import int_or_none


class PinterestSignIn(SignInHooks):
    def finish(self, ctx: SignInContext, app: AppCredentials, token: dict[str, Any], base: str | None) -> Connection:
        conn = super().finish(ctx, app, token, base)
        now = datetime.now(timezone.utc)
        # The documented answer: expires_in (seconds), refresh_token_expires_at (epoch seconds).
        expires_in = int_or_none(token.get("expires_in"))
        if expires_in:
            conn.extra_secrets["expires_at"] = (now + timedelta(seconds=expires_in)).isoformat()
        refresh_at = int_or_none(token.get("refresh_token_expires_at"))
        if refresh_at:
            conn.extra_secrets["refresh_expires_at"] = datetime.fromtimestamp(refresh_at, timezone.utc).isoformat()
        if not conn.extra_settings.get("board_id"):
            api = self.spec.host("api", ctx.api_base)
            boards = list_boards(api, token["access_token"], timeout=ctx.timeout)
            if len(boards) > 1:  # one board: the adapter's connect takes it
                chosen = ctx.choose("Which board should Pins go to by default?", boards)
                if chosen:
                    conn.extra_settings["board_id"] = chosen
        return conn


def list_boards(api: str, token: str, *, timeout: float) -> list[tuple[str, str]]:
    """(id, name) of the user's boards, first page (GET /v5/boards); [] when it cannot be had:
    the account is connected all the same, and a post then names its board."""
    import httpx

    from postcli.platforms.tls import context

    try:
        with httpx.Client(timeout=timeout, verify=context()) as http:
            response = http.get(
                f"{api}/v5/boards", params={"page_size": 100}, headers={"Authorization": f"Bearer {token}"}
            )
        body: Any = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return []
    items = body.get("items") if isinstance(body, dict) else None
    return [
        (str(b["id"]), str(b.get("name") or b["id"]))
        for b in items or []
        if isinstance(b, dict) and str(b.get("id") or "").isdigit()
    ]
