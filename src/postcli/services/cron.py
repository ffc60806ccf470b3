"""`postcli cron`: the crontab lines unattended use needs, and installing or removing them in the
user's crontab (through `crontab -l` / `crontab -`) between marker comments, every other line
left exactly as it was."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from postcli import settings
from postcli.errors import BadState, PostcliError

BEGIN = "# >>> postcli (managed by `postcli cron --install`; remove with `postcli cron --remove`) >>>"
END = "# <<< postcli <<<"

# (schedule, command, why): every minute, hourly at :17, daily health and doctor.
JOBS = (
    ("* * * * *", "publish-due", "publish scheduled posts"),
    ("17 * * * *", "collect", "snapshot metrics"),
    ("5 6 * * *", "accounts health", "refresh tokens before they expire"),
    ("15 6 * * *", "doctor", "a daily check that nothing stopped"),
)


def executable() -> str:
    """The absolute path of the postcli being run (cron has a bare PATH)."""
    argv0 = Path(sys.argv[0])
    if argv0.name == "postcli" and argv0.exists():
        return str(argv0.resolve())
    found = shutil.which("postcli")
    if found:
        return str(Path(found).resolve())
    return f"{sys.executable} -m postcli"


def lines() -> list[str]:
    exe = executable()
    home = os.environ.get("POSTCLI_HOME")
    env = f"POSTCLI_HOME={shlex.quote(str(Path(home).expanduser().resolve()))} " if home else ""
    log = shlex.quote(str(settings.paths().data_dir / "cron.log"))
    return [f"{when} {env}{exe} {cmd} >> {log} 2>&1  # {why}" for when, cmd, why in JOBS]


def systemd_units() -> str:
    """What to use where there is no crontab: a user service and timer per job."""
    exe = executable()
    home = os.environ.get("POSTCLI_HOME")
    env = f"Environment=POSTCLI_HOME={Path(home).expanduser().resolve()}\n" if home else ""
    calendars = {
        "publish-due": "*:*:00",
        "collect": "*:17:00",
        "accounts health": "*-*-* 06:05:00",
        "doctor": "*-*-* 06:15:00",
    }
    out = []
    for _when, cmd, why in JOBS:
        name = "postcli-" + cmd.replace(" ", "-")
        out.append(
            f"# ~/.config/systemd/user/{name}.service\n[Unit]\nDescription=postcli {cmd} ({why})\n"
            f"[Service]\nType=oneshot\n{env}ExecStart={exe} {cmd}\n\n"
            f"# ~/.config/systemd/user/{name}.timer\n[Timer]\nOnCalendar={calendars[cmd]}\nPersistent=true\n"
            f"[Install]\nWantedBy=timers.target\n"
        )
    out.append(
        "# then: systemctl --user daemon-reload && systemctl --user enable --now "
        + " ".join(f"postcli-{c.replace(' ', '-')}.timer" for _w, c, _y in JOBS)
    )
    return "\n".join(out)


@dataclass
class CronChange:
    changed: bool
    lines: list[str]


def _crontab() -> str:
    found = shutil.which("crontab")
    if found is None:
        raise BadState(
            "this machine has no `crontab` command.",
            hint="Use a systemd user timer instead: `postcli cron --systemd` prints the units.",
        )
    return found


def _read(crontab: str) -> str:
    proc = subprocess.run([crontab, "-l"], capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        if "no crontab" in (proc.stderr or "").lower():
            return ""
        raise PostcliError(f"`crontab -l` failed: {(proc.stderr or '').strip()[:200]}")
    return proc.stdout


def _write(crontab: str, text: str) -> None:
    proc = subprocess.run([crontab, "-"], input=text, capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        raise PostcliError(f"`crontab -` refused the new table: {(proc.stderr or '').strip()[:200]}")


def _without_block(text: str) -> list[str]:
    out, inside = [], False
    for line in text.splitlines():
        if line == BEGIN:
            inside = True
            continue
        if line == END and inside:
            inside = False
            continue
        if not inside:
            out.append(line)
    return out


def install() -> CronChange:
    """Our block (replacing an older one of ours), the other lines untouched; twice = no change."""
    crontab = _crontab()
    current = _read(crontab)
    block = [BEGIN, *lines(), END]
    kept = _without_block(current)
    new = "\n".join(kept + block) + "\n"
    if new == (current if current.endswith("\n") or not current else current + "\n"):
        return CronChange(False, block)
    _write(crontab, new)
    return CronChange(True, block)


def remove() -> CronChange:
    crontab = _crontab()
    current = _read(crontab)
    kept = _without_block(current)
    if kept == current.splitlines():
        return CronChange(False, [])
    _write(crontab, "\n".join(kept) + ("\n" if kept else ""))
    return CronChange(True, [])
