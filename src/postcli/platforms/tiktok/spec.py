"""TikTok, as the rest of postcli sees it (platforms/spec.py).

Content Posting API (Direct Post of videos and photos), Display API (user/info, video/query)
and Login Kit for desktop; docs/platforms/tiktok.md says what each choice rests on.
"""

from __future__ import annotations

from typing import Any, Mapping

from postcli.platforms.spec import EnvSecret, Field, Option, PlatformSpec, SignIn

PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
PUBLIC = "PUBLIC_TO_EVERYONE"
DEFAULT_PRIVACY = "SELF_ONLY"


def is_publish_id(post_id: str | None) -> bool:
    """A publish id ("v_pub_file~v2-1.7…", "p_pub_url~v2.7…") rather than a post id (digits)."""
    return bool(post_id) and not str(post_id).isdigit()


def target_note(post_id: str | None, fields: Mapping[str, Any]) -> str | None:
    """`post show`: a TikTok post known by its publish id only (docs/platforms/tiktok.md)."""
    if not is_publish_id(post_id):
        return None
    privacy = str(fields.get("privacy") or DEFAULT_PRIVACY)
    if privacy != PUBLIC:
        return (
            f"{privacy} post: it has no post id and no numbers (TikTok gives them for public posts "
            "only); `postcli collect` keeps asking in case it is made public."
        )
    return "public post in TikTok's moderation: it has no post id yet; `postcli collect` asks for it."


SPEC = PlatformSpec(
    name="tiktok",
    display_name="TikTok",
    adapter="postcli.platforms.tiktok.adapter:TikTokAdapter",
    hosts={
        "api": "https://open.tiktokapis.com",
        "oauth": "https://open.tiktokapis.com",
        "dialog": "https://www.tiktok.com",
        "upload": "https://open-upload.tiktokapis.com",
        "web": "https://www.tiktok.com",
    },
    summary="a TikTok account (Login Kit tokens; videos and photo posts)",
    add_help=(
        "Connect a TikTok account with a user access token made elsewhere.\n\n"
        "The token (scopes user.info.basic,user.info.profile,user.info.stats,video.publish,"
        "video.upload,video.list) is read from a hidden prompt, --token-stdin, or "
        "POSTCLI_TIKTOK_TOKEN. It lives 24 hours: for postcli to refresh it, give the refresh "
        "token in POSTCLI_TIKTOK_REFRESH_TOKEN, the app's secret in POSTCLI_TIKTOK_CLIENT_SECRET "
        "and its client key with --client-id. `postcli accounts login tiktok` does all of that."
    ),
    docs="docs/platforms/tiktok.md",
    options=(
        Option(
            "--client-id",
            "KEY",
            "Your TikTok app's client key (to refresh tokens).",
            login="no",
            role="setting:client_key",
        ),
    ),
    env_secrets=(
        EnvSecret("refresh_token", "POSTCLI_TIKTOK_REFRESH_TOKEN", "the refresh token (365 days)"),
        EnvSecret("client_secret", "POSTCLI_TIKTOK_CLIENT_SECRET", "your TikTok app's client secret"),
    ),
    secrets=("access token", "refresh token", "client secret"),
    signin=SignIn(
        authorize_url="{dialog}/v2/auth/authorize/",
        token_url="{oauth}/v2/oauth/token/",
        scopes=(
            "user.info.basic",
            "user.info.profile",
            "user.info.stats",
            "video.publish",
            "video.upload",
            "video.list",
        ),
        scope_separator=",",
        client_auth="client_secret_post",
        # Login Kit for desktop: PKCE with the challenge as the hex SHA-256 of the verifier,
        # the client id named client_key, a loopback redirect with a port (register
        # http://127.0.0.1:*/callback: any port).
        pkce=True,
        pkce_challenge="hex",
        client_id_param="client_key",
        redirect="loopback",
        console="https://developers.tiktok.com/apps (Login Kit for desktop, Content Posting API, Display API)",
        keep_secrets={"client_secret": "client_secret", "refresh_token": "refresh_token"},
        keep_settings={"client_key": "client_id"},
        hooks="postcli.platforms.tiktok.signin:TikTokSignIn",
        kind="OAuth 2.0 authorization code (Login Kit for desktop, PKCE)",
    ),
    # Per access token and minute: creator_info 20, init 6, status 30, Display API 600
    # (each endpoint apart). Collecting asks video/query, user/info and, for posts that
    # have no post id yet, status/fetch: the budget keeps to status's 30.
    rate_limit=(30, 60),
    import_hosts=("tiktok.com",),
    import_bare_ids=True,
    import_example="https://www.tiktok.com/@you/video/7310…",
    reconnect_add="postcli accounts add tiktok --client-id KEY (with a new access token)",
    reconnect_login="postcli accounts login tiktok",
    title="optional",
    title_max=90,
    link="no",
    fields=(
        Field(
            "privacy",
            "Who may watch it. The account's creator_info says which levels it may use; an app "
            "TikTok has not audited posts SELF_ONLY only.",
            kind="choice",
            choices=PRIVACY_LEVELS,
            default=DEFAULT_PRIVACY,
        ),
        Field("disable_comment", "No comments (default: as the creator's TikTok settings allow).", kind="bool"),
        Field("disable_duet", "No duets, videos only (default: as the creator's settings allow).", kind="bool"),
        Field("disable_stitch", "No stitches, videos only (default: as the creator's settings allow).", kind="bool"),
        Field(
            "cover_ms", "The video's frame used as its cover, in milliseconds from the start.", kind="int", minimum=0
        ),
        Field("photo_cover", "The photo used as the cover, 1 for the first (photo posts).", kind="int", minimum=1),
        Field("auto_add_music", "Let TikTok add music to a photo post.", kind="bool"),
        Field("brand_content", "Paid partnership: promotes a third party (not with SELF_ONLY).", kind="bool"),
        Field("brand_organic", "Promotes the creator's own business.", kind="bool"),
        Field("ai_generated", "Label the content as AI-generated.", kind="bool"),
    ),
    target_note=target_note,
    metrics=("views", "likes", "comments", "shares"),
    account_metrics=("followers", "following", "posts_count"),
    metrics_note=(
        "TikTok's Display API reports views, likes, comments and shares of public posts; reach and "
        "impressions are not exposed. Private posts and posts in moderation have no numbers."
    ),
    publishes=("images", "video"),
)
