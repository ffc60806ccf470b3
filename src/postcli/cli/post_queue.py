"""`post create --queue|--queue-each`: schedule into the queues' next free slots."""

from __future__ import annotations

from typing import Any

import typer


def create_queued(
    text: str,
    to: list[str],
    *,
    each: bool,
    at: str | None,
    draft: bool,
    correlation_id: str | None,
    as_json: bool,
    **post: Any,
) -> None:
    from postcli import output
    from postcli.errors import InvalidInput
    from postcli.services.posts import compose, views
    from postcli.services.queue.service import require_queue_time, utcnow

    if at is not None or draft:
        raise InvalidInput("--queue takes the time from the queue: leave out --at and --draft.")
    if each and correlation_id:
        raise InvalidInput("--queue-each makes one post per target: leave out --correlation-id.")
    now = utcnow()
    times = require_queue_time(to, each=each, now=now)
    made = []
    if isinstance(times, dict):
        for account_id, when in times.items():
            made.append(compose.create_post(text, [str(account_id)], at=when, now=now, **post))
    else:
        made.append(compose.create_post(text, to, at=times, correlation_id=correlation_id, now=now, **post))
    for c in made:
        for w in c.warnings:
            output.warn(w)
    if as_json:
        shaped = [views.created_dict(c.post, c.created) for c in made]
        output.print_json(shaped[0] if not each else shaped)
        return
    for c in made:
        p = c.post
        output.line(f"Queued post {p['id']} for {output.fmt_time(p['scheduled_at'], p['timezone'])} ({p['timezone']}).")
    if not made:
        raise typer.Exit(1)
