"""Property (issue 23, class 3): whatever a person types as a time, in whatever zone, postcli
either reads it in that zone (or in the zone the text itself names: an offset, Z, UTC) or
refuses it; never silently in another zone, and never against the machine's clock face.

Three properties over arbitrary text and texts built from the forms people write:
- the machine's zone (TZ) changes nothing;
- read in two zones that share the calendar day at `now`, a time is either the same instant
  (it named its own zone, or counts from now) or the same wall-clock time in each zone;
- for built texts, the exact moment an independent reading of the parts gives, and a refusal
  for what names no zone postcli can tell apart (abbreviations, "UTC+3") or no date at all
  (bare numbers).
Nothing but InvalidInput ever comes out, and no library warning.
"""

from __future__ import annotations

import time
import warnings
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Iterator
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postcli.errors import InvalidInput
from postcli.timeparse import ABBREVIATIONS, Reading, read

NOW = datetime(2026, 7, 15, 12, 0, tzinfo=timezone.utc)
# Zones whose calendar day at NOW is NOW's (UTC-11 .. UTC+11:xx), with odd offsets and DST rules.
SAME_DAY_ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/St_Johns",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Adelaide",
    "Asia/Tokyo",
    "Pacific/Pago_Pago",
    "America/Havana",
    "Australia/Lord_Howe",
]
ZONES = [*SAME_DAY_ZONES, "Pacific/Kiritimati", "Pacific/Auckland", "Etc/GMT+12"]
MACHINE_ZONES = ["Pacific/Kiritimati", "Etc/GMT+12", "America/New_York", "Europe/London"]


@contextmanager
def machine_zone(name: str) -> Iterator[None]:
    import os

    old = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old
        time.tzset()


