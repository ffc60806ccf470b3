"""Where postcli keeps things, and the user's configuration.

POSTCLI_HOME puts everything (database, config, credentials, media) under one
directory; otherwise platformdirs decides. POSTCLI_DATABASE_URL overrides the
database URL. The config file is TOML (`postcli config path` shows where).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from postcli.errors import BadSettings, InvalidInput

APP_NAME = "postcli"

DEFAULT_CONFIG_TEXT = """\
# postcli configuration. Every key is optional.

[defaults]
# IANA timezone for scheduling and reports, e.g. "Europe/Berlin". Default: UTC.
# timezone = "UTC"

[publish]
# max_attempts = 5            # per target, then the post is failed
# max_lateness_minutes = 1440 # a scheduled post later than this is failed, not published

[collect]
# days = 30                   # collect posts published in the last N days (1-3660)
# refresh_interval_minutes = 15
# max_attempts = 5            # per job, then dead-lettered
# concurrency = 8
# backoff_seconds = 2         # first retry delay after a failure, doubling each time
# min_interval_seconds = 60   # an item collected this recently is not fetched again
# lease_seconds = 300         # a claim holds its jobs this long before another collector may take them
# max_rate_wait_seconds = 30  # a rate limit lifting sooner is waited out; a later one defers the account (exit 5)

[collect.rate_limits]
# Requests per account shared by every collector, as "REQUESTS/SECONDS".
# bluesky = "3000/300"
# mastodon = "300/300"
# threads = "200/3600"
# instagram = "200/3600"
# facebook = "200/3600"
# tumblr = "1000/3600"
# youtube = "10000/86400"     # quota units a day per Google Cloud project, reset at midnight Pacific

[network]
# timeout_seconds = 30        # per request (POSTCLI_TIMEOUT overrides)

[graph]
# version = "v27.0"           # Meta Graph API version for Facebook and Instagram
                              # (one account: postcli accounts add ... --graph-version)

[apps.threads]
# Your own app's credentials for `postcli accounts login PLATFORM` (docs/signin.md);
# POSTCLI_<PLATFORM>_CLIENT_ID / _CLIENT_SECRET override them. One table per platform; some
# platforms read more keys here (docs/platforms/<platform>.md), e.g. an API version.
# client_id = "..."
# client_secret = "..."

