"""Facebook Pages, as the rest of postcli sees it (platforms/spec.py)."""

from __future__ import annotations

from postcli.platforms.graph_version import graph_version_option
from postcli.platforms.spec import EnvSecret, Option, PlatformSpec, SignIn

SPEC = PlatformSpec(
    name="facebook",
    display_name="Facebook",
    adapter="postcli.platforms.facebook.adapter:FacebookAdapter",
    hosts={
        "api": "https://graph.facebook.com",
        "oauth": "https://graph.facebook.com",
        "dialog": "https://www.facebook.com",
    },
    summary="a Facebook Page (Page token, or a user token that manages it)",
    add_help=(
        "Connect a Facebook Page with a Page access token or a user token that manages it.\n\n"
        "The token (pages_manage_posts, pages_read_engagement, read_insights) is read from a hidden "
        "prompt, --token-stdin, or POSTCLI_FACEBOOK_TOKEN. With a user token postcli finds the Page "
        "(--page picks one) and keeps its Page token. POSTCLI_FACEBOOK_APP_SECRET (with --app-id) "
        "lets it exchange a short-lived token."
    ),
    docs="docs/platforms/facebook.md",
    options=(
        Option("--page", "PAGE", "The Page id (or name) to post as, when the token manages several."),
        Option(
            "--app-id",
            "ID",
            "Your Meta app id (to exchange a short-lived user token).",
            login="no",
            role="setting:app_id",
        ),
        graph_version_option(),
        Option(
            "--config-id",
            "ID",
            "Facebook Login for Business: the configuration id made in your app's dashboard "
            "(else POSTCLI_FACEBOOK_CONFIG_ID or [apps.facebook] config_id); sent instead of scopes.",
            add="no",
            role="login",
        ),
    ),
    env_secrets=(
        EnvSecret(
            "app_secret", "POSTCLI_FACEBOOK_APP_SECRET", "your Meta app's secret (to exchange a short-lived token)"
        ),
    ),
    secrets=("Page access token", "user token", "app secret (optional)"),
    signin=SignIn(
        authorize_url="{dialog}/{graph_version}/dialog/oauth",
        token_url="{oauth}/{graph_version}/oauth/access_token",
        scopes=(
            "pages_show_list",
            "pages_manage_posts",
            "pages_read_engagement",
            "read_insights",
            "pages_manage_engagement",
        ),
        scope_separator=",",
        pkce=False,
        redirect="loopback-fixed",
        default_port=8765,
        console="https://developers.facebook.com/apps (Facebook Login for Business, or Facebook Login)",
        keep_secrets={"app_secret": "client_secret"},
        keep_settings={"app_id": "client_id"},
        hooks="postcli.platforms.facebook.signin:FacebookSignIn",
    ),
    rate_limit=(200, 3600),
    import_hosts=("facebook.com", "fb.com"),
    import_example="https://www.facebook.com/<page>/posts/pfbid…",
    reconnect_add="postcli accounts add facebook --page {external_id} (with a new token)",
    reconnect_login="postcli accounts login facebook --page {external_id}",
    metrics=("views", "reach", "likes", "comments", "shares", "clicks"),
    account_metrics=("followers",),
    metrics_note="Facebook reports reach and views per Page post; impressions were retired in 2025.",
    # issue 28: a thread is a reply chain; a first comment is a self-reply (threading platforms)
    # or a comment under the post (Instagram, Facebook).
    publishes=("text", "images", "video", "first_comment"),
)
