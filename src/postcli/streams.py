"""The standard streams as postcli writes them, whatever state they are in.

Standard output closed (`>&-`) or on a full device: OutputFailed, one message, exit 1 (a
reader that left a pipe stays a quiet BrokenPipeError). Standard error closed or full:
warnings are dropped, and the CLI exits 1 when an error is what could not be shown. An
encoding that is not UTF-8 gets what it can carry, the rest replaced. A COLUMNS nothing fits
in is ignored. output.py's consoles write through OUT and ERR; see docs/output.md.
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Any

from postcli.errors import OutputFailed

__all__ = ["ERR", "OUT", "OutputFailed", "flush", "prepare_streams", "silence_stdout", "stderr_usable"]


class _Stream:
    """sys.stdout or sys.stderr as they are at each write (CliRunner swaps them), failures made plain.

    Standard output that cannot be written raises OutputFailed (a reader that left, EPIPE,
    stays a BrokenPipeError: `postcli post list | head` ends quietly). Standard error that
    cannot be written is noted (`lost`) and dropped: a warning must not stop a command; the
    CLI exits 1 when an error message is what was lost (docs/output.md).
    """

    def __init__(self, err: bool) -> None:
        self.err = err
        self.lost = False

    @property
    def target(self) -> Any:
        stream = sys.stderr if self.err else sys.stdout
        # While a Rich progress bar or spinner is live it swaps both for a FileProxy that prints
        # through the bar's console, whose file is ERR: writing to the proxy would loop forever
        # (`postcli demo` hung on a terminal). The consoles write to the real streams; the bar's own
        # console still prints above the bar, and standard output stays standard output.
        return getattr(stream, "rich_proxied_file", stream)

    def _failed(self, exc: BaseException | None) -> None:
        if self.err:
            self.lost = True
            return
        if isinstance(exc, BrokenPipeError):
            raise exc
        raise OutputFailed.of(exc)

    def write(self, text: str) -> int:
        target = self.target
        if target is None:
            self._failed(None)
            return len(text)
        try:
            return target.write(text)
        except (OSError, ValueError) as exc:
            self._failed(exc)
            return len(text)

    def flush(self) -> None:
        target = self.target
        if target is None:
            return
        try:
            target.flush()
        except (OSError, ValueError) as exc:
            self._failed(exc)

    def isatty(self) -> bool:
        try:
            return bool(self.target is not None and self.target.isatty())
        except (OSError, ValueError):
            return False

    def fileno(self) -> int:
        if self.target is None:
            raise OSError(errno.EBADF, "closed")
        return int(self.target.fileno())

    @property
    def encoding(self) -> str:
        return getattr(self.target, "encoding", None) or "utf-8"


OUT = _Stream(err=False)
ERR = _Stream(err=True)

# A COLUMNS rich would take literally although nothing fits in it (0, 5) or it means no
# terminal (99999999): ignored, as shutil.get_terminal_size ignores 0.
MIN_WIDTH, MAX_WIDTH = 40, 10_000


def width_for(stream: _Stream) -> int | None:
    """The width to force on a console: None lets rich read COLUMNS or the terminal itself."""
    text = os.environ.get("COLUMNS")
    if text is None or not text.isdigit() or MIN_WIDTH <= int(text) <= MAX_WIDTH:
        return None
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError):
        columns = 0
    return columns if MIN_WIDTH <= columns <= MAX_WIDTH else 80


def is_utf(stream: _Stream) -> bool:
    return stream.encoding.lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig")


# What postcli itself prints beyond ASCII, spelled in ASCII for an encoding without it.
_ASCII = {"\u00f7": "/", "\u2014": "-", "\u2013": "-", "\u2192": "->", "\u2026": "...", "\u00b7": "*", "\u2022": "*"}


def _replace(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    return "".join(_ASCII.get(c, "?") for c in exc.object[exc.start : exc.end]), exc.end


def prepare_streams() -> None:
    """Before a command runs: text an output encoding cannot carry (latin-1, ASCII under LC_ALL=C)
    is replaced ("?", or "-" for "—"), never a UnicodeEncodeError; JSON escapes it instead (print_json)."""
    import codecs

    codecs.register_error("postcli-replace", _replace)
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        encoding = (getattr(stream, "encoding", None) or "utf-8").lower().replace("-", "")
        if reconfigure is not None and not encoding.startswith("utf"):
            try:
                reconfigure(errors="postcli-replace")
            except (OSError, ValueError):
                pass


def stderr_usable() -> bool:
    """Whether messages reach standard error (it is open and no write to it has failed)."""
    return sys.stderr is not None and not ERR.lost


def flush() -> None:
    """Write out what standard output still buffers (OutputFailed when that fails)."""
    OUT.flush()


def silence_stdout() -> None:
    """After standard output failed: point it at /dev/null so nothing is retried at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):
        pass
