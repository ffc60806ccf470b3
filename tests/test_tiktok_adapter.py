"""The real TikTok adapter against the fake TikTok over loopback sockets.

Nothing in the adapter is patched: it talks HTTP to tests/fakes/tiktok_server.py, and the
tests assert on what the fake received and what the adapter returned. Waits run on a fake
clock (ctx.clock/ctx.sleep), so polling schedules are asserted without sleeping.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from fakes.clock import FakeClock
from fakes.tiktok_server import CLIENT_KEY, CLIENT_SECRET, MB, FakeTikTok
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
from postcli.platforms.tiktok.adapter import TikTokAdapter
from postcli.platforms.tiktok.upload import CHUNK, POLL_FOR_S


@pytest.fixture
def server():
    with FakeTikTok() as s:
        yield s


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def adapter(server: FakeTikTok, clock: FakeClock | None = None, **overrides: Any) -> TikTokAdapter:
    """An adapter for an account signed in earlier (tokens, client key, username stored)."""
    clock = clock or FakeClock()
    return TikTokAdapter(server.account_context(clock=clock, sleep=clock.sleep, **overrides))


def video(tmp_path: Path, size: int = 2000, seconds: float | None = 12.0, name: str = "clip.mp4") -> MediaItem:
    path = tmp_path / name
    path.write_bytes(os.urandom(size))
    return MediaItem(path=path, mime_type="video/mp4", size_bytes=size, duration_s=seconds)


def photo(tmp_path: Path, name: str, url: str | None = None) -> MediaItem:
    path = tmp_path / name
    path.write_bytes(b"\xff\xd8\xff\xe0fake-jpeg")
    return MediaItem(path=path, mime_type="image/jpeg", size_bytes=14, public_url=url)


class States(list):  # type: ignore[type-arg]
    """req.save_state's calls, each with how many requests the fake had seen by then."""

    def __init__(self, server: FakeTikTok) -> None:
        super().__init__()
        self.server = server
        self.seen_at: list[int] = []

    def __call__(self, state: dict[str, Any]) -> None:
        self.append(dict(state))
        self.seen_at.append(len(self.server.requests))


def request(server: FakeTikTok, media: list[MediaItem], text: str = "hello #fyp", **fields: Any) -> PublishRequest:
    return PublishRequest(
        text=text,
        idempotency_key="k",
        media=media,
        fields={"privacy": "SELF_ONLY", **fields},
        save_state=States(server),
    )


def wait_for(done: Any, seconds: float = 10) -> None:
    import time

    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "the fake never got there"
        time.sleep(0.02)


def paths(server: FakeTikTok) -> list[str]:
    return [f"{r.method} {r.path}" for r in server.requests]


# -- 1. connect ---------------------------------------------------------------------------------


def test_connect_after_a_sign_in_reads_the_user_and_keeps_the_known_expiry(server):
    saved: list[dict[str, Any]] = []
    a = adapter(server, save_secrets=saved.append, handle=None, external_id=None, settings={"client_key": CLIENT_KEY})
    info = a.connect(None, server.access_token)
    assert (info.external_id, info.handle, info.display_name) == (server.open_id, "alice.makes", "Alice Makes")
    assert paths(server) == ["GET /v2/user/info/"]  # the expiry is known: no refresh
    assert server.requests[0].query["fields"] == ["open_id,union_id,display_name,username"]
    assert a.ctx.settings["open_id"] == server.open_id and a.ctx.settings["username"] == "alice.makes"
    # When the user must sign in again: the refresh token's end, a year away.
    assert info.token_expires_at is not None and info.token_expires_at > datetime.now(timezone.utc) + timedelta(
        days=360
    )
    assert saved[-1]["access_token"] == server.access_token


