"""`postcli doctor`: everything unattended use depends on, one check a line, each failing one
with the command or setting that fixes it (docs/design.md, "Never silent").

It changes nothing but its own row in `runs` ("since the last doctor run"): the store is
opened without upgrading it, file modes are read before anything could fix them, and only
`--live` probes (and so refreshes) accounts, exactly as `accounts health` does.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from postcli import settings
from postcli.errors import EXIT_ERROR, EXIT_OK, EXIT_RECONNECT, PostcliError

LOW_DISK = 100 * 1024 * 1024  # bytes free at the store's location below which doctor warns


@dataclass
class Check:
    name: str
    status: str  # ok | warn | fail
    message: str
    fix: str | None = None
    reconnect: bool = False  # a failing check that is an account to reconnect (exit 6)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "message": self.message, "fix": self.fix}


@dataclass
class DoctorReport:
    checks: list[Check] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 all good (warnings alone too), 6 when an account needs reconnecting, 1 otherwise."""
        failing = [c for c in self.checks if c.status == "fail"]
        if not failing:
            return EXIT_OK
        if all(c.reconnect for c in failing):
            return EXIT_RECONNECT
        return EXIT_ERROR

    def as_json(self) -> dict[str, Any]:
        return {"checks": [c.as_json() for c in self.checks], "exit_code": self.exit_code}


def _mode_check(path: Path, what: str) -> Check | None:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return Check(f"{what} file mode", "fail", f"cannot read {path}: {exc.strerror}.", "Check the file's owner.")
    if mode & 0o077:
        return Check(
            f"{what} file mode",
            "fail",
            f"{path} is readable by others (mode {mode:04o}).",
            f"chmod 600 {path}",
        )
    return Check(f"{what} file mode", "ok", f"{path} is private (0600).")


def file_modes() -> list[Check]:
    """Read before anything loads (and so silently fixes) them."""
    paths = settings.paths()
    checks = []
    url = settings.database_url()
    if url.startswith("sqlite"):
        db = paths.database if url == f"sqlite:///{paths.database}" else Path(url.split("///", 1)[-1])
        for path, what in ((db, "store"), (db.with_name(db.name + "-wal"), "store journal")):
            checks.append(_mode_check(path, what))
    checks.append(_mode_check(paths.config_file, "config"))
    checks.append(_mode_check(paths.credentials_file, "credentials"))
    return [c for c in checks if c is not None]


def store_checks() -> list[Check]:
    from postcli.store import driver

    url = settings.database_url()
    checks: list[Check] = []
    if url.startswith("sqlite"):
        path = settings.paths().database if url.count("/") < 3 else Path(url.split("///", 1)[-1])
        if not path.exists():
            return [
                Check(
                    "store",
                    "warn",
                    f"there is no store yet at {path}.",
                    "Any command creates it, e.g. postcli accounts list",
                )
            ]
        try:
            conn = _read_only(path)
        except Exception as exc:  # noqa: BLE001 - a damaged file is what this check is for
            return [
                Check("store", "fail", f"cannot open {path}: {exc}.", "Restore it from a backup (postcli db backup).")
            ]
        try:
            rev = driver.read_revision(conn, "sqlite", lambda: str(path))
            quick = conn.execute("PRAGMA quick_check").fetchone()
        except Exception as exc:  # noqa: BLE001
            return [
                Check("store", "fail", f"cannot read {path}: {exc}.", "Restore it from a backup (postcli db backup).")
            ]
        finally:
            conn.close()
        checks.append(Check("store", "ok", f"SQLite store at {path} opens."))
        if quick is None or quick[0] != "ok":
            checks.append(
                Check(
                    "store integrity",
                    "fail",
                    f"integrity check: {quick[0] if quick else 'no answer'}.",
                    "Restore it from a backup (postcli db backup).",
                )
            )
        else:
            checks.append(Check("store integrity", "ok", "quick integrity check passed."))
        checks.append(_revision(rev))
        checks.append(_disk(path.parent))
    else:
        checks.extend(_postgres(url))
    return checks


def _read_only(path: Path) -> Any:
    """The store opened only to read: doctor changes nothing (not even the journal mode)."""
    import sqlite3
    from urllib.parse import quote

    return sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=10)


