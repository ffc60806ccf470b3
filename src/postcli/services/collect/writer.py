"""The one thread of a run that writes to the store.

Fetch threads never touch the store: they hand the writer their work and it
commits whatever has queued up in one transaction, so SQLite's single write lock
is taken a few times per run, not once per batch by competing threads.

Two kinds of work arrive on one queue:

- calls, `fn(session)` (claims, failures): someone is usually waiting for them.
  They go first, all queued calls in one transaction, so a claim never waits
  behind a large write. Each runs in its own savepoint: one failing call fails
  alone and the others still commit.
- batches (fetched results; nobody waits for them). They linger a moment so more
  can share their transaction (each transaction has a fixed cost), up to
  MAX_WRITE_POSTS posts, and are recorded together by one `record` call (one set
  of statements instead of a handful per batch); they fail together.

Every submission returns a Future carrying the result or the exception.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from concurrent.futures import Future
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Generic, Sized, TypeVar

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# Most posts the writer records in one transaction: it holds the store's write lock
# (and, being Python, mostly the GIL) for a few tens of milliseconds at most.
MAX_WRITE_POSTS = 500
# How long a fetched batch may wait for others to share its transaction (seconds).
WRITE_LINGER = 0.05

B = TypeVar("B", bound=Sized)  # a batch; len() is its number of posts


@dataclass
class _Call:
    fn: Callable[[Session], Any]
    future: Future[Any]


@dataclass
class _Batch(Generic[B]):
    batch: B
    future: Future[Any]


_CLOSE = object()


def _write_scope() -> AbstractContextManager[Session]:
    from postcli.store.session import session_scope

    # pg_lock=False: every piece guards itself with row locks (claims skip locked
    # rows, results lock the jobs they finish), so workers write side by side.
    return session_scope(immediate=True, pg_lock=False)


class Writer(Generic[B]):
    """`call(fn)` / `submit(fn)` queue a call; `submit_batch(batch)` queues a batch.

    `record(session, batches)` writes batches and returns one result per batch.
    """

    def __init__(
        self,
        record: Callable[[Session, list[B]], list[Any]],
        *,
        scope: Callable[[], AbstractContextManager[Session]] = _write_scope,
        max_posts: int = MAX_WRITE_POSTS,
        linger: float = WRITE_LINGER,
    ) -> None:
        self._record = record
        self._scope = scope
        self._max_posts = max_posts
        self._linger = linger
        self._inbox: queue.Queue[_Call | _Batch[B] | object] = queue.Queue()
        # Only the writer thread touches these.
        self._calls: deque[_Call] = deque()
        self._batches: deque[_Batch[B]] = deque()
        self._closing = False
        # Guards `_closed` with the put of each submission, so nothing lands after _CLOSE.
        self._open_lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="collect-writer", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[Session], Any]) -> Future[Any]:
        return self._put(lambda fut: _Call(fn, fut))

    def submit_batch(self, batch: B) -> Future[Any]:
        return self._put(lambda fut: _Batch(batch, fut))

    def call(self, fn: Callable[[Session], Any]) -> Any:
        return self.submit(fn).result()

    def close(self) -> None:
        """Write what is queued, then stop; later submissions fail at once."""
        with self._open_lock:
            if not self._closed:
                self._closed = True
                self._inbox.put(_CLOSE)
        self._thread.join()

    def _put(self, make: Callable[[Future[Any]], _Call | _Batch[B]]) -> Future[Any]:
        fut: Future[Any] = Future()
        with self._open_lock:
            if self._closed:
                fut.set_exception(RuntimeError("the collector's writer is closed"))
            else:
                self._inbox.put(make(fut))
        return fut

    # --- the writer thread ----------------------------------------------------

    def _take(self, timeout: float | None = None, *, block: bool = True) -> bool:
        """Move one message from the inbox to the calls or batches; False when none came."""
        try:
            msg = self._inbox.get(block=block, timeout=timeout)
        except queue.Empty:
            return False
        if msg is _CLOSE:
            self._closing = True
        elif isinstance(msg, _Call):
            self._calls.append(msg)
        else:
            self._batches.append(msg)  # type: ignore[arg-type]
        return True

    def _posts_queued(self) -> int:
        return sum(len(b.batch) for b in self._batches)

    def _loop(self) -> None:
        while True:
            if not (self._calls or self._batches):
                if self._closing:
                    return
                self._take()
            while self._take(block=False):
                pass
            if self._calls:
                calls = list(self._calls)
                self._calls.clear()
                self._run_calls(calls)
                continue
            if not self._batches:
                continue
            linger_until = time.monotonic() + self._linger
            while not (self._calls or self._closing) and self._posts_queued() < self._max_posts:
                wait = linger_until - time.monotonic()
                if wait <= 0 or not self._take(wait):
                    break
            if self._calls:
                continue  # calls first; these batches wait for the next round
            batches: list[_Batch[B]] = []
            n = 0
            while self._batches and (not batches or n + len(self._batches[0].batch) <= self._max_posts):
                b = self._batches.popleft()
                n += len(b.batch)
                batches.append(b)
            self._run_batches(batches)

    def _run_calls(self, calls: list[_Call]) -> None:
        outcomes: list[tuple[Future[Any], Any, BaseException | None]] = []
        try:
            with self._scope() as session:
                if len(calls) == 1:
                    outcomes.append((calls[0].future, calls[0].fn(session), None))
                else:
                    for c in calls:
                        try:
                            with session.begin_nested():
                                result = c.fn(session)
                        except Exception as exc:  # noqa: BLE001 - handed to the submitter
                            outcomes.append((c.future, None, exc))
                        else:
                            outcomes.append((c.future, result, None))
        except BaseException as exc:  # noqa: BLE001 - the transaction failed: so did every call
            for c in calls:
                c.future.set_exception(exc)
            return
        _settle(outcomes)

    def _run_batches(self, batches: list[_Batch[B]]) -> None:
        try:
            with self._scope() as session:
                results = self._record(session, [b.batch for b in batches])
        except BaseException as exc:  # noqa: BLE001 - handed to the submitters
            for b in batches:
                b.future.set_exception(exc)
            return
        _settle([(b.future, r, None) for b, r in zip(batches, results)])


def _settle(outcomes: list[tuple[Future[Any], Any, BaseException | None]]) -> None:
    """Resolve futures only after the commit: a result is never reported for a write that did not land."""
    for fut, result, exc in outcomes:
        if exc is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(result)
