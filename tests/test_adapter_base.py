"""AdapterBase: the capabilities every adapter declares, the one secret marker, and the shared
outline of reconciling an unknown outcome through the account's recent posts (docs/adapters.md)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

import pytest

from fakes.mastodon_server import FakeMastodon
from postcli.platforms.base import AccountContext, AdapterBase, AuthFailed, PublishRequest, PublishResult
from postcli.platforms.registry import adapter_class, platform_names
from postcli.secrets_redact import MASK

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)

# What find_in_recent_posts needs from an adapter (docs/adapters.md, "Publishing without duplicates").
RECONCILE_HOOKS = ("recent_posts", "post_created_at", "same_post", "reconciled")


@pytest.mark.parametrize("platform", platform_names(include_hidden=True))
def test_each_adapter_declares_what_it_implements(platform):
    """AdapterBase gives every capability a default, so declaring is not the question: a flag must
    agree with the code behind it, and the numbers must make sense."""
    cls = adapter_class(platform)
    assert issubclass(cls, AdapterBase) and cls.platform == platform
    implemented = {h for h in RECONCILE_HOOKS if getattr(cls, h) is not getattr(AdapterBase, h)}
    assert implemented == (set(RECONCILE_HOOKS) if cls.reconciles_by_recent_posts else set())
    assert cls.metrics_batch_size >= 1 and cls.min_collect_hours >= 0 and cls.deletion_grace >= timedelta(0)


def test_a_failed_publish_says_whether_a_retry_can_check_the_platform_first():
    from postcli.services.posts.publish import unknown_outcome_note

    class _Listing(_Plain):
        reconciles_by_recent_posts: ClassVar[bool] = True

    class _Keyed(_Plain):
        idempotency_key: ClassVar[bool] = True

    for checked in (_Listing, _Keyed, adapter_class("mastodon"), adapter_class("bluesky")):
        assert unknown_outcome_note(checked, 3) == " (the outcome is unknown; a retry checks the platform first)"
    note = unknown_outcome_note(_Plain, 3)
    assert "plain offers no way to check it" in note and "look at the account before `postcli post retry 3`" in note


def test_the_capabilities_each_platform_declares():
    declared = {p: adapter_class(p) for p in platform_names(include_hidden=True)}
    assert {p for p, c in declared.items() if c.metrics_request_per_post} == {
        "facebook",
        "instagram",
        "pinterest",
        "threads",
        "tumblr",
    }
    assert {p: c.min_collect_hours for p, c in declared.items() if c.min_collect_hours} == {
        "facebook": 48,
        "instagram": 48,
        "pinterest": 96,
    }
    assert {p: c.deletion_grace for p, c in declared.items() if c.deletion_grace} == {"bluesky": timedelta(minutes=10)}
    assert {p for p, c in declared.items() if c.reconciles_by_recent_posts} == {
        "facebook",
        "google-business",
        "instagram",
        "linkedin",
        "mastodon",
        "pinterest",
        "reddit",
        "threads",
        "tiktok",
        "tumblr",
        "x",
        "youtube",  # only for an upload session that expired after its last chunk went out
    }
    assert {p for p, c in declared.items() if not c.absence_is_deletion} == {"tiktok"}
    assert {p for p, c in declared.items() if not c.has_metrics} == {"google-business"}  # no numbers per post
    assert declared["mastodon"].idempotency_key and declared["sandbox"].idempotency_key


def test_the_registry_gives_the_same_class_every_time():
    assert adapter_class("bluesky") is adapter_class("bluesky")
    assert adapter_class("mastodon") is adapter_class("mastodon")


# -- secrets -------------------------------------------------------------------------------


class _Plain(AdapterBase):
    platform: ClassVar[str] = "plain"
    default_base_url: ClassVar[str] = "https://plain.example"


def _ctx(**secrets: Any) -> AccountContext:
    return AccountContext(platform="plain", api_base_url="https://plain.example", secrets=secrets)


def test_scrub_masks_every_secret_with_the_one_marker_but_not_the_times_kept_beside_them():
    adapter = _Plain(_ctx(access_token="tok-abcdef", app_secret="sec-123456", token_expires_at="2026-05-01"))
    text = adapter.scrub("token tok-abcdef, secret sec-123456, expires 2026-05-01")
    assert text == f"token {MASK}, secret {MASK}, expires 2026-05-01"


def test_scrub_masks_the_longer_secret_first():
    adapter = _Plain(_ctx(a="abcd", b="abcdefgh"))
    assert adapter.scrub("x abcdefgh y abcd") == f"x {MASK} y {MASK}"


def test_a_real_adapters_error_carries_the_one_marker():
    token = "tok-9f8e7d6c5b4a"
    with FakeMastodon(token=token) as server:
        from postcli.platforms.mastodon.adapter import MastodonAdapter

        adapter = MastodonAdapter(server.account_context())
        server.fail_next("GET", "/api/v1/accounts/verify_credentials", 401, json={"error": f"token {token} revoked"})
        with pytest.raises(AuthFailed) as err:
            adapter.check_health()
    assert token not in str(err.value)
    assert f"token {MASK} revoked" in str(err.value)


# -- the reconcile outline -----------------------------------------------------------------


class _Listed(AdapterBase):
    """The four hooks over an in-memory listing (the outline is what is under test)."""

    platform: ClassVar[str] = "listed"
    default_base_url: ClassVar[str] = "https://listed.example"
    reconciles_by_recent_posts: ClassVar[bool] = True

    def __init__(self, posts: list[dict[str, Any]]) -> None:
        super().__init__(_ctx())
        self.posts = posts
        self.asked_since: list[datetime | None] = []

    def recent_posts(self, since):
        self.asked_since.append(since)
        return iter(self.posts)

    def post_created_at(self, post):
        return post.get("at")

    def same_post(self, post, req):
        return post["text"] == req.text

    def reconciled(self, post, req):
        return PublishResult(platform_post_id=post["id"], published_at=post.get("at"))


def _req(text: str = "hello", first: datetime | None = T0) -> PublishRequest:
    return PublishRequest(text=text, idempotency_key="k", first_attempt_at=first)


def test_newest_first_the_first_match_wins():
    adapter = _Listed(
        [
            {"id": "3", "text": "other", "at": T0 + timedelta(minutes=3)},
            {"id": "2", "text": "hello", "at": T0 + timedelta(minutes=2)},
            {"id": "1", "text": "hello", "at": T0 + timedelta(minutes=1)},
        ]
    )
    assert adapter.find_in_recent_posts(_req()).platform_post_id == "2"
    assert adapter.asked_since == [T0 - timedelta(minutes=5)]


def test_a_post_older_than_the_window_ends_the_search():
    adapter = _Listed(
        [
            {"id": "2", "text": "other", "at": T0},
            {"id": "1", "text": "hello", "at": T0 - timedelta(minutes=6)},  # before first attempt - margin
        ]
    )
    assert adapter.find_in_recent_posts(_req()) is None


def test_a_naive_first_attempt_is_utc():
    adapter = _Listed([{"id": "1", "text": "hello", "at": T0 - timedelta(minutes=4)}])
    found = adapter.find_in_recent_posts(_req(first=T0.replace(tzinfo=None)))
    assert found is not None and adapter.asked_since == [T0 - timedelta(minutes=5)]


def test_without_a_first_attempt_the_lookback_bounds_the_window():
    now = datetime.now(timezone.utc)
    posts = [{"id": "1", "text": "hello", "at": now - timedelta(hours=30)}]
    assert _Listed(posts).find_in_recent_posts(_req(first=None)).platform_post_id == "1"  # no bound by default

    class _Bounded(_Listed):
        reconcile_lookback: ClassVar[timedelta | None] = timedelta(hours=24)

    bounded = _Bounded(posts)
    assert bounded.find_in_recent_posts(_req(first=None)) is None
    (since,) = bounded.asked_since
    assert now - timedelta(hours=24, minutes=1) < since <= now - timedelta(hours=24) + timedelta(minutes=1)


def test_oldest_match_reads_the_whole_window_and_skips_undated_and_older_posts():
    class _Oldest(_Listed):
        reconcile_oldest_match: ClassVar[bool] = True

    adapter = _Oldest(
        [
            {"id": "old", "text": "hello", "at": T0 - timedelta(hours=1)},  # outside: skipped, not the end
            {"id": "b", "text": "hello", "at": T0 + timedelta(minutes=2)},
            {"id": "undated", "text": "hello"},
            {"id": "a", "text": "hello", "at": T0 + timedelta(minutes=1)},
        ]
    )
    assert adapter.find_in_recent_posts(_req()).platform_post_id == "a"
    assert _Oldest([{"id": "undated", "text": "hello"}]).find_in_recent_posts(_req()) is None


def test_design_md_names_the_platforms_charged_per_post():
    """docs/design.md ("Shared request budgets") lists the adapters charged per post: it drifted once
    (it said Instagram under-counts), so it is checked against the declarations."""
    import re
    from pathlib import Path

    text = " ".join((Path(__file__).resolve().parents[1] / "docs" / "design.md").read_text().split())
    found = re.search(r"`metrics_request_per_post`: ([^)]*)\)", text)
    assert found, "docs/design.md no longer says which adapters are charged per post"
    named = {w.strip().lower() for w in found.group(1).split(",")}
    declared = {p for p in platform_names() if adapter_class(p).metrics_request_per_post}
    assert named == declared
