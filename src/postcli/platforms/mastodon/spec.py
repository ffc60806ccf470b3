"""Mastodon, as the rest of postcli sees it (platforms/spec.py)."""

from __future__ import annotations

from postcli.platforms.spec import Option, PlatformSpec, SignIn

SPEC = PlatformSpec(
    name="mastodon",
    display_name="Mastodon",
    adapter="postcli.platforms.mastodon.adapter:MastodonAdapter",
    hosts={},  # no default: every instance is its own server
    summary="a Mastodon account on any instance",
    add_help=(
        "Connect a Mastodon account with an access token.\n\n"
        "Create one in Preferences -> Development -> New application (scopes: read, write). "
        "The token is read from a hidden prompt, --token-stdin, or POSTCLI_MASTODON_TOKEN."
    ),
    docs="docs/platforms/mastodon.md",
    options=(
        Option(
            "--instance",
            "URL",
            "Your instance URL, e.g. https://mastodon.social",
            add="required",
            login="required",
            role="base_url",
        ),
    ),
    api_base_option=False,
    signin=SignIn(
        authorize_url="{instance}/oauth/authorize",
        token_url="{instance}/oauth/token",
        scopes=("read", "write"),
        needs_app=False,  # postcli registers itself on the instance (POST /api/v1/apps)
        console="none: postcli registers itself on your instance",
        hooks="postcli.platforms.mastodon.signin:MastodonSignIn",
    ),
    # Mastodon's default: 300 requests per 5 minutes per account.
    rate_limit=(300, 300),
    parallel=8,
    import_bare_ids=True,  # a status id means something on the account's own instance
    import_example="https://mastodon.social/@alice/112233…",
    reconnect_add="postcli accounts add mastodon --instance {base}",
    reconnect_login="postcli accounts login mastodon --instance {base}",
    metrics=("likes", "comments", "shares", "quotes"),
    account_metrics=("followers", "following", "posts_count"),
    metrics_note="Mastodon reports no impressions, reach or views; quotes only on servers that have them.",
    # issue 28: a thread is a reply chain; a first comment is a self-reply (threading platforms)
    # or a comment under the post (Instagram, Facebook).
    publishes=("text", "images", "video", "thread", "first_comment"),
)
