"""The Facebook adapter's Graph plumbing: one GraphClient that remembers each thread's
last response, typed and scrubbed errors, and the Batch API (graph.run_batch).
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Callable, ClassVar

from postcli.platforms.base import (
    AccountContext,
    AdapterBase,
    AuthFailed,
    MalformedResponse,
    PlatformError,
    PlatformRateLimited,
)
from postcli.platforms.facebook.spec import SPEC
from postcli.platforms.graph import GraphClient, graph_error, graph_version_for, run_batch
from postcli.platforms.values import as_utc, int_or_none

_as_datetime = as_utc
_int = int_or_none

PLATFORM = "facebook"
DEFAULT_BASE_URL = SPEC.hosts["api"]

AUTH_HINT = "reconnect it: postcli accounts add facebook --page PAGE_ID (with a new token)"


def _app_usage_seconds(headers: Any) -> float | None:
    """Estimated wait from X-App-Usage (percentages of a rolling one-hour window).

    The header carries no reset time. If calls were spread evenly over the hour,
    usage falls below 100% once (peak - 100) / peak of the window has aged out;
    never less than five minutes.
    """
    raw = headers.get("X-App-Usage") if headers is not None else None
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    values = [v for v in data.values() if isinstance(v, (int, float))] if isinstance(data, dict) else []
    if not values or max(values) < 100:
        return None
    peak = float(max(values))
    return max(300.0, 3600.0 * (peak - 100.0) / peak)


class _Graph(GraphClient):
    """GraphClient that remembers each thread's last response.

    graph_error keeps only a message; the error code (to tell a Page token from
    a user token, or an unknown insights metric) and the X-App-Usage header are
    read from the response itself.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._local = threading.local()
        self._hooked: Any = None

    def _http(self) -> Any:
        client = super()._http()
        if self._hooked is not client:
            client.event_hooks["response"].append(self._remember)
            self._hooked = client
        return client

    def _remember(self, response: Any) -> None:
        self._local.response = response

    def last_response(self) -> Any:
        return getattr(self._local, "response", None)

    def last_error(self) -> dict[str, Any]:
        response = self.last_response()
        if response is None:
            return {}
        try:
            err = response.json().get("error")
        except Exception:  # body not read, not JSON, not a dict
            return {}
        return err if isinstance(err, dict) else {}


class FacebookClient(AdapterBase):
    """The plumbing of FacebookAdapter."""

    platform: ClassVar[str] = PLATFORM

    def __init__(self, ctx: AccountContext) -> None:
        self.ctx = ctx
        self._graph_client: _Graph | None = None
        self._lock = threading.Lock()
        self._extra_secrets: list[str] = []
        self._sleep: Callable[[float], None] = time.sleep
        self._clock: Callable[[], float] = time.monotonic

    # -- plumbing ------------------------------------------------------------

    @property
    def _version(self) -> str:
        return graph_version_for(self.ctx.settings, self.ctx.graph_version)

    @property
    def _graph(self) -> _Graph:
        with self._lock:
            if self._graph_client is None:
                self._graph_client = _Graph(
                    base_url=self.ctx.api_base_url or DEFAULT_BASE_URL,
                    version=self._version,
                    token=self._page_token,
                    platform=PLATFORM,
                    timeout=self.ctx.timeout,
                )
            return self._graph_client

    def _page_token(self) -> str:
        token = (self.ctx.secrets or {}).get("access_token")
        if not token:
            raise AuthFailed(
                "no Page access token is stored for this Facebook account", platform=PLATFORM, hint=AUTH_HINT
            )
        return str(token)

    def _page_id(self) -> str:
        page_id = (self.ctx.settings or {}).get("page_id") or self.ctx.external_id
        if not page_id:
            raise PlatformError("this Facebook account has no Page id; reconnect it", platform=PLATFORM, hint=AUTH_HINT)
        return str(page_id)

    def secrets_in_play(self) -> list[object]:
        # A user token just exchanged (a refresh) is not in ctx.secrets yet.
        return [*super().secrets_in_play(), *self._extra_secrets]

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One Graph request; every failure leaves as a scrubbed typed error."""
        try:
            return self._graph.request(method, path, **kwargs)
        except PlatformRateLimited as exc:
            if exc.retry_after is None:
                response = self._graph.last_response()
                exc.retry_after = _app_usage_seconds(response.headers if response is not None else None)
            raise self.scrub_error(exc) from None
        except AuthFailed as exc:
            exc.hint = exc.hint or AUTH_HINT
            raise self.scrub_error(exc) from None
        except PlatformError as exc:
            raise self.scrub_error(exc) from None

    def _get(self, path: str, *, token: str | None = None, **params: Any) -> Any:
        return self._call("GET", path, params=params, token=token)

    def _dict(self, body: Any, what: str) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise MalformedResponse(f"{self._graph.host} sent an unexpected answer while {what}", platform=PLATFORM)
        return body

    def _batch(self, relative_urls: list[str]) -> list[tuple[int | None, Any]]:
        """One Batch API call: (status, decoded body) per request; (None, None) if it did not run."""
        return run_batch(
            lambda data: self._call("POST", "", data=data), relative_urls, host=self._graph.host, platform=PLATFORM
        )

    def _batch_error(self, status: int, body: Any) -> PlatformError:
        response = self._graph.last_response()
        headers = response.headers if response is not None else {}
        err = graph_error(status, body, headers, platform=PLATFORM, host=self._graph.host)
        if isinstance(err, PlatformRateLimited) and err.retry_after is None:
            err.retry_after = _app_usage_seconds(headers)
        if isinstance(err, AuthFailed):
            err.hint = AUTH_HINT
        return self.scrub_error(err)

    def _remember(self, key: str, value: Any) -> None:
        self.ctx.settings = {**(self.ctx.settings or {}), key: value}
        self.ctx.settings_changed = True
