"""LinkedIn, as the rest of postcli sees it (platforms/spec.py)."""

from __future__ import annotations

from postcli.errors import InvalidInput
from postcli.platforms.linkedin.text import org_id
from postcli.platforms.spec import EnvSecret, Field, Option, PlatformSpec, SignIn

# The scopes every sign-in asks for: Sign In with LinkedIn using OpenID Connect (openid,
# profile: /v2/userinfo) and Share on LinkedIn (w_member_social). A scope the app was not
# granted makes the whole consent fail, so the others are asked only when told.
MEMBER_SCOPES = ("openid", "profile", "w_member_social")
# Posting as a Page and its statistics (Community Management API).
ORG_SCOPES = ("w_organization_social", "r_organization_social", "rw_organization_admin")


def _check_org(value: str) -> str:
    found = org_id(value)
    if found is None:
        raise InvalidInput(
            f"--org {value!r} is not a LinkedIn organization.",
            hint="Give the Page's number (linkedin.com/company/<number>/admin) or urn:li:organization:<number>.",
        )
    return found


def _reconnect_options(external_id: str | None) -> str:
    org = org_id(external_id or "")
    return f" --org {org}" if org else ""


SPEC = PlatformSpec(
    name="linkedin",
    display_name="LinkedIn",
    adapter="postcli.platforms.linkedin.adapter:LinkedInAdapter",
    hosts={
        "api": "https://api.linkedin.com",
        "oauth": "https://www.linkedin.com",
        "dialog": "https://www.linkedin.com",
        "web": "https://www.linkedin.com",
    },
    summary="a LinkedIn member, or a Page the member administers (--org)",
    add_help=(
        "Connect a LinkedIn member (or, with --org, an organization Page the member administers) "
        "with an OAuth 2.0 access token of your own LinkedIn app.\n\n"
        "The token (scopes openid profile w_member_social; for a Page also w_organization_social "
        "r_organization_social rw_organization_admin) is read from a hidden prompt, --token-stdin, "
        "or POSTCLI_LINKEDIN_TOKEN. With --client-id and POSTCLI_LINKEDIN_CLIENT_SECRET postcli reads "
        "the token's expiry and scopes, and refreshes it where the app has programmatic refresh "
        "(POSTCLI_LINKEDIN_REFRESH_TOKEN). `postcli accounts login linkedin` does all of it in the browser."
    ),
    docs="docs/platforms/linkedin.md",
    publishes=("text", "images", "video", "first_comment"),
    options=(
        Option(
            "--org",
            "ID",
            "Post as this organization Page (its number, or urn:li:organization:N); you must be its "
            "ADMINISTRATOR, CONTENT_ADMIN or DIRECT_SPONSORED_CONTENT_POSTER. Default: as yourself.",
            check=_check_org,
        ),
        Option(
            "--client-id",
            "ID",
            "Your LinkedIn app's client id (to read the token's expiry and scopes, and to refresh it).",
            login="no",
            role="setting:client_id",
        ),
    ),
    env_secrets=(
        EnvSecret(
            "client_secret",
            "POSTCLI_LINKEDIN_CLIENT_SECRET",
            "your LinkedIn app's client secret (token introspection and refresh)",
        ),
        EnvSecret(
            "refresh_token",
            "POSTCLI_LINKEDIN_REFRESH_TOKEN",
            "a refresh token, where your app has programmatic refresh",
        ),
    ),
    secrets=("access token", "refresh token (where the app has programmatic refresh)", "app secret"),
    signin=SignIn(
        # learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow:
        # the redirect must match a registered one exactly; the client id and secret go in the
        # form body of the token request; no PKCE for web apps.
        authorize_url="{dialog}/oauth/v2/authorization",
        token_url="{oauth}/oauth/v2/accessToken",
        scopes=MEMBER_SCOPES,
        client_auth="client_secret_post",
        pkce=False,
        redirect="loopback-fixed",
        default_port=8765,
        console="https://www.linkedin.com/developers/apps",
        hooks="postcli.platforms.linkedin.signin:LinkedInSignIn",
    ),
    # LinkedIn's limits are per endpoint and per day, shown only in the app's Analytics tab;
    # a 429 defers the account to the next 00:00 UTC. [collect.rate_limits] linkedin sets one.
    rate_limit=None,
    import_hosts=("linkedin.com",),
    import_schemes=("urn:li:",),
    import_example="https://www.linkedin.com/feed/update/urn:li:share:7…/",
    reconnect_add="postcli accounts add linkedin{options} --client-id ID (with a new access token)",
    reconnect_login="postcli accounts login linkedin{options}",
    reconnect_options=_reconnect_options,
    fields=(
        Field(
            "visibility",
            "Who can see the post: PUBLIC (anyone), CONNECTIONS (your 1st-degree connections; not for "
            "Pages), LOGGED_IN (members who are signed in).",
            kind="choice",
            choices=("PUBLIC", "CONNECTIONS", "LOGGED_IN"),
            default="PUBLIC",
        ),
    ),
    metrics=("impressions", "reach", "likes", "comments", "shares", "clicks"),
    account_metrics=("followers",),
    metrics_note=(
        "Member posts: impressions, members reached, reactions, comments and reshares with "
        "r_member_postAnalytics; Page posts add clicks (rw_organization_admin). Without those the "
        "counters stay null."
    ),
)
