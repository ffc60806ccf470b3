"""The plumbing every fake platform server shares: a werkzeug server on 127.0.0.1:<free port>
in a daemon thread, started and stopped as a context manager.

A subclass sets `thread_name`, creates `self._stopping = threading.Event()` (set on stop,
so delayed or hanging handlers wake up; cleared on start) and implements
`_wsgi(environ, start_response)`. It may set `bind_host`/`bind_port` (default 127.0.0.1 and a
free port). All seven fakes (Bluesky and its OAuth subclass included) run on this base.

The base also owns what every fake records and injects:
- `RecordedRequest`, the one type of `server.requests` entries; `_remember(req)` appends one.
- `Failure` / `take_failure` for `fail_next` (each fake renders the platform's own error body).
- `set_delay(seconds, method=None, path_prefix=None, times=None)` and `_maybe_delay(req)`;
  `hold(method=None, path_prefix=None, times=None, after=0)` keeps matching requests unanswered until
  the test sets the event it returns (a process stays mid-request for as long as a test needs).
A subclass also creates `self._lock` (an RLock), `self.requests = []`, `self._failures = []` and
`self._delays = []`.
"""

from __future__ import annotations

import json as jsonlib
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from typing_extensions import Self
from werkzeug.datastructures import Headers
from werkzeug.serving import WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        pass