def test_connect_with_a_refresh_token_from_elsewhere_refreshes_once_and_saves_the_rotated_pair(server):
    saved: list[dict[str, Any]] = []
    ctx_secrets = {"refresh_token": server.refresh_token, "client_secret": CLIENT_SECRET}
    a = adapter(server, save_secrets=saved.append, secrets=ctx_secrets, settings={"client_key": CLIENT_KEY})
    a.connect(None, server.access_token)
    assert paths(server) == ["POST /v2/oauth/token/", "GET /v2/user/info/"]
    refresh = server.requests[0]
    assert refresh.form == {
        "client_key": [CLIENT_KEY],
        "client_secret": [CLIENT_SECRET],
        "grant_type": ["refresh_token"],
        "refresh_token": ["rft.fake-tiktok-refresh-0123456789"],
    }
    # Saved at once, before the next request: the rotated refresh token is the only one that works.
    assert (saved[0]["access_token"], saved[0]["refresh_token"]) == server.issued[-1]
    assert server.requests[1].bearer == server.access_token


def test_connect_refuses_a_bad_token_without_repeating_it(server):
    with pytest.raises(AuthFailed) as err:
        adapter(server, secrets={}).connect(None, "act.not-a-real-token-987654")
    assert "not-a-real-token" not in str(err.value) + str(err.value.hint)
    assert "postcli accounts login tiktok" in err.value.hint


def test_connect_with_a_refresh_token_but_no_client_key_says_what_is_missing(server):
    a = adapter(server, secrets={"refresh_token": "rft.x-123456", "client_secret": CLIENT_SECRET}, settings={})
    with pytest.raises(PlatformRejected) as err:
        a.connect(None, server.access_token)
    assert "--client-id" in err.value.message and server.requests == []


# -- 2. limits and text length ---------------------------------------------------------------------


def test_limits_and_utf16_text_length(server, tmp_path):
    a = adapter(server)
    limits = a.limits()
    assert limits.requires_media and not limits.images_and_video
    assert "image/png" not in limits.mime_types and "image/jpeg" in limits.mime_types
    assert limits.needs_public_media_url and limits.public_media_kinds == ("image",)
    assert (limits.max_images, limits.max_videos, limits.max_video_seconds) == (35, 1, 600)
    assert a.text_length("héllo") == 5 and a.text_length("🎬 ok") == 5  # an emoji is two UTF-16 units
    too_long = "🎬" * 1101  # 2202 units: over a video caption's 2200
    with pytest.raises(PlatformRejected) as err:
        a.publish(request(server, [video(tmp_path)], text=too_long))
    assert "2200" in err.value.message and server.requests == []  # refused before asking anything


# -- 3. publishing -------------------------------------------------------------------------------


def test_a_small_video_goes_whole_after_creator_info_and_its_state_is_saved_first(server, tmp_path, clock):
    a = adapter(server, clock)
    req = request(server, [video(tmp_path, size=3000)], disable_duet=True)
    result = a.publish(req)
    assert paths(server) == [
        "POST /v2/post/publish/creator_info/query/",
        "POST /v2/post/publish/video/init/",
        "PUT /video/",
        "POST /v2/post/publish/status/fetch/",
    ]
    init = server.requests[1].json
    assert init["source_info"] == {
        "source": "FILE_UPLOAD",
        "video_size": 3000,
        "chunk_size": 3000,
        "total_chunk_count": 1,
    }
    assert init["post_info"] == {
        "privacy_level": "SELF_ONLY",
        "disable_comment": False,
        "disable_duet": True,
        "disable_stitch": False,
        "brand_content_toggle": False,
        "brand_organic_toggle": False,
        "title": "hello #fyp",
    }
    put = server.requests[2]
    assert put.headers["Content-Range"] == "bytes 0-2999/3000" and put.headers["Content-Type"] == "video/mp4"
    assert put.bearer is None and len(put.body) == 3000
    # The publish id and upload URL were saved before the first byte left.
    states = req.save_state
    assert states[0]["publish_id"] == server.only_publish().publish_id and states.seen_at[0] == 2
    # A private post has no post id: it is known by its publish id, with no link.
    assert (result.platform_post_id, result.url) == (server.only_publish().publish_id, None)


