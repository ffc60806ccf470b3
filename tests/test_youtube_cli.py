"""YouTube end to end through the CLI against the fake YouTube API: sign in (the test plays the
browser), publish a small generated video in 256 KiB chunks, collect, analytics; a SIGKILL
mid-upload then `post retry` that goes on with the same upload and publishes once; the
limits, quota and privacy lock as the user meets them."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from fakes.youtube_server import CLIENT_ID, CLIENT_SECRET, UNIT, FakeYouTube
from signin_helpers import start_login
from support.cli import kill_when, run_postcli
from support.media import mp4

ENV = {"POSTCLI_YOUTUBE_CLIENT_ID": CLIENT_ID, "POSTCLI_YOUTUBE_CLIENT_SECRET": CLIENT_SECRET}


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setenv("POSTCLI_YOUTUBE_CHUNK_KIB", "256")


@pytest.fixture
def clip(tmp_path) -> Path:
    return mp4(tmp_path / "clip.mp4", 4.0, pad=700_000)


def login(yt: FakeYouTube) -> dict:  # type: ignore[type-arg]
    yt.add_client()
    session = start_login(
        "youtube", "--api-base", yt.url, "--authorize-url", f"{yt.url}/o/oauth2/v2/auth", "--json", env=ENV
    )
    assert session.browse().status_code == 200
    code, out, err = session.finish()
    assert code == 0, err
    return json.loads(out)


def add(cli, yt: FakeYouTube) -> None:  # type: ignore[no-untyped-def]
    """A token made elsewhere: `accounts add youtube --token-stdin` with the refresh token beside it."""
    env = {"POSTCLI_YOUTUBE_REFRESH_TOKEN": yt.refresh_token, "POSTCLI_YOUTUBE_CLIENT_SECRET": CLIENT_SECRET}
    r = cli(
        "accounts", "add", "youtube", "--client-id", CLIENT_ID, "--app-status", "production",
        "--api-base", yt.url, "--token-stdin", "--json", input=yt.access_token + "\n", env=env,
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr


def db(home: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(home / "postcli.db")
    conn.row_factory = sqlite3.Row
    return conn


def test_login_publish_collect_and_analytics(cli, home, clip):
    with FakeYouTube() as yt:
        account = login(yt)
        assert account["handle"] == "alicevideos"
        out = cli.json(
            "post", "create", "What this video is about", "--to", "youtube", "--media", str(clip),
            "--title", "My first video", "--field", "youtube.tags=cats,funny cats", "--field", "youtube.category=22",
        )  # fmt: skip
        assert out["status"] == "completed"
        (target,) = out["targets"]
        (video,) = yt.videos
        assert target["url"] == f"https://www.youtube.com/watch?v={video}" and target["notice"] is None
        assert target["fields"] == {"tags": ["cats", "funny cats"], "category": 22}
        (start,) = yt.requests_to("POST", "/upload/youtube/v3/videos")
        assert start.json["status"] == {"privacyStatus": "private"}  # the default
        assert start.json["snippet"]["title"] == "My first video" and start.json["snippet"]["categoryId"] == "22"
        assert [len(p.body) for p in yt.chunk_puts()] == [UNIT, UNIT, clip.stat().st_size - 2 * UNIT]
        assert bytes(next(iter(yt.sessions.values())).data) == clip.read_bytes()
        (state,) = db(home).execute("select publish_state from post_targets").fetchone()
        assert json.loads(state or "null") is None  # the session is not kept once done

        yt.set_stats(video, views=321, likes=12, comments=4)
        collected = cli.json("collect")
        assert (collected["fetched"], collected["accounts"]) == (1, 1)
        numbers = cli.json("analytics", "post", str(out["post_id"]))
        (row,) = numbers["metrics_by_target"]
        assert (row["views"], row["video_views"], row["likes"], row["comments"]) == (321, 321, 12, 4)
        assert (row["impressions"], row["reach"], row["shares"]) == (None, None, None)
        assert row["follower_count"] == 1200
        overview = cli("analytics", "overview")
        assert overview.exit_code == 0 and "youtube" in overview.stdout


def test_sigkill_mid_upload_then_retry_resumes_the_same_upload_and_publishes_once(cli, home, clip):
    with FakeYouTube() as yt:
        add(cli, yt)
        gate = yt.hold("PUT", "/upload/youtube/v3/videos", times=1)  # the first chunk waits for its answer
        exe = Path(sys.executable).with_name("postcli")
        proc = subprocess.Popen(
            [str(exe), "post", "create", "crash test", "--to", "youtube", "--media", str(clip), "--title", "Crash"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        kill_when(proc, lambda: len(yt.chunk_puts()) == 1)
        gate.set()  # YouTube keeps the chunk it got; its answer goes to a dead process
        deadline = time.monotonic() + 10
        while yt.chunk_puts()[0].status is None:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        state = json.loads(db(home).execute("select publish_state from post_targets").fetchone()[0])
        assert state["session_uri"].startswith(yt.url) and yt.videos == {}

        r = run_postcli("post", "retry", "1", "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["status"] == "completed"
        (video,) = yt.videos
        assert len(yt.requests_to("POST", "/upload/youtube/v3/videos")) == 1  # the same session
        assert yt.bytes_sent == clip.stat().st_size  # no byte went twice
        assert bytes(next(iter(yt.sessions.values())).data) == clip.read_bytes()
        row = db(home).execute("select status, platform_post_id from post_targets").fetchone()
        assert tuple(row) == ("completed", video)


@pytest.mark.parametrize(
    "args, words",
    [
        ([], "YouTube needs a title"),
        (["--title", "a <b>"], "YouTube titles may not contain '<' or '>'"),
        (["--title", "x" * 101], "takes at most 100"),
        (["--title", "ok", "--field", "youtube.privacy=friends"], "not one of the allowed values"),
        (["--title", "ok", "--field", "youtube.tags=" + ",".join(["a tag"] * 80)], "as YouTube counts them"),
    ],
)
def test_what_youtube_would_refuse_is_exit_2_and_nothing_is_stored_or_sent(cli, home, clip, args, words):
    with FakeYouTube() as yt:
        add(cli, yt)
        yt.requests.clear()
        r = cli("post", "create", "a description", "--to", "youtube", "--media", str(clip), *args)
        assert r.exit_code == 2 and words in r.stderr
        assert yt.requests == [] and cli.json("post", "list")["total"] == 0


def test_a_description_with_angle_brackets_or_no_video_is_exit_2(cli, home, clip):
    with FakeYouTube() as yt:
        add(cli, yt)
        r = cli("post", "create", "1 < 2", "--to", "youtube", "--media", str(clip), "--title", "t")
        assert r.exit_code == 2 and "may not contain '<'" in r.stderr
        r = cli("post", "create", "no video", "--to", "youtube", "--title", "t")
        assert r.exit_code == 2 and "need at least one image or video" in r.stderr
        assert cli.json("post", "list")["total"] == 0


def test_a_spent_quota_is_exit_5_with_retry_at_the_next_pacific_midnight(cli, home, clip):
    from zoneinfo import ZoneInfo

    with FakeYouTube() as yt:
        add(cli, yt)
        yt.quota_exhausted()
        r = cli("post", "create", "d", "--to", "youtube", "--media", str(clip), "--title", "t", "--json")
        assert r.exit_code == 5, r.stderr
        (target,) = json.loads(r.stdout)["targets"]
        pacific = ZoneInfo("America/Los_Angeles")
        midnight = datetime.combine(datetime.now(pacific).date() + timedelta(days=1), datetime.min.time(), pacific)
        retry_at = datetime.fromisoformat(target["retry_at"])
        assert abs((retry_at - midnight).total_seconds()) < 120
        assert "rate limited" in r.stderr and yt.chunk_puts() == []


def test_an_unaudited_projects_private_lock_is_a_notice_not_a_failure(cli, home, clip):
    with FakeYouTube(audited=False) as yt:
        add(cli, yt)
        r = cli(
            "post",
            "create",
            "d",
            "--to",
            "youtube",
            "--media",
            str(clip),
            "--title",
            "t",
            "--field",
            "youtube.privacy=public",
            "--json",
        )
        assert r.exit_code == 0, r.stderr
        out = json.loads(r.stdout)
        (target,) = out["targets"]
        assert out["status"] == "completed" and "private, not public" in target["notice"]
        assert "audit" in r.stderr


def test_the_daily_quota_refuses_a_delete_it_cannot_cover_before_sending_it(cli, home, clip):
    (home / "config.toml").write_text('[collect.rate_limits]\nyoutube = "40/86400"\n')
    with FakeYouTube() as yt:
        add(cli, yt)
        out = cli.json("post", "create", "d", "--to", "youtube", "--media", str(clip), "--title", "t")
        r = cli("post", "delete", str(out["post_id"]), "--remote", "--json")
        assert r.exit_code == 5, (r.stdout, r.stderr)
        assert "too little left for videos.delete (50 units)" in r.stdout + r.stderr
        assert yt.requests_to("DELETE", "/youtube/v3/videos") == [] and len(yt.videos) == 1


def test_collect_reports_failed_processing_and_deleted_videos(cli, home, clip):
    with FakeYouTube() as yt:
        add(cli, yt)
        first = cli.json("post", "create", "one", "--to", "youtube", "--media", str(clip), "--title", "one")
        cli.json("post", "create", "two", "--to", "youtube", "--media", str(clip), "--title", "two")
        broken, gone = list(yt.videos)
        yt.set_processing(broken, "failed", "transcodeFailed", upload_status="failed")
        yt.delete_video(gone)
        out = cli.json("collect")
        assert (out["fetched"], out["deleted"]) == (1, 1)
        assert any("transcodeFailed" in n for n in out["notes"])
        assert cli.json("post", "show", str(first["post_id"]))["targets"][0]["status"] == "completed"


def test_postcli_platforms_describes_youtube_from_its_spec(cli):
    out = cli.json("platforms", "youtube")
    assert out["publish"]["title"] == "required" and out["publish"]["text"] is False
    assert out["publish"]["video"] is True and out["publish"]["images"] is False
    assert [f["key"] for f in out["publish"]["fields"]] == ["youtube.privacy", "youtube.tags", "youtube.category"]
    assert out["metrics"]["reported"] == ["views", "likes", "comments", "video_views"]
    assert {"impressions", "reach", "shares"} <= set(out["metrics"]["always_null"])
    assert out["rate_limit"] == {
        "requests": 10000,
        "seconds": 86400,
        "daily_reset": "America/Los_Angeles",
        "per_app": True,
    }
    assert out["signin"]["own_app"] is True and out["signin"]["redirect"] == "loopback"
    assert "POSTCLI_YOUTUBE_REFRESH_TOKEN" in out["connect"]["environment"]


def test_collect_with_the_daily_quota_spent_defers_to_the_reset_and_exits_5(cli, home, clip):
    from zoneinfo import ZoneInfo

    (home / "config.toml").write_text('[collect.rate_limits]\nyoutube = "1/86400"\n')
    with FakeYouTube() as yt:
        add(cli, yt)
        cli.json("post", "create", "d", "--to", "youtube", "--media", str(clip), "--title", "t")
        r = cli("collect", "--json")
        assert r.exit_code == 5, (r.stdout, r.stderr)
        out = json.loads(r.stdout)
        (limited,) = out["rate_limited"]
        pacific = ZoneInfo("America/Los_Angeles")
        midnight = datetime.combine(datetime.now(pacific).date() + timedelta(days=1), datetime.min.time(), pacific)
        assert abs((datetime.fromisoformat(limited["until"]) - midnight).total_seconds()) < 120
        assert out["accounts"] == 1 and out["fetched"] == 0  # the one unit went to the channel's counters
        assert yt.requests_to("GET", "/youtube/v3/videos") == []
