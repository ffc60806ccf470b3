"""Writing a thread (issue 28): the parts from arguments, --from-file or standard input, --split,
per-part media, drafts, editing and scheduling; a platform without threads gets the parts joined
or is refused before anything is sent; the duplicate check compares every part."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from fakes.bluesky_server import FakeBlueskyServer
from fakes.mastodon_server import FakeMastodon
from fakes.tumblr_server import FakeTumblr
from support.media import png

BSKY_PASS = "alice-app-pass"
MASTO_TOKEN = "masto-secret-token-123456"


@pytest.fixture
def bsky(cli):
    with FakeBlueskyServer() as server:
        server.add_account("alice.test", BSKY_PASS)
        r = cli(
            "accounts", "add", "bluesky", "--handle", "alice.test", "--service", server.url, "--password-stdin",
            input=BSKY_PASS + "\n",
        )  # fmt: skip
        assert r.exit_code == 0, r.stderr
        yield server


@pytest.fixture
def masto(cli):
    with FakeMastodon(token=MASTO_TOKEN) as server:
        r = cli("accounts", "add", "mastodon", "--instance", server.url, "--token-stdin", input=MASTO_TOKEN + "\n")
        assert r.exit_code == 0, r.stderr
        yield server


@pytest.fixture
def tumblr(cli):
    with FakeTumblr() as server:
        env = {
            "POSTCLI_TUMBLR_REFRESH_TOKEN": server.refresh_token,
            "POSTCLI_TUMBLR_CLIENT_SECRET": server.client_secret,
        }
        r = cli(
            "accounts", "add", "tumblr", "--blog", "alice-writes.tumblr.com", "--client-id", server.client_id,
            "--api-base", server.url, "--token-stdin", input=server.access_token + "\n", env=env,
        )  # fmt: skip
        assert r.exit_code == 0, r.stderr
        yield server


def tumblr_posts(server: FakeTumblr) -> list:
    return [r for r in server.requests_to("POST", "/v2/blog/") if r.path.endswith("/posts")]


def _count(home: Path, table: str) -> int:
    return sqlite3.connect(home / "postcli.db").execute(f"select count(*) from {table}").fetchone()[0]


# --- a platform without threads ------------------------------------------------------------------


def test_a_thread_to_tumblr_is_joined_by_a_blank_line_while_mastodon_gets_the_chain(cli, tumblr, masto):
    out = cli.json("post", "create", "first part", "second part", "third part", "--to", "all")
    assert out["status"] == "completed"
    (create,) = tumblr_posts(tumblr)
    assert create.json["content"] == [
        {"type": "text", "text": "first part"},
        {"type": "text", "text": ""},
        {"type": "text", "text": "second part"},
        {"type": "text", "text": ""},
        {"type": "text", "text": "third part"},
    ]
    assert len(masto.statuses) == 3
    by_platform = {t["platform"]: t for t in out["targets"]}
    assert by_platform["tumblr"]["parts"] == [
        {
            "position": 1,
            "text": "first part\n\nsecond part\n\nthird part",
            "status": "completed",
            "platform_post_id": by_platform["tumblr"]["platform_post_id"],
            "url": by_platform["tumblr"]["url"],
            "error": None,
        }
    ]
    assert len(by_platform["mastodon"]["parts"]) == 3


def test_a_thread_too_long_joined_for_tumblr_is_refused_before_anything_is_sent(cli, tumblr, masto, home):
    r = cli("post", "create", "short", "x" * 4100, "--to", "all")
    assert r.exit_code == 2
    message = " ".join(r.stderr.split())
    assert "tumblr (alice-writes): tumblr has no threads, and the 2 parts joined are 4100" in message
    assert "--text-for tumblr=TEXT" in message and "leave it out of --to" in message and "Nothing was sent" in message
    assert tumblr_posts(tumblr) == [] and masto.requests_to("POST", "/api/v1/statuses") == []
    assert _count(home, "posts") == 0
    # Its own text is the fix the message names (Mastodon, which threads, cuts the long part).
    fixed = cli.json(
        "post", "create", "short", "x" * 4100, "--to", "all", "--split", "--text-for", "tumblr=A short summary"
    )  # fmt: skip
    assert fixed["status"] == "completed"
    assert len(masto.statuses) == 10  # "short", then 4,100 x cut into 500s
    assert tumblr_posts(tumblr)[0].json["content"] == [{"type": "text", "text": "A short summary"}]


def test_a_first_comment_where_the_platform_takes_none_is_refused_before_sending(cli, tumblr, masto, home):
    r = cli("post", "create", "hello", "--to", "all", "--first-comment", "links")
    assert r.exit_code == 2
    assert "tumblr takes no first comment" in " ".join(r.stderr.split())
    assert tumblr_posts(tumblr) == [] and masto.requests_to("POST", "/api/v1/statuses") == []
    assert _count(home, "posts") == 0


# --- where the parts come from -------------------------------------------------------------------


def test_from_file_reads_parts_separated_by_dashes(cli, masto, tmp_path):
    thread = tmp_path / "thread.md"
    thread.write_text("---\nFirst, with a line\nand another.\n---\n\nSecond.\n---  \nThird --- not a separator\n---\n")
    out = cli.json("post", "create", "--from-file", str(thread), "--to", "mastodon")
    assert [p["text"] for p in out["targets"][0]["parts"]] == [
        "First, with a line\nand another.",
        "Second.",
        "Third --- not a separator",
    ]
    assert [s["in_reply_to_id"] for s in masto.statuses][1:] == [s["id"] for s in masto.statuses][:2]


def test_from_file_dash_reads_a_thread_on_stdin_and_a_lone_dash_still_reads_one_text(cli, masto):
    out = cli.json("post", "create", "--from-file", "-", "--to", "mastodon", input="a\n---\nb\n")
    assert [p["text"] for p in out["targets"][0]["parts"]] == ["a", "b"]
    one = cli.json("post", "create", "-", "--to", "mastodon", input="a\n---\nb\n")
    assert one["thread"] is None and one["text"] == "a\n---\nb\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from-file", "nope.md"], "cannot read nope.md"),
        (["a", "--from-file", "-"], "not both"),
        ([], "no text given"),
        (["a", "-"], "--from-file - for a thread"),
        (["a", "b", "--media-for-part", "x=p.png"], "N=FILE"),
        (["a", "--media-for-part", "2=p.png"], "is for a thread"),
    ],
)
def test_bad_thread_input_is_exit_2_with_the_fix(cli, masto, args, message):
    r = cli("post", "create", *args, "--to", "mastodon")
    assert r.exit_code == 2, r.stdout + r.stderr
    assert message in " ".join(r.stderr.split())
    assert "Traceback" not in r.stderr


def test_an_empty_part_in_the_middle_of_a_file_is_refused(cli, masto, tmp_path):
    thread = tmp_path / "t.md"
    thread.write_text("a\n---\n---\nb\n")
    r = cli("post", "create", "--from-file", str(thread), "--to", "mastodon")
    assert r.exit_code == 2 and "part 2 of the thread file is empty" in r.stderr


# --- split ---------------------------------------------------------------------------------------


def test_split_cuts_to_each_platforms_limit_and_numbered_counts_the_counter(cli, bsky, masto):
    sentences = [f"Sentence number {i} says something worth reading about threads." for i in range(20)]
    text = " ".join(sentences)  # ~1,300 characters: 5 parts on Bluesky (300), 3 on Mastodon (500)
    out = cli.json("post", "create", text, "--to", "all", "--split", "--numbered")
    by_platform = {t["platform"]: [p["text"] for p in t["parts"]] for t in out["targets"]}
    for platform, limit in (("bluesky", 300), ("mastodon", 500)):
        parts = by_platform[platform]
        assert len(parts) > 1 and all(len(p) <= limit for p in parts)
        assert [p.rsplit(" ", 1)[1] for p in parts] == [f"{i}/{len(parts)}" for i in range(1, len(parts) + 1)]
        assert " ".join(p.rsplit(" ", 1)[0] for p in parts) == text  # cut between sentences, nothing lost
        assert all(p.rsplit(" ", 1)[0].endswith(".") for p in parts)
    assert len(by_platform["bluesky"]) > len(by_platform["mastodon"])
    assert len(bsky.records()) == len(by_platform["bluesky"]) and len(masto.statuses) == len(by_platform["mastodon"])


def test_split_of_a_text_that_fits_is_one_post(cli, masto):
    out = cli.json("post", "create", "short enough", "--to", "mastodon", "--split", "--numbered")
    assert [p["text"] for p in out["targets"][0]["parts"]] == ["short enough"]
    assert masto.statuses[0]["content"] == "<p>short enough</p>"


# --- media per part --------------------------------------------------------------------------------


def test_media_for_part_goes_on_that_part(cli, bsky, tmp_path):
    cover, chart = png(tmp_path / "cover.png"), png(tmp_path / "chart.png", color="blue")
    out = cli.json(
        "post", "create", "intro", "the chart", "the end", "--to", "bluesky", "--media", str(cover),
        "--media-for-part", f"2={chart}", "--alt-for-part", "2=A blue chart",
    )  # fmt: skip
    assert out["status"] == "completed"
    embeds = [bsky.record(uri).get("embed") for uri in bsky.records()]
    assert [len((e or {}).get("images", [])) for e in embeds] == [1, 1, 0]
    assert embeds[1]["images"][0]["alt"] == "A blue chart"
    assert [(m["original_filename"], m["part"]) for m in out["media"]] == [("cover.png", None), ("chart.png", 2)]


def test_media_for_a_part_a_platform_does_not_have_is_refused(cli, bsky, tmp_path, home):
    chart = png(tmp_path / "chart.png")
    r = cli("post", "create", "one", "two", "--to", "bluesky", "--media-for-part", f"3={chart}")
    assert r.exit_code == 2 and "--media-for-part 3 names a part it does not have (it has 2)" in r.stderr
    assert _count(home, "posts") == 0


# --- a thread is a post ----------------------------------------------------------------------------


def test_the_duplicate_check_compares_every_part(cli, masto):
    first = cli.json("post", "create", "same start", "ending one", "--to", "mastodon")
    second = cli.json("post", "create", "same start", "ending two", "--to", "mastodon")
    assert second["created"] is True and second["id"] != first["id"]
    again = cli.json("post", "create", "same start", "ending two", "--to", "mastodon")
    assert again["created"] is False and again["id"] == second["id"]
    joined = cli.json("post", "create", "same start\n\nending two", "--to", "mastodon")
    assert joined["created"] is True  # one text is not the thread of its paragraphs


def test_a_draft_thread_is_edited_part_by_part_then_scheduled_and_published(cli, masto, home):
    draft = cli.json("post", "create", "one", "two", "three", "--to", "mastodon", "--draft", "--first-comment", "c")
    assert draft["status"] == "draft" and [p["status"] for p in draft["targets"][0]["parts"]] == ["pending"] * 3
    edited = cli.json("post", "edit", str(draft["id"]), "--part", "2=TWO", "--part", "4=four")
    assert [p["text"] for p in edited["targets"][0]["parts"]] == ["one", "TWO", "three", "four"]
    assert edited["thread"]["parts"] == ["one", "TWO", "three", "four"] and edited["text"].count("\n\n") == 3
    removed = cli.json("post", "edit", str(draft["id"]), "--part", "3=", "--first-comment", "")
    assert [p["text"] for p in removed["targets"][0]["parts"]] == ["one", "TWO", "four"]
    assert removed["first_comment"] is None and removed["targets"][0]["first_comment"] is None
    r = cli("post", "edit", str(draft["id"]), "--part", "9=x")
    assert r.exit_code == 2 and "the post has 3 part(s)" in r.stderr

    scheduled = cli.json("post", "schedule", str(draft["id"]), "--at", "+1h")
    assert scheduled["status"] == "scheduled"
    published = cli.json("post", "publish", str(draft["id"]))
    assert published["status"] == "completed"
    assert [s["content"] for s in masto.statuses] == ["<p>one</p>", "<p>TWO</p>", "<p>four</p>"]
    assert [p["status"] for p in published["targets"][0]["parts"]] == ["completed"] * 3
    r = cli("post", "edit", str(draft["id"]), "--part", "1=late")
    assert r.exit_code == 4  # parts can be edited until published


def test_a_scheduled_thread_goes_out_with_publish_due(cli, masto):
    out = cli.json("post", "create", "a", "b", "--to", "mastodon", "--at", "+1h")
    assert out["status"] == "scheduled"
    from datetime import datetime, timedelta, timezone

    from postcli.services.posts.due import publish_due

    report = publish_due(now=datetime.now(timezone.utc) + timedelta(hours=1, minutes=1))
    assert [o.status for o in report.published] == ["completed"]
    assert [s["in_reply_to_id"] for s in masto.statuses] == [None, masto.statuses[0]["id"]]
    shown = json.loads(cli("post", "show", str(out["id"]), "--json").stdout)
    assert [p["status"] for p in shown["targets"][0]["parts"]] == ["completed", "completed"]
