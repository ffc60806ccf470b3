"""The real Tumblr adapter against the fake Tumblr API over loopback sockets.

Nothing in the adapter is patched: it talks HTTP to tests/fakes/tumblr_server.py,
and the tests assert on what the fake received and what the adapter returned.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fakes.tumblr_server import FakeTumblr
from postcli.platforms.base import (
    AuthFailed,
    MalformedResponse,
    MediaItem,
    PlatformError,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
    PublishRequest,
    RemoteNotFound,
)
from postcli.platforms.tumblr.adapter import TumblrAdapter
from postcli.platforms.tumblr.npf import blog_identifier, paragraphs, post_reference

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture
def server():
    with FakeTumblr() as s:
        yield s


def adapter(server: FakeTumblr, **overrides) -> TumblrAdapter:
    """An adapter for an account connected earlier (tokens and blog already stored)."""
    return TumblrAdapter(server.account_context(**overrides))


def file(tmp_path: Path, name: str, data: bytes = PNG) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def sent_posts(server: FakeTumblr):
    return [r for r in server.requests_to("POST", "/v2/blog/") if r.path.endswith("/posts")]


def soon(minutes: float) -> datetime:
    return datetime.now(timezone.utc) + timedelta(minutes=minutes)


# -- identifiers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "alice-writes",
        "@alice-writes",
        "Alice-Writes.tumblr.com",
        "https://alice-writes.tumblr.com/",
        "https://www.tumblr.com/alice-writes",
        "www.tumblr.com/@alice-writes",
        "https://www.tumblr.com/blog/view/alice-writes",
    ],
)
def test_blog_identifier_forms(value):
    assert blog_identifier(value) == "alice-writes"


def test_post_reference_forms():
    assert post_reference("788338580402716673") == (None, "788338580402716673")
    assert post_reference("https://alice-writes.tumblr.com/post/123/some-slug") == ("alice-writes", "123")
    assert post_reference("https://www.tumblr.com/alice-writes/123/some-slug") == ("alice-writes", "123")
    assert post_reference("https://www.tumblr.com/@alice-writes/123") == ("alice-writes", "123")
    assert post_reference("https://blog.example.org/post/55") == ("blog.example.org", "55")
    assert post_reference("https://www.tumblr.com/alice-writes") is None
    assert post_reference("not a post") is None


# -- connect -----------------------------------------------------------------------------


def test_connect_refreshes_once_to_learn_the_expiry_and_stores_the_blog(server):
    saved = []
    ctx = server.account_context(
        handle=None,
        external_id=None,
        save_secrets=saved.append,
        secrets={"refresh_token": server.refresh_token, "client_secret": server.client_secret},
        settings={"client_id": server.client_id},
    )
    given = server.access_token
    info = TumblrAdapter(ctx).connect("https://www.tumblr.com/alice-writes", given)

    assert (info.external_id, info.handle, info.display_name) == (server.blog_uuid, "alice-writes", "Alice Writes")
    # Refreshed first (grant_type=refresh_token with the app's credentials), then verified.
    token_call, user_call = server.requests
    assert (token_call.method, token_call.path) == ("POST", "/v2/oauth2/token")
    assert token_call.form == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["fake-tumblr-refresh-token-0123456789"],
        "client_id": [server.client_id],
        "client_secret": [server.client_secret],
    }
    assert token_call.headers.get("Authorization") is None
    new_access, new_refresh = server.issued_tokens[0]
    assert (user_call.path, user_call.bearer) == ("/v2/user/info", new_access)
    assert user_call.headers["User-Agent"] == "postcli"
    # Tumblr's expires_in (2520 s) became the expiry, and the rotated tokens were saved.
    assert timedelta(minutes=41) < info.token_expires_at - datetime.now(timezone.utc) <= timedelta(minutes=42)
    assert saved[-1]["access_token"] == new_access and saved[-1]["refresh_token"] == new_refresh
    assert saved[-1]["client_secret"] == server.client_secret
    assert ctx.settings_changed is True
    assert ctx.settings["blog_name"] == "alice-writes" and ctx.settings["blog_uuid"] == server.blog_uuid
    assert ctx.settings["client_id"] == server.client_id


def test_connect_without_a_refresh_token_keeps_the_token_and_no_expiry(server):
    saved = []
    ctx = server.account_context(handle=None, secrets={}, settings={}, save_secrets=saved.append)
    info = TumblrAdapter(ctx).connect("alice-side.tumblr.com", f" {server.access_token}\n")
    assert info.handle == "alice-side" and info.token_expires_at is None
    assert saved == [{"access_token": server.access_token}]
    assert [r.path for r in server.requests] == ["/v2/user/info"]


def test_connect_to_a_blog_the_user_cannot_post_to_names_the_blogs_it_can(server):
    ctx = server.account_context(handle=None, secrets={}, settings={})
    with pytest.raises(PlatformRejected) as err:
        TumblrAdapter(ctx).connect("someone-else", server.access_token)
    message = str(err.value)
    assert "'someone-else'" in message and "alice-side, alice-writes" in message
    assert server.access_token not in message
    assert "--blog" in err.value.hint


def test_connect_with_a_refresh_token_but_no_client_id_fails_before_any_request(server):
    ctx = server.account_context(
        handle=None, settings={}, secrets={"refresh_token": server.refresh_token, "client_secret": server.client_secret}
    )
    with pytest.raises(PlatformRejected) as err:
        TumblrAdapter(ctx).connect("alice-writes", server.access_token)
    assert "--client-id" in str(err.value)
    assert server.requests == []


def test_connect_with_a_bad_token_is_auth_failed_without_the_token(server):
    ctx = server.account_context(handle=None, secrets={}, settings={})
    with pytest.raises(AuthFailed) as err:
        TumblrAdapter(ctx).connect("alice-writes", "wrong-token-123456")
    assert "wrong-token-123456" not in str(err.value) + str(err.value.hint)
    assert "Unable to authorize" in str(err.value)


# -- limits --------------------------------------------------------------------------------


def test_limits_and_text_length_follow_the_npf_spec(server):
    a = adapter(server)
    limits = a.limits()
    assert (limits.max_text, limits.max_images, limits.max_videos, limits.max_alt_text) == (4096, 30, 1, 4096)
    assert set(limits.mime_types) == {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "video/mp4",
        "video/quicktime",
    }
    assert limits.needs_public_media_url is False
    # Code points, per paragraph: a ZWJ family is 5 of them.
    assert a.text_length("👨‍👨‍👦") == 5
    assert a.text_length("short\n" + "x" * 4000 + "\nshort") == 4000
    assert paragraphs("\n\nhello\n\nworld\n") == ["hello", "", "world"]


def test_a_paragraph_over_4096_code_points_is_rejected_before_sending(server):
    a = adapter(server)
    with pytest.raises(PlatformRejected) as err:
        a.publish(PublishRequest(text="ok\n" + "y" * 4097, idempotency_key="k"))
    assert "paragraph 2" in str(err.value) and "4096" in str(err.value)
    assert server.requests == []


# -- publish -------------------------------------------------------------------------------


def test_text_post_is_one_npf_text_block_per_line_and_returns_id_string_and_url(server):
    a = adapter(server)
    result = a.publish(PublishRequest(text="Hello ☕ Tumblr\n\nsecond paragraph", idempotency_key="k1"))

    (create,) = sent_posts(server)
    assert create.path == f"/v2/blog/{server.blog_uuid}/posts"
    assert create.headers["Content-Type"] == "application/json"
    assert create.bearer == server.access_token
    assert create.json == {
        "content": [
            {"type": "text", "text": "Hello ☕ Tumblr"},
            {"type": "text", "text": ""},
            {"type": "text", "text": "second paragraph"},
        ],
        "state": "published",
    }
    (post,) = server.posts
    assert result.platform_post_id == post["id_string"] and int(post["id_string"]) > 2**53
    assert result.url == post["post_url"]
    assert result.published_at == datetime.fromtimestamp(post["timestamp"], timezone.utc)
    # The URL was read back with GET /posts?id=.
    (readback,) = server.requests_to("GET", "/v2/blog/")
    assert readback.query["id"] == [post["id_string"]]


def test_images_with_alt_text_travel_as_multipart_parts_named_by_identifier(server, tmp_path):
    a = adapter(server)
    one = MediaItem(
        path=file(tmp_path, "one.png"),
        mime_type="image/png",
        size_bytes=len(PNG),
        alt_text="A red square",
        width=1,
        height=1,
    )
    two = MediaItem(path=file(tmp_path, "two.jpg", b"\xff\xd8\xff fake jpeg"), mime_type="image/jpeg", size_bytes=14)
    a.publish(PublishRequest(text="two pictures", idempotency_key="k2", media=[one, two]))

    (create,) = sent_posts(server)
    assert create.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    json_part, *file_parts = create.parts
    assert (json_part.name, json_part.filename, json_part.content_type) == ("json", None, "application/json")
    assert json.loads(json_part.data) == {
        "content": [
            {"type": "text", "text": "two pictures"},
            {
                "type": "image",
                "media": [{"type": "image/png", "identifier": "media-0", "width": 1, "height": 1}],
                "alt_text": "A red square",
            },
            {"type": "image", "media": [{"type": "image/jpeg", "identifier": "media-1"}]},
        ],
        "state": "published",
    }
    assert [(p.name, p.filename, p.content_type, p.data) for p in file_parts] == [
        ("media-0", "one.png", "image/png", PNG),
        ("media-1", "two.jpg", "image/jpeg", b"\xff\xd8\xff fake jpeg"),
    ]
    (post,) = server.posts
    assert [b["type"] for b in post["content"]] == ["text", "image", "image"]
    assert post["content"][1]["alt_text"] == "A red square"


def test_a_video_is_one_video_block_with_a_single_media_object(server, tmp_path):
    a = adapter(server)
    clip = MediaItem(path=file(tmp_path, "clip.mp4", b"\x00\x00\x00\x18ftypmp42"), mime_type="video/mp4", size_bytes=12)
    a.publish(PublishRequest(text="", idempotency_key="k3", media=[clip]))
    (create,) = sent_posts(server)
    assert create.npf["content"] == [{"type": "video", "media": {"type": "video/mp4", "identifier": "media-0"}}]
    assert [(p.name, p.content_type) for p in create.parts[1:]] == [("media-0", "video/mp4")]


def test_unreadable_media_file_names_the_file_and_sends_nothing(server, tmp_path):
    a = adapter(server)
    missing = MediaItem(path=tmp_path / "gone.png", mime_type="image/png", size_bytes=1)
    with pytest.raises(PlatformError) as err:
        a.publish(PublishRequest(text="x", idempotency_key="k", media=[missing]))
    assert "gone.png" in str(err.value)
    assert sent_posts(server) == []


def test_validation_error_is_platform_rejected_with_tumblrs_detail(server):
    server.fail_next("POST", "/v2/blog/", 400, detail="NPF JSON parameter is invalid", code=8001)
    with pytest.raises(PlatformRejected) as err:
        adapter(server).publish(PublishRequest(text="x", idempotency_key="k"))
    assert "NPF JSON parameter is invalid (code 8001)" in str(err.value)


def test_daily_post_limit_is_rate_limited_not_rejected(server):
    server.fail_next("POST", "/v2/blog/", 403, detail="You have reached your daily post limit", code=8023)
    with pytest.raises(PlatformRateLimited) as err:
        adapter(server).publish(PublishRequest(text="x", idempotency_key="k"))
    assert "daily post limit" in str(err.value)


def test_a_failed_read_back_still_returns_the_created_post(server):
    server.fail_next("GET", "/v2/blog/", 503)
    result = adapter(server).publish(PublishRequest(text="made it", idempotency_key="k"))
    (post,) = server.posts
    assert result.platform_post_id == post["id_string"]
    assert result.url == f"https://www.tumblr.com/alice-writes/{post['id_string']}"


# -- tokens ----------------------------------------------------------------------------------


def test_check_health_near_expiry_refreshes_first_and_saves_both_new_tokens(server):
    saved = []
    ctx = server.account_context(token_expires_at=soon(5), save_secrets=saved.append)
    res = TumblrAdapter(ctx).check_health()

    assert [(r.method, r.path) for r in server.requests] == [("POST", "/v2/oauth2/token"), ("GET", "/v2/user/info")]
    new_access, new_refresh = server.issued_tokens[0]
    assert server.requests[1].bearer == new_access
    assert len(saved) == 1
    assert (saved[0]["access_token"], saved[0]["refresh_token"]) == (new_access, new_refresh)
    assert datetime.fromisoformat(saved[0]["expires_at"]) == res.token_expires_at
    assert res.ok is True
    assert timedelta(minutes=41) < res.token_expires_at - datetime.now(timezone.utc) <= timedelta(minutes=42)
    # The refresh spent the stored refresh token; the adapter now holds the rotated one.
    assert server.requests[0].form["refresh_token"] == ["fake-tumblr-refresh-token-0123456789"]
    assert ctx.secrets["refresh_token"] == new_refresh


def test_a_token_answer_without_expires_in_assumes_the_documented_42_minutes(server):
    server.expires_in = None
    res = adapter(server, token_expires_at=soon(-5)).check_health()
    assert timedelta(minutes=41) < res.token_expires_at - datetime.now(timezone.utc) <= timedelta(minutes=42)


def test_check_health_far_from_expiry_does_not_refresh(server):
    res = adapter(server, token_expires_at=soon(30)).check_health()
    assert res.ok and [r.path for r in server.requests] == ["/v2/user/info"]
    assert timedelta(minutes=29) < res.token_expires_at - datetime.now(timezone.utc) <= timedelta(minutes=30)


def test_check_health_reports_a_blog_the_user_can_no_longer_post_to(server):
    server.blogs = server.blogs[1:]
    res = adapter(server).check_health()
    assert (res.ok, res.error_code) == (False, "blog_unavailable") and "alice-writes" in res.message


def test_check_health_without_a_refresh_token_says_so(server):
    res = adapter(server, secrets={"access_token": server.access_token}).check_health()
    assert res.ok and "POSTCLI_TUMBLR_REFRESH_TOKEN" in res.message
    assert server.count("POST /v2/oauth2/token") == 0


def test_failed_refresh_is_auth_failed_without_any_secret(server):
    ctx = server.account_context(token_expires_at=soon(2))
    ctx.secrets["refresh_token"] = "used-or-expired-refresh-token"
    with pytest.raises(AuthFailed) as err:
        TumblrAdapter(ctx).check_health()
    text = str(err.value) + str(err.value.hint)
    assert "The refresh token is invalid." in text and "42 days" in text
    for secret in ("used-or-expired-refresh-token", server.client_secret, server.access_token):
        assert secret not in text
    assert [r.path for r in server.requests] == ["/v2/oauth2/token"]


def test_a_refresh_token_another_process_already_spent_is_replaced_by_the_stored_pair(server):
    # Process A refreshed first: its new pair is in the credentials store, and the token
    # process B holds has been spent. B must adopt A's pair, not mark the account dead.
    other = server.account_context(token_expires_at=soon(2))
    stored: list[dict] = []
    TumblrAdapter(server.account_context(token_expires_at=soon(2), save_secrets=stored.append)).check_health()
    assert stored, "process A did not refresh"
    server.reset_log()
    other.load_secrets = lambda: dict(stored[-1])
    res = TumblrAdapter(other).check_health()
    assert res.ok
    assert other.secrets["access_token"] == stored[-1]["access_token"]
    # A's fresh token was used as is: B re-read the store under the refresh lock before
    # refreshing, so it never sent its spent refresh token; only the identity call went out.
    assert [r.path for r in server.requests] == ["/v2/user/info"]
    assert server.requests[0].bearer == stored[-1]["access_token"]


def test_a_refresh_refused_because_a_process_without_the_lock_spent_it_takes_the_stored_pair(server):
    # A process that does not take the refresh lock (an older postcli) saves its new pair only
    # after B has checked the store: B's refresh is refused, and B then adopts the stored pair.
    other = server.account_context(token_expires_at=soon(2))
    stored: list[dict] = []
    TumblrAdapter(server.account_context(token_expires_at=soon(2), save_secrets=stored.append)).check_health()
    server.reset_log()
    reads = iter([dict(other.secrets)])  # the first read (under the lock) still shows B's own pair
    other.load_secrets = lambda: next(reads, dict(stored[-1]))
    res = TumblrAdapter(other).check_health()
    assert res.ok
    assert other.secrets["access_token"] == stored[-1]["access_token"]
    assert [r.path for r in server.requests] == ["/v2/oauth2/token", "/v2/user/info"]
    assert server.requests[1].bearer == stored[-1]["access_token"]


def test_wrong_client_secret_on_refresh_is_auth_failed(server):
    ctx = server.account_context(token_expires_at=soon(-1))
    ctx.secrets["client_secret"] = "not-the-apps-secret"
    with pytest.raises(AuthFailed) as err:
        TumblrAdapter(ctx).check_health()
    assert "Client authentication failed" in str(err.value) and "not-the-apps-secret" not in str(err.value)


def test_401_during_collect_refreshes_once_and_retries(server):
    pid = server.add_post("counted", likes=4, reblogs=2, replies=1)
    saved = []
    a = adapter(server, save_secrets=saved.append)
    server.expire_access_token()
    server.reset_log()

    metrics = a.fetch_post_metrics([pid])

    assert metrics[pid].likes == 4 and metrics[pid].shares == 2 and metrics[pid].comments == 1
    assert [(r.method, r.path.rsplit("/", 1)[-1], r.status) for r in server.requests] == [
        ("GET", "notes", 401),
        ("POST", "token", 200),
        ("GET", "notes", 200),
    ]
    new_access, new_refresh = server.issued_tokens[0]
    assert server.requests[2].bearer == new_access
    assert saved and saved[-1]["access_token"] == new_access and saved[-1]["refresh_token"] == new_refresh


def test_401_during_publish_refreshes_and_posts_once(server, tmp_path):
    a = adapter(server)
    server.expire_access_token()
    pic = MediaItem(path=file(tmp_path, "p.png"), mime_type="image/png", size_bytes=len(PNG))
    a.publish(PublishRequest(text="after refresh", idempotency_key="k", media=[pic]))
    creates = sent_posts(server)
    assert [r.status for r in creates] == [401, 201]
    # The retry carried the file again, complete.
    assert creates[1].parts[1].data == PNG
    assert len(server.posts) == 1


def test_a_second_401_after_refreshing_is_auth_failed(server):
    pid = server.add_post("x")
    a = adapter(server)
    server.expire_access_token()
    server.fail_next("GET", "/v2/blog/", 401, detail="Unable to authorize", code=1016, times=2)
    with pytest.raises(AuthFailed):
        a.fetch_post_metrics([pid])  # one request (the account metrics make two since issue 14)
    assert server.count("POST /v2/oauth2/token") == 1


def test_401_without_a_refresh_token_is_auth_failed_without_the_token(server):
    pid = server.add_post("x")
    a = adapter(server, secrets={"access_token": "stale-access-token-abcdef"})
    with pytest.raises(AuthFailed) as err:
        a.fetch_post_metrics([pid])
    text = str(err.value) + str(err.value.hint)
    assert "stale-access-token-abcdef" not in text
    assert "POSTCLI_TUMBLR_REFRESH_TOKEN" in err.value.hint and "accounts add tumblr --blog alice-writes" in text
    assert server.count("POST /v2/oauth2/token") == 0


def test_known_expired_token_is_refreshed_before_the_call(server):
    pid = server.add_post("x")
    a = adapter(
        server,
        secrets={
            "access_token": server.access_token,
            "refresh_token": server.refresh_token,
            "client_secret": server.client_secret,
            "expires_at": (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat(),
        },
    )
    server.expire_access_token()
    a.fetch_post_metrics([pid])
    assert [(r.path.rsplit("/", 1)[-1], r.status) for r in server.requests] == [("token", 200), ("notes", 200)]


def test_a_refresh_outage_before_expiry_falls_back_to_the_current_token(server):
    pid = server.add_post("x")
    a = adapter(server, token_expires_at=soon(3))
    server.fail_next("POST", "/v2/oauth2/token", 503)
    assert a.fetch_post_metrics([pid])[pid] is not None
    assert [(r.path.rsplit("/", 1)[-1], r.status) for r in server.requests] == [("token", 503), ("notes", 200)]


def test_concurrent_401s_refresh_only_once(server):
    ids = [server.add_post(f"p{i}") for i in range(6)]
    a = adapter(server)
    server.expire_access_token()
    server.set_delay(0.05, "GET", "/v2/blog/", times=2)  # both first requests are in flight together
    results: dict[str, object] = {}

    def work(chunk):
        results.update(a.fetch_post_metrics(chunk))

    threads = [threading.Thread(target=work, args=(ids[i::2],)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == sorted(ids) and all(v is not None for v in results.values())
    assert server.count("POST /v2/oauth2/token") == 1


# -- errors ------------------------------------------------------------------------------------


def test_429_with_retry_after(server):
    server.fail_next("GET", "/v2/blog/", 429, detail="Limit Exceeded", headers={"Retry-After": "17"})
    with pytest.raises(PlatformRateLimited) as err:
        adapter(server).fetch_account_metrics()
    assert err.value.retry_after == 17.0
    assert server.host in str(err.value)


def test_429_without_retry_after_uses_the_exhausted_windows_reset(server):
    server.fail_next(
        "GET",
        "/v2/blog/",
        429,
        headers={
            "X-Ratelimit-Perhour-Remaining": "0",
            "X-Ratelimit-Perhour-Reset": "1234",
            "X-Ratelimit-Perday-Remaining": "4000",
            "X-Ratelimit-Perday-Reset": "50000",
        },
    )
    with pytest.raises(PlatformRateLimited) as err:
        adapter(server).fetch_post_metrics(["1"])
    assert err.value.retry_after == 1234.0


def test_server_error_is_platform_unavailable_naming_the_host(server):
    server.fail_next("GET", "/v2/user/info", 503)
    with pytest.raises(PlatformUnavailable) as err:
        adapter(server).check_health()
    assert server.host in str(err.value) and "503" in str(err.value)


def test_timeout_is_platform_unavailable_naming_the_host(server):
    server.set_delay(1.0, "GET", "/v2/blog/")
    a = adapter(server, timeout=0.2)
    with pytest.raises(PlatformUnavailable) as err:
        a.fetch_post_metrics(["1"])
    assert server.host in str(err.value) and "did not answer" in str(err.value)


def test_unreachable_api_is_platform_unavailable():
    ctx = FakeTumblr().account_context(api_base_url="http://127.0.0.1:9")
    with pytest.raises(PlatformUnavailable) as err:
        TumblrAdapter(ctx).check_health()
    assert "127.0.0.1:9" in str(err.value)


def test_non_json_answer_is_malformed(server):
    server.fail_next("GET", "/v2/blog/", 200, body="not an object")
    with pytest.raises(MalformedResponse):
        adapter(server).fetch_account_metrics()


# -- metrics ---------------------------------------------------------------------------------------


def test_deleted_post_gives_none_while_the_others_keep_their_metrics(server):
    keep = server.add_post("kept", likes=3, reblogs=5, replies=2)
    gone = server.add_post("gone", likes=1)
    server.delete_post(gone)
    metrics = adapter(server).fetch_post_metrics([keep, gone])
    assert metrics[gone] is None
    m = metrics[keep]
    assert (m.likes, m.shares, m.comments) == (3, 5, 2)
    assert (m.impressions, m.reach, m.views, m.quotes, m.saves, m.clicks, m.video_views) == (None,) * 7
    assert m.raw["total_likes"] == 3 and m.raw["replies_source"] == "counted"
    # One notes call per post, in conversation mode.
    calls = server.requests_to("GET", "/v2/blog/")
    assert [(c.query["id"], c.query["mode"]) for c in calls] == [([keep], ["conversation"]), ([gone], ["conversation"])]


def test_a_count_the_notes_leave_out_is_none_not_zero(server):
    pid = server.add_post("partial", likes=None, reblogs=4, replies=0)
    m = adapter(server).fetch_post_metrics([pid])[pid]
    assert m.likes is None and m.shares == 4 and m.comments == 0
    assert m.raw["total_likes"] is None


def test_replies_beyond_one_page_of_notes_are_none_not_a_partial_count(server):
    pid = server.add_post("popular", likes=7, reblogs=1, replies=25)
    m = adapter(server).fetch_post_metrics([pid])[pid]
    assert (m.likes, m.shares, m.comments) == (7, 1, None)
    assert server.count("GET /v2/blog/:blog/notes") == 1


def test_account_metrics_take_followers_from_the_blogs_entry_in_user_info(server):
    """tumblr/docs api.md "/user/info": each of user.blogs has `followers`, "total count of
    followers for this blog"; "/info" lists `posts` and no follower count."""
    server.add_post("one")
    server.add_post("two")
    m = adapter(server).fetch_account_metrics()
    assert (m.followers, m.posts_count, m.following) == (120, 2, None)
    assert m.raw["followers_source"] == "user_info"
    assert [r.path for r in server.requests] == ["/v2/user/info", f"/v2/blog/{server.blog_uuid}/info"]


