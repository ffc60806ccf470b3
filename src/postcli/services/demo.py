"""`postcli demo`: the whole product on the simulated sandbox network.

Runs the real services (accounts, publishing, collection) against the sandbox
adapter while moving the sandbox clock through the last few days, so the
reports have a week of history to show. Only ever used when asked for.
"""

from __future__ import annotations

import contextlib
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

# The simulated networks (platforms/simulated/): one account on each.
NETWORKS = ("sim-bluesky", "sim-mastodon", "sim-instagram", "sim-threads")
HANDLE = "studio"
POST_TEXTS = (
    "Shipping a new release today: faster reports, fewer surprises. #buildinpublic",
    "What is the one terminal tool you could not live without?",
    "How we measure engagement honestly: no fake zeros, ever.",
    "Morning coffee, evening deploys ☕",
    "Small teams win by being consistent. Post, measure, repeat.",
    "Behind the scenes: our weekly planning ritual.",
    "New blog post on scheduling across time zones https://example.com/tz",
    "Weekend reading list 📚 #weekend",
    "We crossed a milestone thanks to all of you 🎉",
    "Quick tip: `postcli analytics best-times` shows when your audience is around.",
    "Three things we learned from a month of posting every day.",
    "A photo from the studio this week 📷",
    "Ask us anything about running a tiny company from the terminal.",
    "The chart that changed how we plan our week.",
)
# Publishing hours (UTC): a person keeps to a few, so best-times has several posts per slot.
SLOTS = (9, 13, 18, 21)
# Collection rounds each simulated day (UTC hours): the recent posts, as a daily cron would collect them.
COLLECT_HOURS = (23,)
RECENT_DAYS = 3  # each round collects the posts of the last few days; numbers settle within a day


def _same(t: datetime) -> datetime:
    return t


LOCK_NAME = ".postcli-demo.lock"


@contextmanager
def hold_home(root: Path, *, made: bool = False) -> Iterator[None]:
    """One demo per directory: `root` held (an exclusive lock the kernel drops when the
    process ends, however it ends) from before the emptiness check until the demo is done.

    Checking "is it empty?" and then filling it were two steps: two demos started together
    both found it empty and then fought over one store ("busy", or a post the other had
    just published). With the lock taken first, the second is told so at once.

    `made`: the caller made `root` for this demo (a new temporary directory), so a demo cut
    short removes it, as it does a directory it makes itself.
    """
    import fcntl

    if root.exists() and not root.is_dir():
        raise InvalidInput(f"{root} is not a directory.", hint="Give --home an empty or new directory.")
    made = made or not root.exists()
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
        except BaseException:
            # A demo cut short (Ctrl-C, a full disk) left half a store, which the next
            # `postcli demo --home` would refuse as "not empty". Everything here is the demo's
            # own (the directory was empty, and held), so it goes, and a directory it made too.
            _empty(root)  # the lock file too: the kernel's lock is on the open file, not its name
            if made:
                with contextlib.suppress(OSError):
                    root.rmdir()
            raise
        finally:
            # Gone before the lock is let go: a demo that starts next finds the store, not a lock.
            lock_path.unlink(missing_ok=True)


def _empty(root: Path) -> None:
    import shutil

    for p in root.iterdir():
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


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


def _image(directory: Path, n: int, seed: int) -> Path:
    """A small picture for the Instagram-like network (it takes no text-only posts)."""
    from PIL import Image, ImageDraw

    from postcli.platforms.simulated.model import unit

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"photo-{n:03d}.jpg"
    hue = unit(str(seed), str(n), "colour")
    colour = tuple(int(80 + 150 * unit(str(seed), str(n), c)) for c in "rgb")
    image = Image.new("RGB", (320, 320), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse((60, 60, 260, 260), fill=(int(255 * hue), 220, 255 - int(255 * hue)))
    image.save(path, "JPEG", quality=85)
    return path


def _plan(start: datetime, end: datetime, days: int, seed: int) -> list[tuple[datetime, str, int]]:
    """(when, "post" | "collect", day) in time order: one or two posts a day at the person's
    usual hours, a collection round every evening, and a last round at the end."""
    from postcli.platforms.simulated.model import unit

    events: list[tuple[datetime, str, int]] = []
    for d in range(days):
        day = start + timedelta(days=d)
        count = 1 + (unit(str(seed), str(d), "twice") < 0.6)
        first = int(unit(str(seed), str(d), "slot") * len(SLOTS))
        for i in range(count):
            hour = SLOTS[(first + 2 * i) % len(SLOTS)]
            events.append((day + timedelta(hours=hour, minutes=5 + 7 * i), "post", d))
        events.extend((day + timedelta(hours=h, minutes=30), "collect", d) for h in COLLECT_HOURS)
    events = sorted(e for e in events if e[0] <= end)
    events.append((end, "final", days))
    return events


def _targets(n: int, seed: int) -> list[str]:
    """Which networks a post goes to: Bluesky and Threads always, Mastodon mostly, Instagram
    for some (with a picture)."""
    from postcli.platforms.simulated.model import unit

    chosen = ["sim-bluesky", "sim-threads"]
    for network, chance in (("sim-mastodon", 0.75), ("sim-instagram", 0.45)):
        if unit(str(seed), str(n), network) < chance:
            chosen.append(network)
    return [f"{HANDLE}{_suffix(name)}" for name in chosen]


def _suffix(network: str) -> str:
    from postcli.platforms.registry import adapter_class

    return str(getattr(adapter_class(network), "handle_suffix", ""))


def run(
    *,
    days: int = 60,
    seed: int = 1,
    now: datetime | None = None,
    step: Callable[[str], None] | None = None,
    media_dir: Path | None = None,
) -> DemoResult:
    """Connect one account on each simulated network and live through `days` days of posting and
    collecting on the simulated clock, through the real services (publishing, collection)."""
    from postcli import settings
    from postcli.platforms.sandbox import set_sandbox_clock, set_sandbox_seed

    end = (now or datetime.now(timezone.utc)).replace(minute=0, second=0, microsecond=0)
    start = (end - timedelta(days=days)).replace(hour=0)
    say = step or (lambda _m: None)
    set_sandbox_seed(seed)
    set_sandbox_clock(start)
    for network in NETWORKS:
        accounts_svc.add_account(network, identifier=HANDLE, secret=network, base_url=None)
    say(f"connected {len(NETWORKS)} accounts on simulated networks ({', '.join(NETWORKS)})")
    pictures = media_dir or settings.paths().data_dir / "demo-media"

    posts = rounds = 0
    for when, kind, _day in _plan(start, end, days, seed):
        set_sandbox_clock(when)
        if kind == "post":
            targets = _targets(posts, seed)
            media_for: dict[str, list[tuple[Path, str | None]]] = {}
            if any(t.endswith(_suffix("sim-instagram")) for t in targets):
                media_for = {"sim-instagram": [(_image(pictures, posts, seed), "a picture from the studio")]}
            text = POST_TEXTS[posts % len(POST_TEXTS)]
            created = compose.create_post(text, targets, media_for=media_for, source="demo", now=when)
            publish.publish_post(created.post["id"], allowed=("pending",), now=when)
            posts += 1
        else:
            collect(now=partial(_same, when), days=days + 1 if kind == "final" else RECENT_DAYS)
            rounds += 1
    say(f"published {posts} posts and collected {rounds} rounds of snapshots over {days} simulated days")
    return DemoResult(accounts=len(NETWORKS), posts=posts, rounds=rounds, start=start, end=end)
