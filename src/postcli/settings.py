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

from postcli.errors import InvalidInput

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
# days = 30                   # collect posts published in the last N days
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

[network]
# timeout_seconds = 30        # per request (POSTCLI_TIMEOUT overrides)

[graph]
# version = "v27.0"           # Meta Graph API version for Facebook and Instagram
                              # (one account: postcli accounts add ... --graph-version)

[apps.threads]
# Your own app's credentials for `postcli accounts login PLATFORM` (docs/signin.md);
# POSTCLI_<PLATFORM>_CLIENT_ID / _CLIENT_SECRET override them. One table per platform.
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


def paths() -> Paths:
    home = os.environ.get("POSTCLI_HOME")
    if home:
        root = Path(home).expanduser()
        return Paths(data_dir=root, config_dir=root)
    import platformdirs

    return Paths(
        data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
    )


def database_url() -> str:
    url = os.environ.get("POSTCLI_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{paths().database}"


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
    s3: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


def _int(section: dict[str, Any], key: str, default: int, where: str) -> int:
    value = section.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidInput(f"config: [{where}] {key} must be a whole number >= 0, not {value!r}.")
    return value


def _number(section: dict[str, Any], key: str, default: float, where: str) -> float:
    value = section.get(key, default)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise InvalidInput(f"config: [{where}] {key} must be a number >= 0, not {value!r}.")
    return float(value)


def _positive(section: dict[str, Any], key: str, default: float, where: str) -> float:
    value = section.get(key, default)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise InvalidInput(f"config: [{where}] {key} must be a number > 0, not {value!r}.")
    return float(value)


def _graph_version(section: dict[str, Any]) -> str | None:
    value = section.get("version")
    if value is None:
        return None
    import re

    if not isinstance(value, str) or not re.fullmatch(r"v\d{1,3}\.\d{1,2}", value.strip()):
        raise InvalidInput(f'config: [graph] version must look like "v27.0", not {value!r}.')
    return value.strip()


@lru_cache(maxsize=None)
def _load(path: Path, mtime: float) -> Config:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"config file {path} is not valid TOML: {exc}", hint="Fix or delete the file.") from None
    defaults = data.get("defaults", {})
    publish = data.get("publish", {})
    collect = data.get("collect", {})
    tz = defaults.get("timezone", "UTC")
    if not isinstance(tz, str):
        raise InvalidInput(f"config: [defaults] timezone must be a string like 'Europe/Berlin', not {tz!r}.")
    return Config(
        timezone=tz,
        publish_max_attempts=_int(publish, "max_attempts", 5, "publish"),
        publish_max_lateness_minutes=_int(publish, "max_lateness_minutes", 1440, "publish"),
        collect_days=_int(collect, "days", 30, "collect"),
        refresh_interval_minutes=_int(collect, "refresh_interval_minutes", 15, "collect"),
        collect_max_attempts=_int(collect, "max_attempts", 5, "collect"),
        collect_concurrency=max(1, _int(collect, "concurrency", 8, "collect")),
        collect_backoff_seconds=_number(collect, "backoff_seconds", 2.0, "collect"),
        collect_min_interval_seconds=_number(collect, "min_interval_seconds", 60.0, "collect"),
        collect_lease_seconds=_positive(collect, "lease_seconds", 300.0, "collect"),
        collect_max_rate_wait_seconds=_number(collect, "max_rate_wait_seconds", 30.0, "collect"),
        timeout_seconds=_number(data.get("network", {}), "timeout_seconds", 30.0, "network"),
        graph_version=_graph_version(data.get("graph", {})),
        s3=dict(data.get("s3", {})),
        raw=data,
    )


def timeout() -> float:
    env = os.environ.get("POSTCLI_TIMEOUT")
    if env:
        try:
            value = float(env)
        except ValueError:
            raise InvalidInput(f"POSTCLI_TIMEOUT={env!r} is not a number of seconds.") from None
        if value > 0:
            return value
    return config().timeout_seconds


def config() -> Config:
    path = paths().config_file
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return Config()
    return _load(path, mtime)


def app_config(platform: str) -> dict[str, str]:
    """The config file's [apps.PLATFORM] table: client_id and client_secret for browser sign-in."""
    table = config().raw.get("apps", {})
    section = table.get(platform, {}) if isinstance(table, dict) else None
    if not isinstance(section, dict):
        raise InvalidInput(f"config: [apps.{platform}] must be a table with client_id and client_secret.")
    for key in ("client_id", "client_secret"):
        value = section.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise InvalidInput(f"config: [apps.{platform}] {key} must be a non-empty string.")
    return {k: section[k].strip() for k in ("client_id", "client_secret") if section.get(k)}
