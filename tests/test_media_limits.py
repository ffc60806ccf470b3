"""Media limits from the platforms' current sources, checked before anything is sent.

- Bluesky: the blob maxSize of the current lexicons in bluesky-social/atproto
  (lexicons/app/bsky/embed/images.json: 2,000,000 bytes, "formerly limited to 1 MB";
  lexicons/app/bsky/embed/video.json: 300,000,000 bytes, "formerly limited to 100mb").
  The lexicons state no video duration; the Bluesky app's does (bluesky-social/social-app
  src/lib/constants.ts, VIDEO_MAX_DURATION_MS: 10 minutes), and the video service refuses a
  longer one (app.bsky.video.startUpload: VideoTooLong). Issue 22: postcli checked none, and a
  longer video sent by uploadBlob was published with a video that never plays.
- Threads media specifications: "Duration: 300 seconds (5 minutes) maximum".
- Instagram Reel specifications (IG User Media reference): "15 mins max, 3 seconds min", 300 MB;
  a video in a carousel is not a Reel: "Duration: 60 seconds maximum, 3 seconds minimum",
  "File size: 100MB maximum" (the video specifications of the same reference).

The videos are real (if tiny) MP4 files whose `mvhd` box gives the duration that
mutagen reads, the way services/media.py measures every video.
"""

from __future__ import annotations

from pathlib import Path

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
    assert (limits.max_video_seconds, limits.min_video_seconds) == (600, None)


def test_a_bluesky_video_over_ten_minutes_is_refused_before_anything_is_sent(cli, bluesky, tmp_path, home):
    import sqlite3

    clip = mp4(tmp_path / "long.mp4", 10 * 60 + 0.5)
    r = cli("post", "create", "a long clip", "--to", "bluesky", "--media", str(clip), "--alt", "a clip")
    assert r.exit_code == 2, r.stdout + r.stderr
    assert "long.mp4 is 10 min 0.5 s long, the limit is 10 min" in r.stderr
    assert bluesky.calls("com.atproto.repo.uploadBlob") == []
    assert bluesky.calls("com.atproto.repo.createRecord") == []
    assert sqlite3.connect(home / "postcli.db").execute("select count(*) from posts").fetchone()[0] == 0


def test_a_bluesky_video_of_ten_minutes_is_published_with_its_alt_text(cli, bluesky, tmp_path):
    clip = mp4(tmp_path / "ok.mp4", 10 * 60)
    alt = "a clip, described at length " * 100  # no limit for video alt text in the lexicon now
    out = cli.json("post", "create", "a clip", "--to", "bluesky", "--media", str(clip), "--alt", alt[:1990])
    assert out["status"] == "completed", out
    embed = bluesky.last("com.atproto.repo.createRecord").json["record"]["embed"]
    assert embed["$type"] == "app.bsky.embed.video" and embed["alt"] == alt[:1990]


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


# --- Instagram carousels: a video in a carousel is not a Reel ----------------------------------


def _jpeg(path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (100, 100), (200, 30, 30)).save(path, "JPEG")
    return path


@pytest.mark.parametrize(
    ("seconds", "message"),
    [
        (61, "clip.mp4 is 1 min 1 s long, the limit for a video in a carousel is 1 min"),
        (2.5, "clip.mp4 is 2.5 s long, the minimum is 3 s"),
    ],
)
def test_an_instagram_carousel_video_outside_3_to_60_seconds_is_refused_before_anything_is_sent(
    cli, instagram, tmp_path, seconds, message
):
    cli.json("accounts", "add", "instagram", "--api-base", instagram.url, "--token-stdin", input=instagram.token + "\n")
    instagram.reset_log()
    photo, clip = _jpeg(tmp_path / "a.jpg"), mp4(tmp_path / "clip.mp4", seconds)
    r = cli("post", "create", "two", "--to", "instagram", "--media", str(photo), "--media", str(clip))
    assert r.exit_code == 2, r.stdout + r.stderr
    assert message in " ".join(r.stderr.split())
    assert _posts_sent(instagram) == []


def test_an_instagram_carousel_video_over_100_mb_is_refused_though_a_reel_may_be_300(cli, instagram, tmp_path):
    cli.json("accounts", "add", "instagram", "--api-base", instagram.url, "--token-stdin", input=instagram.token + "\n")
    instagram.reset_log()
    clip = mp4(tmp_path / "big.mp4", 30)
    with clip.open("r+b") as f:  # sparse: 101 MiB without writing them
        f.truncate(101 * 1024 * 1024)
    photo = _jpeg(tmp_path / "a.jpg")
    r = cli("post", "create", "two", "--to", "instagram", "--media", str(photo), "--media", str(clip))
    assert r.exit_code == 2, r.stdout + r.stderr
    assert "the limit for a video in a carousel is 104,857,600" in " ".join(r.stderr.split())
    alone = cli("post", "create", "a reel", "--to", "instagram", "--media", str(clip))
    assert "104,857,600" not in alone.stderr and "bytes" not in alone.stderr  # a Reel may be 300 MB
    assert _posts_sent(instagram) == []


def test_a_sixty_second_carousel_video_passes_instagrams_checks(tmp_path):
    from postcli.platforms.base import MediaItem, PublishRequest
    from postcli.platforms.instagram.rules import content_problems

    clip = mp4(tmp_path / "ok.mp4", 60)
    photo = _jpeg(tmp_path / "a.jpg")
    items = [
        MediaItem(path=photo, mime_type="image/jpeg", size_bytes=photo.stat().st_size, public_url="https://x/a.jpg"),
        MediaItem(
            path=clip,
            mime_type="video/mp4",
            size_bytes=clip.stat().st_size,
            public_url="https://x/ok.mp4",
            duration_s=60,
        ),
    ]
    assert content_problems(PublishRequest(text="two", idempotency_key="k", media=items)) == []
    long = [items[0], MediaItem(**{**items[1].__dict__, "duration_s": 61.0})]
    assert content_problems(PublishRequest(text="two", idempotency_key="k", media=long)) == [
        "ok.mp4 lasts 61 s, Instagram takes a video in a carousel of 3 to 60 s."
    ]
