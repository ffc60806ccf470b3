"""The real Pinterest adapter against the fake Pinterest API v5 over loopback sockets.

Nothing in the adapter is patched: it talks HTTP to tests/fakes/pinterest_server.py, and the
tests assert on what the fake received and what the adapter returned.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from fakes.clock import FakeClock
from fakes.pinterest_server import BOARD_ID, OTHER_BOARD_ID, UPLOAD_PATH, FakePinterest
from postcli.platforms.base import (
    AuthFailed,
    MalformedResponse,
    MediaItem,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
    PublishRequest,
    RemoteNotFound,
)
from postcli.platforms.pinterest.adapter import PinterestAdapter, pin_reference

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64


@pytest.fixture
def server():
    with FakePinterest() as s:
        yield s


def adapter(server: FakePinterest, **overrides) -> PinterestAdapter:
    return PinterestAdapter(server.account_context(**overrides))


def image(tmp_path: Path, alt: str | None = "A red square", public_url: str | None = None) -> MediaItem:
    path = tmp_path / "square.png"
    path.write_bytes(PNG)
    return MediaItem(path=path, mime_type="image/png", size_bytes=len(PNG), alt_text=alt, public_url=public_url)


def video(tmp_path: Path) -> MediaItem:
    path = tmp_path / "clip.mp4"
    path.write_bytes(MP4)
    return MediaItem(path=path, mime_type="video/mp4", size_bytes=len(MP4), duration_s=5.0)


def pin_request(tmp_path: Path, text: str = "Lemon tart, step by step", **kw) -> PublishRequest:
    kw.setdefault("media", [image(tmp_path)])
    return PublishRequest(text=text, idempotency_key="k1", **kw)


# -- 1. connect ------------------------------------------------------------------------------


def test_connect_reads_the_account_and_checks_the_default_board(server):
    saved = []
    ctx = server.account_context(handle=None, external_id=None, save_secrets=saved.append)
    info = PinterestAdapter(ctx).connect(None, server.access_token)
    assert (info.external_id, info.handle, info.display_name) == (server.user_id, "alicepins", "Alice Pins")
    assert [r.path for r in server.requests] == ["/v5/user_account", f"/v5/boards/{BOARD_ID}"]
    assert ctx.settings["board_id"] == BOARD_ID and ctx.settings["board_name"] == "Summer recipes"
    assert saved[-1]["access_token"] == server.access_token and saved[-1]["refresh_token"] == server.refresh_token


def test_connect_with_a_board_the_user_has_not_lists_the_boards(server):
    ctx = server.account_context(settings={"board_id": "999", "client_id": server.client_id})
    with pytest.raises(PlatformRejected) as err:
        PinterestAdapter(ctx).connect(None, server.access_token)
    assert "no board 999" in err.value.message
    assert f"Summer recipes ({BOARD_ID})" in err.value.message and f"Garden ({OTHER_BOARD_ID})" in err.value.message


def test_connect_takes_the_only_board_and_leaves_the_choice_open_with_several(server):
    ctx = server.account_context(settings={}, secrets={})
    PinterestAdapter(ctx).connect(None, server.access_token)
    assert "board_id" not in ctx.settings  # two boards: a post names one, or the login asks
    del server.boards[OTHER_BOARD_ID]
    ctx = server.account_context(settings={}, secrets={})
    PinterestAdapter(ctx).connect(None, server.access_token)
    assert ctx.settings["board_id"] == BOARD_ID


def test_connect_with_a_bad_token_is_auth_failed_without_the_token(server):
    bad = "pina_notARealTokenButLongEnough123"
    ctx = server.account_context(secrets={})
    with pytest.raises(AuthFailed) as err:
        PinterestAdapter(ctx).connect(None, bad)
    assert bad not in err.value.message + (err.value.hint or "")
    assert "postcli accounts login pinterest" in (err.value.hint or "")


def test_connect_refuses_a_refresh_token_it_could_not_use(server):
    ctx = server.account_context(settings={"board_id": BOARD_ID})  # no client id
    with pytest.raises(PlatformRejected) as err:
        PinterestAdapter(ctx).connect(None, server.access_token)
    assert "--client-id" in err.value.message and server.requests == []


# -- 2. limits ---------------------------------------------------------------------------------


def test_limits_say_a_pin_is_one_image_or_video_with_800_characters(server):
    limits = adapter(server).limits()
    assert (limits.max_text, limits.max_alt_text, limits.max_items, limits.requires_media) == (800, 500, 1, True)
    assert adapter(server).text_length("é" * 10) == 10


def test_content_over_a_limit_is_refused_before_anything_is_sent(server, tmp_path):
    a = adapter(server)
    for req in (
        pin_request(tmp_path, "x" * 801),
        pin_request(tmp_path, title="t" * 101),
        pin_request(tmp_path, link="https://example.com/" + "l" * 2029),  # 2049 characters
        pin_request(tmp_path, media=[]),
        pin_request(tmp_path, media=[image(tmp_path, alt="a" * 501)]),
    ):
        with pytest.raises(PlatformRejected):
            a.publish(req)
    assert server.requests == []


# -- 3. publish ---------------------------------------------------------------------------------


def test_publish_an_image_pin_in_the_request(server, tmp_path):
    a = adapter(server)
    result = a.publish(
        pin_request(tmp_path, title="Lemon tart", link="https://example.com/tart", fields={"board": OTHER_BOARD_ID})
    )
    (sent,) = server.requests_to("POST", "/v5/pins")
    assert sent.bearer == server.access_token
    body = sent.json
    assert body["board_id"] == OTHER_BOARD_ID  # the post's board wins over the account's
    assert (body["description"], body["title"], body["link"], body["alt_text"]) == (
        "Lemon tart, step by step",
        "Lemon tart",
        "https://example.com/tart",
        "A red square",
    )
    assert body["media_source"]["source_type"] == "image_base64"
    assert body["media_source"]["content_type"] == "image/png"
    assert base64.b64decode(body["media_source"]["data"]) == PNG
    (pin,) = server.pins
    assert result.platform_post_id == pin["id"]
    assert result.url == f"https://www.pinterest.com/pin/{pin['id']}/"
    assert result.published_at is not None and result.published_at.tzinfo is not None


def test_publish_an_image_from_the_s3_store_by_its_url(server, tmp_path):
    url = "https://bucket.example.com/media/square.png?X-Amz-Signature=abc"
    adapter(server).publish(pin_request(tmp_path, media=[image(tmp_path, public_url=url)]))
    (sent,) = server.requests_to("POST", "/v5/pins")
    assert sent.json["media_source"] == {"source_type": "image_url", "url": url}
    assert sent.json["board_id"] == BOARD_ID  # the account's default


def test_publish_a_video_registers_uploads_polls_then_pins(server, tmp_path):
    clock = FakeClock()
    charged, states = [], []
    ctx = server.account_context(clock=clock, sleep=clock.sleep, charge_request=charged.append)
    req = pin_request(tmp_path, media=[video(tmp_path)], save_state=states.append)
    result = PinterestAdapter(ctx).publish(req)

    (register,) = server.requests_to("POST", "/v5/media")
    assert register.json == {"media_type": "video"}
    (upload,) = server.requests_to("POST", UPLOAD_PATH)
    assert upload.bearer is None and upload.parts[-1].name == "file" and upload.parts[-1].data == MP4
    (media_id,) = server.media
    assert states == [{"media_id": media_id}]  # kept before the upload
    assert server.uploads[0]["media_id"] == media_id
    polls = server.requests_to("GET", f"/v5/media/{media_id}")
    assert len(polls) == 3 and len(charged) == 3  # processing, processing, succeeded: each charged
    assert clock.slept and all(s > 0 for s in clock.slept)
    (pin_call,) = server.requests_to("POST", "/v5/pins")
    assert pin_call.json["media_source"] == {
        "source_type": "video_id",
        "media_id": media_id,
        "cover_image_key_frame_time": 1,
    }
    assert result.platform_post_id == server.pins[0]["id"]


def test_a_video_pinterest_cannot_process_is_refused_and_no_pin_made(server, tmp_path):
    clock = FakeClock()
    server.media_outcome = "failed"
    with pytest.raises(PlatformRejected) as err:
        adapter(server, clock=clock, sleep=clock.sleep).publish(pin_request(tmp_path, media=[video(tmp_path)]))
    assert "could not process the video" in err.value.message
    assert server.requests_to("POST", "/v5/pins") == [] and server.pins == []


def test_a_retry_uses_the_video_an_earlier_attempt_uploaded(server, tmp_path):
    clock = FakeClock()
    a = adapter(server, clock=clock, sleep=clock.sleep)
    states: list[dict] = []
    # The first attempt dies after the upload, before the Pin (the board vanished meanwhile).
    server.fail_next("POST", "/v5/pins", 503)
    with pytest.raises(PlatformUnavailable):
        a.publish(pin_request(tmp_path, media=[video(tmp_path)], save_state=states.append))
    assert len(server.uploads) == 1
    result = a.publish(pin_request(tmp_path, media=[video(tmp_path)], state=states[-1]))
    assert len(server.uploads) == 1 and len(server.requests_to("POST", "/v5/media")) == 1
    assert server.pins[0]["id"] == result.platform_post_id


def test_a_missing_board_is_refused_before_any_upload_with_the_boards(server, tmp_path):
    with pytest.raises(PlatformRejected) as err:
        adapter(server).publish(pin_request(tmp_path, media=[video(tmp_path)], fields={"board": "42"}))
    assert "no board 42" in err.value.message and f"Garden ({OTHER_BOARD_ID})" in err.value.message
    assert server.requests_to("POST", "/v5/media") == [] and server.requests_to("POST", "/v5/pins") == []


def test_without_a_board_anywhere_nothing_is_sent(server, tmp_path):
    with pytest.raises(PlatformRejected) as err:
        adapter(server, settings={"client_id": server.client_id}).publish(pin_request(tmp_path))
    assert "--field pinterest.board=ID" in (err.value.hint or "") and server.requests == []


# -- 4. reconcile ---------------------------------------------------------------------------------


def test_a_lost_answer_is_found_among_the_boards_pins(server, tmp_path):
    a = adapter(server)
    first = datetime.now(timezone.utc)
    done = a.publish(pin_request(tmp_path, title="Tart"))
    again = pin_request(tmp_path, title="Tart", first_attempt_at=first)
    found = a.find_published(again)
    assert found is not None and found.platform_post_id == done.platform_post_id
    assert found.url == done.url
    # Another title, another board, or a video: not ours.
    assert a.find_published(pin_request(tmp_path, title="Pie", first_attempt_at=first)) is None
    other = pin_request(tmp_path, title="Tart", first_attempt_at=first, fields={"board": OTHER_BOARD_ID})
    assert a.find_published(other) is None


def test_a_pin_older_than_the_first_attempt_is_not_taken(server, tmp_path):
    server.add_pin("Lemon tart, step by step", created_at=datetime.now(timezone.utc) - timedelta(hours=3))
    req = pin_request(tmp_path, first_attempt_at=datetime.now(timezone.utc))
    assert adapter(server).find_published(req) is None


def test_reconcile_reads_every_page_and_takes_the_oldest_match(server, tmp_path):
    now = datetime.now(timezone.utc)
    oldest = server.add_pin("Lemon tart, step by step", created_at=now - timedelta(minutes=2))
    for n in range(120):  # more than a page of other Pins, newer
        server.add_pin(f"filler {n}", created_at=now - timedelta(seconds=60 - n % 60))
    server.add_pin("Lemon tart, step by step", created_at=now)
    found = adapter(server).find_published(pin_request(tmp_path, first_attempt_at=now - timedelta(minutes=3)))
    assert found is not None and found.platform_post_id == oldest
    assert len(server.requests_to("GET", f"/v5/boards/{BOARD_ID}/pins")) == 2


# -- 5. deleted ---------------------------------------------------------------------------------


def test_a_deleted_pin_is_none_and_the_others_keep_their_numbers(server):
    keep = server.add_pin("kept")
    gone = server.add_pin("gone")
    server.settle(keep, IMPRESSION=40, SAVE=3, PIN_CLICK=5, OUTBOUND_CLICK=2)
    server.delete_pin(gone)
    out = adapter(server).fetch_post_metrics([keep, gone])
    assert out[gone] is None
    assert (out[keep].impressions, out[keep].saves, out[keep].clicks) == (40, 3, 5)


def test_deleting_twice_is_not_an_error(server):
    pin = server.add_pin("bye")
    a = adapter(server)
    a.delete(pin)
    a.delete(pin)
    assert server.pins == [] and len(server.requests_to("DELETE", "/v5/pins/")) == 2


# -- 6. tokens ----------------------------------------------------------------------------------


def test_a_401_refreshes_with_basic_auth_and_saves_the_rotated_refresh_token_at_once(server):
    saved = []
    ctx = server.account_context(save_secrets=saved.append)
    old_refresh = server.refresh_token
    server.expire_access_token()
    metrics = PinterestAdapter(ctx).fetch_account_metrics()
    assert metrics.followers == 10
    (refresh,) = server.requests_to("POST", "/v5/oauth/token")
    assert refresh.form == {"grant_type": ["refresh_token"], "refresh_token": [old_refresh]}
    auth = refresh.request.authorization
    assert (auth.type, auth.username, auth.password) == ("basic", server.client_id, server.client_secret)
    new_access, new_refresh = server.issued_tokens[-1]
    assert saved[0]["access_token"] == new_access and saved[0]["refresh_token"] == new_refresh
    assert datetime.fromisoformat(saved[0]["expires_at"]) > datetime.now(timezone.utc) + timedelta(days=29)
    assert ctx.token_expires_at is not None
    # The old refresh token is spent: the fake refuses it now.
    assert new_refresh != old_refresh


def test_a_token_near_its_expiry_is_refreshed_before_the_call(server):
    soon = (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat()
    ctx = server.account_context()
    ctx.secrets = {**ctx.secrets, "expires_at": soon}
    PinterestAdapter(ctx).check_health()
    assert [r.path for r in server.requests][:2] == ["/v5/oauth/token", "/v5/user_account"]


def test_a_revoked_token_is_auth_failed_with_the_login_hint_and_no_secret(server):
    ctx = server.account_context()
    secrets = dict(ctx.secrets)
    server.revoke()
    with pytest.raises(AuthFailed) as err:
        PinterestAdapter(ctx).fetch_account_metrics()
    text = err.value.message + (err.value.hint or "")
    assert "postcli accounts login pinterest" in text
    for value in secrets.values():
        assert value not in text


def test_another_process_rotated_the_pair_meanwhile_so_it_is_taken_not_spent(server):
    """The stored secrets hold a newer refresh token than this adapter's: no refresh is sent."""
    server.expire_access_token()
    stale = server.account_context()
    fresh_pair = server._issue("refresh_token", "x")  # what the other process got and stored
    stored = {**stale.secrets, "access_token": fresh_pair["access_token"], "refresh_token": fresh_pair["refresh_token"]}
    stored["expires_at"] = (datetime.now(timezone.utc) + timedelta(days=30)).isoformat()
    stale.load_secrets = lambda: dict(stored)
    PinterestAdapter(stale).fetch_account_metrics()
    assert server.requests_to("POST", "/v5/oauth/token") == []


