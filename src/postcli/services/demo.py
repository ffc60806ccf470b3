"""`postcli demo`: the whole product on the simulated sandbox network.

Runs the real services (accounts, publishing, collection) against the sandbox
adapter while moving the sandbox clock through the last few days, so the
reports have a week of history to show. Only ever used when asked for.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Callable, Iterator

from postcli.errors import BadState, InvalidInput
from postcli.services import accounts as accounts_svc
from postcli.services.collect.run import collect
from postcli.services.posts import compose, publish

ACCOUNTS = ("studio.sandbox", "notes.sandbox")
POST_TEXTS = (
    "Shipping a new release today: faster reports, fewer surprises. #buildinpublic",
    "What is the one terminal tool you could not live without?",
    "Thread: how we measure engagement honestly (no fake zeros) 🧵",
    "Morning coffee, evening deploys ☕",
    "Small teams win by being consistent. Post, measure, repeat.",
    "Behind the scenes: our weekly planning ritual.",
    "New blog post on scheduling across time zones https://example.com/tz",
    "Weekend reading list 📚 #weekend",
    "We crossed a milestone thanks to all of you 🎉",
    "Quick tip: `postcli analytics heatmap` shows when your audience is around.",
)
# Publishing times (UTC hours) cycle so the heatmap has something to compare.
SLOTS = (8, 12, 18, 21)
COLLECT_HOURS = (7, 11, 15, 19, 23)


def _same(t: datetime) -> datetime:
    return t


LOCK_NAME = ".postcli-demo.lock"


@contextmanager
def hold_home(root: Path) -> Iterator[None]:
    """One demo per directory: `root` held (an exclusive lock the kernel drops when the
    process ends, however it ends) from before the emptiness check until the demo is done.

    Checking "is it empty?" and then filling it were two steps: two demos started together
    both found it empty and then fought over one store ("busy", or a post the other had
    just published). With the lock taken first, the second is told so at once.
    """
    import fcntl

    if root.exists() and not root.is_dir():
        raise InvalidInput(f"{root} is not a directory.", hint="Give --home an empty or new directory.")
    root.mkdir(parents=True, exist_ok=True)
    lock_path = root / LOCK_NAME
    with open(lock_path, "a+b") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BadState(
                f"another `postcli demo` is filling {root} right now.",
                hint="Wait for it to finish (its store stays there to explore), or give --home another directory.",
            ) from None
        if any(p.name != LOCK_NAME for p in root.iterdir()):
            raise InvalidInput(f"{root} is not empty.", hint="Give --home an empty or new directory.")
        try:
            yield
        finally:
            # Gone before the lock is let go: a demo that starts next finds the store, not a lock.
            lock_path.unlink(missing_ok=True)


@contextmanager
def demo_home(root: Path) -> Iterator[None]:
    """postcli pointed at `root` for the duration: its own SQLite store, secrets in a file there.

    The environment and the cached engines are put back afterwards, so the demo never
    touches the user's store or keychain.
    """
    from postcli.store import session as store_session

    previous = {k: os.environ.get(k) for k in ("POSTCLI_HOME", "POSTCLI_DATABASE_URL", "POSTCLI_CREDENTIALS")}
    os.environ["POSTCLI_HOME"] = str(root)
    os.environ.pop("POSTCLI_DATABASE_URL", None)
    os.environ["POSTCLI_CREDENTIALS"] = "file"  # demo secrets stay in the demo home
    store_session.reset()
    try:
        yield
    finally:
        store_session.reset()
        for k, v in previous.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@dataclass
class DemoResult:
    accounts: int
    posts: int
    rounds: int
    start: datetime
    end: datetime


def run(
    *, days: int = 7, posts_per_day: int = 2, now: datetime | None = None, step: Callable[[str], None] | None = None
) -> DemoResult:
    from postcli.platforms.sandbox import set_sandbox_clock

    end = (now or datetime.now(timezone.utc)).replace(minute=0, second=0, microsecond=0)
    start = (end - timedelta(days=days)).replace(hour=0)
    say = step or (lambda _m: None)
    set_sandbox_clock(start)
    for handle in ACCOUNTS:
        accounts_svc.add_account("sandbox", identifier=handle, secret="sandbox", base_url=None)
    say(f"connected {len(ACCOUNTS)} sandbox accounts")

    events: list[tuple[datetime, str]] = []
    for d in range(days):
        day = start + timedelta(days=d)
        for i in range(posts_per_day):
            hour = SLOTS[(d + i * 2) % len(SLOTS)]
            events.append((day + timedelta(hours=hour, minutes=7 * i), "post"))
        events.extend((day + timedelta(hours=h, minutes=30), "collect") for h in COLLECT_HOURS)
    events = sorted(e for e in events if e[0] <= end)
    events.append((end, "collect"))

    posts = rounds = 0
    for when, kind in events:
        set_sandbox_clock(when)
        if kind == "post":
            text = POST_TEXTS[posts % len(POST_TEXTS)]
            targets = list(ACCOUNTS) if posts % 3 else [ACCOUNTS[posts % 2]]
            created = compose.create_post(f"{text} (#{posts + 1})", targets, source="demo", now=when)
            publish.publish_post(created.post["id"], allowed=("pending",), now=when)
            posts += 1
        else:
            collect(now=partial(_same, when))
            rounds += 1
    say(f"published {posts} posts and collected {rounds} rounds of snapshots over {days} simulated days")
    return DemoResult(accounts=len(ACCOUNTS), posts=posts, rounds=rounds, start=start, end=end)