def test_a_big_video_goes_in_five_megabyte_chunks_and_a_public_post_gets_its_id(server, tmp_path, clock):
    size = 2 * CHUNK + 123_456
    req = request(server, [video(tmp_path, size=size)], privacy="PUBLIC_TO_EVERYONE")
    result = adapter(server, clock).publish(req)
    init = server.requests_to("POST", "/v2/post/publish/video/init/")[0].json
    assert init["source_info"]["chunk_size"] == CHUNK and init["source_info"]["total_chunk_count"] == 2
    ranges = [r.headers["Content-Range"] for r in server.requests_to("PUT", "/video/")]
    assert ranges == [f"bytes 0-{CHUNK - 1}/{size}", f"bytes {CHUNK}-{size - 1}/{size}"]
    assert [s["uploaded"] for s in req.save_state] == [0, 1, 2]
    post_id = server.only_publish().post_id
    assert post_id is not None and result.platform_post_id == post_id
    assert result.url == f"https://www.tiktok.com/@alice.makes/video/{post_id}"


def test_photos_are_pulled_from_their_urls(server, tmp_path, clock):
    media = [photo(tmp_path, f"p{i}.jpg", f"https://bucket.example/p{i}.jpg?sig=x") for i in range(3)]
    req = request(server, media, text="three photos", photo_cover=2, auto_add_music=True)
    req.title = "A title"
    result = adapter(server, clock).publish(req)
    body = server.requests_to("POST", "/v2/post/publish/content/init/")[0].json
    assert body["media_type"] == "PHOTO" and body["post_mode"] == "DIRECT_POST"
    assert body["source_info"] == {
        "source": "PULL_FROM_URL",
        "photo_cover_index": 1,
        "photo_images": [m.public_url for m in media],
    }
    info = body["post_info"]
    assert (info["title"], info["description"], info["auto_add_music"]) == ("A title", "three photos", True)
    assert "disable_duet" not in info and "disable_stitch" not in info
    assert [s.get("publish_id") is not None for s in req.save_state] == [False, True]  # "sent" saved before the init
    assert result.platform_post_id.startswith("p_pub_url~")


def test_photos_from_an_unverified_domain_say_how_to_verify_it(server, tmp_path, clock):
    req = request(server, [photo(tmp_path, "p.jpg", "https://elsewhere.example/p.jpg")])
    with pytest.raises(PlatformRejected) as err:
        adapter(server, clock).publish(req)
    assert "url_ownership_unverified" in err.value.message and "verify" in err.value.hint


def test_an_unaudited_app_posting_to_a_public_account_gets_a_clear_message(tmp_path, clock):
    with FakeTikTok(unaudited=True, account_private=False) as server:
        with pytest.raises(PlatformRejected) as err:
            adapter(server, clock).publish(request(server, [video(tmp_path)]))
    assert "not audited" in err.value.message and "Private account" in err.value.hint


# -- creator_info's constraints: refused before init -----------------------------------------------


@pytest.mark.parametrize(
    ("creator", "fields", "seconds", "says"),
    [
        ({"privacy_levels": ["SELF_ONLY"]}, {"privacy": "PUBLIC_TO_EVERYONE"}, 10, "SELF_ONLY only"),
        ({"max_seconds": 60}, {}, 61.5, "up to 60 s"),
        ({"comment_disabled": True}, {"disable_comment": False}, 10, "comments off"),
        ({"stitch_disabled": True}, {"disable_stitch": False}, 10, "stitchs off"),
    ],
)
def test_creator_info_constraints_refuse_before_init(tmp_path, clock, creator, fields, seconds, says):
    with FakeTikTok(**creator) as server:
        a = adapter(server, clock)
        req = request(server, [video(tmp_path, seconds=seconds)], **fields)
        with pytest.raises(PlatformRejected) as err:
            a.preflight(req)
        assert says in err.value.message
        with pytest.raises(PlatformRejected):
            a.publish(req)
        assert server.count("POST /v2/post/publish/video/init/") == 0
        assert set(paths(server)) == {"POST /v2/post/publish/creator_info/query/"}


