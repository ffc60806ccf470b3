"""Benchmark `postcli collect`: 1,000 posts on each of Bluesky and Mastodon, 100 ms per request.

    python benchmarks/collect.py [--posts 1000] [--latency 0.1] [--concurrency 8] [--rounds 3]

Runs against the loopback fake servers of the test suite (real SDKs, real
sockets) in a throwaway POSTCLI_HOME. The fakes run in a process of their own,
as a real server would: the floor below counts the server as free, so its CPU
must not compete with the collector's. The posts are seeded straight into the
store and the fakes. It prints the API calls per platform, the wall time of
each collection round beside the floor (calls x latency / concurrency, the time
the requests alone would take with `concurrency` of them always in flight) and
the CPU time the collector's process spent, also per 1,000 posts fetched (a figure
to follow over time: it does not depend on the latency).

Targets: Bluesky <= 40 getPosts calls for 1,000 posts (+1 profile); at a realistic
100 ms per request, wall within 1.3x of the floor (issue 16; the old 20 ms target is
retired: at 20 ms on 2 cores the loopback servers and the collector share the CPU,
and the figure measures the machine more than the code).
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
TARGET_RATIO = 1.3  # wall / floor at --latency 0.1 (issue 16)


def seed(account_id: int, platform: str, ids: list[str]) -> None:
    from postcli.store.models import Post, PostTarget
    from postcli.store.session import session_scope

    when = datetime.now(timezone.utc) - timedelta(hours=2)
    with session_scope() as session:
        for i, pid in enumerate(ids):
            post = Post(
                text=f"bench {i}",
                status="completed",
                source="cli",
                created_at=when,
                updated_at=when,
                published_at=when,
                timezone="UTC",
            )
            post.targets.append(
                PostTarget(
                    account_id=account_id,
                    platform=platform,
                    status="completed",
                    idempotency_key=f"bench-{account_id}-{i}",
                    platform_post_id=pid,
                    completed_at=when,
                    attempt_count=1,
                )
            )
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
                conn.send(
                    {
                        "bluesky": len(bsky.requests),
                        "getPosts": bsky.count("app.bsky.feed.getPosts"),
                        "getProfile": bsky.count("app.bsky.actor.getProfile"),
                        "mastodon": len(masto.requests),
                        "multi": masto.count("GET /api/v1/statuses"),
                        "verify": masto.count("GET /api/v1/accounts/verify_credentials"),
                        "cpu": time.process_time(),
                    }
                )
                continue
            elif cmd == "stop":
                return
            conn.send("ok")


def measured_floor(url: str, calls: int, concurrency: int) -> float:
    """The same number of requests from `concurrency` plain keep-alive HTTP clients: the floor
    as this machine delivers it right now (on a busy machine, waking threads and sockets
    costs time the computed floor does not count)."""
    import http.client
    import threading
    from urllib.parse import urlsplit

    u = urlsplit(url)
    shares = [calls // concurrency + (1 if i < calls % concurrency else 0) for i in range(concurrency)]

    def client(n: int) -> None:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        for _ in range(n):
            conn.request("GET", "/xrpc/_health")
            conn.getresponse().read()
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in shares if n]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000, help="posts per platform")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds the fakes add to every request")
    parser.add_argument("--concurrency", type=int, default=8, help="[collect] concurrency")
    parser.add_argument("--rounds", type=int, default=3, help="collection rounds (each snapshots every post)")
    parser.add_argument("--platform", choices=("bluesky", "mastodon"), help="collect only this platform")
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="postcli-bench-")
    os.environ["POSTCLI_HOME"] = home
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    Path(home, "config.toml").write_text(f"[collect]\nconcurrency = {args.concurrency}\nmin_interval_seconds = 0\n")

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
        seed(b.account["id"], "bluesky", uris)
        seed(m.account["id"], "mastodon", sids)
        collect(platform="sandbox")  # opens the store and imports the SDKs outside the timed part
        import atproto_client  # noqa: F401
        import mastodon  # noqa: F401

        ask("delay", args.latency)
        print(
            f"{args.posts} posts per platform, {args.latency * 1000:.0f} ms per request, concurrency {args.concurrency}"
        )
        walls: list[tuple[float, float, float, float]] = []
        pairs: list[tuple[float, float]] = []  # (measured floor, wall) of rounds 2..n
        calls = 0
        for round_no in range(1, args.rounds + 1):
            # Alternating: the measured floor right before each round (from round 2, once the calls are known).
            before = measured_floor(bsky_url, calls, args.concurrency) if calls else None
            ask("reset")
            server_cpu = ask("counts")["cpu"]
            started, cpu = time.perf_counter(), time.process_time()
            report = collect(platform=args.platform)
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            n = ask("counts")
            server_cpu = n["cpu"] - server_cpu
            calls = n["bluesky"] + n["mastodon"]
            floor = calls * args.latency / args.concurrency
            print(
                f"round {round_no}: fetched {report.fetched}, accounts {report.accounts}, "
                f"failed {report.failed}, dead {report.dead}"
            )
            print(f"  bluesky  calls {n['bluesky']:4d} (getPosts {n['getPosts']}, getProfile {n['getProfile']})")
            print(f"  mastodon calls {n['mastodon']:4d} (multi-get {n['multi']}, verify_credentials {n['verify']})")
            per_1000 = cpu / report.fetched * 1000 if report.fetched else float("nan")
            if before is not None:
                pairs.append((before, wall))
                print(f"  measured floor just before: {before:.3f} s; this round / it {wall / before:.2f}x")
            walls.append((wall, cpu, floor, per_1000))
            print(
                f"  wall {wall:.3f} s   floor {floor:.3f} s   ratio {wall / floor if floor else float('inf'):.2f}x   "
                f"CPU: collector {cpu:.3f} s ({per_1000 * 1000:.0f} ms per 1,000 posts), "
                f"fake servers {server_cpu:.3f} s"
            )
        if walls:
            walls.sort()
            best, median = walls[0], walls[len(walls) // 2]
            ratio = median[0] / median[2] if median[2] else float("inf")
            print(
                f"best wall {best[0]:.3f} s (ratio {best[0] / best[2] if best[2] else float('inf'):.2f}x), "
                f"median {median[0]:.3f} s (ratio {ratio:.2f}x; target <= {TARGET_RATIO}x); "
                f"collector CPU per 1,000 posts: median {sorted(w[3] for w in walls)[len(walls) // 2] * 1000:.0f} ms"
            )
        if pairs:
            ratios = sorted(w / m for m, w in pairs)
            print(
                f"measured floor ({args.concurrency} plain HTTP clients, same calls, alternating with the rounds): "
                f"median {sorted(m for m, _ in pairs)[len(pairs) // 2]:.3f} s; "
                f"collector / measured floor median {ratios[len(ratios) // 2]:.2f}x"
            )
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
