"""Media through the CLI against the loopback fakes, with the real atproto and Mastodon.py SDKs.

Local storage only (no [s3]); tests/test_s3.py covers the bucket.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from fakes.bluesky_server import FakeBlueskyServer
from fakes.mastodon_server import FakeMastodon
from support.accounts import BSKY_PASS, MASTO_TOKEN
from support.media import noise_png, png

# --- helpers -------------------------------------------------------------------------


def rotated_jpeg(path: Path, stored: tuple[int, int]) -> Path:
    """A JPEG stored landscape with EXIF orientation 6 (shown rotated 90°), as phones write them."""
    from PIL import Image

    img = Image.new("RGB", stored, "blue")
    exif = img.getexif()
    exif[0x0112] = 6
    img.save(path, format="JPEG", exif=exif)
    return path


def ratio(image: dict) -> tuple[int, int]:
    return image["aspectRatio"]["width"], image["aspectRatio"]["height"]


def db(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "postcli.db")


def stored_files(home: Path) -> list[Path]:
    media = home / "media"
    return sorted(p for p in media.iterdir() if not p.name.startswith(".")) if media.exists() else []


# --- fixtures ------------------------------------------------------------------------


@pytest.fixture
def bsky():
    with FakeBlueskyServer() as server:
        server.add_account("alice.test", BSKY_PASS, display_name="Alice")
        yield server


@pytest.fixture
def masto():
    # Two 206 answers before 200: the adapter must poll until the media is processed.
    with FakeMastodon(token=MASTO_TOKEN, media_processing_polls=2) as server:
        yield server


@pytest.fixture
def connected(cli, bsky, masto):
    r = cli(
        "accounts",
        "add",
        "bluesky",
        "--handle",
        "alice.test",
        "--service",
        bsky.url,
        "--password-stdin",
        input=BSKY_PASS + "\n",
    )
    assert r.exit_code == 0, r.stderr
    r = cli("accounts", "add", "mastodon", "--instance", masto.url, "--token-stdin", input=MASTO_TOKEN + "\n")
    assert r.exit_code == 0, r.stderr
    return bsky, masto


def assert_nothing_sent_or_stored(bsky, masto, home: Path) -> None:
    assert bsky.count("com.atproto.repo.uploadBlob") == 0
    assert bsky.count("com.atproto.repo.createRecord") == 0
    assert masto.requests_to("POST", "/api/v2/media") == []
    assert masto.requests_to("POST", "/api/v1/media") == []
    assert masto.requests_to("POST", "/api/v1/statuses") == []
    assert db(home).execute("select count(*) from posts").fetchone()[0] == 0
    assert db(home).execute("select count(*) from post_media").fetchone()[0] == 0
    assert stored_files(home) == []


# --- Bluesky -------------------------------------------------------------------------


def test_bluesky_images_become_blobs_and_an_images_embed_with_alt_and_aspect_ratio(cli, connected, tmp_path):
    bsky, _ = connected
    a = png(tmp_path / "a.png", (640, 480))
    b = png(tmp_path / "b.png", (300, 900), "green")
    out = cli.json(
        "post",
        "create",
        "two pictures",
        "--to",
        "bluesky",
        "--media",
        str(a),
        "--media",
        str(b),
        "--alt",
        "a red field",
        "--alt",
        "a green tower",
    )
    assert out["status"] == "completed", out

    uploads = bsky.calls("com.atproto.repo.uploadBlob")
    assert [u.body for u in uploads] == [a.read_bytes(), b.read_bytes()]
    assert [u.headers.get("Content-Type") for u in uploads] == ["image/png", "image/png"]

    embed = bsky.last("com.atproto.repo.createRecord").json["record"]["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    images = embed["images"]
    assert [i["alt"] for i in images] == ["a red field", "a green tower"]
    assert [ratio(i) for i in images] == [(640, 480), (300, 900)]
    for img, upload in zip(images, uploads):
        blob = img["image"]
        assert (blob["$type"], blob["mimeType"], blob["size"]) == ("blob", "image/png", len(upload.body))
        assert bsky.blob(blob["ref"]["$link"]) == ("image/png", upload.body)


def test_type_is_sniffed_from_the_bytes_and_exif_rotation_gives_the_shown_aspect(cli, connected, tmp_path):
    bsky, _ = connected
    disguised = png(tmp_path / "photo.jpg", (50, 20))  # a PNG under a .jpg name
    portrait = rotated_jpeg(tmp_path / "portrait.jpeg", (80, 60))  # 80x60 pixels, shown 60x80
    out = cli.json("post", "create", "sniffed", "--to", "bluesky", "--media", str(disguised), "--media", str(portrait))
    assert out["status"] == "completed", out
    uploads = bsky.calls("com.atproto.repo.uploadBlob")
    assert [u.headers.get("Content-Type") for u in uploads] == ["image/png", "image/jpeg"]
    images = bsky.last("com.atproto.repo.createRecord").json["record"]["embed"]["images"]
    assert [ratio(i) for i in images] == [(50, 20), (60, 80)]
    assert [i["alt"] for i in images] == ["", ""]  # the lexicon requires alt; none given is empty


def test_five_images_are_over_the_bluesky_limit_and_nothing_is_sent(cli, connected, tmp_path, home):
    bsky, masto = connected
    files = [png(tmp_path / f"{i}.png", (10 + i, 10)) for i in range(5)]
    args = [a for f in files for a in ("--media", str(f))]
    r = cli("post", "create", "too many", "--to", "all", *args)
    assert r.exit_code == 2, r.stdout + r.stderr
    assert "bluesky (alice.test)" in r.stderr and "5 images, the limit is 4" in r.stderr
    assert_nothing_sent_or_stored(bsky, masto, home)


def test_an_image_over_bluesky_blob_limit_is_refused_before_anything_is_sent(cli, connected, tmp_path, home):
    bsky, masto = connected
    big = noise_png(tmp_path / "noise.png", (850, 850))
    assert big.stat().st_size > 2_000_000  # app.bsky.embed.images maxSize (was 1,000,000)
    r = cli("post", "create", "big one", "--to", "all", "--media", str(big))
    assert r.exit_code == 2, r.stdout + r.stderr
    assert "bluesky (alice.test)" in r.stderr and "2,000,000" in r.stderr
    assert f"{big.stat().st_size:,}" in r.stderr
    assert "mastodon" not in r.stderr.split("hint")[0]  # 16 MB is fine there; only Bluesky is named
    assert_nothing_sent_or_stored(bsky, masto, home)


# --- Mastodon ------------------------------------------------------------------------


def test_mastodon_upload_is_polled_until_processed_and_sends_the_alt_text(cli, connected, tmp_path):
    _, masto = connected
    img = png(tmp_path / "pic.png", (64, 48))
    out = cli.json("post", "create", "with media", "--to", "mastodon", "--media", str(img), "--alt", "a red square")
    assert out["status"] == "completed", out

    uploads = masto.requests_to("POST", "/api/v2/media")
    assert len(uploads) == 1 and uploads[0].status == 202
    assert uploads[0].param("description") == "a red square"
    assert uploads[0].files["file"]["content_type"] == "image/png"
    assert img.read_bytes() in uploads[0].body
    polls = masto.requests_to("GET", "/api/v1/media/")
    assert [p.status for p in polls] == [206, 206, 200]

    status = masto.statuses[0]
    assert [m["description"] for m in status["media_attachments"]] == ["a red square"]
    sent = masto.requests_to("POST", "/api/v1/statuses")[0]
    media_ids = sent.json.get("media_ids") if isinstance(sent.json, dict) else sent.form.get("media_ids[]")
    assert [str(i) for i in media_ids] == [status["media_attachments"][0]["id"]]


def test_media_processing_failure_fails_that_target_only(cli, connected, tmp_path, home):
    bsky, masto = connected
    masto.media_processing(1, fail=True)
    img = png(tmp_path / "pic.png")
    r = cli("post", "create", "one of two", "--to", "all", "--media", str(img), "--json")
    assert r.exit_code == 7, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["status"] == "partial_success"
    by = {t["platform"]: t for t in out["targets"]}
    assert by["bluesky"]["status"] == "completed"
    assert by["mastodon"]["status"] == "failed" and by["mastodon"]["error"]
    assert masto.statuses == []
    assert bsky.count("com.atproto.repo.createRecord") == 1

    r = cli("post", "create", "only mastodon", "--to", "mastodon", "--media", str(img), "--json")
    assert r.exit_code == 1, r.stdout + r.stderr
    assert json.loads(r.stdout)["status"] == "failed"
    assert masto.statuses == []


# --- refused input -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, content, found",
    [
        ("notes.png", b"just some text, not a picture\n" * 10, "an unknown type"),
        ("doc.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", "application/pdf"),
    ],
)
def test_files_that_are_not_media_are_refused_listing_the_allowed_types(
    cli, connected, tmp_path, home, name, content, found
):
    bsky, masto = connected
    path = tmp_path / name
    path.write_bytes(content)
    r = cli("post", "create", "bad file", "--to", "all", "--media", str(path))
    assert r.exit_code == 2, r.stdout + r.stderr
    assert name in r.stderr and found in r.stderr
    for mime in ("image/png", "image/jpeg", "image/webp", "video/mp4", "video/quicktime"):
        assert mime in r.stderr
    assert "Traceback" not in r.stderr
    assert_nothing_sent_or_stored(bsky, masto, home)


def test_a_broken_image_and_a_missing_file_are_refused(cli, connected, tmp_path, home):
    bsky, masto = connected
    broken = tmp_path / "broken.png"
    broken.write_bytes(png(tmp_path / "ok.png").read_bytes()[:30])  # the header survives, the pixels do not
    r = cli("post", "create", "broken", "--to", "all", "--media", str(broken))
    assert r.exit_code == 2 and "broken.png" in r.stderr, r.stderr
    r = cli("post", "create", "missing", "--to", "all", "--media", str(tmp_path / "nope.png"))
    assert r.exit_code == 2 and "nope.png" in r.stderr, r.stderr
    assert_nothing_sent_or_stored(bsky, masto, home)


def test_more_alt_texts_than_media_is_refused(cli, connected, tmp_path, home):
    bsky, masto = connected
    img = png(tmp_path / "a.png")
    r = cli("post", "create", "alts", "--to", "all", "--media", str(img), "--alt", "one", "--alt", "two")
    assert r.exit_code == 2, r.stdout + r.stderr
    assert "2 --alt given for 1 --media" in r.stderr
    assert_nothing_sent_or_stored(bsky, masto, home)


# --- the copy in the data dir --------------------------------------------------------


def test_scheduled_media_is_copied_so_the_original_can_go(cli, connected, tmp_path, home):
    bsky, masto = connected
    img = png(tmp_path / "later.png", (120, 90), "purple")
    data = img.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    out = cli.json("post", "create", "later", "--to", "all", "--media", str(img), "--alt", "purple", "--at", "+1h")
    assert out["status"] == "scheduled"
    assert out["media"] == [
        {
            "position": 0,
            "mime_type": "image/png",
            "original_filename": "later.png",
            "size_bytes": len(data),
            "width": 120,
            "height": 90,
            "duration_s": None,
            "alt_text": "purple",
            "sha256": sha,
            "storage": "local",
            "override_for": None,  # the post's own media, not --media-for
            "part": None,  # the post's own (part 1), not --media-for-part
        }
    ]
    row = (
        db(home)
        .execute("select storage, key, url, mime_type, size_bytes, width, height, sha256, alt_text from post_media")
        .fetchone()
    )
    assert row == ("local", f"{sha}.png", None, "image/png", len(data), 120, 90, sha, "purple")
    assert [p.name for p in stored_files(home)] == [f"{sha}.png"]

    img.unlink()
    r = cli("post", "publish", str(out["id"]), "--json")
    assert r.exit_code == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["status"] == "completed"
    assert [u.body for u in bsky.calls("com.atproto.repo.uploadBlob")] == [data]
    assert data in masto.requests_to("POST", "/api/v2/media")[0].body


def test_the_same_bytes_are_stored_once(cli, connected, tmp_path, home):
    img = png(tmp_path / "same.png")
    copy = tmp_path / "copy-of-same.png"
    copy.write_bytes(img.read_bytes())
    cli.json("post", "create", "first", "--to", "bluesky", "--media", str(img), "--at", "+1h")
    cli.json("post", "create", "second", "--to", "bluesky", "--media", str(copy), "--at", "+2h")
    assert len(stored_files(home)) == 1
    names = [r[0] for r in db(home).execute("select original_filename from post_media order by id")]
    assert names == ["same.png", "copy-of-same.png"]


# --- the service, where the CLI cannot reach -------------------------------------------


def test_a_file_that_changes_after_validation_is_not_stored_under_the_old_hash(home, tmp_path):
    from postcli.errors import InvalidInput
    from postcli.services import media

    img = png(tmp_path / "moving.png")
    prep = media.prepare(img, None)
    png(img, (41, 30))  # rewritten between validation and storing
    with pytest.raises(InvalidInput, match="changed while"):
        media.store_prepared(prep, 0)
    assert stored_files(home) == []


def test_whitespace_alt_text_counts_as_none(home, tmp_path):
    from postcli.services import media

    assert media.prepare(png(tmp_path / "a.png"), "   ").alt_text is None


def test_video_is_sniffed_and_stored(home, tmp_path):
    """A minimal MP4 (ftyp + an empty moov): sniffed as video/mp4 whatever its name."""
    from postcli.services import media

    ftyp = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    path = tmp_path / "clip.bin"
    path.write_bytes(ftyp + b"\x00\x00\x00\x08free" + b"\x00" * 64)
    prep = media.prepare(path, "a clip")
    assert prep.mime_type == "video/mp4" and prep.width is None
    row = media.store_prepared(prep, 0)
    assert row.key.endswith(".mp4") and (home / "media" / row.key).read_bytes() == path.read_bytes()
