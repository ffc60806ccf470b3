"""The one writer of every file a user asks postcli for (docs/output.md, "Files postcli writes").

`analytics report --html`, `--png`/`--svg` of the chart reports, `analytics digest -o` and
`db backup` all go through `target()` then `Target.write()`/`Target.fill()`:

- `-` means standard output;
- never one of postcli's own files (settings.Paths.own_files: the store and its -wal/-shm/
  -journal, config, credentials, media, locks), compared by directory entry and inode, so a
  symbolic link, a hard link or a bind mount does not get round it;
- never anything but a regular file: a device node (/dev/null, /dev/full), a FIFO, a socket,
  or a process's descriptor (/dev/stdout, /proc/self/fd/1) is refused, whoever runs it;
- an existing file only with --force; without it the new file is linked into place, which
  fails rather than replacing a file that appeared in the meantime;
- the data goes to a temporary file of postcli's own in the same folder (`.postcli-<random>.tmp`,
  created exclusively, so it can neither meet a user's file nor be too long a name), renamed into
  place; any failure removes it, so nothing is ever left half-written or behind;
- every failure says what is wrong: a directory, a missing folder, a file where a folder should
  be, a name longer than the file system allows (exit 2), no space left on the device (exit 1).

Light at import (stdlib, settings, errors): the report commands import it.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from postcli import settings
from postcli.errors import InvalidInput, OutputFailed, PostcliError

STDOUT = "-"
TEMP_PREFIX = ".postcli-"
TEMP_SUFFIX = ".tmp"
_STDOUT_HINT = "postcli writes regular files only; to write to standard output, give - as the file name."
_KINDS = {
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
}


@dataclass(frozen=True)
class Target:
    """A checked destination: `path` is None for standard output."""

    path: Path | None
    shown: str  # the name as the user gave it, for messages
    force: bool

    @property
    def is_stdout(self) -> bool:
        return self.path is None

    def write(self, data: bytes, *, private: bool = False) -> Path | None:
        """Write `data` whole or not at all; the path written (resolved), None for standard output."""

        def put(fd: int, _tmp: Path) -> None:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]

        if self.path is None:
            with _stdout() as out:
                out.write(data)
            return None
        return self._write(put, private=private)

    def fill(self, produce: Callable[[Path], None], *, private: bool = True) -> Path | None:
        """Let `produce(tmp)` write the temporary file by name (SQLite's online backup does), then place it."""
        return self._write(lambda _fd, tmp: produce(tmp), private=private)

    def _write(self, put: Callable[[int, Path], None], *, private: bool) -> Path | None:
        if self.path is None:
            _to_stdout(put)
            return None
        folder = self.path.parent
        try:
            fd, name = _mkstemp(folder)
        except OSError as exc:
            raise describe(exc, self.shown, folder) from None
        tmp = Path(name)
        try:
            try:
                os.chmod(tmp, 0o600 if private else 0o666 & ~_umask())
                put(fd, tmp)
                os.fsync(fd)  # a full disk may only say so here; and a rename must not outrun the data
            finally:
                os.close(fd)
            _place(tmp, self.path, self.force, self.shown)
        except OSError as exc:
            raise describe(exc, self.shown, folder) from None
        finally:
            _remove_temp(tmp)
        return self.path


def target(given: str | Path, *, force: bool = False, binary: bool = False) -> Target:
    """Check a destination before any work is done; raise InvalidInput saying what is wrong."""
    text = os.fspath(given)
    if not text.strip():
        raise InvalidInput("the output file name is empty.", hint="Give a file name, or - for standard output.")
    if text == STDOUT:
        if binary and _isatty():
            raise InvalidInput(
                "refusing to write binary data to the terminal.",
                hint="Redirect standard output to a file (> FILE), or give a file name instead of -.",
            )
        return Target(None, "standard output", force)
    shown = _short(text)
    if text.endswith(("/", os.sep)):
        raise InvalidInput(
            f"{shown} names a folder (it ends with /), not a file.", hint=f"Give a file name, e.g. {shown}report."
        )
    path = Path(os.path.expanduser(text))
    _check_folder(path, shown)
    real = _resolve(path, shown)
    try:
        st: os.stat_result | None = os.stat(real)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise describe(exc, shown, real.parent) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise InvalidInput(f"{shown} is a directory.", hint=f"Give a file name in it, e.g. {Path(shown) / 'report'}.")
    if st is not None and not stat.S_ISREG(st.st_mode):
        kind = _KINDS.get(stat.S_IFMT(st.st_mode), "not a regular file")
        raise InvalidInput(f"{shown} is {kind}, not a regular file; nothing was written.", hint=_STDOUT_HINT)
    _refuse_own(real, st, shown)
    if st is not None and not force:
        raise InvalidInput(f"{shown} already exists.", hint="Choose another file, or pass --force to replace it.")
    return Target(real, shown, force)


def describe(exc: OSError, shown: str, folder: Path | None = None) -> PostcliError:
    """An OSError met while writing `shown` as one message naming its cause (and the right exit code)."""
    where = _short(folder) if folder is not None and str(folder) else "."
    code = exc.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        cause = "no space left" if code == errno.ENOSPC else "the disk quota is used up"
        return PostcliError(
            f"cannot write {shown}: {cause} on the device holding {where}; nothing was written.",
            hint=room_hint(cause),
        )
    if code == errno.EFBIG:
        return PostcliError(
            f"cannot write {shown}: the file would be larger than this process may write (its file size "
            "limit, `ulimit -f`); nothing was written.",
            hint=room_hint("ulimit"),
        )
    if code == errno.ENAMETOOLONG:
        return InvalidInput(f"cannot write {shown}: a name in it is longer than the file system allows.")
    if code in (errno.EACCES, errno.EPERM):
        return InvalidInput(
            f"cannot write {shown}: permission denied in {where}.", hint="Choose a folder you can write to."
        )
    if code == errno.EROFS:
        return InvalidInput(f"cannot write {shown}: {where} is on a read-only file system.")
    if code == errno.ENOTDIR:
        return InvalidInput(f"cannot write {shown}: a part of the path that should be a folder is a file.")
    if code == errno.EISDIR:
        return InvalidInput(f"{shown} is a directory.", hint="Give a file name.")
    if code == errno.ENOENT:
        return InvalidInput(f"cannot write {shown}: the folder {where} does not exist.")
    return PostcliError(f"cannot write {shown}: {(exc.strerror or str(exc)).rstrip('.')}; nothing was written.")


def room_hint(problem: str) -> str:
    """What to do about a space_problem()."""
    if "ulimit" in problem:
        return "Raise the limit (ulimit -f unlimited), or write somewhere that needs less, then run it again."
    return "Free some space there (or write somewhere else), then run the command again."


def space_problem(path: Path) -> str | None:
    """Why nothing more can be written at `path`, when that is the reason: 'no space left on the device
    holding FOLDER', or the process's file size limit (`ulimit -f`); None when neither applies."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        st = os.statvfs(probe)
    except (OSError, AttributeError):  # AttributeError: no statvfs (Windows)
        st = None
    if st is not None:
        # Root may use the reserved blocks, other users only the available ones.
        free = (st.f_bfree if getattr(os, "geteuid", lambda: -1)() == 0 else st.f_bavail) * st.f_frsize
        if free < 64 * 1024 or (st.f_files and st.f_favail == 0):
            return f"no space left on the device holding {_short(probe)}"
    try:
        import resource
    except ImportError:  # Windows
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft != resource.RLIM_INFINITY:
        return f"this process may not write files larger than {soft:,} bytes (its file size limit, `ulimit -f`)"
    return None


# --- checks --------------------------------------------------------------------------


def _short(name: object) -> str:
    """A path for a message: a very long one shortened in the middle."""
    text = str(name)
    return text if len(text) <= 120 else f"{text[:60]}…{text[-40:]}"


def _check_folder(path: Path, shown: str) -> None:
    """The folder must exist: say which part is missing, or which part is a file."""
    parent = path.parent
    folder = _short(parent)
    parts = [*reversed(parent.parents), parent] if str(parent) not in ("", ".") else []
    for part in parts:
        try:
            st = os.stat(part)
        except FileNotFoundError:
            raise InvalidInput(
                f"cannot write {shown}: the folder {folder} does not exist"
                + (f" ({_short(part)} is missing)." if part != parent else "."),
                hint=f"Create it first (mkdir -p {folder}), or choose another path.",
            ) from None
        except OSError as exc:
            raise describe(exc, shown, part.parent) from None
        if not stat.S_ISDIR(st.st_mode):
            raise InvalidInput(
                f"cannot write {shown}: {_short(part)} is a file, not a folder.",
                hint="Choose a path whose folders are folders.",
            )


def _resolve(path: Path, shown: str) -> Path:
    """The entry a write would replace: symbolic links followed (as the shell's > does), a process's
    descriptor (/dev/stdout is a link to /proc/self/fd/1) refused."""
    p = Path(os.path.abspath(path))
    for _ in range(40):
        parent = Path(os.path.realpath(p.parent))
        if parent.parts[:2] == ("/", "proc"):
            raise InvalidInput(f"{shown} is a process's file descriptor, not a regular file.", hint=_STDOUT_HINT)
        p = parent / p.name
        _check_name(p, shown)
        try:
            if not stat.S_ISLNK(os.lstat(p).st_mode):
                return p
            p = Path(os.path.abspath(parent / os.readlink(p)))
        except FileNotFoundError:
            return p
        except OSError as exc:
            raise describe(exc, shown, parent) from None
    raise InvalidInput(f"cannot write {shown}: too many levels of symbolic links.")


def _check_name(real: Path, shown: str) -> None:
    try:
        limit = os.pathconf(real.parent, "PC_NAME_MAX")
    except (OSError, ValueError):
        return
    size = len(os.fsencode(real.name))
    if limit > 0 and size > limit:
        raise InvalidInput(
            f"cannot write {shown}: the file name is {size} bytes long; the file system of {_short(real.parent)} "
            f"allows at most {limit}.",
            hint="Choose a shorter file name.",
        )


def _refuse_own(real: Path, st: os.stat_result | None, shown: str) -> None:
    entry = _entry(real)
    folders = _folder_ids(real.parent)
    for own, what, is_dir in settings.paths().own_files(_sqlite_store()):
        for form in {own, Path(os.path.realpath(own))}:
            hit = (
                (_id(form) in folders)
                if is_dir
                else (entry == _entry(form) or (st is not None and _id(form) == (st.st_dev, st.st_ino)))
            )
            if hit:
                raise InvalidInput(
                    f"{shown} is {what}; postcli never writes over its own files.",
                    hint="Choose another file name or folder.",
                )


def _sqlite_store() -> Path | None:
    url = settings.database_url()
    if url.startswith("sqlite:///"):
        name = url[len("sqlite:///") :].split("?", 1)[0]
        return Path(name) if name and name != ":memory:" else None
    return None


def _id(p: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(p)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _entry(p: Path) -> tuple[object, ...]:
    """A directory entry: its folder's identity and its name."""
    folder = _id(p.parent)
    return (folder, p.name) if folder is not None else (os.path.realpath(p.parent), p.name)


def _folder_ids(folder: Path) -> set[tuple[int, int] | None]:
    ids = {_id(p) for p in (folder, *folder.parents)}
    ids.discard(None)
    return ids


# --- writing -------------------------------------------------------------------------


def _mkstemp(folder: Path) -> tuple[int, str]:
    import tempfile

    return tempfile.mkstemp(dir=folder, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)


def _place(tmp: Path, dest: Path, force: bool, shown: str) -> None:
    if force:
        os.replace(tmp, dest)
        return
    try:
        os.link(tmp, dest)  # fails if something took the name since the check: never replaces it
    except FileExistsError:
        raise InvalidInput(
            f"{shown} already exists.", hint="Choose another file, or pass --force to replace it."
        ) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.EXDEV):
            raise
        # A file system without hard links (FAT, some network shares): check, then rename.
        if os.path.lexists(dest):
            raise InvalidInput(
                f"{shown} already exists.", hint="Choose another file, or pass --force to replace it."
            ) from None
        os.replace(tmp, dest)


def _remove_temp(tmp: Path) -> None:
    """The temporary file and any journal SQLite left beside it (their names are as unique as it is)."""
    for p in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        try:
            p.unlink()
        except FileNotFoundError:
            pass
        except OSError:  # noqa: PERF203 - the failure being reported matters more than this one
            pass


def _to_stdout(put: Callable[[int, Path], None]) -> None:
    """Standard output for a file produced by name (a backup): made in a private temporary folder, then copied."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(prefix="postcli-") as scratch:
        fd, name = _mkstemp(Path(scratch))
        try:
            put(fd, Path(name))
            with open(name, "rb") as fh, _stdout() as out:
                shutil.copyfileobj(fh, out)
        finally:
            os.close(fd)


@contextmanager
def _stdout() -> Iterator[BinaryIO]:
    """Standard output's bytes; closed (`>&-`) or failing (a full device) is OutputFailed (exit 1),
    a reader that left stays a BrokenPipeError (the CLI ends quietly)."""
    try:
        sys.stdout.flush()
        out = sys.stdout.buffer
        yield out
        out.flush()
    except BrokenPipeError:
        raise
    except (AttributeError, OSError, ValueError) as exc:
        raise OutputFailed.of(exc) from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _isatty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False
