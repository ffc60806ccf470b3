"""First comments (issue 28) on the Graph platforms: Facebook (a comment on the Page post) and
Instagram (a comment on the media) hit their documented comment endpoints once the post exists;
a refused comment leaves the post partial_success and a retry sends only the comment; a comment
whose answer was lost is found again under the post, not sent twice. Threads: parts and first
comments are replies (reply_to_id), found again among the profile's replies."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from fakes.facebook_server import FakeFacebook
from fakes.instagram_server import FakeInstagram
from fakes.threads_server import FakeThreads
from postcli.platforms.base import PostRef, PublishRequest
from postcli.platforms.threads.adapter import ThreadsAdapter
from test_s3 import aws_env, bucket, moto_endpoint  # noqa: F401 (fixtures: a loopback S3 for Instagram's media)


@pytest.fixture
def fb():
    with FakeFacebook() as server:
        yield server


@pytest.fixture
def page(cli, fb):
    page = fb.add_page("Cafe Nova", followers=120, fans=110)
    token = fb.add_user("Ada", [page])
    cli.json("accounts", "add", "facebook", "--api-base", fb.url, "--token-stdin", input=token + "\n")
    fb.reset_log()
    return page


def _paths(fb: FakeFacebook) -> list[str]:
    return [f"{r.method} {r.path.lstrip('/')}" for r in fb.requests if r.method == "POST"]


def test_facebook_first_comment_goes_under_the_page_post_once_it_exists(cli, fb, page):
    out = cli.json("post", "create", "Opening today", "--to", "facebook", "--first-comment", "Menu: https://x.example")
    assert out["status"] == "completed"
    (post,) = fb.page_posts(page)
    assert _paths(fb) == [f"POST {page.id}/feed", f"POST {post.id}/comments"]
    (comment,) = post.comment_list
    assert comment["message"] == "Menu: https://x.example" and comment["from"]["id"] == page.id
    (target,) = out["targets"]
    assert target["platform_post_id"] == post.id  # the target is the post; the comment is kept apart
    assert target["first_comment"] == {
        "text": "Menu: https://x.example",
        "status": "completed",
        "platform_post_id": comment["id"],
        "url": comment["permalink_url"],
        "error": None,
    }


def test_a_refused_facebook_comment_is_partial_success_and_a_retry_sends_only_the_comment(cli, fb, page):
    # Page post ids are PAGEID_N: this prefix is the comment on the post, not the post (/PAGEID/feed).
    fb.fail_next("POST", f"/{page.id}_", code=100, message="(#100) Comments are turned off for this post")
    r = cli("post", "create", "Hello", "--to", "facebook", "--first-comment", "More below", "--json")
    assert r.exit_code == 7, r.stderr
    out = json.loads(r.stdout)
    (target,) = out["targets"]
    assert out["status"] == "partial_success" and target["status"] == "failed"
    assert target["error"].startswith("first comment: ") and "Comments are turned off" in target["error"]
    assert target["parts"][0]["status"] == "completed" and target["first_comment"]["status"] == "failed"
    (post,) = fb.page_posts(page)
    assert post.comment_list == []

    again = cli.json("post", "retry", str(out["id"]))
    assert again["status"] == "completed"
    assert len(fb.page_posts(page)) == 1 and len(fb.requests_to("POST", f"/{page.id}/feed")) == 1
    assert [c["message"] for c in post.comment_list] == ["More below"]


def test_a_comment_whose_answer_was_lost_is_found_again_not_sent_twice(cli, fb, page):
    gate = fb.hold("POST", f"/{page.id}_", times=1)  # the comment on the post (ids PAGEID_N), not the post
    r = cli(
        "post", "create", "Hello", "--to", "facebook", "--first-comment", "Below", "--json", env={"POSTCLI_TIMEOUT": "1"}
    )  # fmt: skip
    assert r.exit_code == 7, r.stderr
    out = json.loads(r.stdout)
    assert out["status"] == "partial_success" and out["targets"][0]["error"].startswith("first comment: ")
    assert "outcome is unknown" in out["targets"][0]["error"]
    gate.set()  # it reached Facebook: the comment is made after all
    (post,) = fb.page_posts(page)
    deadline = time.monotonic() + 10
    while not post.comment_list and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(post.comment_list) == 1
    again = cli.json("post", "retry", str(out["id"]))
    assert again["status"] == "completed" and again["targets"][0]["reconciled"] is True
    assert len(post.comment_list) == 1 and len(fb.page_posts(page)) == 1
    assert len([r for r in fb.requests_to("POST", "") if r.path.endswith("/comments")]) == 1


# --- Instagram: the comment goes on the media ---------------------------------------------------------


def test_instagram_first_comment_goes_on_the_media_once_it_is_published(cli, bucket, tmp_path, home):  # noqa: F811
    from PIL import Image

    photo = tmp_path / "cat.jpg"
    Image.new("RGB", (100, 100), (200, 30, 30)).save(photo, "JPEG")
    with FakeInstagram() as ig:
        cli.json("accounts", "add", "instagram", "--api-base", ig.url, "--token-stdin", input=ig.token + "\n")
        ig.reset_log()
        out = cli.json(
            "post", "create", "A cat", "--to", "instagram", "--media", str(photo), "--first-comment", "#cat #caturday"
        )  # fmt: skip
        assert out["status"] == "completed", out
        media_id = out["targets"][0]["platform_post_id"]
        posts = [r.path for r in ig.requests if r.method == "POST"]
        assert posts[-2:] == [posts[-2], f"/{media_id}/comments"] and posts[-2].endswith("/media_publish")
        (comment,) = ig.media[media_id]["comments_list"]
        assert comment["text"] == "#cat #caturday"
        assert out["targets"][0]["first_comment"]["platform_post_id"] == comment["id"]
        assert sqlite3.connect(home / "postcli.db").execute("select count(*) from target_parts").fetchone()[0] == 2


def test_instagram_find_comment_takes_only_the_accounts_own_comment_with_that_text():
    from postcli.platforms.instagram.adapter import InstagramAdapter

    with FakeInstagram() as ig:
        media = ig.add_media(caption="hello")
        adapter = InstagramAdapter(ig.account_context())
        req = PublishRequest(text="#tags", idempotency_key="k", reply_to=PostRef(media["id"]))
        assert adapter.find_comment(req) is None
        ig.media[media["id"]].setdefault("comments_list", []).append(
            {"id": "999", "text": "#tags", "timestamp": "2030-01-01T00:00:00+0000", "from": {"id": "someone-else"}}
        )
        assert adapter.find_comment(req) is None  # a stranger's comment is not ours
        made = adapter.publish_comment(req)
        assert ig.requests_to("POST", f"/{media['id']}/comments")[0].param("message") == "#tags"
        assert adapter.find_comment(req).platform_post_id == made.platform_post_id


# --- Threads: replies ------------------------------------------------------------------------------


def test_threads_parts_are_replies_and_a_lost_answer_is_found_among_the_replies():
    with FakeThreads() as server:
        adapter = ThreadsAdapter(server.account_context())
        first = adapter.publish(PublishRequest(text="part one", idempotency_key="a"))
        second_req = PublishRequest(text="part two", idempotency_key="b", reply_to=PostRef(first.platform_post_id))
        assert adapter.find_published(second_req) is None
        second = adapter.publish(second_req)
        creates = [r for r in server.requests_to("POST", "/v1.0/") if r.path.endswith("/threads")]
        assert creates[0].param("reply_to_id") is None and creates[1].param("reply_to_id") == first.platform_post_id
        assert server.posts[second.platform_post_id]["replied_to"] == {"id": first.platform_post_id}
        found = adapter.find_published(second_req)
        assert found is not None and found.platform_post_id == second.platform_post_id
        listed = server.requests_to("GET", "/v1.0/")
        assert any(r.path.endswith("/replies") for r in listed)
        # The same text under another post is not this part.
        other = PublishRequest(text="part two", idempotency_key="c", reply_to=PostRef("123456"))
        assert adapter.find_published(other) is None
        # A post of its own is looked for among the threads, where replies are not listed.
        assert adapter.find_published(PublishRequest(text="part two", idempotency_key="d")) is None
