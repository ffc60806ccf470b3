"""Open a page in Debian's headless Chromium and report what happened.

No Playwright: Chromium's own `--dump-dom` gives the DOM after load, `--enable-logging`
prints every console message (including Content-Security-Policy violations) on stderr,
and `--proxy-server` sends every http(s) request the page makes to a loopback listener
that records it and answers 502, so nothing ever leaves the machine.

Without Chromium the tests skip, saying why; with CI set (.ci/run) they fail instead.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

FLAGS = (
    "--headless",
    "--no-sandbox",  # we run as root in CI containers
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--hide-scrollbars",
    # Chromium's own background traffic (time, updates, sign-in, safe browsing), so that any
    # request the recorder sees came from the page.
    "--disable-extensions",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-component-extensions-with-background-pages",
    "--no-default-browser-check",
    "--no-pings",
    "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate,AutofillServerCommunication,SafeBrowsing",
)


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        msg = "Chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return path


# What Debian's Chromium still contacts on its own despite the flags above (its component
# updater and Google sign-in probe): not the page's doing, so not counted. A page could only
# reach these through a script or a URL naming them, and the report has neither.
BROWSER_OWN = ("update.googleapis.com", "accounts.google.com", "clients2.google.com")


def _is_browser_own(request_line: str) -> bool:
    target = request_line.split(" ")[1] if " " in request_line else ""
    host = re.sub(r"^https?://", "", target).split("/")[0].split(":")[0]
    return host in BROWSER_OWN


class _Recorder:
    """A loopback 'proxy' that records each request line and refuses it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.requests: list[str] = []
        self._t = threading.Thread(target=self._serve, daemon=True)
        self._t.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    data = conn.recv(4096)
                    self.requests.append(data.split(b"\r\n", 1)[0].decode("latin-1"))
                    conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


@dataclass
class Visit:
    dom: str
    console: list[str]
    requests: list[str]
    screenshot: Path | None = None
    stderr: str = field(default="", repr=False)


def visit(
    page: Path, *, screenshot: Path | None = None, size: tuple[int, int] = (1100, 3800), dark: bool = False
) -> Visit:
    """Load `page` (a file); return its DOM after load, console messages and attempted requests."""
    exe = chromium()
    rec = _Recorder()
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        args = [
            exe,
            *FLAGS,
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--log-level=0",
            f"--proxy-server=http://127.0.0.1:{rec.port}",
            "--proxy-bypass-list=<-loopback>",
            # Belt and braces: should anything bypass the proxy, no name resolves.
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            f"--window-size={size[0]},{size[1]}",
        ]
        if dark:
            args.append("--blink-settings=preferredColorScheme=0")  # 0 = dark
        if screenshot is not None:
            args.append(f"--screenshot={screenshot}")
        else:
            args.append("--dump-dom")
        proc = subprocess.run([*args, page.resolve().as_uri()], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        console = re.findall(r":CONSOLE[^\]]*\] (.*)", proc.stderr)
        requests = [r for r in rec.requests if not _is_browser_own(r)]
        return Visit(proc.stdout, console, requests, screenshot, proc.stderr)
    finally:
        rec.close()
        shutil.rmtree(profile, ignore_errors=True)


class Marks(HTMLParser):
    """Per chart (svg[data-chart]): how many elements carry class "mark" (and "null")."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: dict[str, dict[str, int]] = {}
        self._chart: str | None = None
        self.tags: dict[str, int] = {}
        self.cards: dict[str, str] = {}
        self._card: str | None = None
        self._in_value = False
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag == "svg" and "data-chart" in a:
            self._chart = a["data-chart"]
            self.charts[self._chart] = {"marks": 0, "null": 0}
        classes = (a.get("class") or "").split()
        if self._chart and "mark" in classes:
            self.charts[self._chart]["marks"] += 1
            self.charts[self._chart]["null"] += "null" in classes
        if "data-card" in a:
            self._card = a["data-card"]
        if self._card and "value" in classes:
            self._in_value = True
            self.cards[self._card] = ""
        if tag == "a" and "href" in a:
            self.links.append(a["href"])

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag == "svg":
            self._chart = None
        if tag == "span" and self._in_value:
            self._in_value = False
            self._card = None

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if self._in_value and self._card:
            self.cards[self._card] += data


def marks(dom: str) -> Marks:
    m = Marks()
    m.feed(dom)
    return m
