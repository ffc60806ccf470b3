"""Per-platform media (`--media-for PLATFORM=FILE`, `--alt-for PLATFORM=TEXT`) end to end.

The real atproto and Mastodon.py SDKs against the loopback fakes, plus the
sandbox: each asserts what its server received, per platform.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fakes.bluesky_server import FakeBlueskyServer
from fakes.mastodon_server import FakeMastodon
from support.accounts import BSKY_PASS, MASTO_TOKEN
from support.media import noise_png, png


@pytest.fixture
def three(cli):
    """Bluesky, Mastodon and a sandbox account, all connected."""
    with FakeBlueskyServer() as bsky, FakeMastodon(token=MASTO_TOKEN) as masto:
        bsky.add_account("alice.test", BSKY_PASS, display_name="Alice")
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
        cli.json("accounts", "add", "sandbox", "--handle", "demo.sandbox")
        yield bsky, masto


def sandbox_posts(home: Path) -> list[dict]:
    return list(json.loads((home / "sandbox.json").read_text())["posts"].values())


def masto_uploads(masto) -> list:
    return masto.requests_to("POST", "/api/v2/media")


def nothing_sent(bsky, masto, home: Path) -> None:
    assert bsky.count("com.atproto.repo.uploadBlob") == 0 and bsky.count("com.atproto.repo.createRecord") == 0
    assert masto_uploads(masto) == [] and masto.requests_to("POST", "/api/v1/statuses") == []
    assert not (home / "sandbox.json").exists() or sandbox_posts(home) == []
    db = sqlite3.connect(home / "postcli.db")
    assert db.execute("select count(*) from posts").fetchone()[0] == 0
    assert db.execute("select count(*) from post_media").fetchone()[0] == 0


def test_each_platform_gets_its_own_media_and_the_rest_the_common_media(cli, three, tmp_path, home):
    bsky, masto = three
    common = png(tmp_path / "common.png", (40, 30), "red")
    for_masto = png(tmp_path / "masto.png", (64, 48), "green")
    for_sandbox = png(tmp_path / "sandbox.png", (20, 20), "blue")
    out = cli.json(
        "post",
        "create",
        "one post, three pictures",
        "--to",
        "all",
        "--media",
        str(common),
        "--alt",
        "the common one",
        "--media-for",
        f"mastodon={for_masto}",
        "--alt-for",
        "mastodon=a green field",
        "--media-for",
        f"sandbox={for_sandbox}",
    )
    assert out["status"] == "completed", out

    # Bluesky has no media of its own: the common file and alt.
    (blob,) = bsky.calls("com.atproto.repo.uploadBlob")
    assert blob.body == common.read_bytes()
    images = bsky.last("com.atproto.repo.createRecord").json["record"]["embed"]["images"]
    assert [i["alt"] for i in images] == ["the common one"]
    # Mastodon got its own file and alt text instead.
    (upload,) = masto_uploads(masto)
    assert for_masto.read_bytes() in upload.body and common.read_bytes() not in upload.body
    assert upload.param("description") == "a green field"
    assert [m["description"] for m in masto.statuses[0]["media_attachments"]] == ["a green field"]
    # The sandbox too (no --alt-for for it: no alt text).
    (sb,) = sandbox_posts(home)
    assert [(f["size_bytes"], f["alt_text"]) for f in sb["media_files"]] == [(for_sandbox.stat().st_size, None)]

    shown = cli.json("post", "show", str(out["post_id"]))
    assert [(m["original_filename"], m["override_for"], m["alt_text"]) for m in shown["media"]] == [
        ("common.png", None, "the common one"),
        ("masto.png", "mastodon", "a green field"),
        ("sandbox.png", "sandbox", None),
    ]
    listed = cli.json("post", "list")["posts"][0]  # the fast read path says the same
    assert [m["override_for"] for m in listed["media"]] == [None, "mastodon", "sandbox"]
    text = cli("post", "show", str(out["post_id"]))
    assert "for mastodon" in text.stdout and "masto.png" in text.stdout


def test_media_for_is_validated_against_that_target_only(cli, three, tmp_path, home):
    bsky, masto = three
    # Too big for Bluesky (2,000,000 bytes) but fine for Mastodon and the sandbox:
    big = noise_png(tmp_path / "big.png", (850, 850))
    small = png(tmp_path / "small.png")
    out = cli.json(
        "post",
        "create",
        "big everywhere but bluesky",
        "--to",
        "bluesky",
        "--to",
        "mastodon",
        "--media",
        str(big),
        "--media-for",
        f"bluesky={small}",
        "--alt-for",
        "bluesky=small one",
    )
    assert out["status"] == "completed", out
    assert bsky.calls("com.atproto.repo.uploadBlob")[0].body == small.read_bytes()
    assert big.read_bytes() in masto_uploads(masto)[0].body


def test_media_for_over_the_target_limit_is_refused_before_anything_is_sent(cli, three, tmp_path, home):
    bsky, masto = three
    big = noise_png(tmp_path / "big.png", (850, 850))
    small = png(tmp_path / "small.png")
    r = cli("post", "create", "nope", "--to", "all", "--media", str(small), "--media-for", f"bluesky={big}")
    assert r.exit_code == 2, r.stdout + r.stderr
    assert "bluesky (alice.test)" in r.stderr and "2,000,000" in r.stderr
    assert "--media-for" in r.stderr  # the hint names the way out
    nothing_sent(bsky, masto, home)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--media-for", "mastodon"], "is not PLATFORM=FILE"),
        (["--media-for", "=x.png"], "is not PLATFORM=FILE"),
        (["--media-for", "mastodon="], "names no file"),
        (["--alt-for", "mastodon=alt with no file"], "1 --alt-for mastodon= given for 0 --media-for mastodon="),
        (["--alt-for", "mastodon"], "is not PLATFORM=TEXT"),
        (["--media-for", "tumblr={img}"], "--media-for tumblr matches none of the targets"),
        (["--media-for", "mastodon={tmp}/missing.png"], "does not exist"),
    ],
)
def test_bad_media_for_exits_2_and_stores_nothing(cli, three, tmp_path, home, args, message):
    bsky, masto = three
    img = png(tmp_path / "img.png")
    args = [a.format(img=img, tmp=tmp_path) for a in args]
    r = cli("post", "create", "bad", "--to", "all", *args)
    assert r.exit_code == 2, r.stdout + r.stderr
    assert message in r.stderr
    assert "Traceback" not in r.stderr
    nothing_sent(bsky, masto, home)


def test_edit_replaces_one_platforms_media_and_publishing_uses_it(cli, three, tmp_path, home):
    bsky, masto = three
    common = png(tmp_path / "common.png", (40, 30), "red")
    first = png(tmp_path / "first.png", (50, 30), "green")
    second = png(tmp_path / "second.png", (60, 30), "blue")
    draft = cli.json(
        "post",
        "create",
        "draft",
        "--to",
        "bluesky",
        "--to",
        "mastodon",
        "--draft",
        "--media",
        str(common),
        "--media-for",
        f"mastodon={first}",
    )
    edited = cli.json(
        "post", "edit", str(draft["id"]), "--media-for", f"mastodon={second}", "--alt-for", "mastodon=the second one"
    )
    assert [(m["original_filename"], m["override_for"], m["position"]) for m in edited["media"]] == [
        ("common.png", None, 0),
        ("second.png", "mastodon", 1),
    ]
    assert sqlite3.connect(home / "postcli.db").execute("select count(*) from post_media").fetchone()[0] == 2

    out = cli.json("post", "publish", str(draft["id"]))
    assert out["status"] == "completed", out
    assert bsky.calls("com.atproto.repo.uploadBlob")[0].body == common.read_bytes()
    (upload,) = masto_uploads(masto)
    assert second.read_bytes() in upload.body and upload.param("description") == "the second one"

    # --no-media removes the per-platform files too.
    again = cli.json("post", "create", "draft 2", "--to", "mastodon", "--draft", "--media-for", f"mastodon={first}")
    cleared = cli.json("post", "edit", str(again["id"]), "--no-media")
    assert cleared["media"] == []


def test_edit_refuses_media_for_a_platform_the_post_does_not_go_to(cli, three, tmp_path):
    img = png(tmp_path / "img.png")
    draft = cli.json("post", "create", "draft", "--to", "mastodon", "--draft")
    r = cli("post", "edit", str(draft["id"]), "--media-for", f"bluesky={img}")
    assert r.exit_code == 2 and "--media-for bluesky matches none of the targets" in r.stderr
    assert cli.json("post", "show", str(draft["id"]))["media"] == []


def test_the_same_post_with_different_per_platform_media_is_not_a_duplicate(cli, three, tmp_path):
    a = png(tmp_path / "a.png", (10, 10), "red")
    b = png(tmp_path / "b.png", (12, 10), "green")
    first = cli.json(
        "post", "create", "same text", "--to", "mastodon", "--to", "sandbox", "--media-for", f"mastodon={a}"
    )
    second = cli.json(
        "post", "create", "same text", "--to", "mastodon", "--to", "sandbox", "--media-for", f"mastodon={b}"
    )
    assert first["post_id"] != second["post_id"]


def test_a_store_at_0003_is_migrated_and_its_media_stays_the_posts_own(cli, home):
    """Migration 0004 adds post_media.override_for; rows from before are the post's media (NULL)."""
    from sqlalchemy import create_engine

    from postcli.store.migrate import upgrade_connection
    from postcli.store.session import SCHEMA_HEAD

    engine = create_engine(f"sqlite:///{home / 'postcli.db'}")
    with engine.begin() as conn:
        upgrade_connection(conn, "0003")
    engine.dispose()
    db = sqlite3.connect(home / "postcli.db")
    with db:
        db.execute(
            "insert into posts (id, text, status, timezone, source, created_at, updated_at) "
            "values (1, 'old', 'draft', 'UTC', 'cli', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        )
        db.execute(
            "insert into post_media (post_id, position, storage, key, mime_type, original_filename, "
            "size_bytes, sha256) values (1, 0, 'local', 'abc.png', 'image/png', 'old.png', 10, 'abc')"
        )
    db.close()

    shown = cli.json("post", "show", "1")
    assert [(m["original_filename"], m["override_for"]) for m in shown["media"]] == [("old.png", None)]
    db = sqlite3.connect(home / "postcli.db")
    assert db.execute("select version_num from alembic_version").fetchone()[0] == SCHEMA_HEAD  # migrated to the head
    assert db.execute("select override_for from post_media").fetchall() == [(None,)]


def test_a_platforms_own_media_goes_when_the_edit_drops_its_targets(cli, three, tmp_path):
    common = png(tmp_path / "common.png", (40, 30), "red")
    own = png(tmp_path / "own.png", (50, 30), "green")
    draft = cli.json(
        "post",
        "create",
        "draft",
        "--to",
        "bluesky",
        "--to",
        "mastodon",
        "--draft",
        "--media",
        str(common),
        "--media-for",
        f"mastodon={own}",
    )
    edited = cli.json("post", "edit", str(draft["id"]), "--to", "bluesky")
    assert [(m["original_filename"], m["override_for"]) for m in edited["media"]] == [("common.png", None)]


_KEYS = ("mastodon", "bluesky", "alice.test", "7")


@given(
    st.lists(st.tuples(st.sampled_from(_KEYS), st.text(min_size=1).filter(lambda s: s.strip())), max_size=8), st.data()
)
def test_parse_pairs_each_alt_with_the_file_of_its_key_in_order(files, data):
    from postcli.services.posts.media_for import parse

    alts = {k: data.draw(st.lists(st.text(), max_size=sum(1 for key, _ in files if key == k))) for k in _KEYS}
    parsed = parse([f"{k.upper()}={path}" for k, path in files], [f"@{k}={a}" for k in _KEYS for a in alts[k]])
    for k in _KEYS:
        expected = [
            (Path(p), alts[k][i] if i < len(alts[k]) else None) for i, p in enumerate(p for key, p in files if key == k)
        ]
        assert parsed.get(k, []) == expected
