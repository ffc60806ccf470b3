"""X (API v2), as the rest of postcli sees it (platforms/spec.py)."""

from __future__ import annotations

from postcli.platforms.spec import EnvSecret, Field, Option, PlatformSpec, SignIn

SPEC = PlatformSpec(
    name="x",
    display_name="X",
    adapter="postcli.platforms.x.adapter:XAdapter",
    # docs.x.com: the API and its token endpoint on api.x.com, the consent page on x.com,
    # post links on x.com.
    hosts={
        "api": "https://api.x.com",
        "oauth": "https://api.x.com",
        "upload": "https://api.x.com",
        "dialog": "https://x.com",
        "web": "https://x.com",
    },
    summary="an X account (OAuth 2.0 user token; posting is billed by X per post)",
    add_help=(
        "Connect an X account with an OAuth 2.0 user access token (scopes tweet.read tweet.write "
        "users.read media.write offline.access).\n\n"
        "The token is read from a hidden prompt, --token-stdin, or POSTCLI_X_TOKEN. X access tokens "
        "last 2 hours; for postcli to refresh them give the refresh token in POSTCLI_X_REFRESH_TOKEN "
        "and your app's --client-id (and POSTCLI_X_CLIENT_SECRET for a confidential app). "
        "`postcli accounts login x` does all of this in the browser."
    ),
    docs="docs/platforms/x.md",
    options=(
        Option(
            "--client-id",
            "ID",
            "Your X app's OAuth 2.0 client id (to refresh tokens).",
            login="no",
            role="setting:client_id",
        ),
    ),
    env_secrets=(
        EnvSecret("refresh_token", "POSTCLI_X_REFRESH_TOKEN", "the OAuth 2.0 refresh token (scope offline.access)"),
        EnvSecret("client_secret", "POSTCLI_X_CLIENT_SECRET", "your X app's client secret (confidential apps)"),
    ),
    secrets=("access token", "refresh token", "client secret (confidential apps)"),
    signin=SignIn(
        authorize_url="{dialog}/i/oauth2/authorize",
        token_url="{oauth}/2/oauth2/token",
        scopes=("tweet.read", "tweet.write", "users.read", "media.write", "offline.access"),
        # Confidential apps (Web App, Automated App or bot) authenticate with HTTP Basic; public
        # ones (Native App) have no secret and send client_id in the body.
        client_auth="client_secret_basic",
        pkce=True,
        # X compares the whole callback URL with the one registered in the app.
        redirect="loopback-fixed",
        default_port=8765,
        secret_optional=True,
        console="https://console.x.com (an app with OAuth 2.0 turned on, Read and write)",
        keep_secrets={"client_secret": "client_secret", "refresh_token": "refresh_token"},
        keep_settings={"client_id": "client_id"},
        hooks="postcli.platforms.x.signin:XSignIn",
    ),
    # The budget for collect: X's tightest per-user window it touches is GET /2/users/me
    # (75 per 15 minutes); GET /2/tweets takes 100 posts a call. The x-rate-limit-* headers
    # of every answer stop requests to an endpoint whose window is spent.
    rate_limit=(300, 900),
    parallel=2,
    import_hosts=("x.com", "twitter.com"),
    import_bare_ids=True,
    import_example="https://x.com/<user>/status/<id>",
    reconnect_add="postcli accounts add x (with a new token)",
    reconnect_login="postcli accounts login x",
    fields=(
        Field(
            "reply_settings",
            "Who can reply (default: everyone).",
            kind="choice",
            choices=("following", "mentionedUsers", "subscribers", "verified"),
        ),
    ),
    # issue 28: a thread is a reply chain (reply.in_reply_to_tweet_id); a first comment is a
    # self-reply under the post.
    publishes=("text", "images", "video", "thread", "first_comment"),
    metrics=("impressions", "likes", "comments", "shares", "quotes", "saves", "clicks", "video_views"),
    account_metrics=("followers", "following", "posts_count"),
    metrics_note=(
        "Clicks (url_link_clicks) come only for your own posts of the last 30 days; X reports no reach. "
        "Every post read and every post made is billed by X (pay-per-use)."
    ),
)
