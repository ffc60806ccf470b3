"""A real, throwaway PostgreSQL for the tests: `pg_server` (one per pytest process) and `pg_url`.

`pg_server` runs initdb + pg_ctl in a fresh temp dir on 127.0.0.1 and a free port, with
durability off (fsync, synchronous_commit, full_page_writes) because nothing here needs
to survive a crash. Each pytest-xdist worker is its own process, so each starts its own
server in its own dir: nothing is shared between workers.

initdb and postgres refuse to run as root; as root they run as the `postgres` OS user
(runuser), in a dir that user owns. The pytest temp dirs are 0700 root-owned, so the
server lives in its own dir under the system temp dir instead, removed at the end.

The server stops at the end of the session, failures included. A run killed outright
(SIGKILL, a CI timeout) cannot stop it, so each start first stops and removes servers whose
pytest process is gone (their dir records its pid).

Without the binaries the tests skip, saying why; with CI set (.ci/run sets it) they fail,
so CI never passes by skipping PostgreSQL.

    from pgserver import pg_server, pg_url  # noqa: F401
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

# A server zone far from UTC: anything that leaned on the server's TimeZone would show.
SERVER_TIMEZONE = "Pacific/Chatham"

_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "60",
    "shared_buffers": "32MB",
    "timezone": f"'{SERVER_TIMEZONE}'",
    "log_timezone": "'UTC'",
}


def find_bindir() -> Path | None:
    """Where initdb, pg_ctl and postgres are: on PATH, else Debian's /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0,
    )
    return Path(candidates[-1]).parent if candidates else None


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests need a local server: {reason}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgServer:
    bindir: Path
    root: Path
    port: int
    runas: list[str]  # prefix that runs a command as the server's OS user ([] when not root)
    user: str = "postgres"
    host: str = "127.0.0.1"

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    def url(self, dbname: str = "postgres", driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{self.user}@{self.host}:{self.port}/{dbname}"

    def run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [*self.runas, str(self.bindir / tool), *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=self.root)

    def log(self) -> str:
        with contextlib.suppress(OSError):
            return (self.root / "server.log").read_text(errors="replace")[-4000:]
        return ""

    @contextlib.contextmanager
    def admin(self, dbname: str = "postgres") -> Iterator:  # type: ignore[type-arg]
        """An autocommit psycopg connection (CREATE/DROP DATABASE cannot run in a transaction)."""
        import psycopg

        conn = psycopg.connect(host=self.host, port=self.port, user=self.user, dbname=dbname, autocommit=True)
        try:
            yield conn
        finally:
            conn.close()

    def halt(self) -> None:
        self.run("pg_ctl", "stop", "-D", str(self.datadir), "-m", "immediate", "-w")

    def stop(self) -> None:
        """Stop the server and remove its dir (scripts such as benchmarks/workers.py call this too)."""
        self.halt()
        shutil.rmtree(self.root, ignore_errors=True)


_PREFIX = "postcli-pg-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep_orphans(bindir: Path, runas: list[str]) -> None:
    """Stop and remove the servers of pytest runs that died without stopping them."""
    for root in Path(tempfile.gettempdir()).glob(_PREFIX + "*"):
        try:
            pid = int((root / "owner.pid").read_text())
        except (OSError, ValueError):
            continue  # not one of ours, or still being set up
        if _alive(pid):
            continue
        if (root / "data" / "postmaster.pid").exists():
            subprocess.run(
                [*runas, str(bindir / "pg_ctl"), "stop", "-D", str(root / "data"), "-m", "immediate"],
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(root, ignore_errors=True)


def _start(bindir: Path) -> PgServer:
    runas: list[str] = []
    owner = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no `postgres` OS user to run the server as")
        if shutil.which("runuser") is None:
            _unavailable("running as root and `runuser` is not available")
        runas = ["runuser", "-u", "postgres", "--"]
    _sweep_orphans(bindir, runas)
    root = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-"))
    (root / "owner.pid").write_text(str(os.getpid()))
    if owner is not None:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    srv = PgServer(bindir=bindir, root=root, port=0, runas=runas)
    init = srv.run(
        "initdb", "-D", str(srv.datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"
    )
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"initdb failed:\n{init.stdout}\n{init.stderr}", pytrace=False)
    # Another process may take the free port between the probe and the bind: try a few.
    for _ in range(5):
        srv.port = _free_port()
        conf = dict(_SETTINGS, port=str(srv.port), unix_socket_directories=f"'{root}'")
        with (srv.datadir / "postgresql.auto.conf").open("a") as fh:
            fh.writelines(f"{k} = {v}\n" for k, v in conf.items())
        started = srv.run("pg_ctl", "start", "-D", str(srv.datadir), "-l", str(root / "server.log"), "-w", "-t", "60")
        if started.returncode == 0:
            return srv
        srv.halt()
    log = srv.log()
    shutil.rmtree(root, ignore_errors=True)
    pytest.fail(f"PostgreSQL did not start:\n{started.stdout}\n{started.stderr}\n{log}", pytrace=False)
    raise AssertionError  # unreachable: pytest.fail raises


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bindir = find_bindir()
    if bindir is None:
        _unavailable("initdb was not found on PATH or in /usr/lib/postgresql/*/bin")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("the psycopg driver is not installed (pip install -e '.[test]')")
    srv = _start(bindir)  # type: ignore[arg-type]
    try:
        yield srv
    finally:
        srv.stop()


_numbers = itertools.count(1)


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """A new, empty database on the session's server; its postgresql+psycopg URL."""
    name = f"test_{next(_numbers)}"
    with pg_server.admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield pg_server.url(name)
    finally:
        from postcli.store import session as store_session

        store_session.reset()  # close pooled connections so the database can be dropped
        with pg_server.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
