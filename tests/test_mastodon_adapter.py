"""The real Mastodon adapter (Mastodon.py underneath) against the fake instance
over real loopback sockets. Nothing in the adapter is patched."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fakes.mastodon_server import FakeMastodon
from postcli.errors import EXIT_RECONNECT
from postcli.platforms.base import (
    AuthFailed,
    MediaItem,
    PlatformError,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
    PublishRequest,
    RemoteNotFound,
)
from postcli.platforms.mastodon.adapter import MastodonAdapter
from postcli.platforms.mastodon.text import mastodon_text_length

# A 1x1 PNG: the fake only looks at the multipart headers, but keep it honest.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture
def server():
    with FakeMastodon() as s:
        yield s


def connected(server: FakeMastodon, **ctx_overrides) -> MastodonAdapter:
    ctx = server.account_context(secrets={}, **ctx_overrides)
    adapter = MastodonAdapter(ctx)
    adapter.connect(None, server.token)
    server.reset_log()
    return adapter


def png(tmp_path: Path, name: str = "photo.png") -> Path:
    path = tmp_path / name
    path.write_bytes(PNG)
    return path


# -- connect / limits ------------------------------------------------------------


def test_connect_caches_instance_limits_and_saves_the_token():
    with FakeMastodon(max_characters=1000, characters_reserved_per_url=30, max_media_attachments=6) as s:
        saved = []
        ctx = s.account_context(secrets={}, save_secrets=saved.append)
        adapter = MastodonAdapter(ctx)

        info = adapter.connect(None, f"  {s.token}\n")

        assert info.external_id == s.account_id
        assert info.handle == f"{s.username}@{s.domain}"
        assert info.display_name == s.display_name
        assert saved == [{"access_token": s.token}]
        assert ctx.settings_changed is True
        assert ctx.settings["version"] == "4.6.4"
        assert ctx.settings["max_characters"] == 1000
        assert ctx.settings["characters_reserved_per_url"] == 30
        assert ctx.settings["max_media_attachments"] == 6
        assert "video/mp4" in ctx.settings["supported_mime_types"]
        # No version-probing calls behind our back: identity + instance config only.
        assert [(r.method, r.path.rstrip("/")) for r in s.requests] == [
            ("GET", "/api/v1/accounts/verify_credentials"),
            ("GET", "/api/v2/instance"),
        ]

        limits = adapter.limits()
        assert limits.max_text == 1000
        assert limits.url_weight == 30
        assert limits.max_images == 6
        assert limits.max_image_bytes == s.image_size_limit
        assert limits.max_video_bytes == s.video_size_limit
        assert limits.max_alt_text == 1500
        assert limits.images_and_video is False
        assert adapter.text_length("https://example.com/" + "x" * 100) == 30


def test_connect_falls_back_to_v1_instance_on_old_servers():
    with FakeMastodon(version="3.5.3", max_characters=700) as s:
        ctx = s.account_context(secrets={})
        MastodonAdapter(ctx).connect(None, s.token)
        assert ctx.settings["max_characters"] == 700
        assert ctx.settings["version"] == "3.5.3"
        assert [r.path.rstrip("/") for r in s.requests][-2:] == ["/api/v2/instance", "/api/v1/instance"]


def test_limits_default_before_any_instance_info(server):
    limits = MastodonAdapter(server.account_context()).limits()
    assert (limits.max_text, limits.url_weight, limits.max_images) == (500, 23, 4)


def test_connect_with_a_bad_token_is_auth_failed(server):
    ctx = server.account_context(secrets={})
    with pytest.raises(AuthFailed) as err:
        MastodonAdapter(ctx).connect(None, "wrong-token-123")
    assert "wrong-token-123" not in str(err.value)


# -- text length -------------------------------------------------------------------


def test_text_length_follows_mastodon_rules():
    long_url = "https://example.com/" + "a" * 600
    assert mastodon_text_length("see " + long_url) == 4 + 23
    assert mastodon_text_length("http://x.org and https://y.org/z") == 23 + 5 + 23
    # A remote mention counts only its local part; a local one counts as written.
    assert mastodon_text_length("@alice@remote.example hi") == len("@alice hi")
    assert mastodon_text_length("@alice hi") == 9
    # Grapheme clusters: a ZWJ family, a flag and a decomposed é are one each.
    assert mastodon_text_length("👨‍👩‍👧‍👦🇫🇷e\u0301") == 3
    # Without a scheme it is not a link for Mastodon.
    assert mastodon_text_length("example.com") == 11
    assert mastodon_text_length("   ") == 0


def test_a_long_url_fits_the_limit_the_way_the_server_counts(server, tmp_path):
    adapter = connected(server)
    text = "a" * 476 + " " + "https://example.com/" + "b" * 600
    assert adapter.text_length(text) == 500 <= adapter.limits().max_text
    adapter.publish(PublishRequest(text=text, idempotency_key="long-url"))
    assert len(server.statuses) == 1


def test_server_side_validation_is_platform_rejected_with_its_message(server):
    adapter = connected(server)
    with pytest.raises(PlatformRejected) as err:
        adapter.publish(PublishRequest(text="x" * 501, idempotency_key="too-long"))
    assert "character limit of 500 exceeded" in str(err.value)
    assert err.value.exit_code == 2


# -- publishing ----------------------------------------------------------------------


def test_publish_sends_the_idempotency_key_and_a_replay_creates_nothing(server):
    adapter = connected(server)
    req = PublishRequest(text="Toot!", idempotency_key="target-17-key")

    first = adapter.publish(req)
    second = adapter.publish(req)

    assert first.platform_post_id == second.platform_post_id
    assert first.url == f"{server.url}/@{server.username}/{first.platform_post_id}"
    assert first.published_at is not None and first.published_at.tzinfo is not None
    assert len(server.statuses) == 1
    assert server.idempotent_replays == 1
    posts = server.requests_to("POST", "/api/v1/statuses")
    assert [p.headers.get("Idempotency-Key") for p in posts] == ["target-17-key"] * 2
    assert posts[0].param("status") == "Toot!"


def test_publish_uploads_media_and_waits_for_processing(server, tmp_path):
    adapter = connected(server)
    server.media_processing(polls=2)  # 202, then 206 twice, then 200
    item = MediaItem(path=png(tmp_path), mime_type="image/png", size_bytes=len(PNG), alt_text="a cat")

    result = adapter.publish(PublishRequest(text="with a cat", idempotency_key="m1", media=[item]))

    upload = server.requests_to("POST", "/api/v2/media")
    assert len(upload) == 1
    assert upload[0].param("description") == "a cat"
    assert upload[0].files["file"]["content_type"] == "image/png"
    assert upload[0].files["file"]["filename"] == "photo.png"
    assert upload[0].status == 202
    polls = server.requests_to("GET", "/api/v1/media/")
    assert [p.status for p in polls] == [206, 206, 200]
    media_id = server.media[0]["id"]
    post = server.requests_to("POST", "/api/v1/statuses")[0]
    assert post.form["media_ids[]"] == [media_id]
    status = server.status(result.platform_post_id)
    assert [m["description"] for m in status["media_attachments"]] == ["a cat"]


def test_synchronously_processed_media_is_not_polled(server, tmp_path):
    adapter = connected(server)
    item = MediaItem(path=png(tmp_path), mime_type="image/png", size_bytes=len(PNG))
    adapter.publish(PublishRequest(text="sync", idempotency_key="m2", media=[item]))
    assert server.requests_to("GET", "/api/v1/media/") == []


def test_media_processing_failure_is_a_typed_error_naming_the_file(server, tmp_path):
    adapter = connected(server)
    server.media_processing(polls=1, fail=True)
    item = MediaItem(path=png(tmp_path, "holiday.png"), mime_type="image/png", size_bytes=len(PNG))

    with pytest.raises(PlatformRejected) as err:
        adapter.publish(PublishRequest(text="x", idempotency_key="m3", media=[item]))

    assert "holiday.png" in str(err.value)
    assert "Error processing thumbnail" in str(err.value)
    assert server.statuses == []
    assert server.requests_to("POST", "/api/v1/statuses") == []


def test_unreadable_media_file_names_the_file(server, tmp_path):
    adapter = connected(server)
    item = MediaItem(path=tmp_path / "gone.png", mime_type="image/png", size_bytes=1)
    with pytest.raises(PlatformError, match="gone.png"):
        adapter.publish(PublishRequest(text="x", idempotency_key="m4", media=[item]))


# -- errors -------------------------------------------------------------------------------


def test_revoked_token_is_auth_failed_without_the_token(server):
    adapter = connected(server)
    server.revoke_token()

    for call in (
        lambda: adapter.publish(PublishRequest(text="hi", idempotency_key="r1")),
        adapter.check_health,
        adapter.fetch_account_metrics,
        lambda: adapter.fetch_post_metrics(["1"]),
    ):
        with pytest.raises(AuthFailed) as err:
            call()
        assert err.value.exit_code == EXIT_RECONNECT
        assert server.token not in str(err.value)
        assert server.token not in (err.value.hint or "")
        assert "postcli accounts add mastodon --instance" in err.value.hint
        assert "The access token is invalid" in str(err.value)


def test_rate_limit_reset_header_becomes_retry_after(server):
    adapter = connected(server)
    reset = datetime.now(timezone.utc) + timedelta(seconds=120)
    server.fail_next(
        "GET",
        "/api/v1/accounts/verify_credentials",
        429,
        headers={"X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ")},
    )
    with pytest.raises(PlatformRateLimited) as err:
        adapter.check_health()
    assert 100 < err.value.retry_after <= 121
    assert len(server.requests_to("GET", "/api/v1/accounts/verify_credentials")) == 1  # no sleeping retry


def test_retry_after_header_wins(server):
    adapter = connected(server)
    server.fail_next("GET", "/api/v1/statuses", 429, headers={"Retry-After": "42"})
    with pytest.raises(PlatformRateLimited) as err:
        adapter.fetch_post_metrics(["1"])
    assert err.value.retry_after == 42


def test_server_error_is_platform_unavailable(server):
    adapter = connected(server)
    server.fail_next("POST", "/api/v1/statuses", 500)
    with pytest.raises(PlatformUnavailable) as err:
        adapter.publish(PublishRequest(text="hi", idempotency_key="e1"))
    assert server.host in str(err.value)


def test_timeout_is_platform_unavailable_naming_the_host(server):
    adapter = connected(server, timeout=0.3)
    server.set_delay(3, "GET", "/api/v1/statuses/")
    with pytest.raises(PlatformUnavailable) as err:
        adapter.resolve_post("12345")
    assert server.host in str(err.value)
    assert "did not answer" in str(err.value)


def test_unreachable_instance_is_platform_unavailable():
    with FakeMastodon() as s:
        ctx = s.account_context()
    adapter = MastodonAdapter(ctx)  # the server is gone now
    with pytest.raises(PlatformUnavailable, match=r"127\.0\.0\.1"):
        adapter.check_health()


def test_non_json_answer_is_malformed(server):
    from postcli.platforms.base import MalformedResponse

    adapter = connected(server)
    server.fail_next("GET", "/api/v1/accounts/verify_credentials", 200, json="not an account")
    with pytest.raises(MalformedResponse):
        adapter.fetch_account_metrics()


# -- metrics ---------------------------------------------------------------------------------


def test_metrics_map_counts_and_report_quotes_on_4_5_plus(server):
    adapter = connected(server)
    sid = adapter.publish(PublishRequest(text="count me", idempotency_key="c1")).platform_post_id
    server.set_counts(sid, favourites=5, reblogs=2, replies=3, quotes=1)

    metrics = adapter.fetch_post_metrics([sid])[sid]

    assert (metrics.likes, metrics.shares, metrics.comments, metrics.quotes) == (5, 2, 3, 1)
    assert all(getattr(metrics, k) is None for k in ("impressions", "reach", "views", "saves", "clicks", "video_views"))
    assert metrics.raw["id"] == sid
    assert metrics.raw["url"].endswith(f"/{sid}")
    assert metrics.raw["created_at"].endswith("Z")
    assert metrics.raw["quotes_count"] == 1


def test_quotes_are_none_not_zero_before_4_5():
    with FakeMastodon(version="4.4.0") as s:
        adapter = connected(s)
        sid = s.add_status("old server")["id"]
        metrics = adapter.fetch_post_metrics([sid])[sid]
        assert metrics.quotes is None
        assert "quotes_count" not in metrics.raw
        assert (metrics.likes, metrics.comments, metrics.shares) == (0, 0, 0)  # real zeros


def test_deleted_status_gives_none(server):
    adapter = connected(server)
    keep = server.add_status("keep")["id"]
    gone = server.add_status("gone")["id"]
    server.delete_status(gone)

    result = adapter.fetch_post_metrics([keep, gone])

    assert result[gone] is None
    assert result[keep] is not None
    assert server.count("GET /api/v1/statuses") == 1


def test_metrics_are_batched_within_the_multi_get_cap(server):
    adapter = connected(server)
    ids = [server.add_status(f"post {i}")["id"] for i in range(60)]

    result = adapter.fetch_post_metrics(ids)

    assert all(result[i] is not None for i in ids)
    calls = server.requests_to("GET", "/api/v1/statuses")
    # Mastodon answers 422 to more than 20 ids (DEFAULT_STATUSES_LIMIT).
    assert [len(c.query["id[]"]) for c in calls] == [20, 20, 20]
    assert adapter.metrics_batch_size == 20
    assert server.count("GET /api/v1/statuses/:id") == 0


def test_falls_back_to_one_call_per_status_when_multi_get_is_missing(server):
    server.multi_get_enabled = False  # a server that says 4.6 but has no such route
    adapter = connected(server)
    ids = [server.add_status(f"p{i}")["id"] for i in range(3)]
    server.delete_status(ids[1])

    first = adapter.fetch_post_metrics(ids)
    again = adapter.fetch_post_metrics(ids)

    assert first[ids[1]] is None and first[ids[0]] is not None and first[ids[2]] is not None
    assert again[ids[0]] is not None
    assert server.count("GET /api/v1/statuses") == 1  # learnt once, not retried
    assert server.count("GET /api/v1/statuses/:id") == 6
    assert adapter.ctx.settings["multi_get"] is False


def test_old_server_is_asked_per_status_and_410_means_deleted():
    with FakeMastodon(version="4.2.10") as s:
        adapter = connected(s)
        sid = s.add_status("x")["id"]
        s.fail_next("GET", f"/api/v1/statuses/{sid}", 410)
        assert adapter.fetch_post_metrics([sid]) == {sid: None}
        assert s.count("GET /api/v1/statuses") == 0


# Metrics are read as plain JSON over httpx, not through the SDK: the same
# failures must still come out as the same typed errors.


def test_metrics_rate_limit_reset_header_becomes_retry_after(server):
    adapter = connected(server)
    reset = datetime.now(timezone.utc) + timedelta(seconds=90)
    server.fail_next(
        "GET", "/api/v1/statuses", 429, headers={"X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    )
    with pytest.raises(PlatformRateLimited) as err:
        adapter.fetch_post_metrics(["1"])
    assert 80 < err.value.retry_after <= 91
    assert server.token not in str(err.value)
    assert server.count("GET /api/v1/statuses") + server.count("GET /api/v1/statuses/:id") == 0  # no retry


def test_metrics_server_error_and_timeout_are_platform_unavailable(server):
    adapter = connected(server, timeout=0.3)
    server.fail_next("GET", "/api/v1/statuses", 503)
    with pytest.raises(PlatformUnavailable) as err:
        adapter.fetch_post_metrics(["1"])
    assert server.host in str(err.value) and "503" in str(err.value)

    server.multi_get_enabled = False
    sid = server.add_status("slow")["id"]
    server.set_delay(3, "GET", f"/api/v1/statuses/{sid}")
    with pytest.raises(PlatformUnavailable) as err:
        adapter.fetch_post_metrics([sid])
    assert server.host in str(err.value)
    assert "did not answer within 0.3 s" in str(err.value)


def test_metrics_from_an_unreachable_instance_are_platform_unavailable():
    with FakeMastodon() as s:
        ctx = s.account_context()
    adapter = MastodonAdapter(ctx)
    with pytest.raises(PlatformUnavailable, match=r"could not reach 127\.0\.0\.1"):
        adapter.fetch_post_metrics(["1"])
    with pytest.raises(PlatformUnavailable, match=r"could not reach 127\.0\.0\.1"):
        adapter.fetch_account_metrics()


def test_metrics_rejected_request_keeps_the_server_message(server):
    adapter = connected(server)
    server.fail_next("GET", "/api/v1/statuses", 422, json={"error": "Mastodon::ValidationError"})
    with pytest.raises(PlatformRejected, match="Mastodon::ValidationError"):
        adapter.fetch_post_metrics(["1"])


def test_metrics_answer_that_is_not_json_is_malformed():
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    from postcli.platforms.base import AccountContext, MalformedResponse

    class Html(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = b"<html>maintenance</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Html)
    Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        ctx = AccountContext(
            platform="mastodon",
            api_base_url=f"http://127.0.0.1:{httpd.server_address[1]}",
            secrets={"access_token": "tok-123456"},
            timeout=5.0,
        )
        adapter = MastodonAdapter(ctx)
        with pytest.raises(MalformedResponse, match="cannot read"):
            adapter.fetch_post_metrics(["1"])
        with pytest.raises(MalformedResponse):
            adapter.fetch_account_metrics()
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_metrics_use_the_token_given_at_connect_and_never_load_the_sdk(tmp_path):
    # A collection run reads post and account metrics only; neither needs Mastodon.py.
    code = """
