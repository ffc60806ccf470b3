"""Reddit first comments (issue 28) through the CLI against the fake: the comment goes under the
post once it is submitted (POST /api/comment, thing_id=t3_…, api_type=json); a refusal (HTTP 200
with json.errors) leaves the post partial_success and a retry sends only the comment; a lost
answer is found among the user's recent comments (by parent and text), not sent twice; post
delete --remote takes the comment down too (on Reddit it outlives its post)."""

from __future__ import annotations

import json

from fakes.reddit_server import FakeReddit
from postcli.platforms.base import PostRef, PublishRequest
from postcli.platforms.reddit.adapter import RedditAdapter
from test_reddit_cli import reddit  # noqa: F401 (the fixture: a fake Reddit signed in through the browser)

ARGS = ("--to", "reddit", "--title", "Release notes", "--field", "reddit.subreddit=test")


def _create(cli, *extra: str, **kw):  # type: ignore[no-untyped-def]
    return cli(
        "post", "create", "What changed", *ARGS, "--first-comment", "Sources: *see below*", "--json", *extra, **kw
    )


def test_the_first_comment_goes_under_the_post_once_it_exists(cli, reddit):  # noqa: F811
    r = _create(cli)
    assert r.exit_code == 0, r.stderr
    (target,) = json.loads(r.stdout)["targets"]
    (created,) = reddit.posts
    assert [q.path for q in reddit.requests if q.path in ("/api/submit", "/api/comment")] == [
        "/api/submit",
        "/api/comment",
    ]
    (sent,) = reddit.requests_to("POST", "/api/comment")
    assert (sent.param("api_type"), sent.param("thing_id"), sent.param("text")) == (
        "json",
        created["name"],
        "Sources: *see below*",
    )
    (comment,) = reddit.comments.values()
    assert comment["parent_id"] == created["name"]
    assert target["platform_post_id"] == created["name"]
    assert target["first_comment"] == {
        "text": "Sources: *see below*",
        "status": "completed",
        "platform_post_id": comment["name"],
        "url": reddit.url + comment["permalink"],
        "error": None,
    }


def test_a_refused_comment_is_partial_success_and_a_retry_sends_only_the_comment(cli, reddit):  # noqa: F811
    reddit.comment_errors.append(["RATELIMIT", "Looks like you've been doing that a lot. Take a break for 1 minute before trying again.", "ratelimit"])  # fmt: skip
    r = _create(cli)
    assert r.exit_code == 7, r.stderr
    out = json.loads(r.stdout)
    (target,) = out["targets"]
    assert out["status"] == "partial_success" and target["error"].startswith("first comment: ")
    assert "RATELIMIT" in target["error"] and target["first_comment"]["status"] == "failed"
    assert len(reddit.posts) == 1 and reddit.comments == {}

    again = cli.json("post", "retry", str(out["post_id"]))
    assert again["status"] == "completed"
    assert len(reddit.posts) == 1 and len(reddit.requests_to("POST", "/api/submit")) == 1
    assert [c["body"] for c in reddit.comments.values()] == ["Sources: *see below*"]


def test_a_locked_thread_is_refused_with_reddits_words(cli, reddit):  # noqa: F811
    reddit.comment_errors.append(["THREAD_LOCKED", "comments are locked.", "parent"])
    r = _create(cli)
    assert r.exit_code == 7
    assert "THREAD_LOCKED: comments are locked." in json.loads(r.stdout)["targets"][0]["error"]


def test_a_lost_answer_is_found_among_the_users_comments_not_sent_twice(cli, reddit):  # noqa: F811
    reddit.lose_comment_answers = 1
    r = _create(cli, env={"POSTCLI_TIMEOUT": "1"})
    assert r.exit_code == 7, r.stderr
    out = json.loads(r.stdout)
    (target,) = out["targets"]
    assert target["error"].startswith("first comment: ") and "outcome is unknown" in target["error"]
    (made,) = reddit.comments.values()  # Reddit made it
    again = cli.json("post", "retry", str(out["post_id"]))
    assert again["status"] == "completed" and again["targets"][0]["reconciled"] is True
    assert again["targets"][0]["first_comment"]["platform_post_id"] == made["name"]
    assert len(reddit.requests_to("POST", "/api/comment")) == 1 and len(reddit.comments) == 1
    assert reddit.requests_to("GET", f"/user/{reddit.username}/comments")


def test_find_comment_takes_only_a_comment_under_that_post_with_that_text():
    with FakeReddit() as server:
        adapter = RedditAdapter(server.account_context())
        one = adapter.publish(PublishRequest(text="a", idempotency_key="1", title="one", fields={"subreddit": "test"}))
        two = adapter.publish(PublishRequest(text="b", idempotency_key="2", title="two", fields={"subreddit": "test"}))
        req = PublishRequest(text="same words", idempotency_key="k", reply_to=PostRef(two.platform_post_id))
        adapter.publish_comment(
            PublishRequest(text="same words", idempotency_key="x", reply_to=PostRef(one.platform_post_id))
        )
        assert adapter.find_comment(req) is None  # the same text under another post is not this one
        made = adapter.publish_comment(req)
        assert adapter.find_comment(req).platform_post_id == made.platform_post_id  # type: ignore[union-attr]


def test_post_delete_remote_takes_the_comment_down_too(cli, reddit):  # noqa: F811
    out = json.loads(_create(cli).stdout)
    (comment,) = reddit.comments.values()
    r = cli("post", "delete", str(out["post_id"]), "--remote", "--json")
    assert r.exit_code == 0, r.stderr
    deleted = [q.param("id") for q in reddit.requests_to("POST", "/api/del")]
    assert deleted == [comment["name"], out["targets"][0]["platform_post_id"]]  # the comment first
    assert comment["body"] == "[deleted]"
