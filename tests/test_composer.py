"""Drafts, scheduling, publish-due, de-duplication and crash safety (issue 6)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fakes.bluesky_server import FakeBlueskyServer
from fakes.mastodon_server import FakeMastodon
from support.cli import kill_when, run_postcli

BSKY_PASS = "alice-app-pass"
TOKEN = "masto-secret-token-123456"


@pytest.fixture
def fakes(cli):
    with FakeBlueskyServer() as bsky, FakeMastodon(token=TOKEN) as masto:
        bsky.add_account("alice.test", BSKY_PASS)
        bsky.add_account("bob.test", "bob-pass")
        assert (
            cli(
                "accounts",
                "add",
                "bluesky",
                "--handle",
                "alice.test",
                "--service",
                bsky.url,
                "--password-stdin",
                input=BSKY_PASS + "\n",
            ).exit_code
            == 0
        )
        assert (
            cli("accounts", "add", "mastodon", "--instance", masto.url, "--token-stdin", input=TOKEN + "\n").exit_code
            == 0
        )
        yield bsky, masto


def _db(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "postcli.db", isolation_level=None)


def _make_due(home: Path, post_id: int, ago: timedelta) -> None:
    """Move a scheduled post's time into the past, as if the clock had moved on."""
    when = (datetime.now(timezone.utc) - ago).replace(tzinfo=None)
    _db(home).execute("update posts set scheduled_at = ? where id = ?", (when.isoformat(sep=" "), post_id))


def test_draft_then_publish_resets_created_at(cli, fakes, home):
    bsky, _ = fakes
    draft = cli.json("post", "create", "draft text", "--to", "bluesky", "--draft")
    assert draft["status"] == "draft" and bsky.count("com.atproto.repo.createRecord") == 0
    _db(home).execute("update posts set created_at = '2020-01-01 00:00:00' where id = ?", (draft["id"],))
    out = cli.json("post", "publish", str(draft["id"]))
    assert out["status"] == "completed" and bsky.count("com.atproto.repo.createRecord") == 1
    created = _db(home).execute("select created_at from posts where id = ?", (draft["id"],)).fetchone()[0]
    assert not created.startswith("2020")


def test_schedule_in_a_named_timezone_across_dst(cli, fakes, home):
    # 09:00 Berlin on the day the clocks go forward is 07:00 UTC (UTC+2), the day before 08:00 UTC.
    a = cli.json("post", "create", "after dst", "--to", "mastodon", "--at", "2031-03-30 09:00", "--tz", "Europe/Berlin")
    b = cli.json(
        "post", "create", "before dst", "--to", "mastodon", "--at", "2031-03-29 09:00", "--tz", "Europe/Berlin"
    )
    assert a["scheduled_at"] == "2031-03-30T07:00:00Z" and b["scheduled_at"] == "2031-03-29T08:00:00Z"
    assert a["timezone"] == "Europe/Berlin"
    listing = cli("post", "list", "--tz", "Europe/Berlin", "--sort", "scheduled", "--order", "asc")
    assert "2031-03-29 09:00" in listing.stdout and "2031-03-30 09:00" in listing.stdout
    gap = cli("post", "create", "in the gap", "--to", "mastodon", "--at", "2031-03-30 02:30", "--tz", "Europe/Berlin")
    assert gap.exit_code == 2 and "does not exist" in gap.stderr


def test_past_time_and_unknown_zone_exit_2(cli, fakes):
    assert cli("post", "create", "x", "--to", "mastodon", "--at", "2001-01-01 10:00").exit_code == 2
    assert cli("post", "create", "x", "--to", "mastodon", "--at", "+1h", "--tz", "Nowhere/Land").exit_code == 2