def test_account_metrics_ignore_an_undocumented_follower_count_in_blog_info():
    with FakeTumblr(followers=77, followers_in_info=True) as s:
        s.blogs[0]["followers"] = 80  # the documented source wins
        m = TumblrAdapter(s.account_context()).fetch_account_metrics()
        assert m.followers == 80 and m.raw["followers_source"] == "user_info"


def test_account_metrics_fall_back_to_the_followers_endpoint():
    """A blog entry without `followers` (or a blog gone from user.blogs): /followers?limit=1 total_users."""
    with FakeTumblr(followers=55, followers_in_user_info=False) as s:
        m = TumblrAdapter(s.account_context()).fetch_account_metrics()
        assert m.followers == 55 and m.raw["followers_source"] == "followers"
        (followers,) = [r for r in s.requests if r.path.endswith("/followers")]
        assert followers.query["limit"] == ["1"]


def test_api_key_endpoints_get_the_client_id_as_api_key_beside_the_bearer_token(server):
    """api.md "Authentication": /info, GET /posts and /notes are "API Key" endpoints
    (api_key = the OAuth consumer key = the OAuth2 client_id); /user/info and /followers are OAuth."""
    pid = server.add_post("one", likes=2)
    a = adapter(server)
    a.fetch_account_metrics()
    a.fetch_post_metrics([pid])
    a.resolve_post(pid)
    a.find_published(PublishRequest(text="nothing like it", idempotency_key="k"))
    by_tail = {}
    for r in server.requests:
        tail = r.path.split("/", 4)[-1] if r.path.startswith("/v2/blog/") else r.path
        by_tail.setdefault(tail, []).append(r)
    assert {"info", "notes", "posts", "/v2/user/info"} <= by_tail.keys()
    for tail in ("info", "notes", "posts"):
        for r in by_tail[tail]:
            assert r.query.get("api_key") == [server.client_id] and r.bearer == server.access_token, (tail, r.query)
    assert all("api_key" not in r.query and r.bearer for r in by_tail["/v2/user/info"])
    assert {r.status for r in server.requests} == {200}


