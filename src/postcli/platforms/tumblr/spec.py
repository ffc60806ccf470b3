"""Tumblr, as the rest of postcli sees it (platforms/spec.py)."""

from __future__ import annotations

from postcli.platforms.spec import EnvSecret, Option, PlatformSpec, SignIn

SPEC = PlatformSpec(
    name="tumblr",
    display_name="Tumblr",
    adapter="postcli.platforms.tumblr.adapter:TumblrAdapter",
    hosts={"api": "https://api.tumblr.com", "oauth": "https://api.tumblr.com", "dialog": "https://www.tumblr.com"},
    summary="a Tumblr blog (OAuth2 tokens)",
    add_help=(
        "Connect a Tumblr blog with OAuth2 tokens.\n\n"
        "The access token is read from a hidden prompt, --token-stdin, or POSTCLI_TUMBLR_TOKEN. To "
        "refresh it when it expires, postcli needs the refresh token (scope offline_access) in "
        "POSTCLI_TUMBLR_REFRESH_TOKEN, the app's secret in POSTCLI_TUMBLR_CLIENT_SECRET and --client-id."
    ),
    docs="docs/platforms/tumblr.md",
    options=(
        Option(
            "--blog",
            "BLOG",
            "The blog to post to, e.g. myblog (or myblog.tumblr.com).",
            add="required",
            login="required",
        ),
        Option(
            "--client-id",
            "ID",
            "Your Tumblr app's OAuth2 client id (to refresh tokens).",
            login="no",
            role="setting:client_id",
        ),
    ),
    env_secrets=(
        EnvSecret("refresh_token", "POSTCLI_TUMBLR_REFRESH_TOKEN", "the OAuth2 refresh token (scope offline_access)"),
        EnvSecret("client_secret", "POSTCLI_TUMBLR_CLIENT_SECRET", "your Tumblr app's secret (to refresh tokens)"),
    ),
    secrets=("access token", "refresh token", "app secret"),
    signin=SignIn(
        authorize_url="{dialog}/oauth2/authorize",
        token_url="{oauth}/v2/oauth2/token",
        scopes=("basic", "write", "offline_access"),
        pkce=False,
        redirect="loopback-fixed",
        default_port=8765,
        console="https://www.tumblr.com/oauth/apps",
        keep_secrets={"client_secret": "client_secret", "refresh_token": "refresh_token"},
        keep_settings={"client_id": "client_id"},
    ),
    # Tumblr's documented 1,000 requests per hour per app.
    rate_limit=(1000, 3600),
    import_hosts=("tumblr.com",),
    import_example="https://myblog.tumblr.com/post/7123…",
    reconnect_add="postcli accounts add tumblr --blog {handle} (with new OAuth2 tokens)",
    reconnect_login="postcli accounts login tumblr --blog {handle}",
    metrics=("likes", "comments", "shares"),
    account_metrics=("followers", "posts_count"),
    metrics_note="Tumblr reports notes (likes, reblogs, replies), no impressions or reach.",
)
