"""Accounts connected through the CLI against the fakes, and posts seeded straight into the store."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

from fakes.bluesky_server import FakeBlueskyServer
from fakes.mastodon_server import FakeMastodon
from fakes.threads_server import DEFAULT_TOKEN as THREADS_TOKEN
from fakes.threads_server import FakeThreads
from fakes.tumblr_server import FakeTumblr

BSKY_PASS = "alice-app-pass"
MASTO_TOKEN = "masto-secret-token-123456"


def write_config(home: Path, **collect: object) -> None:
    """[collect] settings; retries fast so a test sees backoff and dead letters in one run."""
    values = {"backoff_seconds": 0.01, "max_attempts": 3, "min_interval_seconds": 0, **collect}
    lines = ["[collect]"] + [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    (home / "config.toml").write_text("\n".join(lines) + "\n")


def connect_bluesky(cli, server: FakeBlueskyServer, handle: str = "alice.test", password: str = BSKY_PASS) -> int:  # type: ignore[no-untyped-def]
    r = cli(
        "accounts",
        "add",
        "bluesky",
        "--handle",
        handle,
        "--service",
        server.url,
        "--password-stdin",
        "--json",
        input=password + "\n",
    )
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)["id"]


def connect_mastodon(cli, server: FakeMastodon, token: str = MASTO_TOKEN) -> int:  # type: ignore[no-untyped-def]
    r = cli("accounts", "add", "mastodon", "--instance", server.url, "--token-stdin", "--json", input=token + "\n")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)["id"]


def connect_threads(cli, server: FakeThreads, token: str = THREADS_TOKEN) -> int:  # type: ignore[no-untyped-def]
    r = cli("accounts", "add", "threads", "--api-base", server.url, "--token-stdin", "--json", input=token + "\n")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)["id"]


def connect_tumblr(cli, server: FakeTumblr, blog: str = "alice-writes") -> int:  # type: ignore[no-untyped-def]
    """`accounts add tumblr` against the fake, with the refresh token and client secret in the environment."""
    env = {"POSTCLI_TUMBLR_REFRESH_TOKEN": server.refresh_token, "POSTCLI_TUMBLR_CLIENT_SECRET": server.client_secret}
    r = cli(
        "accounts", "add", "tumblr", "--blog", blog, "--client-id", server.client_id, "--api-base", server.url,
        "--token-stdin", "--json", input=server.access_token + "\n", env=env,
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)["id"]


def seed_targets(
    account_id: int, platform_post_ids: list[str], *, published_at: datetime | None = None, text: str = "seeded"
) -> list[tuple[int, int]]:
    """Published posts with one target each, as if postcli had published them; [(post_id, target_id)]."""
    from postcli.store.models import Account, Post, PostTarget
    from postcli.store.session import session_scope

    when = published_at or datetime.now(timezone.utc) - timedelta(hours=1)
    out = []
    with session_scope() as session:
        acc = session.get(Account, account_id)
        posts = []
        for i, pid in enumerate(platform_post_ids):
            post = Post(
                text=f"{text} {i}",
                status="completed",
                source="cli",
                created_at=when,
                updated_at=when,
                published_at=when,
                timezone="UTC",
            )
            post.targets.append(
                PostTarget(
                    account_id=acc.id,
                    platform=acc.platform,
                    status="completed",
                    idempotency_key=f"seed-{account_id}-{i}-{pid}",
                    platform_post_id=pid,
                    completed_at=when,
                    attempt_count=1,
                )
            )
            session.add(post)
            posts.append(post)
        session.flush()
        out = [(p.id, p.targets[0].id) for p in posts]
    return out


def db(home: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(home / "postcli.db")
    conn.row_factory = sqlite3.Row
    return conn


def snapshots(home: Path, target_id: int) -> list[sqlite3.Row]:
    return (
        db(home)
        .execute("select * from post_metric_snapshots where target_id = ? order by captured_at", (target_id,))
        .fetchall()
    )


def getposts_uris(server: FakeBlueskyServer) -> list[str]:
    return [u for call in server.calls("app.bsky.feed.getPosts") for u in call.query.get("uris", [])]


def multi_get_ids(server: FakeMastodon) -> list[list[str]]:
    return [
        r.query.get("id[]", []) for r in server.requests_to("GET", "/api/v1/statuses") if r.path == "/api/v1/statuses"
    ]
