"""What differs between platforms' sign-in, as data.

Endpoint URLs may hold `{instance}` (Mastodon: the instance URL), `{api}` (the
platform's API base, overridable with --api-base) and `{dialog}` (the host of
the consent page, overridable with --authorize-url for proxies and tests).
"""

from __future__ import annotations

from dataclasses import dataclass

from postcli.errors import InvalidInput

# The Graph API version of the Facebook dialog and code exchange: the one the adapter uses.
META_GRAPH_VERSION = "v26.0"


@dataclass(frozen=True)
class Profile:
    platform: str
    authorize_url: str
    token_url: str
    scopes: tuple[str, ...]
    # Meta joins scopes with commas; OAuth 2.0 says spaces.
    scope_separator: str = " "
    # authlib's token_endpoint_auth_method: client_secret_post | client_secret_basic | none
    client_auth: str = "client_secret_post"
    # Sent only where the platform documents PKCE; a server that ignores it would be harmless,
    # but one that half-supports it (e.g. rejects code_verifier) is not.
    pkce: bool = True
    # Mastodon: postcli registers itself on each instance (POST /api/v1/apps); no console.
    registers_app: bool = False
    # Meta's Instagram Login and Threads refuse http redirect URIs: a registered https one
    # (--redirect-uri) and the paste-back path are needed.
    https_redirect_only: bool = False
    # Where the platform matches redirect URIs exactly (no RFC 8252 any-port rule), the
    # registered http://127.0.0.1:PORT/callback needs a fixed port (--port overrides).
    default_port: int = 0
    # The step after the code exchange, by name (services/signin.py).
    finish: str = "plain"
    console: str = ""
    default_api: str = ""
    default_dialog: str = ""


def _meta_login(
    platform: str, *, scopes: tuple[str, ...], console: str, default_api: str, default_dialog: str
) -> Profile:
    """Threads and Instagram Login: one Meta flow (comma-joined scopes, no PKCE, https redirects only)."""
    return Profile(
        platform=platform,
        authorize_url="{dialog}/oauth/authorize",
        token_url="{api}/oauth/access_token",
        scopes=scopes,
        scope_separator=",",
        pkce=False,
        https_redirect_only=True,
        finish=platform,
        console=console,
        default_api=default_api,
        default_dialog=default_dialog,
    )


PROFILES: dict[str, Profile] = {
    "mastodon": Profile(
        platform="mastodon",
        authorize_url="{instance}/oauth/authorize",
        token_url="{instance}/oauth/token",
        scopes=("read", "write"),
        client_auth="client_secret_post",
        registers_app=True,
        finish="mastodon",
        console="none: postcli registers itself on your instance",
    ),
    "threads": _meta_login(
        "threads",
        scopes=("threads_basic", "threads_content_publish", "threads_manage_insights", "threads_delete"),
        console="https://developers.facebook.com/apps (use case: Access the Threads API)",
        default_api="https://graph.threads.net",
        default_dialog="https://threads.net",
    ),
    "instagram": _meta_login(
        "instagram",
        scopes=(
            "instagram_business_basic",
            "instagram_business_content_publish",
            "instagram_business_manage_insights",
        ),
        console="https://developers.facebook.com/apps (product: Instagram API with Instagram Login)",
        default_api="https://api.instagram.com",
        default_dialog="https://www.instagram.com",
    ),
    "facebook": Profile(
        platform="facebook",
        authorize_url="{dialog}/" + META_GRAPH_VERSION + "/dialog/oauth",
        token_url="{api}/" + META_GRAPH_VERSION + "/oauth/access_token",
        scopes=("pages_show_list", "pages_manage_posts", "pages_read_engagement", "read_insights"),
        scope_separator=",",
        pkce=False,
        default_port=8765,
        finish="facebook",
        console="https://developers.facebook.com/apps (product: Facebook Login for Business)",
        default_api="https://graph.facebook.com",
        default_dialog="https://www.facebook.com",
    ),
    "tumblr": Profile(
        platform="tumblr",
        authorize_url="{dialog}/oauth2/authorize",
        token_url="{api}/v2/oauth2/token",
        scopes=("basic", "write", "offline_access"),
        pkce=False,
        default_port=8765,
        finish="tumblr",
        console="https://www.tumblr.com/oauth/apps",
        default_api="https://api.tumblr.com",
        default_dialog="https://www.tumblr.com",
    ),
}


def profile(platform: str) -> Profile:
    try:
        return PROFILES[platform]
    except KeyError:
        hint = "Browser sign-in works for: " + ", ".join(sorted([*PROFILES, "bluesky"])) + "."
        raise InvalidInput(f"browser sign-in is not available for {platform!r}.", hint=hint) from None
