"""Facebook's sign-in steps: Facebook Login for Business' configuration, and which Page to
post as, asked right after the consent (not after a second sign-in) when the user manages
several and gave no --page."""

from __future__ import annotations

from typing import Any

from postcli.errors import PlatformUnavailable
from postcli.platforms.spec import AppCredentials, Connection, SignInContext, SignInHooks


class FacebookSignIn(SignInHooks):
    def _config_id(self, ctx: SignInContext) -> str | None:
        # Facebook Login for Business: the dialog takes a configuration made in the app
        # dashboard (token type, assets, permissions) instead of `scope`
        # (developers.facebook.com/docs/facebook-login/facebook-login-for-business).
        return ctx.option("config_id") or ctx.app_setting("config_id")

    def authorize_params(self, ctx: SignInContext, app: AppCredentials) -> dict[str, str]:
        config_id = self._config_id(ctx)
        return {"config_id": config_id} if config_id else {}

    def scopes(self, ctx: SignInContext, app: AppCredentials) -> tuple[str, ...]:
        return () if self._config_id(ctx) else ctx.scopes

    def finish(self, ctx: SignInContext, app: AppCredentials, token: dict[str, Any], base: str | None) -> Connection:
        # A user token: the adapter makes it long-lived with the app id/secret and keeps the Page's token.
        conn = super().finish(ctx, app, token, base)
        if not conn.identifier:
            api = self.spec.host("api", ctx.api_base)
            conn.identifier = choose_page(ctx, api, token["access_token"])
        return conn


def managed_pages(api: str, version: str, user_token: str, *, timeout: float) -> list[tuple[str, str]]:
    """(id, name) of the Pages the user token manages (the first 100; --page reaches the rest)."""
    import httpx

    from postcli.platforms.tls import context

    try:
        with httpx.Client(timeout=timeout, verify=context()) as http:
            response = http.get(
                f"{api}/{version}/me/accounts",
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


def choose_page(ctx: SignInContext, api: str, user_token: str) -> str | None:
    """The Page id the user picks, or None to let the adapter decide (one Page) or explain (several)."""
    pages = managed_pages(api, ctx.graph_version, user_token, timeout=ctx.timeout)
    if len(pages) < 2:
        return None
    return ctx.choose("You manage several Facebook Pages:", pages)
