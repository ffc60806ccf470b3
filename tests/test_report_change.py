"""Change vs the previous period (services/reports/change.py) in overview and platforms."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from support.builders import CHANGE_PERIOD, Store, run, run_json, two_periods_store

PERIOD = CHANGE_PERIOD

# Every report test runs on SQLite and on PostgreSQL (support/backend.py).
pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def two_periods(home):
    return two_periods_store()


def ch(previous, change, pct, new):
    return {"previous": previous, "change": change, "change_pct": pct, "new": new}


def test_overview_changes(two_periods):
    data = run_json("overview", *PERIOD)
    assert data["previous_period"] == {"start": "2024-02-26T00:00:00Z", "end": "2024-03-01T00:00:00Z"}
    c = data["change"]
    assert data["posts_published"] == 5 and c["posts_published"] == ch(4, 1, 0.25, False)
    assert data["total_engagement"] == 15 + 4 + 7 + 0
    assert c["total_engagement"] == ch(15, 11, pytest.approx(11 / 15), False)
    assert data["followers"]["total"] == 170 and c["followers_total"] == ch(100, 70, 0.7, False)
    assert c["followers_by_platform"]["bluesky"] == ch(100, 20, 0.2, False)
    assert c["followers_by_platform"]["mastodon"] == ch(None, None, None, True)
    assert c["followers_by_platform"]["tumblr"] == ch(None, None, None, False)
    rows = c["platforms"]
    assert rows["bluesky"]["engagement"] == ch(10, 5, 0.5, False)
    assert rows["mastodon"]["engagement"] == ch(0, 4, None, True)
    assert rows["tumblr"]["engagement"] == ch(None, None, None, False)
    assert rows["threads"]["engagement"] == ch(None, None, None, True)
    assert rows["facebook"]["engagement"] == ch(5, -5, -1.0, False)
    assert rows["threads"]["posts"] == ch(0, 1, None, True)
    assert rows["bluesky"]["engagement_rate"] == ch(0.1, pytest.approx(0.05), pytest.approx(0.5), False)
    # The platform rows keep their documented shape.
    assert set(data["platforms"][0]) == {
        "platform",
        "posts",
        "targets",
        "engagement",
        "avg_engagement_per_post",
        "engagement_rate",
        "likes",
        "comments",
        "shares",
        "impressions",
        "reach",
    }


def test_platforms_changes_json_and_csv(two_periods):
    data = run_json("platforms", *PERIOD)
    assert data["previous_period"]["end"] == "2024-03-01T00:00:00Z"
    assert data["change"]["platforms"]["mastodon"]["engagement"] == ch(0, 4, None, True)
    result = run("platforms", *PERIOD, "--csv")
    rows = {r["platform"]: r for r in csv.DictReader(io.StringIO(result.stdout))}
    assert rows["bluesky"]["engagement_previous"] == "10" and rows["bluesky"]["engagement_change"] == "5"
    assert rows["bluesky"]["engagement_change_pct"] == "0.5"
    assert rows["mastodon"]["engagement_change_pct"] == "new"
    assert rows["tumblr"]["engagement_previous"] == "" and rows["tumblr"]["engagement_change_pct"] == ""
    assert float(rows["facebook"]["engagement_change_pct"]) == -1.0
    over = {r["platform"]: r for r in csv.DictReader(io.StringIO(run("overview", *PERIOD, "--csv").stdout))}
    assert over["bluesky"]["followers_change"] == "20" and over["mastodon"]["followers_change_pct"] == "new"


def test_text_shows_the_change(two_periods):
    out = run("overview", *PERIOD).stdout
    assert "+11 (+73%) vs 15" in out  # total engagement, its percentage rounded as people read it
    assert "Change vs the previous period" in out
    plat = run("platforms", *PERIOD).stdout
    change_rows = plat.split("Change vs the previous period")[1].splitlines()
    rows = {ln.split()[0]: ln.split() for ln in change_rows if ln.strip() and not ln.strip().startswith(("p", "━"))}
    assert rows["mastodon"] == ["mastodon", "1", "±0", "0", "new", "new"]  # 0 before: "new", not a % of 0
    assert rows["facebook"][:5] == ["facebook", "1", "±0", "5", "-5"]
    # 5 before: too few for a percentage to mean much ("-5", not "-5 (-100%)"); the JSON keeps it exact.
    assert "%)" not in " ".join(rows["facebook"])
    assert rows["tumblr"] == ["tumblr", "1", "±0", "—", "—", "—"]  # NULL both times: nothing to compare
    assert rows["threads"] == ["threads", "0", "new", "—", "new", "—"]


def test_empty_previous_period_is_all_new(home):
    s = Store()
    acc = s.account("bluesky", "only-now")
    (t,) = s.post("now", "2024-03-02T10:00:00", acc)
    s.snap(t, "2024-03-03T10:00:00", likes=3)
    data = run_json("overview", *PERIOD)
    assert data["change"]["total_engagement"] == ch(None, None, None, True)
    assert data["change"]["posts_published"] == ch(0, 1, None, True)


numbers = st.one_of(st.none(), st.integers(-1000, 1000), st.floats(-10, 10, allow_nan=False))


@given(numbers, numbers)
def test_change_never_divides_by_nothing(current, previous):
    from postcli.services.reports.change import change

    c = change(current, previous)
    assert c.previous == previous
    if not previous:
        assert c.change_pct is None  # no percentage of 0 or NULL, never a fake 0 %
    if current is None or previous is None:
        assert c.change is None
    assert c.new == (current is not None and current != 0 and not previous)


def test_percentages_read_as_people_read_them() -> None:
    from postcli.render.change_text import fmt_change

    def c(previous, change, pct):  # type: ignore[no-untyped-def]
        return {"previous": previous, "change": change, "change_pct": pct, "new": False}

    assert fmt_change(c(1, 12, 12.0)) == "+12"  # 13 vs 1: not "+12 (+1200.00%)"
    assert fmt_change(c(9, 3, 3 / 9)) == "+3"
    assert fmt_change(c(40, 3, 0.075)) == "+3 (+7.5%)"
    assert fmt_change(c(10, -4, -0.4)) == "-4 (-40%)"
    assert fmt_change(c(1500, 13, 13 / 1500)) == "+13 (+0.87%)"
    assert fmt_change(c(1000, 12_000, 12.0)) == "+12,000 (+1,200%)"
    assert fmt_change({"previous": 0, "change": 5, "change_pct": None, "new": True}) == "new"
