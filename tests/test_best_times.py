"""`analytics best-times` (services/reports/best_times.py) on a store built for it."""

from __future__ import annotations

import csv
import io

import pytest

from support.builders import SLOTS_PERIOD, Store, run, run_json, slots_store

PERIOD = SLOTS_PERIOD

# Every report test runs on SQLite and on PostgreSQL (support/backend.py).
pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def slots(home):
    return slots_store()


def _names(slots):
    return [(x["weekday_name"], x["hour"]) for x in slots]


def test_ranked_in_utc_with_thin_slots_apart(slots):
    data = run_json("best-times", *PERIOD, "--tz", "UTC")
    assert data["report"] == "best-times" and data["min_posts"] == 3
    assert data["ranked"] == [
        {
            "rank": 1,
            "weekday": 5,
            "weekday_name": "Sat",
            "hour": 12,
            "posts": 3,
            "reported_posts": 3,
            "mean_engagement": 50.0,
        },
        {
            "rank": 2,
            "weekday": 1,
            "weekday_name": "Tue",
            "hour": 14,
            "posts": 4,
            "reported_posts": 3,
            "mean_engagement": pytest.approx(20 / 3),
        },
        {
            "rank": 3,
            "weekday": 0,
            "weekday_name": "Mon",
            "hour": 10,
            "posts": 3,
            "reported_posts": 3,
            "mean_engagement": 6.0,
        },
    ]
    thin = data["too_few_posts"]
    # Best mean first, unreported last; none of them ranked, however good their mean.
    assert _names(thin) == [("Wed", 9), ("Fri", 13), ("Fri", 14), ("Thu", 8)]
    assert all(x["rank"] is None for x in thin)
    assert thin[0]["mean_engagement"] == 100.0 and thin[0]["posts"] == 2
    assert thin[-1] == {
        "rank": None,
        "weekday": 3,
        "weekday_name": "Thu",
        "hour": 8,
        "posts": 1,
        "reported_posts": 0,
        "mean_engagement": None,
    }


def test_half_hour_zone_splits_the_hour(slots):
    data = run_json("best-times", *PERIOD, "--tz", "Asia/Kolkata")
    assert ("Mon", 15) not in _names(data["ranked"]) and ("Mon", 16) not in _names(data["ranked"])
    thin = {(x["weekday_name"], x["hour"]): x for x in data["too_few_posts"]}
    assert thin[("Mon", 15)]["posts"] == 2 and thin[("Mon", 15)]["mean_engagement"] == 4.5
    assert thin[("Mon", 16)]["posts"] == 1 and thin[("Mon", 16)]["mean_engagement"] == 9.0
    assert ("Tue", 19) in _names(data["ranked"])  # 14:00-14:15 UTC are 19:30-19:45 IST


def test_dst_keeps_the_local_hour(slots):
    data = run_json("best-times", *PERIOD, "--tz", "America/New_York")
    fri = next(x for x in data["ranked"] if x["weekday_name"] == "Fri")
    assert (fri["hour"], fri["posts"], fri["mean_engagement"]) == (9, 3, 7.0)


def test_platform_filter_and_csv(slots):
    data = run_json("best-times", *PERIOD, "--tz", "UTC", "--platform", "bluesky")
    assert _names(data["ranked"]) == [("Tue", 14), ("Mon", 10)]
    assert data["ranked"][0]["rank"] == 1
    rows = list(csv.DictReader(io.StringIO(run("best-times", *PERIOD, "--tz", "UTC", "--csv").stdout)))
    assert list(rows[0]) == ["rank", "weekday", "weekday_name", "hour", "posts", "reported_posts", "mean_engagement"]
    assert [r["rank"] for r in rows] == ["1", "2", "3", "", "", "", ""]
    assert rows[-1]["mean_engagement"] == ""  # NULL, not 0


def test_text_explains_the_ranking(slots):
    out = run("best-times", *PERIOD, "--tz", "UTC").stdout
    assert "Sat 12:00" in out and "Too few posts to rank" in out and "  Wed  09" in out
    assert "not that posting then makes them" in " ".join(out.split())
    help_text = " ".join(run("best-times", "--help").stdout.split())
    assert "at least 3 posts" in help_text and "not that posting then" in help_text


def _thin_block(out: str) -> tuple[str, dict[str, list[str]], str]:
    """The text's listing of the slots too thin to rank: its heading, the hours per weekday, its hint."""
    lines = out.splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith("Too few posts to rank"))
    days = {}
    for x in lines[start + 1 :]:
        if not x.startswith("  ") or x.startswith("  ("):
            break
        day, *hours = x.split()
        days[day] = hours
    return lines[start], days, lines[start + 1 + len(days)]


def test_text_lists_the_thin_slots_by_weekday(slots):
    # One line per weekday with thin slots, naming their hours in order; ranked slots are not in it.
    # Their figures stay in --json/--csv (test_ranked_in_utc_with_thin_slots_apart).
    out = run("best-times", *PERIOD, "--tz", "UTC").stdout
    heading, days, hint = _thin_block(out)
    assert heading == "Too few posts to rank (fewer than 3 with reported engagement), 4 slots:"
    assert days == {"Wed": ["09"], "Thu": ["08"], "Fri": ["13", "14"]}
    assert hint == "  (hours in UTC; each slot's posts and mean: --json or --csv)"
    assert "100.00" not in out  # the best thin mean (Wed 09:00) is not shown as if it ranked
    # In Kolkata the Monday posts split into two thin slots of the same day, listed in hour order.
    out = run("best-times", *PERIOD, "--tz", "Asia/Kolkata").stdout
    _, days, hint = _thin_block(out)
    assert days["Mon"] == ["15", "16"] and "hours in Asia/Kolkata" in hint
    assert "\x1b" not in out


def test_one_thin_slot(home):
    s = Store()
    b = s.account("bluesky", "b")
    (t,) = s.post("one", "2024-03-04T10:00:00", b)
    s.snap(t, "2024-03-05T00:00:00", likes=1)
    out = run("best-times", *PERIOD, "--tz", "Etc/GMT+0").stdout
    heading, days, hint = _thin_block(out)
    assert heading.endswith(", 1 slot:") and days == {"Mon": ["10"]}
    assert hint == "  (hours in Etc/GMT+0; each slot's posts and mean: --json or --csv)"


def test_no_ranked_slot_yet(home):
    s = Store()
    b = s.account("bluesky", "b")
    (t,) = s.post("one", "2024-03-04T10:00:00", b)
    s.snap(t, "2024-03-05T00:00:00", likes=1)
    out = run("best-times", *PERIOD, "--tz", "UTC")
    assert out.exit_code == 0 and "No slot has 3 or more posts" in out.stdout and "  Mon  10" in out.stdout
    data = run_json("best-times", *PERIOD, "--tz", "UTC")
    assert data["ranked"] == [] and len(data["too_few_posts"]) == 1


def test_empty_store(home):
    assert "No accounts yet" in run("best-times").stdout
    assert run_json("best-times")["ranked"] == []
