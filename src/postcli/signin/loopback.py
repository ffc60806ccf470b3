"""The loopback redirect listener (RFC 8252 section 7.3): http://127.0.0.1:<port>/callback.

It waits for one redirect to /callback, answers the browser with a short page,
and hands the query string back. Other paths (favicon) get a 404 and are ignored.
"""

from __future__ import annotations

import errno
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from postcli.errors import InvalidInput

CALLBACK_PATH = "/callback"

_DONE_PAGE = (
    "<!doctype html><meta charset=utf-8><title>postcli</title>"
    "<p>{message}</p><p>You can close this tab and return to the terminal.</p>"
)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        parts = urlsplit(self.path)
        if parts.path != CALLBACK_PATH or self.server.result is not None:
            self.send_response(404)
            self.end_headers()
            return
        params = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        ok = "code" in params and "error" not in params
        message = "Signed in: postcli has the authorization." if ok else "Sign-in did not complete."
        body = _DONE_PAGE.format(message=message).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)
        self.server.result = params
        self.server.arrived.set()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the query holds the code: never log it


class _Server(HTTPServer):
    result: dict[str, str] | None = None

    def __init__(self, port: int) -> None:
        self.arrived = threading.Event()
        super().__init__(("127.0.0.1", port), _Handler)


class LoopbackListener:
    """`with LoopbackListener(port) as lb: ...; params = lb.wait(timeout)`; port 0 = any free one.

    `registered`: the port is part of the redirect URI registered in the user's app (platforms
    without RFC 8252's any-port rule), so "leave --port out" would not help when it is taken.
    """

    def __init__(self, port: int = 0, *, registered: bool = False) -> None:
        try:
            self._server = _Server(port)
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise _port_refused(port, exc.errno == errno.EACCES, registered) from None
            raise
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="signin-loopback", daemon=True
        )

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}{CALLBACK_PATH}"

    def __enter__(self) -> LoopbackListener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self.close()
        self._thread.join(timeout=5)

    def close(self) -> None:
        """Free the port (also when the listener never started: the sign-in failed before)."""
        self._server.server_close()

    def wait(self, timeout: float) -> dict[str, str] | None:
        """The redirect's query parameters, or None when none came in time."""
        if not self._server.arrived.wait(timeout):
            return None
        return self._server.result


def _port_refused(port: int, denied: bool, registered: bool) -> InvalidInput:
    redirect = f"http://127.0.0.1:{port}{CALLBACK_PATH}"
    if denied:
        return InvalidInput(
            f"port {port} on 127.0.0.1 is not allowed for this user (ports below 1024 need administrator rights).",
            hint=f"Register a redirect URI with a port from 1024 to 65535 in your app instead of {redirect} "
            "and pass that port with --port."
            if registered
            else "Leave --port out to use any free port, or pick one from 1024 to 65535.",
        )
    if registered:
        return InvalidInput(
            f"port {port} on 127.0.0.1 is in use, and it is the port of the redirect URI registered in your app "
            f"({redirect}).",
            hint="Close what holds it (an earlier `postcli accounts login` still waiting?) and try again, or "
            "register http://127.0.0.1:N/callback with another port N in the app and pass --port N.",
        )
    return InvalidInput(
        f"port {port} on 127.0.0.1 is in use.",
        hint="Pick another --port, or leave --port out to use any free one.",
    )


def free_port() -> int:
    """A port free on 127.0.0.1 now, for a redirect URI the paste-back path never listens on."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
