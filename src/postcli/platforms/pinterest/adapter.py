"""Pinterest adapter: Pins on the account's boards through API v5 (api.py holds the client and
the tokens, media.py the images and the video upload, analytics.py the counters).

References (docs/platforms/pinterest.md lists what each choice rests on):
  https://developers.pinterest.com/docs/api/v5/  (github.com/pinterest/api-description v5/openapi.yaml)
  https://developers.pinterest.com/docs/work-with-organic-content-and-users/create-boards-and-pins/
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any, ClassVar, Iterator
from urllib.parse import urlparse

from postcli.platforms.base import (
    AccountInfo,
    AccountMetrics,
    AuthFailed,
    HealthResult,
    Limits,
    MalformedResponse,
    PlatformRejected,
    PostMetrics,
    PublishRequest,
    PublishResult,
    RemoteNotFound,
)
from postcli.platforms.pinterest import analytics
from postcli.platforms.pinterest.api import NO_REFRESH, RECONNECT, PinterestApi
from postcli.platforms.pinterest.media import media_source
from postcli.platforms.pinterest.spec import PIN_HOSTS, SPEC
from postcli.platforms.spec import PlatformSpec
from postcli.platforms.values import as_dict, as_str, as_utc, int_or_none, utc_now

# PinCreate in the API description: title 100, description 800, link 2048, alt_text 500.
TITLE_MAX = 100
DESCRIPTION_MAX = 800
LINK_MAX = 2048
ALT_MAX = 500
# Pinterest's creative specs (help.pinterest.com, "Pin specs"), not the API description: images
# up to 20 MB (PNG or JPEG: the two content types image_base64 takes), videos MP4 or MOV up to
# 2 GB, 4 seconds to 15 minutes.
IMAGE_BYTES = 20 * 1024 * 1024
VIDEO_BYTES = 2 * 1024 * 1024 * 1024
MIME_TYPES = ("image/jpeg", "image/png", "video/mp4", "video/quicktime")

PAGE_SIZE = 100  # page_size: 1..250, default 25
RECONCILE_PAGES = 3
BOARDS_SHOWN = 25
_PIN_PATH = re.compile(r"^/pin/(\d+)/?$")


def pin_url(pin_id: str) -> str:
    """The Pin's page for people (the web host, never the API base a test points elsewhere)."""
    return f"{SPEC.hosts['web']}/pin/{pin_id}/"


def _normal(text: Any) -> str:
    return " ".join(str(text or "").split())


