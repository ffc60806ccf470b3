"""Benchmark the analytics reports on a large store.

    python benchmarks/reports.py [--db DIR] [--posts 50000] [--runs 5] [--process-runs 5] [--only top,heatmap]
    python benchmarks/reports.py --db DIR10 --times 10     # the 10x variant: 500,000 posts
    python benchmarks/reports.py --pg [--keep-pg] [--times 10]   # on a throwaway PostgreSQL
    python benchmarks/reports.py --database-url URL [--times 10] # on a PostgreSQL database

Builds (or reuses, with --db) a store of 10 accounts, 50,000 posts over two years,
~1,000,000 post snapshots and hourly account snapshots, then times every report
for 7/30/90 days, with --platform and for a period that ended 30 days ago (median
of --runs warm runs, the service call as `postcli analytics` makes it, opening the
connection included) and the peak Python memory of each (tracemalloc), plus the
process's peak RSS. Then every report command (text, --json, --csv) and
`analytics post ID`, end to end as a process, alternating with `postcli --help`,
and the ratio of their medians.

Targets: each report's query <= 100 ms (issue 16); each command <= 1.5x `postcli
--help` at 10M snapshots, 1.25x at 1M (issue 31; 2x before); memory < 150 MB; at most
150 bytes per snapshot (issue 31).

The bulk load bypasses record_post_snapshot (one ORM round trip per row would take
many minutes) but fills post_metric_latest with what it would produce (the last
snapshot per target); account_post_hourly and the latest rows' reported values are
then rebuilt from the snapshots as `db upgrade` (migration 0010) does, and the file vacuumed (the
rebuild's free pages are not a store's size). It prints the bytes per post snapshot, everything
included (tables, indexes, rollups).

PostgreSQL: --database-url builds the store in that database when it holds no posts (an
empty database: postcli creates its tables) and reuses it otherwise; a build that was
interrupted leaves a partial store, so drop and recreate the database before building again.
--pg starts a throwaway server first (tests/pgserver.py's initdb + pg_ctl, durability off,
the settings in benchmarks/benchstore.py), prints its URL and stops it at the end; with
--keep-pg it keeps running for later runs with --database-url, and the script prints how to
stop it. The load goes through COPY, --times through INSERT ... SELECT in the server, then
the same rollup rebuild, the sequences set past the loaded ids, and VACUUM ANALYZE. The size
is pg_total_relation_size over the schema's tables (indexes and TOAST included); the commands
run with POSTCLI_DATABASE_URL set. CPU ms is this process's: the server's work is not in it.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

import benchstore  # beside this script: where the store lives (SQLite or PostgreSQL) and the bulk loader

UTC = timezone.utc
# Hours after publishing at which the collector snapshots a post (21 per post).
OFFSETS_H = (1, 2, 3, 4, 6, 8, 12, 16, 24, 36, 48, 72, 96, 120, 168, 240, 336, 432, 528, 624, 720)
PLATFORMS = ("bluesky", "mastodon")
CHUNK = 50_000
QUERY_TARGET_MS = 100  # issue 16: each report's query
PROCESS_TARGET = 1.5  # issue 31: each report command within 1.5x `postcli --help` at 10M snapshots
PROCESS_TARGET_1M = 1.25  # and within 1.25x at 1M


def build(now: datetime, n_posts: int, seed: int = 7) -> dict[str, int]:
    rng = random.Random(seed)
    load = benchstore.Loader()
    ts = load.ts
    counts = {"accounts": 10, "posts": n_posts, "post_snapshots": 0, "account_snapshots": 0}
    start = now - timedelta(days=730)
    accounts = []
    rows: list[tuple] = []
    for i in range(10):
        platform = PLATFORMS[i % 2]
        rows.append(
            (
                i + 1,
                platform,
                f"user{i}.{platform}.example",
                f"ext{i}",
                f"https://{platform}.example",
                "active",
                ts(start),
                "{}",
            )
        )
        accounts.append((i + 1, platform, 500 + 300 * i))
    load.insert("accounts", benchstore.ACCOUNT_COLUMNS, rows)

    # Account snapshots, every hour for two years.
    rows = []
    hours = int((now - start).total_seconds() // 3600)
    for acc_id, _platform, base in accounts:
        for h in range(hours):
            t = start + timedelta(hours=h)
            rows.append((acc_id, ts(t), base + h // 24, 100, None))
            if len(rows) >= CHUNK:
                load.insert("account_metric_snapshots", benchstore.ACCOUNT_SNAPSHOT_COLUMNS, rows)
                counts["account_snapshots"] += len(rows)
                rows = []
    load.insert("account_metric_snapshots", benchstore.ACCOUNT_SNAPSHOT_COLUMNS, rows)
    counts["account_snapshots"] += len(rows)

    posts, targets, snaps, latest = [], [], [], []

    def flush() -> None:
        load.insert("posts", benchstore.POST_COLUMNS, posts)
        load.insert("post_targets", benchstore.TARGET_COLUMNS, targets)
        load.insert("post_metric_snapshots", benchstore.SNAPSHOT_COLUMNS, snaps)
        load.insert("post_metric_latest", benchstore.LATEST_COLUMNS, latest)
        counts["post_snapshots"] += len(snaps)
        for buf in (posts, targets, snaps, latest):
            buf.clear()

    span = (now - start).total_seconds()
    for pid in range(1, n_posts + 1):
        published = start + timedelta(seconds=rng.random() * span)
        acc_id, platform, followers = accounts[rng.randrange(10)]
        at_published = ts(published)
        posts.append(
            (
                pid,
                f"post number {pid} about things",
                "completed",
                "UTC",
                f"bench-{pid}",
                "cli",
                at_published,
                at_published,
                at_published,
            )
        )
        ceiling = 20 + rng.random() ** 2 * 400
        tau = 3 + rng.random() * 20
        # Mastodon-like accounts do not report reach/impressions (NULL, as in real data).
        reports_reach = platform == "bluesky"
        last = None
        for off in OFFSETS_H:
            at = published + timedelta(hours=off, minutes=rng.random() * 10)
            if at >= now:
                break
            f = 1 - math.exp(-off / tau)
            likes, comments, shares = int(ceiling * f), int(ceiling * 0.1 * f), int(ceiling * 0.15 * f)
            eng = likes + comments + shares
            impressions = int(ceiling * 30 * f) if reports_reach else None
            reach = int(ceiling * 20 * f) if reports_reach else None
            snaps.append((pid, ts(at), impressions, reach, likes, comments, shares, 0, eng, followers))
            last = snaps[-1]
        targets.append(
            (
                pid,
                pid,
                acc_id,
                platform,
                "completed",
                f"k{pid}",
                f"{platform}-{pid}",
                f"https://{platform}.example/p/{pid}",
                1,
                at_published,
                last[1] if last else None,
            )
        )
        if last:
            latest.append(last)
        if len(snaps) >= CHUNK:
            flush()
    flush()
    load.commit()
    return counts


def replicate(times: int) -> dict[str, int]:
    """Multiply the store's posts by `times`: every post, target, snapshot and latest row again
    under new ids, at the same moments (SQL inside the database: minutes, where building
    500,000 posts row by row in Python takes hours). Accounts and their snapshots stay as they
    are; the rollups are rebuilt afterwards."""
    from sqlalchemy import text

    from postcli.store.session import engine

    with engine().begin() as conn:

        def one(sql: str) -> int:
            return int(conn.execute(text(sql)).scalar_one())

        n = one("SELECT max(id) FROM posts")
        for k in range(1, times):
            p = {"k": str(k), "n": k * n, "n0": n}
            conn.execute(
                text(
                    "INSERT INTO posts (id, text, status, timezone, correlation_id, source, created_at, updated_at,"
                    " published_at) SELECT id + :n, text, status, timezone, correlation_id || '-' || :k, source,"
                    " created_at, updated_at, published_at FROM posts WHERE id <= :n0"
                ),
                p,
            )
            conn.execute(
                text(
                    "INSERT INTO post_targets (id, post_id, account_id, platform, status, idempotency_key,"
                    " platform_post_id, platform_post_url, attempt_count, completed_at, last_metrics_at)"
                    " SELECT id + :n, post_id + :n, account_id, platform, status, idempotency_key || '-' || :k,"
                    " platform_post_id || '-' || :k, platform_post_url || '-' || :k, attempt_count, completed_at,"
                    " last_metrics_at FROM post_targets WHERE id <= :n0"
                ),
                p,
            )
            conn.execute(
                text(
                    "INSERT INTO post_metric_snapshots (target_id, captured_at, impressions, reach, likes,"
                    " comments, shares, quotes, engagement, follower_count) SELECT target_id + :n,"
                    " captured_at, impressions, reach, likes, comments, shares, quotes, engagement, follower_count"
                    " FROM post_metric_snapshots WHERE target_id <= :n0"
                ),
                p,
            )
            conn.execute(
                text(
                    "INSERT INTO post_metric_latest (target_id, captured_at, impressions, reach, likes,"
                    " comments, shares, quotes, engagement, follower_count) SELECT target_id + :n,"
                    " captured_at, impressions, reach, likes, comments, shares, quotes, engagement, follower_count"
                    " FROM post_metric_latest WHERE target_id <= :n0"
                ),
                p,
            )
        return {
            "posts": one("SELECT count(*) FROM posts"),
            "post_snapshots": one("SELECT count(*) FROM post_metric_snapshots"),
        }


def without_count_triggers() -> None:
    """Create the schema and drop published_counts' triggers for the bulk load: a trigger per
    target row queries the post's targets, and on fresh tables (no statistics) PostgreSQL plans
    those as scans of the growing table (the 1x load took 270 s instead of 13)."""
    from postcli.store import published_counts
    from postcli.store.session import engine

    with engine().begin() as conn:
        published_counts.uninstall(conn)


def rebuild_rollups() -> int:
    """Fill account_post_hourly (and the latest rows' reported values), published_sums,
    published_hours and the latest rows' engagement_peak from the snapshots, as `db upgrade`
    (migrations 0010, 0011, 0014) does; put published_counts' triggers back and fill it from
    the targets (migration 0012)."""
    from postcli.store import published_counts, rollup
    from postcli.store.session import engine

    with engine().begin() as conn:
        published_counts.install(conn)
        published_counts.rebuild(conn)
        rollup.rebuild_peaks(conn)
        return rollup.rebuild(conn)


def time_reports(now: datetime, runs: int, only: set[str] | None = None) -> list[tuple[str, float, float, float]]:
    from postcli.services import reports
    from postcli.services.reports.catalog import REPORTS
    from postcli.store.dbapi import open_reader

    cases = []
    for days in (7, 30, 90):
        q = reports.ReportQuery(start=now - timedelta(days=days), end=now, tz="Europe/Berlin")
        for name in REPORTS:
            cases.append((f"{name} {days}d", name, q))
    q = reports.ReportQuery(start=now - timedelta(days=90), end=now, tz="Europe/Berlin", platform="mastodon")
    cases += [(f"{n} 90d --platform mastodon", n, q) for n in REPORTS]
    q = reports.ReportQuery(start=now - timedelta(days=120), end=now - timedelta(days=30), tz="UTC")
    cases += [(f"{n} 90d ended 30d ago", n, q) for n in REPORTS]

    results = []
    for label, name, q in cases:
        if only and name not in only:
            continue
        fn = REPORTS[name].compute
        times, cpu = [], []
        for i in range(runs + 1):  # the first run warms caches and is not counted
            t0, c0 = time.perf_counter(), time.process_time()
            with open_reader() as db:  # connection included, as the command does it
                fn(db, q, now=now)
            if i:
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
        tracemalloc.start()
        with open_reader() as db:
            fn(db, q, now=now)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        results.append((label, statistics.median(times), statistics.median(cpu), peak / 1e6))
    return results


def time_commands(
    now: datetime, n_posts: int, runs: int, only: set[str] | None = None
) -> list[tuple[str, float, float, float, float]]:
    """Each report command as a whole process, alternating with `postcli --help`, in `runs`
    rounds of every command.

    The machine's speed drifts, so every command run is paired with a `--help` run
    right before it; the ratio is the median of the pairs' ratios (and best / best). The
    period ends at the store's last collection (`now` of the build), which is in the
    past of the real clock; nothing was collected after it, so the reports read it as a
    period ending now (period_sums.days_since_cutoff). The 90 days that ended 30 days before
    it had their posts collected after their end: overview and platforms take the capture days
    since out of the sums, heatmap and best-times out of published_hours, and top reads its
    walk's candidates as of that end.
    """
    base = [sys.executable, "-m", "postcli"]

    def period_args(days: int, ago: int = 0) -> list[str]:
        end = now - timedelta(days=ago)
        since, until = (end - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ"), end.strftime("%Y-%m-%dT%H:%M:%SZ")
        return ["--since", since, "--until", until, "--tz", "Europe/Berlin"]

    period = period_args(7)
    names = [
        n
        for n in ("overview", "timeline", "growth", "top", "platforms", "heatmap", "best-times")
        if not only or n in only
    ]
    commands = []
    for name in names:
        for fmt in ([], ["--json"], ["--csv"]):
            commands.append([name, *period, *fmt])
    if not only or "overview" in only:
        commands.append(["overview", *period, "--platform", "mastodon"])
    if not only or "post" in only:
        commands += [["post", str(n_posts // 2)], ["post", str(n_posts // 2), "--json"]]
    # Longer periods, and one that ended 30 days ago (issue 31), in every format.
    labels = {}
    for days, ago in ((30, 0), (90, 0), (90, 30)):
        for name in names:
            for fmt in ([], ["--json"], ["--csv"]):
                cmd = [name, *period_args(days, ago), *fmt]
                labels[id(cmd)] = " ".join([name, *fmt, f"{days}d"]) + (f" ended {ago}d ago" if ago else "")
                commands.append(cmd)
        if not only or "overview" in only:
            cmd = ["overview", *period_args(days, ago), "--platform", "mastodon"]
            labels[id(cmd)] = f"overview --platform mastodon {days}d" + (f" ended {ago}d ago" if ago else "")
            commands.append(cmd)

    # As installed: with bytecode caches (a sandbox may set PYTHONDONTWRITEBYTECODE, which
    # would make every run compile postcli's modules from source).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def run(args: list[str]) -> float:
        t0 = time.perf_counter()
        done = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        secs = time.perf_counter() - t0
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
        return secs

    run([*base, "analytics", *commands[0]])  # warm the page cache and .pyc files
    helps: list[list[float]] = [[] for _ in commands]
    cmds: list[list[float]] = [[] for _ in commands]
    # Round by round, every command once a round: a burst of load on the machine (seconds long)
    # then lands on a run or two of many commands, not on every run of one (one command of 90
    # came out at 1.3-1.4x in a run and at 1.0-1.1x in the next, best/best as high: all its runs
    # back to back had been slowed).
    for _ in range(runs):
        for i, cmd in enumerate(commands):
            helps[i].append(run([*base, "--help"]))
            cmds[i].append(run([*base, "analytics", *cmd]))
    results = []
    for cmd, c_runs, h_runs in zip(commands, cmds, helps):
        # Each run is paired with the --help run just before it: the median of the pairs'
        # ratios follows the machine's drift; best/best is the cost with the least noise.
        pair = statistics.median(c / h for c, h in zip(c_runs, h_runs))
        label = labels.get(id(cmd)) or " ".join(a for a in cmd if a not in period)
        results.append((label, statistics.median(c_runs), statistics.median(h_runs), pair, min(c_runs) / min(h_runs)))
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", help="directory for the store (reused when it already holds one)")
    ap.add_argument("--posts", type=int, default=50_000, help="posts in a new store")
    ap.add_argument(
        "--times",
        type=int,
        default=1,
        help="multiply a new store's posts (and their snapshots) by this: 10 for the 10x variant",
    )
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--process-runs", type=int, default=5, help="runs per command, end to end (0: skip)")
    ap.add_argument("--only", metavar="NAMES", help="only these reports, comma-separated (top,heatmap; post)")
    where = ap.add_mutually_exclusive_group()
    where.add_argument(
        "--database-url",
        metavar="URL",
        help="a PostgreSQL database (postgresql+psycopg://user@host:port/db) to build the store in when it holds "
        "no posts, else to reuse",
    )
    where.add_argument(
        "--pg",
        action="store_true",
        help="build the store in a throwaway PostgreSQL server (initdb + pg_ctl, as tests/pgserver.py), "
        "stopped at the end",
    )
    ap.add_argument(
        "--keep-pg",
        action="store_true",
        help="with --pg: leave the server running and print its URL (for --database-url) and how to stop it",
    )
    args = ap.parse_args()
    if args.db and (args.database_url or args.pg):
        ap.error("--db is a SQLite store's directory: not with --database-url or --pg")
    if args.keep_pg and not args.pg:
        ap.error("--keep-pg goes with --pg")

    server = None
    url = args.database_url
    if args.pg:
        server = benchstore.start(keep=args.keep_pg)
        url = server.url(benchstore.DBNAME)
        print(f"throwaway PostgreSQL: {url}", flush=True)
    try:
        return bench(args, url)
    finally:
        if server is not None and args.keep_pg:
            print(f"\nthe server keeps running: --database-url {url}\nstop it: {benchstore.stop_command(server)}")
        elif server is not None:
            server.stop()


def bench(args: argparse.Namespace, url: str | None) -> int:
    home = Path(args.db) if args.db else Path(tempfile.mkdtemp(prefix="postcli-bench-"))
    os.environ["POSTCLI_HOME"] = str(home)
    if url:
        from postcli.store.session import normalize_url

        url = normalize_url(url)
        os.environ["POSTCLI_DATABASE_URL"] = url  # the service calls and every command run below
        where = f"PostgreSQL {benchstore.server_version(url)} at {url}"
        fresh = not benchstore.holds_store(url)
    else:
        os.environ.pop("POSTCLI_DATABASE_URL", None)
        where = str(home / "postcli.db")
        fresh = not (home / "postcli.db").exists()
    # A fixed "now" so a reused store and a fresh one give the same periods.
    now = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)

    if fresh:
        steps = []
        t0 = time.perf_counter()
        without_count_triggers()
        counts = build(now, args.posts)
        steps.append(("load", time.perf_counter()))
        if args.times > 1:
            counts.update(replicate(args.times))
            steps.append((f"x{args.times}", time.perf_counter()))
        counts["account_hours"] = rebuild_rollups()
        steps.append(("rollups", time.perf_counter()))
        benchstore.after_load(url, home)
        steps.append(("VACUUM ANALYZE" if url else "VACUUM", time.perf_counter()))
        secs = time.perf_counter() - t0
        parts, prev = [], t0
        for name, at in steps:
            parts.append(f"{name} {at - prev:.1f}")
            prev = at
        print(
            f"built {where} in {secs:.1f} s ({', '.join(parts)}): " + ", ".join(f"{k} {v:,}" for k, v in counts.items())
        )
    else:
        print(f"reusing {where}")
    from postcli.store.dbapi import open_reader

    with open_reader() as db:  # on a store made by an older postcli this migrates it first
        n_posts = db.scalar("SELECT count(*) FROM posts")
        n_snaps = db.scalar("SELECT count(*) FROM post_metric_snapshots")
    size = benchstore.size(home, url)
    print(f"{n_posts:,} posts, {n_snaps:,} post snapshots: {size / max(n_snaps, 1):.0f} bytes per snapshot")

    only = set(args.only.split(",")) if args.only else None
    results = time_reports(now, args.runs, only) if not only or only - {"post"} else []
    width = max((len(r[0]) for r in results), default=10)
    # CPU ms: what the process itself spent (SQLite runs in it, a PostgreSQL server does not);
    # on a busy machine the wall time also counts waiting for a core, the CPU time hardly does.
    print(f"\n{'report (service call, connection included)'.ljust(width)}  median ms  CPU ms  peak MB (tracemalloc)")
    for label, ms, cpu_ms, mb in results:
        flag = "" if ms <= QUERY_TARGET_MS else f"  <-- over {QUERY_TARGET_MS} ms"
        print(f"{label.ljust(width)}  {ms:9.1f}  {cpu_ms:6.1f}  {mb:7.2f}{flag}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    if fresh:  # the build's own memory: the 150 MB target is for the reports, a run that reuses a store
        print(f"\npeak RSS of this process (build included, so not held to 150 MB): {rss:.0f} MB")
    else:
        print(f"\npeak RSS of this process: {rss:.0f} MB")
    slow = [r for r in results if r[1] > QUERY_TARGET_MS]

    over = []
    if args.process_runs:
        procs = time_commands(now, n_posts, args.process_runs, only)
        width = max(len(r[0]) for r in procs)
        # issue 31: within 1.5x `--help` at 10M snapshots, 1.25x at 1M
        target = PROCESS_TARGET if n_snaps >= 5_000_000 else PROCESS_TARGET_1M
        print(
            f"\n{'postcli analytics ... (7d unless said, whole process)'.ljust(width)}  median s  --help s  "
            "x --help (median of pairs, best/best)"
        )
        for label, secs, help_secs, ratio, best in procs:
            flag = "" if ratio <= target else f"  <-- over {target}x"
            print(f"{label.ljust(width)}  {secs:8.3f}  {help_secs:8.3f}  {ratio:6.2f}x  {best:6.2f}x{flag}")
        over = [r for r in procs if r[3] > target]
    return 1 if slow or over or (rss >= 150 and not fresh) else 0


if __name__ == "__main__":
    sys.exit(main())
