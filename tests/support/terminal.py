"""The postcli entry point on a pseudo-terminal, for the interactive sign-in tests."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path


def _take_terminal() -> None:
    import fcntl
    import termios

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