# -- 7. rate limits ---------------------------------------------------------------------------


def test_429_is_rate_limited_with_the_reset_header(server):
    server.fail_next(
        "GET", "/v5/user_account", 429, json={"code": 8, "message": "This request exceeded a rate limit."},
        headers={"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1800"},
    )  # fmt: skip
    with pytest.raises(PlatformRateLimited) as err:
        adapter(server).fetch_account_metrics()
    assert err.value.retry_after == 1800.0 and "rate limit" in err.value.message


def test_429_retry_after_wins_and_spam_is_a_refusal(server, tmp_path):
    server.fail_next("GET", "/v5/user_account", 429, headers={"Retry-After": "17", "X-RateLimit-Reset": "900"})
    with pytest.raises(PlatformRateLimited) as err:
        adapter(server).fetch_account_metrics()
    assert err.value.retry_after == 17.0
    server.fail_next("POST", "/v5/pins", 429, json={"code": 8, "message": "Your request was blocked as spam."})
    with pytest.raises(PlatformRejected) as refused:
        adapter(server).publish(pin_request(tmp_path))
    assert "spam" in refused.value.message


# -- 8. availability --------------------------------------------------------------------------


def test_a_timeout_names_the_host(server):
    server.set_delay(2, "GET", "/v5/user_account", times=1)
    with pytest.raises(PlatformUnavailable) as err:
        adapter(server, timeout=0.3).fetch_account_metrics()
    assert server.host in err.value.message and "did not answer" in err.value.message


