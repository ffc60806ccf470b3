"""Posting queues (issue 29): slot spellings (Hypothesis), DST gaps and repeats, the next slot free
on every target, full weeks, `--queue-each`, and suggestions from known best times."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postcli.errors import InvalidInput
from postcli.services.queue import slots

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@given(
    st.lists(
        st.tuples(
            st.sets(st.integers(0, 6), min_size=1),
            st.sets(st.tuples(st.integers(0, 23), st.integers(0, 59)), min_size=1),
        ),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from(["; ", ";", "\n"]),
)
def test_any_spelling_of_days_and_times_reads_back_the_same_slots(groups, sep) -> None:  # type: ignore[no-untyped-def]
    text = sep.join(
        ",".join(DAYS[d] for d in sorted(days)) + " " + ",".join(f"{h}:{m:02d}" for h, m in sorted(times))
        for days, times in groups
    )
    expected = sorted({slots.Slot(d, h * 60 + m) for days, times in groups for d in days for h, m in times})
    parsed = slots.parse(text)
    assert parsed == expected
    assert slots.parse(slots.render(parsed)) == parsed  # the canonical form reads back the same


@pytest.mark.parametrize(
    ("text", "weekdays"),
    [
        ("mon-fri 9:00", [0, 1, 2, 3, 4]),
        ("fri-mon 9:00", [0, 4, 5, 6]),
        ("weekends 9:00", [5, 6]),
        ("daily 9:00", list(range(7))),
        ("Monday,WEDNESDAY 9:00", [0, 2]),
    ],
)
def test_day_words_and_ranges(text: str, weekdays: list[int]) -> None:
    assert sorted({s.weekday for s in slots.parse(text)}) == weekdays


@pytest.mark.parametrize("bad", ["", "mon", "mon 25:00", "funday 09:00", "mon 9:61", "09:00"])
def test_bad_slots_are_refused_with_an_example(bad: str) -> None:
    with pytest.raises(InvalidInput) as err:
        slots.parse(bad)
    assert "mon-fri 09:00" in (err.value.hint or "")


def test_a_slot_in_the_spring_gap_moves_to_the_next_valid_minute() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 2027-03-28: clocks go from 02:00 to 03:00 in Berlin; 02:30 does not exist.
    at = slots.wall_to_utc(date(2027, 3, 28), 2 * 60 + 30, berlin)
    assert at.astimezone(berlin).replace(tzinfo=None) == datetime(2027, 3, 28, 3, 0)


def test_a_slot_in_the_autumn_hour_takes_its_first_occurrence() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 2027-10-31: 02:00-03:00 happens twice in Berlin; the first is 00:30 UTC.
    at = slots.wall_to_utc(date(2027, 10, 31), 2 * 60 + 30, berlin)
    assert at == datetime(2027, 10, 31, 0, 30, tzinfo=timezone.utc)


def _accounts(cli, *handles: str) -> list[int]:  # type: ignore[no-untyped-def]
    return [json.loads(cli("accounts", "add", "sandbox", "--handle", h, "--json").stdout)["id"] for h in handles]


def test_queue_takes_the_earliest_slot_free_on_every_target(cli, home) -> None:
    a, b = _accounts(cli, "a", "b")
    assert cli("queue", "set", "daily 09:00,18:00", "--account", str(a), "--tz", "UTC").exit_code == 0
    assert cli("queue", "set", "daily 18:00", "--account", str(b), "--tz", "UTC").exit_code == 0
    first = cli.json("post", "create", "both", "--to", str(a), "--to", str(b), "--queue")
    at = datetime.fromisoformat(first["scheduled_at"].replace("Z", "+00:00"))
    assert at.hour == 18 and first["status"] == "scheduled"
    second = cli.json("post", "create", "both again", "--to", str(a), "--to", str(b), "--queue")
    assert datetime.fromisoformat(second["scheduled_at"].replace("Z", "+00:00")) == at + timedelta(days=1)
    only_a = cli.json("post", "create", "a alone", "--to", str(a), "--queue")
    assert datetime.fromisoformat(only_a["scheduled_at"].replace("Z", "+00:00")).hour == 9
    shown = cli.json("queue", "show", "--account", str(a), "--weeks", "1")
    taken = [u for u in shown[0]["upcoming"] if u["post_id"]]
    assert {u["post_id"] for u in taken} == {first["id"], second["id"], only_a["id"]}
    # Publishing (or deleting) early frees the slot.
    assert cli("post", "delete", str(first["id"])).exit_code == 0
    again = cli.json("post", "create", "refill", "--to", str(a), "--to", str(b), "--queue")
    assert again["scheduled_at"] == first["scheduled_at"]


def test_queues_that_share_no_time_name_queue_each(cli, home) -> None:
    a, b = _accounts(cli, "a", "b")
    cli("queue", "set", "daily 09:00", "--account", str(a), "--tz", "UTC")
    cli("queue", "set", "daily 10:00", "--account", str(b), "--tz", "UTC")
    r = cli("post", "create", "x", "--to", str(a), "--to", str(b), "--queue")
    assert r.exit_code == 2 and "--queue-each" in r.stderr
    each = json.loads(cli("post", "create", "x", "--to", str(a), "--to", str(b), "--queue-each", "--json").stdout)
    assert sorted(datetime.fromisoformat(p["scheduled_at"].replace("Z", "+00:00")).hour for p in each) == [9, 10]


def test_a_full_queue_within_eight_weeks_is_refused(cli, home) -> None:
    (a,) = _accounts(cli, "a")
    cli("queue", "set", "mon 09:00", "--account", str(a), "--tz", "UTC")
    for _ in range(8):
        assert cli("post", "create", f"week {_}", "--to", str(a), "--queue").exit_code == 0
    r = cli("post", "create", "one more", "--to", str(a), "--queue")
    assert r.exit_code == 2 and "no free slot" in r.stderr


def test_no_queue_and_bad_options(cli, home) -> None:
    (a,) = _accounts(cli, "a")
    r = cli("post", "create", "x", "--to", str(a), "--queue")
    assert r.exit_code == 2 and "has no queue" in r.stderr and "queue set" in r.stderr
    cli("queue", "set", "daily 09:00", "--account", str(a))
    r = cli("post", "create", "x", "--to", str(a), "--queue", "--at", "+1d")
    assert r.exit_code == 2
    assert cli("queue", "show", "--weeks", "53").exit_code == 2


def _seed_engagement(account_id: int) -> None:
    """Posts with known engagement: Tue 10:00 UTC best (5 posts), Thu 15:00 next (4), Sat 08:00 thin (2)."""
    from support.builders import Store

    store = Store()
    now = datetime.now(timezone.utc)
    plan = [(1, 10, 5, 300), (3, 15, 4, 120), (5, 8, 2, 900), (0, 12, 3, 30)]
    for weekday, hour, count, likes in plan:
        for n in range(count):
            day = now - timedelta(days=7 * (n + 1))
            day -= timedelta(days=(day.weekday() - weekday) % 7)
            when = day.replace(hour=hour, minute=5, second=0, microsecond=0)
            (target,) = store.post(f"p {weekday} {hour} {n}", when.strftime("%Y-%m-%d %H:%M"), account_id)
            store.snap(target, now.strftime("%Y-%m-%d %H:%M"), likes=likes, comments=0, shares=0)


def test_suggest_finds_the_best_times_and_applies_them(cli, home) -> None:
    (a,) = _accounts(cli, "a")
    _seed_engagement(a)
    out = cli.json("queue", "suggest", "--account", str(a), "--slots", "2", "--tz", "UTC")
    got = [(s["weekday"], s["time"], s["posts"]) for s in out["suggestions"]]
    assert got == [("tue", "10:00", 5), ("thu", "15:00", 4)]  # Sat rests on 2 posts: not suggested
    assert out["suggestions"][0]["vs_account_mean"] > 0 and out["applied"] is False
    applied = cli.json("queue", "suggest", "--account", str(a), "--slots", "2", "--tz", "UTC", "--apply")
    assert applied["applied"] is True
    shown = cli.json("queue", "show", "--account", str(a))
    assert shown[0]["slots"] == "tue 10:00; thu 15:00"


def test_suggest_refuses_thin_data_and_says_what_it_needs(cli, home) -> None:
    (a,) = _accounts(cli, "a")
    r = cli("queue", "suggest", "--account", str(a))
    assert r.exit_code == 4 and "at least 3 posts" in r.stderr
