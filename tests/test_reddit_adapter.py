"""The real Reddit adapter against the fake Reddit (tests/fakes/reddit_server.py) over loopback.

Nothing in the adapter is patched: it talks HTTP to the fake, and the tests assert on what the
fake received (form fields, the Basic and bearer headers, the User-Agent) and what came back.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fakes.clock import FakeClock
from fakes.reddit_server import FakeReddit, flair
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
from postcli.platforms.reddit.adapter import RedditAdapter
from postcli.platforms.reddit.wire import post_id36, user_agent

UA = user_agent("alice_writes")


@pytest.fixture
def server():
    with FakeReddit() as s:
        yield s


def adapter(server: FakeReddit, **overrides) -> RedditAdapter:
    """An adapter for an account connected earlier (tokens and username stored)."""
    return RedditAdapter(server.account_context(**overrides))


def request(text: str = "Body text", *, title: str | None = "A title", sr: str | None = "test", **kw) -> PublishRequest:
    fields = {"subreddit": sr} if sr is not None else {}
    fields.update(kw.pop("fields", {}))
    return PublishRequest(text=text, idempotency_key="k1", title=title, fields=fields, **kw)


def soon(minutes: float) -> datetime:
    return datetime.now(timezone.utc) + timedelta(minutes=minutes)


def basic(req) -> tuple[str, str]:
    kind, _, value = req.headers["Authorization"].partition(" ")
    assert kind == "Basic"
    user, _, password = base64.b64decode(value).decode().partition(":")
    return user, password


# -- connect -------------------------------------------------------------------------------


def test_connect_refreshes_with_an_empty_secret_then_checks_whose_token_it_is(server):
    saved = []
    ctx = server.account_context(
        handle=None, external_id=None, settings={"client_id": server.client_id}, save_secrets=saved.append
    )
    given = server.access_token
    info = RedditAdapter(ctx).connect("/u/alice_writes", given)

    assert (info.external_id, info.handle, info.display_name) == ("t2_3ebyblla", "alice_writes", "Alice writes")
    token_call, me_call = server.requests
    assert (token_call.method, token_call.path) == ("POST", "/api/v1/access_token")
    # An installed app: Basic with the client id and an EMPTY password; the form has no secret.
    assert basic(token_call) == (server.client_id, "")
    assert token_call.form == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["fake-reddit-refresh-token-0123456789"],
    }
    (new_access, _refresh) = server.issued[0]
    assert me_call.headers["Authorization"] == f"bearer {new_access}"
    assert token_call.headers["User-Agent"] == me_call.headers["User-Agent"] == UA
    assert timedelta(minutes=59) < info.token_expires_at - datetime.now(timezone.utc) <= timedelta(minutes=60)
    assert saved[-1]["access_token"] == new_access and saved[-1]["refresh_token"] == server.refresh_token
    assert ctx.settings == {"client_id": server.client_id, "username": "alice_writes", "user_id": "t2_3ebyblla"}
    assert ctx.settings_changed is True


def test_user_agent_is_in_reddits_form():
    import re

    assert re.fullmatch(r"[a-z0-9]+:postcli:v[0-9.]+ \(by /u/alice_writes\)", UA), UA


def test_connect_as_someone_else_names_both_users_and_stores_nothing(server):
    saved = []
    ctx = server.account_context(handle=None, secrets={}, settings={}, save_secrets=saved.append)
    with pytest.raises(PlatformRejected) as err:
        RedditAdapter(ctx).connect("bob", server.access_token)
    assert "u/alice_writes, not u/bob" in str(err.value) and saved == []
    assert server.access_token not in str(err.value)


def test_connect_with_a_refresh_token_but_no_client_id_fails_before_any_request(server):
    ctx = server.account_context(handle=None, settings={})
    with pytest.raises(PlatformRejected) as err:
        RedditAdapter(ctx).connect("alice_writes", server.access_token)
    assert "client id" in str(err.value) and "--client-id" in err.value.hint
    assert server.requests == []


def test_connect_with_a_bad_token_is_auth_failed_without_the_token(server):
    ctx = server.account_context(handle=None, secrets={}, settings={})
    with pytest.raises(AuthFailed) as err:
        RedditAdapter(ctx).connect("alice_writes", "not-a-real-token-12345")
    assert "not-a-real-token-12345" not in str(err.value) + str(err.value.hint)
    assert "accounts login reddit --user alice_writes" in err.value.hint


# -- limits and checks before sending -------------------------------------------------------


def test_limits_refuse_media_and_count_characters(server):
    limits = adapter(server).limits()
    assert (limits.max_text, limits.max_images, limits.max_videos) == (40_000, 0, 0)
    assert adapter(server).text_length("héllo 👋") == 7


@pytest.mark.parametrize(
    ("req", "problem"),
    [
        (request(sr=None), "no subreddit given"),
        (request(sr="r/no spaces"), "is not a subreddit name"),
        (request(title=None), "needs a title"),
        (request(title="x" * 301), "at most 300"),
        (request("x" * 40_001), "at most 40,000"),
    ],
)
def test_what_reddit_would_refuse_is_refused_before_sending(server, req, problem):
    with pytest.raises(PlatformRejected) as err:
        adapter(server).publish(req)
    assert problem in str(err.value)
    assert server.requests == []


def test_an_image_is_refused_before_anything_is_sent(server, tmp_path):
    image = MediaItem(path=tmp_path / "a.png", mime_type="image/png", size_bytes=10)
    with pytest.raises(PlatformRejected) as err:
        adapter(server).publish(request(media=[image]))
    assert "images or videos" in str(err.value) and server.requests == []


# -- publishing ------------------------------------------------------------------------------


def test_a_self_post_sends_the_text_and_returns_the_fullname_and_permalink(server):
    result = adapter(server).publish(request("Hello **Reddit**", title="  Hello   there ", sr="/r/Test"))

    (submit,) = server.requests_to("POST", "/api/submit")
    assert {k: v[0] for k, v in submit.form.items()} == {
        "api_type": "json",
        "sr": "Test",
        "title": "Hello there",
        "kind": "self",
        "text": "Hello **Reddit**",
        "resubmit": "true",
        "sendreplies": "true",
    }
    assert submit.query == {"raw_json": ["1"]}
    assert submit.headers["Authorization"] == f"bearer {server.access_token}" and submit.headers["User-Agent"] == UA
    (post,) = server.posts
    assert result.platform_post_id == post["name"] and result.platform_post_id.startswith("t3_")
    assert result.url == server.url + post["permalink"]
    assert (post["title"], post["selftext"], post["is_self"]) == ("Hello there", "Hello **Reddit**", True)


def test_a_link_post_sends_the_url_with_the_text_as_its_body(server):
    server.subreddits["test"].flairs.append(flair("f-1", "News"))
    adapter(server).publish(request("Worth reading", link="https://example.com/a", fields={"flair_id": "f-1"}))
    (submit,) = server.requests_to("POST", "/api/submit")
    assert submit.param("kind") == "link" and submit.param("url") == "https://example.com/a"
    assert submit.param("text") == "Worth reading" and submit.param("flair_id") == "f-1"


@pytest.mark.parametrize(
    ("setup", "req", "reason"),
    [
        (lambda s: None, request(sr="nosuchplace"), "SUBREDDIT_NOEXIST: that subreddit doesn't exist (field sr)"),
        (
            lambda s: s.add_subreddit("selfonly", link_type="self"),
            request(sr="selfonly", link="https://e.x/"),
            "NO_LINKS",
        ),
        (lambda s: s.add_subreddit("linksonly", link_type="link"), request(sr="linksonly"), "NO_SELFS"),
    ],
)
def test_refusals_sent_with_http_200_are_failures_with_reddits_reason(server, setup, req, reason):
    setup(server)
    with pytest.raises(PlatformRejected) as err:
        adapter(server).publish(req)
    assert reason in str(err.value)
    assert server.posts == []
    (submit,) = server.requests_to("POST", "/api/submit")
    assert submit.status == 200  # the status alone says nothing went wrong


def test_a_ratelimit_refusal_is_rate_limited_with_reddits_wait(server):
    server.submit_errors.append(
        [
            "RATELIMIT",
            "Looks like you've been doing that a lot. Take a break for 9 minutes before trying again.",
            "ratelimit",
        ]
    )
    with pytest.raises(PlatformRateLimited) as err:
        adapter(server).publish(request())
    assert err.value.retry_after == 540 and server.posts == []


def test_a_subreddit_that_requires_flair_lists_the_flairs_one_may_use(server):
    server.add_subreddit(
        "flairy",
        flair_required=True,
        flairs=[
            flair("a1b2-c3", "Question"),
            flair("d4e5-f6", "Discussion"),
            flair("mod-9", "Announcement", mod_only=True),
        ],
    )
    with pytest.raises(PlatformRejected) as err:
        adapter(server).publish(request(sr="flairy"))
    message = str(err.value)
    assert "SUBMIT_VALIDATION_FLAIR_REQUIRED" in message
    assert "a1b2-c3 (Question), d4e5-f6 (Discussion)" in message and "mod-9" not in message
    assert "--field reddit.flair_id=ID" in err.value.hint
    assert server.count("GET /r/:sr/api/link_flair_v2") == 1 and server.posts == []

    result = adapter(server).publish(request(sr="flairy", fields={"flair_id": "d4e5-f6"}))
    (post,) = server.posts
    assert post["name"] == result.platform_post_id and post["link_flair_template_id"] == "d4e5-f6"


def test_flair_required_in_the_submit_validators_http_400_shape_lists_the_flairs_too(server):
    server.subreddits["test"].flairs.append(flair("n-1", "News"))
    # PRAW's TestSubreddit.test_submit__verify_invalid: the validator answers HTTP 400 with a reason.
    body = {
        "fields": ["flair"],
        "explanation": "Your post must contain post flair.",
        "message": "Bad Request",
        "error_type": "SUBMIT_VALIDATION_ERROR",
        "reason": "SUBMIT_VALIDATION_FLAIR_REQUIRED",
    }
    server.fail_next("POST", "/api/submit", 400, json=body)
    with pytest.raises(PlatformRejected) as err:
        adapter(server).publish(request())
    assert "SUBMIT_VALIDATION_FLAIR_REQUIRED: Your post must contain post flair. (field flair)" in str(err.value)
    assert "n-1 (News)" in str(err.value)


# -- reconciling a lost answer ---------------------------------------------------------------


def test_a_lost_answer_is_found_among_the_users_submissions_and_not_sent_again(server):
    server.lose_submit_answers = 1
    req = request("Only once", title="Exactly one post", first_attempt_at=datetime.now(timezone.utc))
    with pytest.raises(PlatformUnavailable) as err:
        adapter(server, timeout=0.5).publish(req)
    assert "outcome is unknown" in (err.value.hint or "") and server.url.split("//")[1] in str(err.value)
    (created,) = server.posts

    found = adapter(server).find_published(req)
    assert found is not None and found.platform_post_id == created["name"]
    assert found.url == server.url + created["permalink"]
    listing = server.requests_to("GET", "/user/alice_writes/submitted")[-1]
    assert listing.param("sort") == "new" and listing.param("limit") == "100"
    assert len(server.posts) == 1


def test_reconcile_tells_posts_apart_by_subreddit_title_kind_and_body(server):
    server.add_subreddit("other")
    now = datetime.now(timezone.utc)
    server.add_post("Same title", "same body", subreddit="other")
    server.add_post("Same title", "another body")
    server.add_post("Same title", "", link="https://example.com/x")
    a = adapter(server)
    assert a.find_published(request("same body", title="Same title", first_attempt_at=now)) is None
    link = a.find_published(request("", title="Same title", link="https://example.com/x/", first_attempt_at=now))
    assert link is not None and link.platform_post_id == server.posts[2]["name"]


def test_reconcile_ignores_a_matching_post_older_than_the_first_attempt(server):
    server.add_post("Old", "text", created=(datetime.now(timezone.utc) - timedelta(hours=2)).timestamp())
    assert (
        adapter(server).find_published(request("text", title="Old", first_attempt_at=datetime.now(timezone.utc)))
        is None
    )


# -- metrics ------------------------------------------------------------------------------------


def test_metrics_map_score_comments_crossposts_and_keep_the_ratio_in_raw(server):
    a, b = server.add_post("one"), server.add_post("two")
    server.set_numbers(a, score=57, num_comments=9, num_crossposts=2, upvote_ratio=0.93, view_count=None)
    server.set_numbers(b, score=3, view_count=1234)
    metrics = adapter(server).fetch_post_metrics([a, b])

    assert (metrics[a].likes, metrics[a].comments, metrics[a].shares, metrics[a].impressions) == (57, 9, 2, None)
    assert metrics[a].raw["upvote_ratio"] == 0.93 and metrics[a].platform_state is None
    assert metrics[b].impressions == 1234
    for counter in ("reach", "views", "saves", "clicks", "video_views", "quotes"):
        assert getattr(metrics[a], counter) is None
    (info,) = server.requests_to("GET", "/api/info")
    assert info.param("id") == f"{a},{b}"


def test_a_count_the_answer_leaves_out_is_none_not_zero(server):
    a = server.add_post("one")
    with server._lock:
        del server._posts[a]["num_crossposts"]
    assert adapter(server).fetch_post_metrics([a])[a].shares is None


def test_metrics_go_100_ids_a_call(server):
    names = [server.add_post(f"p{i}") for i in range(150)]
    metrics = adapter(server).fetch_post_metrics(names)
    assert all(metrics[n] is not None for n in names)
    assert [len(r.param("id").split(",")) for r in server.requests_to("GET", "/api/info")] == [100, 50]


def test_deleted_by_the_author_is_none_removed_by_moderators_keeps_its_numbers(server):
    kept, deleted, removed, purged = (server.add_post(t) for t in ("kept", "deleted", "removed", "purged"))
    server.set_numbers(removed, score=12)
    server.delete_by_author(deleted)
    server.remove(removed, "moderator")
    server.purge(purged)
    metrics = adapter(server).fetch_post_metrics([kept, deleted, removed, purged])
    assert metrics[deleted] is None and metrics[purged] is None
    assert metrics[kept] is not None and metrics[kept].platform_state is None
    assert metrics[removed] is not None and metrics[removed].likes == 12
    assert metrics[removed].platform_state == "removed by the subreddit's moderators"


def test_a_post_reddits_filters_removed_says_so(server):
    name = server.add_post("spammy")
    server.remove(name, "reddit")
    assert adapter(server).fetch_post_metrics([name])[name].platform_state == "removed by Reddit's filters"


def test_account_metrics_followers_from_the_profile_and_karma_in_raw(server):
    m = adapter(server).fetch_account_metrics()
    assert m.followers == 42 and (m.following, m.posts_count, m.impressions) == (None, None, None)
    assert (m.raw["link_karma"], m.raw["comment_karma"], m.raw["total_karma"]) == (120, 30, 150)


def test_account_metrics_without_a_profile_leave_followers_null():
    with FakeReddit(subscribers=None) as server:
        assert adapter(server).fetch_account_metrics().followers is None


# -- tokens ------------------------------------------------------------------------------------


def test_401_refreshes_once_and_retries_with_the_new_token(server):
    name = server.add_post("counted")
    saved = []
    a = adapter(server, save_secrets=saved.append)
    server.expire_access_token()
    server.reset_log()
    assert a.fetch_post_metrics([name])[name] is not None
    assert [(r.method, r.path, r.status) for r in server.requests] == [
        ("GET", "/api/info", 401),
        ("POST", "/api/v1/access_token", 200),
        ("GET", "/api/info", 200),
    ]
    assert saved[-1]["access_token"] == server.access_token


def test_a_known_expiry_is_refreshed_before_the_call(server):
    ctx = server.account_context(token_expires_at=soon(2))
    adapter_ = RedditAdapter(ctx)
    adapter_.fetch_account_metrics()
    assert [r.path for r in server.requests] == ["/api/v1/access_token", "/api/v1/me"]
    assert timedelta(minutes=59) < ctx.token_expires_at - datetime.now(timezone.utc)


def test_a_rotated_refresh_token_is_saved_at_once(server):
    server.rotate_refresh = True
    saved = []
    ctx = server.account_context(token_expires_at=soon(-1), save_secrets=saved.append)
    RedditAdapter(ctx).check_health()
    assert saved[0]["refresh_token"] == server.refresh_token != "fake-reddit-refresh-token-0123456789"
    assert saved[0]["access_token"] == server.access_token


def test_a_revoked_grant_refused_with_http_200_is_auth_failed_without_secrets(server):
    ctx = server.account_context(token_expires_at=soon(-1))
    secrets = dict(ctx.secrets)
    server.revoke()
    with pytest.raises(AuthFailed) as err:
        RedditAdapter(ctx).check_health()
    (token_call,) = server.requests
    assert token_call.status == 200  # Reddit's refusal: {"error": "invalid_grant"} with HTTP 200
    text = str(err.value) + str(err.value.hint)
    assert "invalid_grant" in text and "accounts login reddit --user alice_writes" in text
    for secret in secrets.values():
        assert secret not in text


def test_another_process_refreshed_first_its_token_is_taken(server):
    other = server.account_context(token_expires_at=soon(2))  # holds the token of before
    stored: list[dict] = []
    RedditAdapter(server.account_context(token_expires_at=soon(2), save_secrets=stored.append)).check_health()
    server.reset_log()
    other.load_secrets = lambda: dict(stored[-1])
    assert RedditAdapter(other).check_health().ok
    assert [r.path for r in server.requests] == ["/api/v1/me"]
    assert server.requests[0].headers["Authorization"] == f"bearer {stored[-1]['access_token']}"


def test_an_unknown_client_id_on_refresh_is_auth_failed(server):
    with pytest.raises(AuthFailed) as err:
        adapter(
            server, token_expires_at=soon(-1), settings={"client_id": "not-my-app", "username": "alice_writes"}
        ).check_health()
    assert "client id" in str(err.value)


def test_a_missing_scope_is_auth_failed_with_the_login_command(server):
    server.fail_next(
        "GET", "/api/v1/me", 403, headers={"www-authenticate": 'Bearer realm="reddit", error="insufficient_scope"'}
    )
    with pytest.raises(AuthFailed) as err:
        adapter(server).fetch_account_metrics()
    assert "lacks a scope" in str(err.value) and "accounts login reddit" in err.value.hint


def test_401_without_a_refresh_token_is_auth_failed_and_says_tokens_last_an_hour(server):
    a = adapter(server, secrets={"access_token": server.access_token})
    server.expire_access_token()
    with pytest.raises(AuthFailed) as err:
        a.fetch_account_metrics()
    assert "one hour" in err.value.hint and server.count("POST /api/v1/access_token (refresh_token)") == 0


def test_check_health_reports_a_token_of_another_user(server):
    res = adapter(server, settings={"client_id": server.client_id, "username": "bob"}, handle="bob").check_health()
    assert (res.ok, res.error_code) == (False, "wrong_user")


# -- rate limits and failures --------------------------------------------------------------------


def test_429_is_rate_limited_until_the_windows_reset(server):
    server.fail_next(
        "GET",
        "/api/info",
        429,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "212", "x-ratelimit-used": "100"},
    )
    with pytest.raises(PlatformRateLimited) as err:
        adapter(server).fetch_post_metrics(["t3_abc"])
    assert err.value.retry_after == 212


def test_a_spent_window_is_not_spent_further(server):
    clock = FakeClock()
    a = adapter(server, clock=clock)
    server.set_ratelimit(used=99, remaining=1.0, reset=37)
    a.fetch_account_metrics()  # answered with x-ratelimit-remaining 0.0
    assert a.ratelimit == {"used": 100.0, "remaining": 0.0, "reset": 37.0}
    server.reset_log()
    with pytest.raises(PlatformRateLimited) as err:
        a.fetch_account_metrics()
    assert err.value.retry_after == 37 and server.requests == []  # not sent
    clock.now += 38  # the window is over
    server.set_ratelimit(used=0, remaining=100.0, reset=600)
    assert a.fetch_account_metrics().followers == 42


def test_server_error_and_timeout_and_unreachable_name_the_host(server):
    server.fail_next("GET", "/api/v1/me", 503)
    with pytest.raises(PlatformUnavailable) as err:
        adapter(server).fetch_account_metrics()
    assert server.host in str(err.value) and "503" in str(err.value)
    server.set_delay(3, "GET", "/api/v1/me", times=1)
    with pytest.raises(PlatformUnavailable) as err:
        adapter(server, timeout=0.3).fetch_account_metrics()
    assert server.host in str(err.value) and "did not answer" in str(err.value)


def test_unreachable_api_is_platform_unavailable():
    from postcli.signin.loopback import free_port

    url = f"http://127.0.0.1:{free_port()}"
    with FakeReddit() as s:
        ctx = s.account_context(api_base_url=url)
    with pytest.raises(PlatformUnavailable) as err:
        RedditAdapter(ctx).fetch_account_metrics()
    assert url.split("//")[1] in str(err.value)


def test_a_non_json_answer_is_malformed(server):
    server.fail_next_text("GET", "/api/info", 200, "<html><body>upstream says hi</body></html>")
    with pytest.raises(MalformedResponse) as err:
        adapter(server).fetch_post_metrics(["t3_abc"])
    assert server.host in str(err.value)


# -- delete, resolve, imports ---------------------------------------------------------------------


def test_delete_and_delete_again(server):
    name = server.add_post("bye")
    a = adapter(server)
    a.delete(name)
    a.delete(name)
    assert [r.param("id") for r in server.requests_to("POST", "/api/del")] == [name, name]
    assert a.fetch_post_metrics([name])[name] is None


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("1kh35wk", "1kh35wk"),
        ("t3_1kh35wk", "1kh35wk"),
        ("https://www.reddit.com/r/test/comments/1kh35wk/test_title/", "1kh35wk"),
        ("https://old.reddit.com/r/test/comments/1kh35wk/", "1kh35wk"),
        ("reddit.com/comments/1kh35wk", "1kh35wk"),
        ("https://redd.it/1kh35wk", "1kh35wk"),
        ("https://www.reddit.com/r/test/", None),
        ("https://example.com/comments/1kh35wk", None),
        ("not a post!", None),
    ],
)
def test_post_references(ref, expected):
    assert post_id36(ref) == expected


def test_resolve_post_by_link_and_id_and_unknown(server):
    name = server.add_post("Imported", "its body")
    post = server.posts[0]
    a = adapter(server)
    for ref in (name, post["id"], server.url.replace("http://127.0.0.1", "https://www.reddit.com") + post["permalink"]):
        found = a.resolve_post(ref)
        assert (found.platform_post_id, found.author, found.text) == (name, "t2_3ebyblla", "its body")
    with pytest.raises(RemoteNotFound):
        a.resolve_post("t3_zzzzzzz")
    with pytest.raises(RemoteNotFound):
        a.resolve_post("https://example.com/nothing")


def test_module_imports_without_httpx():
    code = "import sys, postcli.platforms.reddit.adapter; assert 'httpx' not in sys.modules, 'httpx imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent)
