"""The sandbox: a SIMULATED network for `postcli demo` and tests. No sockets, no real posts.

Everything it returns is made up, deterministically: a post's counters are a
function of its id and of the hours since it was "published", following a
saturating curve (fast at first, then flattening), so collecting twice at the
same simulated moment gives the same numbers and later collections never go
down. Some posts do better at certain hours of the (UTC) day and on weekends,
so the heatmap has something to show. Followers grow slowly with time.

State (posts, accounts, an optional simulated clock) lives in
`<data dir>/sandbox.json`, rewritten atomically under a lock so concurrent
postcli processes never corrupt it. When the state holds a clock, that is "now"
for the sandbox (a demo can advance days in seconds); otherwise the real clock.

Handles look like `demo.sandbox`, URLs like `sandbox://demo.sandbox/post/<id>`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar, Iterator

from postcli.platforms.base import (
    AccountInfo,
    AccountMetrics,
    AdapterBase,
    HealthResult,
    Limits,
    PostMetrics,
    PublishRequest,
    PublishResult,
    RemoteNotFound,
)
from postcli.platforms.sandbox_spec import SPEC
from postcli.platforms.spec import PlatformSpec

DEFAULT_HANDLE = "demo.sandbox"
STATE_VERSION = 1


def state_path() -> Path:
    from postcli import settings

    return settings.paths().data_dir / "sandbox.json"


def _empty_state() -> dict[str, Any]:
    return {"version": STATE_VERSION, "clock": None, "next_id": 1, "posts": {}, "accounts": {}}


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return _empty_state()
    except (OSError, ValueError):
        # A hand-edited or truncated file: the sandbox is a toy, start it afresh rather than fail.
        return _empty_state()
    state = _empty_state()
    state.update(data if isinstance(data, dict) else {})
    return state


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".lock")
    with open(lock_path, "a+") as fh:
        try:
            import fcntl
        except ImportError:  # Windows: the atomic replace alone keeps the file whole
            yield
            return
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


@contextmanager
def _state(write: bool = True) -> Iterator[dict[str, Any]]:
    """The state under an exclusive lock; written back (atomically) when `write`."""
    path = state_path()
    with _locked(path):
        state = _read(path)
        yield state
        if write:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".sandbox.", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    # json.dumps in one go, compact: the C encoder (json.dump and an indented dump
                    # encode in pure Python, and the state grows with every post).
                    fh.write(json.dumps(state, separators=(",", ":"), sort_keys=True))
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat()


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def _clock(state: dict[str, Any]) -> datetime:
    return _parse(state["clock"]) if state.get("clock") else datetime.now(timezone.utc)


# --- the simulated clock (module helpers for the demo and tests) -------------------


def sandbox_now() -> datetime:
    with _state(write=False) as state:
        return _clock(state)


def set_sandbox_clock(dt: datetime | None) -> None:
    """Freeze the sandbox's "now" at `dt` (aware); None goes back to the real clock."""
    if dt is not None and dt.tzinfo is None:
        raise ValueError("set_sandbox_clock needs an aware datetime")
    with _state() as state:
        state["clock"] = None if dt is None else _iso(dt)


def set_sandbox_seed(seed: int) -> None:
    """The seed of the simulated networks' numbers (`postcli demo --seed`)."""
    with _state() as state:
        state["seed"] = int(seed)


def advance_sandbox_clock(delta: timedelta) -> datetime:
    """Move the sandbox's "now" forward (from the real clock if none is set); returns the new now."""
    with _state() as state:
        new = _clock(state) + delta
        state["clock"] = _iso(new)
        return new


# --- the deterministic model ---------------------------------------------------------


