"""Options shared by the report commands, and turning them into a Period.

Kept light (typer, stdlib, postcli.errors/settings): it is imported when the CLI
is built, before any command runs. dateutil is imported only when a date is parsed.

Use in a command:

    def overview(period: PeriodOpt = None, since: SinceOpt = None, until: UntilOpt = None,
                 platform: PlatformOpt = None, account: AccountOpt = None, tz: TzOpt = None,
                 as_json: JsonOpt = False, as_csv: CsvOpt = False) -> None:
        fmt = output_format(as_json, as_csv)
        p = parse_period(period, since, until, tz)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Annotated, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from postcli.errors import InvalidInput

DEFAULT_PERIOD = "30d"
PERIOD_CHOICES = ("7d", "30d", "90d")

DATE_FORMS = (
    "a date or time python-dateutil reads, e.g. 2024-03-01, 2024-03-01T14:30, "
    "'1 Mar 2024 14:30', 2024-03-01T14:30:00Z (with an offset), or today / yesterday / now"
)

PeriodOpt = Annotated[
    Optional[str],
    typer.Option(
        "--period",
        help="How far back from now: 7d, 30d (default) or 90d (any number of days, e.g. 14d).",
        show_default=False,
    ),
]
SinceOpt = Annotated[
    Optional[str],
    typer.Option("--since", help="Start (inclusive), e.g. 2024-03-01; dates are midnight in --tz."),
]
UntilOpt = Annotated[
    Optional[str],
    typer.Option("--until", help="End (exclusive), e.g. 2024-04-01; default now."),
]
PlatformOpt = Annotated[
    Optional[str], typer.Option("--platform", "-p", help="Only this platform (bluesky, mastodon, ...).")
]
AccountOpt = Annotated[Optional[str], typer.Option("--account", "-a", help="Only this account (id or handle).")]
TzOpt = Annotated[
    Optional[str],
    typer.Option("--tz", help="Timezone for days and hours (IANA, e.g. Europe/Berlin); default from config, else UTC."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (stable shape, see docs/reports.md).")]
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


def resolve_tz(tz: str | None) -> str:
    """--tz, else the configured timezone, else UTC; InvalidInput for an unknown zone."""
    if not tz:
        from postcli import settings

        tz = settings.config().timezone or "UTC"
        where = "the config file's [defaults] timezone"
    else:
        where = "--tz"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"unknown timezone {tz!r} ({where}).",
            hint="Use an IANA name such as UTC, Europe/Berlin or America/New_York.",
        ) from None
    return tz


def parse_days(period: str) -> int:
    m = re.fullmatch(r"\s*(\d{1,4})\s*d\s*", period.lower())
    if not m or int(m.group(1)) == 0:
        raise InvalidInput(
            f"invalid --period {period!r}.",
            hint=f"Use {', '.join(PERIOD_CHOICES)} (or another number of days like 14d), or --since/--until.",
        )
    return int(m.group(1))


def parse_when(value: str, tz: str, *, now: datetime, option: str = "--since") -> datetime:
    """A user's date/time as an aware UTC datetime; a time without an offset is in `tz`."""
    zone = ZoneInfo(tz)
    text = value.strip().lower()
    local_now = now.astimezone(zone)
    midnight = datetime.combine(local_now.date(), time(), tzinfo=zone)
    if text == "now":
        return now.astimezone(timezone.utc)
    if text == "today":
        return midnight.astimezone(timezone.utc)
    if text == "yesterday":
        return datetime.combine(local_now.date() - timedelta(days=1), time(), tzinfo=zone).astimezone(timezone.utc)
    from dateutil import parser

    try:
        # default= fills missing parts with today's midnight, so "2024-03-01" is local midnight.
        parsed = parser.parse(value, default=midnight.replace(tzinfo=None))
    except (ValueError, OverflowError):
        raise InvalidInput(f"cannot read {option} {value!r} as a date.", hint=f"Use {DATE_FORMS}.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(timezone.utc)


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
    zone = resolve_tz(tz)
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    if period is not None and since is not None:
        raise InvalidInput("use either --period or --since/--until, not both.")
    end = parse_when(until, zone, now=now, option="--until") if until else now
    if since is not None:
        start = parse_when(since, zone, now=now, option="--since")
        label = "custom"
    else:
        days = parse_days(period or DEFAULT_PERIOD)
        start = end - timedelta(days=days)
        label = f"{days}d" if until is None else "custom"
    if start >= end:
        raise InvalidInput(
            f"the period is empty: --since ({start:%Y-%m-%d %H:%M} UTC) is not before "
            f"--until ({end:%Y-%m-%d %H:%M} UTC).",
            hint="Give a start earlier than the end.",
        )
    return Period(start=start, end=end, tz=zone, label=label)


def check_platform(platform: str | None) -> str | None:
    """Lower-cased platform name; InvalidInput for a name postcli does not know."""
    if platform is None:
        return None
    from postcli.platforms import registry

    name = platform.strip().lower()
    known = set(registry.platform_names()) | set(registry.PLANNED)
    if name not in known:
        raise InvalidInput(f"unknown platform {platform!r}.", hint=f"Known platforms: {', '.join(sorted(known))}.")
    return name