def test_publish_due_publishes_due_posts_oldest_first_and_notes_lateness(cli, fakes, home):
    _, masto = fakes
    first = cli.json("post", "create", "first", "--to", "mastodon", "--at", "+1h")
    second = cli.json("post", "create", "second", "--to", "mastodon", "--at", "+2h")
    later = cli.json("post", "create", "not yet", "--to", "mastodon", "--at", "+3h")
    _make_due(home, first["id"], timedelta(minutes=30))
    _make_due(home, second["id"], timedelta(minutes=1))
    out = cli.json("publish-due")
    assert [p["post_id"] for p in out["published"]] == [first["id"], second["id"]]
    assert "late" in (out["published"][0]["note"] or "") and out["published"][1]["note"] is None
    assert [s["content"] for s in masto.statuses] and len(masto.statuses) == 2
    assert cli.json("post", "show", str(later["id"]))["status"] == "scheduled"
    assert cli("publish-due").stdout.strip() == "Nothing due."


def test_too_late_posts_fail_with_a_clear_reason(cli, fakes, home):
    _, masto = fakes
    p = cli.json("post", "create", "stale", "--to", "mastodon", "--at", "+1h")
    _make_due(home, p["id"], timedelta(days=3))
    r = cli("publish-due", "--json")
    assert r.exit_code == 1
    assert json.loads(r.stdout)["expired"] == [p["id"]]
    shown = cli.json("post", "show", str(p["id"]))
    assert shown["status"] == "failed" and "max_lateness_minutes" in shown["error"]
    assert masto.statuses == []


