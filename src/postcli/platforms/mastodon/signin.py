"""Mastodon's sign-in steps: postcli's application on the instance, registered once
(POST /api/v1/apps), then its client id/secret come from the credentials store
(through the sign-in context: platforms never import the store or signin/).

The redirect URI is registered without a port: Mastodon's OAuth server
(Doorkeeper) ignores the port of loopback redirect URIs (RFC 8252 section 7.3),
so one registration serves every free port the listener picks.
"""

from __future__ import annotations

from postcli.errors import InvalidInput, PlatformUnavailable, PostcliError
from postcli.platforms.spec import AppCredentials, SignInContext, SignInHooks

REDIRECT_URI = "http://127.0.0.1/callback"
CLIENT_NAME = "postcli"
WEBSITE = "https://github.com/postcli/postcli"


def _cache_key(instance: str) -> str:
    return f"mastodon:{instance}"


class MastodonSignIn(SignInHooks):
    def base_url(self, ctx: SignInContext) -> str | None:
        instance = ctx.option("instance")
        if not instance:
            raise InvalidInput(
                "signing in to Mastodon needs your instance.", hint="Add --instance https://your.instance"
            )
        return instance

    def register_app(self, ctx: SignInContext, base: str | None) -> AppCredentials | None:
        assert base is not None
        return app_for(ctx, base, ctx.scopes)

    def registration_failed(self, ctx: SignInContext, base: str | None) -> None:
        # The instance forgot our app (or the admin removed it): register anew next time.
        if base:
            ctx.forget_app(_cache_key(base))


def app_for(ctx: SignInContext, instance: str, scopes: tuple[str, ...]) -> AppCredentials:
    """The cached registration for these scopes, or a new one (an instance refuses scopes
    its app was not registered with)."""
    timeout = ctx.timeout
    cached = ctx.load_app(_cache_key(instance))
    if (
        cached.get("client_id")
        and set(scopes) <= set(cached.get("scopes", []))
        and _still_known(instance, cached["client_id"], cached.get("client_secret") or "", timeout=timeout)
    ):
        return AppCredentials(cached["client_id"], cached.get("client_secret"), source="registered on the instance")
    registered = register(instance, scopes, timeout=timeout)
    ctx.save_app(
        _cache_key(instance),
        {"client_id": registered.client_id, "client_secret": registered.client_secret, "scopes": list(scopes)},
    )
    return registered


def _still_known(instance: str, client_id: str, client_secret: str, *, timeout: float) -> bool:
    """Does the instance still know the cached app? An app-only token (client_credentials)
    answers that before the browser opens: an unknown client would otherwise show the user an
    error page and leave postcli waiting."""
    import httpx

    from postcli.platforms.tls import context

    try:
        with httpx.Client(timeout=timeout, verify=context()) as http:
            response = http.post(
                f"{instance}/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": client_id,
                    "client_secret": client_secret,
                    "scope": "read",
                },
            )
    except httpx.HTTPError as exc:
        raise PlatformUnavailable(
            f"checking postcli's app on {instance}: no answer ({type(exc).__name__}).", platform="mastodon"
        ) from None
    if response.status_code >= 500:
        raise PlatformUnavailable(
            f"checking postcli's app on {instance}: HTTP {response.status_code}.", platform="mastodon"
        )
    return response.status_code == 200


def register(instance: str, scopes: tuple[str, ...], *, timeout: float) -> AppCredentials:
    import httpx

    from postcli.platforms.tls import context

    what = f"registering postcli on {instance}"
    try:
        with httpx.Client(timeout=timeout, verify=context()) as http:
            response = http.post(
                f"{instance}/api/v1/apps",
                data={
                    "client_name": CLIENT_NAME,
                    "redirect_uris": REDIRECT_URI,
                    "scopes": " ".join(scopes),
                    "website": WEBSITE,
                },
            )
    except httpx.HTTPError as exc:
        raise PlatformUnavailable(
            f"{what}: the instance did not answer ({type(exc).__name__}).", platform="mastodon"
        ) from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict) or not body.get("client_id"):
        detail = body.get("error") if isinstance(body, dict) else None
        if response.status_code >= 500:
            raise PlatformUnavailable(f"{what}: HTTP {response.status_code}.", platform="mastodon")
        raise PostcliError(
            f"{what} failed: {detail or f'HTTP {response.status_code}'}.",
            hint="Is this a Mastodon instance? Check --instance; some instances close app registration.",
        )
    return AppCredentials(str(body["client_id"]), body.get("client_secret"), source="registered on the instance")
