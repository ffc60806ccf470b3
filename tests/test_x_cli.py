"""X through the CLI end to end, against the fake X API: sign in (the test plays the browser),
post with an image, collect, report; a lost answer and `post retry` (exactly one post);
rate limits and the usage cap (exit 5 with retry_at); import of x.com and twitter.com
links; remote delete."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from fakes.x_server import CLIENT_ID, CLIENT_SECRET, SCOPES, TOO_MANY, USAGE_CAPPED, FakeX
from postcli.signin.loopback import free_port
from signin_helpers import start_login
from support.media import png


@pytest.fixture
def server():
    with FakeX() as s:
        yield s


def connect(cli, server: FakeX) -> int:  # type: ignore[no-untyped-def]
    """`accounts add x` with a token made elsewhere, the refresh token and the app in the environment."""
    env = {"POSTCLI_X_REFRESH_TOKEN": server.refresh_token, "POSTCLI_X_CLIENT_SECRET": server.client_secret}
    r = cli(
        "accounts", "add", "x", "--client-id", server.client_id, "--api-base", server.url, "--token-stdin", "--json",
        input=server.access_token + "\n", env=env,
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)["id"]


def db(home):  # type: ignore[no-untyped-def]
    conn = sqlite3.connect(home / "postcli.db")
    conn.row_factory = sqlite3.Row
    return conn


def test_login_post_with_an_image_collect_and_report(cli, home, server, tmp_path):
    port = free_port()
    server.oauth.add_client(CLIENT_ID, CLIENT_SECRET, [f"http://127.0.0.1:{port}/callback"], SCOPES)
    login = start_login(
        "x", "--port", str(port), "--api-base", server.url, "--authorize-url", f"{server.url}/i/oauth2/authorize",
        env={"POSTCLI_X_CLIENT_ID": CLIENT_ID, "POSTCLI_X_CLIENT_SECRET": CLIENT_SECRET},
    )  # fmt: skip
    login.browse()
    code, _out, err = login.finish()
    assert code == 0, err

    image = png(tmp_path / "chart.png")
    out = cli.json("post", "create", "Our numbers: https://example.com/q3 \U0001f4c8", "--to", "x",
                   "--media", str(image), "--alt", "a bar chart", "--field", "x.reply_settings=following")  # fmt: skip
    assert out["status"] == "completed"
    (target,) = out["targets"]
    (post,) = server.posts
    assert target["url"] == f"https://x.com/alice_x/status/{post['id']}"
    assert post["reply_settings"] == "following" and len(post["media_keys"]) == 1
    (alt,) = server.requests_to("POST", "/2/media/metadata")
    assert alt.json["metadata"]["alt_text"]["text"] == "a bar chart"
    shown = cli.json("post", "show", str(out["post_id"]))
    assert shown["targets"][0]["fields"] == {"reply_settings": "following"}

    server.set_metrics(post["id"], like_count=12, reply_count=3, retweet_count=4, quote_count=2,
                       bookmark_count=5, impression_count=800, url_link_clicks=9)  # fmt: skip
    collected = cli.json("collect")
    assert collected["fetched"] == 1
    row = db(home).execute("select * from post_metric_snapshots").fetchone()
    assert (row["likes"], row["comments"], row["shares"], row["quotes"], row["saves"]) == (12, 3, 4, 2, 5)
    assert (row["impressions"], row["clicks"]) == (800, 9)
    assert (row["reach"], row["views"], row["video_views"]) == (None, None, None)
    assert row["follower_count"] == 321

    report = cli.json("analytics", "post", str(out["post_id"]))
    (metrics,) = report["metrics_by_target"]
    assert (metrics["platform"], metrics["url"]) == ("x", target["url"])
    assert (metrics["impressions"], metrics["likes"], metrics["quotes"], metrics["saves"], metrics["clicks"]) == (
        800,
        12,
        2,
        5,
        9,
    )
    assert (metrics["reach"], metrics["views"], metrics["video_views"]) == (None, None, None)
    overview = cli.json("analytics", "overview")
    (platform,) = overview["platforms"]
    assert (platform["platform"], platform["posts"], platform["likes"], platform["impressions"]) == ("x", 1, 12, 800)
    assert platform["reach"] is None and overview["followers"]["by_platform"] == {"x": 321}
    shown = cli("analytics", "overview")
    assert shown.exit_code == 0 and "best platform      x" in shown.stdout


def test_several_posts_are_collected_with_one_lookup(cli, home, server):
    connect(cli, server)
    for text in ("first", "second", "third"):
        assert cli.json("post", "create", text, "--to", "x")["status"] == "completed"
    server.reset_log()
    assert cli.json("collect")["fetched"] == 3
    (lookup,) = server.requests_to("GET", "/2/tweets")
    assert len(lookup.query["ids"][0].split(",")) == 3


def test_a_lost_answer_then_post_retry_makes_exactly_one_post(cli, home, server, tmp_path, monkeypatch):
    connect(cli, server)
    monkeypatch.setenv("POSTCLI_TIMEOUT", "1")
    server.lose_answer("POST", "/2/tweets")
    r = cli("post", "create", "Exactly once, https://example.com/once", "--to", "x",
            "--media", str(png(tmp_path / "a.png")), "--json")  # fmt: skip
    out = json.loads(r.stdout)
    assert out["status"] == "failed" and "outcome is unknown" in out["targets"][0]["error"]
    assert len(server.posts) == 1  # X made it; postcli could not know
    uploads = len(server.requests_to("POST", "/2/media/upload/initialize"))

    retried = cli.json("post", "retry", str(out["post_id"]))
    assert retried["status"] == "completed" and retried["targets"][0]["reconciled"] is True
    assert len(server.posts) == 1
    assert len(server.requests_to("POST", "/2/tweets")) == 1
    assert len(server.requests_to("POST", "/2/media/upload/initialize")) == uploads  # nothing uploaded again
    assert retried["targets"][0]["url"].endswith(server.posts[0]["id"])


def test_a_rate_limit_exits_5_with_the_reset_as_retry_at(cli, home, server):
    connect(cli, server)
    reset = int(datetime.now(timezone.utc).timestamp()) + 900
    server.fail_next("POST", "/2/tweets", 429, json=TOO_MANY,
                     headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)})  # fmt: skip
    r = cli("post", "create", "not now", "--to", "x", "--json")
    assert r.exit_code == 5
    (target,) = json.loads(r.stdout)["targets"]
    retry_at = datetime.fromisoformat(target["retry_at"].replace("Z", "+00:00"))
    assert abs(retry_at.timestamp() - reset) < 5


def test_a_spent_usage_cap_exits_5_and_nothing_is_sent_before_it_ends(cli, home, server):
    connect(cli, server)
    server.fail_next("POST", "/2/tweets", 429, json=USAGE_CAPPED)
    r = cli("post", "create", "capped", "--to", "x", "--json")
    assert r.exit_code == 5
    (target,) = json.loads(r.stdout)["targets"]
    assert "usage cap" in target["error"] and target["retry_at"]
    server.reset_log()
    r = cli("collect", "--json")
    assert r.exit_code == 5 and server.requests == []  # held back for the whole period
    (limited,) = json.loads(r.stdout)["rate_limited"]
    now = datetime.now(timezone.utc)
    next_month = (now.replace(day=1) + timedelta(days=32)).replace(day=1)
    assert limited["account"] == "x:alice_x" and limited["until"].startswith(next_month.strftime("%Y-%m-01T00:00"))


def test_import_x_and_twitter_links_and_refuse_a_strangers_post(cli, home, server):
    connect(cli, server)
    mine = server.add_post("made in the app", created_at=datetime.now(timezone.utc) - timedelta(days=45), like_count=4)
    imported = cli.json("post", "import", f"https://x.com/alice_x/status/{mine}")
    assert imported["text"] == "made in the app"
    again = cli("post", "import", f"https://twitter.com/alice_x/status/{mine}", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["id"] == imported["id"]
    stranger = server.add_post("someone else's", author_id="42")
    r = cli("post", "import", f"https://x.com/someone/status/{stranger}")
    assert r.exit_code == 2 and "not by alice_x" in r.stderr
    # An old post: private metrics are refused (Field Authorization Error), it is not deleted.
    collected = cli("collect", "--days", "60", "--json")
    assert collected.exit_code == 0 and json.loads(collected.stdout)["deleted"] == 0
    row = db(home).execute("select likes, clicks from post_metric_snapshots").fetchone()
    assert (row["likes"], row["clicks"]) == (4, None)


def test_remote_delete(cli, home, server):
    connect(cli, server)
    out = cli.json("post", "create", "short-lived", "--to", "x")
    deleted = cli.json("post", "delete", str(out["post_id"]), "--remote")
    assert deleted["remote"][0]["status"] in ("deleted", "ok")
    assert server.posts == []
