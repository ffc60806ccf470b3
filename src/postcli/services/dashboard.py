"""Every report the HTML report (and the digest) shows, computed once for one query: the
catalog's entries with a section (services/reports/catalog.py).

The renderers draw from each report's `as_json()`: the very data `--json` prints, so a
number on the page is the number the terminal and the JSON give.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from postcli.services.reports import ReportQuery
from postcli.services.reports.catalog import sections


@dataclass
class Dashboard:
    sections: dict[str, dict[str, Any]]  # the catalog's section names -> each report's JSON
    empty: str | None  # the overview's one-line reason when there is nothing to show

    @property
    def overview(self) -> dict[str, Any]:
        return self.sections["overview"]

    def as_json(self) -> dict[str, Any]:
        return dict(self.sections)


def build(session: Any, q: ReportQuery, *, now: datetime | None = None) -> Dashboard:
    made = {name: report(session, q, now=now) for name, report in sections().items()}
    return Dashboard({name: r.as_json() for name, r in made.items()}, empty=made["overview"].meta.empty)


def build_from_store(q: ReportQuery, *, now: datetime | None = None) -> Dashboard:
    """build() on the store, the read path chosen here (store/dbapi.py)."""
    from postcli.store.dbapi import open_reader

    with open_reader() as db:
        return build(db, q, now=now)
