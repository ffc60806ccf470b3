"""The collector's single writer thread (services/collect/writer.py), on a real SQLite store.

Each test first holds the writer inside a call, queues work behind it, then lets it
go: what the writer does with a full queue is then decided by its rules alone, not by
thread timing.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from postcli.services.collect.writer import MAX_WRITE_POSTS, Writer

WAIT = 30  # seconds: a generous bound on a future that should resolve at once


class Batch:
    def __init__(self, name: str, posts: int) -> None:
        self.name = name
        self.posts = posts

    def __len__(self) -> int:
        return self.posts


def _job(session: Any, key: str) -> None:
    from postcli.store.models import Job

    session.add(Job(kind="test", key=key, payload={}))
    session.flush()


def _keys() -> set[str]:
    from sqlalchemy import select

    from postcli.store.models import Job
    from postcli.store.session import session_scope

    with session_scope(readonly=True) as session:
        return set(session.scalars(select(Job.key).where(Job.kind == "test")))


class Recorder:
    """The writer's `record`: one job row per batch; notes what it did, in order."""

    def __init__(self, events: list[Any], fail: str | None = None) -> None:
        self.events = events
        self.fail = fail
        self.sessions: list[Any] = []

    def __call__(self, session: Any, batches: list[Batch]) -> list[int]:
        self.events.append([b.name for b in batches])
        self.sessions.append(session)
        for b in batches:
            _job(session, b.name)
            if b.name == self.fail:
                raise RuntimeError(f"cannot write {b.name}")
        return [len(b) for b in batches]


@pytest.fixture
def writer(home):  # type: ignore[no-untyped-def]
    events: list[Any] = []
    recorder = Recorder(events, fail="broken")
    w: Writer[Batch] = Writer(recorder)
    w.events = events  # type: ignore[attr-defined]
    w.recorder = recorder  # type: ignore[attr-defined]
    yield w
    w.close()


def _hold(writer: Writer[Batch]) -> tuple[threading.Event, Any]:
    """Keep the writer busy in a call until the returned event is set."""
    held, release = threading.Event(), threading.Event()

    def hold(session: Any) -> str:
        held.set()
        assert release.wait(WAIT)
        return "held"

    fut = writer.submit(hold)
    assert held.wait(WAIT)
    return release, fut


def _call(events: list[Any], sessions: list[Any], name: str, *, fail: bool = False) -> Any:
    def fn(session: Any) -> str:
        events.append(name)
        sessions.append(session)
        _job(session, name)
        if fail:
            raise ValueError(f"{name} failed")
        return name

    return fn


def test_waiting_calls_run_before_fetched_batches_queued_earlier(writer):
    events, sessions = writer.events, []
    release, held = _hold(writer)
    a = writer.submit_batch(Batch("a", 10))
    b = writer.submit_batch(Batch("b", 10))
    c = writer.submit(_call(events, sessions, "c"))
    d = writer.submit(_call(events, sessions, "d"))
    release.set()

    assert [f.result(WAIT) for f in (held, c, d, a, b)] == ["held", "c", "d", 10, 10]
    # Both calls first, in one transaction; then both batches, recorded together in the next.
    assert events == ["c", "d", ["a", "b"]]
    assert sessions[0] is sessions[1]
    assert writer.recorder.sessions[0] is not sessions[0]
    assert _keys() == {"a", "b", "c", "d"}


def test_one_failing_call_does_not_undo_the_others_in_its_transaction(writer):
    events, sessions = writer.events, []
    release, held = _hold(writer)
    first = writer.submit(_call(events, sessions, "first"))
    failing = writer.submit(_call(events, sessions, "failing", fail=True))
    last = writer.submit(_call(events, sessions, "last"))
    release.set()

    assert first.result(WAIT) == "first"
    assert last.result(WAIT) == "last"
    with pytest.raises(ValueError, match="failing failed"):
        failing.result(WAIT)
    assert events == ["first", "failing", "last"]
    assert sessions[0] is sessions[1] is sessions[2]  # one transaction, a savepoint each
    assert _keys() == {"first", "last"}  # the failing call's own write was rolled back, only it


def test_a_failed_write_of_batches_fails_them_and_the_writer_goes_on(writer):
    events, sessions = writer.events, []
    release, held = _hold(writer)
    good = writer.submit_batch(Batch("good", 5))
    broken = writer.submit_batch(Batch("broken", 5))
    release.set()
    # Batches are recorded by one set of statements: they fail together, nothing half-written.
    for fut in (good, broken):
        with pytest.raises(RuntimeError, match="cannot write broken"):
            fut.result(WAIT)
    assert writer.call(_call(events, sessions, "after")) == "after"
    assert writer.submit_batch(Batch("later", 5)).result(WAIT) == 5
    assert _keys() == {"after", "later"}


def test_a_transaction_records_at_most_500_posts(writer):
    assert MAX_WRITE_POSTS == 500
    release, held = _hold(writer)
    futs = [writer.submit_batch(Batch(f"b{i}", 200)) for i in range(3)]
    futs.append(writer.submit_batch(Batch("big", 600)))  # more than the cap alone: written alone
    release.set()

    assert [f.result(WAIT) for f in futs] == [200, 200, 200, 600]
    assert writer.events == [["b0", "b1"], ["b2"], ["big"]]
    assert _keys() == {"b0", "b1", "b2", "big"}


def test_the_writer_writes_what_is_queued_when_closed_and_refuses_more(home):
    events: list[Any] = []
    w: Writer[Batch] = Writer(Recorder(events))
    release, held = _hold(w)
    queued = w.submit_batch(Batch("queued", 3))
    closing = threading.Thread(target=w.close)
    closing.start()
    release.set()
    closing.join(WAIT)
    assert not closing.is_alive()
    assert queued.result(0) == 3
    with pytest.raises(RuntimeError, match="closed"):
        w.submit(lambda session: None).result(0)
    assert _keys() == {"queued"}
