"""Who holds a claim (a post being published, a collect job), and whether it is provably dead.

A claim records its holder beside its lease: `locked_by` = "host:pid" (what users are
shown, and what a holder compares to know a claim is still its own) and `locked_proc`,
what tells that process apart from every other process that had, or will have, the
same host name and pid. On Linux that is the kernel's boot id, the pid namespace and
the process's start time; elsewhere a random token drawn once per process.

A claim whose lease has not run out is taken over only when its holder is provably
dead: on this machine, in this pid namespace and since this boot, and the pid is gone,
a zombie, or now another process (a different start time). Anything that cannot be
told (another host, another container with the same host name, a holder written by an
older postcli, a process hidden from us) counts as alive: its lease runs out instead.
The collector relies on this: a holder within the first half of its lease writes
without checking that its jobs are still its own (docs/design.md, "Results only for
jobs still held"), so only a process that can never write again may lose them early.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class Holder:
    owner: str  # "host:pid"
    proc: str | None  # see the module docstring; None when written by an older postcli


_cache: dict[int, Holder] = {}


def me() -> Holder:
    """This process (recomputed after a fork: the child has its own pid)."""
    pid = os.getpid()
    holder = _cache.get(pid)
    if holder is None:
        linux = _linux_identity(pid)
        proc = "linux " + " ".join(linux) if linux else "token " + secrets.token_hex(8)
        holder = _cache[pid] = Holder(f"{socket.gethostname()}:{pid}", proc)
    return holder


def provably_dead(owner: str | None, proc: str | None) -> bool:
    """Whether the process that took a claim as (`owner`, `proc`) can no longer run."""
    if not owner or not proc:
        return False
    host, _, pid_text = owner.rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    mine = me()
    kind, _, ident = proc.partition(" ")
    my_kind, _, my_ident = (mine.proc or "").partition(" ")
    if kind != my_kind:
        return False  # recorded on another kind of system: not this machine
    if kind == "token":
        if pid == os.getpid():
            return proc != mine.proc  # an earlier process that had our pid
        return _gone(pid)
    recorded, here = ident.split(" "), my_ident.split(" ")
    if len(recorded) != 3 or recorded[:2] != here[:2]:
        return False  # another boot, or another pid namespace (a container): its pids are not ours
    start = recorded[2]
    if _gone(pid):
        return True
    stat = _stat(pid)
    if stat is None:
        return False  # there, but hidden from us (/proc mounted with hidepid): alive as far as we know
    state, started = stat
    return state in ("Z", "X") or started != start


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # another user's process
    return False


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            return fh.read().strip()
    except OSError:
        return None


def _stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks since boot) from /proc/PID/stat."""
    text = _read(f"/proc/{pid}/stat")
    if not text or ")" not in text:
        return None
    # The command name (field 2) may hold spaces and parentheses: count from the last ")".
    fields = text.rpartition(")")[2].split()
    if len(fields) < 20:
        return None
    return fields[0], fields[19]


def _linux_identity(pid: int) -> tuple[str, str, str] | None:
    """(boot id, pid namespace, start time) of this process, when /proc tells them."""
    boot = _read("/proc/sys/kernel/random/boot_id")
    try:
        ns = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    stat = _stat(pid)
    if not boot or stat is None or " " in boot or " " in ns:
        return None
    return boot, ns, stat[1]
