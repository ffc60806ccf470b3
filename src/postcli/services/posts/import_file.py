"""`postcli post import-file FILE`: many posts at once, all or nothing.

Every row is checked before anything is stored (its targets, time or queue, text and media
against each target's limits, exactly as `post create` checks); any problem anywhere is one
exit 2 listing each row's problems with where it is, and nothing is stored. Importing the
same file again creates nothing: a row is already there when a post has its `id` (the
correlation id) or the same text and targets at a time within DEDUP_WINDOW of the row's
(queued rows: the same text and targets, imported before); a row whose `id` is taken by other
content is listed as differing and left alone. Rows are written in batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from postcli import settings
from postcli.errors import InvalidInput, PostcliError
from postcli.services import accounts as accounts_svc
from postcli.services.posts import compose
from postcli.services.posts.import_rows import Row, read
from postcli.services.posts.validation import TargetPlan, own_text, validate_targets
from postcli.store.models import Post, PostTarget, utcnow
from postcli.store.session import session_scope
from postcli.textcheck import check_post_texts

DEDUP_WINDOW = timedelta(minutes=10)
BATCH = 500


@dataclass
class Planned:
    row: Row
    accounts: list[Any]
    at: datetime | None
    media: list[Any]  # services.media.Prepared
    chash: str


@dataclass
class ImportReport:
    rows: int
    created: list[dict[str, Any]] = field(default_factory=list)  # {"where", "post_id", "scheduled_at", "status"}
    would_create: list[dict[str, Any]] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # where
    differing: list[dict[str, Any]] = field(default_factory=list)  # {"where", "id", "post_id"}
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)  # said on stderr: an ambiguous local time, which one was taken

    def as_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "dry_run": self.dry_run,
            "created": self.created,
            "would_create": self.would_create,
            "already_there": self.already,
            "differing": self.differing,
        }


def _problem(row: Row, exc: PostcliError) -> str:
    return f"{row.where}: {exc.message}" + (f" ({exc.hint})" if exc.hint else "")


def run(path: Path, *, dry_run: bool = False, now: datetime | None = None) -> ImportReport:
    from postcli.services import media as media_svc
    from postcli.timeparse import read as read_time

    now = now or utcnow()
    rows = read(path)
    if not rows:
        raise InvalidInput(f"{path.name} holds no posts.")
    problems: list[str] = [f"{r.where}: {p}" for r in rows for p in r.problems]
    planned: list[Planned] = []
    notes: list[str] = []
    with session_scope(readonly=True) as session:
        targets_cache: dict[tuple[str, ...], list[Any]] = {}
        adapters: dict[int, Any] = {}
        for row in rows:
            if row.problems:
                continue
            try:
                key = tuple(row.to)
                if key not in targets_cache:
                    targets_cache[key] = accounts_svc.resolve_targets(session, list(row.to))
                accounts = targets_cache[key]
                check_post_texts(row.text, row.text_for, row.alt + ([row.title] if row.title else []))
                reading = read_time(row.at, settings.time_zone(row.tz), now=now) if row.at else None
                at = reading.at if reading is not None else None
                if reading is not None and reading.note:
                    notes.append(f"{row.where}: {reading.note}")
                if at is not None and at <= now and not row.draft:
                    raise InvalidInput(
                        f"the time {row.at!r} is in the past.", hint="Give a future time, or queue: true."
                    )
                if len(row.alt) > len(row.media):
                    raise InvalidInput(f"{len(row.alt)} alt texts for {len(row.media)} media files.")
                prepared = media_svc.prepare_files(
                    [(m, row.alt[i] if i < len(row.alt) else None) for i, m in enumerate(row.media)]
                )
                items = [p.as_media_item() for p in prepared]
                plans = [
                    TargetPlan(
                        account=a, text=own_text(row.text_for, a) or row.text, text_override=own_text(row.text_for, a)
                    )
                    for a in accounts
                ]
                validate_targets(plans, items, adapters=adapters)
                chash = compose.content_hash(
                    row.text, row.text_for, [a.id for a in accounts], at, [p.sha256 for p in prepared]
                )
                planned.append(Planned(row, accounts, at, prepared, chash))
            except PostcliError as exc:
                problems.append(_problem(row, exc))
    if problems:
        shown = "\n  ".join(problems[:200]) + (f"\n  … and {len(problems) - 200} more" if len(problems) > 200 else "")
        raise InvalidInput(
            f"{path.name}: {len(problems)} problem(s); nothing was imported:\n  {shown}",
            hint="Fix those rows (each says where it is) and import the file again.",
        )
    report = ImportReport(rows=len(rows), dry_run=dry_run, notes=notes)
    fresh = _skip_existing(planned, report)
    _queue_times(fresh, now)
    if dry_run:
        report.would_create = [
            {"where": p.row.where, "scheduled_at": p.at, "to": [a.id for a in p.accounts]} for p in fresh
        ]
        return report
    _write(fresh, report, now)
    return report


def _skip_existing(planned: list[Planned], report: ImportReport) -> list[Planned]:
    """Rows already imported (by id, or by text, targets and time) are counted, not created again."""
    from sqlalchemy import select

    ids = [p.row.id for p in planned if p.row.id]
    texts = list({p.row.text for p in planned})
    by_id: dict[str, tuple[int, str | None]] = {}
    same_text: dict[str, list[tuple[int, datetime | None, frozenset[int], str]]] = {}
    with session_scope(readonly=True) as session:
        for chunk in (ids[i : i + BATCH] for i in range(0, len(ids), BATCH)):
            for pid, cid, chash in session.execute(
                select(Post.id, Post.correlation_id, Post.content_hash).where(Post.correlation_id.in_(chunk))
            ):
                if cid is not None:
                    by_id[cid] = (pid, chash)
        for chunk in (texts[i : i + BATCH] for i in range(0, len(texts), BATCH)):
            rows = session.execute(
                select(Post.id, Post.text, Post.scheduled_at, Post.source, PostTarget.account_id)
                .join(PostTarget, PostTarget.post_id == Post.id)
                .where(Post.text.in_(chunk), Post.status != "cancelled")
            )
            grouped: dict[int, list[Any]] = {}
            for pid, text, at, source, account_id in rows:
                grouped.setdefault(pid, [text, at, source, set()])[3].add(account_id)
            for pid, (text, at, source, accounts) in grouped.items():
                same_text.setdefault(text, []).append((pid, at, frozenset(accounts), source))
    fresh = []
    for p in planned:
        if p.row.id and p.row.id in by_id:
            pid, chash = by_id[p.row.id]
            if chash in (None, p.chash) or _matches(p, same_text, only=pid):
                report.already.append(p.row.where)
            else:
                report.differing.append({"where": p.row.where, "id": p.row.id, "post_id": pid})
            continue
        if _matches(p, same_text):
            report.already.append(p.row.where)
            continue
        fresh.append(p)
    return fresh


def _matches(p: Planned, same_text: dict[str, list[Any]], only: int | None = None) -> bool:
    accounts = frozenset(a.id for a in p.accounts)
    for pid, at, targets, source in same_text.get(p.row.text, []):
        if only is not None and pid != only or targets != accounts:
            continue
        if p.row.queue:
            if source == "import":
                return True
            continue
        if at is None and p.at is None:
            return True
        if at is not None and p.at is not None:
            stored = at if at.tzinfo else at.replace(tzinfo=p.at.tzinfo)
            if abs(stored - p.at) <= DEDUP_WINDOW:
                return True
    return False


def _queue_times(planned: list[Planned], now: datetime) -> None:
    """Queued rows take the next free common slot in file order, each slot once."""
    from postcli.services.queue.service import WEEKS_AHEAD, free_slots

    queued = [p for p in planned if p.row.queue]
    if not queued:
        return
    taken: set[tuple[int, datetime]] = set()
    end = now + timedelta(weeks=WEEKS_AHEAD)
    with session_scope(readonly=True) as session:
        free = {}
        for p in queued:
            for a in p.accounts:
                if a.id not in free:
                    free[a.id] = free_slots(session, a, now, end)
        for p in queued:
            common = None
            for a in p.accounts:
                mine = {t for t in free[a.id] if (a.id, t) not in taken}
                common = mine if common is None else common & mine
            if not common:
                raise InvalidInput(
                    f"{p.row.where}: the targets' queues have no free slot left in the next {WEEKS_AHEAD} weeks."
                )
            p.at = min(common)
            taken.update((a.id, p.at) for a in p.accounts)


def _write(planned: list[Planned], report: ImportReport, now: datetime) -> None:
    """Batches of rows, each batch one transaction of bulk INSERTs (posts with their ids back,
    then their targets and media rows)."""
    from sqlalchemy import insert

    from postcli.services import media as media_svc
    from postcli.store.models import PostMedia

    for start in range(0, len(planned), BATCH):
        batch = planned[start : start + BATCH]
        stored = [[media_svc.store_prepared(m, i) for i, m in enumerate(p.media)] for p in batch]
        posts = [
            {
                "text": p.row.text,
                "title": p.row.title,
                "link": p.row.link,
                "status": "draft" if p.row.draft else "scheduled" if p.at is not None else "pending",
                "scheduled_at": p.at,
                "timezone": settings.time_zone(p.row.tz),
                "correlation_id": p.row.id,
                "source": "import",
                "created_at": now,
                "updated_at": now,
                "content_hash": None if p.row.draft else p.chash,
            }
            for p in batch
        ]
        with session_scope() as session:
            ids = list(session.scalars(insert(Post).returning(Post.id, sort_by_parameter_order=True), posts))
            targets = [
                {
                    "post_id": post_id,
                    "account_id": a.id,
                    "platform": a.platform,
                    "text_override": own_text(p.row.text_for, a),
                    "status": "pending",
                    "idempotency_key": compose.new_idempotency_key(a.platform),
                    "attempt_count": 0,
                }
                for post_id, p in zip(ids, batch)
                for a in p.accounts
            ]
            session.execute(insert(PostTarget), targets)
            media_rows = [
                {c.key: getattr(m, c.key) for c in PostMedia.__table__.columns if c.key not in ("id", "post_id")}
                | {"post_id": post_id}
                for post_id, rows in zip(ids, stored)
                for m in rows
            ]
            if media_rows:
                session.execute(insert(PostMedia), media_rows)
        report.created.extend(
            {"where": p.row.where, "post_id": post_id, "status": row["status"], "scheduled_at": row["scheduled_at"]}
            for post_id, p, row in zip(ids, batch, posts)
        )
