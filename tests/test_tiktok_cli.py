"""TikTok through the CLI against the fake: `accounts login` (the test plays the browser),
`post create` with a generated video, `collect`, `analytics post ID --json`; a process
killed mid-upload then `post retry` that resumes the same upload and publishes once;
creator_info's refusals before anything is stored; posts TikTok stops listing."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from fakes.tiktok_server import FakeTikTok
from postcli.platforms.tiktok.upload import CHUNK
from support.cli import kill_when, run_postcli
from support.media import jpeg, mp4
from test_signin_tiktok import signed_in


@pytest.fixture
def tiktok(home):  # type: ignore[no-untyped-def]
    # Each collect in a test is a new run, however soon after the last one.
    (home / "config.toml").write_text("[collect]\nmin_interval_seconds = 0\n")
    with FakeTikTok() as t:
        yield t


def _db(home: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(home / "postcli.db")
    conn.row_factory = sqlite3.Row
    return conn


def test_login_publish_a_video_collect_and_read_its_analytics(cli, home, tiktok, tmp_path):
    signed_in(tiktok)
    tiktok.moderation_polls = None  # moderation ends after the publish has returned
    clip = mp4(tmp_path / "clip.mp4", seconds=8.0, pad=30_000)
    out = cli.json(
        "post", "create", "a small clip #fyp", "--to", "tiktok", "--media", str(clip),
        "--field", "tiktok.privacy=PUBLIC_TO_EVERYONE", "--field", "tiktok.disable_comment=true",
    )  # fmt: skip
    assert out["status"] == "completed"
    (target,) = out["targets"]
    publish = tiktok.only_publish()
    assert target["platform_post_id"] == publish.publish_id and target["url"] is None
    assert target["fields"] == {"privacy": "PUBLIC_TO_EVERYONE", "disable_comment": True}
    assert "moderation" in target["note"]
    info = publish.body["post_info"]
    assert (info["privacy_level"], info["disable_comment"], info["title"]) == (
        "PUBLIC_TO_EVERYONE",
        True,
        "a small clip #fyp",
    )
    (put,) = tiktok.requests_to("PUT", "/video/")
    assert put.body == clip.read_bytes()
    shown = cli("post", "show", str(out["post_id"]))
    assert "moderation" in shown.stdout

    # Moderation is done; the next collect learns the post id and reads its numbers under it.
    post_id = tiktok.moderate(publish.publish_id)
    tiktok.set_counts(post_id, view_count=1500, like_count=120, comment_count=None, share_count=9)
    collected = cli.json("collect")
    assert collected["fetched"] == 1
    row = _db(home).execute("select platform_post_id, platform_post_url from post_targets").fetchone()
    assert tuple(row) == (post_id, f"https://www.tiktok.com/@alice.makes/video/{post_id}")
    analytics = cli.json("analytics", "post", str(out["post_id"]))
    (m,) = analytics["metrics_by_target"]
    assert (m["views"], m["likes"], m["comments"], m["shares"]) == (1500, 120, None, 9)
    assert (m["reach"], m["impressions"]) == (None, None)
    assert m["follower_count"] == 1200
    overview = cli("analytics", "overview")
    assert overview.exit_code == 0 and "tiktok" in overview.stdout

    # The next collect asks by the post id: no status call any more.
    before = tiktok.count("POST /v2/post/publish/status/fetch/")
    assert cli.json("collect")["fetched"] == 1
    assert tiktok.count("POST /v2/post/publish/status/fetch/") == before


def test_a_private_post_says_it_has_no_id_and_no_numbers(cli, home, tiktok, tmp_path):
    signed_in(tiktok)
    clip = mp4(tmp_path / "clip.mp4", seconds=5.0)
    out = cli.json("post", "create", "just for me", "--to", "tiktok", "--media", str(clip))
    (target,) = out["targets"]
    assert tiktok.only_publish().privacy == "SELF_ONLY"  # the default
    assert "SELF_ONLY post: it has no post id and no numbers" in target["note"]
    text = cli("post", "show", str(out["post_id"])).stdout
    assert "SELF_ONLY post" in text
    collected = cli.json("collect")
    assert collected["fetched"] == 0
    row = _db(home).execute("select status from post_targets").fetchone()
    assert row["status"] == "completed"  # not visible is not deleted
    assert _db(home).execute("select count(*) from post_metric_snapshots").fetchone()[0] == 0


def test_a_video_tiktok_stops_listing_stays_published_with_its_last_numbers(cli, home, tiktok, tmp_path):
    signed_in(tiktok)
    clip = mp4(tmp_path / "clip.mp4", seconds=5.0)
    out = cli.json(
        "post", "create", "public", "--to", "tiktok", "--media", str(clip), "--field", "tiktok.privacy=PUBLIC_TO_EVERYONE"
    )  # fmt: skip
    post_id = out["targets"][0]["platform_post_id"]
    tiktok.set_counts(post_id, view_count=40)
    assert cli.json("collect")["fetched"] == 1
    tiktok.hide(post_id)  # under review, or made private in the app
    again = cli.json("collect")
    assert again["fetched"] == 0 and again.get("deleted", 0) == 0
    assert _db(home).execute("select status from post_targets").fetchone()[0] == "completed"
    notes = [r[0] for r in _db(home).execute("select last_error from jobs where last_error is not null")]
    assert any("not visible on the platform" in n for n in notes)
    (m,) = cli.json("analytics", "post", str(out["post_id"]))["metrics_by_target"]
    assert m["views"] == 40


def test_creator_info_refusals_are_exit_2_with_nothing_stored(cli, home, tmp_path):
    with FakeTikTok(privacy_levels=["SELF_ONLY"], max_seconds=60) as t:
        signed_in(t)
        clip = mp4(tmp_path / "clip.mp4", seconds=8.0)
        r = cli(
            "post",
            "create",
            "x",
            "--to",
            "tiktok",
            "--media",
            str(clip),
            "--field",
            "tiktok.privacy=PUBLIC_TO_EVERYONE",
        )
        assert r.exit_code == 2 and "SELF_ONLY only" in r.stderr and "Nothing was sent" in r.stderr
        long = mp4(tmp_path / "long.mp4", seconds=75.0)
        r = cli("post", "create", "x", "--to", "tiktok", "--media", str(long))
        assert r.exit_code == 2 and "up to 60 s" in r.stderr
        r = cli("post", "create", "x", "--to", "tiktok", "--media", str(clip), "--field", "tiktok.loudness=11")
        assert r.exit_code == 2 and "tiktok.privacy" in r.stderr
        photo = jpeg(tmp_path / "p.jpg")
        r = cli("post", "create", "x", "--to", "tiktok", "--media", str(photo))
        assert r.exit_code == 2 and "fetches images from a public URL" in r.stderr
        r = cli("post", "create", "only words", "--to", "tiktok")
        assert r.exit_code == 2
        assert t.count("POST /v2/post/publish/video/init/") == 0
        assert cli.json("post", "list")["total"] == 0


def test_killed_mid_upload_then_post_retry_resumes_the_same_upload_and_publishes_once(cli, home, tiktok, tmp_path):
    signed_in(tiktok)
    clip = mp4(tmp_path / "big.mp4", seconds=20.0, pad=2 * CHUNK + 5000)
    size = clip.stat().st_size
    gate = tiktok.cut_chunk(1)
    exe = Path(sys.executable).with_name("postcli")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "postcli"]
    proc = subprocess.Popen(
        cmd + ["post", "create", "the long one", "--to", "tiktok", "--media", str(clip)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    kill_when(proc, lambda: len(tiktok.requests_to("PUT", "/video/")) == 2)
    gate.set()  # the second chunk never arrived whole
    publish = tiktok.only_publish()
    assert publish.received == CHUNK
    state = json.loads(_db(home).execute("select publish_state from post_targets").fetchone()[0])
    assert state["publish_id"] == publish.publish_id and state["uploaded"] == 1

    r = run_postcli("post", "retry", "1", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["status"] == "completed"
    assert tiktok.count("POST /v2/post/publish/video/init/") == 1 and len(tiktok.publishes) == 1
    ranges = [p.headers["Content-Range"] for p in tiktok.requests_to("PUT", "/video/")]
    assert ranges == [f"bytes 0-{CHUNK - 1}/{size}", f"bytes {CHUNK}-{size - 1}/{size}"] + [
        f"bytes {CHUNK}-{size - 1}/{size}"
    ]
    assert publish.received == size and publish.status == "PUBLISH_COMPLETE"
    row = _db(home).execute("select status, platform_post_id, publish_state from post_targets").fetchone()
    assert (row["status"], row["platform_post_id"]) == ("completed", publish.publish_id)
    assert json.loads(row["publish_state"] or "null") is None  # cleared once done


def test_analytics_refresh_learns_the_post_id_and_says_when_tiktok_hides_the_post(cli, home, tiktok, tmp_path):
    signed_in(tiktok)
    (home / "config.toml").write_text("[collect]\nmin_interval_seconds = 0\nrefresh_interval_minutes = 0\n")
    tiktok.moderation_polls = None
    clip = mp4(tmp_path / "clip.mp4", seconds=5.0)
    out = cli.json(
        "post", "create", "soon public", "--to", "tiktok", "--media", str(clip),
        "--field", "tiktok.privacy=PUBLIC_TO_EVERYONE",
    )  # fmt: skip
    post_id = tiktok.moderate(tiktok.only_publish().publish_id)
    tiktok.set_counts(post_id, view_count=77)
    refreshed = cli.json("analytics", "refresh", str(out["post_id"]))
    (m,) = refreshed["metrics_by_target"]
    assert m["views"] == 77 and m["url"] == f"https://www.tiktok.com/@alice.makes/video/{post_id}"
    assert _db(home).execute("select platform_post_id from post_targets").fetchone()[0] == post_id
    tiktok.hide(post_id)
    r = cli("analytics", "refresh", str(out["post_id"]), "--json")
    assert r.exit_code == 7
    (error,) = json.loads(r.stdout)["errors"]
    assert "not visible on the platform now" in error["error"]
    assert _db(home).execute("select status from post_targets").fetchone()[0] == "completed"
    (m,) = json.loads(r.stdout)["metrics_by_target"]
    assert m["views"] == 77  # the last numbers stay
