"""Threads (issue 28) end to end: several parts published as a reply chain on the loopback fakes,
each part once and in order, a crash in the middle resumed where it stopped, a refused part
retried from where it failed, a first comment under the first part."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from fakes.bluesky_server import FakeBlueskyServer
from fakes.mastodon_server import FakeMastodon
from support.cli import kill_when, run_postcli

BSKY_PASS = "alice-app-pass"
MASTO_TOKEN = "masto-secret-token-123456"
PARTS = ["one: the start", "two: more", "three: even more", "four: the end"]


@pytest.fixture
def bsky():
    with FakeBlueskyServer() as server:
        server.add_account("alice.test", BSKY_PASS, display_name="Alice")
        yield server


@pytest.fixture
def masto():
    with FakeMastodon(token=MASTO_TOKEN) as server:
        yield server


@pytest.fixture
def connected(cli, bsky, masto):
    r = cli(
        "accounts", "add", "bluesky", "--handle", "alice.test", "--service", bsky.url, "--password-stdin",
        input=BSKY_PASS + "\n",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    r = cli("accounts", "add", "mastodon", "--instance", masto.url, "--token-stdin", input=MASTO_TOKEN + "\n")
    assert r.exit_code == 0, r.stderr
    return bsky, masto


def _db(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "postcli.db")


def bluesky_chain(bsky: FakeBlueskyServer) -> list[tuple[str, dict | None]]:
    """The PDS's posts oldest first: (text, reply) with each strong ref checked against the stored record."""
    out = []
    for uri in bsky.records():
        record = bsky.record(uri)
        out.append((uri, record["text"], record.get("reply")))
    return out


def assert_bluesky_reply_chain(bsky: FakeBlueskyServer, texts: list[str]) -> list[str]:
    posts = bluesky_chain(bsky)
    assert [text for _, text, _ in posts] == texts
    uris = [uri for uri, _, _ in posts]
    assert posts[0][2] is None  # the first part is a post of its own
    for i, (_, _, reply) in enumerate(posts[1:], start=1):
        root, parent = reply["root"], reply["parent"]
        assert (root["uri"], root["cid"]) == (uris[0], bsky.cid(uris[0]))
        assert (parent["uri"], parent["cid"]) == (uris[i - 1], bsky.cid(uris[i - 1]))
    return uris


def assert_mastodon_reply_chain(masto: FakeMastodon, texts: list[str]) -> list[dict]:
    statuses = masto.statuses
    assert [s["content"] for s in statuses] == [f"<p>{t}</p>" for t in texts]
    assert statuses[0]["in_reply_to_id"] is None
    for before, status in zip(statuses, statuses[1:]):
        assert status["in_reply_to_id"] == before["id"]
        assert status["visibility"] == statuses[0]["visibility"]
    return statuses


def test_a_four_part_thread_is_a_reply_chain_on_bluesky_and_mastodon(cli, connected, home):
    bsky, masto = connected
    out = cli.json("post", "create", *PARTS, "--to", "all")
    assert out["status"] == "completed"
    assert out["text"] == "\n\n".join(PARTS) and out["thread"] == {"parts": PARTS, "split": None}
    uris = assert_bluesky_reply_chain(bsky, PARTS)
    statuses = assert_mastodon_reply_chain(masto, PARTS)
    by_platform = {t["platform"]: t for t in out["targets"]}
    assert [p["platform_post_id"] for p in by_platform["bluesky"]["parts"]] == uris
    assert [p["platform_post_id"] for p in by_platform["mastodon"]["parts"]] == [s["id"] for s in statuses]
    for target in by_platform.values():
        parts = target["parts"]
        assert [(p["position"], p["text"], p["status"], p["error"]) for p in parts] == [
            (n, t, "completed", None) for n, t in enumerate(PARTS, start=1)
        ]
        assert target["url"] == parts[0]["url"] and target["platform_post_id"] == parts[0]["platform_post_id"]
        assert target["first_comment"] is None
    # Each part had its own key: Mastodon got four different Idempotency-Keys, Bluesky four record keys.
    keys = [r.headers.get("Idempotency-Key") for r in masto.requests_to("POST", "/api/v1/statuses")]
    assert len(set(keys)) == 4
    stored = _db(home).execute("select kind, position, idempotency_key from target_parts order by id").fetchall()
    assert len(stored) == 8 and len({k for _, _, k in stored}) == 8
    shown = cli("post", "show", str(out["id"]))
    assert "4 part(s)" in shown.stdout and uris[0].rsplit("/", 1)[-1] in shown.stdout


def test_a_first_comment_is_a_self_reply_under_the_first_part(cli, connected):
    bsky, masto = connected
    out = cli.json("post", "create", "one", "two", "--to", "all", "--first-comment", "links: https://example.com")
    assert out["status"] == "completed"
    posts = bluesky_chain(bsky)
    assert [text for _, text, _ in posts] == ["one", "two", "links: https://example.com"]
    first_uri = posts[0][0]
    comment = posts[2][2]
    assert comment["root"]["uri"] == comment["parent"]["uri"] == first_uri
    statuses = masto.statuses
    assert statuses[2]["in_reply_to_id"] == statuses[0]["id"]
    for target in out["targets"]:
        assert target["first_comment"]["status"] == "completed" and target["first_comment"]["platform_post_id"]


