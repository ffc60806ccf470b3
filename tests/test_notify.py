"""Notifications (issue 27): each event produced by a real failure against the loopback Mastodon,
delivered once to a command notifier and to a webhook that checks the HMAC; a hanging notifier
is cut at its timeout while the publish completes; no secret in any payload."""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from fakes.mastodon_server import FakeMastodon
from support.accounts import MASTO_TOKEN, connect_mastodon

SECRET = "whsec-test-5ecret-value"


def _config(home: Path, **notify: object) -> Path:
    log = home / "events.jsonl"
    lines = ["[publish]", "max_attempts = 1", "[collect]", "max_attempts = 1", "backoff_seconds = 0.01", "[notify]"]
    # The command notifier appends its stdin (the event) and its environment's view of it to a file.
    script = (
        f'{sys.executable} -c "import json,os,sys; e=json.load(sys.stdin); '
        f"e['_env']=[os.environ['POSTCLI_EVENT'], os.environ['POSTCLI_POST_ID'], os.environ['POSTCLI_ACCOUNT']]; "
        f"open({str(log)!r}, 'a').write(json.dumps(e) + chr(10))\""
    )
    values = {"command": script, **notify}
    lines += [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    (home / "config.toml").write_text("\n".join(lines) + "\n")
    return log


def _events(log: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def masto():
    with FakeMastodon(token=MASTO_TOKEN) as server:
        yield server


def test_a_failed_post_is_announced_once_to_the_command_and_the_signed_webhook(
    cli, home, masto, httpserver: HTTPServer
):
    received: list[Request] = []

    def hook(request: Request) -> Response:
        received.append(request)
        return Response("ok", 200)

    httpserver.expect_request("/hook", method="POST").respond_with_handler(hook)
    log = _config(home, webhook=httpserver.url_for("/hook"), webhook_secret=SECRET)
    connect_mastodon(cli, masto)
    masto.fail_next("POST", "/api/v1/statuses", 500, times=5)
    r = cli("post", "create", "will fail", "--to", "mastodon")
    assert r.exit_code == 1
    (event,) = _events(log)
    assert event["event"] == "post.failed" and event["platform"] == "mastodon" and event["post_id"] == 1
    assert event["at"].endswith("Z") and "postcli post retry 1" in event["fix"]
    assert event["_env"][:2] == ["post.failed", "1"]
    (hook_request,) = received
    body = hook_request.get_data()
    assert hook_request.headers["Content-Type"] == "application/json"
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hook_request.headers["X-Postcli-Signature"] == expected
    assert json.loads(body)["event"] == "post.failed"
    # The next cron runs meet the same failure: nothing is announced again.
    for _ in range(2):
        cli("publish-due")
        cli("doctor")
    assert len(_events(log)) == 1 and len(received) == 1
    everything = log.read_text() + body.decode()
    for secret in (MASTO_TOKEN, SECRET):
        assert secret not in everything


def test_a_revoked_token_and_a_failing_collect_are_announced_once_each(cli, home, masto):
    log = _config(home)
    connect_mastodon(cli, masto)
    assert cli("post", "create", "hello", "--to", "mastodon").exit_code == 0
    masto.revoke_token()
    for _ in range(3):
        cli("collect")
        cli("accounts", "health")
    names = [e["event"] for e in _events(log)]
    assert names.count("account.needs_reconnect") == 1
    (reconnect,) = [e for e in _events(log) if e["event"] == "account.needs_reconnect"]
    assert "postcli accounts" in reconnect["fix"] and reconnect["handle"]
    # Reconnected, then broken again: news again.
    masto._revoked = False
    r = cli("accounts", "add", "mastodon", "--instance", masto.url, "--token-stdin", input=MASTO_TOKEN + "\n")
    assert r.exit_code == 0, r.stderr
    cli("accounts", "health")
    masto.revoke_token()
    cli("accounts", "health")
    assert [e["event"] for e in _events(log)].count("account.needs_reconnect") == 2


def test_collect_failed_when_jobs_are_dead_lettered(cli, home, masto):
    log = _config(home)
    connect_mastodon(cli, masto)
    assert cli("post", "create", "hello", "--to", "mastodon").exit_code == 0
    masto.fail_next("GET", "/api/v1/statuses", 500, times=50)
    r = cli("collect")
    assert r.exit_code == 7
    failed = [e for e in _events(log) if e["event"] == "collect.failed"]
    assert failed and "jobs retry" in failed[0]["fix"]


def test_a_hanging_notifier_is_cut_at_its_timeout_and_the_post_still_goes_out(cli, home, masto):
    (home / "config.toml").write_text(
        '[publish]\nmax_attempts = 1\n[notify]\ncommand = "sleep 60"\ntimeout_seconds = 1\nevents = ["post.published"]\n'
    )
    connect_mastodon(cli, masto)
    r = cli("post", "create", "published anyway", "--to", "mastodon", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["status"] == "completed"
    doctor = json.loads(cli("doctor", "--json").stdout)
    (note,) = [c for c in doctor["checks"] if c["name"] == "notifications"]
    assert note["status"] == "warn" and "did not finish within 1 s" in note["message"]


def test_notify_test_reports_each_notifier(cli, home, httpserver: HTTPServer):
    httpserver.expect_request("/hook", method="POST").respond_with_data("nope", status=500)
    log = _config(home, webhook=httpserver.url_for("/hook"))
    r = cli("notify", "test", "--json")
    assert r.exit_code == 1
    results = {x["notifier"]: x for x in json.loads(r.stdout)}
    assert results["command"]["ok"] is True and results["webhook"]["ok"] is False
    assert "HTTP 500" in results["webhook"]["detail"]
    assert len(httpserver.log) == 4  # one attempt and three retries
    assert _events(log)[0]["event"] == "notify.test"


def test_bad_notify_settings_are_refused_before_anything_is_done(cli, home, masto):
    connect_mastodon(cli, masto)
    (home / "config.toml").write_text('[notify]\nwebhook = "http://example.com/hook"\n')
    r = cli("publish-due")
    assert r.exit_code == 2 and "http" in r.stderr
    (home / "config.toml").write_text('[notify]\ncommand = "true"\nevents = ["post.exploded"]\n')
    r = cli("collect")
    assert r.exit_code == 2 and "post.exploded" in r.stderr and "post.failed" in r.stderr
