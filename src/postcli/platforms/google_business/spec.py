"""Google Business Profile, as the rest of postcli sees it (platforms/spec.py)."""

from __future__ import annotations

from dataclasses import replace

from postcli.platforms import google_oauth
from postcli.platforms.google_business import rules
from postcli.platforms.spec import Field, Option, PlatformSpec

# Every Business Profile API takes this one scope (each method's "Authorization scopes").
SCOPES = ("https://www.googleapis.com/auth/business.manage",)
PREFIX = "POSTCLI_GOOGLE_BUSINESS_"

SPEC = PlatformSpec(
    name="google-business",
    display_name="Google Business Profile",
    adapter="postcli.platforms.google_business.adapter:GoogleBusinessAdapter",
    hosts={
        # v4 local posts (the account's base URL)
        "api": "https://mybusiness.googleapis.com",
        # accounts.list
        "accounts": "https://mybusinessaccountmanagement.googleapis.com",
        # accounts.locations.list, locations.get
        "information": "https://mybusinessbusinessinformation.googleapis.com",
        # locations.fetchMultiDailyMetricsTimeSeries
        "performance": "https://businessprofileperformance.googleapis.com",
        "oauth": google_oauth.TOKEN_HOST,
        "dialog": google_oauth.DIALOG_HOST,
    },
    summary="a Google Business Profile location (Google sign-in with your own approved Google Cloud app)",
    add_help=(
        "Connect a Google Business Profile location with Google OAuth tokens (easier: postcli accounts login "
        "google-business).\n\n"
        "The access token is read from a hidden prompt, --token-stdin, or POSTCLI_GOOGLE_BUSINESS_TOKEN. To refresh "
        "it (it lives an hour), postcli needs the refresh token in POSTCLI_GOOGLE_BUSINESS_REFRESH_TOKEN, the app's "
        "secret in POSTCLI_GOOGLE_BUSINESS_CLIENT_SECRET and --client-id. --location picks the location when the "
        "Google account manages several. Your Google Cloud project needs Business Profile API access (until Google "
        "approves it every call is refused with a quota of 0); apps left in Testing get sign-ins that end after "
        "7 days (--app-status)."
    ),
    docs="docs/platforms/google-business.md",
    options=(
        Option(
            "--location",
            "ID",
            "The location to post to (its id, locations/ID, or its name), when the Google account manages several.",
        ),
        google_oauth.client_id_option("Google Business Profile"),
        google_oauth.app_status_option(),
    ),
    env_secrets=google_oauth.env_secrets(PREFIX),
    secrets=("access token", "refresh token", "app secret"),
    signin=replace(google_oauth.signin(SCOPES), hooks="postcli.platforms.google_business.signin:GoogleBusinessSignIn"),
    # 300 requests a minute per API and Google Cloud project (developers.google.com/my-business/content/limits).
    rate_limit=(300, 60),
    reconnect_add="postcli accounts add google-business --location {external_id} --client-id ID (with new OAuth tokens)",
    reconnect_login="postcli accounts login google-business --location {external_id}",
    link="optional",
    fields=(
        Field(
            "type", "The kind of post: STANDARD (default), EVENT or OFFER.", "choice", rules.TYPES, default="STANDARD"
        ),
        Field(
            "cta",
            "A button: BOOK, ORDER, SHOP, LEARN_MORE, SIGN_UP (with --link) or CALL (no link). A --link without it "
            "gets LEARN_MORE.",
            "choice",
            rules.CTAS,
        ),
        Field("event_title", "EVENT and OFFER: the event's (or offer's) title."),
        Field("event_start", "EVENT and OFFER: when it starts, YYYY-MM-DD or YYYY-MM-DD HH:MM (local time)."),
        Field("event_end", "EVENT and OFFER: when it ends, YYYY-MM-DD or YYYY-MM-DD HH:MM (local time)."),
        Field("coupon", "OFFER: the coupon code to use in store or online."),
        Field("terms", "OFFER: the offer's terms and conditions."),
    ),
    check_post=rules.check_post,
    metrics=(),
    account_metrics=("profile_views",),
    metrics_note=(
        "Google Business Profile reports no numbers per post: its posts are published and listed, never measured. "
        "The location's views (profile_views), calls, website clicks and direction requests come from the "
        "Performance API as account metrics."
    ),
    publishes=("text", "images"),
)
