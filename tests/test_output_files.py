"""Files postcli writes because a user named them (issue 23, items 1, 2, 5 and 8): one writer
(src/postcli/outfile.py) behind `analytics report --html`, `--png`/`--svg`, `analytics digest -o`
and `db backup`.

Never postcli's own files, never a device node or a descriptor, an existing file only with
--force, a temporary name of its own, nothing left behind on a failure, and every failure named:
a directory, a missing folder, a file where a folder should be, a name too long, a full disk.
The full disk is met for real: RLIMIT_FSIZE in a child process (works for any user in any
container), and a 1 MiB tmpfs where this machine lets a mount namespace be made.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from support.builders import report_store

VL = pytest.mark.skipif(
    __import__("importlib").util.find_spec("vl_convert") is None, reason="chart images need postcli[charts]"
)

# Every command that writes a file a user names: the arguments before the file name.
WRITERS = {
    "report": ["analytics", "report", "--html"],
    "svg": ["analytics", "timeline", "--svg"],
    "png": ["analytics", "heatmap", "--png"],
    "digest": ["analytics", "digest", "-o"],
    "backup": ["db", "backup"],
}


def write(cli, label: str, path: str | Path, *extra: str):  # type: ignore[no-untyped-def]
    return cli(*WRITERS[label], str(path), *extra)


def clean_error(r, *needles: str, code: int = 2) -> None:  # type: ignore[no-untyped-def]
    assert r.exit_code == code, (r.exit_code, r.stdout, r.stderr)
    assert "This is a bug" not in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith("error: "), r.stderr
    for needle in needles:
        assert needle in r.stderr, (needle, r.stderr)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".postcli-") or p.name.endswith(".tmp"))


@pytest.fixture
def store(home, cli):  # type: ignore[no-untyped-def]
    r = cli("accounts", "add", "sandbox", "--handle", "ana.sandbox")
    assert r.exit_code == 0, r.stderr
    assert cli("post", "create", "hello", "--to", "1").exit_code == 0
    (home / "config.toml").write_text("[collect]\nconcurrency = 2\n")
    (home / "media").mkdir(exist_ok=True)
    (home / "media" / "kept.png").write_bytes(b"\x89PNG kept")
    return home


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An empty folder for the files written (the home is in tmp_path too)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def fingerprint(home: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(home.iterdir()) if p.is_file() and not p.name.endswith("-shm")}


# --- item 1: postcli's own files ------------------------------------------------------------


OWN = ["postcli.db", "postcli.db-wal", "postcli.db-shm", "config.toml", "credentials.json", "media/kept.png"]


@pytest.mark.parametrize("label", list(WRITERS))
@pytest.mark.parametrize("own", OWN)
@pytest.mark.parametrize("force", [False, True], ids=["", "force"])
def test_never_over_postcli_own_files(cli, store, label, own, force):
    before = fingerprint(store)
    media = (store / "media" / "kept.png").read_bytes()
    r = write(cli, label, store / own, *(["--force"] if force else []))
    clean_error(r, "postcli never writes over its own files")
    assert fingerprint(store) == before and (store / "media" / "kept.png").read_bytes() == media
    assert cli("post", "list").exit_code == 0  # the store still works
    assert leftovers(store) == [] and leftovers(store / "media") == []


def test_own_files_through_a_symlink_or_a_hard_link(cli, store, out):
    before = fingerprint(store)
    (out / "via-link.html").symlink_to(store / "postcli.db")
    os.link(store / "credentials.json", out / "hard.json")
    clean_error(write(cli, "report", out / "via-link.html", "--force"), "postcli's store")
    clean_error(write(cli, "backup", out / "hard.json", "--force"), "postcli's credentials file")
    (out / "alias").symlink_to(store)  # the home under another name
    clean_error(write(cli, "digest", out / "alias" / "config.toml", "--force"), "postcli's config file")
    assert fingerprint(store) == before


def test_a_store_named_by_the_database_url_is_protected_too(cli, home, out, monkeypatch):
    elsewhere = out / "elsewhere.db"
    monkeypatch.setenv("POSTCLI_DATABASE_URL", f"sqlite:///{elsewhere}")
    assert cli("accounts", "add", "sandbox", "--handle", "ana.sandbox").exit_code == 0
    data = elsewhere.read_bytes()
    clean_error(write(cli, "report", elsewhere, "--force"), "postcli's store")
    clean_error(write(cli, "backup", f"{elsewhere}-wal", "--force"), "write-ahead log")
    assert elsewhere.read_bytes() == data


# --- item 1: never a non-regular file -------------------------------------------------------


def _device(tmp_path: Path) -> Path:
    """A non-regular file anyone may make: a character device where allowed (root), else a FIFO."""
    node = tmp_path / "node"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # what /dev/null is
    except PermissionError:
        os.mkfifo(node)
    return node


@pytest.mark.parametrize("label", list(WRITERS))
def test_never_replaces_a_device_node_or_a_fifo(cli, store, out, label):
    for node in (_device(out), out / "fifo"):
        if not node.exists():
            os.mkfifo(node)
        kind = stat.S_IFMT(node.lstat().st_mode)
        for extra in ([], ["--force"]):
            clean_error(write(cli, label, node, *extra), "not a regular file", "give - ")
            assert stat.S_IFMT(node.lstat().st_mode) == kind  # still the node, not a regular file
    assert leftovers(out) == []


@pytest.mark.parametrize("label", list(WRITERS))
@pytest.mark.parametrize("device", ["/dev/null", "/dev/full", "/dev/zero", "/dev/stdout", "/proc/self/fd/1"])
def test_the_system_device_nodes_are_refused_before_anything_is_written(cli, store, label, device):
    if not os.path.exists(device):
        pytest.skip(f"{device} does not exist here")
    kind = os.lstat(device).st_mode
    r = write(cli, label, device, "--force")
    clean_error(r, "not a regular file" if not device.startswith(("/dev/stdout", "/proc")) else "descriptor")
    assert os.lstat(device).st_mode == kind


# --- item 1: standard output ----------------------------------------------------------------


def test_a_dash_means_standard_output(cli, store, out, monkeypatch):
    monkeypatch.chdir(out)
    r = write(cli, "report", "-")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.startswith("<!DOCTYPE html>") and "Wrote" not in r.stdout
    assert "simulated" in r.stderr
    r = write(cli, "digest", "-")
    assert r.exit_code == 0 and r.stdout.startswith("**postcli digest")
    r = write(cli, "backup", "-")
    assert r.exit_code == 0 and r.stdout_bytes.startswith(b"SQLite format 3\x00")
    assert list(out.iterdir()) == []  # no file named "-"
    copy = out / "copy.db"
    copy.write_bytes(r.stdout_bytes)
    assert sqlite3.connect(copy).execute("select count(*) from posts").fetchone()[0] == 1


@VL
def test_a_chart_on_standard_output_is_all_that_goes_there(cli, store, out):
    r = write(cli, "svg", "-")
    assert r.exit_code == 0 and r.stdout.startswith("<svg"), r.stderr
    clean_error(write(cli, "svg", "-", "--json"), "standard output")
    clean_error(cli("analytics", "timeline", "--svg", "-", "--png", "-"), "same file")
    clean_error(cli("analytics", "report", "--html", "-", "--open"), "--open")


# --- item 1: existing files, the temporary name ---------------------------------------------


@pytest.mark.parametrize("label", list(WRITERS))
def test_an_existing_file_only_with_force(cli, store, out, label):
    if label in ("svg", "png"):
        pytest.importorskip("vl_convert")
    target = out / "out.file"
    target.write_bytes(b"the user's own file")
    clean_error(write(cli, label, target), "already exists", "--force")
    assert target.read_bytes() == b"the user's own file"
    r = write(cli, label, target, "--force")
    assert r.exit_code == 0, r.stderr
    assert target.read_bytes() != b"the user's own file"
    assert sorted(p.name for p in out.iterdir()) == ["out.file"]


def test_backup_never_touches_a_file_named_like_its_temporary(cli, store, out):
    mine = out / "b.db.partial"
    mine.write_bytes(b"mine")
    assert write(cli, "backup", out / "b.db").exit_code == 0
    assert mine.read_bytes() == b"mine"
    assert sorted(p.name for p in out.iterdir()) == ["b.db", "b.db.partial"]
    assert (out / "b.db").stat().st_mode & 0o777 == 0o600


def test_a_report_over_a_symlink_writes_its_target(cli, store, out):
    real = out / "real.html"
    real.write_text("old")
    (out / "link.html").symlink_to(real)
    assert write(cli, "report", out / "link.html", "--force").exit_code == 0
    assert (out / "link.html").is_symlink() and real.read_text().startswith("<!DOCTYPE html>")


# --- items 5 and 8: paths that cannot be written, each said as it is ------------------------


@pytest.mark.parametrize("label", list(WRITERS))
def test_bad_paths_say_exactly_what_is_wrong(cli, store, out, label):
    (out / "a-file").write_text("x")
    (out / "a-dir").mkdir()
    cases = [
        (out / "a-dir", ["a-dir is a directory"]),
        (f"{out / 'new-dir'}/", ["names a folder", "ends with /"]),
        (out / "missing" / "out", ["the folder", "missing does not exist"]),
        (out / "missing" / "deeper" / "out", ["does not exist", "missing is missing"]),
        (out / "a-file" / "out", ["a-file is a file, not a folder"]),
        (out / "a-file" / "sub" / "out", ["a-file is a file, not a folder"]),
        (out / ("n" * 300), ["300 bytes long", "at most 255"]),
        (out / ("n" * 300) / "out", ["longer than the file system allows"]),
    ]
    for path, needles in cases:
        clean_error(write(cli, label, path), *needles)
    assert sorted(p.name for p in out.iterdir()) == ["a-dir", "a-file"]
    assert list((out / "a-dir").iterdir()) == []


# --- item 2: a full disk --------------------------------------------------------------------


def _limited(limit: int):  # type: ignore[no-untyped-def]
    def apply() -> None:
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel kills the process instead of EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _run_limited(limit: int, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("postcli")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "postcli"]
    return subprocess.run(
        cmd + list(args), preexec_fn=_limited(limit), capture_output=True, text=True, timeout=120, env=dict(os.environ)
    )


def test_a_file_size_limit_is_named_exit_1_and_nothing_is_left(home, out):
    report_store()  # a 55 KB page; the store opens under 40 KB (its -shm is 32 KB)
    for args in (
        ["analytics", "report", "--period", "90d", "--html", str(out / "r.html")],
        ["db", "backup", str(out / "b.db")],
    ):
        r = _run_limited(40_000, *args)
        assert r.returncode == 1, (args, r.returncode, r.stderr)
        assert "file size limit" in r.stderr and "ulimit -f" in r.stderr, r.stderr
        assert "This is a bug" not in r.stderr and "Choose a path" not in r.stderr
        assert list(out.iterdir()) == [], (args, list(out.iterdir()))


def test_a_store_that_cannot_grow_says_why(cli, store):
    r = _run_limited(40_000, "post", "create", "hello again", "--to", "1")  # its log outgrows the limit
    assert r.returncode == 1, r.stderr
    assert "the database cannot be written" in r.stderr and "file size limit" in r.stderr, r.stderr
    assert "This is a bug" not in r.stderr


def _tmpfs_runner() -> list[str] | None:
    """A command prefix that runs a shell in a private mount namespace (root: unshare -m; others:
    a user namespace, unshare -rm), or None where this machine allows neither."""
    if shutil.which("unshare") is None:
        return None
    for prefix in (["unshare", "-m"], ["unshare", "-rm"]):
        probe = subprocess.run(
            [
                *prefix,
                "sh",
                "-c",
                "mount -t tmpfs -o size=64k tmpfs /mnt 2>/dev/null || mount -t tmpfs -o size=64k tmpfs /tmp",
            ],
            capture_output=True,
        )
        if probe.returncode == 0:
            return prefix
    return None


TMPFS = _tmpfs_runner()
needs_tmpfs = pytest.mark.skipif(TMPFS is None, reason="no mount namespace here; the RLIMIT_FSIZE tests above stand")


def _on_full_tmpfs(tmp_path: Path, home: Path, script: str) -> subprocess.CompletedProcess[str]:
    """Run `script` (sh) with $FULL a 1 MiB tmpfs holding a copy of `home` as $FULL/home, filled up."""
    full = tmp_path / "full"
    full.mkdir()
    exe = Path(sys.executable).with_name("postcli")
    body = (
        'mount -t tmpfs -o size=1m tmpfs "$FULL" && cp -a "$SRC" "$FULL/home" && '
        'dd if=/dev/zero of="$FULL/fill" bs=4k 2>/dev/null; ' + script
    )
    env = dict(os.environ, FULL=str(full), SRC=str(home), POSTCLI=str(exe) if exe.exists() else "postcli")
    assert TMPFS is not None
    return subprocess.run([*TMPFS, "sh", "-c", body], capture_output=True, text=True, timeout=120, env=env)


@needs_tmpfs
def test_a_full_disk_is_named_exit_1_and_leaves_no_temporary(cli, store, tmp_path):
    from postcli.store import session as store_session

    store_session.reset()  # closed cleanly: no -wal/-shm, so opening it on the full disk must make them
    assert not (store / "postcli.db-shm").exists()
    r = _on_full_tmpfs(
        tmp_path,
        store,
        'POSTCLI_HOME="$SRC" "$POSTCLI" analytics report --html "$FULL/r.html" 2>&1; echo "rc=$?"; '
        'POSTCLI_HOME="$SRC" "$POSTCLI" db backup "$FULL/b.db" 2>&1; echo "rc=$?"; '
        'POSTCLI_HOME="$FULL/home" "$POSTCLI" analytics overview 2>&1; echo "rc=$?"; '
        'POSTCLI_HOME="$FULL/home" "$POSTCLI" post create again --to 1 2>&1; echo "rc=$?"; '
        'ls -A "$FULL"',
    )
    out = r.stdout
    assert out.count("no space left on the device holding") == 4, out
    assert out.count("rc=1") == 4, out
    assert "Choose a path" not in out and "This is a bug" not in out and "disk I/O error" not in out
    assert out.strip().splitlines()[-2:] == ["fill", "home"], out  # no .r.html.*.tmp, no b.db
