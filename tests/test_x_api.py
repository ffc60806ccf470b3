"""The X adapter's plumbing against the fake X API: refreshing rotating tokens, 401s, 403
client-forbidden, 429 with x-rate-limit-reset, the usage cap, spent windows, timeouts and
answers it cannot read."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from fakes.x_server import ACCESS_TOKEN, CLIENT_FORBIDDEN, REFRESH_TOKEN, TOO_MANY, USAGE_CAPPED, FakeX
from postcli.platforms.base import (
    AuthFailed,
    MalformedResponse,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
    PublishRequest,
)
from postcli.platforms.x.adapter import XAdapter


@pytest.fixture
def server():
    with FakeX() as s:
        yield s


def adapter(server: FakeX, **overrides) -> XAdapter:
    return XAdapter(server.account_context(**overrides))


def soon(minutes: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(minutes=minutes)).isoformat()


def secrets_of(server: FakeX, **extra):
    return {
        "access_token": server.access_token,
        "refresh_token": server.refresh_token,
        "client_secret": server.client_secret,
        **extra,
    }


# -- tokens ---------------------------------------------------------------------------------------


def test_a_401_refreshes_once_saves_the_rotated_pair_and_retries(server):
    saved = []
    a = adapter(server, save_secrets=saved.append)
    post_id = server.add_post("hello", like_count=2)
    server.expire_access_token()
    assert a.fetch_post_metrics([post_id])[post_id].likes == 2
    refused, token, retried = server.requests
    assert (refused.status, token.path, retried.status) == (401, "/2/oauth2/token", 200)
    access, refresh = server.issued_tokens[-1]
    assert retried.bearer == access
    assert (saved[-1]["access_token"], saved[-1]["refresh_token"]) == (access, refresh)
    assert a.ctx.token_expires_at is not None


def test_a_401_while_publishing_refreshes_and_posts_once(server):
    a = adapter(server)
    server.expire_access_token()
    a.publish(PublishRequest(text="once", idempotency_key="k"))
    assert len(server.posts) == 1
    assert [r.status for r in server.requests_to("POST", "/2/tweets")] == [401, 201]


def test_a_token_near_its_end_is_refreshed_before_the_call(server):
    a = adapter(server, secrets=secrets_of(server, expires_at=soon(5)))
    a.fetch_account_metrics()
    assert [r.path for r in server.requests] == ["/2/oauth2/token", "/2/users/me"]
    far = adapter(server, secrets=secrets_of(server, expires_at=soon(100)))
    server.reset_log()
    far.fetch_account_metrics()
    assert [r.path for r in server.requests] == ["/2/users/me"]


def test_a_second_401_after_refreshing_is_auth_failed_without_any_secret(server):
    server.fail_next(
        "GET",
        "/2/users/me",
        401,
        json={"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
        times=2,
    )
    a = adapter(server)
    with pytest.raises(AuthFailed) as caught:
        a.fetch_account_metrics()
    text = str(caught.value) + caught.value.hint
    assert "postcli accounts login x" in caught.value.hint
    for secret in (ACCESS_TOKEN, REFRESH_TOKEN, server.client_secret, *server.issued_tokens[-1]):
        assert secret not in text


def test_a_401_without_a_refresh_token_says_how_to_get_one(server):
    a = adapter(server, secrets={"access_token": "stale-token-123456"})
    with pytest.raises(AuthFailed) as caught:
        a.fetch_account_metrics()
    assert "stale-token-123456" not in str(caught.value)
    assert "offline.access" in caught.value.hint
    assert [r.path for r in server.requests] == ["/2/users/me"]


def test_a_revoked_refresh_token_is_auth_failed(server):
    server.revoke()
    a = adapter(server, secrets=secrets_of(server, refresh_token="spent-refresh-token-1234"))
    server.access_token = "something-else"
    with pytest.raises(AuthFailed, match="Value passed for the token was invalid") as caught:
        a.fetch_account_metrics()
    assert "spent-refresh-token-1234" not in str(caught.value) + caught.value.hint


def test_a_pair_another_process_rotated_is_taken_instead_of_spending_the_old_one(server):
    a = adapter(server, secrets=secrets_of(server, expires_at=soon(1)))
    other = adapter(server, secrets=secrets_of(server, expires_at=soon(1)))
    other._refresh(rejected=None)  # the other process refreshed and stored the new pair
    stored = dict(other.ctx.secrets)
    a.ctx.load_secrets = lambda: dict(stored)
    server.reset_log()
    a.fetch_account_metrics()
    assert [r.path for r in server.requests] == ["/2/users/me"]
    assert server.requests[0].bearer == stored["access_token"]


def test_concurrent_401s_refresh_only_once(server):
    a = adapter(server)
    ids = [server.add_post(f"p{i}") for i in range(4)]
    server.expire_access_token()
    errors = []

    def fetch(i: str) -> None:
        try:
            a.fetch_post_metrics([i])
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=fetch, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(server.requests_to("POST", "/2/oauth2/token")) == 1


def test_check_health_refreshes_near_the_end_and_reports_the_expiry(server):
    a = adapter(server, secrets=secrets_of(server, expires_at=soon(5)))
    result = a.check_health()
    assert result.ok and result.message is None
    assert result.token_expires_at > datetime.now(timezone.utc) + timedelta(minutes=100)
    no_refresh = adapter(server, secrets={"access_token": server.access_token})
    assert "cannot be refreshed" in no_refresh.check_health().message


# -- errors ---------------------------------------------------------------------------------------


def test_client_forbidden_names_the_access_level_and_is_not_a_reconnect(server):
    server.fail_next("GET", "/2/tweets", 403, json=CLIENT_FORBIDDEN)
    with pytest.raises(PlatformRejected) as caught:
        adapter(server).fetch_post_metrics([server.add_post("x")])
    assert not isinstance(caught.value, AuthFailed)
    assert "your X app's access level does not include this endpoint (GET /2/tweets)" in str(caught.value)
    assert "Developer Console" in caught.value.hint


def test_another_403_says_what_the_app_and_token_need(server):
    server.fail_next(
        "POST",
        "/2/tweets",
        403,
        json={
            "title": "Forbidden",
            "type": "about:blank",
            "status": 403,
            "detail": "You are not permitted to perform this action.",
        },
    )
    with pytest.raises(PlatformRejected, match="not permitted") as caught:
        adapter(server).publish(PublishRequest(text="hi", idempotency_key="k"))
    assert "Read and write" in caught.value.hint and not isinstance(caught.value, AuthFailed)


def test_429_retries_after_the_windows_reset_and_holds_back_until_then(server):
    reset = int(time.time()) + 600
    server.fail_next(
        "GET",
        "/2/tweets",
        429,
        json=TOO_MANY,
        headers={"x-rate-limit-limit": "5000", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
    )
    a = adapter(server)
    post_id = server.add_post("x")
    with pytest.raises(PlatformRateLimited) as caught:
        a.fetch_post_metrics([post_id])
    assert 590 < caught.value.retry_after <= 600
    assert a.ctx.settings["spent_windows"] == {"GET /2/tweets": float(reset)} and a.ctx.settings_changed
    # Nothing goes to that endpoint before the reset; the others still work.
    server.reset_log()
    with pytest.raises(PlatformRateLimited, match="nothing was sent"):
        a.fetch_post_metrics([post_id])
    assert server.requests == []
    assert a.fetch_account_metrics().followers == 321


def test_429_without_any_reset_leaves_the_wait_to_the_caller(server):
    server.fail_next("GET", "/2/users/me", 429, json=TOO_MANY)
    with pytest.raises(PlatformRateLimited) as caught:
        adapter(server).fetch_account_metrics()
    assert caught.value.retry_after is None  # collect assumes its 5 minutes; publish says X did not say


def test_a_spent_24_hour_post_window_waits_for_its_own_reset(server):
    # POST /2/tweets answers carry x-user-limit-24hour-* beside the 15-minute window (not in
    # the docs; seen by client libraries): the later of the spent windows is when to retry.
    now = int(time.time())
    headers = {
        "x-rate-limit-remaining": "0",
        "x-rate-limit-reset": str(now + 900),
        "x-user-limit-24hour-limit": "17",
        "x-user-limit-24hour-remaining": "0",
        "x-user-limit-24hour-reset": str(now + 20 * 3600),
    }
    server.fail_next("POST", "/2/tweets", 429, json=TOO_MANY, headers=headers)
    a = adapter(server)
    with pytest.raises(PlatformRateLimited) as caught:
        a.publish(PublishRequest(text="one too many", idempotency_key="k"))
    assert 20 * 3600 - 10 < caught.value.retry_after <= 20 * 3600
    assert a.ctx.settings["spent_windows"] == {"POST /2/tweets": float(now + 20 * 3600)}


def test_429_without_a_reset_header_uses_retry_after(server):
    server.fail_next("GET", "/2/users/me", 429, json=TOO_MANY, headers={"Retry-After": "30"})
    with pytest.raises(PlatformRateLimited) as caught:
        adapter(server).fetch_account_metrics()
    assert caught.value.retry_after == 30


def test_a_window_an_answer_says_is_spent_is_not_asked_again_before_its_reset(server):
    a = adapter(server)
    post_id = server.add_post("x")
    server.spend_window("GET /2/tweets", reset_in=300)
    assert a.fetch_post_metrics([post_id])[post_id] is not None  # this answer said remaining 0
    server.reset_log()
    with pytest.raises(PlatformRateLimited) as caught:
        a.fetch_post_metrics([post_id])
    assert 290 < caught.value.retry_after <= 300 and server.requests == []
    # Another process reads the account's settings: it holds back too.
    later = adapter(server, settings=dict(a.ctx.settings))
    with pytest.raises(PlatformRateLimited):
        later.fetch_post_metrics([post_id])
    assert server.requests == []


def test_a_usage_cap_is_a_quota_until_its_period_ends_and_health_lifts_it(server):
    server.fail_next("POST", "/2/tweets", 429, json=USAGE_CAPPED, headers={"x-rate-limit-remaining": "99"})
    a = adapter(server)
    with pytest.raises(PlatformRateLimited, match="usage cap") as caught:
        a.publish(PublishRequest(text="capped", idempotency_key="k"))
    now = datetime.now(timezone.utc)
    first_of_next_month = (now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) + timedelta(days=32)).replace(
        day=1
    )
    assert abs(caught.value.retry_after - (first_of_next_month - now).total_seconds()) < 5
    assert "spending limit" in caught.value.hint
    server.reset_log()
    with pytest.raises(PlatformRateLimited, match="nothing was sent"):
        a.fetch_account_metrics()
    assert server.requests == []
    assert a.check_health().ok  # the cap was lifted (credits added): health says so and forgets it
    assert "usage_capped_until" not in a.ctx.settings
    a.publish(PublishRequest(text="capped", idempotency_key="k"))
    assert len(server.posts) == 1


def test_a_server_error_is_unavailable_naming_the_host(server):
    server.fail_next("GET", "/2/users/me", 503)
    with pytest.raises(PlatformUnavailable, match=f"127.0.0.1:{server.port} answered HTTP 503"):
        adapter(server).fetch_account_metrics()


def test_a_timeout_is_unavailable_naming_the_host(server):
    server.set_delay(2.0, "GET", "/2/users/me", times=1)
    with pytest.raises(PlatformUnavailable, match=f"127.0.0.1:{server.port} did not answer within 0.3 s") as caught:
        adapter(server, timeout=0.3).fetch_account_metrics()
    assert "outcome is unknown" in caught.value.hint


def test_an_unreachable_api_is_unavailable():
    with FakeX() as gone:
        ctx = gone.account_context()
    with pytest.raises(PlatformUnavailable, match="could not reach"):
        XAdapter(ctx).fetch_account_metrics()


def test_an_answer_that_is_not_json_is_malformed(server):
    server.fail_next("GET", "/2/users/me", 200, json="<html>")
    with pytest.raises(MalformedResponse):
        adapter(server).fetch_account_metrics()
