"""YouTube, as the rest of postcli sees it (platforms/spec.py)."""

from __future__ import annotations

from postcli.errors import InvalidInput
from postcli.platforms import google_oauth
from postcli.platforms.spec import Field, PlatformSpec

# videos.insert, videos.list, videos.delete and channels.list all accept the `youtube`
# scope (developers.google.com/youtube/v3/docs/videos/delete "Authorization"); youtube.upload
# with youtube.readonly could not delete.
# youtube: videos.insert, list and delete, channels.list; youtube.force-ssl: commentThreads.insert
# (a first comment), the one scope its reference names.
SCOPES = ("https://www.googleapis.com/auth/youtube", "https://www.googleapis.com/auth/youtube.force-ssl")
TAGS_MAX = 500  # snippet.tags: "a maximum length of 500 characters"
PRIVACY = ("private", "unlisted", "public")


def tags_length(tags: list[str]) -> int:
    """snippet.tags as YouTube counts it: commas between tags count, and a tag with a space
    counts as if wrapped in quotation marks (developers.google.com/youtube/v3/docs/videos
    "snippet.tags[]")."""
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(0, len(tags) - 1)


def check_tags(tags: list[str]) -> list[str]:
    bad = sorted({c for t in tags for c in t if c in "<>"})
    if bad:
        raise InvalidInput(f"--field youtube.tags may not contain {' or '.join(map(repr, bad))}.")
    length = tags_length(tags)
    if length > TAGS_MAX:
        raise InvalidInput(
            f"--field youtube.tags is {length} characters as YouTube counts them; the limit is {TAGS_MAX}.",
            hint="Commas count, and a tag with a space counts two more (YouTube quotes it). Drop some tags.",
        )
    return tags


SPEC = PlatformSpec(
    name="youtube",
    display_name="YouTube",
    adapter="postcli.platforms.youtube.adapter:YouTubeAdapter",
    hosts={
        "api": "https://www.googleapis.com",
        "upload": "https://www.googleapis.com",
        "oauth": google_oauth.TOKEN_HOST,
        "dialog": google_oauth.DIALOG_HOST,
        "web": "https://www.youtube.com",
    },
    summary="a YouTube channel (Google sign-in with your own Google Cloud app)",
    add_help=(
        "Connect a YouTube channel with Google OAuth tokens (easier: postcli accounts login youtube).\n\n"
        "The access token is read from a hidden prompt, --token-stdin, or POSTCLI_YOUTUBE_TOKEN. To refresh it "
        "(it lives an hour), postcli needs the refresh token in POSTCLI_YOUTUBE_REFRESH_TOKEN, the app's secret "
        "in POSTCLI_YOUTUBE_CLIENT_SECRET and --client-id. Apps left in Testing get sign-ins that end after "
        "7 days (--app-status)."
    ),
    docs="docs/platforms/youtube.md",
    options=(google_oauth.client_id_option("YouTube"), google_oauth.app_status_option()),
    env_secrets=google_oauth.env_secrets("POSTCLI_YOUTUBE_"),
    secrets=("access token", "refresh token", "app secret"),
    signin=google_oauth.signin(SCOPES),
    # The YouTube Data API's default quota: 10,000 units a day per Google Cloud project, reset
    # at midnight Pacific time (developers.google.com/youtube/v3/determine_quota_cost).
    rate_limit=(10_000, 86_400),
    rate_limit_reset="America/Los_Angeles",
    budget_per_app=True,
    parallel=2,
    import_hosts=("youtube.com", "youtu.be"),
    import_example="https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    reconnect_add="postcli accounts add youtube --client-id ID (with new OAuth tokens)",
    reconnect_login="postcli accounts login youtube",
    title="required",
    title_max=100,  # snippet.title: 100 characters, no < or >
    title_forbidden="<>",
    fields=(
        Field("privacy", "Who can watch: private (default), unlisted or public.", "choice", PRIVACY, default="private"),
        Field(
            "tags", "Keyword tags, comma separated (500 characters as YouTube counts them).", "list", check=check_tags
        ),
        Field("category", "The video category id (videoCategories.list; e.g. 22 People & Blogs).", "int", minimum=1),
    ),
    metrics=("views", "likes", "comments", "video_views"),
    account_metrics=("followers", "posts_count"),
    metrics_note=(
        "The Data API reports views, likes and comments; impressions, reach and shares are YouTube "
        "Analytics numbers it does not give. Small channels' numbers can lag 24-48 hours."
    ),
    publishes=("video", "first_comment"),
)
