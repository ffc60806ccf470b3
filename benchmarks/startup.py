"""Start-up cost of postcli as whole processes (issue 3 benchmark; not a test).

Median wall time over N runs of `python -c pass`, `postcli --help`,
`postcli post list` and three report commands on a store with 1,000 posts. Targets on a 2-core machine:
--help <= 0.35 s, post list <= 0.7 s.

    python benchmarks/startup.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path


def seed(home: Path, n: int) -> None:
    os.environ["POSTCLI_HOME"] = str(home)
    from postcli.store.models import Account, Post, PostTarget
    from postcli.store.session import session_scope

    now = datetime.now(timezone.utc)
    with session_scope() as s:
        acc = Account(
            platform="mastodon", handle="bench@example.social", external_id="1", api_base_url="https://example.social"
        )
        s.add(acc)
        s.flush()
        for i in range(n):
            when = now - timedelta(minutes=i)
            p = Post(
                text=f"benchmark post {i} " * 3,
                status="completed",
                created_at=when,
                updated_at=when,
                published_at=when,
                timezone="UTC",
            )
            p.targets.append(
                PostTarget(
                    account_id=acc.id,
                    platform="mastodon",
                    status="completed",
                    idempotency_key=f"k{i}",
                    platform_post_id=str(i),
                    platform_post_url=f"https://example.social/@bench/{i}",
                    attempt_count=1,
                    completed_at=when,
                )
            )
            s.add(p)


def median_wall(cmd: list[str], runs: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    exe = str(Path(sys.executable).with_name("postcli"))
    with tempfile.TemporaryDirectory() as d:
        home = Path(d)
        seed(home, 1000)
        env = dict(os.environ, POSTCLI_HOME=str(home))
        rows = [
            ("python -c pass", [sys.executable, "-c", "pass"], None),
            ("postcli --help", [exe, "--help"], 0.35),
            ("postcli post list (1,000 posts)", [exe, "post", "list"], 0.7),
            # Report commands (issue 31): as light as --help, Rich only for the text table.
            ("postcli analytics overview", [exe, "analytics", "overview"], None),
            ("postcli analytics overview --json", [exe, "analytics", "overview", "--json"], None),
            ("postcli analytics timeline --csv", [exe, "analytics", "timeline", "--csv"], None),
        ]
        median_wall(rows[2][1], 2, env)  # warm the page cache
        print(f"{'command':36} {'median s':>9} {'target':>7}")
        for name, cmd, target in rows:
            t = median_wall(cmd, args.runs, env)
            verdict = "" if target is None else ("ok" if t <= target else "SLOW")
            print(f"{name:36} {t:9.3f} {'' if target is None else f'{target:.2f}':>7} {verdict}")


if __name__ == "__main__":
    main()