def test_without_a_client_id_the_bearer_token_goes_alone(server):
    pid = server.add_post("one")
    settings = {"blog_name": server.blog_name, "blog_uuid": server.blog_uuid}
    a = adapter(server, settings=settings, secrets={"access_token": server.access_token})
    assert a.fetch_post_metrics([pid])[pid] is not None
    assert all("api_key" not in r.query for r in server.requests)


# -- reconciliation, delete, resolve -----------------------------------------------------------------


def test_find_published_matches_text_and_media_count_within_the_window(server):
    a = adapter(server)
    first = datetime.now(timezone.utc) - timedelta(minutes=2)
    done = a.publish(PublishRequest(text="the lost  one\n", idempotency_key="k"))
    server.add_post("something else")
    found = a.find_published(PublishRequest(text="the lost one", idempotency_key="k", first_attempt_at=first))
    assert found is not None and found.platform_post_id == done.platform_post_id and found.url == done.url
    listing = server.requests_to("GET", "/v2/blog/")[-1]
    assert (listing.query["npf"], listing.query["limit"]) == (["true"], ["20"])
    # Same text but a different number of media blocks is not our post.
    pic = MediaItem(path=Path("x.png"), mime_type="image/png", size_bytes=1)
    assert (
        a.find_published(PublishRequest(text="the lost one", idempotency_key="k", media=[pic], first_attempt_at=first))
        is None
    )