def test_switches_left_out_follow_the_creators_settings(tmp_path, clock):
    with FakeTikTok(comment_disabled=True, duet_disabled=True) as server:
        adapter(server, clock).publish(request(server, [video(tmp_path)]))
        info = server.requests_to("POST", "/v2/post/publish/video/init/")[0].json["post_info"]
    assert (info["disable_comment"], info["disable_duet"], info["disable_stitch"]) == (True, True, False)


# -- status polling ----------------------------------------------------------------------------


def test_status_is_polled_on_the_clock_until_complete_and_each_poll_is_charged(server, tmp_path, clock):
    server.processing_polls = 3
    charged: list[str] = []
    adapter(server, clock, charge_request=charged.append).publish(request(server, [video(tmp_path)]))
    assert server.count("POST /v2/post/publish/status/fetch/") == 4
    assert clock.slept == [2.0, 4.0, 8.0] and charged == ["status/fetch"] * 4


def test_a_failed_post_says_tiktoks_reason(server, tmp_path, clock):
    server.next_failure = "duration_check_failed"
    with pytest.raises(PlatformRejected) as err:
        adapter(server, clock).publish(request(server, [video(tmp_path)]))
    assert "duration_check_failed" in err.value.message and "longer or shorter" in err.value.message


def test_a_post_failed_for_too_many_posts_is_rate_limited(server, tmp_path, clock):
    server.next_failure = "spam_risk_too_many_posts"
    with pytest.raises(PlatformRateLimited) as err:
        adapter(server, clock).publish(request(server, [video(tmp_path)]))
    assert "daily cap" in err.value.message


def test_a_post_still_processing_after_the_wait_is_left_for_post_retry(server, tmp_path, clock):
    server.processing_polls = 1000
    req = request(server, [video(tmp_path)])
    with pytest.raises(PlatformUnavailable) as err:
        adapter(server, clock).publish(req)
    assert "still processing" in err.value.message and "post retry" in err.value.hint
    assert sum(clock.slept) <= POLL_FOR_S and max(clock.slept) == 30.0
    # The retry asks about the same publish id and never uploads again.
    server.processing_polls = 0
    server.only_publish().polls_left = 0
    retry = request(server, [video(tmp_path)])
    retry.state = req.save_state[-1]
    again = adapter(server, FakeClock())
    assert again.find_published(retry) is not None
    assert server.count("POST /v2/post/publish/video/init/") == 1 and server.count("PUT /video/") == 1


# -- 4. retries: resumed, never posted twice -------------------------------------------------------


def test_a_dropped_connection_asks_how_far_the_upload_got_and_resumes(server, tmp_path, clock):
    size = 2 * CHUNK + 10
    server.drop_chunk(1)
    adapter(server, clock).publish(request(server, [video(tmp_path, size=size)]))
    puts = server.requests_to("PUT", "/video/")
    assert [p.headers["Content-Range"].split("/")[0] for p in puts] == [
        f"bytes 0-{CHUNK - 1}",
        f"bytes {CHUNK}-{size - 1}",
        f"bytes {CHUNK}-{size - 1}",
    ]
    assert [p.status for p in puts][-1] == 201 and len(server.publishes) == 1


def test_a_retry_after_a_crash_mid_upload_resumes_the_same_upload(server, tmp_path, clock):
    size = 3 * CHUNK
    clip = video(tmp_path, size=size)
    first = request(server, [clip])
    # The first attempt sends one chunk, then the connection drops more times than it retries:
    # the attempt ends with what it saved, as a killed process would.
    for _ in range(4):
        server.drop_chunk(1)
    with pytest.raises(PlatformUnavailable):
        adapter(server, clock).publish(first)
    assert server.only_publish().received == CHUNK
    retry = request(server, [clip])
    retry.state = first.save_state[-1]
    assert adapter(server, FakeClock()).find_published(retry) is None  # not complete: publish resumes it
    result = adapter(server, FakeClock()).publish(retry)
    assert len(server.publishes) == 1 and server.count("POST /v2/post/publish/video/init/") == 1
    assert server.only_publish().received == size and result.platform_post_id == server.only_publish().publish_id
    assert retry.save_state[-1]["uploaded"] == 3


