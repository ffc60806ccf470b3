"""LinkedIn's sign-in steps around the shared authorization code flow.

A scope the app was not granted (each comes with a product added in the developer portal)
makes LinkedIn refuse the whole consent with `unauthorized_scope_error`
(learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow), so
postcli asks only for the member scopes, the Page scopes with --org, or what the user names
(--scopes, or [apps.linkedin] scopes); a refusal names the scopes to drop. The token answer's
lifetime (expires_in: 60 days) and granted scopes go with the account.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from postcli.platforms.linkedin.api import scope_list
from postcli.platforms.linkedin.spec import MEMBER_SCOPES, ORG_SCOPES
from postcli.platforms.spec import AppCredentials, Connection, SignInContext, SignInHooks
from postcli.platforms.values import int_or_none


class LinkedInSignIn(SignInHooks):
    def scopes(self, ctx: SignInContext, app: AppCredentials) -> tuple[str, ...]:
        assert self.spec.signin is not None
        if ctx.scopes != self.spec.signin.scopes:
            return ctx.scopes  # --scopes
        configured = ctx.app_setting("scopes")
        if configured:
            return tuple(s for s in configured.replace(",", " ").split() if s)
        return MEMBER_SCOPES + (ORG_SCOPES if ctx.option("org") else ())

    def refused(self, ctx: SignInContext, scopes: tuple[str, ...], error: str, description: str) -> str | None:
        if error != "unauthorized_scope_error":
            return None
        lacking = [s for s in scopes if re.search(rf"(?<![\w.]){re.escape(s)}(?![\w.])", description)]
        if not lacking:
            return (
                "Your LinkedIn app lacks one of the scopes asked for: "
                f"{' '.join(scopes)}. Ask only for those its products grant (--scopes)."
            )
        keep = [s for s in scopes if s not in lacking]
        return (
            f"Your LinkedIn app does not have {', '.join(lacking)} (each scope comes with a product added to "
            "the app in the developer portal). Add that product, or ask only for what the app has: "
            f'postcli accounts login linkedin --scopes "{" ".join(keep)}" (or [apps.linkedin] scopes in the config).'
        )

    def finish(self, ctx: SignInContext, app: AppCredentials, token: dict[str, Any], base: str | None) -> Connection:
        conn = super().finish(ctx, app, token, base)
        now = datetime.now(timezone.utc)
        secrets: dict[str, Any] = {"client_secret": app.client_secret}
        expires_in = int_or_none(token.get("expires_in"))
        if expires_in:
            secrets["expires_at"] = (now + timedelta(seconds=expires_in)).isoformat()
        if isinstance(token.get("refresh_token"), str) and token["refresh_token"]:
            secrets["refresh_token"] = token["refresh_token"]
            refresh_in = int_or_none(token.get("refresh_token_expires_in"))
            if refresh_in:
                secrets["refresh_expires_at"] = (now + timedelta(seconds=refresh_in)).isoformat()
        # Consent is all or nothing: without a `scope` in the answer, what was asked was granted.
        granted = scope_list(token.get("scope")) or sorted(self.scopes(ctx, app))
        conn.extra_secrets = {**conn.extra_secrets, **{k: v for k, v in secrets.items() if v}}
        conn.extra_settings = {**conn.extra_settings, "client_id": app.client_id, "scopes": granted}
        return conn
