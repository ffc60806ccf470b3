"""Options shared by the report commands, and turning them into a Period.

Kept light (typer, stdlib, postcli.errors/settings): it is imported when the CLI
is built, before any command runs. Dates are read by postcli.timeparse (dateutil only when used).

Use in a command:

    def overview(period: PeriodOpt = None, since: SinceOpt = None, until: UntilOpt = None,
                 platform: PlatformOpt = None, account: AccountOpt = None, tz: TzOpt = None,
                 as_json: JsonOpt = False, as_csv: CsvOpt = False) -> None:
        fmt = output_format(as_json, as_csv)
        p = parse_period(period, since, until, tz)

It also holds the one set of value parsers every command uses (`parser=` on an
option or argument), so a value's rules and its error are the same everywhere:
empty text, ids and counts out of range, dates too far out, and one cap on the
length of any --since/--until range (MAX_RANGE_DAYS).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Callable, Optional

import typer

from postcli.cli import completion
from postcli.errors import InvalidInput
from postcli.settings import MAX_DAYS, MIN_DAYS
from postcli.timeparse import check_bounds

DEFAULT_PERIOD = "30d"
PERIOD_CHOICES = ("7d", "30d", "90d")

# Ids are 64-bit signed integers in SQLite and PostgreSQL.
MAX_ID = 2**63 - 1
# --limit, --page and friends: far beyond any real store, far below any overflow.
MAX_COUNT = 1_000_000
# The one cap on a report range (--period, --since/--until) and on `collect --days` / [collect]
# days: ten years. Reports build one bucket per day, so their cost grows with the range.
MAX_RANGE_DAYS = MAX_DAYS


# --- value parsers (typer `parser=`): one rule and one message per kind of value --


def _whole(text: str, low: int, high: int) -> int | None:
    """`text` as an int in [low, high], else None (no int() of a 5000-digit string: Python refuses those)."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(high)):
        return None
    number = int(text)
    return number if low <= number <= high else None


def text_value(value: str) -> str:
    """Any option whose emptiness would change meaning (--to, --at, --tz, --period, ...).

    An empty shell variable must not turn `--at "$WHEN"` into "publish now" or
    `--to "$WHO"` into "no targets".
    """
    if not value.strip():
        raise typer.BadParameter("is empty. Give a value, or leave the option out.")
    return value


def zone_value(value: str) -> str:
    """--tz: an IANA timezone name, checked when the command line is read (every command alike)."""
    from postcli.timeparse import zone

    text = text_value(value).strip()
    try:
        zone(text)
    except InvalidInput as exc:
        raise InvalidInput(f"{exc.message.rstrip('.')} (--tz).", hint=exc.hint) from None
    return text


def path_value(value: str | Path) -> Path:
    """A file or directory name; an empty one would silently mean "." (the current directory)."""
    if isinstance(value, Path):
        return value
    if not value.strip():
        raise typer.BadParameter("is empty. Give a path.")
    return Path(value)


def output_value(value: str) -> str:
    """A file postcli writes (--html, --png, -o, db backup FILE): the text as given, `-` for standard
    output; outfile.target checks it (a trailing / matters there, so it stays a string)."""
    if not value.strip():
        raise typer.BadParameter("is empty. Give a file name, or - for standard output.")
    return value


def id_value(value: str) -> int | str:
    """An id: a whole number 1..2^63-1. Other text is kept, so the command says "not found"."""
    text = value.strip()
    if not text:
        raise typer.BadParameter("is empty. Give an id (see the list command).")
    if text.isascii() and text.isdigit():
        number = _whole(text.lstrip("0") or "0", 1, MAX_ID)
        if number is None:
            raise typer.BadParameter(f"ids are whole numbers from 1 to {MAX_ID}.")
        return number
    return text


def ref_value(value: str) -> str:
    """An account reference: an id (bounded like id_value) or a handle."""
    text = value.strip()
    if not text:
        raise typer.BadParameter("is empty. Give an account id or handle (see `postcli accounts list`).")
    if text.isascii() and text.isdigit():
        id_value(text)
    return text


