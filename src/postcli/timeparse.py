"""Reading times people type: "2026-12-01 09:00", "tomorrow 9:00", "+2h", "in 30 minutes"."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from postcli.errors import InvalidInput

ACCEPTED = (
    'an ISO date/time ("2026-12-01 09:00", "2026-12-01T09:00+01:00"), '
    'a relative time ("+2h", "+30m", "+1d", "in 45 minutes"), '
    'or "today 18:00" / "tomorrow 9:00"'
)

# Every date a user gives lies in [EARLIEST, LATEST): far enough from datetime's
# limits (years 1 and 9999) that showing it in any timezone (UTC-12..UTC+14), or
# adding a report's days to it, cannot overflow.
EARLIEST = datetime(1900, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(9000, 1, 1, tzinfo=timezone.utc)


def check_bounds(moment: datetime, what: str) -> datetime:
    """`moment` (aware) if it lies in [EARLIEST, LATEST); InvalidInput naming `what` otherwise."""
    if not EARLIEST <= moment < LATEST:
        raise InvalidInput(
            f"{what} is out of range: postcli takes dates from {EARLIEST:%Y-%m-%d} to 8999-12-31.",
            hint="Give a date within that range.",
        )
    return moment


_REL = re.compile(
    r"^(?:\+|in\s+)\s*(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hrs?|hours?|d|days?|w|weeks?)$",
    re.IGNORECASE,
)
_DAYWORD = re.compile(r"^(today|tomorrow)(?:\s+(?:at\s+)?(.+))?$", re.IGNORECASE)


def zone(name: str | None) -> tzinfo:
    if not name or name.upper() == "UTC":
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"unknown timezone {name!r}.",
            hint='Use an IANA name such as "Europe/Berlin", "America/New_York" or "UTC".',
        ) from None


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


def localize(naive: datetime, tz: tzinfo) -> datetime:
    """Attach a zone to a wall-clock time, refusing times a DST change skips."""
    aware = naive.replace(tzinfo=tz)
    if isinstance(tz, ZoneInfo):
        roundtrip = aware.astimezone(timezone.utc).astimezone(tz).replace(tzinfo=None)
        if roundtrip != naive:
            raise InvalidInput(
                f"{naive:%Y-%m-%d %H:%M} does not exist in {tz.key} (the clocks jump forward then).",
                hint="Pick a time outside the daylight-saving gap.",
            )
    return aware


def parse_when(text: str, tz_name: str | None, now: datetime | None = None) -> datetime:
    """A moment in UTC. Times without an offset are wall-clock times in `tz_name`."""
    tz = zone(tz_name)
    now = now or datetime.now(timezone.utc)
    try:
        return check_bounds(_parse(text, tz, now), repr(text))
    except (OverflowError, ValueError):  # "+99999999d", or a wall-clock time next to year 9999
        raise InvalidInput(
            f"the time {text!r} is out of range: postcli takes dates from {EARLIEST:%Y-%m-%d} to 8999-12-31.",
            hint="Give a time within that range.",
        ) from None


def _parse(text: str, tz: tzinfo, now: datetime) -> datetime:
    from dateutil import parser as dtparser

    raw = text.strip()
    if len(raw) >= 16 and raw[4:5] == "-" and raw[10:11] in (" ", "T"):
        # A full ISO date and time: nothing for dateutil to guess (and a bulk import reads
        # thousands of them).
        try:
            iso = datetime.fromisoformat(raw)
        except ValueError:
            iso = None
        if iso is not None:
            return iso.astimezone(timezone.utc) if iso.tzinfo else localize(iso, tz).astimezone(timezone.utc)
    m = _REL.match(raw)
    if m:
        return now + timedelta(**{_unit(m.group(2)): float(m.group(1))})
    m = _DAYWORD.match(raw)
    if m:
        local_now = now.astimezone(tz)
        day = local_now.date() + timedelta(days=1 if m.group(1).lower() == "tomorrow" else 0)
        clock = m.group(2) or "09:00"
        try:
            t = dtparser.parse(clock).time()
        except (ValueError, OverflowError):
            raise InvalidInput(f"cannot read the time {clock!r} in {text!r}.", hint=f"Use {ACCEPTED}.") from None
        return localize(datetime.combine(day, t), tz).astimezone(timezone.utc)
    try:
        parsed = dtparser.parse(raw)
    except (ValueError, OverflowError):
        raise InvalidInput(f"cannot read the time {text!r}.", hint=f"Use {ACCEPTED}.") from None
    if parsed.tzinfo is None:
        parsed = localize(parsed, tz)
    return parsed.astimezone(timezone.utc)
