"""Reading the times people type: the one reader behind --at, --since and --until.

"2026-12-01 09:00", "2026-12-01T09:00+01:00", "23:00", "tomorrow 9:00", "yesterday",
"+2h", "in 30 minutes", "3 days ago", "now".

Anything that is not a complete moment (a time without a date, a date without a time or a
year, "today"/"tomorrow"/"yesterday") is completed in ONE zone: the one the caller passes
(--tz, else the configured one), or the offset written in the text. The machine's clock
is read only as "now", an instant; the machine's zone (TZ) is never used. A time the text
does not let postcli read in a known zone is refused, never read in another one: zone
abbreviations ("EST", "IST" and "CST" each name several zones) and bare numbers ("10":
the 10th? 10:00?) included.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from postcli.errors import InvalidInput

ACCEPTED = (
    'a date ("2024-03-01": the start of that day), a date and time ("2026-12-01 09:00", '
    '"2026-12-01T09:00+01:00"), a time today ("18:00"), '
    'a day word ("today", "tomorrow 9:00", "yesterday"), '
    'or a time relative to now ("+2h", "-30m", "in 45 minutes", "3 days ago", "now")'
)

# Every date a user gives lies in [EARLIEST, LATEST): far enough from datetime's
# limits (years 1 and 9999) that showing it in any timezone (UTC-12..UTC+14), or
# adding a report's days to it, cannot overflow.
EARLIEST = datetime(1900, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(9000, 1, 1, tzinfo=timezone.utc)

# Abbreviations people write instead of a zone, with the IANA names they usually mean.
# Only used to word the refusal: most of them name several zones (IST: India, Ireland,
# Israel; CST: US Central, China, Cuba), and a summer abbreviation written in winter would
# silently shift the time by an hour.
ABBREVIATIONS = {
    "ET": "America/New_York",
    "EST": "America/New_York",
    "EDT": "America/New_York",
    "CT": "America/Chicago",
    "CST": "America/Chicago, Asia/Shanghai or America/Havana",
    "CDT": "America/Chicago",
    "MT": "America/Denver",
    "MST": "America/Denver (America/Phoenix without daylight saving)",
    "MDT": "America/Denver",
    "PT": "America/Los_Angeles",
    "PST": "America/Los_Angeles",
    "PDT": "America/Los_Angeles",
    "AKST": "America/Anchorage",
    "AKDT": "America/Anchorage",
    "HST": "Pacific/Honolulu",
    "AST": "America/Halifax or Asia/Riyadh",
    "BST": "Europe/London",
    "IST": "Asia/Kolkata, Europe/Dublin or Asia/Jerusalem",
    "WET": "Europe/Lisbon",
    "WEST": "Europe/Lisbon",
    "CET": "Europe/Berlin, Europe/Paris or another city in the zone",
    "CEST": "Europe/Berlin, Europe/Paris or another city in the zone",
    "MET": "Europe/Berlin",
    "EET": "Europe/Athens or Europe/Helsinki",
    "EEST": "Europe/Athens or Europe/Helsinki",
    "MSK": "Europe/Moscow",
    "SAST": "Africa/Johannesburg",
    "WAT": "Africa/Lagos",
    "EAT": "Africa/Nairobi",
    "PKT": "Asia/Karachi",
    "SGT": "Asia/Singapore",
    "HKT": "Asia/Hong_Kong",
    "JST": "Asia/Tokyo",
    "KST": "Asia/Seoul",
    "AWST": "Australia/Perth",
    "ACST": "Australia/Adelaide",
    "ACDT": "Australia/Adelaide",
    "AEST": "Australia/Sydney (Australia/Brisbane without daylight saving)",
    "AEDT": "Australia/Sydney",
    "NZST": "Pacific/Auckland",
    "NZDT": "Pacific/Auckland",
    "BRT": "America/Sao_Paulo",
    "ART": "America/Argentina/Buenos_Aires",
}
_UTC_NAMES = {"UTC", "GMT", "UT", "Z", "ZULU"}
_ZONE_HINT = 'Use an IANA name such as "Europe/Berlin", "America/New_York" or "UTC".'


@dataclass(frozen=True)
class Reading:
    """A time read from text: `at` in UTC, and what the user must be told about it (or None)."""

    at: datetime
    note: str | None = None


def check_bounds(moment: datetime, what: str) -> datetime:
    """`moment` (aware) if it lies in [EARLIEST, LATEST); InvalidInput naming `what` otherwise."""
    if not EARLIEST <= moment < LATEST:
        raise InvalidInput(
            f"{what} is out of range: postcli takes dates from {EARLIEST:%Y-%m-%d} to 8999-12-31.",
            hint="Give a date within that range.",
        )
    return moment


def zone_hint(name: str) -> str:
    """How to name the zone meant by `name`: the IANA names for a known abbreviation."""
    meant = ABBREVIATIONS.get(name.strip().upper())
    if meant:
        return f"{name.strip()} is an abbreviation, not a time zone: use the IANA name, e.g. {meant}."
    return _ZONE_HINT


def zone(name: str | None) -> tzinfo:
    """The zone called `name` (an IANA name; empty or "UTC" is UTC); InvalidInput naming it otherwise."""
    if not name or name.strip().upper() == "UTC":
        return timezone.utc
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError, UnicodeError):
        raise InvalidInput(f"unknown timezone {name!r}.", hint=zone_hint(name)) from None


_UNITS = r"(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?)"
_REL = re.compile(r"^(?:([+-])|in\s+)\s*(\d+(?:\.\d+)?)\s*" + _UNITS + "$", re.IGNORECASE)
_AGO = re.compile(r"^(\d+(?:\.\d+)?)\s*" + _UNITS + r"\s+ago$", re.IGNORECASE)
_DAYWORD = re.compile(r"^(today|tomorrow|yesterday)(?:\s+(?:at\s+)?(.+))?$", re.IGNORECASE)
_DAY_SHIFT = {"today": 0, "tomorrow": 1, "yesterday": -1}
_BARE_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
# "UTC+3": POSIX reads it as three hours WEST of UTC (dateutil does too), people as east.
_NAMED_OFFSET = re.compile(r"(?<![a-z])(?:UTC|GMT|UT)\s*[+-]\s*\d", re.IGNORECASE)
_WEEKDAY = re.compile(
    r"\b(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|mon|tue|wed|thu|thur|fri|sat|sun)\b", re.IGNORECASE
)


def _unit(word: str) -> str:
    word = word.lower()
    if word.startswith("mi") or word == "m":
        return "minutes"
    if word.startswith("s"):
        return "seconds"
    if word.startswith("h"):
        return "hours"
    if word.startswith("d"):
        return "days"
    return "weeks"


def read(text: str, zone_name: str | None, *, what: str | None = None, now: datetime | None = None) -> Reading:
    """The moment `text` means, in UTC. A time without an offset is a wall-clock time in `zone_name`,
    and so is "today" (and every other partial form): see the module doc."""
    tz = zone(zone_name)
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    try:
        reading = _read(" ".join(text.split()), tz, now, what)
        return Reading(check_bounds(reading.at, f"{what or 'the time'} {text!r}"), reading.note)
    except (OverflowError, ValueError):  # "+99999999d", or a wall-clock time next to year 9999
        raise InvalidInput(
            f"{what or 'the time'} {text!r} is out of range: postcli takes dates from {EARLIEST:%Y-%m-%d} to 8999-12-31.",
            hint="Give a time within that range.",
        ) from None


def _refuse(what: str | None, text: str, why: str = "", hint: str = "") -> InvalidInput:
    named = f" ({what})" if what else ""
    return InvalidInput(f"cannot read the time {text!r}{named}{why}.", hint=hint or f"Use {ACCEPTED}.")


def _iso(raw: str) -> datetime | None:
    """A full ISO date and time ("2026-12-01 09:00", "…T09:00:00+01:00"), else None: nothing
    for dateutil to guess, and a bulk import (post import-file) reads thousands of them."""
    if len(raw) < 16 or raw[4:5] != "-" or raw[10:11] not in (" ", "T"):
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return None


def _read(raw: str, tz: tzinfo, now: datetime, what: str | None) -> Reading:
    iso = _iso(raw)
    if iso is not None:
        return Reading(iso.astimezone(timezone.utc)) if iso.tzinfo else _localize(iso, tz)
    if raw.lower() == "now":
        return Reading(now)
    m = _REL.match(raw) or _AGO.match(raw)
    if m:
        # Relative times count exact hours from now (a day is 24 hours): the same instant in every zone.
        back = m.re is _AGO or m.group(1) == "-"
        number, unit = m.groups()[-2:]
        delta = timedelta(**{_unit(unit): float(number)})
        return Reading(now - delta if back else now + delta)
    if _BARE_NUMBER.match(raw):
        raise _refuse(
            what,
            raw,
            ": a bare number could be a day, an hour or a year",
            'Write the date and time out, e.g. "2026-12-10 10:00", or the time of day as "10:00".',
        )
    m = _DAYWORD.match(raw)
    shift, rest = (_DAY_SHIFT[m.group(1).lower()], m.group(2)) if m else (0, raw)
    if m and rest is not None and _BARE_NUMBER.match(rest):
        raise _refuse(
            what,
            raw,
            f": {rest!r} is not a time of day",
            f'Write the time with its minutes, e.g. "{m.group(1)} {rest}:00".',
        )
    if rest is None:  # "today", "tomorrow", "yesterday": the start of that day, like a date without a time
        day = now.astimezone(tz).date() + timedelta(days=shift)
        return _localize(datetime.combine(day, datetime.min.time()), tz, start_of_day=True)
    fields, text_zone = _fields(rest, raw, what)
    if m and fields.has_date:
        raise _refuse(what, raw, f": {m.group(1)!r} and a date", 'Give one of them, e.g. "tomorrow 9:00".')
    if m and fields.hour is None:
        raise _refuse(what, raw, f": {rest!r} is not a time of day", f'Write the time as "{m.group(1)} 9:00".')
    in_zone = text_zone or tz
    today = now.astimezone(in_zone).date() + timedelta(days=shift)
    naive = datetime(
        fields.year if fields.year is not None else today.year,
        fields.month if fields.month is not None else today.month,
        fields.day if fields.day is not None else today.day,
        fields.hour or 0,
        fields.minute or 0,
        fields.second or 0,
        fields.microsecond or 0,
    )
    if text_zone is not None:
        return Reading(naive.replace(tzinfo=text_zone).astimezone(timezone.utc))
    return _localize(naive, tz, start_of_day=fields.hour is None)


@dataclass(frozen=True)
class _Fields:
    """What the text itself gives (None: not written, to be completed in the zone)."""

    year: int | None
    month: int | None
    day: int | None
    hour: int | None
    minute: int | None
    second: int | None
    microsecond: int | None

    @property
    def has_date(self) -> bool:
        return self.year is not None or self.month is not None or self.day is not None


# Two fillers for what the text leaves out, different in every field (and in their
# weekday; both in leap years so "Feb 29" parses): a field is written in the text
# when both parses agree on it.
_FILLERS = (datetime(2000, 3, 6, 7, 11, 13, 17), datetime(2004, 8, 27, 17, 41, 37, 59))
_NAMES = ("year", "month", "day", "hour", "minute", "second", "microsecond")


def _fields(text: str, whole: str, what: str | None) -> tuple[_Fields, tzinfo | None]:
    """The parts `text` writes, and the zone it names (an offset, or UTC), via dateutil."""
    from dateutil import parser as dtparser

    if _NAMED_OFFSET.search(text):
        raise _refuse(
            what,
            whole,
            ": an offset after a zone name is read with opposite signs by different programs",
            'Write the offset alone, e.g. "2026-12-24 10:00+03:00".',
        )
    if _WEEKDAY.search(text):
        raise _refuse(
            what, whole, ": a weekday could be this week's or next week's", 'Give the date, e.g. "2026-12-24 10:00".'
        )
    zones: list[tuple[str | None, int | None]] = []

    def tzinfos(name: str | None, offset: int | None) -> None:
        zones.append((name, offset))
        return None  # the parse stays naive; the zone is decided below

    parsed = []
    # dateutil warns (UnknownTimezoneWarning and others) instead of failing: nothing it says
    # reaches the user, the checks below decide.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for filler in _FILLERS:
            try:
                parsed.append(dtparser.parse(text, default=filler, tzinfos=tzinfos))
            except (ValueError, OverflowError):
                raise _refuse(what, whole) from None
    a, b = parsed
    fields = _Fields(**{n: getattr(a, n) if getattr(a, n) == getattr(b, n) else None for n in _NAMES})
    if fields.hour is None and not (fields.month is not None and fields.day is not None):
        if fields.has_date:
            raise _refuse(what, whole, ": the date is incomplete", 'Give year, month and day, e.g. "2026-12-24".')
        raise _refuse(what, whole)
    if fields.has_date and (fields.month is None or fields.day is None):
        raise _refuse(what, whole, ": the date is incomplete", 'Give year, month and day, e.g. "2026-12-24".')
    name, offset = zones[0] if zones else (None, None)
    if name is not None and name.upper() not in _UTC_NAMES:
        raise _refuse(
            what,
            whole,
            f": {name!r} is not a time zone postcli can tell apart",
            zone_hint(name) + " Pass it with --tz, or write the offset, e.g. -05:00.",
        )
    if name is not None:
        return fields, timezone.utc if not offset else timezone(timedelta(seconds=offset))
    return fields, None if offset is None else timezone(timedelta(seconds=offset))


def _localize(naive: datetime, tz: tzinfo, *, start_of_day: bool = False) -> Reading:
    """A wall-clock time in `tz` as UTC: refused in a DST gap, the first of two in a DST overlap (said so).

    `start_of_day` (a date without a time): the day's first instant, even where the clocks
    jump over midnight (fold=0 reads a time in the gap with the offset before it, which
    lands on the jump itself).
    """
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    if start_of_day or first.utcoffset() == second.utcoffset():
        return Reading(first.astimezone(timezone.utc))
    name = getattr(tz, "key", str(tz))
    if first.astimezone(timezone.utc).astimezone(tz).replace(tzinfo=None) != naive:
        raise InvalidInput(
            f"{naive:%Y-%m-%d %H:%M} does not exist in {name} (the clocks jump forward then).",
            hint="Pick a time outside the daylight-saving gap.",
        )
    took = first.astimezone(timezone.utc)
    note = (
        f"{naive:%Y-%m-%d %H:%M} happens twice in {name} (the clocks go back then): took the first, "
        f"{first.isoformat(sep=' ', timespec='minutes')} ({took:%H:%M} UTC). "
        f"For the second, write {second.isoformat(sep=' ', timespec='minutes')}."
    )
    return Reading(took, note)
