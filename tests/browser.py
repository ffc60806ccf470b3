"""Open a page in Debian's headless Chromium and report what the page did.

No Playwright: Chromium's DevTools protocol over `--remote-debugging-pipe` (fds 3 and 4, NUL-ended
JSON, nothing but the standard library). The harness opens its own tab, and everything it reports
comes from that tab alone:

- `requests`: what the page tried to load, from the tab's Network events and the page's own
  resource timing. The browser's background traffic (Debian's Chromium ships Google API keys in
  /etc/chromium.d/apikeys and contacts Google on its own, at whatever time it likes) belongs to no
  tab, so no list of the browser's hosts is needed and no timing can make it count;
- `console`: the tab's console messages, exceptions and log entries (CSP violations among them);
- `dom`: the document after load; `screenshot`: the viewport, at exactly `size`.

`--proxy-server` still sends every http(s) request of the whole browser to a loopback listener that
records it (`proxied`, for diagnostics only) and answers 502, and no host name resolves, so nothing
ever leaves the machine.

Without Chromium the tests skip, saying why; with CI set (.ci/run) they fail instead.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

FLAGS = (
    "--headless",
    "--no-sandbox",  # we run as root in CI containers
    "--disable-gpu",
    "--no-first-run",
    "--hide-scrollbars",
    # Fewer of the browser's own connections: they are not counted (see above), this only keeps
    # the loopback recorder quiet.
    "--disable-background-networking",
    "--disable-component-update",
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
TIMEOUT = 120.0


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        msg = "Chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return path


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


class _DevTools:
    """One browser over --remote-debugging-pipe: send commands, collect events."""

    def __init__(self, proc: subprocess.Popen[bytes], write_fd: int, read_fd: int) -> None:
        self.proc = proc
        self._w = write_fd
        self._r = read_fd
        self._buf = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []
        self.deadline = time.monotonic() + TIMEOUT

    def _read_message(self) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = self.deadline - time.monotonic()
            ready, _, _ = select.select([self._r], [], [], max(left, 0))
            if not ready:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._r, 1 << 16)
            if not chunk:
                raise EOFError("Chromium closed the DevTools pipe")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._w, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read_message()
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def wait_for(self, method: str, session: str) -> None:
        if any(e.get("method") == method and e.get("sessionId") == session for e in self.events):
            return
        while True:
            event = self._read_message()
            self.events.append(event)
            if event.get("method") == method and event.get("sessionId") == session:
                return


@dataclass
class Visit:
    dom: str
    console: list[str]
    requests: list[str]
    screenshot: Path | None = None
    proxied: list[str] = field(default_factory=list)  # the whole browser's, background traffic included
    stderr: str = field(default="", repr=False)


def _high_fd(fd: int) -> int:
    """A copy of `fd` numbered 10 or more, so that moving it onto 3 or 4 cannot clobber the other."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


def _launch(args: list[str], stderr: Any) -> tuple[subprocess.Popen[bytes], int, int]:
    to_browser_r, to_browser_w = (_high_fd(fd) for fd in os.pipe())
    from_browser_r, from_browser_w = (_high_fd(fd) for fd in os.pipe())
    # The pipe must be fds 3 (commands in) and 4 (answers out) in the browser; a shell cannot be the
    # trampoline, dash redirects fds 0-9 only.
    move = "import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); os.execv(sys.argv[3], sys.argv[3:])"
    proc = subprocess.Popen(
        [sys.executable, "-c", move, str(to_browser_r), str(from_browser_w), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        pass_fds=(to_browser_r, from_browser_w),
    )
    os.close(to_browser_r)
    os.close(from_browser_w)
    return proc, to_browser_w, from_browser_r


def _console(events: list[dict[str, Any]], session: str) -> list[str]:
    out: list[str] = []
    for e in events:
        if e.get("sessionId") != session:
            continue
        p = e.get("params", {})
        if e.get("method") == "Runtime.consoleAPICalled":
            words = [str(a.get("value", a.get("description", ""))) for a in p.get("args", [])]
            out.append(f"console.{p.get('type')}: {' '.join(words)}")
        elif e.get("method") == "Runtime.exceptionThrown":
            details = p.get("exceptionDetails", {})
            out.append(f"exception: {details.get('exception', {}).get('description') or details.get('text')}")
        elif e.get("method") == "Log.entryAdded":
            entry = p.get("entry", {})
            out.append(f"{entry.get('source')} {entry.get('level')}: {entry.get('text')}")
    return out


def _requests(events: list[dict[str, Any]], session: str, page_url: str, timing: list[str]) -> list[str]:
    urls: list[str] = []
    for e in events:
        if e.get("sessionId") == session and e.get("method") == "Network.requestWillBeSent":
            url = e["params"]["request"]["url"]
            if url not in (page_url, "about:blank"):
                urls.append(url)
    return sorted(set(urls) | set(timing))


def visit(
    page: Path, *, screenshot: Path | None = None, size: tuple[int, int] = (1100, 3800), dark: bool = False
) -> Visit:
    """Load `page` (a file) in a fresh tab; return its DOM after load, console messages and requests."""
    exe = chromium()
    rec = _Recorder()
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    log = tempfile.TemporaryFile()
    url = page.resolve().as_uri()
    args = [
        exe,
        *FLAGS,
        f"--user-data-dir={profile}",
        "--remote-debugging-pipe",
        f"--proxy-server=http://127.0.0.1:{rec.port}",
        "--proxy-bypass-list=<-loopback>",
        # Belt and braces: should anything bypass the proxy, no name resolves.
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "about:blank",
    ]
    proc, write_fd, read_fd = _launch(args, log)
    try:
        cdp = _DevTools(proc, write_fd, read_fd)
        try:
            target = cdp.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            s = cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Network", "Runtime", "Log"):
                cdp.send(f"{domain}.enable", session=s)
            metrics = {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": False}
            cdp.send("Emulation.setDeviceMetricsOverride", metrics, session=s)
            scheme = {"name": "prefers-color-scheme", "value": "dark" if dark else "light"}
            cdp.send("Emulation.setEmulatedMedia", {"features": [scheme]}, session=s)
            cdp.send("Page.navigate", {"url": url}, session=s)
            cdp.wait_for("Page.loadEventFired", s)
            # Fonts and a frame drawn: whatever the page loads for its first paint was asked for by now.
            settle = "document.fonts.ready.then(() => new Promise(r => requestAnimationFrame(() => r(1))))"
            cdp.send("Runtime.evaluate", {"expression": settle, "awaitPromise": True}, session=s)
            timing = cdp.send(
                "Runtime.evaluate",
                {"expression": "performance.getEntriesByType('resource').map(e => e.name)", "returnByValue": True},
                session=s,
            )["result"]["value"]
            dom = cdp.send(
                "Runtime.evaluate",
                {"expression": "document.documentElement.outerHTML", "returnByValue": True},
                session=s,
            )["result"]["value"]
            if screenshot is not None:
                shot = cdp.send("Page.captureScreenshot", {"format": "png"}, session=s)
                screenshot.write_bytes(base64.b64decode(shot["data"]))
            console = _console(cdp.events, s)
            requests = _requests(cdp.events, s, url, timing)
            cdp.send("Browser.close")
        except (TimeoutError, EOFError, RuntimeError) as e:
            log.seek(0)
            pytest.fail(f"Chromium: {e}\n{log.read().decode(errors='replace')[-2000:]}")
        proc.wait(timeout=30)
        log.seek(0)
        return Visit(dom, console, requests, screenshot, list(rec.requests), log.read().decode(errors="replace"))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(write_fd)
        os.close(read_fd)
        log.close()
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
