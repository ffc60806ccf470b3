"""Claiming a chunk of an account's jobs together with its request budget, in one transaction."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from postcli.services import jobs as jobs_svc
from postcli.services import rate_budget, thread_metrics
from postcli.services.collect.results import Item
from postcli.store.models import PostTarget

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from postcli.services.rate_budget import Limit


def claim_chunk(
    session: Session,
    *,
    kind: str,
    group: str,
    owner: str,
    budget_key: str,
    limit: Limit | None,
    chunk: int,
    per_token: int,
    lease: timedelta,
    now: datetime,
    sure_until: float,
) -> tuple[list[Item], float]:
    """Up to `chunk` due jobs of `kind`, as many as the budget pays for (one token per
    `per_token` posts); ([], seconds until the budget allows more) when it pays for none.
    Tokens the queue had no jobs for go back to the budget."""
    from sqlalchemy import select

    grant = rate_budget.take(session, budget_key, limit, math.ceil(chunk / per_token), now)
    if grant.tokens == 0:
        return [], grant.wait_s
    jobs = jobs_svc.claim_in(
        session, kind=kind, group=group, limit=grant.tokens * per_token, now=now, owner=owner, lease=lease
    )
    rate_budget.give_back(session, budget_key, limit, grant.tokens - math.ceil(len(jobs) / per_token), now)
    if kind == "account_metrics":
        return [Item(job_id, None, None, sure_until) for job_id, _ in jobs], 0.0
    wanted = {job_id: payload.get("target_id") for job_id, payload in jobs}
    rows = session.execute(
        select(PostTarget.id, PostTarget.status, PostTarget.platform_post_id).where(
            PostTarget.id.in_([t for t in wanted.values() if t is not None])
        )
    ).all()
    live: dict[int | None, str] = {tid: pid for tid, status, pid in rows if status == "completed" and pid}
    parts = thread_metrics.parts_of(session, [t for t in live if t is not None])
    if parts:
        # A thread's other parts are fetched with it: charged too, as far as the budget has tokens.
        extra = sum(len(p) - 1 for p in parts.values())
        more = math.ceil((len(jobs) + extra) / per_token) - math.ceil(len(jobs) / per_token)
        rate_budget.take(session, budget_key, limit, more, now)
    items = [
        Item(jid, tid, live.get(tid), sure_until, parts.get(tid, ()) if tid else ()) for jid, tid in wanted.items()
    ]
    return items, 0.0
