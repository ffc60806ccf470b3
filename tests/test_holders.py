"""services/holders.py: a claim's holder is provably dead only when nothing else could be true.

Real processes: a child that reports its own identity, then lives, dies unreaped (a
zombie) or dies and is reaped. What cannot be told from here (another host, another pid
namespace or boot, a holder written before holders were recorded) counts as alive.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from postcli.services import holders

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="process identities come from /proc")

CHILD = "from postcli.services import holders; h = holders.me(); print(h.owner, h.proc, sep='|', flush=True); input()"


@pytest.fixture
def child():
    proc = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    owner, identity = proc.stdout.readline().strip().split("|")
    yield proc, owner, identity
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_a_live_holder_is_alive(child):
    _proc, owner, identity = child
    assert identity.startswith("linux ") and owner == f"{socket.gethostname()}:{_proc.pid}"
    assert holders.provably_dead(owner, identity) is False


def test_a_killed_holder_is_dead_reaped_or_not(child):
    proc, owner, identity = child
    proc.send_signal(signal.SIGKILL)
    os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)  # dead, still a zombie: not reaped yet
    assert holders.provably_dead(owner, identity) is True
    proc.wait()  # reaped: the pid is gone
    assert holders.provably_dead(owner, identity) is True


def test_a_pid_now_used_by_another_process_is_a_dead_holder():
    me = holders.me()
    assert holders.provably_dead(me.owner, me.proc) is False  # this very process
    kind, boot, ns, start = (me.proc or "").split(" ")
    earlier = f"{kind} {boot} {ns} {int(start) - 1}"  # the same pid, started before: another process
    assert holders.provably_dead(me.owner, earlier) is True


@pytest.mark.parametrize(
    "change",
    ["other host", "other namespace", "other boot", "no identity", "other system", "malformed"],
)
def test_what_cannot_be_told_from_here_is_alive(child, change):
    proc, owner, identity = child
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kind, boot, ns, start = identity.split(" ")
    variants = {
        "other host": ("elsewhere.example:" + owner.rpartition(":")[2], identity),
        "other namespace": (owner, f"{kind} {boot} pid:[1] {start}"),
        "other boot": (owner, f"{kind} 00000000-0000-0000-0000-000000000000 {ns} {start}"),
        "no identity": (owner, None),  # a claim taken before holders were recorded
        "other system": (owner, "token 0123456789abcdef"),
        "malformed": (owner, f"{kind} {boot}"),
    }
    assert holders.provably_dead(*variants[change]) is False