def test_two_overlapping_publish_due_runs_publish_each_post_once(cli, fakes, home):
    bsky, masto = fakes
    ids = [cli.json("post", "create", f"due {i}", "--to", "all", "--at", "+1h")["id"] for i in range(6)]
    for pid in ids:
        _make_due(home, pid, timedelta(minutes=2))
    exe = Path(sys.executable).with_name("postcli")
    procs = [
        subprocess.Popen([str(exe), "publish-due", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert len(masto.statuses) == 6
    assert len(bsky.records()) == 6 and bsky.count("com.atproto.repo.createRecord") == 6
    published = [o["post_id"] for out, _ in outs for o in json.loads(out)["published"]]
    assert sorted(published) == sorted(ids)  # each claimed by exactly one run
    statuses = {r[0] for r in _db(home).execute("select status from posts")}
    assert statuses == {"completed"}


def test_correlation_id_and_repeated_commands_do_not_duplicate(cli, fakes, home):
    _, masto = fakes
    a = cli.json("post", "create", "scripted", "--to", "mastodon", "--correlation-id", "job-42")
    b = cli.json("post", "create", "scripted (changed)", "--to", "mastodon", "--correlation-id", "job-42")
    assert b["id"] == a["post_id"] and b["created"] is False
    # Same text, targets and time without an id: the second call returns the first post.
    c = cli.json("post", "create", "same again", "--to", "mastodon", "--at", "2031-05-01 10:00")
    d = cli.json("post", "create", "same again", "--to", "mastodon", "--at", "2031-05-01 10:00")
    assert d["id"] == c["id"] and d["created"] is False
    assert len(masto.statuses) == 1
    assert _db(home).execute("select count(*) from posts").fetchone()[0] == 2


def test_edit_schedule_and_cancel(cli, fakes):
    _, masto = fakes
    d = cli.json("post", "create", "v1", "--to", "mastodon", "--draft")
    e = cli.json("post", "edit", str(d["id"]), "--text", "v2", "--to", "all")
    assert e["text"] == "v2" and sorted(t["platform"] for t in e["targets"]) == ["bluesky", "mastodon"]
    too_long = cli("post", "edit", str(d["id"]), "--text", "y" * 400)
    assert too_long.exit_code == 0  # drafts may be over the limit while being written...
    s = cli("post", "schedule", str(d["id"]), "--at", "+1h")
    assert s.exit_code == 2 and "300" in s.stderr  # ...but are validated when scheduled
    cli("post", "edit", str(d["id"]), "--text", "v3")
    s = cli.json("post", "schedule", str(d["id"]), "--at", "+1h")
    assert s["status"] == "scheduled"
    c = cli.json("post", "cancel", str(d["id"]))
    assert c["status"] == "cancelled"
    assert cli("post", "edit", str(d["id"]), "--text", "v4").exit_code == 4
    done = cli.json("post", "create", "published", "--to", "mastodon")
    assert cli("post", "edit", str(done["post_id"]), "--text", "nope").exit_code == 4
    assert cli("post", "cancel", str(done["post_id"])).exit_code == 4
    assert len(masto.statuses) == 1


def test_killed_before_the_request_left_then_publish_due_posts_exactly_once(fakes, home):
    """Bluesky resolves @mentions before createRecord: hold that call and kill the process there."""
    bsky, _ = fakes
    bsky.set_delay(30, "com.atproto.identity.resolveHandle")
    exe = Path(sys.executable).with_name("postcli")
    proc = subprocess.Popen(
        [str(exe), "post", "create", "hi @bob.test", "--to", "bluesky"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    kill_when(proc, lambda: any(r.nsid == "com.atproto.identity.resolveHandle" for r in bsky.requests))
    assert bsky.count("com.atproto.repo.createRecord") == 0
    assert _db(home).execute("select status from post_targets").fetchone()[0] == "processing"
    bsky.set_delay(0, "com.atproto.identity.resolveHandle")
    r = run_postcli("publish-due", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["published"][0]["status"] == "completed"
    assert bsky.count("com.atproto.repo.getRecord") == 1  # checked first
    assert len(bsky.records()) == 1


def test_killed_after_mastodon_accepted_then_retry_keeps_one_status(fakes, home):
    _, masto = fakes
    masto.set_delay(3, "POST", "/api/v1/statuses", times=1)
    exe = Path(sys.executable).with_name("postcli")
    proc = subprocess.Popen(
        [str(exe), "post", "create", "crash on mastodon", "--to", "mastodon"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # The fake stores the status only after its delay; wait for the POST to arrive, kill, let it land.
    kill_when(proc, lambda: bool(masto.requests_to("POST", "/api/v1/statuses")))
    deadline = time.monotonic() + 40
    while not masto.statuses:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    r = run_postcli("post", "retry", "1", "--json")
    assert r.returncode == 0, r.stderr
    assert len(masto.statuses) == 1
    posts = masto.requests_to("POST", "/api/v1/statuses")
    assert len(posts) == 2 and posts[0].headers.get("Idempotency-Key") == posts[1].headers.get("Idempotency-Key")


def test_retries_stop_after_the_configured_attempts_and_keep_the_reason(cli, fakes, home):
    _, masto = fakes
    (home / "config.toml").write_text("[publish]\nmax_attempts = 2\n")
    masto.fail_next("POST", "/api/v1/statuses", 500, times=10)
    first = cli("post", "create", "stubborn", "--to", "mastodon", "--json")
    assert first.exit_code == 1
    pid = json.loads(first.stdout)["post_id"]
    assert cli("post", "retry", str(pid)).exit_code == 1  # attempt 2
    sent = len(masto.requests_to("POST", "/api/v1/statuses"))
    third = cli("post", "retry", str(pid), "--json")
    assert third.exit_code == 1
    err = json.loads(third.stdout)["targets"][0]["error"]
    assert "gave up after 2 attempts" in err and "max_attempts" in err
    assert len(masto.requests_to("POST", "/api/v1/statuses")) == sent  # nothing more was sent
    shown = cli.json("post", "show", str(pid))
    assert shown["status"] == "failed" and "gave up after 2 attempts" in shown["targets"][0]["error"]
    # Raising the limit lets the user try again.
    (home / "config.toml").write_text("[publish]\nmax_attempts = 3\n")
    masto.clear_faults()
    assert cli.json("post", "retry", str(pid))["status"] == "completed"
    assert len(masto.statuses) == 1
