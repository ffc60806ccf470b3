"""LinkedIn first comments (issue 28) through the CLI against the fake: the comment goes under
the post once it exists (Comments API, POST /rest/socialActions/{urn}/comments); a refused
comment leaves the post partial_success and a retry sends only the comment; a lost answer is
found again with read access, and without it is unknown until the user settles it
(`post retry --published LINK` / `--resend`), never sent blind."""

from __future__ import annotations

import json
from urllib.parse import quote

from fakes.linkedin_server import ALL_SCOPES, MEMBER_SCOPES, MEMBER_URN, FakeLinkedIn
from test_linkedin_cli import connect


def _comment_posts(li: FakeLinkedIn) -> list:  # type: ignore[type-arg]
    return li.requests_to("POST", "/rest/socialActions/")


def test_the_first_comment_goes_under_the_post_once_it_exists(cli, home):
    with FakeLinkedIn(scopes=MEMBER_SCOPES) as li:
        connect(cli, li)
        out = cli.json("post", "create", "Launch day", "--to", "linkedin", "--first-comment", "Links (below): #ship")
        assert out["status"] == "completed", out
        (target,) = out["targets"]
        urn = target["platform_post_id"]
        assert [r.path for r in li.requests_to("POST", "/rest/")] == [
            "/rest/posts",
            f"/rest/socialActions/{urn}/comments",  # the fake sees the path decoded
        ]
        sent = _comment_posts(li)[0]
        # The URN goes encoded in the path, as a Rest.li 2.0 key.
        assert sent.request.environ["REQUEST_URI"] == f"/rest/socialActions/{quote(urn, safe='')}/comments"
        assert sent.headers.get("LinkedIn-Version") and sent.headers.get("X-Restli-Protocol-Version") == "2.0.0"
        # Attributed text, not a post's little text: sent as typed, nothing escaped.
        assert sent.json == {"actor": MEMBER_URN, "object": urn, "message": {"text": "Links (below): #ship"}}
        (comment,) = li.comments[urn]
        assert target["first_comment"] == {
            "text": "Links (below): #ship",
            "status": "completed",
            "platform_post_id": comment["commentUrn"],
            "url": f"https://www.linkedin.com/feed/update/{urn}/?commentUrn={quote(comment['commentUrn'], safe='')}",
            "error": None,
        }
        assert target["url"] == f"https://www.linkedin.com/feed/update/{urn}/"


def test_a_comment_over_linkedins_limit_is_refused_before_anything_is_sent(cli):
    with FakeLinkedIn(scopes=MEMBER_SCOPES) as li:
        connect(cli, li)
        assert cli.json("post", "create", "short", "--to", "linkedin", "--first-comment", "x" * 1250, "--draft")
        r = cli("post", "create", "short", "--to", "linkedin", "--first-comment", "x" * 1251)
        assert r.exit_code == 2 and "the first comment is 1251 characters, the limit is 1250" in r.stderr, r.stderr
        assert li.requests_to("POST", "/rest/") == []


def test_a_refused_comment_is_partial_success_and_a_retry_sends_only_the_comment(cli):
    with FakeLinkedIn(scopes=MEMBER_SCOPES) as li:
        connect(cli, li)
        li.fail_next("POST", "/rest/socialActions/", 422)
        r = cli("post", "create", "Hello", "--to", "linkedin", "--first-comment", "More below", "--json")
        assert r.exit_code == 7, r.stderr
        out = json.loads(r.stdout)
        (target,) = out["targets"]
        assert out["status"] == "partial_success" and target["status"] == "failed"
        assert target["error"].startswith("first comment: ") and "injected failure" in target["error"]
        assert target["parts"][0]["status"] == "completed" and target["first_comment"]["status"] == "failed"
        (urn,) = li.posts
        assert li.comments.get(urn, []) == []

        again = cli.json("post", "retry", str(out["post_id"]))
        assert again["status"] == "completed"
        assert len(li.posts) == 1 and len(li.requests_to("POST", "/rest/posts")) == 1
        assert [c["message"]["text"] for c in li.comments[urn]] == ["More below"]


