"""Reddit's sign-in steps around the shared code flow: a permanent grant (the only way to get a
refresh token), and Reddit's User-Agent on the code exchange.

github.com/reddit-archive/reddit/wiki/OAuth2: "duration: Either temporary or permanent";
only a permanent grant's answer carries a refresh_token. The token endpoint takes the
installed app's client id as the Basic user name with an empty password (the spec's
public_client_auth) and answers a bad code with HTTP 200 {"error": "invalid_grant"}, which
the shared exchange reads from the body.
"""

from __future__ import annotations

from typing import Any

from postcli.errors import SignInFailed
from postcli.platforms.reddit.wire import user_agent
from postcli.platforms.spec import AppCredentials, Connection, SignInContext, SignInHooks


class RedditSignIn(SignInHooks):
    def authorize_params(self, ctx: SignInContext, app: AppCredentials) -> dict[str, str]:
        return {"duration": "permanent"}

    def headers(self, ctx: SignInContext, app: AppCredentials) -> dict[str, str]:
        return {"User-Agent": user_agent(ctx.option("user"))}

    def finish(self, ctx: SignInContext, app: AppCredentials, token: dict[str, Any], base: str | None) -> Connection:
        if not token.get("refresh_token"):
            # A temporary grant dies within the hour and cannot be renewed: store nothing.
            raise SignInFailed(
                "Reddit sent no refresh token (the grant is not permanent); nothing was stored.",
                hint="Run the command again and approve the access on Reddit's page.",
            )
        return super().finish(ctx, app, token, base)
