"""The real LinkedIn adapter against the fake LinkedIn API (tests/fakes/linkedin_server.py)
over loopback sockets. Nothing in the adapter is patched."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakes.clock import FakeClock
from fakes.linkedin_server import (
    ACCESS_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    MEMBER_SCOPES,
    MEMBER_URN,
    ORG_ID,
    ORG_SCOPES,
    ORG_URN,
    FakeLinkedIn,
    rendered,
)
from postcli.platforms.base import (
    AuthFailed,
    MalformedResponse,
    MediaItem,
    OutcomeUnknown,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
    PublishRequest,
    RemoteNotFound,
)
from postcli.platforms.linkedin.adapter import LinkedInAdapter
from postcli.platforms.linkedin.text import escape, post_urn, unescape
from postcli.platforms.linkedin.version import DEFAULT_VERSION, VersionSettingError
from support.media import png

ANALYTICS = ["r_member_postAnalytics", "r_member_profileAnalytics"]


def adapter(li: FakeLinkedIn, **overrides) -> LinkedInAdapter:  # type: ignore[no-untyped-def]
    return LinkedInAdapter(li.account_context(**overrides))


def req(text: str = "hello", **kw) -> PublishRequest:  # type: ignore[no-untyped-def]
    states: list[dict] = []
    r = PublishRequest(text=text, idempotency_key="k", save_state=states.append, **kw)
    r.saved = states  # type: ignore[attr-defined]
    return r


def image(tmp_path: Path, name: str = "a.png", alt: str | None = None) -> MediaItem:
    path = png(tmp_path / name)
    return MediaItem(path=path, mime_type="image/png", size_bytes=path.stat().st_size, alt_text=alt)


def video(tmp_path: Path, size: int) -> MediaItem:
    path = tmp_path / "clip.mp4"
    path.write_bytes(bytes(range(256)) * (size // 256) + b"\0" * (size % 256))
    return MediaItem(path=path, mime_type="video/mp4", size_bytes=size)


def created(li: FakeLinkedIn) -> list:  # type: ignore[type-arg]
    return [r for r in li.requests_to("POST", "/rest/posts") if r.status == 201]


# -- little text -----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_escaped_text_reads_exactly_as_typed_by_the_documented_grammar(text: str) -> None:
    # rendered() is the fake's own reading of the little-text grammar, not postcli's code.
    assert rendered(escape(text)) == text
    assert unescape(escape(text)) == text


def test_every_reserved_character_is_escaped_and_the_post_reads_as_typed():
    typed = r"Q&A (live) #1 @team *not bold* _x_ ~y~ <tag> [a] {b} | back\slash"
    sent = escape(typed)
    assert sent == r"Q&A \(live\) \#1 \@team \*not bold\* \_x\_ \~y\~ \<tag\> \[a\] \{b\} \| back\\slash"
    with FakeLinkedIn() as li:
        result = adapter(li).publish(req(typed))
        assert li.posts[result.platform_post_id]["commentary"] == sent
        assert rendered(li.posts[result.platform_post_id]["commentary"]) == typed


def test_unescaped_text_would_not_read_as_typed():
    # The check above can fail: sent as is, reserved characters are LinkedIn syntax.
    with pytest.raises(ValueError):
        rendered("price (approx) *")
    assert rendered("#tag") == "#tag" and rendered("@[Acme](urn:li:organization:1)") == "Acme"


# -- connect --------------------------------------------------------------------------------------


def test_connect_reads_the_member_expiry_and_scopes():
    with FakeLinkedIn(scopes=MEMBER_SCOPES) as li:
        saved: list[dict] = []
        ctx = li.account_context(
            handle=None, external_id=None, settings={"client_id": CLIENT_ID}, save_secrets=saved.append
        )
        info = LinkedInAdapter(ctx).connect(None, f" {ACCESS_TOKEN}\n")
        assert (info.external_id, info.handle) == (MEMBER_URN, "Alice Example")
        assert timedelta(days=59) < info.token_expires_at - datetime.now(timezone.utc) <= timedelta(days=60)
        assert ctx.settings["scopes"] == sorted(MEMBER_SCOPES) and ctx.settings["author"] == MEMBER_URN
        assert saved[-1]["access_token"] == ACCESS_TOKEN and saved[-1]["client_secret"] == CLIENT_SECRET
        (intro,) = li.requests_to("POST", "/oauth/v2/introspectToken")
        assert intro.form["client_id"] == [CLIENT_ID] and intro.headers.get("Authorization") is None
        (user,) = li.requests_to("GET", "/v2/userinfo")
        assert user.bearer == ACCESS_TOKEN and user.headers.get("LinkedIn-Version") is None


def test_connect_with_a_bad_token_is_auth_failed_without_the_token():
    with FakeLinkedIn() as li:
        ctx = li.account_context(handle=None, external_id=None, secrets={}, settings={})
        with pytest.raises(AuthFailed) as err:
            LinkedInAdapter(ctx).connect(None, "wrong-token-123456")
        text = str(err.value) + str(err.value.hint)
        assert "wrong-token-123456" not in text
        assert "not valid" in text and "postcli accounts login linkedin" in text


def test_connect_as_a_page_checks_the_role_through_organization_acls():
    with FakeLinkedIn(scopes=MEMBER_SCOPES + ORG_SCOPES) as li:
        ctx = li.account_context(handle=None, external_id=None)
        info = LinkedInAdapter(ctx).connect(f"urn:li:organization:{ORG_ID}", ACCESS_TOKEN)
        assert (info.external_id, info.handle) == (ORG_URN, "Devtestco")
        (acl,) = li.requests_to("GET", "/rest/organizationAcls")
        assert acl.param("q") == "roleAssignee"


def test_connect_to_a_page_without_a_posting_role_names_the_roles():
    with FakeLinkedIn(scopes=MEMBER_SCOPES + ORG_SCOPES, org_roles={ORG_ID: "ANALYST", "555": "ADMINISTRATOR"}) as li:
        ctx = li.account_context(handle=None, external_id=None)
        with pytest.raises(PlatformRejected) as err:
            LinkedInAdapter(ctx).connect(ORG_ID, ACCESS_TOKEN)
        assert "ANALYST" in str(err.value) and "Pages you can post as: 555" in str(err.value)


def test_connect_to_a_page_without_the_page_scopes_says_which_to_sign_in_with():
    with FakeLinkedIn(scopes=MEMBER_SCOPES) as li:
        ctx = li.account_context(handle=None, external_id=None)
        with pytest.raises(PlatformRejected) as err:
            LinkedInAdapter(ctx).connect(ORG_ID, ACCESS_TOKEN)
        assert f"postcli accounts login linkedin --org {ORG_ID}" in err.value.hint


# -- limits -----------------------------------------------------------------------------------------


def test_limits_and_content_over_them_is_rejected_before_sending(tmp_path):
    with FakeLinkedIn() as li:
        a = adapter(li)
        limits = a.limits()
        assert (limits.max_text, limits.max_images, limits.max_videos, limits.max_alt_text) == (3000, 20, 1, 4086)
        assert a.text_length("é" * 3000) == 3000
        cases = [
            (req("x" * 3001), "3001 characters"),
            (req("x", media=[image(tmp_path), video(tmp_path, 1000)]), "not both"),
            (req("x", media=[image(tmp_path, alt="a" * 4087)]), "alt text"),
            (req("   "), "nothing to post"),
        ]
        for r, words in cases:
            with pytest.raises(PlatformRejected) as err:
                a.publish(r)
            assert words in str(err.value)
        org = adapter(li, org=ORG_ID)
        with pytest.raises(PlatformRejected) as err:
            org.publish(req("x", fields={"visibility": "CONNECTIONS"}))
        assert "Page has no connections" in str(err.value)
        assert li.requests == []


# -- publish -------------------------------------------------------------------------------------------


def test_text_post_sends_the_documented_body_and_headers():
    with FakeLinkedIn() as li:
        result = adapter(li).publish(req("Hello LinkedIn", fields={"visibility": "LOGGED_IN"}))
        (sent,) = li.requests_to("POST", "/rest/posts")
        assert sent.json == {
            "author": MEMBER_URN,
            "commentary": "Hello LinkedIn",
            "visibility": "LOGGED_IN",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        assert sent.headers["LinkedIn-Version"] == DEFAULT_VERSION
        assert sent.headers["X-Restli-Protocol-Version"] == "2.0.0"
        assert result.platform_post_id.startswith("urn:li:share:")
        assert result.url == f"https://www.linkedin.com/feed/update/{result.platform_post_id}/"
        assert result.published_at is not None


def test_one_image_is_media_with_alt_text_and_several_are_a_multi_image(tmp_path):
    with FakeLinkedIn() as li:
        a = adapter(li)
        one = a.publish(req("one", media=[image(tmp_path, alt="a red square")]))
        content = li.posts[one.platform_post_id]["content"]
        assert content["media"]["altText"] == "a red square"
        (put,) = li.requests_to("PUT", "/dms-uploads/image/")
        assert put.body == (tmp_path / "a.png").read_bytes() and put.bearer == ACCESS_TOKEN
        three = a.publish(req("three", media=[image(tmp_path, f"{n}.png", alt=f"alt {n}") for n in range(3)]))
        images = li.posts[three.platform_post_id]["content"]["multiImage"]["images"]
        assert [i["altText"] for i in images] == ["alt 0", "alt 1", "alt 2"]
        inits = li.requests_to("POST", "/rest/images")
        assert all(r.json == {"initializeUploadRequest": {"owner": MEMBER_URN}} for r in inits)


def test_video_goes_up_in_4_mib_parts_with_etags_in_order_then_waits_until_available(tmp_path):
    clock = FakeClock()
    charged: list[str] = []
    with FakeLinkedIn(video_polls=2) as li:
        a = adapter(li, clock=clock, sleep=clock.sleep, charge_request=charged.append)
        size = 4 * 1024 * 1024 + 1000
        r = req("a clip", media=[video(tmp_path, size)])
        result = a.publish(r)
        parts = li.requests_to("PUT", "/dms-uploads/video/")
        assert [len(p.body) for p in parts] == [4 * 1024 * 1024, 1000]
        assert all(p.bearer is None for p in parts)  # the presigned part URLs take no token
        (init,) = li.requests_to("POST", "/rest/videos")[:1]
        assert init.json["initializeUploadRequest"]["fileSizeBytes"] == size
        final = [x for x in li.requests_to("POST", "/rest/videos") if x.query.get("action") == ["finalizeUpload"]][0]
        video_urn = final.json["finalizeUploadRequest"]["video"]
        assert final.json["finalizeUploadRequest"]["uploadedPartIds"] == [
            li.videos[video_urn]["etags"][0],
            li.videos[video_urn]["etags"][1],
        ]
        assert len(li.requests_to("GET", "/rest/videos/")) == 3 and clock.slept == [2.0, 4.0]
        assert charged == ["video status"] * 3
        assert li.posts[result.platform_post_id]["content"] == {"media": {"id": video_urn}}
        assert result.platform_post_id.startswith("urn:li:ugcPost:")
        assert r.saved[0] == {"video": video_urn}  # type: ignore[attr-defined]


def test_a_video_linkedin_cannot_process_is_rejected_and_nothing_is_posted(tmp_path):
    clock = FakeClock()
    with FakeLinkedIn(video_polls=0) as li:
        a = adapter(li, clock=clock, sleep=clock.sleep)
        li.fail_next(
            "GET", "/rest/videos/", 200, json={"status": "PROCESSING_FAILED", "processingFailureReason": "bad codec"}
        )
        with pytest.raises(PlatformRejected) as err:
            a.publish(req("clip", media=[video(tmp_path, 5000)]))
        assert "bad codec" in str(err.value) and li.posts == {}


def test_a_video_still_processing_is_taken_up_again_by_the_retry(tmp_path):
    clock = FakeClock()
    with FakeLinkedIn(video_polls=10_000) as li:
        a = adapter(li, clock=clock, sleep=clock.sleep)
        first = req("clip", media=[video(tmp_path, 5000)])
        with pytest.raises(PlatformUnavailable) as err:
            a.publish(first)
        assert "still processing" in str(err.value) and li.posts == {}
        (urn,) = li.videos
        li.videos[urn]["polls"] = 0
        retry = req("clip", media=first.media, state=first.saved[-1])  # type: ignore[attr-defined]
        result = a.publish(retry)
        assert len(li.requests_to("POST", "/rest/videos")) == 2  # one upload, one finalize: not again
        assert li.posts[result.platform_post_id]["content"]["media"]["id"] == urn


def test_a_page_posts_as_the_organization(tmp_path):
    with FakeLinkedIn(scopes=MEMBER_SCOPES + ORG_SCOPES) as li:
        result = adapter(li, org=ORG_ID).publish(req("from the Page", media=[image(tmp_path)]))
        assert li.posts[result.platform_post_id]["author"] == ORG_URN
        assert li.requests_to("POST", "/rest/images")[0].json["initializeUploadRequest"]["owner"] == ORG_URN


# -- an answer that never came --------------------------------------------------------------------------


def test_a_lost_answer_with_read_access_is_found_among_the_posts_exactly_once():
    with FakeLinkedIn(scopes=MEMBER_SCOPES + ["r_member_social"]) as li:
        a = adapter(li, timeout=0.5)
        li.lose_post_answers = 1
        first = req("only once")
        with pytest.raises(PlatformUnavailable) as err:
            a.publish(first)
        assert not isinstance(err.value, OutcomeUnknown) and "did not answer" in str(err.value)
        state = first.saved[-1]  # type: ignore[attr-defined]
        assert state.get("posting")
        found = adapter(li).find_published(req("only once", state=state))
        assert found is not None and found.platform_post_id in li.posts
        assert len(li.posts) == 1
        listing = li.requests_to("GET", "/rest/posts")[-1]
        assert (listing.param("q"), listing.param("author")) == ("author", MEMBER_URN)


def test_a_lost_answer_without_read_access_is_outcome_unknown_and_never_resent_blind():
    with FakeLinkedIn(scopes=MEMBER_SCOPES) as li:
        a = adapter(li, timeout=0.5)
        li.lose_post_answers = 1
        first = req("maybe")
        with pytest.raises(OutcomeUnknown) as err:
            a.publish(first)
        assert "r_member_social" in str(err.value) and "linkedin.com/in/me/recent-activity" in str(err.value)
        with pytest.raises(OutcomeUnknown):
            adapter(li).find_published(req("maybe", state=first.saved[-1]))  # type: ignore[attr-defined]
        assert li.requests_to("GET", "/rest/posts") == [] and len(li.posts) == 1


def test_a_refused_post_clears_the_mark_so_a_retry_sends_again():
    with FakeLinkedIn(scopes=MEMBER_SCOPES) as li:
        li.fail_next(
            "POST", "/rest/posts", 422, json={"status": 422, "message": "bad field", "code": "UNPROCESSABLE_ENTITY"}
        )
        first = req("refused")
        with pytest.raises(PlatformRejected) as err:
            adapter(li).publish(first)
        assert "bad field" in str(err.value)
        assert "posting" not in first.saved[-1]  # type: ignore[attr-defined]
        assert adapter(li).find_published(req("refused", state=first.saved[-1])) is None  # type: ignore[attr-defined]


def test_with_unknown_scopes_a_refused_read_becomes_outcome_unknown_and_is_remembered():
    with FakeLinkedIn(scopes=MEMBER_SCOPES) as li:
        ctx = li.account_context(settings={"author": MEMBER_URN})  # a pasted token: scopes unknown
        with pytest.raises(OutcomeUnknown):
            LinkedInAdapter(ctx).find_published(req("x", state={"posting": "2026-01-01T00:00:00+00:00"}))
        assert ctx.settings["withheld"] == ["r_member_social"] and ctx.settings_changed
        assert li.requests_to("GET", "/rest/posts")[0].status == 403


def test_a_post_older_than_the_first_attempt_is_not_taken():
    with FakeLinkedIn(scopes=MEMBER_SCOPES + ["r_member_social"]) as li:
        li.add_post("same text", created_ms=int((datetime.now(timezone.utc) - timedelta(hours=2)).timestamp() * 1000))
        r = req("same text", state={"posting": "x"}, first_attempt_at=datetime.now(timezone.utc))
        assert adapter(li).find_published(r) is None


# -- metrics ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("union", [True, False])
def test_member_post_analytics_in_both_metric_type_shapes(union):
    with FakeLinkedIn(scopes=MEMBER_SCOPES + ANALYTICS, metric_type_union=union) as li:
        urn = li.add_post("counted")
        li.set_analytics(urn, IMPRESSION=120, MEMBERS_REACHED=80, REACTION=7, COMMENT=2, RESHARE=1)
        m = adapter(li).fetch_post_metrics([urn])[urn]
        assert (m.impressions, m.reach, m.likes, m.comments, m.shares) == (120, 80, 7, 2, 1)
        assert (m.views, m.clicks, m.saves) == (None, None, None)
        entity = li.requests_to("GET", "/rest/memberCreatorPostAnalytics")[0]
        assert entity.param("entity") == f"(share:{urn})" and entity.param("aggregation") == "TOTAL"


def test_a_count_the_answer_leaves_out_is_none_not_zero():
    with FakeLinkedIn(scopes=MEMBER_SCOPES + ANALYTICS) as li:
        urn = li.add_post("partly counted")
        li.set_analytics(urn, IMPRESSION=5)
        m = adapter(li).fetch_post_metrics([urn])[urn]
        assert m.impressions == 5 and m.likes is None and m.comments is None and m.reach is None


def test_a_deleted_post_is_none_while_the_others_keep_their_metrics_and_deleting_twice_is_fine():
    with FakeLinkedIn(scopes=MEMBER_SCOPES + ANALYTICS) as li:
        kept, gone = li.add_post("kept"), li.add_post("gone")
        li.set_analytics(kept, IMPRESSION=9)
        a = adapter(li)
        a.delete(gone)
        a.delete(gone)
        out = a.fetch_post_metrics([kept, gone])
        assert out[gone] is None and out[kept].impressions == 9


def test_without_analytics_or_read_access_the_counters_stay_null_and_it_is_said_once():
    with FakeLinkedIn(scopes=MEMBER_SCOPES) as li:
        urns = [li.add_post("a"), li.add_post("b")]
        a = adapter(li)
        out = a.fetch_post_metrics(urns)
        assert all(m is not None and all(v is None for v in m.as_dict().values()) for m in out.values())
        assert a.fetch_account_metrics().followers is None
        assert li.requests == []  # the token's scopes said there was nothing to ask
        (note,) = a.collect_notes()
        assert "r_member_postAnalytics" in note and "r_member_social" in note and "null" in note


def test_with_read_access_only_likes_and_comments_come_from_social_actions():
    with FakeLinkedIn(scopes=MEMBER_SCOPES + ["r_member_social"]) as li:
        urn = li.add_post("social")
        li.social[urn] = (4, 3)
        m = adapter(li).fetch_post_metrics([urn])[urn]
        assert (m.likes, m.comments, m.impressions) == (4, 3, None)


def test_a_refused_analytics_call_is_remembered_and_not_asked_again():
    with FakeLinkedIn(scopes=MEMBER_SCOPES) as li:
        urn = li.add_post("x")
        ctx = li.account_context(settings={"author": MEMBER_URN})  # scopes unknown
        a = LinkedInAdapter(ctx)
        a.fetch_post_metrics([urn])
        assert set(ctx.settings["withheld"]) == {"r_member_postAnalytics", "r_member_social"}
        before = len(li.requests)
        LinkedInAdapter(ctx).fetch_post_metrics([urn])
        assert len(li.requests) == before


def test_page_posts_come_from_share_statistics_in_one_request():
    with FakeLinkedIn(scopes=MEMBER_SCOPES + ORG_SCOPES) as li:
        a, b, gone = (li.add_post(t, author=ORG_URN) for t in ("a", "b", "gone"))
        li.org_stats[a] = {
            "impressionCount": 100,
            "uniqueImpressionsCount": 60,
            "clickCount": 5,
            "likeCount": 9,
            "commentCount": 2,
            "shareCount": 1,
            "engagement": 0.2,
        }
        li.org_stats[b] = {"impressionCount": 7}
        li.delete_post(gone)
        out = adapter(li, org=ORG_ID).fetch_post_metrics([a, b, gone])
        m = out[a]
        assert (m.impressions, m.reach, m.clicks, m.likes, m.comments, m.shares) == (100, 60, 5, 9, 2, 1)
        assert out[b].impressions == 7 and out[b].likes is None
        assert out[gone] is None
        (stats,) = li.requests_to("GET", "/rest/organizationalEntityShareStatistics")
        assert stats.param("shares") == f"List({a},{b},{gone})"


def test_account_metrics_for_a_member_and_a_page():
    with FakeLinkedIn(scopes=MEMBER_SCOPES + ANALYTICS + ORG_SCOPES, followers=321, org_followers=4200) as li:
        assert adapter(li).fetch_account_metrics().followers == 321
        assert adapter(li, org=ORG_ID).fetch_account_metrics().followers == 4200
        (sizes,) = li.requests_to("GET", "/rest/networkSizes/")
        assert sizes.path == f"/rest/networkSizes/{ORG_URN}" and sizes.param("edgeType") == "COMPANY_FOLLOWED_BY_MEMBER"
    with FakeLinkedIn(scopes=MEMBER_SCOPES + ANALYTICS, followers=None) as li:
        assert adapter(li).fetch_account_metrics().followers is None


# -- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "words"), [(65600, "not valid"), (65601, "revoked"), (65602, "expired")])
def test_401_is_auth_failed_with_the_reconnect_command_and_no_secret(code, words):
    with FakeLinkedIn() as li:
        li.fail_next("POST", "/rest/posts", 401, json={"status": 401, "serviceErrorCode": code, "message": "m"})
        with pytest.raises(AuthFailed) as err:
            adapter(li).publish(req())
        text = str(err.value) + err.value.hint
        assert words in text and "postcli accounts login linkedin" in text
        assert ACCESS_TOKEN not in text and CLIENT_SECRET not in text
    from postcli.platforms.linkedin.spec import SPEC

    # A Page account's reconnect command names its Page.
    page = SPEC.reconnect_login.format(**SPEC.hint_values("P", "", ORG_URN))
    assert page == f"postcli accounts login linkedin --org {ORG_ID}"


def test_403_on_posting_is_rejected_naming_the_product_and_leaves_nothing_to_reconcile():
    with FakeLinkedIn(scopes=["openid", "profile"]) as li:  # no w_member_social: Share on LinkedIn missing
        first = req("not allowed")
        with pytest.raises(PlatformRejected) as err:
            adapter(li).publish(first)
        assert err.value.exit_code == 2 and "ACCESS_DENIED" in str(err.value)
        assert "LinkedIn product" in err.value.hint
        assert adapter(li).find_published(req("not allowed", state=first.saved[-1])) is None  # type: ignore[attr-defined]


def test_401_refreshes_once_where_the_app_can_and_saves_the_new_token():
    with FakeLinkedIn(refresh_tokens=True) as li:
        token = li.tokens[ACCESS_TOKEN]
        token.refresh = "fake-linkedin-refresh-abc"
        saved: list[dict] = []
        secrets = {"access_token": ACCESS_TOKEN, "client_secret": CLIENT_SECRET, "refresh_token": token.refresh}
        a = adapter(li, secrets=secrets, save_secrets=saved.append)
        li.fail_next("POST", "/rest/posts", 401, json={"status": 401, "serviceErrorCode": 65602, "message": "expired"})
        result = a.publish(req("after a refresh"))
        assert result.platform_post_id in li.posts
        (refresh,) = li.requests_to("POST", "/oauth/v2/accessToken")
        assert refresh.form["grant_type"] == ["refresh_token"] and refresh.form["client_secret"] == [CLIENT_SECRET]
        assert saved[-1]["access_token"] == li.issued[-1]["access_token"] != ACCESS_TOKEN
        assert len(li.requests_to("POST", "/rest/posts")) == 2


def test_a_sunset_version_names_the_setting_and_sends_nothing_else():
    with FakeLinkedIn() as li:
        li.served_versions.discard(DEFAULT_VERSION)
        with pytest.raises(VersionSettingError) as err:
            adapter(li).publish(req())
        assert err.value.exit_code == 2
        assert f"version {DEFAULT_VERSION}" in str(err.value) and "[apps.linkedin] version" in str(err.value)
        assert li.posts == {}


def test_the_version_setting_is_sent_and_a_malformed_one_is_refused_before_sending():
    with FakeLinkedIn() as li:
        adapter(li, app_setting=lambda key: "202603" if key == "version" else None).publish(req())
        assert li.requests_to("POST", "/rest/posts")[0].headers["LinkedIn-Version"] == "202603"
        with pytest.raises(VersionSettingError) as err:
            adapter(li, app_setting=lambda key: "2026-03" if key == "version" else None).publish(req())
        assert "'2026-03'" in str(err.value) and len(li.requests) == 1


def test_429_without_a_reset_header_waits_until_the_next_midnight_utc():
    with FakeLinkedIn(scopes=MEMBER_SCOPES + ANALYTICS) as li:
        urn = li.add_post("x")
        li.fail_next(
            "GET",
            "/rest/memberCreatorPostAnalytics",
            429,
            json={"status": 429, "message": "Resource level throttle limit for calls to this resource is reached"},
        )
        with pytest.raises(PlatformRateLimited) as err:
            adapter(li).fetch_post_metrics([urn])
        now = datetime.now(timezone.utc)
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        assert abs(err.value.retry_after - (midnight - now).total_seconds()) < 60
        li.fail_next("GET", "/rest/memberCreatorPostAnalytics", 429, headers={"Retry-After": "120"})
        with pytest.raises(PlatformRateLimited) as err:
            adapter(li).fetch_post_metrics([urn])
        assert err.value.retry_after == 120


def test_timeouts_outages_and_unreadable_answers_name_the_host():
    with FakeLinkedIn() as li:
        li.set_delay(2.0, "GET", "/v2/userinfo", times=1)
        with pytest.raises(PlatformUnavailable) as err:
            adapter(li, timeout=0.3).check_health()
        assert li.host in str(err.value) and "did not answer" in str(err.value)
        li.fail_next("GET", "/v2/userinfo", 503)
        with pytest.raises(PlatformUnavailable) as err:
            adapter(li).check_health()
        assert "503" in str(err.value) and li.host in str(err.value)
        li.fail_next("GET", "/v2/userinfo", 200, json=["not", "an", "object"])
        with pytest.raises(MalformedResponse):
            adapter(li).check_health()
    from fakes.loopback import LoopbackServer  # noqa: F401
    from postcli.signin.loopback import free_port

    dead = LinkedInAdapter(FakeLinkedIn().account_context(api_base_url=f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(PlatformUnavailable) as err:
        dead.check_health()
    assert "could not reach 127.0.0.1" in str(err.value)


def test_check_health_warns_before_a_token_that_cannot_be_refreshed_ends():
    with FakeLinkedIn() as li:
        soon = datetime.now(timezone.utc) + timedelta(days=5)
        health = adapter(li, token_expires_at=soon).check_health()
        assert health.ok and "sign in again" in health.message and "postcli accounts login linkedin" in health.message
        assert adapter(li, token_expires_at=soon + timedelta(days=30)).check_health().message is None


# -- delete, import -----------------------------------------------------------------------------------


def test_resolve_post_by_urn_and_link_forms():
    assert post_urn("urn:li:share:123") == "urn:li:share:123"
    assert post_urn("urn%3Ali%3AugcPost%3A9") == "urn:li:ugcPost:9"
    assert post_urn("https://www.linkedin.com/feed/update/urn:li:share:7/") == "urn:li:share:7"
    assert post_urn("https://www.linkedin.com/embed/feed/update/urn:li:ugcPost:8") == "urn:li:ugcPost:8"
    assert post_urn("https://evil.example/feed/update/urn:li:share:7/") is None
    with FakeLinkedIn(scopes=MEMBER_SCOPES + ["r_member_social"]) as li:
        urn = li.add_post("mine (really)")
        found = adapter(li).resolve_post(f"https://www.linkedin.com/feed/update/{urn}/")
        assert (found.platform_post_id, found.author, found.text) == (urn, MEMBER_URN, "mine (really)")
        with pytest.raises(RemoteNotFound) as err:
            adapter(li).resolve_post("https://www.linkedin.com/feed/update/urn:li:activity:7123/")
        assert "activity" in str(err.value) and "Embed this post" in err.value.hint
        with pytest.raises(RemoteNotFound):
            adapter(li).resolve_post("urn:li:share:404404")
    with FakeLinkedIn(scopes=MEMBER_SCOPES) as li:
        found = adapter(li).resolve_post("urn:li:share:55")  # cannot be read back: taken as given
        assert (found.platform_post_id, found.author) == ("urn:li:share:55", None) and li.requests == []


def test_module_imports_without_httpx():
    code = "import sys, postcli.platforms.linkedin.adapter; assert 'httpx' not in sys.modules, 'httpx imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
