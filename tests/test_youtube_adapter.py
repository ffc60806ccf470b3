"""The real YouTube adapter against the fake YouTube Data API over loopback sockets.

Nothing in the adapter is patched: it talks HTTP to tests/fakes/youtube_server.py, and the
tests assert on what the fake received and what the adapter returned. Uploads go in 256 KiB
chunks (POSTCLI_YOUTUBE_CHUNK_KIB) so a small generated video takes three PUTs.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from fakes.clock import FakeClock
from fakes.youtube_server import CLIENT_ID, CLIENT_SECRET, UNIT, FakeYouTube, google_error
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
from postcli.platforms.youtube.adapter import YouTubeAdapter
from postcli.platforms.youtube.rules import video_id
from postcli.platforms.youtube.spec import tags_length
from support.media import mp4

PAD = 600_000  # with the boxes: 3 chunks of 256 KiB (the last one shorter)


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setenv("POSTCLI_YOUTUBE_CHUNK_KIB", "256")


@pytest.fixture
def server():
    with FakeYouTube() as s:
        yield s


@pytest.fixture
def clip(tmp_path) -> MediaItem:
    path = mp4(tmp_path / "clip.mp4", 3.0, pad=PAD)
    return MediaItem(path=path, mime_type="video/mp4", size_bytes=path.stat().st_size, duration_s=3.0)


class Saved:
    """A target's publish_state as the service keeps it: what save_state wrote, in order."""

    def __init__(self, server: FakeYouTube | None = None) -> None:
        self.server = server
        self.states: list[dict[str, Any]] = []
        self.puts_when_saved: list[int] = []

    def __call__(self, state: dict[str, Any]) -> None:
        self.states.append(dict(state))
        if self.server is not None:
            self.puts_when_saved.append(len(self.server.chunk_puts()))

    @property
    def last(self) -> dict[str, Any]:
        return self.states[-1] if self.states else {}


def request(
    clip: MediaItem,
    saved: Saved | None = None,
    *,
    title: str = "My first video",
    text: str = "What it is about",
    **fields: Any,
) -> PublishRequest:
    saved = saved or Saved()
    return PublishRequest(
        text=text,
        idempotency_key="k1",
        media=[clip],
        title=title,
        fields={"privacy": "private", **fields},
        state=dict(saved.last),
        save_state=saved,
        first_attempt_at=datetime.now(timezone.utc),
    )


def adapter(server: FakeYouTube, **overrides: Any) -> YouTubeAdapter:
    return YouTubeAdapter(server.account_context(**overrides))


def uploaded(server: FakeYouTube, video: str) -> bytes:
    return bytes(next(s.data for s in server.sessions.values() if s.video_id == video))


# -- connect ---------------------------------------------------------------------------------


def test_connect_refreshes_once_and_stores_the_channel_and_when_the_testing_sign_in_ends(server):
    saved: list[dict[str, Any]] = []
    ctx = server.account_context(
        secrets={"refresh_token": server.refresh_token, "client_secret": CLIENT_SECRET},
        settings={"client_id": CLIENT_ID, "app_status": "testing"},
        save_secrets=saved.append,
        handle=None,
        external_id=None,
    )
    info = YouTubeAdapter(ctx).connect(None, server.access_token)
    assert (info.external_id, info.handle, info.display_name) == (server.channel_id, "alicevideos", server.title)
    assert server.count("POST /token (refresh_token)") == 1
    assert saved[-1]["access_token"] == server.access_token  # the refreshed one
    assert datetime.fromisoformat(saved[-1]["expires_at"]) > datetime.now(timezone.utc) + timedelta(minutes=50)
    week = datetime.now(timezone.utc) + timedelta(days=7)
    assert info.token_expires_at is not None and abs((info.token_expires_at - week).total_seconds()) < 60
    assert ctx.settings["channel_id"] == server.channel_id
    assert ctx.settings["uploads_playlist"] == "UU" + server.channel_id[2:]
    assert ctx.settings["refresh_expires_at"] == info.token_expires_at.isoformat()