def test_unreachable_5xx_and_non_json(server):
    with pytest.raises(PlatformUnavailable) as err:
        adapter(server, api_base_url="http://127.0.0.1:9").fetch_account_metrics()
    assert "127.0.0.1:9" in err.value.message
    server.fail_next("GET", "/v5/user_account", 503)
    with pytest.raises(PlatformUnavailable) as err:
        adapter(server).fetch_account_metrics()
    assert "HTTP 503" in err.value.message
    server.fail_next("GET", "/v5/user_account", 200, json="not an object")
    with pytest.raises(MalformedResponse):
        adapter(server).fetch_account_metrics()


# -- 9. metrics ----------------------------------------------------------------------------------


def test_days_still_processing_are_null_not_zero(server):
    pin = server.add_pin("new")  # published today: every day still PROCESSING
    (m,) = adapter(server).fetch_post_metrics([pin]).values()
    assert (m.impressions, m.saves, m.clicks, m.video_views) == (None, None, None, None)
    assert m.raw["processing_days"] == [datetime.now(timezone.utc).date().isoformat()]
    assert m.raw["days_counted"] == 0


def test_settled_days_are_added_up_and_later_days_wait(server):
    created = datetime.now(timezone.utc) - timedelta(days=5)
    pin = server.add_pin("older", created_at=created)
    for n in range(3):  # three days settled, the last three still processing
        server.settle(pin, created.date() + timedelta(days=n), IMPRESSION=100, SAVE=2, PIN_CLICK=7, OUTBOUND_CLICK=1)
    (m,) = adapter(server).fetch_post_metrics([pin]).values()
    assert (m.impressions, m.saves, m.clicks) == (300, 6, 21)
    assert m.video_views is None and m.reach is None and m.likes is None  # not reported for an image Pin
    assert m.raw["metrics"]["OUTBOUND_CLICK"] == 3
    assert len(m.raw["processing_days"]) == 3 and m.raw["start_date"] == created.date().isoformat()
    (call,) = server.requests_to("GET", f"/v5/pins/{pin}/analytics")
    assert call.param("metric_types") == "IMPRESSION,SAVE,PIN_CLICK,OUTBOUND_CLICK"


