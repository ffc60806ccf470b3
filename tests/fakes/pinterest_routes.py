"""The fake Pinterest's API routes (the server's lock is held): one function per operation of the
API description (github.com/pinterest/api-description v5/openapi.yaml), named beside it with its
reference page, https://developers.pinterest.com/docs/api/v5/<operation>/ (the address form the
official quickstart, github.com/pinterest/api-quickstart, cites: .../v5/pins-create/)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable

from werkzeug.wrappers import Response

from fakes.pinterest_server import STANDARD, UPLOAD_PARAMETERS, UPLOAD_PATH, VIDEO_ONLY, days_between, valid_base64

if TYPE_CHECKING:
    from fakes.loopback import RecordedRequest
    from fakes.pinterest_server import FakePinterest

Handler = Callable[["FakePinterest", "RecordedRequest", re.Match[str]], Response]
ROUTES: list[tuple[str, re.Pattern[str], str, Handler]] = []


def _route(method: str, pattern: str, name: str) -> Callable[[Handler], Handler]:
    def add(handler: Handler) -> Handler:
        ROUTES.append((method, re.compile(pattern), name, handler))
        return handler

    return add


def route(server: FakePinterest, req: RecordedRequest) -> Response:
    for method, pattern, name, handler in ROUTES:
        match = pattern.fullmatch(req.path)
        if method == req.method and match:
            server.counts[name] += 1
            return handler(server, req, match)
    server.counts[f"{req.method} {req.path}"] += 1
    return server._error(404, "Not found.")


def _page(req: RecordedRequest, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Pinterest.Lib.BookmarkParams: page_size 1..250 (default 25), an opaque bookmark."""
    size = int(req.param("page_size") or 25)
    start = int(req.param("bookmark") or 0)
    rest = items[start + size :]
    return {"items": items[start : start + size], "bookmark": str(start + size) if rest else None}


# GET /v5/user_account (operation user_account/get): the Account schema.
# https://developers.pinterest.com/docs/api/v5/user_account-get/
@_route("GET", r"/v5/user_account", "GET /v5/user_account")
def user_account(s: FakePinterest, req: RecordedRequest, m: re.Match[str]) -> Response:
    return s._json(
        {
            "account_type": "BUSINESS",
            "id": s.user_id,
            "profile_image": "https://i.pinimg.com/280x280_RS/x.jpg",
            "website_url": "https://example.com",
            "username": s.username,
            "about": "",
            "business_name": "Alice Pins",
            "board_count": len(s.boards),
            **s.counters,
        }
    )


# GET /v5/boards (operation boards/list): {"items": [Board], "bookmark"}.
# https://developers.pinterest.com/docs/api/v5/boards-list/
@_route("GET", r"/v5/boards", "GET /v5/boards")
def boards_list(s: FakePinterest, req: RecordedRequest, m: re.Match[str]) -> Response:
    return s._json(_page(req, [_board(s, b) for b in s.boards.values()]))


def _board(s: FakePinterest, board: dict[str, Any]) -> dict[str, Any]:
    return {
        **board,
        "description": None,
        "owner": {"username": s.username},
        "pin_count": sum(1 for p in s._pins.values() if p["board_id"] == board["id"]),
        "follower_count": 13,
        "collaborator_count": 0,
    }


# GET /v5/boards/{board_id} (operation boards/get); 404 for a board the user has not.
# https://developers.pinterest.com/docs/api/v5/boards-get/
@_route("GET", r"/v5/boards/(\d+)", "GET /v5/boards/:id")
def board_get(s: FakePinterest, req: RecordedRequest, m: re.Match[str]) -> Response:
    board = s.boards.get(m.group(1))
    return s._json(_board(s, board)) if board else s._error(404, "Board not found.")


# GET /v5/boards/{board_id}/pins (operation boards/list_pins): newest first (assumption).
# https://developers.pinterest.com/docs/api/v5/boards-list_pins/
@_route("GET", r"/v5/boards/(\d+)/pins", "GET /v5/boards/:id/pins")
def board_pins(s: FakePinterest, req: RecordedRequest, m: re.Match[str]) -> Response:
    if m.group(1) not in s.boards:
        return s._error(404, "Board not found.")
    pins = sorted((p for p in s._pins.values() if p["board_id"] == m.group(1)), key=lambda p: p["_created"])
    return s._json(_page(req, [s._render(p) for p in reversed(pins)]))


# POST /v5/pins (operation pins/create): PinCreate in, Pin out with 201.
# https://developers.pinterest.com/docs/api/v5/pins-create/
@_route("POST", r"/v5/pins", "POST /v5/pins")
def pin_create(s: FakePinterest, req: RecordedRequest, m: re.Match[str]) -> Response:
    body = req.json if isinstance(req.json, dict) else {}
    if body.get("board_id") not in s.boards:
        return s._error(404, "Board not found.")  # the message is an assumption
    limits = {"title": 100, "description": 800, "link": 2048, "alt_text": 500}
    for key, most in limits.items():
        if body.get(key) is not None and (not isinstance(body[key], str) or len(body[key]) > most):
            return s._error(400, f"Invalid parameters: {key} must be at most {most} characters.", 1)
    source = body.get("media_source") if isinstance(body.get("media_source"), dict) else {}
    kind = source.get("source_type")
    if kind == "image_base64":
        if source.get("content_type") not in ("image/jpeg", "image/png") or not valid_base64(source.get("data")):
            return s._error(400, "Invalid parameters: media_source.", 1)
    elif kind == "image_url":
        if not str(source.get("url") or "").startswith(("http://", "https://")):
            return s._error(400, "Invalid parameters: media_source.url.", 1)
    elif kind == "video_id":
        media = s.media.get(str(source.get("media_id")))
        if media is None or media["status"] != "succeeded":
            return s._error(400, "Invalid parameters: the media upload is not ready.", 1)  # assumption
    else:
        return s._error(400, "Invalid parameters: media_source is required.", 1)
    pin = s._new_pin(
        body["board_id"],
        body.get("description"),
        body.get("title"),
        body.get("link"),
        kind == "video_id",
        alt_text=body.get("alt_text"),
    )
    return s._json(s._render(pin), 201)