import sys
from fakes.mastodon_server import FakeMastodon
from postcli.platforms.mastodon.adapter import MastodonAdapter
with FakeMastodon() as s:
    sid = s.add_status("hello", favourites_count=3)["id"]
    adapter = MastodonAdapter(s.account_context())
    assert adapter.fetch_post_metrics([sid])[sid].likes == 3
    assert adapter.fetch_account_metrics().posts_count == 1
    auth = {r.headers.get("Authorization") for r in s.requests}
    assert auth == {"Bearer " + s.token}, auth
    assert {r.headers.get("User-Agent") for r in s.requests} == {"postcli"}
assert "mastodon" not in sys.modules, "SDK imported"
"""
    root = Path(__file__).resolve().parents[1]
    env = {"PYTHONPATH": f"{root / 'src'}:{root / 'tests'}"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_account_metrics(server):
    server.followers_count, server.following_count = 42, 7
    adapter = connected(server)
    server.add_status("one")
    metrics = adapter.fetch_account_metrics()
    assert (metrics.followers, metrics.following, metrics.posts_count) == (42, 7, 1)
    assert metrics.raw["followers_count"] == 42


# -- reconciliation ------------------------------------------------------------------------


def test_find_published_inside_the_replay_window_trusts_the_key(server):
    adapter = connected(server)
    req = PublishRequest(
        text="hello", idempotency_key="w1", first_attempt_at=datetime.now(timezone.utc) - timedelta(minutes=20)
    )
    adapter.publish(req)
    assert adapter.find_published(req) is None
    assert len(server.requests) == 1  # only the publish: no lookup needed


def test_find_published_after_the_window_looks_at_the_account(server):
    adapter = connected(server)
    text = "Launch day!\n\nRead https://example.com/" + "p" * 40 + " & tell @bob@other.social <3"
    published = adapter.publish(PublishRequest(text=text, idempotency_key="w2"))
    server.add_status("something else")
    req = PublishRequest(
        text=text, idempotency_key="w2", first_attempt_at=datetime.now(timezone.utc) - timedelta(hours=2)
    )

    found = adapter.find_published(req)

    assert found is not None
    assert found.platform_post_id == published.platform_post_id
    assert found.url == published.url
    lookups = server.requests_to("GET", f"/api/v1/accounts/{server.account_id}/statuses")
    assert lookups and lookups[0].param("since_id")


def test_find_published_ignores_older_posts_and_other_texts(server):
    adapter = connected(server)
    three_hours_ago = datetime.now(timezone.utc) - timedelta(hours=3)
    server.add_status("same words", created_at=three_hours_ago)
    server.add_status("different words")
    req = PublishRequest(
        text="same words", idempotency_key="w3", first_attempt_at=datetime.now(timezone.utc) - timedelta(hours=2)
    )
    assert adapter.find_published(req) is None


# -- delete / resolve / health ---------------------------------------------------------------


def test_delete_and_delete_again(server):
    adapter = connected(server)
    sid = adapter.publish(PublishRequest(text="bye", idempotency_key="d1")).platform_post_id
    adapter.delete(sid)
    assert server.statuses == []
    adapter.delete(sid)  # already gone is fine
    assert [r.status for r in server.requests_to("DELETE", "/api/v1/statuses/")] == [200, 404]


def test_resolve_post_by_id_and_urls(server):
    adapter = connected(server)
    status = server.add_status("made on the web")
    sid = status["id"]

    for ref in (sid, status["url"], status["uri"], f"{server.url}/users/{server.username}/statuses/{sid}"):
        result = adapter.resolve_post(ref)
        assert result.platform_post_id == sid
        assert result.url == status["url"]

    with pytest.raises(RemoteNotFound):
        adapter.resolve_post("999999")
    with pytest.raises(RemoteNotFound):
        adapter.resolve_post(f"https://elsewhere.example/@someone/{sid}")


def test_check_health_ok(server):
    assert connected(server).check_health().ok is True


def test_module_imports_without_the_sdk():
    code = "import sys, postcli.platforms.mastodon.adapter; assert 'mastodon' not in sys.modules, 'SDK imported'"
    src = str(Path(__file__).resolve().parents[1] / "src")
    subprocess.run([sys.executable, "-c", code], check=True, env={"PYTHONPATH": src})
