"""Drive `postcli accounts login` in a subprocess and play the browser with httpx."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx


@dataclass
class Login:
    proc: subprocess.Popen  # type: ignore[type-arg]
    url: str
    stderr_head: str

    @property
    def query(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.url).query).items()}

    def consent(self) -> httpx.Response:
        """The user approves on the consent page: the fake redirects (302)."""
        r = httpx.get(self.url, follow_redirects=False, timeout=10)
        return r

    def browse(self) -> httpx.Response:
        """The browser follows the consent page's redirect to postcli's listener."""
        r = self.consent()
        assert r.status_code == 302, (r.status_code, r.text)
        return httpx.get(r.headers["location"], timeout=10)

    def paste(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def finish(self, timeout: float = 60) -> tuple[int, str, str]:
        if self.proc.stdin:
            self.proc.stdin.close()
        code = self.proc.wait(timeout=timeout)
        assert self.proc.stdout and self.proc.stderr
        return code, self.proc.stdout.read(), self.stderr_head + self.proc.stderr.read()


def start_login(*args: str, env: dict[str, str] | None = None) -> Login:
    """Start the login; return once it printed the authorization URL."""
    full_env = {**os.environ, "BROWSER": "true", **(env or {})}  # `true URL`: a browser that does nothing
    exe = Path(sys.executable).with_name("postcli")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "postcli"]
    proc = subprocess.Popen(
        cmd + ["accounts", "login", *args],
        env=full_env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    head = ""
    while True:
        line = proc.stderr.readline()
        if not line:
            out = proc.stdout.read() if proc.stdout else ""
            raise AssertionError(f"no URL printed (exit {proc.wait()}): {head}{out}")
        head += line
        if line.startswith("http"):
            return Login(proc=proc, url=line.strip(), stderr_head=head)


def db_rows(home: Path, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    db = home / "postcli.db"
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def stored_credentials(home: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    path = home / "credentials.json"
    if not path.exists():
        return {}
    return {k: json.loads(v) for k, v in json.loads(path.read_text()).items()}


def everything_but_credentials(home: Path) -> bytes:
    """Every byte postcli wrote outside the credentials file (database, config, logs)."""
    out = b""
    for p in sorted(home.rglob("*")):
        if p.is_file() and not p.name.startswith("credentials"):
            out += p.read_bytes()
    return out