def test_a_production_app_has_no_sign_in_end_unless_google_says_one():
    with FakeYouTube() as server:
        ctx = server.account_context(settings={"client_id": CLIENT_ID, "app_status": "production"})
        assert YouTubeAdapter(ctx).connect(None, server.access_token).token_expires_at is None
    with FakeYouTube(refresh_token_expires_in=3600 * 24) as server:
        ctx = server.account_context(settings={"client_id": CLIENT_ID, "app_status": "production"})
        ends = YouTubeAdapter(ctx).connect(None, server.access_token).token_expires_at
        assert ends is not None and ends < datetime.now(timezone.utc) + timedelta(days=1, minutes=1)


def test_connect_with_a_refresh_token_but_no_client_id_fails_before_any_request(server):
    ctx = server.account_context(settings={})
    with pytest.raises(PlatformRejected, match="--client-id"):
        YouTubeAdapter(ctx).connect(None, server.access_token)
    assert server.requests == []


def test_connect_with_a_bad_token_is_auth_failed_without_the_token(server):
    ctx = server.account_context(secrets={}, settings={})
    with pytest.raises(AuthFailed) as err:
        YouTubeAdapter(ctx).connect(None, "ya29.not-a-good-token")
    assert "not-a-good-token" not in str(err.value) + (err.value.hint or "")
    assert "postcli accounts login youtube" in (err.value.hint or "")


def test_connect_to_a_google_account_without_a_channel_says_so(server):
    server.channel_id = ""
    server.fail_next("GET", "/youtube/v3/channels", 200, json={"kind": "youtube#channelListResponse", "items": []})
    with pytest.raises(PlatformRejected, match="no YouTube channel"):
        adapter(server, secrets={"access_token": server.access_token}, settings={}).connect(None, server.access_token)


# -- limits ------------------------------------------------------------------------------------


def test_limits_count_the_description_in_bytes_and_take_one_video(server):
    a = adapter(server)
    limits = a.limits()
    assert (limits.max_text, limits.count_unit, limits.max_images, limits.max_videos) == (5000, "bytes", 0, 1)
    assert limits.requires_media and limits.forbidden_chars == "<>"
    assert a.text_length("héllo") == 6


def test_tags_count_as_youtube_counts_them():
    # Commas between tags count; a tag with a space counts two more (YouTube quotes it).
    assert tags_length(["a", "b c"]) == 1 + 1 + 3 + 2


@pytest.mark.parametrize(
    "change, words",
    [
        ({"title": ""}, "needs a title"),
        ({"title": "x" * 101}, "at most 100"),
        ({"title": "a <b>"}, "title may not contain '<' or '>'"),
        ({"text": "é" * 2501}, "5002 bytes"),
        ({"text": "1 > 0"}, "description may not contain '>'"),
        ({"tags": ["long tag"] * 60}, "tags is 659 characters"),
    ],
)
def test_what_youtube_would_refuse_is_rejected_before_anything_is_sent(server, clip, change, words):
    fields = {k: v for k, v in change.items() if k == "tags"}
    kw = {k: v for k, v in change.items() if k != "tags"}
    with pytest.raises(PlatformRejected, match=words):
        adapter(server).publish(request(clip, **kw, **fields))
    assert server.requests == []


def test_a_post_without_a_video_is_rejected_before_anything_is_sent(server, tmp_path):
    png = tmp_path / "a.png"
    png.write_bytes(b"\x89PNG")
    req = PublishRequest(text="x", idempotency_key="k", media=[MediaItem(png, "image/png", 4)], title="t")
    with pytest.raises(PlatformRejected, match="exactly one video"):
        adapter(server).publish(req)
    assert server.requests == []


# -- publishing -----------------------------------------------------------------------------


