"""Benchmark `postcli collect --worker` on PostgreSQL: 1, 2 and 4 worker processes.

    python benchmarks/workers.py [--jobs 5000] [--accounts 5] [--latency 0.05] [--concurrency 4]

Starts a throwaway PostgreSQL (initdb + pg_ctl, as the tests do), and fake
Mastodon instances on loopback that add `--latency` to every request. The
store gets `--jobs` post-metric jobs spread over `--accounts` accounts
(`collect --plan-only`), then N worker processes (the installed entry point)
drain the queue. Printed: wall time, jobs/s, requests, and the speed-up over
one worker. Each worker keeps `--concurrency` requests in flight.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the fakes and the PostgreSQL starter live with the tests


def postcli(*args: str) -> list[str]:
    exe = Path(sys.executable).with_name("postcli")
    return ([str(exe)] if exe.exists() else [sys.executable, "-m", "postcli"]) + list(args)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=5000, help="post-metric jobs in all")
    parser.add_argument("--accounts", type=int, default=5, help="accounts (one fake instance each)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the fakes add to every request")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight per worker")
    parser.add_argument("--workers", default="1,2,4", help="worker counts to run, comma-separated")
    args = parser.parse_args()

    from fakes.mastodon_server import FakeMastodon
    from pgserver import _start, find_bindir

    bindir = find_bindir()
    if bindir is None:
        print("PostgreSQL binaries (initdb, pg_ctl) not found", file=sys.stderr)
        return 1
    pg = _start(bindir)
    try:
        with ExitStack() as stack:
            per_account = args.jobs // args.accounts
            fakes = []
            for a in range(args.accounts):
                token = f"bench-token-{a}-0123456789"
                fake = stack.enter_context(
                    FakeMastodon(token=token, ratelimit_limit=1_000_000, account_id=str(1000 + a), username=f"bench{a}")
                )
                ids = [fake.add_status(f"toot {i}", favourites_count=i % 5)["id"] for i in range(per_account)]
                fakes.append((fake, token, ids))
            print(
                f"{per_account * args.accounts} post-metric jobs over {args.accounts} accounts, "
                f"{args.latency * 1000:.0f} ms per request, {args.concurrency} in flight per worker, PostgreSQL"
            )
            baseline = None
            for n in [int(x) for x in args.workers.split(",")]:
                dbname = f"bench_{n}"
                with pg.admin() as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
                    conn.execute(f'CREATE DATABASE "{dbname}"')
                env = dict(
                    os.environ,
                    POSTCLI_HOME=tempfile.mkdtemp(prefix="postcli-bench-"),
                    POSTCLI_DATABASE_URL=pg.url(dbname),
                    PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
                )
                Path(env["POSTCLI_HOME"], "config.toml").write_text(
                    '[collect]\nmin_interval_seconds = 0\n[collect.rate_limits]\nmastodon = "100000/1"\n'
                )
                _seed(env, fakes)
                for fake, _t, _i in fakes:
                    fake.set_delay(args.latency)
                    fake.reset_log()
                planned = json.loads(
                    subprocess.run(
                        postcli("collect", "--plan-only", "--json"), env=env, capture_output=True, text=True, check=True
                    ).stdout
                )["planned"]
                cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
                started = time.perf_counter()
                procs = [
                    subprocess.Popen(
                        postcli("collect", "--worker", "--json", "--concurrency", str(args.concurrency)),
                        env=env,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        text=True,
                    )
                    for _ in range(n)
                ]
                outs = [p.communicate() for p in procs]
                wall = time.perf_counter() - started
                cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
                for p, (_o, err) in zip(procs, outs):
                    if p.returncode != 0:
                        print(err, file=sys.stderr)
                        return 1
                fetched = sum(json.loads(o)["fetched"] for o, _e in outs)
                requests = sum(len(f.requests) for f, _t, _i in fakes)
                for fake, _t, _i in fakes:
                    fake.clear_faults()
                rate = fetched / wall
                baseline = baseline or rate
                print(
                    f"  {n} worker(s): {fetched} of {planned - args.accounts} post jobs in {wall:.2f} s = "
                    f"{rate:,.0f} jobs/s, {requests} requests, workers' CPU {cpu:.1f} s, x{rate / baseline:.2f} vs 1 worker"
                )
    finally:
        pg.stop()
    return 0


def _seed(env: dict[str, str], fakes: list) -> None:  # type: ignore[type-arg]
    """Connect the accounts and store their statuses as published posts (no publishing)."""
    code = f"""
import json, sys
from datetime import datetime, timedelta, timezone
sys.path.insert(0, {str(ROOT / "tests")!r})
from postcli.services import accounts as accounts_svc
from test_collect import seed_targets
for url, token, ids in json.load(sys.stdin):
    acc = accounts_svc.add_account("mastodon", identifier=None, secret=token, base_url=url)
    seed_targets(acc.account["id"], ids, published_at=datetime.now(timezone.utc) - timedelta(hours=2))
"""
    payload = json.dumps([[f.url, t, ids] for f, t, ids in fakes])
    subprocess.run([sys.executable, "-c", code], env=env, input=payload, text=True, check=True)


if __name__ == "__main__":
    raise SystemExit(main())
