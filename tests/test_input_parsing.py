"""Issue 13: ordinary and hostile command-line input gets exit 2 and one clear message.

Empty values, ids and counts past 2^63, dates near year 9999, unbounded --since/--until
ranges, bytes that are not UTF-8, and help that must read like a CLI, not like Python.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from fakes.bluesky_server import FakeBlueskyServer
from fakes.mastodon_server import FakeMastodon

TOO_BIG = str(2**63)  # one past the largest SQLite/PostgreSQL id
MASTO_TOKEN = "masto-secret-token-123456"
BSKY_PASS = "alice-app-pass"


def sandbox(cli, handle: str = "me.sandbox") -> int:  # type: ignore[no-untyped-def]
    return cli.json("accounts", "add", "sandbox", "--handle", handle)["id"]


def db(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "postcli.db", isolation_level=None)


def post_count(home: Path) -> int:
    return db(home).execute("select count(*) from posts").fetchone()[0]


def no_bug(result) -> None:  # type: ignore[no-untyped-def]
    text = result.stdout + result.stderr
    assert "This is a bug" not in text and "Traceback" not in text, text


# --- class 2: an empty value never changes what a command does ------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        ["--to", ""],
        ["--to", "   "],
        ["--to", ","],
        ["--to", " , "],
        ["--to", "{id}", "--at", ""],
        ["--to", "{id}", "--tz", ""],
        ["--to", "{id}", "--text-for", ""],
        ["--to", "{id}", "--correlation-id", ""],
    ],
)
def test_an_empty_option_value_on_post_create_is_a_usage_error_and_nothing_is_stored(cli, home, extra):
    acc = sandbox(cli)
    args = [a.replace("{id}", str(acc)) for a in extra]
    r = cli("post", "create", "hello", *args)
    assert r.exit_code == 2, (args, r.stdout, r.stderr)
    no_bug(r)
    assert "empty" in r.stderr or "names no account" in r.stderr
    assert post_count(home) == 0  # and so nothing was published either


def test_an_empty_to_on_post_edit_keeps_the_targets(cli, home):
    acc = sandbox(cli)
    pid = cli.json("post", "create", "draft", "--to", str(acc), "--draft")["id"]
    r = cli("post", "edit", str(pid), "--to", "")
    assert r.exit_code == 2 and "--to" in r.stderr and "empty" in r.stderr
    assert [t["account_id"] for t in cli.json("post", "show", str(pid))["targets"]] == [acc]


@pytest.mark.parametrize(
    "args",
    [
        ["analytics", "overview", "--period", ""],
        ["analytics", "timeline", "--tz", " "],
        ["analytics", "growth", "--since", ""],
        ["analytics", "top", "--until", ""],
        ["post", "list", "--tz", ""],
        ["post", "list", "--status", ""],
        ["post", "schedule", "1", "--at", ""],
        ["accounts", "metrics", "1", "--since", ""],
        ["db", "backup", ""],
        ["analytics", "overview", "--account", ""],
    ],
)
def test_empty_values_are_usage_errors_everywhere(cli, args):
    r = cli(*args)
    assert r.exit_code == 2, (args, r.stdout, r.stderr)
    assert "empty" in r.stderr
    no_bug(r)


# --- class 3: one cap on every --since/--until range ----------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["analytics", "timeline", "--since", "2026-11-20", "--until", "9999-12-31"],
        ["analytics", "growth", "--since", "2026-11-20", "--until", "9999-12-31"],
        ["analytics", "timeline", "--since", "2000-01-01", "--until", "2026-01-01"],
        ["analytics", "growth", "--since", "2000-01-01", "--until", "2026-01-01"],
        ["analytics", "heatmap", "--since", "1990-01-01"],
        ["analytics", "overview", "--period", "9999d"],
    ],
)
def test_report_ranges_have_one_cap(cli, args):
    r = cli(*args)
    assert r.exit_code == 2, (args, r.stdout, r.stderr)
    assert "3660" in r.stderr or "out of range" in r.stderr, r.stderr
    no_bug(r)


def test_the_cap_is_about_length_not_dates(cli):
    # The other side of the guard (passes before the fix too): ranges inside the cap still run.
    r = cli("analytics", "timeline", "--since", "2016-12-10", "--until", "2026-12-01", "--json")
    assert r.exit_code == 0, r.stderr  # 3643 days: inside the cap


def test_accounts_metrics_ranges_are_checked_like_the_reports(cli):
    acc = sandbox(cli)
    r = cli("accounts", "metrics", str(acc), "--since", "2026-11-20", "--until", "2026-11-01")
    assert r.exit_code == 2 and "not before" in r.stderr, r.stderr
    r = cli("accounts", "metrics", str(acc), "--since", "2026-01-01", "--until", "9999-12-31")
    assert r.exit_code == 2 and "out of range" in r.stderr, r.stderr
    # A listing of stored snapshots costs the same for any range: no cap there.
    assert cli("accounts", "metrics", str(acc), "--since", "2000-01-01").exit_code == 0
    assert cli("accounts", "metrics", str(acc), "--since", "2026-01-01", "--until", "2026-02-01").exit_code == 0


def test_check_range_is_the_one_guard():
    from datetime import datetime, timedelta, timezone

    from postcli.cli._options import MAX_RANGE_DAYS, check_range, parse_period
    from postcli.errors import InvalidInput

    start = datetime(2020, 1, 1, tzinfo=timezone.utc)
    check_range(start, start + timedelta(days=MAX_RANGE_DAYS))
    with pytest.raises(InvalidInput):
        check_range(start, start + timedelta(days=MAX_RANGE_DAYS, seconds=1))
    with pytest.raises(InvalidInput):
        parse_period(f"{MAX_RANGE_DAYS + 1}d", None, None, "UTC")


# --- class 4: numbers and dates that would overflow -----------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["post", "show", TOO_BIG],
        ["post", "delete", TOO_BIG],
        ["post", "publish", TOO_BIG],
        ["post", "retry", TOO_BIG],
        ["post", "cancel", TOO_BIG],
        ["post", "edit", TOO_BIG, "--text", "x"],
        ["post", "schedule", TOO_BIG, "--at", "+1h"],
        ["analytics", "post", TOO_BIG],
        ["analytics", "refresh", TOO_BIG],
        ["accounts", "show", TOO_BIG],
        ["accounts", "remove", TOO_BIG],
        ["accounts", "metrics", TOO_BIG],
        ["accounts", "health", TOO_BIG],
        ["jobs", "retry", TOO_BIG],
        ["post", "list", "--page", TOO_BIG],
        ["post", "list", "--limit", TOO_BIG],
        ["jobs", "list", "--limit", TOO_BIG],
        ["analytics", "top", "--limit", TOO_BIG],
        ["analytics", "overview", "--account", TOO_BIG],
        ["collect", "--days", "99999999999"],
        ["collect", "--limit", TOO_BIG],
        ["collect", "--account", TOO_BIG],
        ["publish-due", "--limit", TOO_BIG],
        ["post", "show", "0"],
        ["post", "show", "9" * 5000],  # int() refuses strings this long
        ["post", "list", "--page", "9" * 5000],
    ],
)
def test_numbers_out_of_range_are_usage_errors(cli, args):
    sandbox(cli)
    r = cli(*args)
    assert r.exit_code == 2, (args, r.stdout, r.stderr)
    no_bug(r)


def test_a_page_far_past_the_end_is_just_empty(cli):
    # The other side of the bound (passes before the fix too): a large in-range page is fine.
    sandbox(cli)
    out = cli.json("post", "list", "--page", "1000000", "--limit", "1000000")
    assert out["posts"] == [] and out["page"] == 1000000


@pytest.mark.parametrize(
    "at, tz",
    [("9999-12-31 23:59", "America/Los_Angeles"), ("9999-12-31 23:59", "UTC"), ("+99999999999d", "UTC")],
)
def test_times_near_the_ends_of_the_calendar_are_usage_errors(cli, home, at, tz):
    acc = sandbox(cli)
    r = cli("post", "create", "far", "--to", str(acc), "--at", at, "--tz", tz)
    assert r.exit_code == 2, (at, r.stdout, r.stderr)
    no_bug(r)
    assert post_count(home) == 0


def test_a_stored_time_near_year_9999_does_not_break_the_list_in_any_zone(cli, home):
    acc = sandbox(cli)
    pid = cli.json("post", "create", "far future", "--to", str(acc), "--draft")["id"]
    other = cli.json("post", "create", "ordinary", "--to", str(acc), "--draft")["id"]
    # A store written by an older postcli (or by hand) can hold it.
    db(home).execute(
        "update posts set status='scheduled', scheduled_at='9999-12-31 23:59:00.000000' where id=?", (pid,)
    )
    for zone in ("Pacific/Kiritimati", "Etc/GMT-14", "Etc/GMT+12"):
        r = cli("post", "list", "--tz", zone)
        assert r.exit_code == 0, (zone, r.stdout, r.stderr)
        assert "ordinary" in r.stdout and "9999-12-31" in r.stdout
        r = cli("post", "show", str(pid), "--tz", zone)
        assert r.exit_code == 0, (zone, r.stdout, r.stderr)
    assert cli("post", "show", str(other)).exit_code == 0


def test_argv_that_is_not_utf8_is_a_usage_error(cli, home):
    acc = sandbox(cli)
    undecodable = b"caf\xe9".decode("utf-8", "surrogateescape")  # how Python hands such bytes over
    for args in (
        ["post", "create", undecodable, "--to", str(acc)],
        ["post", "list", "--status", undecodable],
        ["accounts", "show", undecodable],
    ):
        r = cli(*args)
        assert r.exit_code == 2, (args, r.stdout, r.stderr)
        assert "UTF-8" in r.stderr
        no_bug(r)
    assert post_count(home) == 0


def test_argv_that_is_not_utf8_in_a_real_process(home):
    exe = Path(sys.executable).with_name("postcli")
    cmd = [os.fsencode(str(exe))] if exe.exists() else [os.fsencode(sys.executable), b"-m", b"postcli"]
    env = dict(os.environ, PYTHONUTF8="0", LC_ALL="C.UTF-8")
    out = subprocess.run(cmd + [b"post", b"show", b"\xff\xfe"], env=env, capture_output=True, timeout=60)
    assert out.returncode == 2, out
    assert b"UTF-8" in out.stderr and b"bug" not in out.stderr


def test_stdin_that_is_not_utf8_is_a_usage_error(cli, home):
    acc = sandbox(cli)
    r = cli("post", "create", "-", "--to", str(acc), "--draft", input=b"caf\xe9 \xff\n")  # type: ignore[arg-type]
    assert r.exit_code == 2 and "UTF-8" in r.stderr, (r.stdout, r.stderr)
    no_bug(r)
    assert post_count(home) == 0
    r = cli(
        "accounts", "add", "mastodon", "--instance", "https://example.invalid", "--token-stdin", input=b"\xff\xfe\n"
    )  # type: ignore[arg-type]
    assert r.exit_code == 2 and "UTF-8" in r.stderr, (r.stdout, r.stderr)
    no_bug(r)


# --- class 12: help reads like a CLI ---------------------------------------------------------

PYTHON_LOOK = re.compile(
    r"<(?:str|int|float|bool|path|Path|datetime|list|dict|tuple|NoneType)\b[^>]*>"
    r"|\blist\[|\bOptional\[|\{[A-Za-z_]+\}"
)


def _commands():  # type: ignore[no-untyped-def]
    # Walked as click walks it: `accounts add` and `accounts login` build a command per platform.
    from support.reference import walk

    return [(path, cmd) for path, cmd, _ctx in walk()]


def test_every_command_help_shows_metavars_not_python_types(cli):
    commands = _commands()
    assert len(commands) > 40
    for path, cmd in commands:
        r = cli(*path, "--help")
        assert r.exit_code == 0, (path, r.stderr)
        assert not PYTHON_LOOK.search(r.stdout), (path, PYTHON_LOOK.search(r.stdout), r.stdout)
        usage = r.stdout.splitlines()[0]
        assert "{" not in usage, (path, usage)
        for param in cmd.params:
            takes_value = not getattr(param, "is_flag", False) and not getattr(param, "count", False)
            if takes_value and param.name not in ("help",):
                assert param.metavar, (path, param.name)  # every value gets a name a person reads
                assert param.metavar == param.metavar.strip() and "<" not in param.metavar, (path, param.metavar)


def test_post_create_help_reads_like_a_cli(cli):
    out = cli("post", "create", "--help").stdout
    for expected in ("TEXT", "--to ACCOUNT", "--media FILE", "--at WHEN", "--tz ZONE", "--text-for PLATFORM=TEXT"):
        assert expected in out, (expected, out)
    assert "--period 7d|30d|90d" in cli("analytics", "overview", "--help").stdout
    assert "ID" in cli("post", "show", "--help").stdout.splitlines()[0]


# --- class 9: removed accounts do not receive posts -----------------------------------------


def test_removing_an_account_names_the_posts_that_address_it_and_publishing_refuses_it(cli, home):
    keep = sandbox(cli, "keep.sandbox")
    gone = sandbox(cli, "gone.sandbox")
    both = cli.json("post", "create", "to both", "--to", str(keep), "--to", str(gone), "--draft")["id"]
    only = cli.json("post", "create", "to the gone one", "--to", str(gone), "--draft")["id"]
    done = cli.json("post", "create", "published already", "--to", str(gone))["post_id"]
    r = cli("accounts", "remove", str(gone))
    assert r.exit_code == 0, r.stderr
    assert f"{both} (draft)" in r.stderr and f"{only} (draft)" in r.stderr and f"{done} (" not in r.stderr
    removed = cli.json("accounts", "remove", str(keep))  # JSON says the same, as data
    assert removed["unpublished_posts"] == [{"id": both, "status": "draft"}]

    cli.json("accounts", "add", "sandbox", "--handle", "keep.sandbox")  # back again (reconnected)
    r = cli("post", "publish", str(both), "--json")
    assert r.exit_code == 7, (r.stdout, r.stderr)
    targets = {t["handle"]: t for t in json.loads(r.stdout)["targets"]}
    assert targets["keep.sandbox"]["status"] == "completed"
    assert targets["gone.sandbox"]["status"] == "failed" and targets["gone.sandbox"]["url"] is None
    assert "account removed" in targets["gone.sandbox"]["error"]
    r = cli("post", "publish", str(only))
    assert r.exit_code == 1 and "account removed" in r.stdout and "reconnect" not in r.stdout.replace("\n", " ")


def test_a_removed_mastodon_account_gets_nothing_and_no_reconnect_advice(cli, home):
    with FakeMastodon(token=MASTO_TOKEN) as masto:
        r = cli(
            "accounts", "add", "mastodon", "--instance", masto.url, "--token-stdin", "--json", input=MASTO_TOKEN + "\n"
        )
        assert r.exit_code == 0, r.stderr
        acc = json.loads(r.stdout)["id"]
        draft = cli.json("post", "create", "hello fediverse", "--to", str(acc), "--draft")["id"]
        scheduled = cli.json("post", "create", "later", "--to", str(acc), "--at", "+1h")["id"]
        r = cli("accounts", "remove", str(acc))
        assert f"{draft} (draft)" in r.stderr and f"{scheduled} (scheduled)" in r.stderr
        r = cli("post", "publish", str(draft), "--json")
        assert r.exit_code == 1, (r.stdout, r.stderr)  # an error, not 6 (reconnect)
        target = json.loads(r.stdout)["targets"][0]
        assert target["status"] == "failed" and "account removed" in target["error"]
        assert "reconnect" not in target["error"]
        assert masto.requests_to("POST", "/api/v1/statuses") == []


# --- class 11: messages and consistency -------------------------------------------------------


def _noise_png(path: Path, size: tuple[int, int]) -> Path:
    from PIL import Image

    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(path, format="PNG")
    return path


def _png(path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (20, 10), "red").save(path, format="PNG")
    return path


def test_each_validation_problem_has_its_own_fix(cli, home, tmp_path):
    with FakeBlueskyServer() as bsky:
        bsky.add_account("alice.test", BSKY_PASS)
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
        cases = {
            "Write some text": ["  "],
            "Attach fewer files": [
                "five",
                *[a for i in range(5) for a in ("--media", str(_png(tmp_path / f"{i}.png")))],
            ],
            "Make the file smaller": ["big", "--media", str(_noise_png(tmp_path / "big.png", (850, 850)))],
            "Shorten the alt text": ["alt", "--media", str(_png(tmp_path / "a.png")), "--alt", "x" * 2001],
            "Shorten the text": ["y" * 301],
        }
        for fix, args in cases.items():
            r = cli("post", "create", *args, "--to", "bluesky")
            assert r.exit_code == 2, (fix, r.stderr)
            hint = r.stderr.split("hint:", 1)[1]
            assert fix in hint, (fix, r.stderr)
            if fix != "Shorten the text":
                assert "Shorten the text" not in hint, (fix, r.stderr)
        assert bsky.count("com.atproto.repo.createRecord") == 0
    assert post_count(home) == 0


def test_the_password_stdin_hint_is_a_command_to_run(cli):
    r = cli("accounts", "add", "bluesky", "--handle", "a.test", "--password-stdin", input="\n")
    assert r.exit_code == 2
    assert "postcli accounts add bluesky ... --password-stdin" in r.stderr, r.stderr
    assert "| Bluesky app password" not in r.stderr
    r = cli("accounts", "add", "mastodon", "--instance", "https://m.example", "--token-stdin", input="\n")
    assert "postcli accounts add mastodon ... --token-stdin" in r.stderr, r.stderr


@pytest.mark.parametrize(
    "args, listed",
    [
        (["post", "list", "--status", "bogus"], "partial_success"),
        (["post", "list", "--platform", "myspace"], "mastodon"),
    ],
)
def test_post_list_filters_are_checked_like_the_reports(cli, args, listed):
    r = cli(*args)
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert listed in r.stderr
    assert cli("analytics", "overview", "--platform", "myspace").exit_code == 2  # the same mistake, the same code


def test_post_list_status_is_forgiving_about_case(cli):
    acc = sandbox(cli)
    cli.json("post", "create", "d", "--to", str(acc), "--draft")
    assert cli.json("post", "list", "--status", "Draft")["total"] == 1


def test_a_repeated_post_create_json_has_the_first_ones_shape(cli):
    acc = sandbox(cli)
    first = cli.json("post", "create", "same words", "--to", str(acc))
    again = cli.json("post", "create", "same words", "--to", str(acc))
    assert first.keys() == again.keys(), (first, again)
    assert first["created"] is True and again["created"] is False
    assert again["post_id"] == first["post_id"] and again["targets"][0].keys() == first["targets"][0].keys()
    d1 = cli.json("post", "create", "draft", "--to", str(acc), "--draft", "--correlation-id", "k1")
    d2 = cli.json("post", "create", "draft", "--to", str(acc), "--draft", "--correlation-id", "k1")
    assert d1.keys() == d2.keys() == first.keys() and d2["created"] is False
    assert first["id"] == first["post_id"] and first["targets"][0]["target_id"] == first["targets"][0]["id"]
