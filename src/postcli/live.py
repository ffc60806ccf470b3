"""Spinners and progress bars on standard error (Rich's Live), ended however a command ends.

A Live hides the cursor and redraws its line from a thread until it is stopped. A command stops
its bar in a `finally`; a Ctrl-C that lands while the bar starts, before that `try` is entered,
left it running: "error: interrupted." drawn over by the bar and the shell's cursor hidden. So
each one is noted here while it runs, and the CLI stops what is left (stop_all) before it prints
an error and exits. output.py builds them on its stderr console; see docs/output.md.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:
    from rich.console import Console

_running: list[Any] = []


def start(live: Any) -> None:
    """Start a Rich Progress or Status; one interrupted while starting is stopped at once."""
    _running.append(live)
    try:
        live.start()
    except BaseException:
        stop(live)
        raise


def stop(live: Any) -> None:
    if live in _running:
        _running.remove(live)
    live.stop()


def stop_all() -> None:
    """Stop every spinner and bar still running: Rich clears it and shows the cursor again."""
    while _running:
        stop(_running[-1])


class Bar:
    """A transient progress bar on `console`, started at once; none when `console` is None
    (`shown` is False, update and stop do nothing)."""

    def __init__(self, label: str, console: Console | None) -> None:
        self._bar: Any = None
        if console is not None:
            from rich.progress import Progress

            self._bar = Progress(console=console, transient=True)
            self._task = self._bar.add_task(label, total=None)
            start(self._bar)

    @property
    def shown(self) -> bool:
        return self._bar is not None

    def update(self, done: int, total: int | None, description: str | None = None) -> None:
        if self._bar is not None:
            extra = {} if description is None else {"description": description}
            self._bar.update(self._task, completed=done, total=total, **extra)

    def stop(self) -> None:
        if self._bar is not None:
            stop(self._bar)


@contextmanager
def spinner(console: Console, label: str) -> Iterator[None]:
    """A transient spinner on `console` while the block runs (Console.status)."""
    status = console.status(label)
    start(status)
    try:
        yield
    finally:
        stop(status)
