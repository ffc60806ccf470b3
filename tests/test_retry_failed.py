"""`postcli post retry --failed` (issue 27): after a revoked-then-reconnected account, every failed
target goes out exactly once; one whose answer was lost after the platform made it is
reconciled (Mastodon's Idempotency-Key), not sent twice."""

from __future__ import annotations

import json

from fakes.mastodon_server import FakeMastodon
from support.accounts import MASTO_TOKEN, connect_mastodon


def test_retry_failed_after_reconnecting_publishes_each_failed_target_once(cli, home, monkeypatch):
    with FakeMastodon(token=MASTO_TOKEN) as masto:
        account_id = connect_mastodon(cli, masto)
        monkeypatch.setenv("POSTCLI_TIMEOUT", "1")
        masto.set_delay(2.5, method="POST", path_prefix="/api/v1/statuses", times=1)
        lost = cli("post", "create", "answer lost", "--to", "mastodon")
        assert lost.exit_code == 1 and "outcome is unknown" in lost.stdout + lost.stderr
        monkeypatch.delenv("POSTCLI_TIMEOUT")
        import time

        deadline = time.monotonic() + 10
        while len(masto.statuses) < 1:  # the server still makes the post whose answer was lost
            assert time.monotonic() < deadline
            time.sleep(0.05)
        masto.revoke_token()
        assert cli("post", "create", "refused", "--to", "mastodon").exit_code == 6
        assert cli("post", "create", "never sent", "--to", "mastodon").exit_code == 6
        masto._revoked = False
        again = cli("accounts", "add", "mastodon", "--instance", masto.url, "--token-stdin", input=MASTO_TOKEN + "\n")
        assert again.exit_code == 0, again.stderr
        assert (
            f"3 failed target(s) wait for this account: postcli post retry --failed --account {account_id}"
            in again.stdout
        )

        dry = json.loads(cli("post", "retry", "--failed", "--dry-run", "--json").stdout)
        assert dry["dry_run"] is True and [t["post_id"] for t in dry["targets"]] == [1, 2, 3]
        assert len(masto.statuses) == 1  # a dry run sends nothing

        r = cli("post", "retry", "--failed", "--account", str(account_id), "--json")
        assert r.exit_code == 0, r.stdout + r.stderr
        out = json.loads(r.stdout)
        assert [o["status"] for o in out["outcomes"]] == ["completed"] * 3
        texts = sorted(s["text"] if "text" in s else s.get("content", "") for s in masto.statuses)
        assert len(masto.statuses) == 3, texts  # the lost one was reconciled, not sent again
        assert json.loads(cli("post", "retry", "--failed", "--json").stdout)["targets"] == []


def test_retry_needs_an_id_or_failed(cli):
    assert cli("post", "retry").exit_code == 2
    assert cli("post", "retry", "3", "--failed").exit_code == 2
    assert cli("post", "retry", "3", "--account", "1").exit_code == 2
