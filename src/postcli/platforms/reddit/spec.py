"""Reddit, as the rest of postcli sees it (platforms/spec.py)."""

from __future__ import annotations

from postcli.platforms.reddit.wire import check_username
from postcli.platforms.spec import EnvSecret, Field, Option, PlatformSpec, SignIn

SPEC = PlatformSpec(
    name="reddit",
    display_name="Reddit",
    adapter="postcli.platforms.reddit.adapter:RedditAdapter",
    # oauth.reddit.com answers every call made with a bearer token; www.reddit.com has the
    # consent page and the token endpoint (github.com/reddit-archive/reddit/wiki/OAuth2).
    hosts={
        "api": "https://oauth.reddit.com",
        "oauth": "https://www.reddit.com",
        "dialog": "https://www.reddit.com",
        "web": "https://www.reddit.com",
    },
    summary="a Reddit user (OAuth2, installed app)",
    add_help=(
        "Connect a Reddit user with an OAuth2 access token of your own installed app.\n\n"
        "The access token is read from a hidden prompt, --token-stdin, or POSTCLI_REDDIT_TOKEN. It lasts "
        "one hour: for postcli to refresh it, give the refresh token (duration=permanent) in "
        "POSTCLI_REDDIT_REFRESH_TOKEN and the app's --client-id. `postcli accounts login reddit` does all "
        "of this in the browser."
    ),
    docs="docs/platforms/reddit.md",
    options=(
        Option(
            "--user",
            "NAME",
            "Your Reddit username (u/NAME): the account, and the contact in the User-Agent Reddit requires.",
            add="required",
            login="required",
            check=check_username,
        ),
        Option(
            "--client-id",
            "ID",
            "Your Reddit app's client id (to refresh tokens).",
            login="no",
            role="setting:client_id",
        ),
    ),
    env_secrets=(
        EnvSecret("refresh_token", "POSTCLI_REDDIT_REFRESH_TOKEN", "the OAuth2 refresh token (duration=permanent)"),
    ),
    secrets=("access token", "refresh token"),
    signin=SignIn(
        authorize_url="{dialog}/api/v1/authorize",
        token_url="{oauth}/api/v1/access_token",
        scopes=("identity", "submit", "read", "history", "edit", "flair"),
        # An installed app has no secret: HTTP Basic with the client id and an empty password.
        client_auth="client_secret_basic",
        public_client_auth="client_secret_basic",
        pkce=False,  # not in Reddit's OAuth2 documentation
        # Reddit compares the redirect URI with the app's registered one, whole.
        redirect="loopback-fixed",
        default_port=65010,
        secret_optional=True,
        console="https://www.reddit.com/prefs/apps",
        keep_secrets={"refresh_token": "refresh_token"},
        keep_settings={"client_id": "client_id"},
        hooks="postcli.platforms.reddit.signin:RedditSignIn",
    ),
    # The Data API's free tier: 100 queries a minute per OAuth client id (averaged over 10 minutes):
    # the app's, so every account signed in with one client id draws from one budget.
    rate_limit=(100, 60),
    budget_per_app=True,
    import_hosts=("reddit.com", "redd.it"),
    import_example="https://www.reddit.com/r/SUB/comments/1abc2de/…",
    reconnect_add=(
        "postcli accounts add reddit --user {handle} --client-id ID "
        "(with a new access token and POSTCLI_REDDIT_REFRESH_TOKEN)"
    ),
    reconnect_login="postcli accounts login reddit --user {handle}",
    title="required",
    title_max=300,
    link="optional",
    fields=(
        Field("subreddit", "The subreddit to post to: NAME or r/NAME.", required=True, max_length=24),
        Field("flair_id", "The post flair's template id (the subreddit's link flairs).", max_length=64),
    ),
    metrics=("impressions", "likes", "comments", "shares"),
    account_metrics=("followers",),
    metrics_note=(
        "Reddit reports a post's score (upvotes minus downvotes) as likes, comments, and crossposts as "
        "shares; impressions only where Reddit exposes a post's view count (mostly null). Karma and "
        "upvote_ratio are in the raw answers."
    ),
    publishes=("text",),
)