def test_publish_uploads_in_256_kib_chunks_after_saving_the_session(server, clip):
    saved = Saved(server)
    req = request(clip, saved, tags=["cats", "funny cats"], category=22, privacy="unlisted")
    result = adapter(server).publish(req)

    (start,) = server.requests_to("POST", "/upload/youtube/v3/videos")
    assert start.query["uploadType"] == ["resumable"] and start.query["part"] == ["snippet,status"]
    assert start.headers["X-Upload-Content-Length"] == str(clip.size_bytes)
    assert start.headers["X-Upload-Content-Type"] == "video/mp4"
    assert start.json == {
        "snippet": {
            "title": "My first video",
            "description": "What it is about",
            "tags": ["cats", "funny cats"],
            "categoryId": "22",
        },
        "status": {"privacyStatus": "unlisted"},
    }
    # The session URI was stored before the first byte left.
    assert saved.states[0]["session_uri"].startswith(server.url) and saved.puts_when_saved[0] == 0
    puts = server.chunk_puts()
    assert [len(p.body) for p in puts] == [UNIT, UNIT, clip.size_bytes - 2 * UNIT]
    assert [p.headers["Content-Range"] for p in puts] == [
        f"bytes 0-{UNIT - 1}/{clip.size_bytes}",
        f"bytes {UNIT}-{2 * UNIT - 1}/{clip.size_bytes}",
        f"bytes {2 * UNIT}-{clip.size_bytes - 1}/{clip.size_bytes}",
    ]
    (video,) = server.videos
    assert uploaded(server, video) == clip.path.read_bytes()
    assert result.platform_post_id == video and result.url == f"https://www.youtube.com/watch?v={video}"
    assert result.published_at is not None and result.notice is None
    assert saved.last["video_id"] == video


def test_a_dropped_connection_mid_chunk_asks_how_far_it_got_and_goes_on_from_there(server, clip):
    server.drop_connection_after(100_000)  # the first chunk: 100,000 bytes arrive, then the line drops
    result = adapter(server).publish(request(clip))
    statuses = [r for r in server.requests_to("PUT", "/upload/youtube/v3/videos") if not r.body]
    assert [r.headers["Content-Range"] for r in statuses] == [f"bytes */{clip.size_bytes}"]
    assert server.chunk_puts()[1].headers["Content-Range"].startswith("bytes 100000-")
    (video,) = server.videos
    assert result.platform_post_id == video and uploaded(server, video) == clip.path.read_bytes()
    assert server.bytes_sent == clip.size_bytes + (UNIT - 100_000)  # only the lost part went again


def test_the_last_chunks_answer_lost_is_the_video_already_made_not_a_second_upload(server, clip):
    server.drop_connection_after(10**9)  # the first chunk arrives whole, the answer never comes
    saved = Saved()
    a = adapter(server)
    result = a.publish(request(clip, saved))
    (video,) = server.videos
    assert result.platform_post_id == video and server.bytes_sent == clip.size_bytes


def test_5xx_answers_back_off_then_resume_and_past_the_limit_the_session_is_kept_for_a_retry(server, clip):
    clock = FakeClock()
    saved = Saved()
    server.fail_next("PUT", "/upload/youtube/v3/videos", 503, times=6)  # the first chunk, then each status query
    with pytest.raises(PlatformUnavailable, match="interrupted 5 times") as err:
        adapter(server, clock=clock, sleep=clock.sleep).publish(request(clip, saved))
    assert "post retry" in (err.value.hint or "")
    assert clock.slept == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert server.videos == {} and saved.last["session_uri"]

    # `post retry`: another process with the stored state asks, then goes on; one video.
    again = adapter(server)
    req = request(clip, saved)
    assert again.find_published(req) is None
    result = again.publish(req)
    (video,) = server.videos
    assert result.platform_post_id == video and uploaded(server, video) == clip.path.read_bytes()


def test_find_published_finds_the_video_a_lost_answer_made(server, clip):
    saved = Saved()
    server.drop_connection_after(10**9, final=True)  # the last chunk arrives; its answer is lost
    server.fail_status_queries(5)  # and YouTube cannot say so before the attempt gives up
    with pytest.raises(PlatformUnavailable):
        adapter(server, sleep=FakeClock().sleep).publish(request(clip, saved))
    assert len(server.videos) == 1 and saved.last.get("final_sent") is True
    found = adapter(server).find_published(request(clip, saved))
    assert found is not None and found.platform_post_id == next(iter(server.videos))
    assert len(server.videos) == 1