# GET /v5/pins/{pin_id} (operation pins/get).
# https://developers.pinterest.com/docs/api/v5/pins-get/
@_route("GET", r"/v5/pins/(\d+)", "GET /v5/pins/:id")
def pin_get(s: FakePinterest, req: RecordedRequest, m: re.Match[str]) -> Response:
    pin = s._pins.get(m.group(1))
    return s._json(s._render(pin)) if pin else s._error(404, "Pin not found.", 50)


# DELETE /v5/pins/{pin_id} (operation pins/delete): 204.
# https://developers.pinterest.com/docs/api/v5/pins-delete/
@_route("DELETE", r"/v5/pins/(\d+)", "DELETE /v5/pins/:id")
def pin_delete(s: FakePinterest, req: RecordedRequest, m: re.Match[str]) -> Response:
    if s._pins.pop(m.group(1), None) is None:
        return s._error(404, "Pin not found.", 50)
    return Response("", status=204)


# GET /v5/pins/{pin_id}/analytics (operation pins/analytics): PinAnalyticsResponse keyed "all".
# https://developers.pinterest.com/docs/api/v5/pins-analytics/
@_route("GET", r"/v5/pins/(\d+)/analytics", "GET /v5/pins/:id/analytics")
def pin_analytics(s: FakePinterest, req: RecordedRequest, m: re.Match[str]) -> Response:
    pin = s._pins.get(m.group(1))
    if pin is None:
        return s._error(404, "Pin not found.", 404)
    today = datetime.now(timezone.utc).date()
    try:
        start = date.fromisoformat(req.param("start_date") or "")
        end = date.fromisoformat(req.param("end_date") or "")
    except ValueError:
        return s._error(400, "Invalid pins analytics parameters.")
    wanted = [t for t in (req.param("metric_types") or "").split(",") if t]
    allowed = set(STANDARD) | (set(VIDEO_ONLY) if pin["_video"] else set())
    # start_date "cannot be more than 90 days back from today"; video metrics on a video Pin only
    # (the split of query_pin_analytics_metric_types; refusing them elsewhere is an assumption).
    if start < today - timedelta(days=90) or end < start or not wanted or not set(wanted) <= allowed:
        return s._error(400, "Invalid pins analytics parameters.")
    created = pin["_created"].date()
    daily = []
    for day in days_between(start, end):
        if day < created:
            daily.append({"date": day.isoformat(), "data_status": "BEFORE_PIN_CREATED", "metrics": {}})
        elif day.isoformat() in pin["_days"]:
            ready = pin["_days"][day.isoformat()]
            daily.append(
                {"date": day.isoformat(), "data_status": "READY", "metrics": {t: ready.get(t, 0) for t in wanted}}
            )
        else:
            # A day not settled yet; the zeros are what a careless reader would add up.
            daily.append({"date": day.isoformat(), "data_status": "PROCESSING", "metrics": {t: 0 for t in wanted}})
    summary = {t: sum(d["metrics"].get(t, 0) for d in daily) for t in wanted}
    return s._json({"all": {"daily_metrics": daily, "summary_metrics": summary, "lifetime_metrics": {}}})


# POST /v5/media (operation media/create): MediaUpload with upload_url and upload_parameters.
# https://developers.pinterest.com/docs/api/v5/media-create/
@_route("POST", r"/v5/media", "POST /v5/media")
def media_create(s: FakePinterest, req: RecordedRequest, m: re.Match[str]) -> Response:
    if not isinstance(req.json, dict) or req.json.get("media_type") != "video":
        return s._error(400, "Invalid parameters: media_type.", 1)
    media_id = str(5212123920968240771 + next(s._seq))
    key = f"uploads/11/aa/22/3:video:203014033110991560:{media_id}"
    s.media[media_id] = {"media_id": media_id, "status": "registered", "polls_left": s.processing_polls, "key": key}
    return s._json(
        {
            "media_id": media_id,
            "media_type": "video",
            "upload_url": f"{s.url}{UPLOAD_PATH}",
            "upload_parameters": {**UPLOAD_PARAMETERS, "key": key},
        },
        201,
    )


# GET /v5/media/{media_id} (operation media/get): registered -> processing -> succeeded|failed.
# https://developers.pinterest.com/docs/api/v5/media-get/
@_route("GET", r"/v5/media/(\d+)", "GET /v5/media/:id")
def media_get(s: FakePinterest, req: RecordedRequest, m: re.Match[str]) -> Response:
    media = s.media.get(m.group(1))
    if media is None:
        return s._error(404, "Media not found.")
    if media["status"] == "processing":
        if media["polls_left"] <= 0:
            media["status"] = s.media_outcome
        media["polls_left"] -= 1
    return s._json({"media_id": media["media_id"], "media_type": "video", "status": media["status"]})