def count_value(value: str | int) -> int:
    """--limit, --page...: a whole number from 1 to MAX_COUNT (typer passes defaults through here too)."""
    number = _whole(str(value).strip().lstrip("0") or "0", 1, MAX_COUNT)
    if number is None:
        raise typer.BadParameter(f"is not a whole number from 1 to {MAX_COUNT:,}.")
    return number


def seconds_value(low: float, high: float) -> Callable[[str | float], float]:
    """A parser for a number of seconds from `low` to `high` (every float option).

    "inf", "nan" and "1e400" are floats to Python but no number of seconds: a wait on them
    overflows the clock (OverflowError) or never ends.
    """

    def parse(value: str | float) -> float:
        try:
            number = float(value.strip() if isinstance(value, str) else value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or not low <= number <= high:
            raise typer.BadParameter(f"is not a number of seconds from {low:g} to {high:,g}.")
        return number

    return parse


def days_value(value: str | int) -> int:
    """A number of days back (collect --days): the bounds of [collect] days (settings.py)."""
    number = _whole(str(value).strip().lstrip("0") or "0", MIN_DAYS, MAX_DAYS)
    if number is None:
        raise typer.BadParameter(f"is not a number of days from {MIN_DAYS} to {MAX_DAYS}.")
    return number


PeriodOpt = Annotated[
    Optional[str],
    typer.Option(
        "--period",
        metavar="7d|30d|90d",
        parser=text_value,
        help="How far back from now: 7d, 30d (default) or 90d (any number of days up to 3660, e.g. 14d).",
        show_default=False,
    ),
]
SinceOpt = Annotated[
    Optional[str],
    typer.Option(
        "--since",
        metavar="DATE",
        parser=text_value,
        help="Start (inclusive), e.g. 2024-03-01, yesterday or -7d; a date is its midnight in --tz."
        " A range spans at most 3660 days.",
    ),
]
UntilOpt = Annotated[
    Optional[str],
    typer.Option("--until", metavar="DATE", parser=text_value, help="End (exclusive), e.g. 2024-04-01; default now."),
]
PlatformOpt = Annotated[
    Optional[str],
    typer.Option(
        "--platform",
        "-p",
        metavar="PLATFORM",
        parser=text_value,
        autocompletion=completion.platforms,
        help="Only this platform (bluesky, mastodon, ...).",
    ),
]
AccountOpt = Annotated[
    Optional[str],
    typer.Option(
        "--account",
        "-a",
        metavar="ACCOUNT",
        parser=ref_value,
        autocompletion=completion.accounts,
        help="Only this account (id or handle).",
    ),
]
TzOpt = Annotated[
    Optional[str],
    typer.Option(
        "--tz",
        metavar="ZONE",
        parser=zone_value,
        help="Time zone the times you give and the times shown are in (IANA, e.g. Europe/Berlin);"
        " default: [defaults] timezone in the config, else UTC.",
    ),
]
# The one --json of every command: `as_json: JsonOpt = False`, or json_param() where a command
# is built from data (accounts add/login).
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print JSON (stable keys: docs/json.md; reports: docs/reports.md).")
]


def json_param() -> tuple[str, object, bool]:
    """--json as a (name, annotation, default) triple for cli/_connect.command_from."""
    return ("as_json", JsonOpt, False)


