"""Reddit end to end through the CLI against the fake Reddit: `accounts login` with the test
playing the browser, posts that Reddit takes or refuses (with HTTP 200), what is refused before
anything is sent, collect and the reports, a removed post still collected, a deleted one, and a
lost answer then `post retry` making exactly one post."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from fakes.reddit_server import CLIENT_ID, FakeReddit, flair
from postcli.signin.loopback import free_port
from signin_helpers import start_login
from support.accounts import write_config
from support.cli import kill_when, run_postcli
from support.media import png


@pytest.fixture
def reddit(home):  # type: ignore[no-untyped-def]
    """A fake Reddit with an account signed in through the browser."""
    with FakeReddit() as r:
        port = free_port()
        r.register_app(f"http://127.0.0.1:{port}/callback")
        login = start_login(
            "reddit", "--user", r.username, "--port", str(port), "--api-base", r.url,
            "--authorize-url", f"{r.url}/api/v1/authorize", "--json",
            env={"POSTCLI_REDDIT_CLIENT_ID": CLIENT_ID},
        )  # fmt: skip
        login.browse()
        code, out, err = login.finish()
        assert code == 0, err
        yield r


def _db(home: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(home / "postcli.db")
    conn.row_factory = sqlite3.Row
    return conn


def post(cli, text: str, *extra: str, code: int = 0):  # type: ignore[no-untyped-def]
    return cli.json("post", "create", text, "--to", "reddit", *extra, code=code)


def test_publish_collect_and_report(cli, home, reddit):
    out = post(cli, "Body of the post", "--title", "First post", "--field", "reddit.subreddit=r/test")
    assert out["status"] == "completed"
    (target,) = out["targets"]
    (created,) = reddit.posts
    assert target["platform_post_id"] == created["name"] and target["platform_post_id"].startswith("t3_")
    assert target["url"] == reddit.url + created["permalink"]
    assert target["fields"] == {"subreddit": "r/test"}
    link = post(
        cli,
        "Why it matters",
        "--title",
        "A link",
        "--link",
        "https://example.com/a",
        "--field",
        "reddit.subreddit=test",
    )
    assert link["status"] == "completed" and reddit.posts[1]["url"] == "https://example.com/a"

    reddit.set_numbers(created["name"], score=57, num_comments=9, num_crossposts=2, upvote_ratio=0.93)
    reddit.set_numbers(reddit.posts[1]["name"], view_count=1500)
    collected = cli.json("collect")
    assert collected["fetched"] == 2
    assert len(reddit.requests_to("GET", "/api/info")) == 1  # both posts in one call
    rows = {
        r["platform_post_id"]: r
        for r in _db(home).execute(
            "select t.platform_post_id, s.* from post_metric_snapshots s join post_targets t on t.id = s.target_id"
        )
    }
    first = rows[created["name"]]
    assert (first["likes"], first["comments"], first["shares"], first["impressions"]) == (57, 9, 2, None)
    assert (first["reach"], first["views"], first["saves"], first["clicks"]) == (None,) * 4
    assert json.loads(first["raw"])["upvote_ratio"] == 0.93
    assert first["follower_count"] == 42
    assert rows[reddit.posts[1]["name"]]["impressions"] == 1500

    analytics = cli.json("analytics", "post", str(out["post_id"]))
    assert '"platform": "reddit"' in json.dumps(analytics) and '"likes": 57' in json.dumps(analytics)
    overview = cli("analytics", "overview", env={"COLUMNS": "200"})
    assert overview.exit_code == 0 and "reddit" in overview.stdout
    assert cli.json("accounts", "metrics", reddit.username)["followers"] == 42


def test_what_reddit_needs_is_checked_before_anything_is_stored_or_sent(cli, home, tmp_path, reddit):
    reddit.reset_log()
    no_sub = cli("post", "create", "text", "--to", "reddit", "--title", "T")
    assert no_sub.exit_code == 2 and "--field reddit.subreddit=" in no_sub.stderr
    no_title = cli("post", "create", "text", "--to", "reddit", "--field", "reddit.subreddit=test")
    assert no_title.exit_code == 2 and "needs a title" in no_title.stderr
    image = png(tmp_path / "a.png")
    with_image = cli(
        "post", "create", "text", "--to", "reddit", "--title", "T", "--field", "reddit.subreddit=test",
        "--media", str(image),
    )  # fmt: skip
    assert with_image.exit_code == 2 and "1 images, the limit is 0" in with_image.stderr
    unknown = cli("post", "create", "t", "--to", "reddit", "--title", "T", "--field", "reddit.sub=test")
    assert unknown.exit_code == 2 and "reddit.subreddit" in unknown.stderr
    assert _db(home).execute("select count(*) from posts").fetchone()[0] == 0
    assert reddit.requests == []


@pytest.mark.parametrize(
    ("setup", "args", "reason"),
    [
        (lambda r: None, ("--field", "reddit.subreddit=nosuchplace"), "SUBREDDIT_NOEXIST"),
        (
            lambda r: r.add_subreddit("selfonly", link_type="self"),
            ("--field", "reddit.subreddit=selfonly", "--link", "https://e.x/"),
            "NO_LINKS",
        ),
        (
            lambda r: r.add_subreddit("linksonly", link_type="link"),
            ("--field", "reddit.subreddit=linksonly"),
            "NO_SELFS",
        ),
    ],
)
def test_a_refusal_sent_with_http_200_fails_the_target_with_reddits_reason(cli, home, reddit, setup, args, reason):
    setup(reddit)
    r = cli("post", "create", "text", "--to", "reddit", "--title", "T", *args, "--json")
    assert r.exit_code == 1, (r.stdout, r.stderr)
    out = json.loads(r.stdout)
    assert out["status"] == "failed" and reason in out["targets"][0]["error"]
    assert reddit.posts == []


def test_flair_required_lists_the_flairs_and_flair_id_posts(cli, reddit):
    reddit.add_subreddit("flairy", flair_required=True, flairs=[flair("q-1", "Question"), flair("d-2", "Discussion")])
    r = cli("post", "create", "text", "--to", "reddit", "--title", "T", "--field", "reddit.subreddit=flairy", "--json")
    assert r.exit_code == 1
    error = json.loads(r.stdout)["targets"][0]["error"]
    assert "q-1 (Question), d-2 (Discussion)" in error
    ok = post(cli, "text", "--title", "T", "--field", "reddit.subreddit=flairy", "--field", "reddit.flair_id=q-1")
    assert ok["status"] == "completed" and reddit.posts[0]["link_flair_template_id"] == "q-1"


def test_a_removed_post_is_said_removed_and_still_collected_a_deleted_one_is_deleted(cli, home, reddit):
    write_config(home)  # collect again at once
    removed = post(cli, "one", "--title", "Removed later", "--field", "reddit.subreddit=test")
    deleted = post(cli, "two", "--title", "Deleted later", "--field", "reddit.subreddit=test")
    removed_name, deleted_name = (p["targets"][0]["platform_post_id"] for p in (removed, deleted))
    assert cli.json("collect")["fetched"] == 2

    reddit.remove(removed_name, "moderator")
    reddit.set_numbers(removed_name, score=8)
    reddit.delete_by_author(deleted_name)
    again = cli.json("collect")
    assert (again["fetched"], again["deleted"]) == (1, 1)

    shown = cli.json("post", "show", str(removed["post_id"]))
    (target,) = shown["targets"]
    assert (target["status"], target["platform_state"]) == ("completed", "removed by the subreddit's moderators")
    text = cli("post", "show", str(removed["post_id"]), env={"COLUMNS": "200"}).stdout
    assert "completed (removed by the subreddit's moderators)" in text
    likes = [r[0] for r in _db(home).execute(
        "select s.likes from post_metric_snapshots s join post_targets t on t.id = s.target_id "
        "where t.platform_post_id = ? order by s.captured_at", (removed_name,),
    )]  # fmt: skip
    assert likes == [1, 8]  # collected before and after the removal
    gone = cli.json("post", "show", str(deleted["post_id"]))["targets"][0]
    assert (gone["status"], gone["platform_state"]) == ("deleted", None)


def test_a_lost_answer_then_post_retry_makes_exactly_one_post(home, reddit):
    reddit.lose_submit_answers = 1
    exe = Path(sys.executable).with_name("postcli")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "postcli"]
    proc = subprocess.Popen(
        cmd
        + [
            "post",
            "create",
            "only once",
            "--to",
            "reddit",
            "--title",
            "Exactly one",
            "--field",
            "reddit.subreddit=test",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    kill_when(proc, lambda: len(reddit.posts) == 1)  # Reddit made the post; its answer never came
    assert _db(home).execute("select status from post_targets").fetchone()[0] == "processing"

    r = run_postcli("post", "retry", "1", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    (target,) = out["targets"]
    assert out["status"] == "completed" and target["reconciled"] is True
    assert len(reddit.posts) == 1 and len(reddit.requests_to("POST", "/api/submit")) == 1
    (made,) = reddit.posts
    stored = _db(home).execute("select platform_post_id, platform_post_url from post_targets").fetchone()
    assert tuple(stored) == (made["name"], reddit.url + made["permalink"])


def test_accounts_add_with_a_token_made_elsewhere(cli, home):
    with FakeReddit() as r:
        add = cli(
            "accounts", "add", "reddit", "--user", "u/alice_writes", "--client-id", CLIENT_ID, "--api-base", r.url,
            "--token-stdin", "--json",
            input=r.access_token + "\n", env={"POSTCLI_REDDIT_REFRESH_TOKEN": r.refresh_token},
        )  # fmt: skip
        assert add.exit_code == 0, add.stderr
        account = json.loads(add.stdout)
        assert (account["handle"], account["external_id"]) == ("alice_writes", "t2_3ebyblla")
        assert account["token_expires_at"]  # refreshed once at connect: the expiry is known
        assert r.count("POST /api/v1/access_token (refresh_token)") == 1
        wrong = cli(
            "accounts", "add", "reddit", "--user", "bob", "--api-base", r.url, "--token-stdin",
            input=r.access_token + "\n",
        )  # fmt: skip
        assert wrong.exit_code == 2 and "u/alice_writes, not u/bob" in wrong.stderr


def test_a_spent_window_defers_the_collect_until_reddits_reset(cli, home, reddit):
    write_config(home, max_rate_wait_seconds=0)
    post(cli, "counted", "--title", "T", "--field", "reddit.subreddit=test")
    reddit.reset_log()
    reddit.fail_next(
        "GET",
        "/api/info",
        429,
        headers={"x-ratelimit-used": "100", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "240"},
    )
    r = cli("collect", "--json")
    assert r.exit_code == 5, (r.stdout, r.stderr)
    out = json.loads(r.stdout)
    assert out["fetched"] == 0 and out["deferred"] >= 1
    assert "rate limited until" in r.stderr
    assert len(reddit.requests_to("GET", "/api/info")) == 1  # not asked again before the reset


def test_postcli_platforms_describes_reddit_from_its_spec(cli):
    out = cli.json("platforms", "reddit")
    assert out["publish"]["text"] is True and out["publish"]["images"] is False and out["publish"]["video"] is False
    assert (out["publish"]["title"], out["publish"]["link"]) == ("required", "optional")
    assert [(f["key"], f["required"]) for f in out["publish"]["fields"]] == [
        ("reddit.subreddit", True),
        ("reddit.flair_id", False),
    ]
    assert out["metrics"]["reported"] == ["impressions", "likes", "comments", "shares"]
    assert out["metrics"]["account"] == ["followers"]
    assert out["signin"]["scopes"] == ["identity", "submit", "read", "history", "edit", "flair"]
    assert out["signin"]["redirect"] == "loopback-fixed"
    assert out["rate_limit"] == {"requests": 100, "seconds": 60, "daily_reset": None, "per_app": True}
    assert out["connect"]["options"] == ["--user", "--client-id"]
