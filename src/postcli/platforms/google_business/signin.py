"""Google Business Profile's sign-in steps: Google's installed-app flow (google_oauth.GoogleSignIn),
then which location to post to, asked right after the consent when the Google account manages
several and no --location was given."""

from __future__ import annotations

from typing import Any

from postcli.platforms.base import AccountContext
from postcli.platforms.google_oauth import GoogleSignIn
from postcli.platforms.spec import AppCredentials, Connection, SignInContext


class GoogleBusinessSignIn(GoogleSignIn):
    def finish(self, ctx: SignInContext, app: AppCredentials, token: dict[str, Any], base: str | None) -> Connection:
        conn = super().finish(ctx, app, token, base)
        if not conn.identifier:
            conn.identifier = choose_location(ctx, token["access_token"])
        return conn


def choose_location(ctx: SignInContext, access_token: str) -> str | None:
    """The location the user picks; None (one location, or no answer) leaves it to the adapter,
    which takes the only one or refuses listing them (exit 2)."""
    from postcli.platforms.google_business.adapter import GoogleBusinessAdapter
    from postcli.platforms.google_business.locations import list_locations

    lister = GoogleBusinessAdapter(
        AccountContext(
            platform=ctx.platform,
            api_base_url=ctx.api_base or "",
            secrets={"access_token": access_token},
            timeout=ctx.timeout,
        )
    )
    found = list_locations(lister)
    if len(found) < 2:
        return None
    return ctx.choose(
        "The Google account manages several Business Profile locations:", [(loc.id, loc.label) for loc in found]
    )
