"""Media limits from the platforms' current sources, checked before anything is sent.

- Bluesky: the blob maxSize of the current lexicons in bluesky-social/atproto
  (lexicons/app/bsky/embed/images.json: 2,000,000 bytes, "formerly limited to 1 MB";
  lexicons/app/bsky/embed/video.json: 300,000,000 bytes, "formerly limited to 100mb").
  The lexicons state no video duration, so postcli checks none.
- Threads media specifications: "Duration: 300 seconds (5 minutes) maximum".
- Instagram Reel specifications (IG User Media reference): "15 mins max, 3 seconds min".

The videos are real (if tiny) MP4 files whose `mvhd` box gives the duration that
mutagen reads, the way services/media.py measures every video.
"""

from __future__ import annotations

import pytest

from fakes.bluesky_server import FakeBlueskyServer
from fakes.instagram_server import FakeInstagram
from fakes.threads_server import DEFAULT_TOKEN, FakeThreads
from support.accounts import BSKY_PASS
from support.media import mp4, noise_png


def test_the_generated_mp4_is_sniffed_and_measured_like_a_real_one(tmp_path):
    from postcli.services import media

    prep = media.prepare(mp4(tmp_path / "clip.mp4", 301.5), None)
    assert (prep.mime_type, prep.duration_s) == ("video/mp4", 301.5)


# --- Bluesky ---------------------------------------------------------------------------


@pytest.fixture
def bluesky(cli):
    with FakeBlueskyServer() as server:
        server.add_account("alice.test", BSKY_PASS, display_name="Alice")
        r = cli(
            "accounts",
            "add",
            "bluesky",
            "--handle",
            "alice.test",
            "--service",
            server.url,
            "--password-stdin",
            input=BSKY_PASS + "\n",
        )
        assert r.exit_code == 0, r.stderr
        yield server


def test_bluesky_takes_an_image_between_the_old_1mb_and_the_current_2mb_limit(cli, bluesky, tmp_path):
    img = noise_png(tmp_path / "big.png", (760, 760))
    assert 1_000_000 < img.stat().st_size < 2_000_000
    out = cli.json("post", "create", "a big picture", "--to", "bluesky", "--media", str(img))
    assert out["status"] == "completed", out
    (upload,) = bluesky.calls("com.atproto.repo.uploadBlob")
    assert upload.body == img.read_bytes()


def test_bluesky_limits_are_the_current_lexicons():
    from postcli.platforms.base import AccountContext
    from postcli.platforms.bluesky.adapter import BlueskyAdapter

    limits = BlueskyAdapter(AccountContext(platform="bluesky", api_base_url="http://127.0.0.1:9")).limits()
    assert (limits.max_image_bytes, limits.max_video_bytes) == (2_000_000, 300_000_000)
    assert (limits.max_video_seconds, limits.min_video_seconds) == (None, None)


def test_a_long_video_is_not_refused_for_bluesky_which_states_no_duration(cli, bluesky, tmp_path):
    clip = mp4(tmp_path / "long.mp4", 20 * 60)
    out = cli.json("post", "create", "a long clip", "--to", "bluesky", "--media", str(clip), "--alt", "a clip")
    assert out["status"] == "completed", out
    embed = bluesky.last("com.atproto.repo.createRecord").json["record"]["embed"]
    assert embed["$type"] == "app.bsky.embed.video" and embed["alt"] == "a clip"


# --- Threads and Instagram: durations ------------------------------------------------------


@pytest.fixture
def threads():
    with FakeThreads() as server:
        yield server


@pytest.fixture
def instagram():
    with FakeInstagram() as server:
        yield server


def _posts_sent(server) -> list:
    return [r for r in server.requests if r.method == "POST"]


def test_a_threads_video_over_five_minutes_is_refused_before_anything_is_sent(cli, threads, tmp_path, home):
    import sqlite3

    r = cli("accounts", "add", "threads", "--api-base", threads.url, "--token-stdin", input=DEFAULT_TOKEN + "\n")
    assert r.exit_code == 0, r.stderr
    threads.reset_log()
    clip = mp4(tmp_path / "long.mp4", 301.5)
    r = cli("post", "create", "too long", "--to", "threads", "--media", str(clip))
    assert r.exit_code == 2, r.stdout + r.stderr
    assert "long.mp4 is 5 min 1.5 s long, the limit is 5 min" in r.stderr
    assert _posts_sent(threads) == []
    assert sqlite3.connect(home / "postcli.db").execute("select count(*) from posts").fetchone()[0] == 0


def test_a_threads_video_of_exactly_five_minutes_passes_the_duration_check(cli, threads, tmp_path):
    r = cli("accounts", "add", "threads", "--api-base", threads.url, "--token-stdin", input=DEFAULT_TOKEN + "\n")
    assert r.exit_code == 0, r.stderr
    clip = mp4(tmp_path / "ok.mp4", 300)
    r = cli("post", "create", "just right", "--to", "threads", "--media", str(clip))
    # Without [s3] Threads cannot fetch the file: that is the only problem left.
    assert r.exit_code == 2 and "S3 media store" in r.stderr
    assert "long" not in r.stderr.split("hint")[0].replace("just right", "")


@pytest.mark.parametrize(
    ("seconds", "message"),
    [
        (2.5, "short.mp4 is 2.5 s long, the minimum is 3 s"),
        (15 * 60 + 1, "short.mp4 is 15 min 1 s long, the limit is 15 min"),
    ],
)
def test_an_instagram_reel_outside_3s_to_15min_is_refused_before_anything_is_sent(
    cli, instagram, tmp_path, seconds, message
):
    cli.json("accounts", "add", "instagram", "--api-base", instagram.url, "--token-stdin", input=instagram.token + "\n")
    instagram.reset_log()
    clip = mp4(tmp_path / "short.mp4", seconds)
    r = cli("post", "create", "a reel", "--to", "instagram", "--media", str(clip))
    assert r.exit_code == 2, r.stdout + r.stderr
    assert message in r.stderr
    assert _posts_sent(instagram) == []
