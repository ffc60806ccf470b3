"""The plumbing every fake platform server shares: a werkzeug server on 127.0.0.1:<free port>
in a daemon thread, started and stopped as a context manager.

A subclass sets `thread_name`, creates `self._stopping = threading.Event()` (set on stop,
so delayed or hanging handlers wake up; cleared on start) and implements
`_wsgi(environ, start_response)`. It may set `bind_host`/`bind_port` (default 127.0.0.1 and a
free port). All seven fakes (Bluesky and its OAuth subclass included) run on this base.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from typing_extensions import Self
from werkzeug.serving import WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        pass


class LoopbackServer:
    thread_name = "fake-server"
    bind_host = "127.0.0.1"
    bind_port = 0
    _stopping: threading.Event
    _server: Any = None
    _thread: threading.Thread | None = None
    port: int | None = None

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        raise NotImplementedError

    def start(self) -> Self:
        self._stopping.clear()
        self._server = make_server(self.bind_host, self.bind_port, self._wsgi, threaded=True,
                                   request_handler=QuietHandler)
        self._server.daemon_threads = True
        self.port = self._server.server_port
        # A short poll interval keeps shutdown (and so each test's teardown) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name=self.thread_name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes delayed requests
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL to point an account at (http://127.0.0.1:PORT)."""
        return f"http://{self.bind_host}:{self.port}"

    @property
    def host(self) -> str:
        return f"{self.bind_host}:{self.port}"


@dataclass
class Failure:
    """An injected answer (`fail_next`) for the next `times` requests of `method` ("*": any)
    whose path starts with `path_prefix`."""

    method: str
    path_prefix: str
    status: int
    json: Any
    headers: dict[str, str]
    times: int


def take_failure(failures: list[Failure], method: str, path: str) -> Failure | None:
    """The first injected failure due for this request, with one use spent (under the server's lock)."""
    for failure in failures:
        if failure.times > 0 and failure.method in ("*", method) and path.startswith(failure.path_prefix):
            failure.times -= 1
            return failure
    return None
