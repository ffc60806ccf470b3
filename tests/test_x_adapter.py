"""The real X adapter against the fake X API v2 over loopback sockets: connecting, limits,
publishing text and media, reconciling an unknown outcome, deleting, metrics and import.

Nothing in the adapter is patched: it talks HTTP to tests/fakes/x_server.py, and the tests
assert on what the fake received and what the adapter returned. Tokens, errors, rate-limit
windows and the usage cap are in test_x_api.py; sign-in in test_signin_x.py; the CLI end to
end in test_x_cli.py.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fakes.clock import FakeClock
from fakes.x_server import ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, FakeX
from postcli.platforms.base import (
    AuthFailed,
    MediaItem,
    PlatformRejected,
    PlatformUnavailable,
    PublishRequest,
    RemoteNotFound,
)
from postcli.platforms.x.adapter import XAdapter
from postcli.platforms.x.posts import created_at_of_id, reference

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture
def server():
    with FakeX() as s:
        yield s


def adapter(server: FakeX, **overrides) -> XAdapter:
    return XAdapter(server.account_context(**overrides))


def item(tmp_path: Path, name: str, mime: str, data: bytes = PNG, alt: str | None = None) -> MediaItem:
    path = tmp_path / name
    path.write_bytes(data)
    return MediaItem(path=path, mime_type=mime, size_bytes=len(data), alt_text=alt)


def request(text: str, media: list[MediaItem] | None = None, **kw) -> PublishRequest:
    return PublishRequest(text=text, idempotency_key="k", media=media or [], **kw)


# -- ids and links --------------------------------------------------------------------------------


def test_post_references_of_every_link_form():
    assert reference("1880028106020515840") == (None, "1880028106020515840")
    assert reference("https://x.com/alice_x/status/123") == ("alice_x", "123")
    assert reference("https://twitter.com/alice_x/status/123/photo/1") == ("alice_x", "123")
    assert reference("mobile.twitter.com/alice_x/statuses/123") == ("alice_x", "123")
    assert reference("https://www.x.com/i/web/status/123") == (None, "123")
    assert reference("https://x.com/alice_x") is None
    assert reference("https://example.com/alice_x/status/123") is None
    assert reference("https://notx.com/alice_x/status/123") is None


def test_an_id_tells_when_its_post_was_made():
    # X's documented example id (x-api/fundamentals/...: 1445880548472328192, 2021-10-06).
    assert created_at_of_id("1445880548472328192").date().isoformat() == "2021-10-06"
    assert created_at_of_id("12") is None and created_at_of_id("nope") is None


# -- connect --------------------------------------------------------------------------------------


def test_connect_after_sign_in_reads_the_user_and_keeps_the_tokens_expiry(server):
    saved = []
    expires = (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat()
    ctx = server.account_context(
        handle=None,
        external_id=None,
        settings={"client_id": CLIENT_ID},
        secrets={"refresh_token": REFRESH_TOKEN, "client_secret": CLIENT_SECRET, "expires_at": expires},
        save_secrets=saved.append,
    )
    info = XAdapter(ctx).connect(None, f" {ACCESS_TOKEN}\n")
    assert (info.external_id, info.handle, info.display_name) == (server.user_id, "alice_x", "Alice X")
    assert info.token_expires_at.isoformat() == expires
    (me,) = server.requests  # the expiry is known: no refresh
    assert (me.method, me.path, me.bearer) == ("GET", "/2/users/me", ACCESS_TOKEN)
    assert saved[-1] == {
        "access_token": ACCESS_TOKEN,
        "refresh_token": REFRESH_TOKEN,
        "client_secret": CLIENT_SECRET,
        "expires_at": expires,
    }
    assert ctx.settings == {"client_id": CLIENT_ID, "user_id": server.user_id, "username": "alice_x"}
    assert ctx.settings_changed


def test_connect_with_a_refresh_token_refreshes_once_with_basic_auth(server):
    saved = []
    ctx = server.account_context(handle=None, external_id=None, save_secrets=saved.append)
    info = XAdapter(ctx).connect(None, ACCESS_TOKEN)
    token, me = server.requests
    assert (token.method, token.path) == ("POST", "/2/oauth2/token")
    # A confidential app: HTTP Basic, and no client id or secret in the body.
    assert token.headers["Authorization"].startswith("Basic ")
    assert token.form == {"grant_type": ["refresh_token"], "refresh_token": [REFRESH_TOKEN]}
    access, refresh = server.issued_tokens[0]
    assert me.bearer == access
    assert (saved[-1]["access_token"], saved[-1]["refresh_token"]) == (access, refresh)
    assert timedelta(minutes=119) < info.token_expires_at - datetime.now(timezone.utc) <= timedelta(hours=2)


def test_a_public_app_refreshes_with_its_client_id_in_the_body():
    with FakeX(confidential=False) as server:
        ctx = server.account_context(handle=None)
        XAdapter(ctx).connect(None, ACCESS_TOKEN)
        (token,) = server.requests_to("POST", "/2/oauth2/token")
        assert "Authorization" not in token.headers
        assert token.form == {
            "grant_type": ["refresh_token"],
            "refresh_token": [REFRESH_TOKEN],
            "client_id": [CLIENT_ID],
        }
        assert token.status == 200


def test_connect_with_a_refresh_token_but_no_client_id_sends_nothing(server):
    ctx = server.account_context(settings={}, secrets={"refresh_token": REFRESH_TOKEN})
    with pytest.raises(PlatformRejected, match="--client-id"):
        XAdapter(ctx).connect(None, ACCESS_TOKEN)
    assert server.requests == []


def test_connect_with_a_bad_token_is_auth_failed_without_the_token(server):
    ctx = server.account_context(settings={}, secrets={})
    with pytest.raises(AuthFailed) as caught:
        XAdapter(ctx).connect(None, "wrong-token-abcdef")
    assert "wrong-token-abcdef" not in str(caught.value) + (caught.value.hint or "")
    assert "postcli accounts login x" in caught.value.hint


# -- limits ---------------------------------------------------------------------------------------


def test_limits_are_xs_documented_ones(server):
    limits = adapter(server).limits()
    assert (limits.max_text, limits.url_weight, limits.max_images, limits.max_videos) == (280, 23, 4, 1)
    assert (limits.max_image_bytes, limits.max_gif_bytes, limits.max_video_bytes) == (5 << 20, 15 << 20, 512 << 20)
    assert (limits.max_alt_text, limits.min_video_seconds, limits.max_video_seconds) == (1000, 0.5, 140)
    assert "image/gif" in limits.mime_types and not limits.images_and_video
    assert adapter(server).text_length("日本 https://example.com/" + "a" * 200) == 4 + 1 + 23


def test_a_text_over_280_weighted_characters_is_refused_before_sending(server):
    a = adapter(server)
    with pytest.raises(PlatformRejected, match="282 weighted characters"):
        a.publish(request("日" * 141))
    a.publish(request("日" * 140))  # exactly 280
    assert [r.path for r in server.requests] == ["/2/tweets"]


def test_media_x_refuses_are_refused_before_any_upload(server, tmp_path):
    a = adapter(server)
    png = item(tmp_path, "a.png", "image/png")
    gif = item(tmp_path, "b.gif", "image/gif")
    big = MediaItem(path=png.path, mime_type="image/png", size_bytes=(5 << 20) + 1)
    big_gif = MediaItem(path=gif.path, mime_type="image/gif", size_bytes=(15 << 20) + 1)
    ok_gif = MediaItem(path=gif.path, mime_type="image/gif", size_bytes=10 << 20)  # a GIF may be 15 MB
    for media, says in [
        ([png, gif], "not a mix"),
        ([png] * 5, "5 images"),
        ([big], "5,242,880"),
        ([big_gif], "15,728,640"),
        ([item(tmp_path, "c.tif", "image/tiff")], "image/tiff"),
        ([item(tmp_path, "d.png", "image/png", alt="x" * 1001)], "alt text"),
    ]:
        with pytest.raises(PlatformRejected, match=says):
            a.publish(request("hi", media))
    assert server.requests == []
    from postcli.platforms.x.media import problems

    assert problems([ok_gif]) == []


def test_post_create_validation_gives_a_gif_its_own_size_limit(server, tmp_path):
    from postcli.services.posts.validation import media_problems

    limits = adapter(server).limits()
    gif = MediaItem(path=tmp_path / "g.gif", mime_type="image/gif", size_bytes=10 << 20)
    png = MediaItem(path=tmp_path / "p.png", mime_type="image/png", size_bytes=10 << 20)
    assert [str(p) for p in media_problems(limits, [gif])] == []
    assert [str(p) for p in media_problems(limits, [png])] == ["p.png is 10,485,760 bytes, the limit is 5,242,880."]


# -- publishing -----------------------------------------------------------------------------------


def test_a_text_post_is_one_post_with_its_id_link_and_time(server):
    result = adapter(server).publish(request("Hello X & friends <3", fields={"reply_settings": "following"}))
    (create,) = server.requests_to("POST", "/2/tweets")
    assert create.json == {"text": "Hello X & friends <3", "reply_settings": "following"}
    assert create.bearer == ACCESS_TOKEN
    (post,) = server.posts
    assert result.platform_post_id == post["id"]
    assert result.url == f"https://x.com/alice_x/status/{post['id']}"
    assert abs(result.published_at - post["created_at"]) < timedelta(seconds=1)


def test_images_are_uploaded_in_steps_with_their_alt_text(server, tmp_path):
    a = adapter(server)
    states = []
    media = [item(tmp_path, "one.png", "image/png", alt="a red square"), item(tmp_path, "two.jpg", "image/jpeg")]
    result = a.publish(request("two pictures", media, save_state=states.append))
    inits = server.requests_to("POST", "/2/media/upload/initialize")
    assert [r.json for r in inits] == [
        {"media_type": "image/png", "total_bytes": len(PNG), "media_category": "tweet_image"},
        {"media_type": "image/jpeg", "total_bytes": len(PNG), "media_category": "tweet_image"},
    ]
    appends = [r for r in server.requests_to("POST", "/2/media/upload/") if r.path.endswith("/append")]
    assert [(r.form["segment_index"], r.files["media"]["data"]) for r in appends] == [(["0"], PNG), (["0"], PNG)]
    (alt,) = server.requests_to("POST", "/2/media/metadata")
    first_id = alt.json["id"]
    assert alt.json == {"id": first_id, "metadata": {"alt_text": {"text": "a red square"}}}
    assert server.media(first_id)["alt_text"] == "a red square"
    (create,) = server.requests_to("POST", "/2/tweets")
    assert create.json["media"]["media_ids"][0] == first_id and len(create.json["media"]["media_ids"]) == 2
    (post,) = server.posts
    assert len(post["media_keys"]) == 2 and result.platform_post_id == post["id"]
    # Each upload was kept for a retry, as soon as it was done.
    assert [sorted(s["media"]) for s in states] == [["0"], ["0", "1"]]


def test_a_video_is_uploaded_in_parts_and_waited_for(server, tmp_path):
    clock = FakeClock()
    charged = []
    a = adapter(server, clock=clock, sleep=clock.sleep, charge_request=charged.append)
    data = bytes(range(256)) * 10_000  # 2.56 MB: three 1 MiB parts
    video = item(tmp_path, "clip.mp4", "video/mp4", data)
    a.publish(request("a clip", [video]))
    (init,) = server.requests_to("POST", "/2/media/upload/initialize")
    assert init.json["media_category"] == "tweet_video" and init.json["total_bytes"] == len(data)
    appends = [r for r in server.requests_to("POST", "/2/media/upload/") if r.path.endswith("/append")]
    assert [r.form["segment_index"] for r in appends] == [["0"], ["1"], ["2"]]
    assert b"".join(r.files["media"]["data"] for r in appends) == data
    # finalize said pending (check after 1 s); STATUS said in_progress (check after 3 s), then succeeded.
    assert clock.slept == [1, 3] and charged == ["media status", "media status"]
    statuses = server.requests_to("GET", "/2/media/upload")
    assert [r.query["command"] for r in statuses] == [["STATUS"], ["STATUS"]]
    assert len(server.posts) == 1


def test_a_video_x_cannot_process_posts_nothing(tmp_path):
    with FakeX(processing_checks=1) as server:
        server.processing_fails = True
        clock = FakeClock()
        a = adapter(server, clock=clock, sleep=clock.sleep)
        with pytest.raises(PlatformRejected, match="Unsupported video format"):
            a.publish(request("a clip", [item(tmp_path, "clip.mp4", "video/mp4", b"\x00" * 100)]))
        assert server.requests_to("POST", "/2/tweets") == [] and server.posts == []


def test_a_gif_is_uploaded_as_a_gif(server, tmp_path):
    clock = FakeClock()
    adapter(server, clock=clock, sleep=clock.sleep).publish(
        request("", [item(tmp_path, "a.gif", "image/gif", b"GIF89a")])
    )
    (init,) = server.requests_to("POST", "/2/media/upload/initialize")
    assert init.json["media_category"] == "tweet_gif"
    (create,) = server.requests_to("POST", "/2/tweets")
    assert "text" not in create.json  # a media-only post


def test_a_retry_reuses_the_files_an_earlier_attempt_uploaded(server, tmp_path):
    media = [item(tmp_path, "one.png", "image/png")]
    states = []
    server.fail_next("POST", "/2/tweets", 503, exact=True)
    with pytest.raises(PlatformUnavailable):
        adapter(server).publish(request("again", media, save_state=states.append))
    uploads = len(server.requests_to("POST", "/2/media/upload/initialize"))
    adapter(server).publish(request("again", media, state=states[-1], save_state=states.append))
    assert len(server.requests_to("POST", "/2/media/upload/initialize")) == uploads == 1
    (post,) = server.posts
    assert post["media_keys"] == [server.media(states[-1]["media"]["0"]["id"])["media_key"]]


def test_an_unreadable_file_is_named_and_nothing_is_sent(server, tmp_path):
    gone = MediaItem(path=tmp_path / "gone.png", mime_type="image/png", size_bytes=10)
    with pytest.raises(Exception, match="gone.png"):
        adapter(server).publish(request("hi", [gone]))
    assert server.requests == []


# -- an unknown outcome ---------------------------------------------------------------------------


def test_a_lost_answer_is_found_among_the_accounts_posts_and_not_sent_again(server, tmp_path):
    text = "Launch day: https://example.com/launch?ref=x & more"
    media = [item(tmp_path, "one.png", "image/png")]
    server.lose_answer("POST", "/2/tweets")
    a = adapter(server, timeout=0.5)
    with pytest.raises(PlatformUnavailable, match="did not answer"):
        a.publish(request(text, media))
    (post,) = server.posts  # X made it
    first = datetime.now(timezone.utc) - timedelta(seconds=5)
    found = adapter(server).find_published(request(text, media, first_attempt_at=first))
    assert found is not None and found.platform_post_id == post["id"]
    assert found.url == f"https://x.com/alice_x/status/{post['id']}"
    (listing,) = server.requests_to("GET", f"/2/users/{server.user_id}/tweets")
    assert listing.query["tweet.fields"] == ["created_at,entities,attachments"]
    assert listing.query["start_time"] == [(first - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")]


def test_a_post_that_differs_or_is_older_than_the_first_attempt_is_not_ours(server, tmp_path):
    server.add_post("same words", created_at=datetime.now(timezone.utc) - timedelta(hours=2))
    server.add_post("same words https://example.org")
    server.add_post("same words", media=("tweet_image",))
    a = adapter(server)
    first = datetime.now(timezone.utc) - timedelta(minutes=1)
    assert a.find_published(request("same words", first_attempt_at=first)) is None
    assert a.find_published(request("same words https://example.com", first_attempt_at=first)) is None


def test_a_duplicate_refused_after_a_lost_answer_is_that_post(server):
    server.add_post("said once")
    first = datetime.now(timezone.utc) - timedelta(minutes=1)
    result = adapter(server).publish(request("said once", first_attempt_at=first))
    assert result.platform_post_id == server.posts[0]["id"] and len(server.posts) == 1


def test_a_duplicate_of_an_older_post_is_refused_with_xs_words(server):
    server.add_post("said before", created_at=datetime.now(timezone.utc) - timedelta(days=3))
    with pytest.raises(PlatformRejected, match="duplicate content") as caught:
        adapter(server).publish(request("said before"))
    assert "change the text" in caught.value.hint


# -- delete, metrics, import ----------------------------------------------------------------------


def test_delete_and_delete_again(server):
    post_id = server.add_post("to go")
    a = adapter(server)
    a.delete(post_id)
    a.delete(post_id)  # X answers {"deleted": false}
    a.delete("1880028106020515999")  # never existed: 404
    assert server.posts == []
    assert [r.status for r in server.requests_to("DELETE", "/2/tweets/")] == [200, 200, 404]


def test_a_deleted_post_is_none_while_the_others_keep_their_metrics(server):
    keep = server.add_post("keep", like_count=5, reply_count=2, retweet_count=3, quote_count=1, bookmark_count=4)
    gone = server.add_post("gone")
    server.set_metrics(keep, impression_count=900, url_link_clicks=12)
    server.delete_post(gone)
    got = adapter(server).fetch_post_metrics([keep, gone])
    assert got[gone] is None
    m = got[keep]
    assert (m.likes, m.comments, m.shares, m.quotes, m.saves, m.impressions, m.clicks) == (5, 2, 3, 1, 4, 900, 12)
    assert (m.reach, m.views, m.video_views) == (None, None, None)
    (call,) = server.requests_to("GET", "/2/tweets")
    assert call.query["ids"] == [f"{keep},{gone}"]
    assert call.query["tweet.fields"] == ["public_metrics,created_at,attachments,non_public_metrics,organic_metrics"]


def test_a_count_the_answer_leaves_out_is_none_not_zero(server):
    post_id = server.add_post("quiet")
    server.set_metrics(post_id, like_count=None, url_link_clicks=None, impression_count=None)
    m = adapter(server).fetch_post_metrics([post_id])[post_id]
    assert (m.likes, m.clicks, m.impressions) == (None, None, None)
    assert (m.comments, m.shares) == (0, 0)


def test_private_metrics_refused_for_an_old_post_read_public_ones_and_never_delete_it(server):
    old = server.add_post("last month", created_at=datetime.now(timezone.utc) - timedelta(days=40), like_count=7)
    new = server.add_post("today", like_count=1)
    got = adapter(server).fetch_post_metrics([old, new])
    assert got[old] is not None and got[old].likes == 7 and got[old].clicks is None
    assert got[new].clicks == 0
    # The id says the old post is 40 days old: it was asked for public fields only.
    asked = {r.query["ids"][0]: r.query["tweet.fields"][0] for r in server.requests_to("GET", "/2/tweets")}
    assert asked == {
        new: "public_metrics,created_at,attachments,non_public_metrics,organic_metrics",
        old: "public_metrics,created_at,attachments",
    }


def test_an_access_level_without_private_metrics_still_gets_the_public_ones():
    with FakeX(private_metrics=False) as server:
        post_id = server.add_post("fresh", like_count=3)
        server.set_metrics(post_id, impression_count=50)
        m = adapter(server).fetch_post_metrics([post_id])[post_id]
        assert (m.likes, m.impressions, m.clicks) == (3, 50, None)
        first, second = server.requests_to("GET", "/2/tweets")
        assert "non_public_metrics" in first.query["tweet.fields"][0]
        assert second.query["tweet.fields"] == ["public_metrics,created_at,attachments"]


def test_video_views_come_from_the_media(server):
    post_id = server.add_post("a clip", media=("tweet_video",))
    server.set_views(post_id, 4321)
    m = adapter(server).fetch_post_metrics([post_id])[post_id]
    assert m.video_views == 4321
    (call,) = server.requests_to("GET", "/2/tweets")
    assert call.query["expansions"] == ["attachments.media_keys"]
    assert m.raw["media"][0]["public_metrics"] == {"view_count": 4321}


def test_the_openapis_names_are_read_and_its_fields_parameter_learned():
    with FakeX(fields_param="post.fields", renamed=True) as server:
        post_id = server.add_post("renamed", retweet_count=6)
        a = adapter(server)
        assert a.fetch_post_metrics([post_id])[post_id].shares == 6  # public_metrics.repost_count
        assert a.fetch_account_metrics().posts_count == 1  # public_metrics.post_count
        assert a.ctx.settings["fields_param"] == "post.fields" and a.ctx.settings_changed
        first, second = server.requests_to("GET", "/2/tweets")
        assert (first.status, second.status) == (400, 200) and "post.fields" in second.query
        a.fetch_post_metrics([post_id])  # remembered: asked right at once
        assert server.requests_to("GET", "/2/tweets")[-1].status == 200
        assert len(server.requests_to("GET", "/2/tweets")) == 3


def test_a_batch_of_a_hundred_posts_is_one_request(server):
    ids = [server.add_post(f"post {i}") for i in range(150)]
    got = adapter(server).fetch_post_metrics(ids)
    assert all(got[i] is not None for i in ids)
    assert [len(r.query["ids"][0].split(",")) for r in server.requests_to("GET", "/2/tweets")] == [100, 50]


def test_account_metrics(server):
    server.add_post("one")
    m = adapter(server).fetch_account_metrics()
    assert (m.followers, m.following, m.posts_count) == (321, 42, 1)
    assert (m.impressions, m.reach, m.profile_views) == (None, None, None)
    (call,) = server.requests
    assert call.query["user.fields"] == ["public_metrics"]


def test_resolve_post_by_id_and_by_each_link_form(server):
    post_id = server.add_post("see https://example.com/x &amp; more")
    a = adapter(server)
    for ref in (
        post_id,
        f"https://x.com/alice_x/status/{post_id}",
        f"https://twitter.com/alice_x/status/{post_id}?s=20",
    ):
        found = a.resolve_post(ref)
        assert (found.platform_post_id, found.author) == (post_id, server.user_id)
        assert found.url == f"https://x.com/alice_x/status/{post_id}"
        assert found.text == "see https://example.com/x &amp; more"
    stranger = server.add_post("not mine", author_id="42")
    found = a.resolve_post(f"https://x.com/someone/status/{stranger}")
    assert found.author == "42" and found.url == f"https://x.com/someone/status/{stranger}"
    with pytest.raises(RemoteNotFound):
        a.resolve_post("https://x.com/alice_x/status/1880028106020515999")
    with pytest.raises(RemoteNotFound):
        a.resolve_post("https://example.com/alice_x/status/1")


def test_module_imports_without_httpx():
    code = "import sys, postcli.platforms.x.adapter; assert 'httpx' not in sys.modules, 'httpx imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