def _revision(rev: str | None) -> Check:
    from postcli.store import driver

    if rev == driver.SCHEMA_HEAD:
        return Check("store schema", "ok", f"schema {rev} is current.")
    if rev is None or rev in driver.SCHEMA_REVISIONS:
        return Check(
            "store schema",
            "fail",
            f"schema {rev or 'none'} needs upgrading to {driver.SCHEMA_HEAD}.",
            "postcli db upgrade",
        )
    return Check("store schema", "fail", f"schema {rev} is newer than this postcli knows.", "Upgrade postcli.")


def _disk(folder: Path) -> Check:
    import shutil

    try:
        free = shutil.disk_usage(folder).free
    except OSError as exc:
        return Check("disk space", "warn", f"cannot tell the free space at {folder}: {exc.strerror}.")
    shown = f"{free / 1024 / 1024:,.0f} MB free at {folder}"
    if free < LOW_DISK:
        return Check("disk space", "warn", shown + " (under 100 MB).", "Free some space on that disk.")
    return Check("disk space", "ok", shown + ".")


def _postgres(url: str) -> list[Check]:
    from postcli.store import driver
    from postcli.store.session import safe_url

    try:
        import psycopg

        plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(plain, connect_timeout=10) as conn:
            rev = driver.read_revision(conn, "postgresql", lambda: safe_url(url))
    except Exception as exc:  # noqa: BLE001 - unreachable server, refused login: the check's subject
        from postcli.secrets_redact import redact

        return [
            Check(
                "store",
                "fail",
                f"PostgreSQL at {safe_url(url)} cannot be reached: {redact(str(exc)).splitlines()[0]}.",
                "Check the server and POSTCLI_DATABASE_URL.",
            )
        ]
    return [Check("store", "ok", f"PostgreSQL at {safe_url(url)} answers."), _revision(rev)]


def secrets_check() -> list[Check]:
    try:
        from postcli import credentials

        store = credentials.backend()
    except PostcliError as exc:
        return [Check("secrets", "fail", exc.message, exc.hint)]
    name = type(store).__name__
    if name == "FileStore":
        return [Check("secrets", "ok", f"credentials in the 0600 file {settings.paths().credentials_file}.")]
    return [Check("secrets", "ok", f"credentials in the OS keyring ({getattr(store, 'label', name)}).")]


def media_store_check() -> list[Check]:
    """The S3 bucket reachable and ours to write (a HEAD on the bucket; nothing is uploaded)."""
    if not settings.config().s3.get("bucket"):
        return []
    from postcli.services import s3store

    try:
        bucket = s3store.check_bucket()
    except PostcliError as exc:
        return [Check("media store", "fail", exc.message, exc.hint)]
    return [Check("media store", "ok", f"S3 bucket {bucket} answers.")]


def _expires(expires: datetime | None, now: datetime, window: timedelta) -> tuple[str, str] | None:
    if expires is None:
        return None
    ends = expires if expires.tzinfo else expires.replace(tzinfo=timezone.utc)
    if ends <= now:
        return "fail", f"its token or session ended {ends:%Y-%m-%d %H:%M} UTC"
    if ends <= now + window:
        return "warn", f"its token or session ends {ends:%Y-%m-%d %H:%M} UTC"
    return None


def account_checks(*, live: bool, now: datetime, probe: Callable[[], Any] | None = None) -> list[Check]:
    from sqlalchemy import select

    from postcli.services.accounts import reconnect_hint
    from postcli.store.models import Account
    from postcli.store.session import session_scope

    if live and probe is not None:
        probe()  # accounts health: refreshes what is near expiry, marks what is gone
    window = timedelta(days=settings.config().doctor_expiry_warning_days)
    checks = []
    with session_scope(readonly=True) as session:
        accounts = list(session.scalars(select(Account).where(Account.removed_at.is_(None)).order_by(Account.id)))
        for a in accounts:
            name = f"account {a.id} ({a.platform} {a.handle})"
            if a.status == "token_expired":
                checks.append(Check(name, "fail", "needs reconnecting.", reconnect_hint(a), reconnect=True))
                continue
            ending = _expires(a.token_expires_at, now, window)
            if ending is not None:
                status, text = ending
                checks.append(Check(name, status, text + ".", reconnect_hint(a), reconnect=status == "fail"))
            else:
                checks.append(
                    Check(
                        name,
                        "ok",
                        f"{a.status}"
                        + (f"; token until {a.token_expires_at:%Y-%m-%d}" if a.token_expires_at else "")
                        + ".",
                    )
                )
    if not checks:
        checks.append(Check("accounts", "warn", "no accounts connected.", "postcli accounts add PLATFORM"))
    return checks