def _lose_the_comment_answer(cli, li: FakeLinkedIn) -> dict:  # type: ignore[no-untyped-def, type-arg]
    li.lose_comment_answers = 1
    r = cli(
        "post", "create", "Hello", "--to", "linkedin", "--first-comment", "Below", "--json",
        env={"POSTCLI_TIMEOUT": "1"},
    )  # fmt: skip
    return {"code": r.exit_code, **json.loads(r.stdout)}


def test_a_lost_comment_answer_without_read_access_is_unknown_until_the_user_gives_its_link(cli):
    with FakeLinkedIn(scopes=MEMBER_SCOPES) as li:
        connect(cli, li)
        out = _lose_the_comment_answer(cli, li)
        pid = out["post_id"]
        (target,) = out["targets"]
        assert out["code"] == 7 and out["status"] == "partial_success"
        assert target["status"] == "unknown" and target["first_comment"]["status"] == "unknown"
        assert target["error"].startswith("first comment: ") and "r_member_social" in target["error"]
        assert f"postcli post retry {pid} --published LINK" in target["error"]
        assert f"postcli post retry {pid} --resend" in target["error"]
        (urn,) = li.posts
        (made,) = li.comments[urn]  # LinkedIn made it

        again = cli("post", "retry", str(pid), "--json")
        assert again.exit_code == 7 and json.loads(again.stdout)["targets"][0]["status"] == "unknown"
        assert len(_comment_posts(li)) == 1 and len(li.requests_to("POST", "/rest/posts")) == 1  # never blind

        # The post's own link is not the comment's: refused, the comment stays unknown.
        r = cli("post", "retry", str(pid), "--published", f"https://www.linkedin.com/feed/update/{urn}/")
        assert r.exit_code == 3 and "Copy link to comment" in r.stderr
        assert cli.json("post", "show", str(pid))["targets"][0]["first_comment"]["status"] == "unknown"

        link = f"https://www.linkedin.com/feed/update/{urn}?commentUrn={quote(made['commentUrn'], safe='')}"
        done = cli.json("post", "retry", str(pid), "--published", link)
        assert done["status"] == "completed" and done["targets"][0]["reconciled"] is True
        shown = cli.json("post", "show", str(pid))["targets"][0]
        assert shown["status"] == "completed" and shown["platform_post_id"] == urn
        assert shown["first_comment"]["platform_post_id"] == made["commentUrn"]
        assert len(li.comments[urn]) == 1 and len(_comment_posts(li)) == 1


def test_a_lost_comment_answer_is_sent_again_only_when_the_user_says_resend(cli):
    with FakeLinkedIn(scopes=MEMBER_SCOPES) as li:
        connect(cli, li)
        pid = _lose_the_comment_answer(cli, li)["post_id"]
        (urn,) = li.posts
        li.comments[urn].clear()  # the user looked: it is not there
        done = cli.json("post", "retry", str(pid), "--resend")
        assert done["status"] == "completed" and done["targets"][0]["first_comment"]["status"] == "completed"
        assert len(_comment_posts(li)) == 2 and len(li.comments[urn]) == 1
        assert len(li.requests_to("POST", "/rest/posts")) == 1  # the post was never sent again


def test_a_lost_comment_answer_with_read_access_is_found_again_not_sent_twice(cli):
    with FakeLinkedIn(scopes=ALL_SCOPES) as li:
        connect(cli, li)
        out = _lose_the_comment_answer(cli, li)
        (target,) = out["targets"]
        assert out["code"] == 7 and target["status"] == "failed" and "outcome is unknown" in target["error"]
        (urn,) = li.posts
        # Someone else's comment with the same text is not ours.
        li.comments[urn].insert(0, {**li.comments[urn][0], "actor": "urn:li:person:other", "commentUrn": "x"})
        done = cli.json("post", "retry", str(out["post_id"]))
        assert done["status"] == "completed" and done["targets"][0]["reconciled"] is True
        assert done["targets"][0]["first_comment"]["platform_post_id"] == li.comments[urn][1]["commentUrn"]
        assert len(_comment_posts(li)) == 1
        assert li.requests_to("GET", f"/rest/socialActions/{urn}/comments")
