"""`publish-due` against changes made while it runs (issue 23 item 6), and its exit codes (issue 21).

A real `publish-due` process publishes the first due post to a fake Mastodon that holds
its answer; while it waits, the test changes the next due post through the CLI, then lets
the answer go. Each post is judged as it is when its turn comes (the one claim check in
services/posts/due.py): a post rescheduled, edited to a later time, cancelled or deleted
is left alone, never published at its old time, and never a failure.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fakes.mastodon_server import FakeMastodon
from support.accounts import MASTO_TOKEN, connect_mastodon


@pytest.fixture
def masto(cli):
    with FakeMastodon(token=MASTO_TOKEN) as server:
        connect_mastodon(cli, server)
        yield server


def _db(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "postcli.db", isolation_level=None)


def _stored(when: datetime) -> str:
    return when.astimezone(timezone.utc).replace(tzinfo=None).isoformat(sep=" ")


def _due(cli, home: Path, text: str, ago: timedelta, *, status: str = "scheduled") -> int:  # type: ignore[no-untyped-def]
    """A post scheduled through the CLI, then moved into the past as if the clock had moved on."""
    post_id = cli.json("post", "create", text, "--to", "mastodon", "--at", "+1h")["id"]
    _db(home).execute(
        "update posts set scheduled_at = ?, status = ? where id = ?",
        (_stored(datetime.now(timezone.utc) - ago), status, post_id),
    )
    return post_id


def _start_publish_due() -> subprocess.Popen[str]:
    exe = Path(sys.executable).with_name("postcli")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "postcli"]
    return subprocess.Popen([*cmd, "publish-due", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(proc: subprocess.Popen[str], reached, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not reached():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "publish-due never got there"
        time.sleep(0.02)


def _while_the_first_is_held(masto: FakeMastodon, change) -> tuple[int, dict, str]:  # type: ignore[no-untyped-def]
    """Run publish-due; when its first status is on the wire, `change()`; then let it finish."""
    gate = masto.hold("POST", "/api/v1/statuses", times=1)
    proc = _start_publish_due()
    try:
        _wait_for(proc, lambda: bool(masto.requests_to("POST", "/api/v1/statuses")))
        change()
    finally:
        gate.set()
    out, err = proc.communicate(timeout=120)
    return proc.returncode, (json.loads(out) if out else {}), err


@pytest.mark.parametrize(
    ("change", "left"),
    [
        (("post", "schedule", "{id}", "--at", "+7d"), "scheduled"),
        (("post", "edit", "{id}", "--text", "moved and changed", "--at", "+2d"), "scheduled"),
        (("post", "cancel", "{id}"), "cancelled"),
        (("post", "delete", "{id}"), None),
    ],
    ids=["rescheduled", "edited-to-later", "cancelled", "deleted"],
)
def test_a_post_changed_while_publish_due_runs_is_judged_as_it_is_now(cli, masto, home, change, left):
    first = _due(cli, home, "first", timedelta(minutes=3))
    second = _due(cli, home, "second", timedelta(minutes=2))

    def act() -> None:
        r = cli(*(a.format(id=second) for a in change))
        assert r.exit_code == 0, r.stderr

    code, out, err = _while_the_first_is_held(masto, act)
    assert code == 0, (out, err)  # a post that changed or vanished is not a failure
    assert [p["post_id"] for p in out["published"]] == [first]
    assert out["skipped"] == [second] and out["errors"] == [] and out["expired"] == []
    assert [s["content"] for s in masto.statuses] == ["<p>first</p>"]  # never at its old time
    rows = _db(home).execute("select status from posts where id = ?", (second,)).fetchall()
    assert rows == ([(left,)] if left else [])


def test_a_rescheduled_post_is_not_expired_at_its_old_time(cli, masto, home):
    """The expiry is the same claim check: a post whose old time was too long ago, rescheduled
    while the run goes, keeps its new time instead of being failed as too late."""
    resumed = _due(cli, home, "resumed", timedelta(days=3), status="pending")  # first in the queue
    stale = _due(cli, home, "stale", timedelta(days=2))  # past [publish] max_lateness_minutes (1 day)

    def act() -> None:
        assert cli("post", "schedule", str(stale), "--at", "+7d").exit_code == 0

    code, out, err = _while_the_first_is_held(masto, act)
    assert code == 0, (out, err)
    assert [p["post_id"] for p in out["published"]] == [resumed]
    assert out["expired"] == [] and out["skipped"] == [stale]
    assert cli.json("post", "show", str(stale))["status"] == "scheduled"


def test_publish_due_exits_6_like_post_publish_when_every_target_needs_reconnecting(cli, masto, home):
    """docs/design.md: 6 when the failures are accounts to reconnect, for one post or a run of them."""
    masto.revoke_token()
    due = _due(cli, home, "due", timedelta(minutes=2))
    r = cli("publish-due", "--json")
    assert r.exit_code == 6, (r.stdout, r.stderr)
    assert json.loads(r.stdout)["published"][0]["post_id"] == due

    draft = cli.json("post", "create", "now", "--to", "mastodon", "--draft")["id"]
    assert cli("post", "publish", str(draft)).exit_code == 6
