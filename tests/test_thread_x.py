"""Threads and first comments on X (issue 28), against the fake X API: a reply chain through
`reply.in_reply_to_tweet_id` (docs.x.com/x-api/posts/create-or-edit-post), a first comment as a
self-reply under the first part, a refused part then `post retry` going on from it, a lost
answer found again among the account's replies (X has no idempotency key), and a remote delete
of every part."""

from __future__ import annotations

import json

import pytest

from fakes.x_server import FakeX
from test_x_cli import connect

PARTS = ["one: the start", "two: more", "three: even more", "four: the end"]


@pytest.fixture
def server():
    with FakeX() as s:
        yield s


def assert_x_reply_chain(server: FakeX, texts: list[str]) -> list[str]:
    posts = server.posts
    assert [p["text"] for p in posts] == texts
    assert posts[0]["in_reply_to"] is None
    for before, post in zip(posts, posts[1:]):
        assert post["in_reply_to"] == before["id"]
    return [p["id"] for p in posts]


def test_a_four_part_thread_is_a_reply_chain_on_x(cli, home, server):
    connect(cli, server)
    out = cli.json("post", "create", *PARTS, "--to", "x")
    assert out["status"] == "completed"
    ids = assert_x_reply_chain(server, PARTS)
    (target,) = out["targets"]
    assert [p["platform_post_id"] for p in target["parts"]] == ids
    assert target["platform_post_id"] == ids[0] and target["url"].endswith(f"/status/{ids[0]}")
    bodies = [r.json for r in server.requests_to("POST", "/2/tweets")]
    assert "reply" not in bodies[0]
    assert [b["reply"] for b in bodies[1:]] == [{"in_reply_to_tweet_id": i} for i in ids[:-1]]


def test_a_first_comment_is_a_self_reply_under_the_first_part(cli, home, server):
    connect(cli, server)
    out = cli.json("post", "create", "one", "two", "--to", "x", "--first-comment", "links: https://example.com/a")
    assert out["status"] == "completed"
    posts = server.posts
    assert [p["text"] for p in posts] == ["one", "two", "links: https://example.com/a"]
    assert posts[1]["in_reply_to"] == posts[0]["id"]
    assert posts[2]["in_reply_to"] == posts[0]["id"]  # under the first part, not the last
    comment = out["targets"][0]["first_comment"]
    assert comment["status"] == "completed" and comment["platform_post_id"] == posts[2]["id"]


def test_a_refused_part_leaves_partial_success_and_a_retry_goes_on_from_it(cli, home, server):
    connect(cli, server)
    refusal = {"title": "Invalid Request", "detail": "Your Tweet text is not allowed.", "status": 400}
    server.fail_next("POST", "/2/tweets", 400, json=refusal, after=2)
    r = cli("post", "create", *PARTS, "--to", "x", "--json")
    assert r.exit_code == 7, r.stderr
    out = json.loads(r.stdout)
    assert out["status"] == "partial_success"
    (target,) = out["targets"]
    assert target["status"] == "failed" and target["error"].startswith("part 3 of 4: ")
    assert [p["status"] for p in target["parts"]] == ["completed", "completed", "failed", "pending"]
    assert len(server.posts) == 2

    again = cli.json("post", "retry", str(out["id"]))
    assert again["status"] == "completed"
    assert len(server.requests_to("POST", "/2/tweets")) == 5  # parts 1 and 2 were not sent again
    assert_x_reply_chain(server, PARTS)


def test_a_lost_answer_to_a_part_is_found_among_the_replies_not_sent_twice(cli, home, server, monkeypatch):
    """X made part 3 but its answer never came: the retry reads the account's posts with their
    replies (not `exclude=replies`, which would hide every part after the first), finds part 3
    replying to part 2, and sends only part 4."""
    connect(cli, server)
    monkeypatch.setenv("POSTCLI_TIMEOUT", "1")
    server.lose_answer("POST", "/2/tweets", after=2)
    r = cli("post", "create", *PARTS, "--to", "x", "--json")
    out = json.loads(r.stdout)
    (target,) = out["targets"]
    assert target["error"].startswith("part 3 of 4: ") and "outcome is unknown" in target["error"]
    assert len(server.posts) == 3  # X made part 3; postcli could not know

    retried = cli.json("post", "retry", str(out["post_id"]))
    assert retried["status"] == "completed" and retried["targets"][0]["reconciled"] is True
    assert len(server.requests_to("POST", "/2/tweets")) == 4  # part 3 was not sent again
    ids = assert_x_reply_chain(server, PARTS)
    assert [p["platform_post_id"] for p in retried["targets"][0]["parts"]] == ids
    lookups = server.requests_to("GET", f"/2/users/{server.user_id}/tweets")
    assert lookups and all(r.query.get("exclude") == ["retweets"] for r in lookups)


def test_a_lost_answer_to_a_single_post_still_skips_replies(cli, home, server, monkeypatch):
    """The account's replies are read only when a reply is looked for: a post of its own is
    looked for with exclude=retweets,replies as before (each post read is billed)."""
    connect(cli, server)
    monkeypatch.setenv("POSTCLI_TIMEOUT", "1")
    server.lose_answer("POST", "/2/tweets")
    out = json.loads(cli("post", "create", "alone", "--to", "x", "--json").stdout)
    assert cli.json("post", "retry", str(out["post_id"]))["status"] == "completed"
    lookups = server.requests_to("GET", f"/2/users/{server.user_id}/tweets")
    assert lookups and all(r.query.get("exclude") == ["retweets,replies"] for r in lookups)
    assert len(server.posts) == 1


def test_remote_delete_takes_down_every_part_and_the_comment(cli, home, server):
    connect(cli, server)
    out = cli.json("post", "create", "one", "two", "three", "--to", "x", "--first-comment", "c")
    assert len(server.posts) == 4
    deleted = cli.json("post", "delete", str(out["id"]), "--remote")
    assert deleted["removed_local"] is True
    assert server.posts == []
    assert len(server.requests_to("DELETE", "/2/tweets/")) == 4