# `accounts add` and `accounts login` (cli/_connect.py): feeds services.accounts.add_account(insecure_http=)
# and services.signin.LoginRequest(insecure_http=), where the one URL check (urlcheck.py) reads it.
INSECURE_HTTP_HELP = (
    "Allow a plain http:// server URL that is not on this machine (the token then crosses "
    "the network unencrypted). Loopback (127.0.0.1, ::1, localhost) needs no flag."
)
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV (stable columns, see docs/reports.md).")]


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC, plus the timezone days and hours are shown in."""

    start: datetime
    end: datetime
    tz: str
    label: str  # "30d", or "since/until" for explicit bounds


def output_format(as_json: bool, as_csv: bool) -> str:
    if as_json and as_csv:
        raise InvalidInput("choose one of --json and --csv.")
    return "json" if as_json else "csv" if as_csv else "text"


def read_time(text: str, tz: str | None, *, option: str, now: datetime | None = None) -> datetime:
    """The one way a command reads a date or time (--at, --since, --until): timeparse.read in --tz,
    else the configured zone (settings.time_zone). An ambiguous local time is said on stderr."""
    from postcli import settings
    from postcli.timeparse import read

    reading = read(text, settings.time_zone(tz), what=option, now=now)
    if reading.note:
        from postcli import output

        output.warn(reading.note)
    return reading.at


def parse_days(period: str) -> int:
    m = re.fullmatch(r"\s*(\d{1,9})\s*d\s*", period.lower())
    if not m or not 1 <= int(m.group(1)) <= MAX_RANGE_DAYS:
        raise InvalidInput(
            f"invalid --period {period!r}.",
            hint=f"Use {', '.join(PERIOD_CHOICES)} (or another number of days from 1 to {MAX_RANGE_DAYS}, like 14d),"
            " or --since/--until.",
        )
    return int(m.group(1))


def check_range(start: datetime, end: datetime, *, capped: bool = True) -> None:
    """The one range guard: a non-empty range of at most MAX_RANGE_DAYS (every --since/--until).

    `capped=False` is for listings whose cost does not grow with the range (accounts metrics
    lists the snapshots stored): they only need start < end.
    """
    if start >= end:
        raise InvalidInput(
            f"the period is empty: --since ({start:%Y-%m-%d %H:%M} UTC) is not before "
            f"--until ({end:%Y-%m-%d %H:%M} UTC).",
            hint="Give a start earlier than the end.",
        )
    if capped and end - start > timedelta(days=MAX_RANGE_DAYS):
        raise InvalidInput(
            f"the period {start:%Y-%m-%d} to {end:%Y-%m-%d} spans {(end - start).days} days;"
            f" the limit is {MAX_RANGE_DAYS} (ten years).",
            hint="Ask for a shorter range, e.g. one year at a time.",
        )


def parse_period(
    period: str | None,
    since: str | None,
    until: str | None,
    tz: str | None,
    *,
    now: datetime | None = None,
) -> Period:
    """Turn the report options into [start, end) in UTC.

    --period counts back from --until (default now); --since alone ends now.
    """
    from postcli import settings
    from postcli.timeparse import zone as check_zone

    zone = settings.time_zone(tz)
    check_zone(zone)
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    if period is not None and since is not None:
        raise InvalidInput("use either --period or --since/--until, not both.")
    end = read_time(until, zone, now=now, option="--until") if until else now
    if since is not None:
        start = read_time(since, zone, now=now, option="--since")
        label = "custom"
    else:
        days = parse_days(period or DEFAULT_PERIOD)
        start = check_bounds(end - timedelta(days=days), f"--period {days}d")
        label = f"{days}d" if until is None else "custom"
    check_range(start, end)
    return Period(start=start, end=end, tz=zone, label=label)


def check_platform(platform: str | None) -> str | None:
    """Lower-cased platform name; InvalidInput for a name postcli does not know."""
    if platform is None:
        return None
    from postcli.services import platform_names

    name = platform.strip().lower()
    if not platform_names.is_known(name):
        known = platform_names.known()
        raise InvalidInput(f"unknown platform {platform!r}.", hint=f"Known platforms: {', '.join(sorted(known))}.")
    return name


POST_STATUSES = ("draft", "scheduled", "pending", "processing", "completed", "partial_success", "failed", "cancelled")


def check_post_filters(status: str | None, platform: str | None) -> tuple[str | None, str | None]:
    """`post list --status/--platform`: a typo is bad input (exit 2, choices listed), as in the reports."""
    if status is not None:
        wanted = status.strip().lower().replace("-", "_")
        if wanted not in POST_STATUSES:
            raise InvalidInput(f"unknown --status {status!r}.", hint=f"Use one of: {', '.join(POST_STATUSES)}.")
        status = wanted
    return status, check_platform(platform)
