"""Container polling for Threads and Instagram (platforms/graph_container.py), against the fakes.

Meta: "We recommend querying a container's status once per minute, for no more than
5 minutes" (https://developers.facebook.com/docs/threads/troubleshooting; Instagram:
https://developers.facebook.com/docs/instagram-platform/content-publishing). The status
answers are the documented ones: Threads `{"status": "IN_PROGRESS", "id": ...}`,
Instagram `{"status_code": "IN_PROGRESS", "status": "In Progress: ...", "id": ...}`.

The adapters wait through the AccountContext's clock and sleep (a FakeClock here: no
real waiting) and charge each status check through ctx.charge_request.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes.clock import FakeClock
from fakes.instagram_server import USER_ID, FakeInstagram
from fakes.threads_server import FakeThreads
from postcli.platforms.base import MediaItem, PlatformUnavailable, PublishRequest
from postcli.platforms.graph_container import poll_delays
from postcli.platforms.instagram.adapter import InstagramAdapter
from postcli.platforms.threads.adapter import ThreadsAdapter

FULL_SCHEDULE = [60.0, 60.0, 60.0, 60.0, 60.0]  # a check at once, then one a minute: 300 s in all
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 16


def test_the_checks_are_a_minute_apart_and_stop_at_five_minutes():
    assert poll_delays() == FULL_SCHEDULE
    assert sum(poll_delays()) == 300
    assert poll_delays(150) == [60.0, 60.0]
    assert min(poll_delays()) >= 60  # "once per minute": never two checks in one minute


def _threads(server: FakeThreads, clock: FakeClock, charged: list[str]) -> ThreadsAdapter:
    return ThreadsAdapter(server.account_context(clock=clock, sleep=clock.sleep, charge_request=charged.append))


def _instagram(server: FakeInstagram, clock: FakeClock, charged: list[str]) -> InstagramAdapter:
    return InstagramAdapter(server.account_context(clock=clock, sleep=clock.sleep, charge_request=charged.append))


def _media(tmp_path: Path, name: str, mime: str, data: bytes, url: str) -> MediaItem:
    path = tmp_path / name
    path.write_bytes(data)
    return MediaItem(path=path, mime_type=mime, size_bytes=len(data), public_url=url)


def test_threads_image_container_ready_at_once_is_published_without_waiting(tmp_path):
    with FakeThreads() as server:
        clock, charged = FakeClock(), []
        item = _media(tmp_path, "cat.png", "image/png", b"\x89PNG", "https://bucket.example/cat.png")
        _threads(server, clock, charged).publish(PublishRequest(text="hi", idempotency_key="k", media=[item]))
        [container] = server.containers
        assert len(server.calls("GET", f"/v1.0/{container}")) == 1
        assert clock.slept == []
        assert charged == ["threads container status"]
        assert len(server.published) == 1


def test_threads_container_still_processing_is_checked_again_a_minute_later(tmp_path):
    with FakeThreads() as server:
        server.container_polls = 2  # IN_PROGRESS twice, then FINISHED
        clock, charged = FakeClock(), []
        item = _media(tmp_path, "cat.png", "image/png", b"\x89PNG", "https://bucket.example/cat.png")
        _threads(server, clock, charged).publish(PublishRequest(text="hi", idempotency_key="k", media=[item]))
        [container] = server.containers
        assert len(server.calls("GET", f"/v1.0/{container}")) == 3
        assert clock.slept == [60.0, 60.0]  # once per minute, as Meta recommends
        assert charged == ["threads container status"] * 3
        assert len(server.published) == 1


def test_threads_video_still_processing_stops_after_five_minutes_of_checks(tmp_path):
    with FakeThreads() as server:
        server.container_polls = 1000
        clock, charged = FakeClock(), []
        item = _media(tmp_path, "clip.mp4", "video/mp4", MP4, "https://bucket.example/clip.mp4")
        with pytest.raises(PlatformUnavailable) as err:
            _threads(server, clock, charged).publish(PublishRequest(text="v", idempotency_key="k", media=[item]))
        [container] = server.containers
        assert len(server.calls("GET", f"/v1.0/{container}")) == 6  # was 11 on a ramp, 35+ at 2-10 s
        assert clock.slept == FULL_SCHEDULE
        assert len(charged) == 6
        assert "5 minutes" in err.value.message and "clip.mp4" in err.value.message
        assert "Nothing was published" in err.value.hint
        assert server.requests_to("POST", f"/v1.0/{server.user_id}/threads_publish") == []


def test_instagram_reel_still_processing_stops_after_five_minutes_of_checks(tmp_path):
    with FakeInstagram() as server:
        server.set_container_statuses(["IN_PROGRESS"])
        clock, charged = FakeClock(), []
        item = _media(tmp_path, "reel.mp4", "video/mp4", MP4, server.serve_file("reel.mp4", MP4, "video/mp4"))
        with pytest.raises(PlatformUnavailable) as err:
            _instagram(server, clock, charged).publish(PublishRequest(text="r", idempotency_key="k", media=[item]))
        [container] = server.containers
        polls = server.requests_to("GET", f"/{container}")
        assert len(polls) == 6 and all(p.param("fields") == "status_code,status" for p in polls)
        assert clock.slept == FULL_SCHEDULE
        assert charged == ["instagram container status"] * 6
        assert "still processing" in err.value.message and "reel.mp4" in err.value.message
        assert server.requests_to("POST", f"/{USER_ID}/media_publish") == []


def test_instagram_carousel_waits_for_each_child_then_the_carousel(tmp_path):
    with FakeInstagram() as server:
        server.set_container_statuses(["IN_PROGRESS", "FINISHED"])
        clock, charged = FakeClock(), []
        items = [
            _media(tmp_path, f"{n}.jpg", "image/jpeg", JPEG, server.serve_file(f"{n}.jpg", JPEG, "image/jpeg"))
            for n in ("a", "b")
        ]
        _instagram(server, clock, charged).publish(PublishRequest(text="two", idempotency_key="k", media=items))
        # Each of the 3 containers: IN_PROGRESS, a minute's wait, FINISHED.
        assert clock.slept == [60.0, 60.0, 60.0]
        assert len(charged) == 6
        assert len(server.requests_to("POST", f"/{USER_ID}/media_publish")) == 1


@pytest.mark.parametrize(
    ("code", "subcode", "path"),
    [
        (-2, 2207003, "/media"),  # download timeout while creating the container
        (-1, 2207001, "/media"),  # Instagram server error
        (24, 2207008, "/media_publish"),  # media builder expired: start again
    ],
)
def test_instagram_retryable_errors_leave_the_post_to_a_retry_that_publishes_once(tmp_path, code, subcode, path):
    # Instagram error-code reference, HTTP 400 rows with "Try again" / "generate a new container":
    # https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/error-codes
    with FakeInstagram() as server:
        clock = FakeClock()
        item = _media(tmp_path, "a.jpg", "image/jpeg", JPEG, server.serve_file("a.jpg", JPEG, "image/jpeg"))
        server.fail_next(
            "POST",
            f"/{USER_ID}{path}",
            400,
            json=FakeInstagram.error_body(code, "Instagram server error. Try again.", subcode=subcode),
        )
        adapter = _instagram(server, clock, [])
        with pytest.raises(PlatformUnavailable):
            adapter.publish(PublishRequest(text="again", idempotency_key="k", media=[item]))
        assert server.media == {}
        result = adapter.publish(PublishRequest(text="again", idempotency_key="k", media=[item]))
        assert list(server.media) == [result.platform_post_id]
