from datetime import datetime, timezone

import pytest

from postcli.errors import InvalidInput
from postcli.timeparse import parse_when

NOW = datetime(2026, 3, 28, 12, 0, tzinfo=timezone.utc)  # a Saturday before the EU DST change


def test_relative_forms():
    assert parse_when("+2h", "UTC", NOW) == datetime(2026, 3, 28, 14, 0, tzinfo=timezone.utc)
    assert parse_when("in 30 minutes", "UTC", NOW) == datetime(2026, 3, 28, 12, 30, tzinfo=timezone.utc)
    assert parse_when("+1d", "UTC", NOW) == datetime(2026, 3, 29, 12, 0, tzinfo=timezone.utc)


def test_tomorrow_is_a_wall_clock_time_across_the_dst_change():
    # Berlin is UTC+1 on Saturday and UTC+2 from Sunday 02:00.
    assert parse_when("tomorrow 9:00", "Europe/Berlin", NOW) == datetime(2026, 3, 29, 7, 0, tzinfo=timezone.utc)
    assert parse_when("today 18:00", "Europe/Berlin", NOW) == datetime(2026, 3, 28, 17, 0, tzinfo=timezone.utc)


def test_absolute_times_use_the_zone_unless_they_carry_an_offset():
    assert parse_when("2026-07-01 09:00", "America/New_York", NOW) == datetime(2026, 7, 1, 13, 0, tzinfo=timezone.utc)
    assert parse_when("2026-07-01T09:00+02:00", "America/New_York", NOW) == datetime(
        2026, 7, 1, 7, 0, tzinfo=timezone.utc
    )


def test_a_time_skipped_by_dst_is_refused():
    with pytest.raises(InvalidInput, match="does not exist"):
        parse_when("2026-03-29 02:30", "Europe/Berlin", NOW)


def test_garbage_is_refused_with_the_accepted_forms():
    with pytest.raises(InvalidInput) as info:
        parse_when("someday", "UTC", NOW)
    assert "+2h" in (info.value.hint or "")