def test_find_published_ignores_posts_older_than_the_first_attempt(server):
    old = int((datetime.now(timezone.utc) - timedelta(hours=3)).timestamp())
    server.add_post("repeat me", timestamp=old)
    first = datetime.now(timezone.utc) - timedelta(minutes=1)
    assert (
        adapter(server).find_published(PublishRequest(text="repeat me", idempotency_key="k", first_attempt_at=first))
        is None
    )


def test_delete_and_delete_again(server):
    pid = server.add_post("to delete")
    a = adapter(server)
    a.delete(pid)
    a.delete(pid)
    deletes = server.requests_to("POST", "/v2/blog/")
    assert [(d.form["id"], d.status) for d in deletes] == [([pid], 200), ([pid], 404)]
    assert server.posts == []


def test_resolve_post_by_id_and_urls(server):
    pid = server.add_post("imported\ntext")
    a = adapter(server)
    for ref in (
        pid,
        f"https://alice-writes.tumblr.com/post/{pid}/imported",
        f"https://www.tumblr.com/alice-writes/{pid}",
    ):
        res = a.resolve_post(ref)
        assert res.platform_post_id == pid and res.text == "imported\ntext"
        assert res.url == f"https://alice-writes.tumblr.com/post/{pid}/imported"
    with pytest.raises(RemoteNotFound) as err:
        a.resolve_post(f"https://www.tumblr.com/someone-else/{pid}")
    assert "someone-else" in str(err.value)
    with pytest.raises(RemoteNotFound):
        a.resolve_post("123456")
    with pytest.raises(RemoteNotFound):
        a.resolve_post("https://example.com/nothing")


