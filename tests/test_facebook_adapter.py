"""The real Facebook Pages adapter against the fake Graph API over loopback sockets.

Nothing in the adapter is patched; the fake records what it received."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fakes.facebook_server import FakeFacebook, Page
from postcli.errors import EXIT_RATE_LIMITED, EXIT_RECONNECT, EXIT_USAGE
from postcli.platforms.base import (
    AccountContext,
    AuthFailed,
    MediaItem,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
    PublishRequest,
    RemoteNotFound,
)
from postcli.platforms.facebook.adapter import MAX_TEXT, FacebookAdapter

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture
def fb():
    with FakeFacebook() as server:
        yield server


@pytest.fixture
def page(fb: FakeFacebook) -> Page:
    return fb.add_page("Cafe Nova", followers=120, fans=110)


def adapter(fb: FakeFacebook, page: Page, **overrides) -> FacebookAdapter:
    a = FacebookAdapter(fb.account_context(page, **overrides))
    a._first_poll_delay = 0.0
    return a


def new_ctx(fb: FakeFacebook, saved: list, **kw) -> AccountContext:
    values = {
        "platform": "facebook",
        "api_base_url": fb.url,
        "secrets": {},
        "save_secrets": saved.append,
        "timeout": 5.0,
    }
    values.update(kw)
    return AccountContext(**values)


def media(
    tmp_path: Path,
    name: str,
    mime: str = "image/png",
    alt: str | None = None,
    data: bytes = PNG,
    public_url: str | None = None,
) -> MediaItem:
    path = tmp_path / name
    path.write_bytes(data)
    return MediaItem(path=path, mime_type=mime, size_bytes=len(data), alt_text=alt, public_url=public_url)


def calls(fb: FakeFacebook, **kw) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in fb.requests_to("*", **kw)]


# -- connect -----------------------------------------------------------------------


def test_connect_with_a_page_token(fb, page):
    saved: list = []
    ctx = new_ctx(fb, saved)

    info = FacebookAdapter(ctx).connect(None, f" {page.token}\n")

    assert (info.external_id, info.handle, info.display_name) == (page.id, "Cafe Nova", "Cafe Nova")
    assert info.token_expires_at is None
    assert saved == [{"access_token": page.token}]
    assert ctx.settings == {"token_source": "page", "page_id": page.id, "page_name": "Cafe Nova"}
    assert ctx.settings_changed is True and ctx.external_id == page.id
    # Identity, then the edge a Page token does not have.
    assert calls(fb) == [("GET", "/me"), ("GET", "/me/accounts")]
    assert {r.version for r in fb.requests} == {"v27.0"}  # the default Graph version


def test_connect_with_a_user_token_keeps_only_the_page_token(fb, page):
    user_token = fb.add_user("Ada", [page])
    saved: list = []
    ctx = new_ctx(fb, saved)

    info = FacebookAdapter(ctx).connect(None, user_token)

    assert info.external_id == page.id
    assert saved == [{"access_token": page.token}]
    assert user_token not in json.dumps(ctx.secrets) + json.dumps(ctx.settings)
    assert ctx.settings["token_source"] == "user" and "user_token_expires_at" not in ctx.settings


def test_connect_exchanges_a_short_user_token_when_the_app_is_known(fb, page):
    user_token = fb.add_user("Ada", [page])
    saved: list = []
    ctx = new_ctx(fb, saved, settings={"app_id": fb.app_id}, secrets={"app_secret": fb.app_secret})

    info = FacebookAdapter(ctx).connect(None, user_token)

    assert fb.exchanges == [user_token]
    exchange = fb.requests_to("GET", "/oauth/access_token")[0]
    assert exchange.param("grant_type") == "fb_exchange_token"
    assert (exchange.param("client_id"), exchange.param("client_secret")) == (fb.app_id, fb.app_secret)
    assert exchange.param("fb_exchange_token") == user_token and exchange.param("access_token") is None
    stored = saved[-1]
    # The Page token read with the long-lived user token (it does not expire).
    assert stored["access_token"] == page.long_token
    assert stored["user_access_token"].startswith("EAAUSER") and stored["user_access_token"] != user_token
    assert stored["app_secret"] == fb.app_secret
    assert info.token_expires_at is None
    expires = datetime.fromisoformat(ctx.settings["user_token_expires_at"])
    assert timedelta(days=59) < expires - datetime.now(timezone.utc) < timedelta(days=61)
    assert ctx.settings["app_id"] == fb.app_id


def test_a_wrong_app_secret_is_refused_without_echoing_it(fb, page):
    user_token = fb.add_user("Ada", [page])
    saved: list = []
    ctx = new_ctx(fb, saved, settings={"app_id": fb.app_id}, secrets={"app_secret": "wrong-secret-1234"})

    with pytest.raises(PlatformRejected) as err:
        FacebookAdapter(ctx).connect(None, user_token)

    assert "client secret" in str(err.value) and "wrong-secret-1234" not in str(err.value)
    assert user_token not in str(err.value) and saved == []


def test_several_pages_and_no_page_option_lists_them(fb, page):
    other = fb.add_page("Nova Bakery")
    user_token = fb.add_user("Ada", [page, other])
    saved: list = []

    with pytest.raises(PlatformRejected) as err:
        FacebookAdapter(new_ctx(fb, saved)).connect(None, user_token)

    message = str(err.value)
    assert f"{page.id} (Cafe Nova)" in message and f"{other.id} (Nova Bakery)" in message
    assert "--page" in err.value.hint and err.value.exit_code == EXIT_USAGE
    assert saved == [] and user_token not in message
    assert fb.requests_to("POST") == []


@pytest.mark.parametrize("choice", ["nova bakery", "NOVA BAKERY ", "id"])
def test_page_option_picks_by_id_or_name(fb, page, choice):
    other = fb.add_page("Nova Bakery")
    user_token = fb.add_user("Ada", [page, other])
    saved: list = []
    ctx = new_ctx(fb, saved)

    info = FacebookAdapter(ctx).connect(other.id if choice == "id" else choice, user_token)

    assert info.external_id == other.id and saved == [{"access_token": other.token}]


def test_unknown_page_option_lists_the_pages(fb, page):
    user_token = fb.add_user("Ada", [page])
    with pytest.raises(PlatformRejected) as err:
        FacebookAdapter(new_ctx(fb, [])).connect("Other Page", user_token)
    assert "no Page is named 'Other Page'" in str(err.value) and f"{page.id} (Cafe Nova)" in str(err.value)


def test_a_page_token_for_another_page_is_refused(fb, page):
    with pytest.raises(PlatformRejected) as err:
        FacebookAdapter(new_ctx(fb, [])).connect("Some Other Page", page.token)
    assert "Cafe Nova" in str(err.value)


def test_many_pages_are_read_across_pages_of_results(fb, page):
    pages = [fb.add_page(f"Page {i}") for i in range(120)]
    user_token = fb.add_user("Ada", [page, *pages])
    info = FacebookAdapter(new_ctx(fb, [])).connect("Page 119", user_token)
    assert info.external_id == pages[-1].id
    assert len(fb.requests_to("GET", "/me/accounts")) == 2


def test_a_bad_token_is_auth_failed_without_the_token(fb):
    with pytest.raises(AuthFailed) as err:
        FacebookAdapter(new_ctx(fb, [])).connect(None, "EAAbogus-token-0123456789")
    assert "EAAbogus-token-0123456789" not in str(err.value)
    assert "code 190" in str(err.value) and err.value.exit_code == EXIT_RECONNECT


# -- limits and publishing ------------------------------------------------------------


def test_limits():
    limits = FacebookAdapter(AccountContext(platform="facebook", api_base_url="")).limits()
    assert limits.max_text == 63_206 == MAX_TEXT
    assert "image/webp" not in limits.mime_types and "video/quicktime" in limits.mime_types
    assert limits.needs_public_media_url is False and limits.images_and_video is False
    assert limits.max_videos == 1 and limits.max_image_bytes == 10 * 1024 * 1024


def test_publish_text(fb, page):
    a = adapter(fb, page)

    result = a.publish(PublishRequest(text="Fresh croissants at 8", idempotency_key="k1"))

    post = fb.page_posts(page)[0]
    assert result.platform_post_id == post.id and post.message == "Fresh croissants at 8"
    assert result.url == f"https://www.facebook.com/{page.id}/posts/{post.id.split('_')[1]}"
    assert result.published_at is not None and result.published_at.tzinfo is not None
    feed = fb.requests_to("POST", f"/{page.id}/feed")
    assert len(feed) == 1 and feed[0].form["message"] == ["Fresh croissants at 8"]
    assert feed[0].query["access_token"] == [page.long_token] and feed[0].version == "v26.0"
    assert calls(fb) == [("POST", f"/{page.id}/feed"), ("GET", f"/{post.id}")]


def test_an_explicit_api_version_is_used(fb, page):
    a = adapter(fb, page, settings={"page_id": page.id, "api_version": "v25.0"})
    a.publish(PublishRequest(text="versioned", idempotency_key="kv"))
    assert {r.version for r in fb.requests} == {"v25.0"}


def test_a_failed_photo_upload_publishes_nothing(fb, page, tmp_path):
    fb.fail_next("POST", f"/{page.id}/photos", code=2, message="An unexpected error has occurred.", status=500)
    items = [media(tmp_path, "a.png"), media(tmp_path, "b.png")]
    with pytest.raises(PlatformUnavailable):
        adapter(fb, page).publish(PublishRequest(text="two", idempotency_key="kp", media=items))
    assert fb.page_posts(page) == [] and fb.requests_to("POST", f"/{page.id}/feed") == []


def test_publish_photos_uploads_them_unpublished_then_attaches_them(fb, page, tmp_path):
    a = adapter(fb, page)
    items = [media(tmp_path, "a.png", alt="latte art"), media(tmp_path, "b.png")]

    result = a.publish(PublishRequest(text="Two photos", idempotency_key="k2", media=items))

    uploads = fb.requests_to("POST", f"/{page.id}/photos")
    assert len(uploads) == 2
    assert [u.form["published"] for u in uploads] == [["false"], ["false"]]
    assert uploads[0].form["alt_text_custom"] == ["latte art"] and "alt_text_custom" not in uploads[1].form
    assert [
        (u.files["source"]["filename"], u.files["source"]["content_type"], u.files["source"]["size"]) for u in uploads
    ] == [("a.png", "image/png", len(PNG)), ("b.png", "image/png", len(PNG))]
    photo_ids = list(fb.photos)
    feed = fb.requests_to("POST", f"/{page.id}/feed")[0]
    assert [json.loads(feed.form[f"attached_media[{i}]"][0]) for i in range(2)] == [
        {"media_fbid": photo_ids[0]},
        {"media_fbid": photo_ids[1]},
    ]
    posts = fb.page_posts(page)
    assert len(posts) == 1 and posts[0].photo_ids == photo_ids and result.platform_post_id == posts[0].id


def test_publish_video_waits_for_its_post(fb, page, tmp_path):
    fb.video_post_polls = 2
    a = adapter(fb, page)
    clip = media(tmp_path, "clip.mp4", mime="video/mp4", data=b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)

    result = a.publish(PublishRequest(text="Behind the counter", idempotency_key="k3", media=[clip]))

    upload = fb.requests_to("POST", f"/{page.id}/videos")[0]
    assert upload.form["description"] == ["Behind the counter"]
    assert upload.files["source"]["content_type"] == "video/mp4" and upload.files["source"]["filename"] == "clip.mp4"
    video_id = next(iter(fb.videos))
    assert [r.status for r in fb.requests_to("GET", f"/{video_id}")] == [200, 200, 200]
    assert result.platform_post_id == fb.videos[video_id]["post_id"]
    assert fb.posts[result.platform_post_id].message == "Behind the counter"


def test_video_with_a_public_url_is_fetched_by_facebook(fb, page, tmp_path):
    a = adapter(fb, page)
    clip = media(tmp_path, "clip.mp4", mime="video/mp4", public_url="https://bucket.example/clip.mp4?sig=1")
    a.publish(PublishRequest(text="", idempotency_key="k4", media=[clip]))
    upload = fb.requests_to("POST", f"/{page.id}/videos")[0]
    assert upload.form["file_url"] == ["https://bucket.example/clip.mp4?sig=1"] and upload.files == {}


def test_a_video_without_its_post_in_time_is_unavailable(fb, page, tmp_path):
    fb.video_post_polls = 1000
    a = adapter(fb, page)
    a.video_post_timeout = 0.0
    clip = media(tmp_path, "clip.mp4", mime="video/mp4")
    with pytest.raises(PlatformUnavailable) as err:
        a.publish(PublishRequest(text="slow", idempotency_key="k5", media=[clip]))
    assert "clip.mp4" in str(err.value)


def test_over_long_text_sends_nothing(fb, page):
    a = adapter(fb, page)
    with pytest.raises(PlatformRejected) as err:
        a.publish(PublishRequest(text="x" * (MAX_TEXT + 1), idempotency_key="k6"))
    assert "63207" in str(err.value) and fb.requests == []
    assert a.text_length("x" * MAX_TEXT) == MAX_TEXT


def test_mixed_media_is_refused_before_sending(fb, page, tmp_path):
    a = adapter(fb, page)
    items = [media(tmp_path, "a.png"), media(tmp_path, "c.mp4", mime="video/mp4")]
    with pytest.raises(PlatformRejected):
        a.publish(PublishRequest(text="mixed", idempotency_key="k7", media=items))
    assert fb.requests == []


def test_revoked_token_is_auth_failed_without_the_token(fb, page):
    fb.revoke(page.long_token)
    with pytest.raises(AuthFailed) as err:
        adapter(fb, page).publish(PublishRequest(text="hello", idempotency_key="k8"))
    assert page.long_token not in str(err.value) and "code 190" in str(err.value)
    assert "accounts add facebook" in err.value.hint


@pytest.mark.parametrize(
    ("code", "headers", "retry_after"),
    [
        (4, {"X-App-Usage": json.dumps({"call_count": 120, "total_cputime": 30, "total_time": 40})}, 600.0),
        (
            32,
            {
                "X-Business-Use-Case-Usage": json.dumps(
                    {"1": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 7}]}
                )
            },
            420.0,
        ),
        (
            80001,
            {
                "X-Business-Use-Case-Usage": json.dumps(
                    {"1": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 3}]}
                )
            },
            180.0,
        ),
    ],
)
def test_rate_limits_carry_the_wait_from_the_usage_headers(fb, page, code, headers, retry_after):
    fb.fail_next("POST", f"/{page.id}/feed", code=code, message="(#%d) rate limited" % code, headers=headers)
    with pytest.raises(PlatformRateLimited) as err:
        adapter(fb, page).publish(PublishRequest(text="hello", idempotency_key="k9"))
    assert err.value.retry_after == pytest.approx(retry_after) and err.value.exit_code == EXIT_RATE_LIMITED
    assert fb.page_posts(page) == []


def test_timeout_names_the_host(fb, page):
    fb.set_delay(1.0, "GET", f"/{page.id}")
    with pytest.raises(PlatformUnavailable) as err:
        adapter(fb, page, timeout=0.2).fetch_account_metrics()
    assert fb.host in str(err.value)


# -- reconciliation, delete, resolve ------------------------------------------------------


def test_find_published_matches_the_text_since_the_first_attempt(fb, page):
    now = datetime.now(timezone.utc)
    fb.add_post(page, "Opening hours changed", created=now - timedelta(hours=2))  # before the attempt
    fb.add_post(page, "Something else", created=now - timedelta(minutes=1))
    ours = fb.add_post(page, "Opening hours changed", created=now - timedelta(minutes=3))
    a = adapter(fb, page)

    found = a.find_published(
        PublishRequest(text="Opening hours changed\n", idempotency_key="k", first_attempt_at=now - timedelta(minutes=5))
    )

    assert found is not None and found.platform_post_id == ours.id
    since = int(fb.requests_to("GET", f"/{page.id}/posts")[0].param("since"))
    assert since == int((now - timedelta(minutes=15)).timestamp())
    assert (
        a.find_published(
            PublishRequest(text="never posted", idempotency_key="k", first_attempt_at=now - timedelta(minutes=5))
        )
        is None
    )


def test_find_published_follows_the_cursor(fb, page):
    now = datetime.now(timezone.utc)
    ours = fb.add_post(page, "needle", created=now - timedelta(minutes=4))
    for i in range(30):
        fb.add_post(page, f"hay {i}", created=now - timedelta(minutes=3) + timedelta(seconds=i))
    found = adapter(fb, page).find_published(
        PublishRequest(text="needle", idempotency_key="k", first_attempt_at=now - timedelta(minutes=5))
    )
    assert found is not None and found.platform_post_id == ours.id
    lists = fb.requests_to("GET", f"/{page.id}/posts")
    assert len(lists) == 2 and lists[1].param("after")


def test_delete_and_delete_again(fb, page):
    a = adapter(fb, page)
    post = fb.add_post(page, "bye")
    a.delete(post.id)
    a.delete(post.id)
    assert post.id not in fb.posts
    assert [r.status for r in fb.requests_to("DELETE")] == [200, 400]


def test_resolve_post_by_id_and_urls(fb, page):
    post = fb.add_post(page, "Imported")
    a = adapter(fb, page)
    story = post.id.split("_")[1]
    for ref in (
        post.id,
        story,
        f"https://www.facebook.com/{page.id}/posts/{story}",
        f"https://www.facebook.com/cafenova/posts/{story}/",
        f"https://m.facebook.com/permalink.php?story_fbid={story}&id={page.id}",
        f"https://www.facebook.com/story.php?story_fbid={story}&id={page.id}",
    ):
        result = a.resolve_post(ref)
        assert (result.platform_post_id, result.text) == (post.id, "Imported"), ref
    with pytest.raises(RemoteNotFound):
        a.resolve_post(f"{page.id}_999999")
    with pytest.raises(RemoteNotFound):
        a.resolve_post("https://example.com/posts/1")
    with pytest.raises(RemoteNotFound):
        a.resolve_post("https://www.facebook.com/cafenova/posts/pfbid02abcDEF")


# -- metrics ---------------------------------------------------------------------------------


def test_post_metrics_come_in_one_batch(fb, page):
    a, b = fb.add_post(page, "a"), fb.add_post(page, "b")
    fb.set_counts(
        a.id, reactions=12, comments=3, shares=2, post_media_view=340, post_total_media_view_unique=210, post_clicks=9
    )
    fb.set_counts(b.id, reactions=1, comments=0, post_media_view=5, post_total_media_view_unique=4, post_clicks=0)

    result = adapter(fb, page).fetch_post_metrics([a.id, b.id, a.id])

    assert list(result) == [a.id, b.id]
    ma = result[a.id]
    assert (ma.likes, ma.comments, ma.shares, ma.views, ma.reach, ma.clicks) == (12, 3, 2, 340, 210, 9)
    # Retired (impressions) or never reported by Facebook: None, never 0.
    assert (ma.impressions, ma.quotes, ma.saves, ma.video_views) == (None, None, None, None)
    assert ma.raw["reactions"]["summary"]["total_count"] == 12 and ma.raw["id"] == a.id
    mb = result[b.id]
    assert (mb.likes, mb.comments, mb.shares, mb.clicks) == (1, 0, 0, 0)  # no shares field = nobody shared
    top = fb.batches()
    assert len(top) == 1 and top[0].path == "/" and top[0].param("include_headers") == "false"
    subs = fb.requests_to("GET", in_batch=True)
    assert [s.path for s in subs] == [f"/{a.id}", f"/{b.id}"]
    assert "insights.metric(post_media_view,post_total_media_view_unique,post_clicks)" in subs[0].param("fields")
    assert not any(r.param("ids") for r in fb.requests)  # never the retired GET /?ids= lookup


def test_a_deleted_post_is_none_and_the_others_still_get_metrics(fb, page):
    kept, gone = fb.add_post(page, "kept"), fb.add_post(page, "gone")
    fb.set_counts(kept.id, reactions=4, post_media_view=10)
    fb.delete_post(gone.id)

    result = adapter(fb, page).fetch_post_metrics([gone.id, kept.id])

    assert result[gone.id] is None
    assert result[kept.id].likes == 4 and result[kept.id].views == 10
    assert len(fb.batches()) == 1


def test_missing_insights_are_none_not_zero(fb, page):
    post = fb.add_post(page, "small page")  # Graph leaves out metrics it has no data for
    m = adapter(fb, page).fetch_post_metrics([post.id])[post.id]
    assert (m.views, m.reach, m.clicks) == (None, None, None)
    assert (m.likes, m.comments, m.shares) == (0, 0, 0)


def test_a_retired_metric_is_dropped_and_remembered(fb, page):
    fb.valid_post_metrics.discard("post_clicks")
    post = fb.add_post(page, "p")
    fb.set_counts(post.id, reactions=2, post_media_view=50, post_total_media_view_unique=40)
    a = adapter(fb, page)

    m = a.fetch_post_metrics([post.id])[post.id]

    assert (m.likes, m.views, m.reach, m.clicks) == (2, 50, 40, None)
    assert a.ctx.settings["post_insight_metrics"] == ["post_media_view", "post_total_media_view_unique"]
    assert a.ctx.settings_changed is True
    probes = fb.requests_to("GET", f"/{post.id}/insights", in_batch=True)
    assert sorted(p.param("metric") for p in probes) == sorted(
        ["post_media_view", "post_total_media_view_unique", "post_clicks"]
    )
    fb.reset_log()
    assert a.fetch_post_metrics([post.id])[post.id].views == 50
    assert len(fb.batches()) == 1  # learned: no probing again


def test_a_probe_that_is_rate_limited_learns_nothing(fb, page):
    fb.valid_post_metrics.discard("post_clicks")
    post = fb.add_post(page, "p")
    fb.fail_next("GET", f"/{post.id}/insights", code=32, message="(#32) Page request limit reached")
    a = adapter(fb, page)
    with pytest.raises(PlatformRateLimited):
        a.fetch_post_metrics([post.id])
    assert "post_insight_metrics" not in a.ctx.settings


def test_without_insights_permission_counters_still_come(fb, page):
    post = fb.add_post(page, "p")
    fb.set_counts(post.id, reactions=5, post_media_view=99)
    fb.fail_next("GET", f"/{post.id}", code=200, message="(#200) Requires read_insights permission", status=403)
    a = adapter(fb, page)

    m = a.fetch_post_metrics([post.id])[post.id]

    assert (m.likes, m.views) == (5, None)
    assert a.ctx.settings["post_insight_metrics"] == []
    assert "insights" not in fb.requests_to("GET", f"/{post.id}", in_batch=True)[-1].param("fields")


def test_more_than_fifty_posts_take_several_batches(fb, page):
    posts = [fb.add_post(page, f"p{i}") for i in range(60)]
    result = adapter(fb, page).fetch_post_metrics([p.id for p in posts])
    assert len(result) == 60 and all(m is not None for m in result.values())
    batches = fb.batches()
    assert [len(json.loads(b.param("batch"))) for b in batches] == [50, 10]


def test_a_request_the_batch_did_not_finish_is_asked_again(fb, page):
    post, other = fb.add_post(page, "p"), fb.add_post(page, "q")
    fb.set_counts(post.id, reactions=7)
    fb.batch_null_once.add(post.id)
    result = adapter(fb, page).fetch_post_metrics([post.id, other.id])
    assert result[post.id].likes == 7 and result[other.id] is not None
    assert [len(json.loads(b.param("batch"))) for b in fb.batches()] == [2, 1]


def test_a_rate_limited_batch_carries_the_wait(fb, page):
    post = fb.add_post(page, "p")
    usage = {page.id: [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 12}]}
    fb.fail_next(
        "POST",
        "/",
        code=80001,
        message="(#80001) There have been too many calls to this Page account",
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
    )
    with pytest.raises(PlatformRateLimited) as err:
        adapter(fb, page).fetch_post_metrics([post.id])
    assert err.value.retry_after == 720.0


def test_a_rate_limited_request_inside_the_batch_fails_the_fetch(fb, page):
    post = fb.add_post(page, "p")
    fb.fail_next("GET", f"/{post.id}", code=32, message="(#32) Page request limit reached")
    with pytest.raises(PlatformRateLimited):
        adapter(fb, page).fetch_post_metrics([post.id])


def test_a_revoked_token_fails_the_metrics_as_auth(fb, page):
    post = fb.add_post(page, "p")
    fb.revoke(page.long_token)
    with pytest.raises(AuthFailed) as err:
        adapter(fb, page).fetch_post_metrics([post.id])
    assert page.long_token not in str(err.value)


def test_account_metrics(fb, page):
    page.insights.update({"page_media_view": 5000, "page_total_media_view_unique": 3100})
    m = adapter(fb, page).fetch_account_metrics()
    assert (m.followers, m.impressions, m.reach) == (120, 5000, 3100)
    assert (m.following, m.posts_count, m.profile_views) == (None, None, None)
    assert m.raw["fan_count"] == 110
    assert "period(days_28)" in fb.requests_to("GET", f"/{page.id}")[0].param("fields")


def test_account_metrics_without_page_insights_are_remembered(fb, page):
    fb.valid_page_metrics.clear()
    a = adapter(fb, page)
    m = a.fetch_account_metrics()
    assert (m.followers, m.reach) == (120, None)
    assert a.ctx.settings["page_insights"] is False
    fb.reset_log()
    a.fetch_account_metrics()
    assert len(fb.requests_to("GET", f"/{page.id}")) == 1


# -- health -------------------------------------------------------------------------------


def test_check_health_ok_and_revoked(fb, page):
    a = adapter(fb, page)
    assert a.check_health().ok is True
    assert calls(fb) == [("GET", f"/{page.id}")]
    fb.revoke(page.long_token)
    with pytest.raises(AuthFailed):
        adapter(fb, page).check_health()


def connected_with_app(fb: FakeFacebook, page: Page, saved: list) -> FacebookAdapter:
    user_token = fb.add_user("Ada", [page])
    ctx = new_ctx(fb, saved, settings={"app_id": fb.app_id}, secrets={"app_secret": fb.app_secret})
    a = FacebookAdapter(ctx)
    a.connect(None, user_token)
    return a


def test_check_health_refreshes_a_user_token_near_expiry_first(fb, page):
    saved: list = []
    a = connected_with_app(fb, page, saved)
    old_user_token = a.ctx.secrets["user_access_token"]
    a.ctx.settings["user_token_expires_at"] = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
    fb.reset_log()

    result = a.check_health()

    assert result.ok is True and result.message is None and result.token_expires_at is None
    assert fb.exchanges[-1] == old_user_token
    assert calls(fb) == [("GET", "/oauth/access_token"), ("GET", f"/{page.id}"), ("GET", f"/{page.id}")]
    newest = saved[-1]
    assert newest["user_access_token"] not in (old_user_token, None)
    assert newest["access_token"] == page.long_token and newest["app_secret"] == fb.app_secret
    expires = datetime.fromisoformat(a.ctx.settings["user_token_expires_at"])
    assert expires - datetime.now(timezone.utc) > timedelta(days=59) and a.ctx.settings_changed


def test_no_refresh_while_the_user_token_is_far_from_expiry(fb, page):
    a = connected_with_app(fb, page, [])
    fb.reset_log()
    a.check_health()
    assert calls(fb) == [("GET", f"/{page.id}")]


def test_a_user_token_that_cannot_be_refreshed_is_dropped_while_the_page_token_works(fb, page):
    saved: list = []
    a = connected_with_app(fb, page, saved)
    user_token = a.ctx.secrets["user_access_token"]
    a.ctx.settings["user_token_expires_at"] = (datetime.now(timezone.utc) - timedelta(days=1)).isoformat()
    fb.revoke(user_token)

    result = a.check_health()

    assert result.ok is True and "could not be refreshed" in result.message and user_token not in result.message
    assert "user_access_token" not in saved[-1] and saved[-1]["access_token"] == page.long_token
    assert "user_token_expires_at" not in a.ctx.settings


def test_a_failed_refresh_with_a_dead_page_token_is_auth_failed(fb, page):
    a = connected_with_app(fb, page, [])
    a.ctx.settings["user_token_expires_at"] = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    fb.revoke(a.ctx.secrets["user_access_token"])
    fb.revoke(page.long_token)
    with pytest.raises(AuthFailed) as err:
        a.check_health()
    assert page.long_token not in str(err.value)


# -- end to end through the CLI ---------------------------------------------------------------


def test_cli_connect_publish_collect(cli, home, fb, page):
    (home / "config.toml").write_text("[collect]\nbackoff_seconds = 0.01\nmax_attempts = 2\nmin_interval_seconds = 0\n")
    user_token = fb.add_user("Ada", [page])

    account = cli.json("accounts", "add", "facebook", "--api-base", fb.url, "--token-stdin", input=user_token + "\n")
    assert (account["platform"], account["external_id"], account["handle"]) == ("facebook", page.id, "Cafe Nova")

    out = cli.json("post", "create", "Hello from postcli", "--to", "facebook")
    assert out["status"] == "completed"
    post = fb.page_posts(page)[0]
    assert post.message == "Hello from postcli"
    assert out["targets"][0]["url"] == f"https://www.facebook.com/{page.id}/posts/{post.id.split('_')[1]}"
    assert fb.requests_to("POST", f"/{page.id}/feed")[0].query["access_token"] == [page.token]

    fb.set_counts(post.id, reactions=8, comments=2, shares=1, post_media_view=300, post_total_media_view_unique=200)
    summary = cli.json("collect")
    assert summary["fetched"] == 1 and summary["failed"] == 0

    conn = sqlite3.connect(home / "postcli.db")
    conn.row_factory = sqlite3.Row
    row = conn.execute("select * from post_metric_snapshots").fetchone()
    assert (row["likes"], row["comments"], row["shares"], row["views"], row["reach"]) == (8, 2, 1, 300, 200)
    assert row["impressions"] is None and row["saves"] is None
    assert conn.execute("select followers from account_metric_snapshots").fetchone()[0] == 120
    assert len(fb.batches()) == 1

    raw = (home / "postcli.db").read_bytes() + b"".join(p.read_bytes() for p in home.glob("postcli.db-wal"))
    dumped = cli("accounts", "list", "--json").stdout + cli("post", "list", "--json").stdout
    for secret in (user_token, page.token):
        assert secret.encode() not in raw and secret not in dumped
    creds = (home / "credentials.json").read_text()
    assert page.token in creds and user_token not in creds


def test_cli_several_pages_need_the_page_option(cli, fb, page):
    other = fb.add_page("Nova Bakery")
    user_token = fb.add_user("Ada", [page, other])
    r = cli("accounts", "add", "facebook", "--api-base", fb.url, "--token-stdin", input=user_token + "\n")
    assert r.exit_code == EXIT_USAGE and "Nova Bakery" in r.stderr and "--page" in r.stderr
    account = cli.json(
        "accounts",
        "add",
        "facebook",
        "--api-base",
        fb.url,
        "--token-stdin",
        "--page",
        other.id,
        input=user_token + "\n",
    )
    assert account["external_id"] == other.id


def test_module_imports_nothing_heavy():
    code = (
        "import sys, postcli.platforms.facebook.adapter; "
        "assert 'httpx' not in sys.modules, 'httpx imported at module level'"
    )
    src = str(Path(__file__).resolve().parents[1] / "src")
    subprocess.run([sys.executable, "-c", code], check=True, env={"PYTHONPATH": src})
