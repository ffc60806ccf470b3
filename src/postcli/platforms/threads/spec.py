"""Threads, as the rest of postcli sees it (platforms/spec.py)."""

from __future__ import annotations

from postcli.platforms.spec import EnvSecret, PlatformSpec, SignIn

SPEC = PlatformSpec(
    name="threads",
    display_name="Threads",
    adapter="postcli.platforms.threads.adapter:ThreadsAdapter",
    hosts={"api": "https://graph.threads.net", "oauth": "https://graph.threads.net", "dialog": "https://threads.net"},
    summary="a Threads profile (long-lived token from your Meta app)",
    add_help=(
        "Connect a Threads profile with a long-lived access token.\n\n"
        "The token (scopes threads_basic, threads_content_publish, threads_manage_insights, and "
        "threads_delete for `post delete --remote`) is read from a hidden prompt, --token-stdin, or "
        "POSTCLI_THREADS_TOKEN. A short-lived token is exchanged for a long-lived one when "
        "POSTCLI_THREADS_APP_SECRET is set. postcli refreshes the token before it expires "
        "(`postcli accounts health`)."
    ),
    docs="docs/platforms/threads.md",
    env_secrets=(
        EnvSecret(
            "app_secret", "POSTCLI_THREADS_APP_SECRET", "your Meta app's secret (to exchange a short-lived token)"
        ),
    ),
    secrets=("access token (60 days, refreshed)", "app secret (optional)"),
    signin=SignIn(
        authorize_url="{dialog}/oauth/authorize",
        token_url="{oauth}/oauth/access_token",
        scopes=("threads_basic", "threads_content_publish", "threads_manage_insights", "threads_delete"),
        scope_separator=",",
        pkce=False,
        redirect="https",
        console="https://developers.facebook.com/apps (use case: Access the Threads API)",
        keep_secrets={"app_secret": "client_secret"},
    ),
    # Meta's platform rate limit: about 200 calls per user per hour.
    rate_limit=(200, 3600),
    import_hosts=("threads.net", "threads.com"),
    import_example="https://www.threads.net/@alice/post/C9…",
    reconnect_add="postcli accounts add threads (with a new long-lived token)",
    reconnect_login="postcli accounts login threads --redirect-uri YOUR_HTTPS_REDIRECT",
    metrics=("views", "likes", "comments", "shares", "quotes"),
    account_metrics=("followers",),
    metrics_note="Threads reports no impressions or reach per post; its own 'shares' (sends) stay in raw.",
    # issue 28: a thread is a reply chain; a first comment is a self-reply (threading platforms)
    # or a comment under the post (Instagram, Facebook).
    publishes=("text", "images", "video", "thread", "first_comment"),
)
