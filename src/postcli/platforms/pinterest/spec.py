"""Pinterest (API v5), as the rest of postcli sees it (platforms/spec.py)."""

from __future__ import annotations

from postcli.errors import InvalidInput
from postcli.platforms.spec import EnvSecret, Field, Option, PlatformSpec, SignIn


def check_board(value: str) -> str:
    """A board id as the API takes it (pattern ^\\d+$ in the API description's BoardKey)."""
    if not value.isdigit():
        raise InvalidInput(
            f"--board {value!r} is not a Pinterest board id (digits only).",
            hint="Board ids are listed by `postcli accounts login pinterest` and in the error of a "
            "publish without a board; the board's URL does not carry it.",
        )
    return value


PIN_HOSTS = (
    "pinterest.com",
    "pinterest.co.uk",
    "pinterest.ca",
    "pinterest.com.au",
    "pinterest.de",
    "pinterest.fr",
    "pinterest.es",
    "pinterest.it",
    "pinterest.jp",
    "pinterest.com.mx",
)

SPEC = PlatformSpec(
    name="pinterest",
    display_name="Pinterest",
    adapter="postcli.platforms.pinterest.adapter:PinterestAdapter",
    hosts={
        "api": "https://api.pinterest.com",
        "oauth": "https://api.pinterest.com",
        "dialog": "https://www.pinterest.com",
        "web": "https://www.pinterest.com",
    },
    summary="a Pinterest account (API v5, OAuth 2.0)",
    add_help=(
        "Connect a Pinterest account with an API v5 access token.\n\n"
        "The token (scopes boards:read, boards:write, pins:read, pins:write, user_accounts:read) is "
        "read from a hidden prompt, --token-stdin, or POSTCLI_PINTEREST_TOKEN. Access tokens last 30 "
        "days; for postcli to refresh them it needs the refresh token in POSTCLI_PINTEREST_REFRESH_TOKEN, "
        "the app's secret in POSTCLI_PINTEREST_CLIENT_SECRET and --client-id. A Pin goes to a board: "
        "--board ID is the account's default (else --field pinterest.board=ID on each post)."
    ),
    docs="docs/platforms/pinterest.md",
    options=(
        Option(
            "--board",
            "ID",
            "The board Pins go to unless a post says otherwise (--field pinterest.board=ID).",
            role="setting:board_id",
            check=check_board,
        ),
        Option(
            "--client-id",
            "ID",
            "Your Pinterest app id (to refresh tokens).",
            login="no",
            role="setting:client_id",
        ),
    ),
    env_secrets=(
        EnvSecret(
            "refresh_token", "POSTCLI_PINTEREST_REFRESH_TOKEN", "the refresh token (to refresh the access token)"
        ),
        EnvSecret(
            "client_secret", "POSTCLI_PINTEREST_CLIENT_SECRET", "your Pinterest app's secret (to refresh tokens)"
        ),
    ),
    secrets=("access token (30 days)", "refresh token (rotated at each refresh)", "app secret"),
    signin=SignIn(
        authorize_url="{dialog}/oauth/",
        token_url="{oauth}/v5/oauth/token",
        # Creating and deleting a Pin asks for boards:write as well (the API description's
        # security requirements of POST and DELETE /v5/pins).
        scopes=("boards:read", "boards:write", "pins:read", "pins:write", "user_accounts:read"),
        scope_separator=",",
        client_auth="client_secret_basic",
        pkce=False,  # not documented for Pinterest's code flow
        redirect="loopback-fixed",
        default_port=8765,
        # Apps made before 25 September 2025 get a continuous refresh token only when asked
        # (the API description of POST /v5/oauth/token); newer apps always get one.
        token_params={"continuous_refresh": "true"},
        console="https://developers.pinterest.com/apps/",
        keep_secrets={"client_secret": "client_secret", "refresh_token": "refresh_token"},
        keep_settings={"client_id": "client_id"},
        hooks="postcli.platforms.pinterest.signin:PinterestSignIn",
    ),
    # Trial access: 1,000 requests a day for every API request (developers.pinterest.com/docs/
    # reference/rate-limits/); standard access allows far more, but the trial is the floor.
    rate_limit=(1000, 86400),
    # Pin links on the main and the country sites (uk.pinterest.com, pinterest.de, ...); pin.it
    # short links are not read (they redirect, and postcli does not follow links to resolve them).
    import_hosts=PIN_HOSTS,
    import_example="https://www.pinterest.com/pin/1234567890/",
    reconnect_add="postcli accounts add pinterest --client-id ID (with a new access and refresh token)",
    reconnect_login="postcli accounts login pinterest",
    title="optional",
    title_max=100,
    link="optional",
    fields=(
        Field(
            "board",
            "The board id the Pin goes to (default: the account's --board).",
            max_length=32,
            required=True,
            setting="board_id",
        ),
    ),
    metrics=("impressions", "saves", "clicks", "video_views"),
    account_metrics=("followers", "following", "posts_count", "impressions"),
    metrics_note=(
        "Pinterest reports impressions, saves and Pin clicks per Pin (video views for video Pins); "
        "days it is still processing (24-72 hours) are null until a later collect."
    ),
    publishes=("images", "video"),
)