def test_an_expired_session_before_the_last_chunk_starts_over(server, clip):
    saved = Saved()
    server.fail_next("PUT", "/upload/youtube/v3/videos", 503, times=6)
    with pytest.raises(PlatformUnavailable):
        adapter(server, sleep=FakeClock().sleep).publish(request(clip, saved))
    assert saved.last["final_sent"] is False
    first_session = saved.last["session_uri"]
    server.expire_sessions()
    req = request(clip, saved)
    assert adapter(server).find_published(req) is None  # no video can exist without its last byte
    result = adapter(server).publish(req)
    assert saved.last["session_uri"] != first_session
    assert len(server.requests_to("POST", "/upload/youtube/v3/videos")) == 2
    (video,) = server.videos
    assert result.platform_post_id == video


def test_an_expired_session_after_the_last_chunk_finds_the_video_among_the_uploads(server, clip):
    saved = Saved()
    adapter(server).publish(request(clip, saved))
    (video,) = server.videos
    state = {k: v for k, v in saved.last.items() if k != "video_id"}  # as if killed before the answer
    server.expire_sessions()
    req = request(clip, Saved())
    req.state = state
    found = adapter(server, settings={"client_id": CLIENT_ID}).find_published(req)
    assert found is not None and found.platform_post_id == video
    assert server.requests_to("GET", "/youtube/v3/playlistItems") and len(server.videos) == 1
    assert len(server.requests_to("POST", "/upload/youtube/v3/videos")) == 1


def test_an_unaudited_project_gets_a_private_video_and_a_notice_not_a_failure(clip):
    with FakeYouTube(audited=False) as server:
        result = adapter(server).publish(request(clip, privacy="public"))
        (video,) = server.videos
        assert result.platform_post_id == video
        assert result.notice and "private, not public" in result.notice and "audit" in result.notice


@pytest.mark.parametrize("exhaust", ["quota_exhausted", "upload_limit_reached"])
def test_a_spent_quota_is_rate_limited_until_midnight_pacific_and_nothing_is_uploaded(server, clip, exhaust):
    from zoneinfo import ZoneInfo

    getattr(server, exhaust)()
    with pytest.raises(PlatformRateLimited) as err:
        adapter(server).publish(request(clip))
    pacific = datetime.now(ZoneInfo("America/Los_Angeles"))
    midnight = datetime.combine(
        pacific.date() + timedelta(days=1), datetime.min.time(), ZoneInfo("America/Los_Angeles")
    )
    assert err.value.retry_after is not None
    assert abs(err.value.retry_after - (midnight - pacific).total_seconds()) < 60
    assert server.chunk_puts() == [] and server.videos == {}


# -- tokens ------------------------------------------------------------------------------------


def test_a_401_refreshes_once_keeps_the_new_token_and_retries(server, clip):
    saved: list[dict[str, Any]] = []
    a = adapter(server, save_secrets=saved.append)
    server.expire_access_token()
    result = a.publish(request(clip))
    assert result.platform_post_id in server.videos
    assert server.count("POST /token (refresh_token)") == 1
    assert saved[-1]["access_token"] == server.access_token
    assert saved[-1]["refresh_token"] == server.refresh_token  # Google's refresh tokens do not rotate


def test_a_revoked_sign_in_is_auth_failed_with_the_login_command_and_no_secret(server):
    a = adapter(server, settings={"client_id": CLIENT_ID, "app_status": "testing"})
    server.revoke()
    with pytest.raises(AuthFailed) as err:
        a.fetch_account_metrics()
    text = str(err.value) + (err.value.hint or "")
    assert "postcli accounts login youtube" in text and "Testing" in text
    for secret in (CLIENT_SECRET, server.issued and server.issued[-1][0], "fake-youtube-refresh-token"):
        assert not secret or secret not in text


def test_a_known_expired_token_is_refreshed_before_the_call(server):
    stale = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat()
    ctx = server.account_context()
    ctx.secrets = {**ctx.secrets, "expires_at": stale}
    server.expire_access_token()
    YouTubeAdapter(ctx).fetch_account_metrics()
    assert [r.path for r in server.requests][:2] == ["/token", "/youtube/v3/channels"]
    assert server.count("GET /youtube/v3/channels (401)") == 0


