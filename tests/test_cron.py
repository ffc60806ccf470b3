"""`postcli cron` (issue 27): the lines, and --install/--remove against a fake `crontab` on PATH
that keeps the table in a file: other lines untouched, installing twice adds nothing."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from support.cli import run_postcli

FAKE_CRONTAB = """#!/bin/sh
# -l: print the table (or say there is none); -: replace it with stdin.
table="$CRONTAB_FILE"
if [ "$1" = "-l" ]; then
  if [ -f "$table" ]; then cat "$table"; else echo "no crontab for $(id -un)" >&2; exit 1; fi
elif [ "$1" = "-" ]; then
  cat > "$table"
else
  exit 2
fi
"""


@pytest.fixture
def crontab(tmp_path: Path) -> tuple[dict[str, str], Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "crontab"
    fake.write_text(FAKE_CRONTAB)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    table = tmp_path / "table"
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "CRONTAB_FILE": str(table)}
    return env, table


def test_the_lines_name_this_postcli_and_its_home(home):
    r = run_postcli("cron")
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    # "m h dom mon dow POSTCLI_HOME=… /abs/postcli COMMAND >> log 2>&1  # why"
    assert [line.split()[7] for line in lines] == ["publish-due", "collect", "accounts", "doctor"]
    exe = lines[0].split()[6]
    assert os.path.isabs(exe) and exe.endswith("postcli")
    assert all(line.split()[6] == exe for line in lines)
    assert all(line.split()[5] == f"POSTCLI_HOME={home}" for line in lines)


def test_install_is_idempotent_and_remove_leaves_other_lines(home, crontab):
    env, table = crontab
    table.write_text("MAILTO=me@example.com\n0 3 * * * /usr/bin/backup --all\n")
    first = run_postcli("cron", "--install", env=env)
    assert first.returncode == 0 and "Installed" in first.stdout
    after_one = table.read_text()
    second = run_postcli("cron", "--install", env=env)
    assert second.returncode == 0 and "Already installed" in second.stdout
    assert table.read_text() == after_one
    assert after_one.startswith("MAILTO=me@example.com\n0 3 * * * /usr/bin/backup --all\n")
    assert after_one.count("publish-due") == 1 and after_one.count("# >>> postcli") == 1
    removed = run_postcli("cron", "--remove", env=env)
    assert removed.returncode == 0
    assert table.read_text() == "MAILTO=me@example.com\n0 3 * * * /usr/bin/backup --all\n"
    again = run_postcli("cron", "--remove", env=env)
    assert "No postcli lines" in again.stdout


def test_install_into_an_empty_crontab(home, crontab):
    env, table = crontab
    assert run_postcli("cron", "--install", env=env).returncode == 0
    assert table.read_text().splitlines()[0].startswith("# >>> postcli")


def test_no_crontab_points_at_systemd(home, tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    r = run_postcli("cron", "--install", env={"PATH": str(empty)})
    assert r.returncode == 4 and "no `crontab`" in r.stderr and "--systemd" in r.stderr
    units = run_postcli("cron", "--systemd")
    assert units.returncode == 0 and "[Timer]" in units.stdout and "OnCalendar=*:*:00" in units.stdout