[s3]
# bucket = "my-media"
# region = "eu-central-1"
# endpoint_url = "https://s3.example.com"
# presign_expiry_seconds = 86400
"""


@dataclass(frozen=True)
class Paths:
    data_dir: Path
    config_dir: Path

    @property
    def database(self) -> Path:
        return self.data_dir / "postcli.db"

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def credentials_file(self) -> Path:
        return self.config_dir / "credentials.json"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    def own_files(self, store: Path | None = None) -> list[tuple[Path, str, bool]]:
        """Every file and folder postcli keeps, as (path, what it is, is a folder): the output-file
        writer (outfile.py) never writes over them. `store`: a SQLite store named by
        POSTCLI_DATABASE_URL, kept wherever that says."""
        found: list[tuple[Path, str, bool]] = []
        for db in dict.fromkeys(p for p in (self.database, store) if p is not None):
            found.append((db, "postcli's store", False))
            for suffix, what in (("-wal", "write-ahead log"), ("-shm", "shared memory"), ("-journal", "journal")):
                found.append((Path(f"{db}{suffix}"), f"the {what} of postcli's store", False))
        found += [
            (self.config_file, "postcli's config file", False),
            (self.credentials_file, "postcli's credentials file", False),
            (self.credentials_file.with_suffix(".lock"), "the lock of postcli's credentials file", False),
            # platforms/sandbox.py keeps the simulated network's state here.
            (self.data_dir / "sandbox.json", "the sandbox network's state", False),
            (self.data_dir / "sandbox.json.lock", "the lock of the sandbox network's state", False),
            (self.media_dir, "inside postcli's media store", True),
            (self.data_dir / "cache", "inside postcli's cache", True),  # services/media.py
            (self.config_dir / "locks", "inside postcli's locks folder", True),  # credentials.py
        ]
        return found


def paths() -> Paths:
    home = os.environ.get("POSTCLI_HOME")
    if home:
        root = Path(home).expanduser()
        if root.exists() and not root.is_dir():
            raise BadSettings(
                f"POSTCLI_HOME={home} is a file, not a directory.",
                hint="Point POSTCLI_HOME at a directory (it is created if missing), or unset it.",
            )
        return Paths(data_dir=root, config_dir=root)
    import platformdirs

    return Paths(
        data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
    )


_URL_HINT = "e.g. postgresql+psycopg://user:password@host:5432/postcli or sqlite:////path/to/postcli.db; or unset it."


def database_url() -> str:
    url = os.environ.get("POSTCLI_DATABASE_URL")
    if url is None or url == "":
        return f"sqlite:///{paths().database}"
    scheme, sep, _rest = url.strip().partition("://")
    if not sep:
        # Not even a scheme: say so without echoing what may hold a password.
        raise BadSettings("POSTCLI_DATABASE_URL is not a database URL.", hint=_URL_HINT)
    backend = scheme.split("+", 1)[0].lower()
    if backend not in ("sqlite", "postgres", "postgresql"):
        raise BadSettings(
            f"POSTCLI_DATABASE_URL names a {backend!r} database; postcli stores in SQLite or PostgreSQL.",
            hint=_URL_HINT,
        )
    if backend != "sqlite":
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(url.strip())
            parts.port  # noqa: B018 - a port that is not a number raises here
        except ValueError as exc:
            # urlsplit's words ("Invalid IPv6 URL", "Port could not be cast...") never quote the URL.
            raise BadSettings(f"POSTCLI_DATABASE_URL cannot be read: {exc}.", hint=_URL_HINT) from None
    return url.strip()


# --- the config file -------------------------------------------------------------
# One table says which keys exist, their shape and their bounds. Command-line options
# that set the same thing use the same bounds (MIN_* below), so a value refused on the
# command line is refused in config.toml too. To add a setting, add a row here and a
# field to Config.

MIN_ATTEMPTS = 1  # [publish]/[collect] max_attempts: 0 would fail everything untried
MIN_LATENESS_MINUTES = 1  # [publish] max_lateness_minutes: 0 would expire every scheduled post
MIN_CONCURRENCY = 1  # [collect] concurrency and `collect --concurrency`
# [collect] days and `collect --days`; MAX_DAYS (ten years) is also the cap on a report's range.
MIN_DAYS = 1
MAX_DAYS = 3660


@dataclass(frozen=True)
class Rule:
    """One setting: the Config field it fills, its type and its bounds (inclusive unless `above`)."""

    attr: str
    kind: type  # int or float (a float setting takes whole numbers too) or str
    low: float | None = None
    above: bool = False  # low is exclusive: the value must be greater than it
    high: float | None = None

    def check(self, value: Any, where: str) -> Any:
        if self.kind is str:
            if not isinstance(value, str):
                raise BadSettings(f"{where} must be a string, not {value!r}.")
            return value
        kinds = (int,) if self.kind is int else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            what = "a whole number" if self.kind is int else "a number"
            raise BadSettings(f"{where} must be {what}, not {value!r}.")
        if value != value or value in (float("inf"), float("-inf")):
            raise BadSettings(f"{where} must be a finite number, not {value!r}.")
        if self.low is not None and (value <= self.low if self.above else value < self.low):
            op = ">" if self.above else ">="
            low = int(self.low) if float(self.low).is_integer() else self.low
            raise BadSettings(f"{where} must be {op} {low}, not {value!r}.")
        if self.high is not None and value > self.high:
            raise BadSettings(f"{where} must be at most {self.high:g}, not {value!r}.")
        return self.kind(value)


# section -> key -> Rule. A section mapped to a set of key names is read by its own module
# ([s3]: services/s3store.py, [credentials]: credentials.py), which checks the values; here
# only its shape and unknown keys.
SCHEMA: dict[str, dict[str, Rule] | set[str]] = {
    "defaults": {"timezone": Rule("timezone", str)},
    "publish": {
        "max_attempts": Rule("publish_max_attempts", int, MIN_ATTEMPTS),
        "max_lateness_minutes": Rule("publish_max_lateness_minutes", int, MIN_LATENESS_MINUTES),
    },
    "collect": {
        "days": Rule("collect_days", int, MIN_DAYS, high=MAX_DAYS),
        "refresh_interval_minutes": Rule("refresh_interval_minutes", int, 0),
        "max_attempts": Rule("collect_max_attempts", int, MIN_ATTEMPTS),
        "concurrency": Rule("collect_concurrency", int, MIN_CONCURRENCY),
        "backoff_seconds": Rule("collect_backoff_seconds", float, 0),
        "min_interval_seconds": Rule("collect_min_interval_seconds", float, 0),
        "lease_seconds": Rule("collect_lease_seconds", float, 0, above=True),
        "max_rate_wait_seconds": Rule("collect_max_rate_wait_seconds", float, 0),
    },
    "graph": {"version": Rule("graph_version", str)},
    "doctor": {
        "expiry_warning_days": Rule("doctor_expiry_warning_days", float, 0),
        "publish_every_minutes": Rule("doctor_publish_every_minutes", float, 0, above=True),
        "collect_every_minutes": Rule("doctor_collect_every_minutes", float, 0, above=True),
    },
    # Read and checked by services/notify.py (events is a list; webhook_secret a secret).
    "notify": {"command", "webhook", "webhook_secret", "events", "timeout_seconds"},
    "apps": {},  # one sub-table per platform (below), read by app_config()
    "network": {"timeout_seconds": Rule("timeout_seconds", float, 0, above=True)},
    "s3": {"bucket", "region", "endpoint_url", "presign_expiry_seconds", "prefix", "addressing_style"},
    "credentials": {"backend"},
}
# Sub-tables inside a section, read by their own module (the values are checked there).
SUBTABLES: dict[str, set[str]] = {
    "collect": {"rate_limits"},
    # One [apps.PLATFORM] per platform: any name (plugins add platforms); read by services/signin.py
    # and, for the settings an adapter takes (AccountContext.app_setting), services/accounts.py.
    "apps": {"*"},
}


@dataclass(frozen=True)
class Config:
    timezone: str = "UTC"
    publish_max_attempts: int = 5
    publish_max_lateness_minutes: int = 1440
    collect_days: int = 30
    refresh_interval_minutes: int = 15
    collect_max_attempts: int = 5
    collect_concurrency: int = 8
    collect_backoff_seconds: float = 2.0
    # An item collected this recently is not fetched again by an overlapping run.
    collect_min_interval_seconds: float = 60.0
    # How long a claim holds its jobs before another collector may take them.
    collect_lease_seconds: float = 300.0
    # A rate limit that lifts within this is waited out in-process; a later one defers the account.
    collect_max_rate_wait_seconds: float = 30.0
    timeout_seconds: float = 30.0
    graph_version: str | None = None  # [graph] version; None: the adapters' default
    # [doctor]: warn this long before a token or session ends; how often cron runs the jobs.
    doctor_expiry_warning_days: float = 7.0
    doctor_publish_every_minutes: float = 5.0
    doctor_collect_every_minutes: float = 120.0
    s3: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    # Unknown keys and the like: worth a warning, not worth refusing to run.
    warnings: tuple[str, ...] = ()


def _did_you_mean(name: str, known: Any) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _read_toml(path: Path) -> dict[str, Any]:
    fix = f"Fix it, or move it aside and run `postcli config init` for a fresh one ({path})."
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise BadSettings(f"config file {path} is not valid TOML: {exc}", hint=fix) from None
    except UnicodeDecodeError:
        raise BadSettings(f"config file {path} is not UTF-8 text.", hint=fix) from None
    except IsADirectoryError:
        raise BadSettings(f"config file {path} is a directory, not a file.", hint=fix) from None
    except PermissionError:
        raise BadSettings(
            f"config file {path} cannot be read (permission denied).",
            hint=f"Make it readable by this user (chmod u+r {path}).",
        ) from None


def _validate(data: dict[str, Any], path: Path) -> tuple[dict[str, Any], list[str]]:
    values: dict[str, Any] = {}
    warnings: list[str] = []
    for section, content in data.items():
        if section not in SCHEMA:
            warnings.append(
                f"config file {path}: unknown section [{section}]{_did_you_mean(section, SCHEMA)}; ignored."
            )
            continue
        if not isinstance(content, dict):
            raise BadSettings(
                f"config file {path}: {section} must be a table ([{section}] on a line of its own), not {content!r}.",
                hint=f"Put its settings under a [{section}] header; `postcli config init` writes an example.",
            )
        rules = SCHEMA[section]
        for key, value in content.items():
            if key in SUBTABLES.get(section, set()) or "*" in SUBTABLES.get(section, set()):
                if not isinstance(value, dict):
                    raise BadSettings(f"config file {path}: [{section}.{key}] must be a table, not {value!r}.")
                continue
            rule = rules.get(key) if isinstance(rules, dict) else None
            if rule is None and key in rules:
                continue  # checked by the module that reads the section
            if rule is None:
                known = list(rules) + sorted(SUBTABLES.get(section, ()))
                warnings.append(
                    f"config file {path}: unknown key {key!r} in [{section}]{_did_you_mean(key, known)}; ignored."
                )
                continue
            try:
                values[rule.attr] = rule.check(value, f"config file {path}: [{section}] {key}")
            except BadSettings as exc:
                raise BadSettings(
                    exc.message, hint=f"Edit {path} (every key is optional: delete it for the default)."
                ) from None
    tz = values.get("timezone")
    if tz is not None:
        _check_zone(tz, f"config file {path}: [defaults] timezone")
    return values, warnings


def _check_zone(name: str, where: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError, UnicodeError):
        raise BadSettings(f"{where} {name!r} is not an IANA timezone.", hint='e.g. "Europe/Berlin" or "UTC".') from None


GRAPH_VERSION_PATTERN = r"v\d{1,3}\.\d{1,2}"  # as Graph spells its versions: "v27.0"


def check_graph_version(value: str, where: str, error: type[InvalidInput] = BadSettings) -> str:
    """`value` stripped when it is a Graph API version; else `error` naming `where`.
    The one check for [graph] version, --graph-version and the adapters' settings."""
    import re

    if not re.fullmatch(GRAPH_VERSION_PATTERN, value.strip()):
        raise error(f'{where} must look like "v27.0", not {value!r}.', hint="Meta's versions: v27.0, v26.0, ...")
    return value.strip()


