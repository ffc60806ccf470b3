"""postcli on a pseudo-terminal, as a person runs it: the sign-in prompts (Terminal) and whole
commands with their colours, bars and prompts (run_on_terminal)."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence


def as_a_shell_starts_it() -> None:
    """In the child before exec: Ctrl-C (SIGINT) and SIGQUIT back to their defaults, as a shell
    gives a command it runs in the foreground. A test run started in the background by a shell
    without job control (`.ci/run &`, nohup, many CI runners) has them ignored, every child
    inherits that, Python then installs no KeyboardInterrupt handler, and a Ctrl-C does nothing:
    the tests that interrupt postcli waited until killed."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


def _take_terminal() -> None:
    import fcntl
    import termios

    as_a_shell_starts_it()
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """The postcli entry point on a pseudo-terminal, as a person runs it."""

    def __init__(self, *args: str) -> None:
        exe = Path(sys.executable).with_name("postcli")
        self.master, slave = pty.openpty()
        env = {**os.environ, "BROWSER": "true", "COLUMNS": "200", "TERM": "dumb"}
        # Its own session with the pty as controlling terminal: getpass reads /dev/tty.
        self.proc = subprocess.Popen(
            [str(exe), *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            close_fds=True,
            preexec_fn=_take_terminal,
        )
        os.close(slave)
        self.seen = ""

    def read_until(self, pattern: str, timeout: float = 30) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.seen)
            if found:
                return found
            assert time.monotonic() < deadline, f"never saw {pattern!r}: {self.seen!r}"
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    self.seen += os.read(self.master, 4096).decode(errors="replace")
                except OSError:  # the child closed the terminal
                    assert self.proc.poll() is not None
                    raise AssertionError(f"exited {self.proc.returncode} before {pattern!r}: {self.seen!r}") from None

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def finish(self, timeout: float = 60) -> int:
        code = self.proc.wait(timeout=timeout)
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if not ready:
                break
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                break
            if not chunk:
                break
            self.seen += chunk.decode(errors="replace")
        os.close(self.master)
        return code


def _asleep(pid: int) -> bool:
    """Whether the child waits (for input, a timer, a lock) rather than runs. A Ctrl-C typed after
    input() wrote its prompt but before it reads is lost: CPython's reader blocks on the terminal
    without looking at the signal that came. Without /proc, keys are typed at once."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "S"


def run_on_terminal(
    argv: list[str],
    *,
    columns: int,
    env: dict[str, str],
    stdout: int | None = None,
    stderr: int | None = None,
    keys: Sequence[tuple[bytes, bytes]] = (),
    timeout: float = 120,
) -> tuple[int, bytes]:
    """Run `argv` to the end on a new pseudo-terminal `columns` wide (stdin, stdout and stderr, or
    stdout/stderr to the file descriptor given), as its controlling terminal (so getpass reads it
    and a typed Ctrl-C interrupts): its exit code and everything the terminal received. `keys`:
    (text, what to type) in order, each typed once `text` has appeared since the previous one and
    the child waits.
    A child still running after `timeout` seconds is killed and the test fails."""
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    proc = subprocess.Popen(
        argv,
        stdin=slave,
        stdout=slave if stdout is None else stdout,
        stderr=slave if stderr is None else stderr,
        env=env,
        close_fds=True,
        preexec_fn=_take_terminal,
    )
    os.close(slave)
    seen = b""
    pending, mark = list(keys), 0
    deadline = time.monotonic() + timeout
    while True:
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            os.close(master)
            raise AssertionError(f"{argv[:4]} still running after {timeout} s: {seen[-2000:]!r}")
        if pending and pending[0][0] in seen[mark:] and _asleep(proc.pid):
            mark = len(seen)
            os.write(master, pending.pop(0)[1])
        ready, _, _ = select.select([master], [], [], 0.1)
        if not ready:
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every end of the terminal was closed
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    return proc.wait(timeout=timeout), seen