class PinterestAdapter(PinterestApi):
    """One Pinterest account: Pins go to its boards, counters come from Pin analytics."""

    spec: ClassVar[PlatformSpec] = SPEC
    # One analytics request per Pin (there is no multi-Pin endpoint outside a closed beta).
    metrics_batch_size: ClassVar[int] = 1
    metrics_request_per_post: ClassVar[bool] = True
    # A day's analytics settle within 72 hours; keep collecting a day past that.
    min_collect_hours: ClassVar[int] = 96
    # No idempotency key: an unknown outcome is looked for among the board's Pins, whose
    # order is not documented, so the whole window is read and the oldest match wins.
    reconciles_by_recent_posts: ClassVar[bool] = True
    reconcile_oldest_match: ClassVar[bool] = True
    reconcile_lookback: ClassVar[timedelta | None] = timedelta(days=2)
    _reconcile_board = ""  # the board find_published reads (recent_posts takes no request)

    # -- account -----------------------------------------------------------------------

    def connect(self, identifier: str | None, secret: str) -> AccountInfo:
        """GET /v5/user_account with the token; the default board (--board) checked to exist,
        or taken when the user has exactly one."""
        token = (secret or "").strip()
        if not token:
            raise self._fail(AuthFailed, "a Pinterest access token is required", hint=RECONNECT)
        secrets = {k: v for k, v in (self.ctx.secrets or {}).items() if v}
        secrets["access_token"] = token
        self.ctx.secrets = secrets
        self.secrets_in_play()
        if secrets.get("refresh_token") and not self._can_refresh():
            missing = [
                name
                for name, have in (
                    ("--client-id", (self.ctx.settings or {}).get("client_id")),
                    ("POSTCLI_PINTEREST_CLIENT_SECRET", secrets.get("client_secret")),
                )
                if not have
            ]
            raise self._fail(
                PlatformRejected,
                f"a refresh token was given, but refreshing it also needs {' and '.join(missing)}",
                hint="give your app's id and secret, or leave out the refresh token",
            )
        user = self._object("GET", "/v5/user_account", "reading the token's account")
        username = as_str(user.get("username"))
        if not username:
            raise self._fail(MalformedResponse, f"{self._api_host()} sent no username for the token's account")
        settings = dict(self.ctx.settings or {})
        settings.update(username=username, account_type=as_str(user.get("account_type")))
        board_id = as_str(settings.get("board_id"))
        board: dict[str, Any] | None
        if board_id:
            board = self._board(board_id, "checking the default board")
        else:
            boards = self._boards()
            board = boards[0] if len(boards) == 1 else None
        if board is not None:
            settings.update(board_id=str(board["id"]), board_name=as_str(board.get("name")))
        self.ctx.settings = settings
        self.ctx.settings_changed = True
        self.ctx.save_secrets(dict(self.ctx.secrets))
        expires = self._expires_at()
        self.ctx.token_expires_at = expires
        return AccountInfo(
            external_id=as_str(user.get("id")) or username,
            handle=username,
            display_name=as_str(user.get("business_name")) or None,
            token_expires_at=expires,
        )

    def _boards(self) -> list[dict[str, Any]]:
        """The user's boards (first page of GET /v5/boards)."""
        found = self._object("GET", "/v5/boards", "listing your boards", params={"page_size": PAGE_SIZE})
        items = found.get("items")
        return [b for b in items if isinstance(b, dict) and b.get("id")] if isinstance(items, list) else []

    def _board(self, board_id: str, what: str) -> dict[str, Any]:
        """GET /v5/boards/{board_id}; a board that is not there is refused with the user's boards."""
        try:
            return self._object("GET", f"/v5/boards/{board_id}", what)
        except RemoteNotFound:
            raise self._no_board(board_id) from None

    def _no_board(self, board_id: str) -> PlatformRejected:
        try:
            boards = self._boards()
        except (RemoteNotFound, PlatformRejected):
            boards = []
        listed = ", ".join(f"{_normal(b.get('name')) or '?'} ({b['id']})" for b in boards[:BOARDS_SHOWN])
        more = f" and {len(boards) - BOARDS_SHOWN} more" if len(boards) > BOARDS_SHOWN else ""
        mine = f"your boards: {listed}{more}" if boards else "the account has no board (make one on Pinterest)"
        exc = self._fail(
            PlatformRejected,
            f"Pinterest has no board {board_id} for this account; {mine}",
            hint="use one of those ids: --field pinterest.board=ID, or the default with "
            "`postcli accounts login pinterest --board ID`",
        )
        assert isinstance(exc, PlatformRejected)
        return exc

    def limits(self) -> Limits:
        return Limits(
            max_text=DESCRIPTION_MAX,
            max_images=1,
            max_videos=1,
            max_items=1,
            max_image_bytes=IMAGE_BYTES,
            max_video_bytes=VIDEO_BYTES,
            max_alt_text=ALT_MAX,
            min_video_seconds=4,
            max_video_seconds=15 * 60,
            mime_types=MIME_TYPES,
            requires_media=True,  # a Pin is an image or a video
        )

    def text_length(self, text: str) -> int:
        return len(text)

    # -- publishing --------------------------------------------------------------------

    def _board_for(self, req: PublishRequest) -> str:
        board = as_str(req.fields.get("board")) or as_str((self.ctx.settings or {}).get("board_id")) or ""
        if not board:
            raise self._fail(
                PlatformRejected,
                "a Pin needs a board and none was given",
                hint="add --field pinterest.board=ID, or give the account a default: "
                "postcli accounts login pinterest --board ID",
            )
        if not board.isdigit():
            raise self._fail(PlatformRejected, f"{board!r} is not a Pinterest board id (digits only)")
        return board

    def _problems(self, req: PublishRequest) -> list[str]:
        problems = []
        if len(req.media) != 1:
            problems.append(f"a Pin takes one image or one video ({len(req.media)} given).")
        for item in req.media:
            if item.mime_type not in MIME_TYPES:
                problems.append(f"{item.path.name} is {item.mime_type}; Pinterest takes {', '.join(MIME_TYPES)}.")
            if item.alt_text and len(item.alt_text) > ALT_MAX:
                problems.append(f"the alt text is over {ALT_MAX} characters.")
        if len(req.text) > DESCRIPTION_MAX:
            problems.append(f"the description is over {DESCRIPTION_MAX} characters.")
        if req.title and len(req.title) > TITLE_MAX:
            problems.append(f"the title is over {TITLE_MAX} characters.")
        if req.link and len(req.link) > LINK_MAX:
            problems.append(f"the link is over {LINK_MAX} characters.")
        return problems

    def publish(self, req: PublishRequest) -> PublishResult:
        """POST /v5/pins {board_id, media_source, description, title, link, alt_text}."""
        board = self._board_for(req)
        problems = self._problems(req)
        if problems:
            raise self._fail(PlatformRejected, "cannot publish to Pinterest: " + " ".join(problems))
        self._board(board, "checking the board")  # before any upload: a missing board sends nothing
        item = req.media[0]
        body: dict[str, Any] = {"board_id": board, "media_source": media_source(self, item, req)}
        if req.text.strip():
            body["description"] = req.text
        if req.title:
            body["title"] = req.title
        if req.link:
            body["link"] = req.link
        if item.alt_text:
            body["alt_text"] = item.alt_text
        try:
            created = self._object("POST", "/v5/pins", "creating the Pin", json=body)
        except RemoteNotFound:
            raise self._no_board(board) from None
        pin_id = as_str(created.get("id")) or ""
        if not pin_id.isdigit():
            raise self._fail(MalformedResponse, f"{self._api_host()} did not say which Pin it created")
        return PublishResult(
            platform_post_id=pin_id,
            url=pin_url(pin_id),
            published_at=as_utc(created.get("created_at")) or utc_now(),
        )

    # -- reconciling an unknown outcome -------------------------------------------------

    def find_published(self, req: PublishRequest) -> PublishResult | None:
        """Was `req`'s Pin made by an attempt whose answer was lost?

        Pinterest has no idempotency key, so this reads the board's Pins (up to 300, the ones
        made since the first attempt minus 5 minutes) for one with the same description, title,
        link and kind of media. A Pin made by hand with the same words on that board in the
        window would be taken for ours."""
        self._reconcile_board = self._board_for(req)
        return self.find_in_recent_posts(req)

    def recent_posts(self, since: datetime | None) -> Iterator[dict[str, Any]]:
        bookmark: str | None = None
        for _ in range(RECONCILE_PAGES):
            params: dict[str, Any] = {"page_size": PAGE_SIZE}
            if bookmark:
                params["bookmark"] = bookmark
            page = self._object(
                "GET",
                f"/v5/boards/{self._reconcile_board}/pins",
                "looking for an earlier attempt among the board's Pins",
                params=params,
            )
            items = page.get("items")
            if isinstance(items, list):
                yield from (p for p in items if isinstance(p, dict))
            bookmark = as_str(page.get("bookmark"))
            if not bookmark:
                return

    def post_created_at(self, post: dict[str, Any]) -> datetime | None:
        return as_utc(post.get("created_at"))

    def same_post(self, post: dict[str, Any], req: PublishRequest) -> bool:
        if str(post.get("board_id") or self._reconcile_board) != self._reconcile_board:
            return False
        if _normal(post.get("description")) != _normal(req.text) or _normal(post.get("title")) != _normal(req.title):
            return False
        if req.link and post.get("link") and str(post["link"]).rstrip("/") != req.link.rstrip("/"):
            return False
        kind = as_str(as_dict(post.get("media")).get("media_type"))
        wanted_video = any(item.is_video for item in req.media)
        return kind is None or (kind == "video") == wanted_video

    def reconciled(self, post: dict[str, Any], req: PublishRequest) -> PublishResult:
        pin_id = str(post.get("id"))
        return PublishResult(platform_post_id=pin_id, url=pin_url(pin_id), published_at=as_utc(post.get("created_at")))

    def delete(self, platform_post_id: str) -> None:
        try:
            self._call("DELETE", f"/v5/pins/{platform_post_id}", f"deleting Pin {platform_post_id}")
        except RemoteNotFound:
            pass  # already gone is what was asked

    # -- metrics -----------------------------------------------------------------------

    def fetch_post_metrics(self, platform_post_ids: list[str]) -> dict[str, PostMetrics | None]:
        """Per Pin: GET /v5/pins/{id} (gone: None; its creation day and whether it is a video),
        then GET /v5/pins/{id}/analytics from that day (at most 90 days back) to today."""
        result: dict[str, PostMetrics | None] = {}
        for pin_id in dict.fromkeys(str(i) for i in platform_post_ids):
            self.ctx.charge_request("reading the Pin before its analytics")
            try:
                pin = self._object("GET", f"/v5/pins/{pin_id}", f"reading Pin {pin_id}")
            except RemoteNotFound:
                result[pin_id] = None  # deleted; the other Pins keep their numbers
                continue
            created = as_utc(pin.get("created_at"))
            is_video = as_str(as_dict(pin.get("media")).get("media_type")) == "video"
            requested = analytics.metric_types(is_video)
            start, end = analytics.date_range(created.date() if created else None, utc_now().date())
            try:
                answer = self._call(
                    "GET",
                    f"/v5/pins/{pin_id}/analytics",
                    f"reading the analytics of Pin {pin_id}",
                    params=self._range(start, end, requested),
                )
            except RemoteNotFound:
                result[pin_id] = None  # deleted between the two requests
                continue
            metrics = analytics.post_metrics(answer, requested, start, end)
            metrics.raw["id"] = pin_id
            result[pin_id] = metrics
        return result

    @staticmethod
    def _range(start: date, end: date, requested: tuple[str, ...]) -> dict[str, str]:
        # metric_types is a comma-separated list (explode: false in the API description).
        return {"start_date": start.isoformat(), "end_date": end.isoformat(), "metric_types": ",".join(requested)}

    def fetch_account_metrics(self) -> AccountMetrics:
        """GET /v5/user_account: follower_count, following_count, pin_count (created and saved
        Pins) and monthly_views (the views of the last 30 days, as impressions)."""
        user = self._object("GET", "/v5/user_account", "reading the account's counters")
        raw: dict[str, Any] = {
            key: int_or_none(user.get(key))
            for key in ("follower_count", "following_count", "pin_count", "board_count", "monthly_views")
        }
        raw["username"] = as_str(user.get("username"))
        return AccountMetrics(
            followers=raw["follower_count"],
            following=raw["following_count"],
            posts_count=raw["pin_count"],
            impressions=raw["monthly_views"],
            raw=raw,
        )

    # -- health and import ---------------------------------------------------------------

    def check_health(self) -> HealthResult:
        """Refresh when the token is within a day of expiry, then GET /v5/user_account; the
        default board is checked too (a deleted board makes every publish fail)."""
        self._refresh_if_due()
        self._object("GET", "/v5/user_account", "checking the access token")
        expires = self._expires_at()
        board_id = as_str((self.ctx.settings or {}).get("board_id"))
        if board_id:
            try:
                self._object("GET", f"/v5/boards/{board_id}", "checking the default board")
            except RemoteNotFound:
                return HealthResult(
                    ok=False,
                    error_code="board_missing",
                    message=f"the default board {board_id} is gone; choose another: "
                    "postcli accounts login pinterest --board ID",
                    token_expires_at=expires,
                )
        message = None if self._can_refresh() else "the access token cannot be refreshed; " + NO_REFRESH
        return HealthResult(ok=True, message=message, token_expires_at=expires)

    def resolve_post(self, url_or_id: str) -> PublishResult:
        pin_id = pin_reference(url_or_id)
        if pin_id is None:
            raise self._fail(
                RemoteNotFound,
                f"{url_or_id!r} is not a Pinterest Pin link or id",
                hint="give the Pin's id or its link, e.g. https://www.pinterest.com/pin/1234567890/",
            )
        pin = self._object("GET", f"/v5/pins/{pin_id}", f"reading Pin {pin_id}")
        owner = as_str(as_dict(pin.get("board_owner")).get("username"))
        mine = pin.get("is_owner")
        author = self.ctx.external_id if mine is True else (owner or "another account") if mine is False else None
        return PublishResult(
            platform_post_id=pin_id,
            url=pin_url(pin_id),
            published_at=as_utc(pin.get("created_at")),
            text=as_str(pin.get("description")) or as_str(pin.get("title")) or None,
            author=author,
        )


def pin_reference(value: str) -> str | None:
    """The Pin id of a bare id or a Pin link (www., country subdomains and sites)."""
    text = value.strip()
    if text.isdigit():
        return text
    parts = urlparse(text if "://" in text else f"https://{text}")
    host = (parts.hostname or "").lower()
    if not any(host == h or host.endswith("." + h) for h in PIN_HOSTS):
        return None
    match = _PIN_PATH.match(parts.path)
    return match.group(1) if match else None