# -- errors ------------------------------------------------------------------------------------


def test_server_errors_and_timeouts_name_the_host(server):
    server.fail_next("GET", "/youtube/v3/videos", 503)
    with pytest.raises(PlatformUnavailable, match=f"127.0.0.1:{server.port}"):
        adapter(server).fetch_post_metrics(["abcdefghijk"])
    server.set_delay(2.0, "GET", "/youtube/v3/videos", times=1)
    with pytest.raises(PlatformUnavailable, match="did not answer within 0.5 s"):
        adapter(server, timeout=0.5).fetch_post_metrics(["abcdefghijk"])


def test_an_answer_that_is_not_a_json_object_is_malformed(server):
    server.fail_next("GET", "/youtube/v3/videos", 200, text="<html>a proxy's page</html>")
    with pytest.raises(MalformedResponse):
        adapter(server).fetch_post_metrics(["abcdefghijk"])
    server.fail_next("GET", "/youtube/v3/channels", 200, json="not an object")
    with pytest.raises(MalformedResponse):
        adapter(server).fetch_account_metrics()


def test_unreachable_api_is_platform_unavailable():
    from postcli.signin.loopback import free_port

    ctx = FakeYouTube().account_context(api_base_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(PlatformUnavailable, match="could not reach 127.0.0.1"):
        YouTubeAdapter(ctx).fetch_account_metrics()


def test_a_short_rate_limit_uses_retry_after(server):
    body = google_error(403, "rateLimitExceeded", "Rate Limit Exceeded", "youtube.quota")
    server.fail_next("GET", "/youtube/v3/videos", 403, json=body, headers={"Retry-After": "30"})
    with pytest.raises(PlatformRateLimited) as err:
        adapter(server).fetch_post_metrics(["abcdefghijk"])
    assert err.value.retry_after == 30


# -- metrics ------------------------------------------------------------------------------------


def test_metrics_map_views_likes_comments_and_leave_the_rest_null(server):
    video = server.add_video()
    server.set_stats(video, views=120, likes=7, comments=None)  # comments turned off: no commentCount
    (m,) = adapter(server).fetch_post_metrics([video]).values()
    assert m is not None
    assert (m.views, m.video_views, m.likes, m.comments) == (120, 120, 7, None)
    assert (m.impressions, m.reach, m.shares, m.saves, m.clicks, m.quotes) == (None,) * 6
    assert m.raw["statistics"] == {"viewCount": "120", "likeCount": "7", "favoriteCount": "0"}


def test_a_deleted_video_is_none_while_the_others_keep_their_numbers_and_50_ids_go_per_call(server):
    ids = [server.add_video(f"v{i}") for i in range(51)]
    server.set_stats(ids[0], views=5)
    server.delete_video(ids[1])
    result = adapter(server).fetch_post_metrics(ids)
    assert result[ids[1]] is None and result[ids[0]] is not None and result[ids[0]].views == 5
    calls = server.requests_to("GET", "/youtube/v3/videos")
    assert [len(c.query["id"][0].split(",")) for c in calls] == [50, 1]
    assert calls[0].query["part"] == ["statistics,status,processingDetails"]


def test_a_video_whose_processing_failed_is_reported_with_its_reason(server):
    video = server.add_video()
    server.set_processing(video, "failed", "transcodeFailed", upload_status="failed")
    a = adapter(server)
    (m,) = a.fetch_post_metrics([video]).values()
    assert m is not None and m.raw["processing_failure_reason"] == "transcodeFailed"  # still counted
    (note,) = a.collect_notes()
    assert video in note and "failed" in note and "transcodeFailed" in note
    assert a.collect_notes() == []  # said once


def test_account_metrics_take_subscribers_unless_hidden():
    with FakeYouTube(subscribers=1500) as server:
        server.add_video()
        m = adapter(server).fetch_account_metrics()
        assert (m.followers, m.posts_count) == (1500, 1)
    with FakeYouTube(hidden_subscribers=True) as server:
        m = adapter(server).fetch_account_metrics()
        assert m.followers is None and m.raw["hidden_subscribers"] is True


# -- delete, health, import ----------------------------------------------------------------------


def test_delete_charges_50_units_and_deleting_twice_is_fine(server):
    charged: list[tuple[str, int]] = []
    video = server.add_video()
    a = adapter(server, charge_request=lambda what, cost=1: charged.append((what, cost)))
    a.delete(video)
    a.delete(video)
    assert server.videos == {} and charged == [("videos.delete", 50)] * 2
    assert [r.status for r in server.requests_to("DELETE", "/youtube/v3/videos")] == [204, 404]


def test_a_budget_that_refuses_the_charge_sends_nothing(server):
    video = server.add_video()

    def refuse(what: str, cost: int = 1) -> None:
        raise PlatformRateLimited(f"no units left for {what}", retry_after=60)

    with pytest.raises(PlatformRateLimited):
        adapter(server, charge_request=refuse).delete(video)
    assert server.requests_to("DELETE", "/youtube/v3/videos") == [] and video in server.videos


def test_check_health_warns_when_a_testing_sign_in_ends_within_two_days(server):
    ends = datetime.now(timezone.utc) + timedelta(days=1)
    settings = {
        "client_id": CLIENT_ID,
        "app_status": "testing",
        "refresh_expires_at": ends.isoformat(),
        "channel_id": server.channel_id,
    }
    health = adapter(server, settings=settings).check_health()
    assert health.ok and health.token_expires_at == ends
    assert health.message and "Testing" in health.message and "publish the app" in health.message
    settings["refresh_expires_at"] = (ends + timedelta(days=5)).isoformat()
    assert adapter(server, settings=settings).check_health().message is None


def test_check_health_without_a_refresh_token_says_it_lasts_an_hour(server):
    health = adapter(server, secrets={"access_token": server.access_token}).check_health()
    assert health.ok and "lasts an hour" in (health.message or "")


@pytest.mark.parametrize(
    "form",
    [
        "{id}",
        "https://www.youtube.com/watch?v={id}",
        "https://youtu.be/{id}",
        "youtube.com/shorts/{id}",
        "https://m.youtube.com/watch?v={id}&t=5",
    ],
)
def test_resolve_post_by_id_and_url_forms(server, form):
    video = server.add_video("Imported", "its description")
    found = adapter(server).resolve_post(form.format(id=video))
    assert (found.platform_post_id, found.text, found.author) == (video, "its description", server.channel_id)
    assert found.url == f"https://www.youtube.com/watch?v={video}"


def test_resolve_post_refuses_foreign_and_unknown_links(server):
    assert video_id("https://vimeo.com/12345678901") is None
    with pytest.raises(RemoteNotFound):
        adapter(server).resolve_post("https://vimeo.com/1234")
    with pytest.raises(RemoteNotFound, match="not on YouTube"):
        adapter(server).resolve_post("https://youtu.be/abcdefghijk")


def test_module_imports_without_httpx():
    code = "import sys, postcli.platforms.youtube.adapter; assert 'httpx' not in sys.modules, 'httpx imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_spec_declares_the_fields_and_the_daily_quota():
    from postcli.platforms.youtube.spec import SPEC

    assert SPEC.title == "required" and SPEC.title_max == 100 and SPEC.title_forbidden == "<>"
    assert [f.key for f in SPEC.fields] == ["privacy", "tags", "category"]
    assert SPEC.field("privacy").default == "private"  # type: ignore[union-attr]
    assert SPEC.rate_limit == (10_000, 86_400) and SPEC.rate_limit_reset == "America/Los_Angeles"
    assert SPEC.budget_per_app and SPEC.signin is not None and SPEC.signin.pkce
    assert SPEC.signin.scopes == (
        "https://www.googleapis.com/auth/youtube",
        "https://www.googleapis.com/auth/youtube.force-ssl",  # commentThreads.insert (a first comment)
    )


def test_the_chunk_size_must_be_a_multiple_of_256_kib(server, clip, monkeypatch):
    monkeypatch.setenv("POSTCLI_YOUTUBE_CHUNK_KIB", "300")
    with pytest.raises(PlatformRejected, match="multiple of 256"):
        adapter(server).publish(request(clip))
    assert server.requests == []
