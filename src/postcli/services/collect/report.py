"""What a `collect` run (or worker, or plan) did, shared by its threads, and its exit code."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from postcli.services.jobs import Held


@dataclass
class CollectReport:
    fetched: int = 0  # post snapshots written
    accounts: int = 0  # account snapshots written
    deleted: int = 0
    failed: int = 0  # jobs that failed this run and will be retried later
    dead: int = 0  # jobs dead-lettered this run
    skipped: int = 0  # jobs not run (account needs reconnecting, platform without metrics)
    planned: int = 0  # jobs added to the queue by this run
    up_to_date: int = 0  # keys another run finished moments ago, left alone
    # Dead letters of earlier runs this run's plan met and left alone: they wait for `postcli jobs retry`.
    dead_waiting: int = 0
    taken_over: int = 0  # jobs of a provably dead collector put back in the queue (and run)
    # Jobs left alone because another collector holds them (its lease), by holder.
    held: list[Held] = field(default_factory=list)
    reconnect: list[str] = field(default_factory=list)
    # Accounts whose jobs wait for a platform's rate limit: name -> (jobs, when it lifts).
    rate_limited: dict[str, tuple[int, datetime | None]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Accounts that could not be collected at all (damaged credentials, a bad setting): (name, why).
    account_errors: list[tuple[str, str]] = field(default_factory=list)
    settings_error: bool = False  # one of them was a setting to fix: the run exits 2, not 7
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for k, v in counts.items():
                setattr(self, k, getattr(self, k) + v)

    def note(self, text: str) -> None:
        with self._lock:
            self.notes.append(text)

    def needs_reconnect(self, name: str) -> None:
        with self._lock:
            if name not in self.reconnect:
                self.reconnect.append(name)

    def waiting_for_limit(self, name: str, jobs: int, until: datetime | None) -> None:
        with self._lock:
            self.rate_limited[name] = (jobs, until)

    @property
    def deferred(self) -> int:
        """Jobs deferred to a platform's reset time (not failed: a later run takes them)."""
        return sum(jobs for jobs, _ in self.rate_limited.values())

    def account_failed(self, name: str, error: str, *, bad_settings: bool = False) -> None:
        with self._lock:
            self.account_errors.append((name, error))
            self.settings_error = self.settings_error or bad_settings

    def handled(self) -> int:
        return self.fetched + self.accounts + self.deleted + self.failed + self.dead + self.skipped

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.dead == 0 and not self.account_errors

    @property
    def exit_code(self) -> int:
        from postcli.services.exit_codes import for_collect

        return for_collect(failed=not self.ok, rate_limited=bool(self.rate_limited), bad_settings=self.settings_error)

    def as_dict(self) -> dict[str, object]:
        return {
            "fetched": self.fetched,
            "accounts": self.accounts,
            "deleted": self.deleted,
            "failed": self.failed,
            "dead_lettered": self.dead,
            "skipped": self.skipped,
            "deferred": self.deferred,
            "rate_limited": [
                {"account": name, "jobs": jobs, "until": until.isoformat() if until else None}
                for name, (jobs, until) in sorted(self.rate_limited.items())
            ],
            "planned": self.planned,
            "up_to_date": self.up_to_date,
            "dead_waiting": self.dead_waiting,
            "waiting_retry": self.dead_waiting,  # its first name, kept for scripts (docs/json.md)
            "taken_over": self.taken_over,
            "held_by_other_runs": [
                {"holder": h.holder, "jobs": h.jobs, "until": h.until.isoformat() if h.until else None}
                for h in self.held
            ],
            "needs_reconnect": sorted(self.reconnect),
            "notes": self.notes,
            "account_errors": [{"account": name, "error": error} for name, error in self.account_errors],
        }