def test_a_video_pin_reports_video_views_and_an_old_pin_reads_90_days(server):
    old = datetime.now(timezone.utc) - timedelta(days=200)
    pin = server.add_pin("clip", video=True, created_at=old)
    server.settle(pin, datetime.now(timezone.utc).date() - timedelta(days=10), IMPRESSION=9, VIDEO_MRC_VIEW=4)
    (m,) = adapter(server).fetch_post_metrics([pin]).values()
    assert (m.video_views, m.impressions, m.saves) == (4, 9, 0)
    (call,) = server.requests_to("GET", f"/v5/pins/{pin}/analytics")
    assert date.fromisoformat(call.param("start_date")) == datetime.now(timezone.utc).date() - timedelta(days=89)
    assert "VIDEO_MRC_VIEW" in call.param("metric_types")


# -- 10. account ---------------------------------------------------------------------------------


def test_account_metrics(server):
    m = adapter(server).fetch_account_metrics()
    assert (m.followers, m.following, m.posts_count, m.impressions) == (10, 347, 339, 163)
    assert m.reach is None and m.profile_views is None
    del server.counters["follower_count"]
    assert adapter(server).fetch_account_metrics().followers is None


# -- 11. resolve_post ---------------------------------------------------------------------------


def test_pin_reference_forms():
    assert pin_reference("1125968647761564") == "1125968647761564"
    assert pin_reference("https://www.pinterest.com/pin/1125968647761564/") == "1125968647761564"
    assert pin_reference("https://uk.pinterest.com/pin/99/?mt=login") == "99"
    assert pin_reference("pinterest.de/pin/77") == "77"
    assert pin_reference("https://www.pinterest.com/alicepins/summer-recipes/") is None
    assert pin_reference("https://example.com/pin/12/") is None


def test_resolve_post_by_id_and_link(server):
    pin = server.add_pin("made by hand", title="Hand")
    a = adapter(server)
    for ref in (pin, f"https://www.pinterest.com/pin/{pin}/"):
        found = a.resolve_post(ref)
        assert (found.platform_post_id, found.text, found.author) == (pin, "made by hand", server.user_id)
    with pytest.raises(RemoteNotFound):
        a.resolve_post("https://example.com/pin/1/")
    with pytest.raises(RemoteNotFound):
        a.resolve_post("1")


# -- 12. cheap import ------------------------------------------------------------------------------


def test_importing_the_adapter_loads_no_httpx():
    code = "import sys, postcli.platforms.pinterest.adapter; print('httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