@lru_cache(maxsize=None)
def _load(path: Path, mtime: float) -> Config:
    data = _read_toml(path)
    values, warnings = _validate(data, path)
    if "graph_version" in values:
        values["graph_version"] = check_graph_version(values["graph_version"], f"config file {path}: [graph] version")
    for text in warnings:
        notice(text)
    return Config(**values, s3=dict(data.get("s3", {})), raw=data, warnings=tuple(warnings))


def time_zone(given: str | None = None) -> str:
    """The zone times are read and shown in: `given` (--tz), else [defaults] timezone, else UTC.

    The one place this rule is written: --at, --since/--until and every time a table shows.
    """
    return given or config().timezone or "UTC"


def timeout() -> float:
    env = os.environ.get("POSTCLI_TIMEOUT")
    if env:
        try:
            value = float(env)
        except ValueError:
            raise BadSettings(
                f"POSTCLI_TIMEOUT={env!r} is not a number of seconds.", hint="e.g. POSTCLI_TIMEOUT=30, or unset it."
            ) from None
        if not value > 0 or value == float("inf"):
            raise BadSettings(
                f"POSTCLI_TIMEOUT={env!r} must be a number of seconds > 0.",
                hint="e.g. POSTCLI_TIMEOUT=30, or unset it.",
            )
        return value
    return config().timeout_seconds