def test_a_single_post_keeps_its_shape_and_gets_one_part(cli, connected, home):
    out = cli.json("post", "create", "just one", "--to", "mastodon")
    (target,) = out["targets"]
    assert target["parts"] == [
        {
            "position": 1,
            "text": "just one",
            "status": "completed",
            "platform_post_id": target["platform_post_id"],
            "url": target["url"],
            "error": None,
        }
    ]
    assert out["thread"] is None and out["first_comment"] is None
    assert _db(home).execute("select count(*) from target_parts").fetchone()[0] == 0


def _popen(*args: str) -> subprocess.Popen[str]:
    exe = Path(sys.executable).with_name("postcli")
    return subprocess.Popen([str(exe), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_killed_after_part_two_then_retry_gives_exactly_four_parts_in_order(connected, home):
    """SIGKILL while the PDS holds back its answer to part 3 (which it stored): `post retry` finds
    part 3 by its record key, sends part 4 as a reply to it, and sends nothing twice."""
    bsky, _ = connected
    bsky.hang_after_success("com.atproto.repo.createRecord", after=2)
    proc = _popen("post", "create", *PARTS, "--to", "bluesky")
    kill_when(proc, lambda: bsky.count("com.atproto.repo.createRecord") >= 3)
    db = _db(home)
    assert db.execute("select status from posts").fetchone()[0] == "processing"
    assert db.execute("select position, status from target_parts order by position").fetchall() == [
        (1, "completed"),
        (2, "completed"),
        (3, "processing"),
        (4, "pending"),
    ]

    r = run_postcli("post", "retry", "1", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["status"] == "completed" and out["targets"][0]["reconciled"] is True
    assert [p["status"] for p in out["targets"][0]["parts"]] == ["completed"] * 4
    assert bsky.count("com.atproto.repo.createRecord") == 4  # part 3 was never sent again
    assert_bluesky_reply_chain(bsky, PARTS)


def test_killed_mid_thread_then_publish_due_goes_on_at_part_three(connected, home):
    """Mastodon: the process dies while part 3 is on its way; the next publish-due resumes the
    post, part 3 comes back by its Idempotency-Key (not posted twice) and part 4 replies to it."""
    _, masto = connected
    gate = masto.hold("POST", "/api/v1/statuses", times=1, after=2)
    proc = _popen("post", "create", *PARTS, "--to", "mastodon")
    kill_when(proc, lambda: len(masto.requests_to("POST", "/api/v1/statuses")) >= 3)
    gate.set()  # the request had reached the server: it is carried out after all
    assert _db(home).execute("select status from target_parts where position = 4").fetchone()[0] == "pending"

    r = run_postcli("publish-due", "--json")
    assert r.returncode == 0, r.stderr
    (outcome,) = json.loads(r.stdout)["published"]
    assert outcome["status"] == "completed"
    assert masto.idempotent_replays == 1
    assert_mastodon_reply_chain(masto, PARTS)


def test_a_refused_part_leaves_partial_success_and_a_retry_goes_on_from_it(cli, connected, home):
    _, masto = connected
    masto.fail_next("POST", "/api/v1/statuses", 422, json={"error": "Validation failed: Text is spam"}, after=2)
    r = cli("post", "create", *PARTS, "--to", "mastodon", "--json")
    assert r.exit_code == 7, r.stderr
    out = json.loads(r.stdout)
    assert out["status"] == "partial_success"
    (target,) = out["targets"]
    assert target["status"] == "failed" and target["error"].startswith("part 3 of 4: ")
    assert "Text is spam" in target["error"]
    assert [(p["position"], p["status"]) for p in target["parts"]] == [
        (1, "completed"),
        (2, "completed"),
        (3, "failed"),
        (4, "pending"),
    ]
    assert target["parts"][2]["error"] and target["platform_post_id"] is None
    assert len(masto.statuses) == 2

    again = cli.json("post", "retry", str(out["id"]))
    assert again["status"] == "completed"
    assert len(masto.requests_to("POST", "/api/v1/statuses")) == 5  # parts 1 and 2 were not sent again
    statuses = assert_mastodon_reply_chain(masto, PARTS)
    assert again["targets"][0]["url"] == statuses[0]["url"]


def test_a_refused_first_part_fails_the_target_without_partial(cli, connected):
    _, masto = connected
    masto.fail_next("POST", "/api/v1/statuses", 422, json={"error": "Validation failed: nope"})
    r = cli("post", "create", *PARTS, "--to", "mastodon", "--json")
    assert r.exit_code == 1
    out = json.loads(r.stdout)
    assert out["status"] == "failed" and out["targets"][0]["error"].startswith("part 1 of 4: ")
