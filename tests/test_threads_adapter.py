"""The real Threads adapter against the fake Threads API over loopback sockets.

Nothing in the adapter is patched: it is pointed at the fake with ctx.api_base_url,
and its container polling waits through the context's injected clock and sleep (recorded, not slept).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fakes.clock import FakeClock
from fakes.threads_server import DEFAULT_APP_SECRET, DEFAULT_TOKEN, FakeThreads, usage_header
from postcli.platforms.base import (
    AuthFailed,
    MediaItem,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
    PublishRequest,
    RemoteNotFound,
)
from postcli.platforms.threads.adapter import ThreadsAdapter
from postcli.platforms.threads.rules import count_links, threads_text_length


@pytest.fixture
def server():
    with FakeThreads() as s:
        yield s


def adapter_for(server: FakeThreads, **ctx_overrides) -> tuple[ThreadsAdapter, list[float]]:
    clock = FakeClock()
    ctx_overrides.setdefault("clock", clock)
    ctx_overrides.setdefault("sleep", clock.sleep)
    adapter = ThreadsAdapter(server.account_context(**ctx_overrides))
    return adapter, clock.slept


def media(tmp_path: Path, name: str, mime: str, *, alt: str | None = None, public: bool = True) -> MediaItem:
    path = tmp_path / name
    path.write_bytes(b"\x00" * 64)
    url = f"https://bucket.example/{name}?X-Amz-Signature=abc" if public else None
    return MediaItem(path=path, mime_type=mime, size_bytes=64, alt_text=alt, public_url=url)


def request(text: str, items: list[MediaItem] | None = None, first: datetime | None = None) -> PublishRequest:
    return PublishRequest(text=text, idempotency_key="unused-on-threads", media=items or [], first_attempt_at=first)


def posts_sent(server: FakeThreads) -> list:
    return [r for r in server.requests if r.method == "POST"]


def graph_error(code: int, message: str, subcode: int | None = None) -> dict:
    err = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Trace"}
    if subcode:
        err["error_subcode"] = subcode
    return {"error": err}


# -- connect, limits ---------------------------------------------------------------


def test_connect_verifies_the_token_and_learns_the_expiry_from_a_refresh(server):
    saved: list[dict] = []
    ctx = server.account_context(secrets={}, settings={}, external_id=None, handle=None, save_secrets=saved.append)
    info = ThreadsAdapter(ctx).connect(None, f"  {DEFAULT_TOKEN}\n")

    assert (info.external_id, info.handle, info.display_name) == (server.user_id, server.username, server.name)
    me = server.requests_to("GET", "/v1.0/me")[0]
    assert me.param("access_token") == DEFAULT_TOKEN
    assert set(me.param("fields").split(",")) >= {"id", "username", "name", "threads_profile_picture_url"}
    # No app secret: a refresh (unversioned endpoint) tells the real expiry.
    refresh = server.requests_to("GET", "/refresh_access_token")
    assert len(refresh) == 1 and refresh[0].param("grant_type") == "th_refresh_token"
    assert server.requests_to("GET", "/access_token") == []
    new_token = saved[-1]["access_token"]
    assert new_token != DEFAULT_TOKEN and new_token in server.tokens
    assert ctx.secrets["access_token"] == new_token
    expected = datetime.now(timezone.utc) + timedelta(seconds=5183944)
    assert abs((info.token_expires_at - expected).total_seconds()) < 60
    assert ctx.settings_changed and ctx.settings["user_id"] == server.user_id
    # Whether the end is an estimate is kept beside the token only (graph_tokens.store_token).
    assert saved[-1]["token_expires_estimated"] is False and ctx.settings["api_version"] == "v1.0"
    assert "token_expires_estimated" not in ctx.settings


def test_connect_estimates_sixty_days_when_the_token_cannot_tell(server):
    server.refresh_allowed = False  # a long-lived token younger than 24 hours
    saved: list[dict] = []
    ctx = server.account_context(secrets={}, settings={}, save_secrets=saved.append)
    info = ThreadsAdapter(ctx).connect(None, DEFAULT_TOKEN)
    assert saved[-1]["access_token"] == DEFAULT_TOKEN
    assert abs((info.token_expires_at - datetime.now(timezone.utc) - timedelta(days=60)).total_seconds()) < 60
    assert ctx.settings["token_source"] == "estimate" and "token_expires_estimated" not in ctx.settings
    assert saved[-1]["token_expires_estimated"] is True


def test_connect_exchanges_a_short_lived_token_with_the_app_secret(server):
    server.add_token("THAAshortLivedToken77", kind="short")
    saved: list[dict] = []
    ctx = server.account_context(secrets={"app_secret": DEFAULT_APP_SECRET}, settings={}, save_secrets=saved.append)
    info = ThreadsAdapter(ctx).connect(None, "THAAshortLivedToken77")

    exchange = server.requests_to("GET", "/access_token")
    assert len(exchange) == 1
    assert exchange[0].param("grant_type") == "th_exchange_token"
    assert exchange[0].param("client_secret") == DEFAULT_APP_SECRET
    assert exchange[0].param("access_token") == "THAAshortLivedToken77"
    assert server.requests_to("GET", "/refresh_access_token") == []
    assert saved[-1]["access_token"] != "THAAshortLivedToken77"
    assert server.tokens[saved[-1]["access_token"]]["kind"] == "long"
    assert saved[-1]["app_secret"] == DEFAULT_APP_SECRET  # kept for later
    assert ctx.settings["token_source"] == "exchange"
    assert abs((info.token_expires_at - datetime.now(timezone.utc)).total_seconds() - 5183944) < 60


def test_a_refused_exchange_falls_back_without_leaking_the_app_secret(server):
    ctx = server.account_context(secrets={"app_secret": "wrong-secret-value"}, settings={})
    ThreadsAdapter(ctx).connect(None, DEFAULT_TOKEN)  # long-lived already: the exchange is refused
    assert len(server.requests_to("GET", "/access_token")) == 1
    assert len(server.requests_to("GET", "/refresh_access_token")) == 1
    note = ctx.settings["token_exchange_error"]
    assert "client secret" in note and "wrong-secret-value" not in note


def test_connect_with_a_bad_token_is_auth_failed_without_the_token(server):
    ctx = server.account_context(secrets={}, settings={})
    with pytest.raises(AuthFailed) as err:
        ThreadsAdapter(ctx).connect(None, "THAAnotAValidTokenAtAll")
    assert "code 190" in err.value.message and "THAAnotAValidTokenAtAll" not in str(err.value)
    assert "accounts add threads" in err.value.hint
    assert ctx.secrets == {} and not ctx.settings_changed


def test_limits_and_text_length_count_emoji_as_utf8_bytes(server):
    adapter, _ = adapter_for(server)
    limits = adapter.limits()
    assert (limits.max_text, limits.max_images, limits.max_alt_text) == (500, 20, 1000)
    assert limits.needs_public_media_url and limits.images_and_video
    assert set(limits.mime_types) == {"image/jpeg", "image/png", "video/mp4", "video/quicktime"}
    assert threads_text_length("héllo") == 5
    assert threads_text_length("日本語") == 3
    assert threads_text_length("ok 👍") == 3 + 4
    assert threads_text_length("👍🏽") == 8  # emoji + skin tone: one cluster, 8 bytes
    assert threads_text_length("🇫🇷") == 8
    assert adapter.text_length("x" * 496 + "👍") == 500
    assert count_links("a https://a.example b www.b.example https://a.example") == 2


def test_over_long_text_sends_nothing(server):
    adapter, _ = adapter_for(server)
    with pytest.raises(PlatformRejected) as err:
        adapter.publish(request("x" * 497 + "👍"))  # 501 by Threads' count, 498 by len()
    assert "501 characters" in err.value.message
    assert server.requests == []


def test_too_many_links_and_media_without_a_public_url_send_nothing(server, tmp_path):
    adapter, _ = adapter_for(server)
    links = " ".join(f"https://l{i}.example" for i in range(6))
    with pytest.raises(PlatformRejected, match="6 links"):
        adapter.publish(request(links))
    with pytest.raises(PlatformRejected, match="no public URL"):
        adapter.publish(request("photo", [media(tmp_path, "a.jpg", "image/jpeg", public=False)]))
    with pytest.raises(PlatformRejected, match="at most 20"):
        adapter.publish(request("many", [media(tmp_path, f"{i}.jpg", "image/jpeg") for i in range(21)]))
    with pytest.raises(PlatformRejected, match="image/webp"):
        adapter.publish(request("webp", [media(tmp_path, "a.webp", "image/webp")]))
    assert server.requests == []


# -- publishing -----------------------------------------------------------------------


def test_text_post_container_in_progress_then_finished(server):
    server.container_polls = 2
    adapter, slept = adapter_for(server)
    result = adapter.publish(request("Hello Threads ☕"))

    quota = server.requests_to("GET", f"/v1.0/{server.user_id}/threads_publishing_limit")
    assert len(quota) == 1 and quota[0].param("fields") == "quota_usage,config"
    create, publish = posts_sent(server)
    assert create.path == f"/v1.0/{server.user_id}/threads"
    assert (create.param("media_type"), create.param("text")) == ("TEXT", "Hello Threads ☕")
    (container,) = server.containers
    statuses = server.calls("GET", f"/v1.0/{container}")
    assert len(statuses) == 3 and statuses[0].param("fields") == "status,error_message"
    assert len(slept) == 2  # slept between the IN_PROGRESS answers, through the injected sleep
    assert publish.path == f"/v1.0/{server.user_id}/threads_publish" and publish.param("creation_id") == container
    # Every call is versioned and carries the token.
    assert all(r.path.startswith("/v1.0/") and r.param("access_token") == DEFAULT_TOKEN for r in server.requests)

    (post,) = server.published
    assert result.platform_post_id == post["id"]
    assert result.url == post["permalink"] and result.url.startswith(
        "https://www.threads.net/@threadsapitestuser/post/"
    )
    assert result.published_at is not None and result.text == "Hello Threads ☕"
    assert server.requests[-1].path == f"/v1.0/{post['id']}"
    assert "permalink" in server.requests[-1].param("fields")


def test_container_error_is_rejected_naming_the_reason(server, tmp_path):
    server.container_polls = 1
    server.container_outcome = "ERROR"
    server.container_error = "FAILED_DOWNLOADING_VIDEO"
    adapter, _ = adapter_for(server)
    with pytest.raises(PlatformRejected) as err:
        adapter.publish(request("clip", [media(tmp_path, "clip.mp4", "video/mp4")]))
    assert "FAILED_DOWNLOADING_VIDEO" in err.value.message and "clip.mp4" in err.value.message
    assert "Nothing was published" in err.value.hint
    assert server.requests_to("POST", f"/v1.0/{server.user_id}/threads_publish") == []
    assert server.published == []


def test_expired_container_is_rejected_and_not_published(server):
    server.container_outcome = "EXPIRED"
    adapter, _ = adapter_for(server)
    with pytest.raises(PlatformRejected, match="expired"):
        adapter.publish(request("too late"))
    assert server.requests_to("POST", f"/v1.0/{server.user_id}/threads_publish") == []


def test_single_image_sends_its_public_url_and_alt_text(server, tmp_path):
    adapter, _ = adapter_for(server)
    item = media(tmp_path, "cat.png", "image/png", alt="A cat on a mat")
    result = adapter.publish(request("", [item]))
    create = server.calls("POST", f"/v1.0/{server.user_id}/threads")[0]
    assert create.param("media_type") == "IMAGE" and create.param("image_url") == item.public_url
    assert create.param("alt_text") == "A cat on a mat"
    assert create.param("text") is None and create.param("is_carousel_item") is None
    assert server.published[0]["media_type"] == "IMAGE" and result.platform_post_id == server.published[0]["id"]


def test_carousel_items_then_the_carousel_container(server, tmp_path):
    server.container_polls = 1
    adapter, _ = adapter_for(server)
    items = [
        media(tmp_path, "a.jpg", "image/jpeg", alt="first"),
        media(tmp_path, "b.png", "image/png"),
        media(tmp_path, "c.mov", "video/quicktime", alt="third"),
    ]
    result = adapter.publish(request("Three things", items))

    creates = server.calls("POST", f"/v1.0/{server.user_id}/threads")
    assert len(creates) == 4
    for sent, item, kind in zip(creates[:3], items, ("IMAGE", "IMAGE", "VIDEO")):
        assert sent.param("is_carousel_item") == "true" and sent.param("media_type") == kind
        assert sent.param("image_url" if kind == "IMAGE" else "video_url") == item.public_url
        assert sent.param("text") is None
    assert [c.param("alt_text") for c in creates[:3]] == ["first", None, "third"]
    carousel = creates[3]
    assert carousel.param("media_type") == "CAROUSEL" and carousel.param("text") == "Three things"
    children = carousel.param("children").split(",")
    assert children == sorted(server.containers)[:3]  # the item containers, in order
    publish = server.requests_to("POST", f"/v1.0/{server.user_id}/threads_publish")
    assert len(publish) == 1 and publish[0].param("creation_id") not in children
    (post,) = server.published
    assert post["media_type"] == "CAROUSEL_ALBUM" and result.platform_post_id == post["id"]


def test_exhausted_quota_creates_nothing(server):
    server.quota_usage = 250
    adapter, _ = adapter_for(server)
    with pytest.raises(PlatformRateLimited) as err:
        adapter.publish(request("one too many"))
    assert "250" in err.value.message and "24 hours" in err.value.hint
    assert posts_sent(server) == []
    assert len(server.requests_to("GET", f"/v1.0/{server.user_id}/threads_publishing_limit")) == 1


def test_a_missing_permalink_does_not_fail_a_published_post(server):
    adapter, _ = adapter_for(server)
    # Media ids start with 18, containers with 179: this fails the read-back of the new post.
    server.fail_next("GET", "/v1.0/18", 500)
    result = adapter.publish(request("published anyway"))
    assert result.platform_post_id == server.published[0]["id"] and result.url is None


# -- tokens and errors ------------------------------------------------------------------


def test_token_refresh_near_expiry_saves_the_new_token_first(server):
    saved: list[dict] = []
    soon = datetime.now(timezone.utc) + timedelta(days=3)
    adapter, _ = adapter_for(
        server,
        token_expires_at=soon,
        save_secrets=saved.append,
        secrets={"access_token": DEFAULT_TOKEN, "app_secret": DEFAULT_APP_SECRET},
    )
    health = adapter.check_health()

    refresh, me = server.requests
    assert refresh.path == "/refresh_access_token"  # not versioned
    assert refresh.param("grant_type") == "th_refresh_token" and refresh.param("access_token") == DEFAULT_TOKEN
    new_token = saved[0]["access_token"]
    assert new_token != DEFAULT_TOKEN and saved[0]["app_secret"] == DEFAULT_APP_SECRET
    assert saved[0]["token_expires_estimated"] is False
    assert me.path == "/v1.0/me" and me.param("access_token") == new_token  # then the identity call
    assert health.ok and abs((health.token_expires_at - datetime.now(timezone.utc)).total_seconds() - 5183944) < 60
    assert adapter.ctx.token_expires_at == health.token_expires_at


def test_no_refresh_far_from_expiry(server):
    later = datetime.now(timezone.utc) + timedelta(days=40)
    adapter, _ = adapter_for(
        server, token_expires_at=later, secrets={"access_token": DEFAULT_TOKEN, "token_expires_estimated": False}
    )
    health = adapter.check_health()
    assert [r.path for r in server.requests] == ["/v1.0/me"]
    assert health.ok and health.token_expires_at == later


def test_an_estimated_expiry_is_checked_by_a_refresh_once_the_token_may_be_refreshed(server):
    saved: list[dict] = []
    two_days_ago = (datetime.now(timezone.utc) - timedelta(days=2)).isoformat()
    adapter, _ = adapter_for(
        server,
        token_expires_at=datetime.now(timezone.utc) + timedelta(days=58),
        save_secrets=saved.append,
        secrets={"access_token": DEFAULT_TOKEN, "token_expires_estimated": True, "token_obtained_at": two_days_ago},
    )
    health = adapter.check_health()
    assert [r.path for r in server.requests] == ["/refresh_access_token", "/v1.0/me"]
    assert saved and saved[-1]["token_expires_estimated"] is False and health.ok


def test_a_failed_refresh_near_expiry_is_auth_failed(server):
    server.refresh_allowed = False
    saved: list[dict] = []
    adapter, _ = adapter_for(
        server, token_expires_at=datetime.now(timezone.utc) - timedelta(hours=1), save_secrets=saved.append
    )
    with pytest.raises(AuthFailed) as err:
        adapter.check_health()
    assert "could not be refreshed" in err.value.message and DEFAULT_TOKEN not in str(err.value)
    assert "accounts add threads" in err.value.hint
    assert saved == [] and [r.path for r in server.requests] == ["/refresh_access_token"]


def test_a_refresh_that_cannot_reach_threads_is_not_a_dead_token(server):
    server.fail_next(
        "GET",
        "/refresh_access_token",
        503,
        json={
            "error": {
                "message": "Service temporarily unavailable",
                "type": "OAuthException",
                "code": 2,
                "is_transient": True,
            }
        },
    )
    adapter, _ = adapter_for(server, token_expires_at=datetime.now(timezone.utc) + timedelta(days=2))
    with pytest.raises(PlatformUnavailable):
        adapter.check_health()


def test_code_190_is_auth_failed_without_the_token(server):
    server.revoke_token()
    adapter, _ = adapter_for(server)
    for call in (
        lambda: adapter.publish(request("hi")),
        lambda: adapter.fetch_post_metrics(["1"]),
        adapter.fetch_account_metrics,
        adapter.check_health,
    ):
        with pytest.raises(AuthFailed) as err:
            call()
        assert "code 190" in err.value.message and DEFAULT_TOKEN not in str(err.value)
        assert DEFAULT_TOKEN not in (err.value.hint or "")
    assert posts_sent(server) == []


@pytest.mark.parametrize("code", [4, 17])
def test_rate_limit_codes_with_the_usage_header_give_retry_after(server, code):
    server.fail_next(
        "GET",
        "/v1.0/18",
        400,
        json=graph_error(code, "(#4) Application request limit reached"),
        headers=usage_header(minutes=7),
    )
    post = server.add_post("counted", insights={"likes": 1})
    adapter, _ = adapter_for(server)
    with pytest.raises(PlatformRateLimited) as err:
        adapter.fetch_post_metrics([post["id"]])
    assert err.value.retry_after == 7 * 60
    assert f"code {code}" in err.value.message


def test_timeout_names_the_host(server):
    server.set_delay(2.0, "GET", "/v1.0/me")
    adapter, _ = adapter_for(server, timeout=0.3)
    with pytest.raises(PlatformUnavailable) as err:
        adapter.check_health()
    assert server.host in err.value.message


# -- metrics ------------------------------------------------------------------------------


def test_metrics_map_threads_names_and_keep_shares_in_raw(server):
    post = server.add_post(
        "popular", insights={"views": 900, "likes": 40, "replies": 6, "reposts": 3, "quotes": 2, "shares": 5}
    )
    adapter, _ = adapter_for(server)
    m = adapter.fetch_post_metrics([post["id"]])[post["id"]]
    assert (m.views, m.likes, m.comments, m.shares, m.quotes) == (900, 40, 6, 3, 2)
    assert (m.impressions, m.reach, m.saves, m.clicks, m.video_views) == (None,) * 5
    assert m.raw["insights"]["shares"] == 5  # Threads' own sends: raw only
    (call,) = server.requests
    assert call.path == f"/v1.0/{post['id']}/insights"
    assert call.param("metric").split(",") == ["views", "likes", "replies", "reposts", "quotes", "shares"]


def test_a_metric_the_api_leaves_out_is_none_not_zero(server):
    post = server.add_post("quiet", insights={"likes": 0, "replies": 1})
    adapter, _ = adapter_for(server)
    m = adapter.fetch_post_metrics([post["id"]])[post["id"]]
    assert m.likes == 0 and m.comments == 1
    assert m.views is None and m.quotes is None and m.shares is None
    assert "views" not in m.raw["insights"]


def test_a_deleted_post_gives_none_and_the_others_are_still_read(server):
    a, gone, b = (server.add_post(t, insights={"likes": i}) for i, t in enumerate(("a", "gone", "b")))
    server.delete_post(gone["id"])
    adapter, _ = adapter_for(server)
    out = adapter.fetch_post_metrics([a["id"], gone["id"], b["id"]])
    assert out[gone["id"]] is None
    assert out[a["id"]].likes == 0 and out[b["id"]].likes == 2
    assert len(server.requests) == 3  # one call per post: no multi-id insights call exists


def test_account_metrics(server):
    server.user_totals["quotes"] = None  # not reported
    adapter, _ = adapter_for(server)
    m = adapter.fetch_account_metrics()
    assert m.followers == 1234 and m.profile_views == 12  # two days of profile views
    assert m.following is None and m.posts_count is None and m.impressions is None and m.reach is None
    assert m.raw["insights"]["clicks"] == 2 and m.raw["insights"]["likes"] == 40
    assert "quotes" not in m.raw["insights"]
    (call,) = server.requests
    assert call.path == f"/v1.0/{server.user_id}/threads_insights"
    assert "followers_count" in call.param("metric").split(",")


def test_account_metrics_without_followers_is_none():
    with FakeThreads(followers_count=None) as server:
        adapter, _ = adapter_for(server)
        assert adapter.fetch_account_metrics().followers is None


# -- reconciliation, delete, import --------------------------------------------------------


def test_find_published_matches_exact_text_since_the_first_attempt(server):
    now = datetime.now(timezone.utc)
    server.add_post("same words", created_at=now - timedelta(hours=2))  # older than the attempt
    server.add_post("same words!", created_at=now - timedelta(minutes=1))  # other text
    ours = server.add_post("same words", created_at=now - timedelta(minutes=3))
    adapter, _ = adapter_for(server)

    found = adapter.find_published(request("same words", first=now - timedelta(minutes=5)))
    assert found is not None and found.platform_post_id == ours["id"] and found.url == ours["permalink"]
    (listing,) = server.requests
    assert listing.path == f"/v1.0/{server.user_id}/threads"
    assert int(listing.param("since")) == int((now - timedelta(minutes=10)).timestamp())
    assert {"id", "text", "timestamp", "permalink"} <= set(listing.param("fields").split(","))

    assert adapter.find_published(request("never posted", first=now - timedelta(minutes=5))) is None
    # A text post is not taken for an image post with the same caption.
    assert (
        adapter.find_published(
            request("same words", [MediaItem(Path("x.jpg"), "image/jpeg", 1)], first=now - timedelta(minutes=5))
        )
        is None
    )


def test_find_published_pages_through_recent_threads(server):
    now = datetime.now(timezone.utc)
    ours = server.add_post("needle", created_at=now - timedelta(minutes=59))
    for i in range(60):
        server.add_post(f"hay {i}", created_at=now - timedelta(minutes=58) + timedelta(seconds=i))
    adapter, _ = adapter_for(server)
    found = adapter.find_published(request("needle", first=now - timedelta(hours=1)))
    assert found is not None and found.platform_post_id == ours["id"]
    listings = server.calls("GET", f"/v1.0/{server.user_id}/threads")
    assert len(listings) == 2 and listings[1].param("after")


def test_delete_and_delete_again(server):
    post = server.add_post("short-lived")
    adapter, _ = adapter_for(server)
    adapter.delete(post["id"])
    assert post["id"] in server.deleted
    adapter.delete(post["id"])  # already gone: fine
    assert [r.method for r in server.requests] == ["DELETE", "DELETE"]
    assert server.requests[0].path == f"/v1.0/{post['id']}"


def test_resolve_post_by_id_and_by_url(server):
    post = server.add_post("import me")
    for _ in range(3):
        server.add_post("newer")
    adapter, _ = adapter_for(server)
    by_id = adapter.resolve_post(post["id"])
    assert (by_id.platform_post_id, by_id.url, by_id.text) == (post["id"], post["permalink"], "import me")
    for url in (
        post["permalink"],
        post["permalink"].replace("threads.net", "threads.com") + "?xmt=abc",
        f"https://www.threads.net/t/{post['shortcode']}/",
    ):
        found = adapter.resolve_post(url)
        assert found.platform_post_id == post["id"] and found.text == "import me"
    with pytest.raises(RemoteNotFound):
        adapter.resolve_post("https://www.threads.net/@someone/post/NoSuchCode")
    with pytest.raises(RemoteNotFound):
        adapter.resolve_post("https://example.com/@x/post/abc")
    with pytest.raises(RemoteNotFound):
        adapter.resolve_post("18999999999999999")


def test_module_imports_without_httpx_or_regex():
    code = (
        "import sys, postcli.platforms.threads.adapter; "
        "assert 'httpx' not in sys.modules and 'regex' not in sys.modules, 'heavy import'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- end to end through the CLI -------------------------------------------------------------


def test_cli_connect_publish_and_collect(cli, home, server):
    (home / "config.toml").write_text("[collect]\nbackoff_seconds = 0.01\nmax_attempts = 2\n")
    r = cli(
        "accounts", "add", "threads", "--api-base", server.url, "--token-stdin", "--json", input=DEFAULT_TOKEN + "\n"
    )
    assert r.exit_code == 0, r.stderr
    account = json.loads(r.stdout)
    assert (account["platform"], account["handle"], account["external_id"]) == (
        "threads",
        server.username,
        server.user_id,
    )
    assert account["api_base_url"] == server.url and account["token_expires_at"]
    assert DEFAULT_TOKEN not in r.stdout

    out = cli.json("post", "create", "Hello from postcli 👋", "--to", "threads")
    assert out["status"] == "completed"
    (target,) = out["targets"]
    (post,) = server.published
    assert target["url"] == post["permalink"]
    create = server.calls("POST", f"/v1.0/{server.user_id}/threads")
    assert [(c.param("media_type"), c.param("text")) for c in create] == [("TEXT", "Hello from postcli 👋")]
    # The refreshed token from `accounts add` is the one in use.
    assert create[0].param("access_token") != DEFAULT_TOKEN and create[0].param("access_token") in server.tokens
    # The container status check was charged to the account's shared request budget
    # (the one collectors draw from): a full bucket of 200 less one.
    budget = sqlite3.connect(home / "postcli.db").execute("select key, tokens from rate_budgets").fetchall()
    assert [(k, round(t)) for k, t in budget] == [(f"acct:{account['id']}", 199)], budget

    server.set_insights(post["id"], views=120, likes=9, replies=2, reposts=1)
    server.reset_log()
    out = cli.json("collect")
    assert out["fetched"] == 1
    conn = sqlite3.connect(home / "postcli.db")
    conn.row_factory = sqlite3.Row
    row = conn.execute("select * from post_metric_snapshots").fetchone()
    assert (row["views"], row["likes"], row["comments"], row["shares"]) == (120, 9, 2, 1)
    # Not reported by Threads: NULL, never 0.
    assert (row["quotes"], row["saves"], row["impressions"], row["reach"]) == (None, None, None, None)
    assert row["follower_count"] == 1234
    acc = conn.execute("select followers, profile_views from account_metric_snapshots").fetchone()
    assert tuple(acc) == (1234, 12)
    assert [r.path for r in server.requests_to("GET", f"/v1.0/{post['id']}/insights")] == [
        f"/v1.0/{post['id']}/insights"
    ]


def test_a_thread_collected_once_then_deleted_is_none_and_the_others_still_read(server):
    # Threads answers the insights of a deleted media with code 100 / subcode 33, HTTP 400
    # (developers.facebook.com/docs/graph-api/guides/error-handling; the fake's docstring).
    kept, gone = server.add_post("kept", insights={"likes": 1}), server.add_post("gone", insights={"likes": 2})
    adapter, _ = adapter_for(server)
    assert adapter.fetch_post_metrics([gone["id"], kept["id"]])[gone["id"]].likes == 2
    server.delete_post(gone["id"])
    server.set_insights(kept["id"], likes=5)
    second = adapter.fetch_post_metrics([gone["id"], kept["id"]])
    assert second[gone["id"]] is None
    assert second[kept["id"]].likes == 5
    [answer] = [r for r in server.requests if r.path == f"/v1.0/{gone['id']}/insights"][-1:]
    assert answer.status == 400


def test_a_refused_optional_refresh_leaves_a_working_token_alone(server):
    """Issue 21: the same rule as Instagram (graph_tokens.UserTokenAdapter.check_health)."""
    server.refresh_allowed = False
    two_days_ago = (datetime.now(timezone.utc) - timedelta(days=2)).isoformat()
    estimate = datetime.now(timezone.utc) + timedelta(days=58)
    adapter, _ = adapter_for(
        server,
        token_expires_at=estimate,
        secrets={"access_token": DEFAULT_TOKEN, "token_expires_estimated": True, "token_obtained_at": two_days_ago},
    )
    health = adapter.check_health()
    assert health.ok and health.token_expires_at == estimate
    assert [r.path for r in server.requests] == ["/refresh_access_token", "/v1.0/me"]
