"""X's sign-in step of its own: the access token's lifetime goes with the account.

X answers the code exchange with {"token_type": "bearer", "expires_in": 7200,
"access_token", "scope", "refresh_token"} (docs.x.com, fundamentals/authentication/oauth-2-0/
user-access-token, "Step 3"); the adapter's connect turns the kept "expires_at" into the
account's token expiry, so `accounts list` and `accounts health` show it from the start.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from postcli.platforms.spec import AppCredentials, Connection, SignInContext, SignInHooks
from postcli.platforms.values import int_or_none


class XSignIn(SignInHooks):
    def finish(self, ctx: SignInContext, app: AppCredentials, token: dict[str, Any], base: str | None) -> Connection:
        conn = super().finish(ctx, app, token, base)
        lifetime = int_or_none(token.get("expires_in"))
        if lifetime is not None and lifetime > 0:
            expires = datetime.now(timezone.utc) + timedelta(seconds=lifetime)
            conn.extra_secrets["expires_at"] = expires.isoformat()
        return conn
