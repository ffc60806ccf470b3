"""Google's OAuth 2.0 for installed apps, shared by every Google platform (YouTube today,
Google Business Profile next): the sign-in as spec data, the `--app-status` option, and
how long a refresh token lives.

The flow (developers.google.com/identity/protocols/oauth2/native-app): the consent page
at accounts.google.com/o/oauth2/v2/auth with a loopback redirect on any port
(http://127.0.0.1:PORT/callback) and PKCE S256; the code is traded at
oauth2.googleapis.com/token with the Desktop client's id and secret in the form body.
The consent page also gets access_type=offline and prompt=consent: the first asks for a
refresh token (the web-server flow's rule; harmless for installed apps), the second makes
Google send one on every sign-in, not only the first ("Refresh token" sections of the
OAuth 2.0 guides), so signing in again always leaves postcli able to refresh. A refresh
answers a new access token (one hour) and no new refresh token: Google's refresh tokens do
not rotate.

A refresh token dies after 7 days when the app's OAuth consent screen is External and
its publishing status is "Testing" (Google's default for a new app; "Using OAuth 2.0 to
Access Google APIs", "Refresh token expiration"), unless Google's answer says otherwise
(`refresh_token_expires_in`, sent for time-limited grants). postcli cannot ask Google
which status the app has, so the user says it (`--app-status`, default testing) and
postcli tracks the end of the sign-in (the account's token_expires_at) and warns.

Cheap to import (no httpx): specs read it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from postcli.errors import InvalidInput, SignInFailed
from postcli.platforms.spec import AppCredentials, Connection, EnvSecret, Option, SignIn, SignInContext, SignInHooks
from postcli.platforms.values import as_utc, int_or_none

DIALOG_HOST = "https://accounts.google.com"
TOKEN_HOST = "https://oauth2.googleapis.com"
AUTHORIZE_PATH = "/o/oauth2/v2/auth"
TOKEN_PATH = "/token"
CONSOLE = "https://console.cloud.google.com/apis/credentials (OAuth client ID, application type Desktop app)"

# An External app in "Testing": its refresh tokens expire 7 days after they are issued.
TESTING_REFRESH_LIFETIME = timedelta(days=7)
APP_STATUSES = ("testing", "production")
# Warn this long before a sign-in ends (accounts health, the adapter's messages).
WARN_BEFORE = timedelta(days=2)
TESTING_NOTE = (
    "Google ends the sign-ins of apps left in Testing after 7 days: publish the app in the Google Cloud "
    "console (Google Auth Platform > Audience > Publish app), then sign in again with --app-status production"
)


def _check_status(value: str) -> str:
    status = value.strip().lower()
    if status not in APP_STATUSES:
        raise InvalidInput(
            f"--app-status {value!r} is not testing or production.",
            hint="Say what the Google Cloud console shows for your app (Google Auth Platform > Audience).",
        )
    return status


def app_status_option() -> Option:
    """`--app-status testing|production`: kept in the account's settings (app_status)."""
    return Option(
        "--app-status",
        "testing|production",
        "Your Google app's publishing status (Google Auth Platform > Audience): 'testing' (the default "
        "for a new app) ends each sign-in after 7 days; 'production' (or an Internal app) does not.",
        default="testing",
        role="setting:app_status",
        check=_check_status,
    )


def client_id_option(name: str) -> Option:
    """`--client-id` for `accounts add` (the sign-in takes it as its own option)."""
    return Option(
        "--client-id",
        "ID",
        f"Your Google app's OAuth client id (to refresh the {name} access token).",
        login="no",
        role="setting:client_id",
    )


def env_secrets(prefix: str) -> tuple[EnvSecret, ...]:
    """What `accounts add` reads beside the access token to keep refreshing it."""
    return (
        EnvSecret("refresh_token", f"{prefix}REFRESH_TOKEN", "the OAuth refresh token"),
        EnvSecret("client_secret", f"{prefix}CLIENT_SECRET", "your Google app's client secret (to refresh tokens)"),
    )


def signin(scopes: tuple[str, ...]) -> SignIn:
    """The sign-in of a Google platform asking for `scopes`."""
    return SignIn(
        authorize_url="{dialog}" + AUTHORIZE_PATH,
        token_url="{oauth}" + TOKEN_PATH,
        scopes=scopes,
        client_auth="client_secret_post",
        pkce=True,
        redirect="loopback",
        console=CONSOLE,
        keep_secrets={"client_secret": "client_secret", "refresh_token": "refresh_token"},
        keep_settings={"client_id": "client_id"},
        hooks="postcli.platforms.google_oauth:GoogleSignIn",
        kind="OAuth 2.0 for installed apps (PKCE)",
    )


def refresh_expiry(answer: dict[str, Any], app_status: str | None, issued: datetime) -> datetime | None:
    """When a refresh token issued at `issued` stops working: Google's own word
    (refresh_token_expires_in) if it gave one, 7 days for an app in Testing, else None."""
    seconds = int_or_none(answer.get("refresh_token_expires_in"))
    if seconds is not None and seconds > 0:
        return issued + timedelta(seconds=seconds)
    if (app_status or "testing") == "testing":
        return issued + TESTING_REFRESH_LIFETIME
    return None


def sign_in_ends(settings: dict[str, Any]) -> datetime | None:
    """The end of the account's sign-in as recorded (settings["refresh_expires_at"])."""
    return as_utc(settings.get("refresh_expires_at"))


def ending_message(ends: datetime | None, now: datetime | None = None) -> str | None:
    """A warning when the sign-in ends within WARN_BEFORE (or has ended); else None."""
    if ends is None:
        return None
    now = now or datetime.now(timezone.utc)
    if ends - now > WARN_BEFORE:
        return None
    when = "ended" if ends <= now else "ends"
    return f"the Google sign-in {when} at {ends:%Y-%m-%d %H:%M} UTC. {TESTING_NOTE}"


class GoogleSignIn(SignInHooks):
    """Asks for a refresh token on every sign-in, and keeps what the shared flow cannot know:
    the app's publishing status and, from it and Google's answer, when the new refresh token
    stops working."""

    def authorize_params(self, ctx: SignInContext, app: AppCredentials) -> dict[str, str]:
        return {"access_type": "offline", "prompt": "consent"}

    def finish(self, ctx: SignInContext, app: AppCredentials, token: dict[str, Any], base: str | None) -> Connection:
        if not token.get("refresh_token"):
            raise SignInFailed(
                "Google sent no refresh token, so the sign-in would end within the hour; nothing was stored.",
                hint="Run the sign-in again; if it persists, remove postcli's access in "
                "https://myaccount.google.com/permissions first.",
            )
        conn = super().finish(ctx, app, token, base)
        status = ctx.option("app_status") or "testing"
        conn.extra_settings["app_status"] = status
        ends = refresh_expiry(token, status, datetime.now(timezone.utc))
        if ends is not None:
            conn.extra_settings["refresh_expires_at"] = ends.isoformat()
        return conn
