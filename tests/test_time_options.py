"""Every date and time the CLI takes goes through one reader (timeparse.read) in one zone rule
(--tz, else [defaults] timezone, else UTC): issue 21 (two parsers that disagreed) and issue 23
class 3 (times read against the machine's clock or zone, abbreviations, bare numbers, the
autumn hour). The reader's own cases are in test_timeparse.py, its property in
test_time_property.py; these drive the commands."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from support.cli import run_postcli


def _sandbox(cli) -> int:  # type: ignore[no-untyped-def]
    return cli.json("accounts", "add", "sandbox", "--handle", "me.sandbox")["id"]


def _no_bug(result) -> None:  # type: ignore[no-untyped-def]
    text = result.stdout + result.stderr
    assert "This is a bug" not in text and "Traceback" not in text and "Warning" not in text, text


def test_accounts_metrics_reads_since_like_the_reports(cli):
    # Before: `analytics overview --since yesterday` worked, `accounts metrics 1 --since yesterday` exit 2.
    acc = _sandbox(cli)
    for since in ("yesterday", "today", "-7d", "3 days ago", "2026-01-01"):
        report = cli("analytics", "overview", "--since", since, "--until", "now")
        metrics = cli("accounts", "metrics", str(acc), "--since", since, "--until", "now")
        assert (report.exit_code, metrics.exit_code) == (0, 0), (since, report.stderr, metrics.stderr)
    assert cli("accounts", "metrics", str(acc), "--since", "yesterday", "--tz", "Asia/Tokyo").exit_code == 0


def test_the_configured_zone_is_the_default_everywhere(cli, home):
    (home / "config.toml").write_text('[defaults]\ntimezone = "Asia/Tokyo"\n')
    acc = _sandbox(cli)
    post = cli.json("post", "create", "x", "--to", str(acc), "--at", "2027-01-10 09:00", "--draft")
    assert post["scheduled_at"] == "2027-01-10T00:00:00Z" and post["timezone"] == "Asia/Tokyo"
    moved = cli.json("post", "schedule", str(post["id"]), "--at", "2027-01-11 09:00")
    assert moved["scheduled_at"] == "2027-01-11T00:00:00Z"
    edited = cli.json("post", "edit", str(post["id"]), "--at", "2027-01-12 09:00")
    assert edited["scheduled_at"] == "2027-01-12T00:00:00Z"
    report = cli.json("analytics", "overview", "--since", "2026-01-01", "--until", "2026-01-02")
    assert report["period"]["start"] == "2025-12-31T15:00:00Z" and report["period"]["timezone"] == "Asia/Tokyo"


def _scheduled(result) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["scheduled_at"]


@pytest.mark.parametrize("machine", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_a_time_of_day_is_read_in_the_given_zone_whatever_tz_the_machine_has(cli, home, machine):
    # Before: dateutil took the date from the machine's clock face: with TZ 14 hours east or
    # 11 hours west of UTC, `--at 23:59 --tz UTC` landed on another day (or "in the past").
    acc = _sandbox(cli)
    env = {"POSTCLI_HOME": str(home), "TZ": machine}
    before = datetime.now(timezone.utc).date()
    at = _scheduled(
        run_postcli(
            "post", "create", "x", "--to", str(acc), "--at", "23:59", "--tz", "UTC", "--draft", "--json", env=env
        )
    )
    after = datetime.now(timezone.utc).date()
    assert at in {f"{day:%Y-%m-%d}T23:59:00Z" for day in (before, after)}


def test_a_time_of_day_and_today_are_the_same_day(cli, home):
    # Before: "23:00" took the machine's date, "today 23:00" the zone's.
    acc = _sandbox(cli)
    env = {"POSTCLI_HOME": str(home), "TZ": "Pacific/Kiritimati"}
    args = ("post", "create", "x", "--to", str(acc), "--tz", "Pacific/Pago_Pago", "--draft", "--json")
    plain = _scheduled(run_postcli(*args, "--at", "23:00", env=env))
    today = _scheduled(run_postcli(*args, "--at", "today 23:00", env=env))
    assert plain == today


def test_a_zone_abbreviation_is_refused_with_the_iana_name_and_no_library_warning(cli, home):
    acc = _sandbox(cli)
    r = run_postcli(
        "post",
        "create",
        "x",
        "--to",
        str(acc),
        "--at",
        "2026-12-24 10:00 EST",
        "--draft",
        env={"POSTCLI_HOME": str(home)},
    )
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "America/New_York" in r.stderr and "-05:00" in r.stderr
    assert "UnknownTimezoneWarning" not in r.stderr and "warnings.warn" not in r.stderr, r.stderr
    r = cli("post", "create", "x", "--to", str(acc), "--tz", "EDT", "--at", "+1h")
    assert r.exit_code == 2 and "America/New_York" in r.stderr, r.stderr
    assert cli("post", "list", "--json").stdout.count('"id"') == 0  # nothing stored


@pytest.mark.parametrize("at", ["10", "2026", "tomorrow 9"])
def test_a_bare_number_is_refused(cli, at):
    acc = _sandbox(cli)
    r = cli("post", "create", "x", "--to", str(acc), "--at", at, "--draft")
    assert r.exit_code == 2 and "cannot read" in r.stderr, (r.stdout, r.stderr)
    _no_bug(r)


def test_the_autumn_hour_says_which_one_was_taken(cli):
    acc = _sandbox(cli)
    r = cli(
        "post",
        "create",
        "x",
        "--to",
        str(acc),
        "--at",
        "2027-10-31 02:30",
        "--tz",
        "Europe/Berlin",
        "--draft",
        "--json",
    )
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["scheduled_at"] == "2027-10-31T00:30:00Z"
    assert "happens twice" in r.stderr and "2027-10-31 02:30+01:00" in r.stderr
    second = cli.json("post", "create", "y", "--to", str(acc), "--at", "2027-10-31 02:30+01:00", "--draft")
    assert second["scheduled_at"] == "2027-10-31T01:30:00Z"


def test_reports_take_the_relative_forms_of_at(cli):
    r = cli("analytics", "overview", "--since", "-2h", "--json")
    assert r.exit_code == 0, r.stderr
    start = datetime.fromisoformat(json.loads(r.stdout)["period"]["start"].replace("Z", "+00:00"))
    assert abs(datetime.now(timezone.utc) - timedelta(hours=2) - start) < timedelta(minutes=5)
    r = cli("analytics", "overview", "--since", "10")
    assert r.exit_code == 2 and "bare number" in r.stderr
