"""The real Instagram adapter against the fake graph.instagram.com over loopback sockets.

Nothing in the adapter is patched: its container polling waits through the
account context's injected clock and sleep (fakes.clock: recorded, not slept), and
tests assert on what the fake received and what the adapter returned.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fakes.clock import FakeClock
from fakes.instagram_server import USER_ID, FakeInstagram
from postcli.platforms.base import (
    AuthFailed,
    MediaItem,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
    PublishRequest,
    RemoteNotFound,
)
from postcli.platforms.instagram.adapter import InstagramAdapter
from postcli.platforms.instagram.insights import error_code, unsupported_metrics

JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452")
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 16


@pytest.fixture
def server():
    with FakeInstagram() as s:
        yield s


def connected(server: FakeInstagram, **ctx_overrides) -> InstagramAdapter:
    clock = FakeClock()
    ctx = server.account_context(
        secrets={}, settings={}, external_id=None, clock=clock, sleep=clock.sleep, **ctx_overrides
    )
    adapter = InstagramAdapter(ctx)
    adapter.connect(None, server.token)
    adapter.sleeps = clock.slept  # the waits, recorded through the context's sleep instead of slept
    server.reset_log()
    return adapter


def image(
    server: FakeInstagram,
    tmp_path: Path,
    name: str = "photo.jpg",
    alt: str | None = None,
    data: bytes = JPEG,
    mime: str = "image/jpeg",
    public: bool = True,
    **kw,
) -> MediaItem:
    path = tmp_path / name
    path.write_bytes(data)
    url = server.serve_file(name, data, mime) if public else None
    return MediaItem(path=path, mime_type=mime, size_bytes=len(data), alt_text=alt, public_url=url, **kw)


def video(server: FakeInstagram, tmp_path: Path, name: str = "clip.mp4") -> MediaItem:
    path = tmp_path / name
    path.write_bytes(MP4)
    return MediaItem(
        path=path, mime_type="video/mp4", size_bytes=len(MP4), public_url=server.serve_file(name, MP4, "video/mp4")
    )


def routes(server: FakeInstagram) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in server.requests]


# -- connect / limits ------------------------------------------------------------------------


def test_connect_stores_the_professional_account_id_and_an_estimated_expiry(server):
    saved = []
    ctx = server.account_context(secrets={}, settings={}, external_id=None, save_secrets=saved.append)
    before = datetime.now(timezone.utc)

    info = InstagramAdapter(ctx).connect(None, f" {server.token}\n")

    assert info.external_id == USER_ID  # user_id, not the app-scoped id
    assert (info.handle, info.display_name) == (server.username, server.name)
    assert timedelta(days=59, hours=23) < info.token_expires_at - before <= timedelta(days=60, seconds=5)
    assert saved[-1]["access_token"] == server.token
    assert saved[-1]["token_expires_estimated"] is True
    assert ctx.settings_changed and ctx.settings["ig_user_id"] == USER_ID
    # The estimate flag lives beside the token (read by check_health); no setting repeats it.
    assert "token_expiry" not in ctx.settings and ctx.settings["account_type"] == "BUSINESS"
    [me] = server.requests
    assert (me.method, me.path, me.version) == ("GET", "/me", "v27.0")  # the default Graph version
    assert {"user_id", "username", "followers_count"} <= set(me.param("fields").split(","))
    assert me.param("access_token") == server.token


def test_the_api_version_comes_from_settings(server):
    adapter = InstagramAdapter(server.account_context(settings={"ig_user_id": USER_ID, "api_version": "v23.0"}))
    adapter.fetch_account_metrics()
    assert {r.version for r in server.requests} == {"v23.0"}


def test_connect_with_a_bad_token_is_auth_failed_without_the_token(server):
    ctx = server.account_context(secrets={}, settings={})
    with pytest.raises(AuthFailed) as err:
        InstagramAdapter(ctx).connect(None, "IGAAwrong-token-987654321")
    assert "IGAAwrong-token-987654321" not in str(err.value)
    assert err.value.exit_code == 6
    assert ctx.secrets == {}


def test_limits():
    limits = InstagramAdapter(FakeInstagram().account_context()).limits()
    assert limits.max_text == 2200
    assert limits.mime_types == ("image/jpeg", "video/mp4", "video/quicktime")
    assert limits.max_images == 10 and limits.images_and_video is True
    assert limits.needs_public_media_url is True
    assert InstagramAdapter.min_collect_hours == 48


# -- refused before anything is sent ------------------------------------------------------------


def test_text_only_post_is_refused_before_sending(server):
    adapter = connected(server)
    with pytest.raises(PlatformRejected, match="without an image or a video") as err:
        adapter.publish(PublishRequest(text="just words", idempotency_key="k"))
    assert err.value.exit_code == 2
    assert server.requests == []


def test_png_is_refused_before_sending(server, tmp_path):
    adapter = connected(server)
    item = image(server, tmp_path, "shot.png", data=PNG, mime="image/png")
    with pytest.raises(PlatformRejected, match=r"shot\.png is image/png; Instagram only takes JPEG"):
        adapter.publish(PublishRequest(text="png", idempotency_key="k", media=[item]))
    assert server.requests == []


@pytest.mark.parametrize(
    ("text", "count", "problem"),
    [
        ("x" * 2201, 1, "2201 characters, Instagram allows 2,200"),
        (" ".join(f"#tag{i}" for i in range(31)), 1, "31 hashtags"),
        (" ".join(f"@user{i}" for i in range(21)), 1, "21 @mentions"),
        ("eleven", 11, "at most 10"),
    ],
)
def test_caption_and_carousel_limits_are_checked_before_sending(server, tmp_path, text, count, problem):
    adapter = connected(server)
    media = [image(server, tmp_path, f"p{i}.jpg") for i in range(count)]
    with pytest.raises(PlatformRejected, match=problem):
        adapter.publish(PublishRequest(text=text, idempotency_key="k", media=media))
    assert server.requests == []


def test_media_without_a_public_url_or_out_of_ratio_is_refused(server, tmp_path):
    adapter = connected(server)
    private = image(server, tmp_path, "private.jpg", public=False)
    wide = image(server, tmp_path, "wide.jpg", width=3000, height=1000)
    with pytest.raises(PlatformRejected) as err:
        adapter.publish(PublishRequest(text="x", idempotency_key="k", media=[private, wide]))
    assert "private.jpg has no public URL" in str(err.value) and "S3" in str(err.value)
    assert "wide.jpg is 3000x1000" in str(err.value)
    assert server.requests == []


# -- publishing -----------------------------------------------------------------------------------


def test_single_image_polls_the_container_until_finished(server, tmp_path):
    adapter = connected(server)
    server.set_container_statuses(["IN_PROGRESS", "IN_PROGRESS", "FINISHED"])
    item = image(server, tmp_path, alt="a red bicycle")

    result = adapter.publish(PublishRequest(text="Hello @friend #bikes", idempotency_key="k", media=[item]))

    [create] = server.requests_to("POST", f"/{USER_ID}/media")
    assert create.param("image_url") == item.public_url
    assert create.param("alt_text") == "a red bicycle"
    assert create.param("caption") == "Hello @friend #bikes"
    assert create.param("media_type") is None and create.param("is_carousel_item") is None
    [container] = server.containers.values()
    polls = server.requests_to("GET", f"/{container['id']}")
    assert len(polls) == 3 and all(p.param("fields") == "status_code,status" for p in polls)
    assert len(adapter.sleeps) == 2  # waited between polls, through the injected sleep
    [publish] = server.requests_to("POST", "/media_publish")
    assert publish.param("creation_id") == container["id"]
    # The quota is read before anything is created; the permalink after publishing.
    assert routes(server)[0] == ("GET", f"/{USER_ID}/content_publishing_limit")
    media = server.media[result.platform_post_id]
    assert media["caption"] == "Hello @friend #bikes" and media["media_type"] == "IMAGE"
    assert result.url == media["permalink"]
    assert result.published_at is not None and result.published_at.tzinfo is not None
    assert server.quota_usage == 1


def test_single_video_is_published_as_a_reel(server, tmp_path):
    adapter = connected(server)
    clip = video(server, tmp_path)
    result = adapter.publish(PublishRequest(text="a reel", idempotency_key="k", media=[clip]))
    [create] = server.requests_to("POST", f"/{USER_ID}/media")
    assert (create.param("media_type"), create.param("video_url")) == ("REELS", clip.public_url)
    assert create.param("alt_text") is None
    assert server.media[result.platform_post_id]["media_product_type"] == "REELS"
    assert "/reel/" in result.url


def test_carousel_children_then_parent_then_publish(server, tmp_path):
    adapter = connected(server)
    items = [image(server, tmp_path, "a.jpg", alt="first"), video(server, tmp_path), image(server, tmp_path, "b.jpg")]

    result = adapter.publish(PublishRequest(text="three things", idempotency_key="k", media=items))

    creates = server.requests_to("POST", f"/{USER_ID}/media")
    children, parent = creates[:3], creates[3]
    assert [c.param("is_carousel_item") for c in children] == ["true"] * 3
    assert [c.param("caption") for c in children] == [None] * 3  # a child's caption is ignored by Instagram
    assert [c.param("alt_text") for c in children] == ["first", None, None]
    assert children[1].param("media_type") == "VIDEO" and children[1].param("video_url") == items[1].public_url
    child_ids = [cid for cid, c in server.containers.items() if c["carousel_item"]]
    assert parent.param("media_type") == "CAROUSEL"
    assert parent.param("children") == ",".join(child_ids)
    assert parent.param("caption") == "three things"
    media = server.media[result.platform_post_id]
    assert media["media_type"] == "CAROUSEL_ALBUM" and media["caption"] == "three things"
    # Every child was seen FINISHED before the parent was created.
    for cid in child_ids:
        assert server.requests_to("GET", f"/{cid}")


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["IN_PROGRESS", "ERROR"], "Media upload has failed with error code 2207026"),
        (["EXPIRED"], "expired"),
    ],
)
def test_container_error_or_expiry_is_rejected_and_nothing_published(server, tmp_path, statuses, expected):
    adapter = connected(server)
    server.set_container_statuses(statuses)
    with pytest.raises(PlatformRejected, match=expected) as err:
        adapter.publish(PublishRequest(text="x", idempotency_key="k", media=[image(server, tmp_path)]))
    assert "photo.jpg" in str(err.value)
    assert server.requests_to("POST", "/media_publish") == []
    assert server.media == {}


def test_container_still_processing_after_the_timeout_is_unavailable(server, tmp_path):
    adapter = connected(server)
    server.set_container_statuses(["IN_PROGRESS"])
    with pytest.raises(PlatformUnavailable, match="still processing"):
        adapter.publish(PublishRequest(text="x", idempotency_key="k", media=[video(server, tmp_path)]))
    assert server.requests_to("POST", "/media_publish") == []


def test_exhausted_quota_is_rate_limited_and_nothing_is_created(server, tmp_path):
    adapter = connected(server)
    server.quota_usage = server.quota_total
    with pytest.raises(PlatformRateLimited, match=f"{server.quota_total} of {server.quota_total}") as err:
        adapter.publish(PublishRequest(text="x", idempotency_key="k", media=[image(server, tmp_path)]))
    assert err.value.exit_code == 5
    assert [r.method for r in server.requests] == ["GET"]
    assert server.containers == {} and server.media == {}


def test_quota_error_at_media_publish_is_rate_limited(server, tmp_path):
    adapter = connected(server)
    server.fail_next(
        "POST",
        f"/{USER_ID}/media_publish",
        json=server.error_body(9, "Application request limit reached", subcode=2207042),
    )
    with pytest.raises(PlatformRateLimited):
        adapter.publish(PublishRequest(text="x", idempotency_key="k", media=[image(server, tmp_path)]))


def test_an_unreadable_quota_does_not_block_publishing(server, tmp_path):
    adapter = connected(server)
    server.fail_next(
        "GET",
        f"/{USER_ID}/content_publishing_limit",
        json=server.error_body(100, "Tried accessing nonexisting field (config)"),
    )
    result = adapter.publish(PublishRequest(text="x", idempotency_key="k", media=[image(server, tmp_path)]))
    assert result.platform_post_id in server.media


def test_media_instagram_cannot_fetch_is_rejected(server, tmp_path):
    adapter = connected(server)
    item = image(server, tmp_path)
    item.public_url = f"{server.url}/files/missing.jpg"
    with pytest.raises(PlatformRejected, match="could not be fetched"):
        adapter.publish(PublishRequest(text="x", idempotency_key="k", media=[item]))


def test_a_failed_permalink_read_does_not_fail_a_published_post(server, tmp_path):
    adapter = connected(server)
    server.fail_next("GET", "/179", status=500)  # media ids start with 179 on the fake
    result = adapter.publish(PublishRequest(text="x", idempotency_key="k", media=[image(server, tmp_path)]))
    assert result.platform_post_id in server.media
    assert result.url is None and result.published_at is not None


def test_a_timeout_names_the_host_and_creates_nothing(server, tmp_path):
    adapter = connected(server, timeout=0.3)
    server.set_delay(2, "GET", f"/{USER_ID}/content_publishing_limit")
    with pytest.raises(PlatformUnavailable) as err:
        adapter.publish(PublishRequest(text="x", idempotency_key="k", media=[image(server, tmp_path)]))
    assert server.host in str(err.value) and "did not answer within 0.3 s" in str(err.value)
    assert server.containers == {}


# -- errors -----------------------------------------------------------------------------------------


def test_an_expired_token_is_auth_failed_without_the_token(server):
    adapter = connected(server)
    server.expire_token()
    with pytest.raises(AuthFailed) as err:
        adapter.fetch_account_metrics()
    assert "Session has expired" in str(err.value)
    assert error_code(err.value) == (190, 463)
    assert server.token not in str(err.value)


def test_a_token_echoed_in_an_error_is_redacted(server):
    adapter = connected(server)
    server.fail_next("GET", "/me", json=server.error_body(190, f"Invalid OAuth access token {server.token}"))
    with pytest.raises(AuthFailed) as err:
        adapter.check_health()
    assert server.token not in str(err.value) and server.token not in repr(err.value.args)
    assert "<redacted>" in str(err.value)


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80002])
def test_rate_limit_codes_carry_retry_after_from_the_usage_header(server, code):
    adapter = connected(server)
    usage = {
        USER_ID: [
            {
                "type": "instagram",
                "call_count": 100,
                "total_cputime": 20,
                "total_time": 30,
                "estimated_time_to_regain_access": 7,
            }
        ]
    }
    server.fail_next(
        "GET",
        "/me",
        json=server.error_body(code, "(#4) Application request limit reached"),
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
    )
    with pytest.raises(PlatformRateLimited) as err:
        adapter.fetch_account_metrics()
    assert err.value.retry_after == 420
    assert server.token not in str(err.value)


# -- metrics -------------------------------------------------------------------------------------------


def test_post_metrics_map_names_and_missing_ones_are_none(server):
    adapter = connected(server)
    media = server.add_media("pic", insights={"views": 900, "reach": 700, "likes": 40, "comments": 3})

    metrics = adapter.fetch_post_metrics([media["id"]])[media["id"]]

    assert (metrics.views, metrics.reach, metrics.likes, metrics.comments) == (900, 700, 40, 3)
    # Not in Instagram's answer (no data yet): None, never 0.
    assert metrics.shares is None and metrics.saves is None
    assert all(getattr(metrics, k) is None for k in ("impressions", "quotes", "clicks", "video_views"))
    assert metrics.raw["insights"] == {"views": 900, "reach": 700, "likes": 40, "comments": 3}
    [call] = server.requests_to("GET", f"/{media['id']}/insights")
    assert call.param("metric") == "views,reach,likes,comments,shares,saved"


def test_saved_maps_to_saves_and_zero_stays_zero(server):
    adapter = connected(server)
    media = server.add_media(
        "pic", insights={"views": 0, "reach": 0, "likes": 0, "comments": 0, "shares": 2, "saved": 5}
    )
    metrics = adapter.fetch_post_metrics([media["id"]])[media["id"]]
    assert (metrics.saves, metrics.shares, metrics.likes) == (5, 2, 0)


def test_deleted_media_is_none_and_the_rest_of_the_batch_is_kept(server):
    adapter = connected(server)
    keep = server.add_media("keep", insights={"reach": 5})
    gone = server.add_media("gone", insights={"reach": 9})
    server.delete_media(gone["id"])

    result = adapter.fetch_post_metrics([gone["id"], keep["id"]])

    assert result[gone["id"]] is None
    assert result[keep["id"]].reach == 5


def test_a_metric_the_media_type_refuses_is_dropped_and_the_others_kept(server):
    adapter = connected(server)
    album = server.add_media(
        "album", media_type="CAROUSEL_ALBUM", insights={"reach": 50, "likes": 7, "comments": 1, "shares": 0, "saved": 2}
    )

    metrics = adapter.fetch_post_metrics([album["id"]])[album["id"]]

    assert metrics.views is None
    assert (metrics.reach, metrics.likes, metrics.comments, metrics.shares, metrics.saves) == (50, 7, 1, 0, 2)
    assert metrics.raw["unsupported"] == ["views"]
    asked = [r.param("metric") for r in server.requests_to("GET", f"/{album['id']}/insights")]
    assert asked == ["views,reach,likes,comments,shares,saved", "reach,likes,comments,shares,saved"]
    assert [r.status for r in server.requests_to("GET", f"/{album['id']}/insights")] == [400, 200]


def test_no_insights_for_a_post_falls_back_to_its_counters(server):
    adapter = connected(server)
    media = server.add_media("quiet", like_count=4, comments_count=2, insights={"reach": 3})
    server.not_enough_viewers.add(media["id"])

    metrics = adapter.fetch_post_metrics([media["id"]])[media["id"]]

    assert (metrics.likes, metrics.comments) == (4, 2)
    assert metrics.reach is None and metrics.views is None
    assert "Not enough viewers" in metrics.raw["insights_error"]


def test_unsupported_metric_names_are_read_from_the_error_text():
    msg = "127.0.0.1: The Media Insights API does not support the profile_visits, follows metric for this media"
    assert unsupported_metrics(msg, ["reach", "follows", "profile_visits"]) == ["follows", "profile_visits"]
    assert unsupported_metrics("(#10) Not enough viewers", ["reach"]) == []


def test_account_metrics_counters_and_day_insights(server):
    adapter = connected(server)
    server.add_media("one")

    metrics = adapter.fetch_account_metrics()

    assert (metrics.followers, metrics.following, metrics.posts_count) == (1200, 80, 1)
    assert (metrics.reach, metrics.profile_views, metrics.impressions) == (321, 12, None)
    assert metrics.raw["insights"]["views"] == 4567
    [call] = server.requests_to("GET", f"/{USER_ID}/insights")
    assert (call.param("period"), call.param("metric_type")) == ("day", "total_value")


def test_account_without_insights_still_has_its_counters(server):
    adapter = connected(server)
    server.fail_next(
        "GET",
        f"/{USER_ID}/insights",
        json=server.error_body(10, "(#10) Application does not have permission for this action"),
    )
    metrics = adapter.fetch_account_metrics()
    assert metrics.followers == 1200
    assert metrics.reach is None and metrics.profile_views is None
    assert "permission" in metrics.raw["insights_error"]


# -- token health -------------------------------------------------------------------------------------


def test_health_refreshes_a_token_near_expiry_and_saves_it_at_once(server):
    saved = []
    adapter = connected(server, save_secrets=saved.append)
    adapter.ctx.token_expires_at = datetime.now(timezone.utc) + timedelta(days=3)

    result = adapter.check_health()

    [refresh] = server.requests_to("GET", "/refresh_access_token")
    assert refresh.version is None  # the endpoint is not versioned
    assert (refresh.param("grant_type"), refresh.param("access_token")) == ("ig_refresh_token", server.token)
    new = saved[-1]["access_token"]
    assert new != server.token and new in server.valid_tokens
    assert saved[-1]["token_expires_estimated"] is False
    expected = datetime.now(timezone.utc) + timedelta(seconds=server.refresh_expires_in)
    assert abs((result.token_expires_at - expected).total_seconds()) < 60
    assert result.ok
    # The identity call after it uses the new token.
    assert server.requests_to("GET", "/me")[-1].param("access_token") == new


def test_health_refreshes_an_already_expired_date_when_the_platform_still_accepts(server):
    adapter = connected(server)
    adapter.ctx.token_expires_at = datetime.now(timezone.utc) - timedelta(hours=1)
    assert adapter.check_health().token_expires_at > datetime.now(timezone.utc) + timedelta(days=50)


def test_a_failed_refresh_is_auth_failed(server):
    adapter = connected(server)
    adapter.ctx.token_expires_at = datetime.now(timezone.utc) + timedelta(days=2)
    server.refused_refresh = True
    with pytest.raises(AuthFailed) as err:
        adapter.check_health()
    assert server.token not in str(err.value)


def test_a_refresh_answer_that_is_not_a_token_is_auth_failed_near_expiry(server):
    adapter = connected(server)
    adapter.ctx.token_expires_at = datetime.now(timezone.utc) + timedelta(days=2)
    server.fail_next("GET", "/refresh_access_token", json=server.error_body(100, "Invalid parameter"))
    with pytest.raises(AuthFailed, match="refused to refresh"):
        adapter.check_health()


def test_health_far_from_expiry_does_not_refresh(server):
    adapter = connected(server)  # just connected: estimated expiry, token younger than 24 h
    assert adapter.check_health().ok
    assert server.requests_to("GET", "/refresh_access_token") == []
    assert [r.path for r in server.requests] == ["/me"]


def test_an_estimated_expiry_is_replaced_by_the_real_one_after_24_hours(server):
    saved = []
    adapter = connected(server, save_secrets=saved.append)
    two_days_ago = (datetime.now(timezone.utc) - timedelta(days=2)).isoformat()
    adapter.ctx.secrets["token_obtained_at"] = two_days_ago

    result = adapter.check_health()

    assert len(server.requests_to("GET", "/refresh_access_token")) == 1
    assert saved[-1]["token_expires_estimated"] is False
    assert "token_expiry" not in adapter.ctx.settings
    assert result.token_expires_at is not None


def test_a_reported_expiry_far_away_is_left_alone(server):
    adapter = connected(server)
    adapter.ctx.secrets.update(
        token_expires_estimated=False, token_obtained_at=(datetime.now(timezone.utc) - timedelta(days=9)).isoformat()
    )
    adapter.ctx.token_expires_at = datetime.now(timezone.utc) + timedelta(days=40)
    adapter.check_health()
    assert server.requests_to("GET", "/refresh_access_token") == []


# -- reconciliation, delete, import -----------------------------------------------------------------------


def test_find_published_matches_the_caption_since_the_first_attempt(server, tmp_path):
    adapter = connected(server)
    three_hours_ago = datetime.now(timezone.utc) - timedelta(hours=3)
    server.add_media("Launch day @team", timestamp=three_hours_ago)  # older than the attempt
    published = adapter.publish(
        PublishRequest(text="Launch day @team", idempotency_key="k", media=[image(server, tmp_path)])
    )
    server.add_media("something else")
    # The API may hand the caption back without the "@".
    server.media[published.platform_post_id]["caption"] = "Launch day team"
    first = datetime.now(timezone.utc) - timedelta(minutes=2)

    found = adapter.find_published(
        PublishRequest(
            text="Launch day @team", idempotency_key="k", media=[image(server, tmp_path)], first_attempt_at=first
        )
    )

    assert found is not None and found.platform_post_id == published.platform_post_id
    assert found.url == server.media[published.platform_post_id]["permalink"]
    listing = server.requests_to("GET", f"/{USER_ID}/media")
    assert listing and "caption" in listing[0].param("fields")
    # Another text, or a video where an image was published: not ours.
    assert (
        adapter.find_published(
            PublishRequest(
                text="Launch night", idempotency_key="k", media=[image(server, tmp_path)], first_attempt_at=first
            )
        )
        is None
    )
    assert (
        adapter.find_published(
            PublishRequest(
                text="Launch day @team", idempotency_key="k", media=[video(server, tmp_path)], first_attempt_at=first
            )
        )
        is None
    )


def test_find_published_ignores_posts_before_the_first_attempt(server, tmp_path):
    adapter = connected(server)
    server.add_media("same words", timestamp=datetime.now(timezone.utc) - timedelta(hours=3))
    req = PublishRequest(
        text="same words",
        idempotency_key="k",
        media=[image(server, tmp_path)],
        first_attempt_at=datetime.now(timezone.utc) - timedelta(hours=2),
    )
    assert adapter.find_published(req) is None


def test_find_published_without_an_attempt_time_looks_back_24_hours(server, tmp_path):
    adapter = connected(server)
    server.add_media("again", timestamp=datetime.now(timezone.utc) - timedelta(days=2))
    req = PublishRequest(text="again", idempotency_key="k", media=[image(server, tmp_path)])
    assert adapter.find_published(req) is None
    recent = server.add_media("again", timestamp=datetime.now(timezone.utc) - timedelta(hours=1))
    assert adapter.find_published(req).platform_post_id == recent["id"]


def test_find_published_pages_through_recent_posts(server, tmp_path):
    adapter = connected(server)
    target = server.add_media("needle", timestamp=datetime.now(timezone.utc) - timedelta(minutes=30))
    for i in range(60):
        server.add_media(f"hay {i}")
    req = PublishRequest(
        text="needle",
        idempotency_key="k",
        media=[image(server, tmp_path)],
        first_attempt_at=datetime.now(timezone.utc) - timedelta(hours=1),
    )
    assert adapter.find_published(req).platform_post_id == target["id"]
    pages = server.requests_to("GET", f"/{USER_ID}/media")
    assert [p.param("after") for p in pages] == [None, "50"]


def test_delete_is_refused_and_a_deleted_post_is_fine(server):
    adapter = connected(server)
    media = server.add_media("stays")
    with pytest.raises(PlatformRejected, match="does not allow deleting posts.*Instagram app"):
        adapter.delete(media["id"])
    assert server.requests_to("DELETE") == []
    server.delete_media(media["id"])
    adapter.delete(media["id"])  # already gone: not an error
    assert server.requests_to("DELETE") == []


def test_resolve_post_by_link_or_id(server):
    adapter = connected(server)
    when = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1)
    post = server.add_media("made in the app", timestamp=when)
    reel = server.add_media("a reel", media_type="VIDEO")

    for ref in (post["permalink"], f"instagram.com/p/{post['shortcode']}/?igsh=abc", post["id"]):
        found = adapter.resolve_post(ref)
        assert (found.platform_post_id, found.url, found.text) == (post["id"], post["permalink"], "made in the app")
        assert found.published_at == when
    assert adapter.resolve_post(f"https://www.instagram.com/reel/{reel['shortcode']}/").platform_post_id == reel["id"]

    with pytest.raises(RemoteNotFound, match="500 newest"):
        adapter.resolve_post("https://www.instagram.com/p/NOPE123/")
    with pytest.raises(RemoteNotFound):
        adapter.resolve_post("https://example.com/p/abc/")
    with pytest.raises(RemoteNotFound):
        adapter.resolve_post("17999999999999999")


def test_module_imports_without_httpx():
    code = "import sys, postcli.platforms.instagram.adapter; assert 'httpx' not in sys.modules"
    src = str(Path(__file__).resolve().parents[1] / "src")
    subprocess.run([sys.executable, "-c", code], check=True, env={"PYTHONPATH": src})


# -- end to end through the CLI -------------------------------------------------------------------------


def test_cli_connect_import_and_collect(cli, home, server):
    from support.accounts import db, write_config

    write_config(home)
    post = server.add_media(
        "From the app",
        timestamp=datetime.now(timezone.utc) - timedelta(hours=3),
        insights={"views": 1500, "reach": 1000, "likes": 80, "comments": 6, "saved": 9},
    )

    added = cli.json(
        "accounts", "add", "instagram", "--api-base", server.url, "--token-stdin", input=server.token + "\n"
    )
    assert (added["platform"], added["handle"], added["external_id"]) == ("instagram", server.username, USER_ID)
    assert added["token_expires_at"] is not None
    imported = cli.json("post", "import", post["permalink"], "--account", str(added["id"]))
    assert imported["targets"][0]["platform_post_id"] == post["id"]
    assert imported["text"] == "From the app"
    server.reset_log()

    out = cli.json("collect")

    assert (out["fetched"], out["accounts"], out["failed"]) == (1, 1, 0)
    row = db(home).execute("select * from post_metric_snapshots").fetchone()
    assert (row["views"], row["reach"], row["likes"], row["comments"], row["saves"]) == (1500, 1000, 80, 6, 9)
    assert row["shares"] is None and row["impressions"] is None  # not reported, not 0
    assert row["follower_count"] == 1200
    acc = db(home).execute("select followers, reach, profile_views from account_metric_snapshots").fetchone()
    assert tuple(acc) == (1200, 321, 12)
    assert server.requests_to("GET", f"/{post['id']}/insights")
    assert {r.param("access_token") for r in server.requests} == {server.token}
    # The token never shows up in what the CLI printed or stored outside the credential store.
    listed = cli("accounts", "show", str(added["id"]), "--json")
    assert server.token not in listed.stdout


def test_a_refused_optional_refresh_leaves_a_working_token_alone(server):
    """Issue 21: the refresh that only learns an estimated expiry is optional; when Instagram
    refuses it (190 here) the identity call decides, as for Threads and Facebook."""
    adapter = connected(server)
    adapter.ctx.secrets["token_obtained_at"] = (datetime.now(timezone.utc) - timedelta(days=2)).isoformat()
    estimate = adapter.ctx.token_expires_at
    server.refused_refresh = True
    result = adapter.check_health()
    assert result.ok and result.token_expires_at == estimate
    assert [r.path for r in server.requests if r.path != "/me"] == ["/refresh_access_token"]
    assert server.requests[-1].path == "/me"