@dataclass
class RecordedRequest:
    """One request as a fake saw it. Every fake fills method, path, query and headers; the rest
    is what that platform's wire format has (form fields, a JSON body, multipart files or
    parts, a Graph version, an XRPC method and the token kind presented)."""

    method: str
    path: str  # the Graph fakes: without the /vNN.N prefix (see `version`)
    query: dict[str, list[str]]
    headers: Any  # werkzeug Headers (a plain dict on the Bluesky fake)
    form: dict[str, list[str]] = field(default_factory=dict)
    json: Any = None
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # field -> {"filename", "content_type", "size"}
    parts: list[Any] = field(default_factory=list)  # Tumblr's multipart parts, in order
    body: bytes = b""
    version: str | None = None  # Graph API version the path came with
    in_batch: bool = False  # a request inside a Graph batch
    nsid: str = ""  # XRPC method (Bluesky)
    auth: str = ""  # Bluesky: "none", "access", "refresh", "invalid"
    did: str | None = None  # Bluesky: whose token was presented
    form_first: bool = False  # `param` reads the form before the query (as the Instagram fake does)
    status: int | None = None  # what the fake answered
    at: float = field(default_factory=time.time)
    request: Any = field(default=None, repr=False, compare=False)  # the werkzeug Request (sign-in routes)

    def param(self, name: str) -> Any:
        """First value of a query or form field, else a top-level JSON key."""
        sources = (self.form, self.query) if self.form_first else (self.query, self.form)
        for source in sources:
            if source.get(name):
                return source[name][0]
        if isinstance(self.json, dict) and name in self.json:
            return self.json[name]
        return None

    @property
    def bearer(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        return auth[len("Bearer ") :] if auth.startswith("Bearer ") else None

    @property
    def npf(self) -> Any:
        """Tumblr: the NPF body of a post creation, the JSON body or the multipart "json" part."""
        if self.json is not None:
            return self.json
        for part in self.parts:
            if part.name == "json":
                return jsonlib.loads(part.data)
        return None


@dataclass
class Delay:
    """`set_delay`: requests of `method` (None: any) under `path_prefix` (None: any) wait
    `seconds`, the next `times` of them (None: all)."""

    seconds: float
    method: str | None
    path_prefix: str | None
    times: int | None
    gate: threading.Event | None = None  # `hold`: wait until it is set
    after: int = 0  # let this many matching requests through first


class BearerTokens:
    """Test controls of a fake that issues one access token and one refresh token
    (`self.access_token`, `self.refresh_token`, with `self._seq` and `self._lock`); the tokens
    it gives out after them keep the platform's own format (the class attributes)."""

    expired_token = "expired-{n}-{token}"
    revoked_token = "revoked-{n}"
    revoked_refresh_token = "revoked-refresh-{n}"
    access_token: str
    refresh_token: str
    _seq: Any
    _lock: Any

    def expire_access_token(self) -> None:
        """The current access token stops working; refreshing still works."""
        with self._lock:
            self.access_token = self.expired_token.format(n=next(self._seq), token=self.access_token)

    def revoke(self) -> None:
        """The user revoked the app: access and refresh token both stop working."""
        with self._lock:
            self.access_token = self.revoked_token.format(n=next(self._seq))
            self.refresh_token = self.revoked_refresh_token.format(n=next(self._seq))


class LoopbackServer:
    thread_name = "fake-server"
    bind_host = "127.0.0.1"
    bind_port = 0
    _stopping: threading.Event
    _lock: Any
    requests: list[RecordedRequest]
    _delays: list[Delay]
    _failures: list[Failure]
    _server: Any = None
    _thread: threading.Thread | None = None
    port: int | None = None

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        raise NotImplementedError

    def start(self) -> Self:
        self._stopping.clear()
        self._server = make_server(
            self.bind_host, self.bind_port, self._wsgi, threaded=True, request_handler=QuietHandler
        )
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

    # --- recording, injected failures and delays ---------------------------------------------

    def _add_failure(self, failure: Failure) -> None:
        with self._lock:
            self._failures.append(failure)

    def _take_failure(self, method: str, path: str) -> Failure | None:
        with self._lock:
            return take_failure(self._failures, method, path)

    def _remember(self, req: RecordedRequest) -> RecordedRequest:
        with self._lock:
            self.requests.append(req)
        return req

    def _record_request(self, request: Any, *, parts: Any = None, **extra: Any) -> RecordedRequest:
        """Record a werkzeug request as the fakes of HTTP APIs do: method, path, query, headers and
        body; a JSON body parsed (None when it does not parse); otherwise its form fields, or with
        `parts` (a parser of a multipart body and its boundary) a multipart body's ordered parts
        instead. `extra`: what else the platform's wire format has (files, form_first)."""
        body = request.get_data(cache=True)
        kw: dict[str, Any] = {}
        if request.mimetype == "application/json" and body:
            try:
                kw["json"] = jsonlib.loads(body)
            except ValueError:
                kw["json"] = None
        elif parts is not None and request.mimetype == "multipart/form-data":
            kw["parts"] = parts(body, request.mimetype_params.get("boundary", ""))
        else:
            kw["form"] = {k: request.form.getlist(k) for k in request.form.keys()}
        kw.update(extra)
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            query={k: request.args.getlist(k) for k in request.args.keys()},
            headers=Headers(list(request.headers.items())),
            body=body,
            request=request,
            **kw,
        )
        return self._remember(recorded)

    def set_delay(
        self, seconds: float, method: str | None = None, path_prefix: str | None = None, times: int | None = None
    ) -> None:
        """Make matching requests wait `seconds` before they are answered (stop() wakes them)."""
        with self._lock:
            self._delays.append(Delay(seconds, method.upper() if method else None, path_prefix, times))

    def hold(
        self, method: str | None = None, path_prefix: str | None = None, times: int | None = None, after: int = 0
    ) -> threading.Event:
        """Keep matching requests unanswered until the returned event is set (stop() wakes them);
        `after`: the first that many matching requests go through (a thread's third part)."""
        gate = threading.Event()
        with self._lock:
            self._delays.append(Delay(0.0, method.upper() if method else None, path_prefix, times, gate, after))
        return gate

    def _delay_for(self, req: RecordedRequest) -> tuple[float, list[threading.Event]]:
        """The longest delay due for this request and the holds it waits for, with one use of
        each counted delay spent."""
        seconds = 0.0
        gates: list[threading.Event] = []
        with self._lock:
            for delay in self._delays:
                if delay.method and delay.method != req.method:
                    continue
                if delay.path_prefix and not req.path.startswith(delay.path_prefix):
                    continue
                if delay.after > 0:
                    delay.after -= 1
                    continue
                if delay.times is not None:
                    if delay.times <= 0:
                        continue
                    delay.times -= 1
                seconds = max(seconds, delay.seconds)
                if delay.gate is not None:
                    gates.append(delay.gate)
        return seconds, gates

    def _maybe_delay(self, req: RecordedRequest) -> None:
        seconds, gates = self._delay_for(req)
        if seconds:
            self._stopping.wait(seconds)
        for gate in gates:
            while not gate.wait(0.05) and not self._stopping.is_set():
                pass


@dataclass
class Failure:
    """An injected answer (`fail_next`) for the next `times` requests of `method` ("*": any)
    whose path starts with `path_prefix` (equals it, when `exact`). The fake renders it in the
    platform's own error format: from `status`/`json`/`headers`, or from `detail` (a Graph
    error, an XRPC fault) when the platform's error needs more than a JSON body."""

    method: str
    path_prefix: str
    status: int
    json: Any
    headers: dict[str, str]
    times: int
    exact: bool = False
    detail: Any = None
    after: int = 0  # let this many matching requests through first


def take_failure(failures: list[Failure], method: str, path: str) -> Failure | None:
    """The first injected failure due for this request, with one use spent (under the server's lock)."""
    for failure in failures:
        hit = path == failure.path_prefix if failure.exact else path.startswith(failure.path_prefix)
        if failure.times > 0 and failure.method in ("*", method) and hit:
            if failure.after > 0:
                failure.after -= 1
                continue
            failure.times -= 1
            return failure
    return None