def test_a_retry_after_a_failed_post_starts_again(server, tmp_path, clock):
    server.next_failure = "picture_size_check_failed"
    first = request(server, [video(tmp_path)])
    with pytest.raises(PlatformRejected):
        adapter(server, clock).publish(first)
    retry = request(server, [video(tmp_path)])
    retry.state = first.save_state[-1]
    assert adapter(server, FakeClock()).find_published(retry) is None
    adapter(server, FakeClock()).publish(retry)
    assert server.count("POST /v2/post/publish/video/init/") == 2
    assert [p.status for p in server.publishes.values()] == ["FAILED", "PUBLISH_COMPLETE"]


def test_a_completed_publish_is_found_by_its_publish_id(server, tmp_path, clock):
    first = request(server, [video(tmp_path)], privacy="PUBLIC_TO_EVERYONE")
    done = adapter(server, clock).publish(first)
    retry = request(server, [video(tmp_path)], privacy="PUBLIC_TO_EVERYONE")
    retry.state = first.save_state[-1]
    found = adapter(server, FakeClock()).find_published(retry)
    assert found is not None and found.platform_post_id == done.platform_post_id
    assert server.count("POST /v2/post/publish/video/init/") == 1


def test_a_photo_post_whose_init_got_no_answer_is_found_among_recent_public_posts(server, tmp_path, clock):
    media = [photo(tmp_path, "p.jpg", "https://bucket.example/p.jpg")]
    first = request(server, media, text="sunset over the bay", privacy="PUBLIC_TO_EVERYONE")
    gate = server.hold("POST", "/v2/post/publish/content/init/", times=1)
    with pytest.raises(PlatformUnavailable):
        adapter(server, clock, timeout=0.5).publish(first)
    assert first.save_state[-1].get("publish_id") is None  # the answer never came
    gate.set()  # TikTok goes on with the post all the same
    wait_for(lambda: len(server.publishes) == 1)
    pub = server.only_publish()
    server.moderate(pub.publish_id)
    server.add_video("an older post with other text")
    retry = request(server, media, text="sunset over the bay", privacy="PUBLIC_TO_EVERYONE")
    retry.state = first.save_state[-1]
    found = adapter(server, FakeClock()).find_published(retry)
    assert found is not None and found.platform_post_id == pub.post_id
    # A post made before the first attempt (less the margin) is not taken for it.
    retry.state = {**retry.state, "sent_at": (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()}
    assert adapter(server, FakeClock()).find_published(retry) is None


# -- 5. posts TikTok stops showing, and deleting ---------------------------------------------------


def test_a_hidden_video_is_none_while_the_others_keep_their_metrics(server):
    shown, hidden = server.add_video("one", view_count=50), server.add_video("two", view_count=70)
    server.hide(hidden)
    got = adapter(server).fetch_post_metrics([shown, hidden])
    assert got[hidden] is None and got[shown] is not None and got[shown].views == 50
    assert TikTokAdapter.absence_is_deletion is False  # "not visible now", never deleted


def test_delete_is_refused_because_tiktok_has_no_delete_api(server):
    with pytest.raises(PlatformRejected) as err:
        adapter(server).delete("7310000000000000001")
    assert "TikTok app" in err.value.message and server.requests == []


# -- posts known by their publish id ----------------------------------------------------------------


def test_a_public_post_gets_its_id_at_a_later_collect(server, tmp_path, clock):
    server.moderation_polls = None  # moderation takes longer than the publish waits
    published = adapter(server, clock).publish(request(server, [video(tmp_path)], privacy="PUBLIC_TO_EVERYONE"))
    publish_id = published.platform_post_id
    assert publish_id.startswith("v_pub_file~") and published.url is None
    a = adapter(server)
    assert a.fetch_post_metrics([publish_id]) == {publish_id: None}  # still in moderation
    post_id = server.moderate(publish_id)
    server.set_counts(post_id, view_count=900, like_count=40)
    m = a.fetch_post_metrics([publish_id])[publish_id]
    assert m is not None and (m.views, m.likes) == (900, 40)
    assert m.resolved is not None and m.resolved.platform_post_id == post_id
    assert m.resolved.url == f"https://www.tiktok.com/@alice.makes/video/{post_id}"


def test_a_private_post_has_no_metrics(server, tmp_path, clock):
    published = adapter(server, clock).publish(request(server, [video(tmp_path)]))
    assert adapter(server).fetch_post_metrics([published.platform_post_id]) == {published.platform_post_id: None}


# -- 6. tokens ------------------------------------------------------------------------------------


def test_a_refused_token_is_refreshed_once_the_rotated_pair_saved_at_once(server):
    saved: list[dict[str, Any]] = []
    old_refresh = server.refresh_token
    a = adapter(server, save_secrets=saved.append)
    server.expire_access_token()
    m = a.fetch_account_metrics()
    assert m.followers == 1200
    assert paths(server) == ["GET /v2/user/info/", "POST /v2/oauth/token/", "GET /v2/user/info/"]
    assert saved and (saved[0]["access_token"], saved[0]["refresh_token"]) == server.issued[-1]
    assert saved[0]["refresh_token"] != old_refresh


def test_a_token_near_its_end_is_refreshed_before_the_call(server):
    soon = (datetime.now(timezone.utc) + timedelta(minutes=3)).isoformat()
    ctx_secrets = {**server.account_context().secrets, "expires_at": soon}
    adapter(server, secrets=ctx_secrets).fetch_account_metrics()
    assert paths(server) == ["POST /v2/oauth/token/", "GET /v2/user/info/"]


def test_a_revoked_token_is_auth_failed_naming_the_login_and_no_secret(server):
    a = adapter(server)
    server.revoke()
    with pytest.raises(AuthFailed) as err:
        a.fetch_account_metrics()
    text = err.value.message + err.value.hint
    assert "postcli accounts login tiktok" in text
    for secret in ("act.fake-tiktok-access", "rft.fake-tiktok-refresh", CLIENT_SECRET):
        assert secret not in text


def test_a_second_refusal_after_refreshing_is_auth_failed(server):
    server.fail_next("GET", "/v2/user/info/", 401, code="access_token_invalid", times=2)
    with pytest.raises(AuthFailed):
        adapter(server).fetch_account_metrics()
    assert server.count("POST /v2/oauth/token/ (refresh_token)") == 1


def test_a_missing_scope_is_auth_failed_without_a_refresh(server):
    server.fail_next("POST", "/v2/video/query/", 401, code="scope_not_authorized", message="video.list")
    with pytest.raises(AuthFailed) as err:
        adapter(server).fetch_post_metrics(["7310000000000000001"])
    assert "permission" in err.value.hint and server.count("POST /v2/oauth/token/ (refresh_token)") == 0


# -- 7. limits ------------------------------------------------------------------------------------


def test_429_has_no_reset_header_so_one_window_is_the_wait(server):
    server.fail_next("POST", "/v2/video/query/", 429, code="rate_limit_exceeded")
    with pytest.raises(PlatformRateLimited) as err:
        adapter(server).fetch_post_metrics(["7310000000000000001"])
    assert err.value.retry_after == 60 and "next try is after" in err.value.message


def test_too_many_posts_at_init_is_rate_limited(server, tmp_path, clock):
    server.fail_next("POST", "/v2/post/publish/video/init/", 403, code="spam_risk_too_many_posts")
    with pytest.raises(PlatformRateLimited) as err:
        adapter(server, clock).publish(request(server, [video(tmp_path)]))
    assert "daily cap" in err.value.message


# -- 8. outages --------------------------------------------------------------------------------


def test_a_timeout_names_the_host(server):
    server.set_delay(3, "GET", "/v2/user/info/")
    with pytest.raises(PlatformUnavailable) as err:
        adapter(server, timeout=0.3).fetch_account_metrics()
    assert server.host in err.value.message and "did not answer" in err.value.message


def test_unreachable_and_5xx_and_non_json(server):
    with pytest.raises(PlatformUnavailable) as err:
        adapter(server, api_base_url="http://127.0.0.1:9").fetch_account_metrics()
    assert "127.0.0.1:9" in err.value.message
    server.fail_next("GET", "/v2/user/info/", 503, code="internal_error")
    with pytest.raises(PlatformUnavailable) as err5:
        adapter(server).fetch_account_metrics()
    assert "503" in err5.value.message
    server.fail_next("GET", "/v2/user/info/", 200, json="<html>nope</html>")
    with pytest.raises(MalformedResponse):
        adapter(server).fetch_account_metrics()


# -- 9, 10. metrics -------------------------------------------------------------------------------


def test_a_count_tiktok_leaves_out_is_none_and_reach_is_never_reported(server):
    vid = server.add_video("x", view_count=10, like_count=3, comment_count=None, share_count=1)
    m = adapter(server).fetch_post_metrics([vid])[vid]
    assert m is not None and (m.views, m.likes, m.comments, m.shares) == (10, 3, None, 1)
    assert (m.reach, m.impressions, m.saves, m.video_views) == (None, None, None, None)
    query = server.requests_to("POST", "/v2/video/query/")[0]
    assert "view_count" in query.query["fields"][0] and query.json == {"filters": {"video_ids": [vid]}}


def test_more_than_twenty_ids_take_two_queries(server):
    ids = [server.add_video(f"v{i}") for i in range(23)]
    got = adapter(server).fetch_post_metrics(ids)
    assert all(got[i] is not None for i in ids)
    sizes = [len(r.json["filters"]["video_ids"]) for r in server.requests_to("POST", "/v2/video/query/")]
    assert sizes == [20, 3]


def test_account_metrics_none_where_not_reported(server):
    server.stats["follower_count"] = None
    m = adapter(server).fetch_account_metrics()
    assert (m.followers, m.following, m.posts_count) == (None, 31, 0)
    assert m.raw["likes_count"] == 4800


# -- 11. resolve_post ---------------------------------------------------------------------------


def test_resolve_post_by_id_and_links(server):
    vid = server.add_video("a dance")
    a = adapter(server)
    for ref in (
        vid,
        f"https://www.tiktok.com/@alice.makes/video/{vid}",
        f"https://www.tiktok.com/@alice.makes/video/{vid}?lang=en",
    ):
        found = a.resolve_post(ref)
        assert found.platform_post_id == vid and found.author == server.open_id
        assert found.url == f"https://www.tiktok.com/@alice.makes/video/{vid}"
    for bad in ("https://example.com/video/1", "not a post", "7310000000000009999"):
        with pytest.raises(RemoteNotFound):
            a.resolve_post(bad)


# -- 12. cheap import ---------------------------------------------------------------------------


def test_module_imports_without_httpx():
    code = (
        "import sys, postcli.platforms.tiktok.adapter, postcli.platforms.tiktok.signin; "
        "assert 'httpx' not in sys.modules, 'httpx imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_chunk_rules():
    from postcli.platforms.tiktok.upload import chunk_bounds, chunk_plan

    assert chunk_plan(4 * MB) == (4 * MB, 1)  # under 5 MB: whole
    assert chunk_plan(2 * CHUNK - 1) == (2 * CHUNK - 1, 1)
    assert chunk_plan(2 * CHUNK) == (CHUNK, 2)
    size = 7 * CHUNK + 99
    chunk, count = chunk_plan(size)
    assert (chunk, count) == (CHUNK, 7) and chunk_bounds(6, size, chunk, count) == (6 * CHUNK, size - 1)
    assert chunk_plan(4_000_000_000)[1] <= 1000
