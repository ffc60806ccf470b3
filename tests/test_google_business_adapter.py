"""The real Google Business Profile adapter against the fake Business Profile APIs over loopback.

Nothing in the adapter is patched: it talks HTTP to tests/fakes/google_business_server.py, and
the tests assert on what the fake received and what the adapter returned.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from fakes.google_business_server import ACCESS_TOKEN, CLIENT_SECRET, REFRESH_TOKEN, FakeGoogleBusiness
from postcli.errors import InvalidInput
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
from postcli.platforms.google_business import performance, rules
from postcli.platforms.google_business.adapter import GoogleBusinessAdapter

LOCAL_POSTS = "/v4/accounts/"


@pytest.fixture
def server():
    with FakeGoogleBusiness() as s:
        yield s


def adapter(server: FakeGoogleBusiness, **overrides) -> GoogleBusinessAdapter:
    """An adapter for an account connected earlier (tokens and location already stored)."""
    return GoogleBusinessAdapter(server.account_context(**overrides))


def fresh(server: FakeGoogleBusiness, **settings) -> GoogleBusinessAdapter:
    """An adapter as `accounts add` builds it before connect: tokens, client id, nothing else."""
    return adapter(server, settings={"client_id": server.account_context().settings["client_id"], **settings})


def req(text: str = "Fresh croissants all day", **kw) -> PublishRequest:
    fields = {"type": "STANDARD", **kw.pop("fields", {})}
    return PublishRequest(text=text, idempotency_key="k1", fields=fields, **kw)


def image(tmp_path: Path, url: str | None = "https://bucket.example/p.jpg?sig=x") -> MediaItem:
    path = tmp_path / "p.jpg"
    path.write_bytes(b"\xff\xd8\xff" + b"0" * 100)
    return MediaItem(path=path, mime_type="image/jpeg", size_bytes=103, public_url=url)


def creates(server: FakeGoogleBusiness):
    return [r for r in server.requests_to("POST", LOCAL_POSTS) if r.path.endswith("/localPosts")]


def no_secret(text: str) -> None:
    for secret in (ACCESS_TOKEN, REFRESH_TOKEN, CLIENT_SECRET):
        assert secret not in text


# -- connect ----------------------------------------------------------------------------------------


def test_connect_refreshes_once_lists_the_locations_and_keeps_the_only_one(server):
    a = fresh(server)
    info = a.connect(None, ACCESS_TOKEN)
    loc = server.location
    assert info.external_id == loc["name"].split("/")[1] and info.handle == loc["title"]
    assert a.ctx.settings["location_parent"] == server.parent and a.ctx.settings["location_name"] == loc["name"]
    assert a.ctx.settings["app_status"] == "testing" and a.ctx.settings_changed
    # An app in Testing: the sign-in ends 7 days after the refresh token was issued.
    assert info.token_expires_at is not None
    assert timedelta(days=6, hours=23) < info.token_expires_at - datetime.now(timezone.utc) <= timedelta(days=7)
    assert server.count("POST /token refresh") == 1
    # accounts.list, then the account's locations.list with the required readMask.
    (listing,) = server.requests_to("GET", "/v1/accounts/")
    assert listing.param("readMask") == "name,title,storeCode,metadata"
    # The refreshed token is the one kept.
    assert a.ctx.secrets["access_token"] != ACCESS_TOKEN and a.ctx.secrets["refresh_token"] == REFRESH_TOKEN


def test_connect_with_several_locations_picks_the_named_one_or_lists_them(server):
    second = server.add_location("Alice Bakery Harbour", store_code="S9")
    with pytest.raises(PlatformRejected) as err:
        fresh(server).connect(None, ACCESS_TOKEN)
    assert "several locations" in str(err.value) and "Alice Bakery Harbour" in str(err.value)
    assert "--location" in (err.value.hint or "") and err.value.exit_code == 2
    location_id = second["name"].split("/")[1]
    for wanted in (
        location_id,
        second["name"],
        f"{server.accounts[0]['name']}/{second['name']}",
        "alice bakery HARBOUR",
    ):
        info = fresh(server).connect(wanted, ACCESS_TOKEN)
        assert info.external_id == location_id
    with pytest.raises(PlatformRejected) as err:
        fresh(server).connect("123", ACCESS_TOKEN)
    assert "no location is named '123'" in str(err.value)


def test_connect_with_a_refresh_token_but_no_client_id_sends_nothing(server):
    a = adapter(server, settings={})
    with pytest.raises(PlatformRejected) as err:
        a.connect(None, ACCESS_TOKEN)
    assert "--client-id" in str(err.value) and server.requests == []


def test_connect_with_a_bad_token_is_auth_failed_without_the_token(server):
    a = adapter(server, secrets={}, settings={})
    with pytest.raises(AuthFailed) as err:
        a.connect(None, "ya29.not-a-valid-token-for-sure")
    assert "ya29.not-a-valid" not in str(err.value) + (err.value.hint or "")
    assert "accounts login google-business" in (err.value.hint or "")


def test_a_production_app_has_no_sign_in_end(server):
    info = fresh(server, app_status="production").connect(None, ACCESS_TOKEN)
    assert info.token_expires_at is None


# -- limits and checks ------------------------------------------------------------------------------


def test_limits_and_text_length(server):
    limits = adapter(server).limits()
    assert (limits.max_text, limits.max_images, limits.max_videos) == (1500, 1, 0)
    assert limits.needs_public_media_url and limits.mime_types == ("image/jpeg", "image/png")
    assert adapter(server).text_length("café ☕") == 6
    assert GoogleBusinessAdapter.has_metrics is False and GoogleBusinessAdapter.reconciles_by_recent_posts


@pytest.mark.parametrize(
    ("link", "fields", "says"),
    [
        ("https://bakery.example/call", {"cta": "CALL"}, "takes no link"),
        (None, {"cta": "BOOK"}, "BOOK button needs a link"),
        (
            "https://bakery.example",
            {"type": "OFFER", "cta": "SHOP", **dict.fromkeys(rules.EVENT_KEYS, "2030-01-01")},
            "no button",
        ),
        (None, {"type": "EVENT", "event_title": "Tasting"}, "event_start, google-business.event_end"),
        (None, {"event_title": "Tasting"}, "is for EVENT or OFFER posts"),
        (None, {"type": "EVENT", "event_title": "T", "event_start": "2030-01-02", "event_end": "2030-01-01"}, "before"),
        (
            None,
            {"type": "EVENT", "event_title": "T", "event_start": "2030-13-01", "event_end": "2030-12-01"},
            "not a date",
        ),
        (None, {"type": "EVENT", "coupon": "X", **dict.fromkeys(rules.EVENT_KEYS, "2030-01-01")}, "for OFFER posts"),
    ],
)
def test_posts_google_would_refuse_are_rejected_before_anything_is_sent(server, link, fields, says):
    with pytest.raises(InvalidInput) as spec_check:
        rules.check_post(None, link, {"type": "STANDARD", **fields})
    assert says in spec_check.value.message
    with pytest.raises(PlatformRejected) as err:
        adapter(server).publish(req(link=link, fields=fields))
    assert says in str(err.value) and err.value.exit_code == 2
    assert server.requests == []


def test_an_image_needs_a_public_url_and_a_video_is_refused(server, tmp_path):
    with pytest.raises(PlatformRejected) as err:
        adapter(server).publish(req(media=[image(tmp_path, url=None)]))
    assert "S3" in str(err.value)
    video = MediaItem(path=tmp_path / "v.mp4", mime_type="video/mp4", size_bytes=10, public_url="https://x/v.mp4")
    with pytest.raises(PlatformRejected):
        adapter(server).publish(req(media=[video]))
    assert server.requests == []


# -- publishing -------------------------------------------------------------------------------------


def test_publish_text_sends_a_standard_local_post_and_returns_its_name_and_search_url(server):
    result = adapter(server).publish(req())
    (sent,) = creates(server)
    assert sent.path == f"/v4/{server.parent}/localPosts"
    assert sent.json == {"topicType": "STANDARD", "summary": "Fresh croissants all day"}
    (post,) = server.all_posts()
    assert result.platform_post_id == post["name"] and result.url == post["searchUrl"]
    assert result.published_at is not None and abs(result.published_at - datetime.now(timezone.utc)) < timedelta(
        minutes=1
    )


def test_publish_with_buttons(server):
    a = adapter(server)
    a.publish(req(link="https://bakery.example/order", fields={"cta": "ORDER"}))
    a.publish(req("call us", fields={"cta": "CALL"}))
    a.publish(req("read more", link="https://bakery.example/news"))
    order, call, learn = (r.json["callToAction"] for r in creates(server))
    assert order == {"actionType": "ORDER", "url": "https://bakery.example/order"}
    assert call == {"actionType": "CALL"}  # "should be left unset" for CALL
    assert learn == {"actionType": "LEARN_MORE", "url": "https://bakery.example/news"}


def test_publish_an_event_and_an_offer(server):
    a = adapter(server)
    event = {"type": "EVENT", "event_title": "Halloween Spook-tacular!", "event_start": "2030-10-31 09:00"}
    a.publish(req("Come in for our spooky Halloween event!", fields={**event, "event_end": "2030-10-31 17:30"}))
    offer = {"type": "OFFER", "event_title": "BOGO", "event_start": "2030-11-01", "event_end": "2030-11-30"}
    a.publish(
        req(
            "Buy one, get one",
            link="https://bakery.example/redeem",
            fields={**offer, "coupon": "BOGO-JET-CODE", "terms": "One per visit"},
        )
    )
    ev, of = (r.json for r in creates(server))
    assert ev["topicType"] == "EVENT" and "callToAction" not in ev
    assert ev["event"] == {
        "title": "Halloween Spook-tacular!",
        "schedule": {
            "startDate": {"year": 2030, "month": 10, "day": 31},
            "startTime": {"hours": 9, "minutes": 0, "seconds": 0, "nanos": 0},
            "endDate": {"year": 2030, "month": 10, "day": 31},
            "endTime": {"hours": 17, "minutes": 30, "seconds": 0, "nanos": 0},
        },
    }
    assert of["topicType"] == "OFFER" and "callToAction" not in of
    assert of["event"]["schedule"] == {
        "startDate": {"year": 2030, "month": 11, "day": 1},
        "endDate": {"year": 2030, "month": 11, "day": 30},
    }
    assert of["offer"] == {
        "couponCode": "BOGO-JET-CODE",
        "redeemOnlineUrl": "https://bakery.example/redeem",
        "termsConditions": "One per visit",
    }


def test_publish_an_image_by_its_public_url(server, tmp_path):
    adapter(server).publish(req(media=[image(tmp_path)]))
    (sent,) = creates(server)
    assert sent.json["media"] == [{"mediaFormat": "PHOTO", "sourceUrl": "https://bucket.example/p.jpg?sig=x"}]


def test_a_post_google_rejects_is_a_failure_with_the_reason(server):
    server.reject_next_post = True
    with pytest.raises(PlatformRejected) as err:
        adapter(server).publish(req("call 555-0100"))
    assert "REJECTED" in str(err.value) and "phone number" in str(err.value)


def test_a_field_violation_is_rejected_with_googles_detail(server):
    server.fail_next(
        "POST",
        LOCAL_POSTS,
        400,
        json={
            "error": {
                "code": 400,
                "message": "Request contains an invalid argument.",
                "status": "INVALID_ARGUMENT",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.rpc.BadRequest",
                        "fieldViolations": [{"field": "local_post.summary", "description": "Summary too long"}],
                    }
                ],
            }
        },
    )
    with pytest.raises(PlatformRejected) as err:
        adapter(server).publish(req())
    assert "local_post.summary: Summary too long" in str(err.value)


# -- reconciling a lost answer ----------------------------------------------------------------------


def test_a_lost_answer_is_found_among_recent_posts_so_a_retry_makes_one_post(server):
    a = adapter(server, timeout=0.5)
    server.lose_next_answer(5.0)
    first = req("Only once, please")
    first.first_attempt_at = datetime.now(timezone.utc)
    with pytest.raises(PlatformUnavailable) as err:
        a.publish(first)
    assert "did not answer" in str(err.value) and server.host in str(err.value)
    server.add_location("unrelated")  # noise: the listing is the location's own
    found = adapter(server).find_published(first)
    (post,) = server.all_posts()
    assert found is not None and found.platform_post_id == post["name"] and found.url == post["searchUrl"]
    assert len(creates(server)) == 1


def test_find_published_reads_every_page_and_ignores_other_posts(server):
    a = adapter(server)
    for n in range(3):
        a.publish(req(f"other post {n}"))
    asked = req("the one")
    asked.first_attempt_at = datetime.now(timezone.utc) - timedelta(minutes=1)
    assert a.find_published(asked) is None  # not there: safe to send
    a.publish(asked)
    (mine,) = [p for p in server.all_posts() if p["summary"] == "the one"]
    assert a.find_published(asked).platform_post_id == mine["name"]  # listed last (oldest first)
    # An EVENT with the same text is not our STANDARD post; a post from before the attempt neither.
    assert a.find_published(req("the one", fields={"type": "EVENT"})) is None
    late = req("the one")
    late.first_attempt_at = datetime.now(timezone.utc) + timedelta(hours=1)
    assert a.find_published(late) is None


# -- deleting ---------------------------------------------------------------------------------------


def test_delete_and_delete_again(server):
    a = adapter(server)
    result = a.publish(req())
    a.delete(result.platform_post_id)
    assert server.all_posts() == []
    a.delete(result.platform_post_id)  # already gone: not an error
    deletes = server.requests_to("DELETE", LOCAL_POSTS)
    assert [d.status for d in deletes] == [200, 404]


# -- metrics ----------------------------------------------------------------------------------------


def test_posts_have_no_metrics_and_asking_sends_nothing(server):
    with pytest.raises(PlatformRejected):
        adapter(server).fetch_post_metrics(["accounts/1/locations/2/localPosts/3"])
    assert server.requests == []


def test_account_metrics_sum_the_location_views_and_keep_calls_and_clicks_in_raw(server):
    start, end = performance.window(datetime.now(timezone.utc).date())
    server.set_daily("BUSINESS_IMPRESSIONS_MOBILE_SEARCH", {end: 30, start: 5, end + timedelta(days=1): 999})
    server.set_daily("BUSINESS_IMPRESSIONS_MOBILE_MAPS", {end: 7})
    server.set_daily("BUSINESS_IMPRESSIONS_DESKTOP_SEARCH", {end - timedelta(days=3): 2})
    server.set_daily("CALL_CLICKS", {end: 4})
    m = adapter(server).fetch_account_metrics()
    assert m.profile_views == 44  # 35 search + 7 maps + 2 search; a day outside the window is not counted
    assert (m.followers, m.following, m.posts_count, m.impressions, m.reach) == (None,) * 5
    assert (m.raw["views_search"], m.raw["views_maps"], m.raw["calls"]) == (37, 7, 4)
    # Days without a value are zero, as documented: website clicks were 0 every day.
    assert m.raw["website_clicks"] == 0 and m.raw["direction_requests"] == 0
    assert m.raw["window"] == {"start": start.isoformat(), "end": end.isoformat()}
    (call,) = server.requests_to("GET", "/v1/locations/")
    assert call.path == f"/v1/{server.location['name']}:fetchMultiDailyMetricsTimeSeries"
    assert call.query["dailyMetrics"] == list(performance.DAILY_METRICS)
    assert call.param("dailyRange.endDate.day") == str(end.day)


def test_a_metric_google_leaves_out_is_none_not_zero(server):
    server.drop_metric("CALL_CLICKS")
    server.drop_metric("BUSINESS_IMPRESSIONS_DESKTOP_MAPS")
    m = adapter(server).fetch_account_metrics()
    assert m.raw["calls"] is None and m.raw["views_maps"] is None and m.profile_views is None
    assert m.raw["views_search"] == 0 and m.raw["website_clicks"] == 0


def test_totals_of_an_answer_without_dated_values_are_none():
    body = {
        "multiDailyMetricTimeSeries": [{"dailyMetricTimeSeries": [{"dailyMetric": "CALL_CLICKS", "timeSeries": {}}]}]
    }
    assert performance.totals(body)["CALL_CLICKS"] is None
    assert performance.totals({})["WEBSITE_CLICKS"] is None
    assert date(2030, 1, 1) - timedelta(days=27) == performance.window(date(2030, 1, 2))[0]


# -- tokens, quotas and failures ---------------------------------------------------------------------


def test_401_refreshes_once_and_retries_saving_the_new_token(server):
    saved = []
    a = adapter(server, save_secrets=saved.append)
    server.expire_access_tokens()
    a.publish(req())
    assert server.count("POST /token refresh") == 1 and len(server.all_posts()) == 1
    assert saved and saved[-1]["access_token"] in server.access_tokens
    assert saved[-1]["refresh_token"] == REFRESH_TOKEN  # Google's refresh tokens do not rotate


def test_a_revoked_sign_in_is_auth_failed_naming_the_testing_limit_without_secrets(server):
    a = adapter(server, settings={**server.account_context().settings, "app_status": "testing"})
    server.revoke()
    with pytest.raises(AuthFailed) as err:
        a.publish(req())
    text = str(err.value) + (err.value.hint or "")
    assert "accounts login google-business" in text and "Testing" in text and err.value.exit_code == 6
    no_secret(text)
    assert server.all_posts() == []


def test_a_quota_of_zero_says_the_project_has_no_api_access_yet(server):
    server.quota_zero = True
    with pytest.raises(PlatformRateLimited) as err:
        adapter(server).publish(req())
    assert "quota of 0" in str(err.value) and "not approved" in str(err.value)
    assert "support.google.com/business/contact/api_default" in (err.value.hint or "")
    assert err.value.retry_after == 86_400 and err.value.exit_code == 5
    with pytest.raises(PlatformRateLimited) as err:
        adapter(server).fetch_account_metrics()
    assert "quota of 0" in str(err.value)


def test_an_ordinary_429_waits_as_told_and_mentions_the_quota_of_zero(server):
    server.fail_next("POST", LOCAL_POSTS, 429, headers={"Retry-After": "17"})
    with pytest.raises(PlatformRateLimited) as err:
        adapter(server).publish(req())
    assert err.value.retry_after == 17 and "quota of 0" in (err.value.hint or "")


def test_an_api_not_enabled_in_the_project_says_which_to_enable(server):
    body = {
        "error": {
            "code": 403,
            "message": "My Business Account Management API has not been used in project 123 before or it is disabled.",
            "status": "PERMISSION_DENIED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "SERVICE_DISABLED",
                    "domain": "googleapis.com",
                    "metadata": {"service": "mybusinessaccountmanagement.googleapis.com", "consumer": "projects/123"},
                }
            ],
        }
    }
    server.fail_next("GET", "/v1/accounts", 403, json=body)
    with pytest.raises(PlatformRejected) as err:
        fresh(server).connect(None, ACCESS_TOKEN)
    assert "mybusinessaccountmanagement.googleapis.com is not enabled" in str(err.value)
    assert "console.cloud.google.com/apis/library/mybusinessaccountmanagement.googleapis.com" in (err.value.hint or "")


def test_server_error_timeout_unreachable_and_non_json(server):
    server.fail_next("POST", LOCAL_POSTS, 503)
    with pytest.raises(PlatformUnavailable) as err:
        adapter(server).publish(req())
    assert server.host in str(err.value) and "503" in str(err.value)
    server.set_delay(1.0, "GET", "/v1/locations/", times=1)
    with pytest.raises(PlatformUnavailable) as err:
        adapter(server, timeout=0.2).check_health()
    assert server.host in str(err.value) and "did not answer" in str(err.value)
    with pytest.raises(PlatformUnavailable) as err:
        GoogleBusinessAdapter(server.account_context(api_base_url="http://127.0.0.1:9")).check_health()
    assert "127.0.0.1:9" in str(err.value)
    # (A path only this call has: the delayed request above may still be waiting in the fake.)
    server.fail_next("GET", f"/v1/{server.location['name']}:", 200, raw="<html>proxy</html>")
    with pytest.raises(MalformedResponse):
        adapter(server).fetch_account_metrics()


# -- health and import ------------------------------------------------------------------------------


def test_check_health_reads_the_location_and_warns_before_the_sign_in_ends(server):
    ends = datetime.now(timezone.utc) + timedelta(days=1)
    settings = {**server.account_context().settings, "refresh_expires_at": ends.isoformat()}
    health = adapter(server, settings=settings).check_health()
    assert health.ok and health.token_expires_at == ends
    assert "ends at" in (health.message or "") and "Testing" in (health.message or "")
    (read,) = server.requests_to("GET", "/v1/locations/")
    assert read.path == f"/v1/{server.location['name']}" and read.param("readMask") == "name,title"
    assert adapter(server).check_health().message is None


def test_resolve_post_by_name_and_by_id(server):
    a = adapter(server)
    made = a.publish(req("imported later"))
    by_name = a.resolve_post(made.platform_post_id)
    by_id = a.resolve_post(made.platform_post_id.rsplit("/", 1)[-1])
    assert by_name.platform_post_id == by_id.platform_post_id == made.platform_post_id
    assert by_name.text == "imported later" and by_name.author == a.ctx.external_id
    for foreign in ("accounts/9/locations/9/localPosts/1", "https://local.google.com/place?id=1", "x/y"):
        with pytest.raises(RemoteNotFound):
            a.resolve_post(foreign)
    with pytest.raises(RemoteNotFound):
        a.resolve_post("4242")


def test_module_imports_without_httpx():
    code = (
        "import sys, postcli.platforms.google_business.adapter, postcli.platforms.google_business.signin; "
        "assert 'httpx' not in sys.modules, 'httpx imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