def _unit(seed: str, salt: str) -> float:
    """A stable number in [0, 1) from a seed (not Python's hash(): that changes per process)."""
    digest = hashlib.sha256(f"{salt}:{seed}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def simulate_post(post_id: str, published_at: datetime, now: datetime) -> PostMetrics:
    """The counters of a sandbox post at `now`."""
    hours = max(0.0, (now - published_at).total_seconds() / 3600)
    quality = 0.3 + 2.2 * _unit(post_id, "quality") ** 2  # most posts modest, a few take off
    # The simulated audience is most active around 08 and 18 UTC; how much a post gains from
    # landing near those hours varies per post, so the heatmap shows peaks without being uniform.
    hour = published_at.astimezone(timezone.utc).hour
    sensitivity = 0.5 + _unit(post_id, "hour")
    peak = max(math.exp(-(min(abs(hour - h), 24 - abs(hour - h)) ** 2) / 6) for h in (8, 18))
    timing = 1.0 + 1.5 * sensitivity * peak
    weekend = 1.25 if published_at.astimezone(timezone.utc).weekday() >= 5 else 1.0
    ceiling = 120 * quality * timing * weekend
    tau = 4 + 20 * _unit(post_id, "tau")  # hours to reach ~63% of the ceiling

    def curve(scale: float, slow: float = 1.0) -> int:
        return int(ceiling * scale * (1 - math.exp(-hours / (tau * slow))))

    likes = curve(1.0)
    return PostMetrics(
        impressions=curve(25.0, 0.8),
        reach=curve(15.0, 0.8),
        likes=likes,
        comments=curve(0.12, 1.5),
        shares=curve(0.2, 1.2),
        quotes=curve(0.03, 2.0),
        # saves, clicks, views, video_views: not reported by the sandbox (shown as "—").
        raw={"simulated": True, "hours_since_publish": round(hours, 2)},
    )


def simulate_followers(handle: str, since: datetime, now: datetime) -> int:
    """Followers grow slowly (a few a day, a little faster early on), never shrinking."""
    base = 300 + int(_unit(handle, "base") * 2700)
    per_day = 3 + _unit(handle, "rate") * 12
    days = max(0.0, (now - since).total_seconds() / 86400)
    return base + int(per_day * days + 40 * (1 - math.exp(-days / 10)))


# --- the adapter ---------------------------------------------------------------------


class SandboxAdapter(AdapterBase):
    """A simulated network (see the module docstring). Clearly not a real platform."""

    spec: ClassVar[PlatformSpec] = SPEC
    has_metrics: ClassVar[bool] = True
    metrics_batch_size: ClassVar[int] = 50
    idempotency_key: ClassVar[bool] = True  # a repeated key answers the post made first
    handle_suffix: ClassVar[str] = ".sandbox"  # keeps every simulated handle visibly so

    @property
    def handle(self) -> str:
        return self.ctx.handle or DEFAULT_HANDLE

    def connect(self, identifier: str | None, secret: str) -> AccountInfo:
        handle = (identifier or DEFAULT_HANDLE).strip().lstrip("@")
        if not handle.endswith(self.handle_suffix):
            handle += self.handle_suffix
        with _state() as state:
            acct = state["accounts"].setdefault(handle, {"created_at": _iso(_clock(state))})
        external_id = f"{self.platform}:{handle}"
        self.ctx.handle = handle
        self.ctx.external_id = external_id
        self.ctx.secrets = {"token": "sandbox-simulated"}
        self.ctx.save_secrets(self.ctx.secrets)
        self.ctx.settings = {"simulated": True, "created_at": acct["created_at"]}
        self.ctx.settings_changed = True
        return AccountInfo(external_id=external_id, handle=handle, display_name=self.spec.display_name)

    def limits(self) -> Limits:
        return Limits(
            max_text=500,
            max_images=4,
            max_videos=1,
            max_image_bytes=10_000_000,
            max_video_bytes=100_000_000,
            max_alt_text=1500,
            mime_types=("image/png", "image/jpeg", "image/webp", "image/gif", "video/mp4", "video/quicktime"),
        )

    def text_length(self, text: str) -> int:
        return len(text)

    def _result(self, post_id: str, post: dict[str, Any]) -> PublishResult:
        return PublishResult(
            platform_post_id=post_id,
            url=f"sandbox://{post['handle']}/post/{post_id}",
            published_at=_parse(post["published_at"]),
        )

    def publish(self, req: PublishRequest) -> PublishResult:
        with _state() as state:
            for post_id, post in state["posts"].items():
                if post.get("idempotency_key") == req.idempotency_key:
                    return self._result(post_id, post)  # a retry, not a second post
            post_id = f"sb{state['next_id']:06d}"
            state["next_id"] += 1
            post = {
                "handle": self.handle,
                "text": req.text,
                "idempotency_key": req.idempotency_key,
                "published_at": _iso(_clock(state)),
                "media": len(req.media),
                # What was attached, so a test (or a curious user) can see which files went where.
                "media_files": [
                    {"name": m.path.name, "mime_type": m.mime_type, "size_bytes": m.size_bytes, "alt_text": m.alt_text}
                    for m in req.media
                ],
                "deleted": False,
            }
            if req.reply_to is not None:  # a part of a thread, or a first comment
                post["reply_to"] = req.reply_to.platform_post_id
            state["posts"][post_id] = post
            return self._result(post_id, post)

    def find_published(self, req: PublishRequest) -> PublishResult | None:
        with _state(write=False) as state:
            for post_id, post in state["posts"].items():
                if post.get("idempotency_key") == req.idempotency_key and not post.get("deleted"):
                    return self._result(post_id, post)
        return None

    def delete(self, platform_post_id: str) -> None:
        with _state() as state:
            post = state["posts"].get(platform_post_id)
            if post is not None:
                post["deleted"] = True

    def fetch_post_metrics(self, platform_post_ids: list[str]) -> dict[str, PostMetrics | None]:
        with _state(write=False) as state:
            now = _clock(state)
            out: dict[str, PostMetrics | None] = {}
            for pid in platform_post_ids:
                post = state["posts"].get(pid)
                if post is None or post.get("deleted"):
                    out[pid] = None
                else:
                    out[pid] = self.simulate(state, pid, post, now)
            return out

    def simulate(self, state: dict[str, Any], post_id: str, post: dict[str, Any], now: datetime) -> PostMetrics:
        """One post's counters at `now` (the simulated networks model their own audience)."""
        return simulate_post(post_id, _parse(post["published_at"]), now)

    def fetch_account_metrics(self) -> AccountMetrics:
        with _state(write=False) as state:
            now = _clock(state)
            acct = state["accounts"].get(self.handle)
            since = _parse(acct["created_at"]) if acct else now
            posts = sum(1 for p in state["posts"].values() if p["handle"] == self.handle and not p.get("deleted"))
            return self.account_counters(state, since, now, posts)

    def account_counters(self, state: dict[str, Any], since: datetime, now: datetime, posts: int) -> AccountMetrics:
        return AccountMetrics(
            followers=simulate_followers(self.handle, since, now),
            following=50 + int(_unit(self.handle, "following") * 200),
            posts_count=posts,
            raw={"simulated": True},
        )

    def check_health(self) -> HealthResult:
        return HealthResult(ok=True, message="simulated sandbox account")

    def resolve_post(self, url_or_id: str) -> PublishResult:
        post_id = url_or_id.rstrip("/").rsplit("/", 1)[-1]
        with _state(write=False) as state:
            post = state["posts"].get(post_id)
            if post is None or post.get("deleted"):
                raise RemoteNotFound(f"no sandbox post {url_or_id!r}.", platform=self.platform)
            return self._result(post_id, post)
