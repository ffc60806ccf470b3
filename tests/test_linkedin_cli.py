"""LinkedIn end to end through the CLI against the fake: sign in (the test plays the browser),
post with an image, collect, report; and an answer lost after LinkedIn made the post: found
again with read access, never sent blind without it (`post retry --published` / `--resend`)."""

from __future__ import annotations

import json

from fakes.linkedin_server import ACCESS_TOKEN, ALL_SCOPES, CLIENT_ID, CLIENT_SECRET, MEMBER_SCOPES, FakeLinkedIn
from support.accounts import db
from support.media import png
from test_signin_linkedin import _signed_in

SECRET_ENV = {"POSTCLI_LINKEDIN_CLIENT_SECRET": CLIENT_SECRET}


def connect(cli, li: FakeLinkedIn, *args: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """`accounts add linkedin --token-stdin`: introspection tells the token's scopes and expiry."""
    r = cli(
        "accounts", "add", "linkedin", "--client-id", CLIENT_ID, "--api-base", li.url, "--token-stdin", "--json",
        *args, input=ACCESS_TOKEN + "\n", env=SECRET_ENV,
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def test_login_post_with_an_image_collect_and_report(cli, home, tmp_path):
    scopes = "openid profile w_member_social r_member_postAnalytics r_member_profileAnalytics"
    with FakeLinkedIn(followers=500) as li:
        account = _signed_in(li, "--scopes", scopes)
        assert account["platform"] == "linkedin"
        picture = png(tmp_path / "chart.png")
        out = cli.json(
            "post", "create", "Q3 results (draft #2) *final*", "--to", "linkedin", "--media", str(picture),
            "--alt", "a bar chart", "--field", "linkedin.visibility=CONNECTIONS",
        )  # fmt: skip
        assert out["status"] == "completed"
        (target,) = out["targets"]
        assert target["fields"] == {"visibility": "CONNECTIONS"}
        urn = target["platform_post_id"]
        post = li.posts[urn]
        assert post["commentary"] == r"Q3 results \(draft \#2\) \*final\*" and post["visibility"] == "CONNECTIONS"
        assert post["content"]["media"]["altText"] == "a bar chart"

        li.set_analytics(urn, IMPRESSION=900, MEMBERS_REACHED=700, REACTION=30, COMMENT=5, RESHARE=4)
        collected = cli.json("collect")
        assert (collected["fetched"], collected["accounts"], collected["notes"]) == (1, 1, [])
        shown = cli.json("analytics", "post", str(out["post_id"]))
        (m,) = shown["metrics_by_target"]
        assert (m["impressions"], m["reach"], m["likes"], m["comments"], m["shares"]) == (900, 700, 30, 5, 4)
        assert (m["clicks"], m["saves"], m["follower_count"]) == (None, None, 500)
        overview = cli.json("analytics", "overview")
        assert overview["followers"]["by_platform"]["linkedin"] == 500
        (row,) = [p for p in overview["platforms"] if p["platform"] == "linkedin"]
        assert (row["posts"], row["engagement"]) == (1, 39)
        text = cli("analytics", "overview")
        assert text.exit_code == 0 and "linkedin" in text.stdout


def test_bad_visibility_is_refused_before_anything_is_sent(cli):
    with FakeLinkedIn() as li:
        connect(cli, li)
        r = cli("post", "create", "x", "--to", "linkedin", "--field", "linkedin.visibility=FRIENDS")
        assert r.exit_code == 2 and "PUBLIC, CONNECTIONS, LOGGED_IN" in r.stderr
        assert li.requests_to("POST", "/rest/posts") == []


def test_collect_without_analytics_keeps_nulls_exits_0_and_says_so_once(cli, home):
    with FakeLinkedIn(scopes=MEMBER_SCOPES) as li:
        connect(cli, li)
        cli.json("post", "create", "one", "--to", "linkedin")
        cli.json("post", "create", "two", "--to", "linkedin")
        r = cli("collect", "--json")
        assert r.exit_code == 0, r.stderr
        report = json.loads(r.stdout)
        assert report["fetched"] == 2 and len(report["notes"]) == 1
        assert "r_member_postAnalytics" in report["notes"][0]
        rows = db(home).execute("select likes, impressions, engagement from post_metric_snapshots").fetchall()
        assert [tuple(x) for x in rows] == [(None, None, None)] * 2


def _lose_the_answer(cli, li: FakeLinkedIn) -> dict:  # type: ignore[no-untyped-def, type-arg]
    li.lose_post_answers = 1
    r = cli("post", "create", "did it go out?", "--to", "linkedin", "--json", env={"POSTCLI_TIMEOUT": "1"})
    return {"code": r.exit_code, **json.loads(r.stdout)}


def test_a_lost_answer_without_read_access_is_unknown_and_only_the_user_settles_it(cli, home):
    with FakeLinkedIn(scopes=MEMBER_SCOPES) as li:
        connect(cli, li)
        out = _lose_the_answer(cli, li)
        assert out["code"] == 1 and out["status"] == "failed"
        (target,) = out["targets"]
        assert target["status"] == "unknown"
        pid = out["post_id"]
        assert f"postcli post retry {pid} --published LINK" in target["error"]
        assert f"postcli post retry {pid} --resend" in target["error"] and "r_member_social" in target["error"]
        (urn,) = li.posts  # LinkedIn made it

        again = cli("post", "retry", str(pid), "--json")
        assert again.exit_code == 1 and json.loads(again.stdout)["targets"][0]["status"] == "unknown"
        assert len(li.requests_to("POST", "/rest/posts")) == 1  # never sent blind

        r = cli("post", "delete", str(pid), "--remote", "--json")
        assert r.exit_code == 1 and json.loads(r.stdout)["removed_local"] is False

        # A link LinkedIn's API cannot use changes nothing: the target stays unknown.
        r = cli("post", "retry", str(pid), "--published", "https://www.linkedin.com/feed/update/urn:li:activity:7/")
        assert r.exit_code == 3 and "Embed this post" in r.stderr
        assert cli.json("post", "show", str(pid))["targets"][0]["status"] == "unknown"

        done = cli.json("post", "retry", str(pid), "--published", f"https://www.linkedin.com/feed/update/{urn}/")
        assert done["status"] == "completed" and done["targets"][0]["reconciled"] is True
        shown = cli.json("post", "show", str(pid))
        assert shown["targets"][0]["platform_post_id"] == urn and shown["targets"][0]["status"] == "completed"
        assert len(li.posts) == 1


def test_resend_sends_again_only_when_told(cli, home):
    with FakeLinkedIn(scopes=MEMBER_SCOPES) as li:
        connect(cli, li)
        pid = _lose_the_answer(cli, li)["post_id"]
        li.delete_post(next(iter(li.posts)))  # the user looked: it is not there (say LinkedIn dropped it)
        r = cli("post", "retry", str(pid), "--resend", "--published", "urn:li:share:1")
        assert r.exit_code == 2 and "not both" in r.stderr
        done = cli.json("post", "retry", str(pid), "--resend")
        assert done["status"] == "completed" and done["targets"][0]["reconciled"] is False
        assert len(li.requests_to("POST", "/rest/posts")) == 2
        r = cli("post", "retry", str(pid), "--resend")
        assert r.exit_code == 4  # completed: nothing to retry


def test_resend_and_published_are_for_unknown_targets_only(cli):
    with FakeLinkedIn(scopes=MEMBER_SCOPES) as li:
        connect(cli, li)
        li.fail_next("POST", "/rest/posts", 500)
        out = cli.json("post", "create", "x", "--to", "linkedin", code=1)
        assert out["targets"][0]["status"] == "unknown"  # a 500 after sending: unknown too
        li2 = cli.json("post", "create", "y", "--to", "linkedin")
        r = cli("post", "retry", str(li2["post_id"]), "--resend")
        assert r.exit_code == 4


def test_a_lost_answer_with_read_access_is_reconciled_into_exactly_one_post(cli, home):
    with FakeLinkedIn(scopes=ALL_SCOPES) as li:
        connect(cli, li)
        out = _lose_the_answer(cli, li)
        assert out["code"] == 1 and out["targets"][0]["status"] == "failed"
        assert out["targets"][0]["error"].count("the outcome is unknown") == 1
        done = cli.json("post", "retry", str(out["post_id"]))
        assert done["status"] == "completed" and done["targets"][0]["reconciled"] is True
        assert len(li.posts) == 1 and len(li.requests_to("POST", "/rest/posts")) == 1


def test_a_page_account_added_with_a_token(cli):
    with FakeLinkedIn(
        scopes=MEMBER_SCOPES + ["w_organization_social", "r_organization_social", "rw_organization_admin"]
    ) as li:
        account = connect(cli, li, "--org", "2414183")
        assert (account["external_id"], account["handle"]) == ("urn:li:organization:2414183", "Devtestco")
        r = cli("accounts", "add", "linkedin", "--org", "acme", "--token-stdin", input="t\n")
        assert r.exit_code == 2 and "not a LinkedIn organization" in r.stderr
        out = cli.json("post", "create", "from the Page", "--to", "Devtestco")
        assert li.posts[out["targets"][0]["platform_post_id"]]["author"] == "urn:li:organization:2414183"


def test_import_a_post_by_its_link(cli):
    with FakeLinkedIn(scopes=ALL_SCOPES) as li:
        connect(cli, li)
        urn = li.add_post("made on linkedin.com (by hand)")
        post = cli.json("post", "import", f"https://www.linkedin.com/feed/update/{urn}/")
        assert post["text"] == "made on linkedin.com (by hand)"
        assert post["targets"][0]["platform_post_id"] == urn
        other = li.add_post("someone else's", author="urn:li:person:other")
        r = cli("post", "import", other)
        assert r.exit_code == 2 and "urn:li:person:other" in r.stderr


def test_retry_failed_reports_a_target_that_became_unknown(cli, tmp_path):
    with FakeLinkedIn(scopes=MEMBER_SCOPES) as li:
        connect(cli, li)
        li.fail_next("POST", "/rest/images", 503)  # the upload fails: nothing was posted
        picture = png(tmp_path / "p.png")
        out = cli.json("post", "create", "with a picture", "--to", "linkedin", "--media", str(picture), code=1)
        assert out["targets"][0]["status"] == "failed"
        li.lose_post_answers = 1
        r = cli("post", "retry", "--failed", "--json", env={"POSTCLI_TIMEOUT": "1"})
        assert r.exit_code == 1, r.stdout
        (outcome,) = json.loads(r.stdout)["outcomes"]
        assert outcome["targets"][0]["status"] == "unknown"
        r = cli("post", "retry", "--failed", "--resend")
        assert r.exit_code == 2 and "give its ID" in r.stderr


def test_an_unknown_outcome_is_announced_with_how_to_settle_it(cli, home):
    from test_notify import _config, _events

    log = _config(home)
    with FakeLinkedIn(scopes=MEMBER_SCOPES) as li:
        connect(cli, li)
        pid = _lose_the_answer(cli, li)["post_id"]
        (event,) = _events(log)
        assert (event["event"], event["platform"], event["post_id"]) == ("post.failed", "linkedin", pid)
        assert f"postcli post retry {pid} --published LINK" in event["fix"] and "--resend" in event["fix"]
