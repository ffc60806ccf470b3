"""Benchmark `postcli collect`: 1,000 posts on each of Bluesky and Mastodon, 20 ms per request.

    python benchmarks/collect.py [--posts 1000] [--latency 0.02] [--concurrency 8] [--rounds 2]

Runs against the loopback fake servers of the test suite (real SDKs, real
sockets) in a throwaway POSTCLI_HOME. The fakes run in a process of their own,
as a real server would: the floor below counts the server as free, so its CPU
must not compete with the collector's. The posts are seeded straight into the
store and the fakes. It prints the API calls per platform, the wall time of
each collection round beside the floor (calls x latency / concurrency, the time
the requests alone would take with `concurrency` of them always in flight) and
the CPU time the collector's process spent.

Targets (issue 4): Bluesky <= 40 getPosts calls for 1,000 posts (+1 profile),
wall within 1.5x of the floor.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def seed(account_id: int, platform: str, ids: list[str]) -> None:
    from postcli.store.models import Post, PostTarget
    from postcli.store.session import session_scope

    when = datetime.now(timezone.utc) - timedelta(hours=2)
    with session_scope() as session:
        for i, pid in enumerate(ids):
            post = Post(text=f"bench {i}", status="completed", source="cli", created_at=when, updated_at=when,
                        published_at=when, timezone="UTC")
            post.targets.append(PostTarget(account_id=account_id, platform=platform, status="completed",
                                           idempotency_key=f"bench-{account_id}-{i}", platform_post_id=pid,
                                           completed_at=when, attempt_count=1))
            session.add(post)


def serve_fakes(conn, posts: int, token: str) -> None:
    """The fake servers' process: seed them, then answer the benchmark's commands."""
    sys.path.insert(0, str(ROOT / "tests"))
    from fakes.bluesky_server import FakeBlueskyServer
    from fakes.mastodon_server import FakeMastodon

    with FakeBlueskyServer() as bsky, FakeMastodon(token=token, ratelimit_limit=100_000) as masto:
        bsky.add_account("bench.test", "bench-pass", followers=1234)
        uris = [bsky.add_post("bench.test", f"post {i}", likes=i % 7, reposts=1) for i in range(posts)]
        sids = [masto.add_status(f"toot {i}", favourites_count=i % 5)["id"] for i in range(posts)]
        conn.send((bsky.url, masto.url, uris, sids))
        while True:
            cmd, *args = conn.recv()
            if cmd == "delay":
                bsky.set_delay(args[0])
                masto.set_delay(args[0])
            elif cmd == "reset":
                bsky.reset_log()
                masto.reset_log()
            elif cmd == "counts":
                conn.send({
                    "bluesky": len(bsky.requests),
                    "getPosts": bsky.count("app.bsky.feed.getPosts"),
                    "getProfile": bsky.count("app.bsky.actor.getProfile"),
                    "mastodon": len(masto.requests),
                    "multi": masto.count("GET /api/v1/statuses"),
                    "verify": masto.count("GET /api/v1/accounts/verify_credentials"),
                    "cpu": time.process_time(),
                })
                continue
            elif cmd == "stop":
                return
            conn.send("ok")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000, help="posts per platform")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds the fakes add to every request")
    parser.add_argument("--concurrency", type=int, default=8, help="[collect] concurrency")
    parser.add_argument("--rounds", type=int, default=2, help="collection rounds (each snapshots every post)")
    parser.add_argument("--platform", choices=("bluesky", "mastodon"), help="collect only this platform")
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="postcli-bench-")
    os.environ["POSTCLI_HOME"] = home
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    Path(home, "config.toml").write_text(
        f"[collect]\nconcurrency = {args.concurrency}\nmin_interval_seconds = 0\n"
    )

    token = "bench-token-0123456789"
    ctx = multiprocessing.get_context("spawn")
    conn, child_conn = ctx.Pipe()
    server = ctx.Process(target=serve_fakes, args=(child_conn, args.posts, token), daemon=True)
    server.start()

    def ask(*cmd: object) -> object:
        conn.send(cmd)
        return conn.recv()

    try:
        from postcli.services import accounts as accounts_svc
        from postcli.services.collect.run import collect
        from postcli.store.session import session_scope

        bsky_url, masto_url, uris, sids = conn.recv()
        b = accounts_svc.add_account("bluesky", identifier="bench.test", secret="bench-pass", base_url=bsky_url)
        m = accounts_svc.add_account("mastodon", identifier=None, secret=token, base_url=masto_url)
        seed(b.account.id, "bluesky", uris)
        seed(m.account.id, "mastodon", sids)
        collect(platform="sandbox")  # opens the store and imports the SDKs outside the timed part
        import atproto_client  # noqa: F401
        import mastodon  # noqa: F401

        ask("delay", args.latency)
        print(f"{args.posts} posts per platform, {args.latency * 1000:.0f} ms per request, "
              f"concurrency {args.concurrency}")
        walls: list[tuple[float, float, float]] = []
        for round_no in range(1, args.rounds + 1):
            ask("reset")
            server_cpu = ask("counts")["cpu"]
            started, cpu = time.perf_counter(), time.process_time()
            report = collect(platform=args.platform)
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            n = ask("counts")
            server_cpu = n["cpu"] - server_cpu
            floor = (n["bluesky"] + n["mastodon"]) * args.latency / args.concurrency
            print(f"round {round_no}: fetched {report.fetched}, accounts {report.accounts}, "
                  f"failed {report.failed}, dead {report.dead}")
            print(f"  bluesky  calls {n['bluesky']:4d} (getPosts {n['getPosts']}, getProfile {n['getProfile']})")
            print(f"  mastodon calls {n['mastodon']:4d} (multi-get {n['multi']}, verify_credentials {n['verify']})")
            walls.append((wall, cpu, floor))
            print(f"  wall {wall:.3f} s   floor {floor:.3f} s   ratio {wall / floor if floor else float('inf'):.2f}x   "
                  f"CPU: collector {cpu:.3f} s, fake servers {server_cpu:.3f} s")
        if len(walls) > 1:
            walls.sort()
            best, median = walls[0], walls[len(walls) // 2]
            print(f"best wall {best[0]:.3f} s (ratio {best[0] / best[2] if best[2] else float('inf'):.2f}x), "
                  f"median {median[0]:.3f} s (ratio {median[0] / median[2] if median[2] else float('inf'):.2f}x); "
                  f"median collector CPU {sorted(w[1] for w in walls)[len(walls) // 2]:.3f} s")
        with session_scope() as session:
            from sqlalchemy import func, select

            from postcli.store.models import PostMetricSnapshot

            print(f"snapshots stored: {session.scalar(select(func.count()).select_from(PostMetricSnapshot))}")
    finally:
        conn.send(("stop",))
        server.join(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