def config() -> Config:
    path = paths().config_file
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return Config()
    except NotADirectoryError:
        raise BadSettings(
            f"{path.parent} is not a directory, so {path.name} cannot be in it.",
            hint="Point POSTCLI_HOME at a directory.",
        ) from None
    return _load(path, mtime)


def app_config(platform: str) -> dict[str, str]:
    """The config file's [apps.PLATFORM] table: client_id and client_secret for browser sign-in, and
    what a platform's sign-in or adapter reads besides (Facebook's config_id, an API version)."""
    table = config().raw.get("apps", {})
    section = table.get(platform, {}) if isinstance(table, dict) else None
    if not isinstance(section, dict):
        raise BadSettings(f"config: [apps.{platform}] must be a table with client_id and client_secret.")
    for key, value in section.items():
        if not isinstance(value, str) or not value.strip():
            raise BadSettings(f"config: [apps.{platform}] {key} must be a non-empty string.")
    return {k: v.strip() for k, v in section.items()}


def write_private_text(path: Path, text: str) -> None:
    """Write a file whole or not at all (a temporary file renamed over it), mode 0600:
    a failure (a read-only home, a full disk) leaves nothing half-written behind."""
    import tempfile

    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:  # name the file the user asked for, not the temporary one
        raise type(exc)(exc.errno, exc.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- notices ------------------------------------------------------------------------
# Warnings found below the CLI (an unknown config key, a credentials file that was not
# private) are queued here and printed by the CLI, so services and settings never print.

_notices: list[str] = []


def notice(text: str) -> None:
    if text not in _notices:
        _notices.append(text)


def take_notices() -> list[str]:
    out = list(_notices)
    del _notices[: len(out)]
    return out
