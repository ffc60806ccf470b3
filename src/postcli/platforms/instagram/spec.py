"""Instagram (Instagram API with Instagram Login), as the rest of postcli sees it (platforms/spec.py)."""

from __future__ import annotations

from postcli.platforms.graph_version import graph_version_option
from postcli.platforms.spec import EnvSecret, PlatformSpec, SignIn

SPEC = PlatformSpec(
    name="instagram",
    display_name="Instagram",
    adapter="postcli.platforms.instagram.adapter:InstagramAdapter",
    hosts={
        "api": "https://graph.instagram.com",
        "oauth": "https://api.instagram.com",
        "dialog": "https://www.instagram.com",
    },
    summary="an Instagram professional account (Instagram Login)",
    add_help=(
        "Connect an Instagram professional account (Instagram Login) with a long-lived token.\n\n"
        "The token (scopes instagram_business_basic, instagram_business_content_publish, "
        "instagram_business_manage_insights; instagram_business_manage_comments for --first-comment) "
        "is read from a hidden prompt, --token-stdin, or "
        "POSTCLI_INSTAGRAM_TOKEN. A short-lived token is exchanged for a long-lived one when "
        "POSTCLI_INSTAGRAM_APP_SECRET is set. Publishing media needs the S3 media store: "
        "Instagram fetches images and videos from a public URL."
    ),
    docs="docs/platforms/instagram.md",
    options=(graph_version_option(),),
    env_secrets=(
        EnvSecret(
            "app_secret", "POSTCLI_INSTAGRAM_APP_SECRET", "your Meta app's secret (to exchange a short-lived token)"
        ),
    ),
    secrets=("access token (60 days, refreshed)", "app secret (optional)"),
    signin=SignIn(
        authorize_url="{dialog}/oauth/authorize",
        token_url="{oauth}/oauth/access_token",
        scopes=(
            "instagram_business_basic",
            "instagram_business_content_publish",
            "instagram_business_manage_insights",
            "instagram_business_manage_comments",  # --first-comment
        ),
        scope_separator=",",
        pkce=False,
        redirect="https",
        console="https://developers.facebook.com/apps (product: Instagram API with Instagram Login)",
        keep_secrets={"app_secret": "client_secret"},
    ),
    rate_limit=(200, 3600),
    import_hosts=("instagram.com", "instagr.am"),
    import_example="https://www.instagram.com/p/C9…/",
    reconnect_add="postcli accounts add instagram (with a new long-lived token)",
    reconnect_login="postcli accounts login instagram --redirect-uri YOUR_HTTPS_REDIRECT",
    metrics=("views", "reach", "likes", "comments", "shares", "saves"),
    account_metrics=("followers", "following", "posts_count", "reach", "profile_views"),
    metrics_note="Instagram replaced impressions with views in 2025; no clicks per post.",
    # issue 28: a thread is a reply chain; a first comment is a self-reply (threading platforms)
    # or a comment under the post (Instagram, Facebook).
    publishes=("text", "images", "video", "first_comment"),
)