def test_module_imports_without_httpx():
    code = "import sys, postcli.platforms.tumblr.adapter; assert 'httpx' not in sys.modules, 'httpx imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# -- the CLI end to end --------------------------------------------------------------------------------


def test_cli_connect_post_and_collect(cli, home, server):
    env = {"POSTCLI_TUMBLR_REFRESH_TOKEN": server.refresh_token, "POSTCLI_TUMBLR_CLIENT_SECRET": server.client_secret}
    r = cli(
        "accounts",
        "add",
        "tumblr",
        "--blog",
        "alice-writes.tumblr.com",
        "--client-id",
        server.client_id,
        "--api-base",
        server.url,
        "--token-stdin",
        "--json",
        input=server.access_token + "\n",
        env=env,
    )
    assert r.exit_code == 0, r.stderr
    account = json.loads(r.stdout)
    assert (account["platform"], account["handle"], account["external_id"]) == (
        "tumblr",
        "alice-writes",
        server.blog_uuid,
    )
    assert account["token_expires_at"]
    assert server.count("POST /v2/oauth2/token") == 1

    out = cli.json("post", "create", "Hello from postcli\nsecond line", "--to", "tumblr")
    assert out["status"] == "completed"
    (target,) = out["targets"]
    (post,) = server.posts
    assert target["url"] == post["post_url"]
    (create,) = sent_posts(server)
    assert create.json["content"] == [
        {"type": "text", "text": "Hello from postcli"},
        {"type": "text", "text": "second line"},
    ]
    # The post is published with the token refreshed at connect, which the store kept.
    assert create.bearer == server.access_token

    server.set_notes(post["id_string"], likes=9, reblogs=3, replies=2)
    server.expire_access_token()  # 42 minutes later: collect refreshes and keeps the new tokens
    collected = cli.json("collect")
    assert collected["fetched"] == 1
    assert server.count("POST /v2/oauth2/token") == 2
    conn = sqlite3.connect(home / "postcli.db")
    conn.row_factory = sqlite3.Row
    row = conn.execute("select * from post_metric_snapshots").fetchone()
    assert (row["likes"], row["shares"], row["comments"]) == (9, 3, 2)
    assert (row["impressions"], row["views"], row["saves"], row["quotes"]) == (None,) * 4
    assert row["follower_count"] == 120
    pid = conn.execute("select platform_post_id from post_targets").fetchone()[0]
    assert pid == post["id_string"]
    notes_calls = [c for c in server.requests_to("GET", "/v2/blog/") if c.path.endswith("/notes")]
    assert [c.query["id"] for c in notes_calls if c.status == 200] == [[pid]]

    # The refreshed tokens were stored: the next command uses them without refreshing again.
    server.reset_log()
    assert cli.json("accounts", "metrics", "alice-writes")["followers"] == 120
    assert server.count("POST /v2/oauth2/token") == 0
    assert {r.bearer for r in server.requests} == {server.access_token}