def attempt(text: str, zone: str, now: datetime = NOW) -> Reading | None:
    """The reading, or None when refused; any other exception or a warning fails the test."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result: Reading | None = read(text, zone, now=now)
        except InvalidInput:
            result = None
    assert not caught, [str(w.message) for w in caught]
    return result


# --- texts ---------------------------------------------------------------------------------

dates = st.dates(min_value=datetime(2024, 1, 1).date(), max_value=datetime(2028, 12, 31).date())
clock = st.tuples(st.integers(0, 23), st.integers(0, 59))
offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: f"{'+' if m >= 0 else '-'}{abs(m) // 60:02d}:{abs(m) % 60:02d}")
suffixes = st.one_of(
    st.just(None),
    offsets.map(lambda o: ("offset", o)),
    st.sampled_from(["Z", "UTC", "GMT"]).map(lambda n: ("utc", n)),
    st.sampled_from(sorted(ABBREVIATIONS)).map(lambda n: ("abbreviation", n)),
    st.sampled_from(["UTC+3", "GMT-5", "UTC +02:00"]).map(lambda n: ("named offset", n)),
)


@st.composite
def built(draw):  # type: ignore[no-untyped-def]
    """(text, parts): a date and/or a time of day, or a day word, with maybe a zone after it."""
    day_word = draw(st.sampled_from([None, "today", "tomorrow", "yesterday"]))
    day = None if day_word else draw(st.one_of(st.none(), dates))
    hm = draw(st.one_of(st.none(), clock)) if day or day_word else draw(clock)
    suffix = draw(suffixes) if hm else None
    pieces = [day_word] if day_word else []
    if day:
        pieces.append(draw(st.sampled_from([f"{day:%Y-%m-%d}", f"{day:%d %b %Y}", f"{day:%b %d %Y}"])))
    if hm:
        pieces.append(draw(st.sampled_from([f"{hm[0]:02d}:{hm[1]:02d}", f"{hm[0]}:{hm[1]:02d}"])))
    text = " ".join(pieces)
    if suffix:
        text += draw(st.sampled_from(["", " "])) + suffix[1]
    return text, (day_word, day, hm, suffix)


def expected(parts, zone: str) -> datetime | None:  # type: ignore[no-untyped-def]
    """The moment the parts mean, worked out without postcli; None where postcli must refuse."""
    day_word, day, hm, suffix = parts
    kind = suffix[0] if suffix else None
    if kind in ("abbreviation", "named offset"):
        return None
    if kind == "offset":
        sign = 1 if suffix[1][0] == "+" else -1
        h, m = suffix[1][1:].split(":")
        tz = timezone(sign * timedelta(hours=int(h), minutes=int(m)))
    elif kind == "utc":
        tz = timezone.utc
    else:
        tz = ZoneInfo(zone)
    if day is None:
        day = NOW.astimezone(tz).date() + timedelta(days={"today": 0, "tomorrow": 1, "yesterday": -1}.get(day_word, 0))
    naive = datetime(day.year, day.month, day.day, *(hm or (0, 0)))
    first, second = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    if hm and first.utcoffset() != second.utcoffset():
        if first.astimezone(timezone.utc).astimezone(tz).replace(tzinfo=None) != naive:
            return None  # in the spring gap: refused
    return first.astimezone(timezone.utc)


anything = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="0123456789 :-+/.TZtodaymrwinhsUTCESPG", max_size=25),
    built().map(lambda b: b[0]),
    st.integers(-100000, 100000).map(str),
)

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(text=anything, zone=st.sampled_from(ZONES), machines=st.permutations(MACHINE_ZONES))
def test_the_machines_zone_never_matters(text, zone, machines):
    results = []
    for machine in machines[:2]:
        with machine_zone(machine):
            results.append(attempt(text, zone))
    assert results[0] == results[1], (text, zone, machines[:2], results)


def _wall(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


@SETTINGS
@given(text=anything, zones=st.permutations(SAME_DAY_ZONES))
def test_a_time_is_read_in_the_given_zone_or_names_its_own(text, zones):
    z1, z2 = zones[:2]
    with machine_zone("Pacific/Kiritimati"):  # a machine whose calendar day is not NOW's
        r1, r2 = attempt(text, z1), attempt(text, z2)
    if r1 is None or r2 is None:
        return
    assert r1.at == r2.at or _wall(r1.at, z1) == _wall(r2.at, z2), (text, z1, r1, z2, r2)


@SETTINGS
@given(case=built(), zone=st.sampled_from(ZONES))
def test_built_times_mean_what_their_parts_say(case, zone):
    text, parts = case
    with machine_zone("Etc/GMT+12"):
        got = attempt(text, zone)
    want = expected(parts, zone)
    if want is None:
        assert got is None, (text, zone, got)
    else:
        assert got is not None and got.at == want, (text, zone, got, want)


@pytest.mark.parametrize("text", ["10", "31", "2026", "+5", "7.5"])
@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo"])
def test_bare_numbers_are_never_read(text, zone):
    assert attempt(text, zone) is None


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(day=dates, hm=clock, zone=st.sampled_from(ZONES))
def test_post_create_reads_at_in_tz(cli, day, hm, zone):
    """The CLI hands --at and --tz to that reader: a draft's time is the reader's."""
    text = f"{day:%Y-%m-%d} {hm[0]:02d}:{hm[1]:02d}"
    r = cli("post", "create", "x", "--to", "sandbox", "--at", text, "--tz", zone, "--draft", "--json")
    want = attempt(text, zone)
    if want is None:
        assert r.exit_code == 2, (text, zone, r.stdout, r.stderr)
        return
    assert r.exit_code == 0, (text, zone, r.stderr)
    import json

    stored = json.loads(r.stdout)["scheduled_at"]
    assert stored == want.at.strftime("%Y-%m-%dT%H:%M:%SZ"), (text, zone, stored, want)


@pytest.fixture(autouse=True)
def _sandbox_account(request, cli):  # type: ignore[no-untyped-def]
    if request.function.__name__ == "test_post_create_reads_at_in_tz":
        assert cli("accounts", "add", "sandbox", "--handle", "me.sandbox").exit_code == 0
