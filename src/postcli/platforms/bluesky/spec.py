"""Bluesky, as the rest of postcli sees it (platforms/spec.py)."""

from __future__ import annotations

from postcli.platforms.spec import Credential, Option, PlatformSpec, SignIn

DEFAULT_SERVICE = "https://bsky.social"

SPEC = PlatformSpec(
    name="bluesky",
    display_name="Bluesky",
    adapter="postcli.platforms.bluesky.adapter:BlueskyAdapter",
    hosts={"api": DEFAULT_SERVICE, "web": "https://bsky.app"},
    summary="a Bluesky account (app password, or AT Protocol OAuth in the browser)",
    add_help=(
        "Connect a Bluesky account with an app password (Settings -> App passwords).\n\n"
        "The password is read from a hidden prompt, --password-stdin, or POSTCLI_BLUESKY_PASSWORD. "
        "postcli logs in once and reuses the session. For unattended use (cron) an app password "
        "is the better choice: a browser sign-in's session ends after two weeks."
    ),
    docs="docs/platforms/bluesky.md",
    options=(
        Option(
            "--handle",
            "HANDLE",
            "Your handle, e.g. alice.bsky.social (or your DID).",
            add="required",
            login="required",
            strip="@",
        ),
        Option(
            "--service",
            "URL",
            "Your PDS URL (for self-hosted servers); for a sign-in, the service that resolves the handle.",
            role="base_url",
            default=DEFAULT_SERVICE,
        ),
    ),
    api_base_option=False,
    credential=Credential("app password", stdin_flag="--password-stdin", kind="password"),
    secrets=("app password or OAuth session", "session tokens", "DPoP key (OAuth)"),
    signin=SignIn(
        authorize_url="",  # discovered: handle -> DID -> PDS -> authorization server
        token_url="",
        scopes=("atproto", "transition:generic"),
        needs_app=False,
        hooks="postcli.platforms.bluesky.signin:BlueskySignIn",
        kind="AT Protocol OAuth (PAR, PKCE, DPoP), loopback client",
    ),
    # The AppView's documented limit: 3000 requests per 5 minutes per IP.
    rate_limit=(3000, 300),
    parallel=8,
    import_hosts=("bsky.app",),
    import_schemes=("at://",),
    import_example="https://bsky.app/profile/alice.bsky.social/post/3k…",
    reconnect_add="postcli accounts add bluesky --handle {handle} --service {base}",
    reconnect_login="postcli accounts login bluesky --handle {handle} --service {base}",
    metrics=("likes", "comments", "shares", "quotes"),
    account_metrics=("followers", "following", "posts_count"),
    metrics_note="Bluesky reports no impressions, reach or views.",
    # issue 28: a thread is a reply chain; a first comment is a self-reply (threading platforms)
    # or a comment under the post (Instagram, Facebook).
    publishes=("text", "images", "video", "thread", "first_comment"),
)
