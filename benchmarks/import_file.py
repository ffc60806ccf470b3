"""`postcli post import-file` on 10,000 rows (issue 29 benchmark; not a test).

Builds a CSV of N scheduled posts (two sandbox accounts, one or both targets, distinct times),
then times the whole command as a process (and a second import of the same file, which finds
every row already there), alternating with `postcli --help` as the yardstick. Prints rows per
second and the ratio to --help.

    python benchmarks/import_file.py [--rows 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path


def _postcli() -> list[str]:
    exe = Path(sys.executable).with_name("postcli")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "postcli"]


def _timed(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(_postcli() + args, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"postcli {' '.join(args)} failed: {proc.stderr}")
    return elapsed


def _csv(path: Path, rows: int) -> None:
    start = datetime.now(timezone.utc) + timedelta(days=2)
    with path.open("w") as fh:
        fh.write("text,to,at,id\n")
        for i in range(rows):
            to = "a.sandbox" if i % 3 else "a.sandbox;b.sandbox"
            when = (start + timedelta(minutes=17 * i)).strftime("%Y-%m-%d %H:%M")
            fh.write(f"Planned post number {i} with a little text #bench,{to},{when},row-{i}\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    firsts, seconds, helps = [], [], []
    for _ in range(args.runs):
        home = Path(tempfile.mkdtemp(prefix="postcli-import-bench-"))
        env = {**os.environ, "POSTCLI_HOME": str(home)}
        for handle in ("a", "b"):
            _timed(["accounts", "add", "sandbox", "--handle", handle], env)
        plan = home / "plan.csv"
        _csv(plan, args.rows)
        helps.append(_timed(["--help"], env))
        firsts.append(_timed(["post", "import-file", str(plan)], env))
        helps.append(_timed(["--help"], env))
        seconds.append(_timed(["post", "import-file", str(plan)], env))
        shutil.rmtree(home, ignore_errors=True)
    first, second, yard = statistics.median(firsts), statistics.median(seconds), statistics.median(helps)
    print(f"rows: {args.rows:,}   runs: {args.runs}")
    print(f"first import (creates every row):   {first:7.2f} s   {args.rows / first:9,.0f} rows/s")
    print(f"second import (all already there):  {second:7.2f} s   {args.rows / second:9,.0f} rows/s")
    print(f"postcli --help (yardstick):         {yard:7.3f} s   first import = {first / yard:,.0f}x --help")


if __name__ == "__main__":
    main()
