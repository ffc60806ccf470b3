"""Weekly slots: their text form, and when they fall.

SLOTS reads like "mon-fri 09:00,17:30; sat 11:00": groups separated by ";" (or a new line),
each a day list (a day, a range "mon-fri" that may wrap "fri-mon", "daily", "weekdays",
"weekends", or several separated by ",") followed by times "HH:MM" separated by ",".

Slots are wall-clock times in the queue's zone. A slot that a DST change skips (the spring
gap) falls on the next valid minute; one that happens twice (the autumn hour) takes the first
occurrence (docs/queue.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Iterator

from postcli.errors import InvalidInput

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ALIASES = {
    "daily": list(range(7)),
    "everyday": list(range(7)),
    "weekdays": list(range(5)),
    "weekends": [5, 6],
}
_TIME = re.compile(r"^([01]?\d|2[0-3])(?::|h)?([0-5]\d)$")
HINT = 'For example "mon-fri 09:00,17:30; sat 11:00" (days mon..sun, ranges, daily, weekdays, weekends).'


@dataclass(frozen=True, order=True)
class Slot:
    weekday: int  # 0 = Monday
    minute: int  # minutes after midnight, wall clock

    @property
    def clock(self) -> time:
        return time(self.minute // 60, self.minute % 60)

    def __str__(self) -> str:
        return f"{DAYS[self.weekday]} {self.clock:%H:%M}"


def _day(word: str) -> int:
    w = word.strip().lower()[:3]
    if w not in DAYS:
        raise InvalidInput(f"{word!r} is not a day.", hint=HINT)
    return DAYS.index(w)


def _days(text: str) -> list[int]:
    out: list[int] = []
    for part in [p for p in text.split(",") if p.strip()]:
        part = part.strip().lower()
        if part in _ALIASES:
            out += _ALIASES[part]
        elif "-" in part:
            first, last = (_day(x) for x in part.split("-", 1))
            n = (last - first) % 7
            out += [(first + i) % 7 for i in range(n + 1)]
        else:
            out.append(_day(part))
    if not out:
        raise InvalidInput("a slot group has no days.", hint=HINT)
    return out


def _minutes(text: str) -> int:
    m = _TIME.match(text.strip().lower().replace(".", ":"))
    if not m:
        raise InvalidInput(f"{text.strip()!r} is not a time of day (HH:MM).", hint=HINT)
    return int(m.group(1)) * 60 + int(m.group(2))


def parse(text: str) -> list[Slot]:
    """The slots in `text`, sorted, each once; InvalidInput (exit 2) naming the bad part."""
    groups = [g for g in re.split(r"[;\n]", text or "") if g.strip()]
    if not groups:
        raise InvalidInput("no slots given.", hint=HINT)
    slots: set[Slot] = set()
    for group in groups:
        words = group.strip().split(None, 1)
        if len(words) != 2:
            raise InvalidInput(f"the slot group {group.strip()!r} needs days and times.", hint=HINT)
        days, times = words
        for d in _days(days):
            for t in [t for t in times.replace(" ", "").split(",") if t]:
                slots.add(Slot(d, _minutes(t)))
    return sorted(slots)


def render(slots: list[Slot]) -> str:
    """The canonical text of `slots` (what `queue show` prints and the store keeps)."""
    by_times: dict[tuple[int, ...], list[int]] = {}
    for day in range(7):
        minutes = tuple(sorted(s.minute for s in slots if s.weekday == day))
        if minutes:
            by_times.setdefault(minutes, []).append(day)
    groups = []
    for minutes, days in sorted(by_times.items(), key=lambda kv: kv[1][0]):
        times = ",".join(f"{m // 60:02d}:{m % 60:02d}" for m in minutes)
        groups.append(f"{_render_days(days)} {times}")
    return "; ".join(groups)


def _render_days(days: list[int]) -> str:
    runs: list[list[int]] = []
    for d in days:
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    return ",".join(DAYS[r[0]] if len(r) == 1 else f"{DAYS[r[0]]}-{DAYS[r[-1]]}" for r in runs)


def wall_to_utc(day: date, minute: int, tz: tzinfo) -> datetime:
    """The moment a wall-clock slot falls on `day`: a skipped time moves to the next valid minute,
    a repeated one takes its first occurrence (fold=0)."""
    naive = datetime.combine(day, time(minute // 60, minute % 60))
    for shift in range(0, 24 * 60):  # a gap is at most a few hours; bounded all the same
        candidate = naive + timedelta(minutes=shift)
        aware = candidate.replace(tzinfo=tz, fold=0)
        if aware.astimezone(timezone.utc).astimezone(tz).replace(tzinfo=None) == candidate:
            return aware.astimezone(timezone.utc)
    raise AssertionError("no valid minute in a day")  # pragma: no cover - no zone skips a day


def occurrences(slots: list[Slot], tz: tzinfo, start: datetime, end: datetime) -> Iterator[datetime]:
    """Every slot time (aware UTC) with start < t <= end, in order."""
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date() + timedelta(days=1)
    day = first
    seen = []
    while day <= last:
        for s in slots:
            if s.weekday == day.weekday():
                moment = wall_to_utc(day, s.minute, tz)
                if start < moment <= end:
                    seen.append(moment)
        day += timedelta(days=1)
    yield from sorted(set(seen))
