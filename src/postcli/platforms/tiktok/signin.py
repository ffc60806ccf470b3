"""TikTok's sign-in steps beyond the shared flow: the two lifetimes of the token answer
(access 24 hours, refresh 365 days: expires_in, refresh_expires_in) kept beside the tokens,
and the scopes the user granted (TikTok lets the user untick some) kept in the settings.

The rest is data in the spec: Login Kit for desktop's client_key and hex PKCE challenge
(developers.tiktok.com/doc/login-kit-desktop), comma-separated scopes, the loopback redirect.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from postcli.platforms.spec import AppCredentials, Connection, SignInContext, SignInHooks
from postcli.platforms.tiktok.api import ACCESS_TTL, REFRESH_TTL
from postcli.platforms.values import int_or_none


class TikTokSignIn(SignInHooks):
    def finish(self, ctx: SignInContext, app: AppCredentials, token: dict[str, Any], base: str | None) -> Connection:
        conn = super().finish(ctx, app, token, base)
        now = datetime.now(timezone.utc)
        access_s, refresh_s = int_or_none(token.get("expires_in")), int_or_none(token.get("refresh_expires_in"))
        conn.extra_secrets["expires_at"] = (now + (timedelta(seconds=access_s) if access_s else ACCESS_TTL)).isoformat()
        if conn.extra_secrets.get("refresh_token"):
            refresh_at = now + (timedelta(seconds=refresh_s) if refresh_s else REFRESH_TTL)
            conn.extra_secrets["refresh_expires_at"] = refresh_at.isoformat()
        scope = token.get("scope")
        if isinstance(scope, str) and scope:
            conn.extra_settings["scopes"] = sorted(s for s in scope.split(",") if s)
        return conn
