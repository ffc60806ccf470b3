from datetime import datetime, timezone

import pytest

from postcli.errors import InvalidInput
from postcli.timeparse import read


def parse_when(text, tz, now):
    return read(text, tz, now=now).at


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


# --- issue 23, class 3: every partial time is read in the zone given, never on the machine's clock ---

NOV = datetime(2026, 11, 20, 9, 22, tzinfo=timezone.utc)  # still the 19th in Pago Pago (UTC-11)


def test_a_time_of_day_takes_the_zones_date_not_the_machines():
    # Before: dateutil filled the date from the machine's clock, so "23:00" and "today 23:00"
    # were different days whenever the machine's date differed from the zone's.
    evening = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)  # 23:00 on the 19th in Pago Pago
    assert read("23:00", "Pacific/Pago_Pago", now=NOV).at == evening
    assert read("today 23:00", "Pacific/Pago_Pago", now=NOV).at == evening
    assert read("20:00", "UTC", now=NOV).at == datetime(2026, 11, 20, 20, 0, tzinfo=timezone.utc)
    assert read("10am", "Asia/Tokyo", now=NOV).at == datetime(2026, 11, 20, 1, 0, tzinfo=timezone.utc)


def test_a_date_without_a_year_takes_the_zones_year():
    new_year = datetime(2026, 12, 31, 12, 0, tzinfo=timezone.utc)  # already 2027 in Kiritimati (UTC+14)
    assert read("Jan 2 10:00", "Pacific/Kiritimati", now=new_year).at == datetime(
        2027, 1, 1, 20, 0, tzinfo=timezone.utc
    )


def test_the_machines_zone_is_never_used(monkeypatch):
    import time

    for machine in ("Pacific/Kiritimati", "Pacific/Pago_Pago", "America/New_York"):
        monkeypatch.setenv("TZ", machine)
        time.tzset()
        try:
            assert read("23:00", "UTC", now=NOV).at == datetime(2026, 11, 20, 23, 0, tzinfo=timezone.utc)
            # dateutil reads a zone name equal to the machine's (EST under TZ=America/New_York) as the machine's zone
            with pytest.raises(InvalidInput):
                read("2026-12-24 10:00 EST", "UTC", now=NOV)
        finally:
            monkeypatch.delenv("TZ")
            time.tzset()


def test_since_forms_and_at_forms_are_one_grammar():
    berlin = "Europe/Berlin"
    assert read("yesterday", berlin, now=NOV).at == datetime(2026, 11, 18, 23, 0, tzinfo=timezone.utc)
    assert read("today", berlin, now=NOV).at == datetime(2026, 11, 19, 23, 0, tzinfo=timezone.utc)
    assert read("tomorrow", berlin, now=NOV).at == datetime(2026, 11, 20, 23, 0, tzinfo=timezone.utc)
    assert read("2026-11-01", berlin, now=NOV).at == datetime(2026, 10, 31, 23, 0, tzinfo=timezone.utc)
    assert read("now", berlin, now=NOV).at == NOV
    assert read("-2h", berlin, now=NOV).at == datetime(2026, 11, 20, 7, 22, tzinfo=timezone.utc)
    assert read("3 days ago", berlin, now=NOV).at == datetime(2026, 11, 17, 9, 22, tzinfo=timezone.utc)
    assert read("1 Mar 2024 14:30", "UTC", now=NOV).at == datetime(2024, 3, 1, 14, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("text", ["2026-12-24 10:00 EST", "2026-12-24 10:00 CEST", "10:00 IST", "10:00 PST"])
def test_zone_abbreviations_are_refused_with_the_iana_names(text, recwarn):
    with pytest.raises(InvalidInput) as info:
        read(text, "UTC", now=NOV)
    abbreviation = text.split()[-1]
    assert f"{abbreviation} is an abbreviation" in info.value.hint
    assert "/" in info.value.hint  # an IANA name such as America/New_York
    assert not [w for w in recwarn if "dateutil" in str(w.filename)]  # no UnknownTimezoneWarning


def test_utc_and_offsets_in_the_text_win_over_the_zone():
    assert read("2026-12-24 10:00 UTC", "Asia/Tokyo", now=NOV).at == datetime(2026, 12, 24, 10, 0, tzinfo=timezone.utc)
    assert read("2026-12-24T10:00Z", "Asia/Tokyo", now=NOV).at == datetime(2026, 12, 24, 10, 0, tzinfo=timezone.utc)
    assert read("2026-12-24 10:00 +05:30", "UTC", now=NOV).at == datetime(2026, 12, 24, 4, 30, tzinfo=timezone.utc)
    # A time of day with an offset takes the date of that offset.
    assert read("23:00 -11:00", "Asia/Tokyo", now=NOV).at == datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
    # "UTC+3" is three hours WEST of UTC for POSIX and dateutil, east for people: refused.
    with pytest.raises(InvalidInput, match="offset"):
        read("2026-12-24 10:00 UTC+3", "UTC", now=NOV)


@pytest.mark.parametrize("text", ["10", "+5", "2026", "20261224", "10.5", "tomorrow 9", "today at 18"])
def test_bare_numbers_are_refused(text):
    # Before: "10" was the 10th of this month at midnight.
    with pytest.raises(InvalidInput, match="cannot read"):
        read(text, "UTC", now=NOV)


@pytest.mark.parametrize("text", ["Dec", "Dec 2026", "2026-12", "monday 10:00", "fri", "tomorrow 2026-12-01"])
def test_incomplete_or_ambiguous_dates_are_refused(text):
    with pytest.raises(InvalidInput, match="cannot read"):
        read(text, "UTC", now=NOV)


def test_a_time_that_happens_twice_is_the_first_and_says_so():
    # Berlin's clocks go back from 03:00 CEST to 02:00 CET on 2027-10-31: 02:30 happens twice.
    reading = read("2027-10-31 02:30", "Europe/Berlin", now=NOV)
    assert reading.at == datetime(2027, 10, 31, 0, 30, tzinfo=timezone.utc)
    assert reading.note and "happens twice" in reading.note and "2027-10-31 02:30+01:00" in reading.note
    # The note's own advice picks the second one.
    assert read("2027-10-31 02:30+01:00", "Europe/Berlin", now=NOV).at == datetime(
        2027, 10, 31, 1, 30, tzinfo=timezone.utc
    )
    assert read("2027-10-31 04:30", "Europe/Berlin", now=NOV).note is None


def test_the_start_of_a_day_whose_midnight_is_skipped_is_its_first_instant():
    # Havana jumps from 00:00 to 01:00 on 2026-03-08: that day starts at 05:00 UTC.
    assert read("2026-03-08", "America/Havana", now=NOV).at == datetime(2026, 3, 8, 5, 0, tzinfo=timezone.utc)
    with pytest.raises(InvalidInput, match="does not exist"):
        read("2026-03-08 00:30", "America/Havana", now=NOV)


def test_unknown_zones_name_the_iana_zone_for_an_abbreviation():
    from postcli.timeparse import zone

    with pytest.raises(InvalidInput) as info:
        zone("PST")
    assert "America/Los_Angeles" in (info.value.hint or "")
    with pytest.raises(InvalidInput):
        zone("x" * 5000)  # a file name too long for the zone database: still just an unknown zone
