"""Request budgets that are daily quotas (a spec's `rate_limit_reset`: YouTube's 10,000 units,
reset at midnight Pacific time) and budgets that belong to an app (`budget_per_app`).

A quota refills whole at the zone's midnight, not continuously; a charge it cannot cover is
refused before the request is sent and takes nothing; a request bucket still never refuses.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from postcli.errors import PlatformRateLimited
from postcli.services import rate_budget
from postcli.services.rate_budget import Limit

UTC = timezone.utc
PACIFIC = "America/Los_Angeles"


def _take(key: str, limit: Limit, wanted: int, now: datetime, whole: bool = False) -> rate_budget.Grant:
    from postcli.store.session import session_scope

    with session_scope() as s:
        return rate_budget.take(s, key, limit, wanted, now, whole=whole)


def test_a_daily_quota_refills_whole_at_midnight_pacific_not_little_by_little():
    limit = Limit(100, 100 / 86_400, PACIFIC)
    afternoon = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)  # 13:00 PDT
    assert _take("q", limit, 90, afternoon).tokens == 90
    # Five hours later a continuous bucket would hold ~30 again; the quota has its 10 left.
    evening = afternoon + timedelta(hours=5)
    assert _take("q", limit, 20, evening).tokens == 10
    empty = _take("q", limit, 1, evening)
    midnight = datetime(2026, 3, 11, 7, 0, tzinfo=UTC)  # 00:00 PDT
    assert empty.tokens == 0 and empty.wait_s == (midnight - evening).total_seconds()
    assert _take("q", limit, 100, midnight + timedelta(minutes=1)).tokens == 100


def test_the_reset_follows_the_zone_across_a_dst_change():
    limit = Limit(10, 1, PACIFIC)
    # 1 November 2026: clocks go back in the US, so that day has 25 hours.
    morning = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)  # 04:00 PST
    assert limit.window_start(morning) == datetime(2026, 11, 1, 7, 0, tzinfo=UTC)  # 00:00 PDT
    assert limit.next_reset(morning) == datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # 00:00 PST


def test_a_whole_take_is_all_or_nothing():
    limit = Limit(100, 100 / 86_400, PACIFIC)
    now = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)
    assert _take("w", limit, 70, now).tokens == 70
    assert _take("w", limit, 50, now, whole=True).tokens == 0  # 30 left: nothing taken
    assert _take("w", limit, 30, now, whole=True).tokens == 30


def _config(home, text: str) -> None:  # type: ignore[no-untyped-def]
    (home / "config.toml").write_text(text)


def test_a_quota_refuses_a_charge_it_cannot_cover_and_keeps_what_is_left(home):
    _config(home, '[collect.rate_limits]\nyoutube = "120/86400"\n')
    rate_budget.charge("app:youtube:c", "youtube", "videos.delete", 50)
    rate_budget.charge("app:youtube:c", "youtube", "videos.delete", 50)
    with pytest.raises(PlatformRateLimited) as err:
        rate_budget.charge("app:youtube:c", "youtube", "videos.delete", 50)
    assert "videos.delete (50 units)" in err.value.message and "midnight America/Los_Angeles" in err.value.message
    assert err.value.retry_after is not None and 0 < err.value.retry_after <= 25 * 3600
    for _ in range(20):  # the refusal took nothing: the 20 units left still pay for reads
        rate_budget.charge("app:youtube:c", "youtube", "videos.list", 1)
    with pytest.raises(PlatformRateLimited):
        rate_budget.charge("app:youtube:c", "youtube", "videos.list", 1)


def test_a_request_bucket_still_never_refuses(home):
    _config(home, '[collect.rate_limits]\ntumblr = "2/3600"\n')
    for _ in range(5):
        rate_budget.charge("acct:1", "tumblr", "a status check")


def test_accounts_of_one_app_share_the_budget_when_the_spec_says_so():
    assert rate_budget.key_of(3, "youtube", {"client_id": "123.apps"}) == "app:youtube:123.apps"
    assert rate_budget.key_of(4, "youtube", {"client_id": "123.apps"}) == "app:youtube:123.apps"
    assert rate_budget.key_of(5, "youtube", {}) == "acct:5"  # no app known: its own
    assert rate_budget.key_of(6, "tumblr", {"client_id": "x"}) == "acct:6"
    # Reddit's 100 a minute are per OAuth client id: two users of one installed app share them.
    assert rate_budget.key_of(7, "reddit", {"client_id": "Ab1"}) == rate_budget.key_of(
        8, "reddit", {"client_id": "Ab1"}
    )
    assert rate_budget.key_of(9, "reddit", {}) == "acct:9"


def test_the_youtube_budget_is_the_daily_quota_by_default():
    limit = rate_budget.limit_for("youtube")
    assert limit is not None and (limit.capacity, limit.daily_reset) == (10_000, PACIFIC)
