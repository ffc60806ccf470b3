"""When the commands cron starts ran, and how: one row per run (`runs`), read by `doctor`."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterator

from postcli.store.models import Run, utcnow
from postcli.store.session import session_scope

COMMANDS = ("publish-due", "collect", "accounts-health", "doctor")


@dataclass
class Recording:
    """Set `exit_code` (and `summary`) before the block ends; an exception records "failed"."""

    exit_code: int = 0
    summary: dict[str, Any] = field(default_factory=dict)


@contextmanager
def recorded(command: str) -> Iterator[Recording]:
    """Record one run of `command`: its start at once (a run killed half way stays "running",
    which `doctor` tells from a live one by its holder), its end and exit code after."""
    from postcli.services.holders import me

    now = utcnow()
    with session_scope() as session:
        run = Run(command=command, started_at=now, outcome="running", holder=me().owner)
        session.add(run)
        session.flush()
        run_id = run.id
    rec = Recording()
    try:
        yield rec
    except BaseException:
        _finish(run_id, "failed", 1 if rec.exit_code == 0 else rec.exit_code, rec.summary)
        raise
    _finish(run_id, "ok" if rec.exit_code == 0 else "failed", rec.exit_code, rec.summary)


def _finish(run_id: int, outcome: str, exit_code: int, summary: dict[str, Any]) -> None:
    with session_scope() as session:
        run = session.get(Run, run_id)
        if run is not None:
            run.ended_at = utcnow()
            run.outcome = outcome
            run.exit_code = exit_code
            run.summary = summary or None


@dataclass(frozen=True)
class LastRun:
    command: str
    started_at: datetime
    ended_at: datetime | None
    outcome: str
    exit_code: int | None


def last_runs(session: Any) -> dict[str, LastRun]:
    """The newest run of each command (none for a command never run)."""
    from sqlalchemy import func, select

    newest = select(Run.command, func.max(Run.id).label("id")).group_by(Run.command).subquery()
    rows = session.scalars(select(Run).join(newest, Run.id == newest.c.id))
    return {r.command: LastRun(r.command, r.started_at, r.ended_at, r.outcome, r.exit_code) for r in rows}


def previous_start(session: Any, command: str) -> datetime | None:
    """When the run of `command` before the newest one started (doctor: "since the last doctor run")."""
    from sqlalchemy import select

    rows = list(session.scalars(select(Run.started_at).where(Run.command == command).order_by(Run.id.desc()).limit(2)))
    return rows[1] if len(rows) > 1 else None
