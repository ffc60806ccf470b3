"""The Meta Graph API wire layer shared by Threads, Instagram and Facebook Pages.

One `GraphClient` per adapter: httpx, the API version in every path, the
access token as the documented `access_token` parameter, and every Graph error
envelope turned into postcli's typed errors:

    {"error": {"message": "...", "type": "OAuthException", "code": 190,
               "error_subcode": 463, "is_transient": false, "fbtrace_id": "..."}}

Error codes: one table with the source of every row (`postcli.platforms.graph_errors`);
an answer it does not cover falls back on its HTTP status (401 -> AuthFailed,
404 -> RemoteNotFound, 429 -> PlatformRateLimited, 5xx or `is_transient` ->
PlatformUnavailable) and otherwise is PlatformRejected (the request itself is wrong).
Rate limits carry their reset from the X-Business-Use-Case-Usage / X-App-Usage headers.

No SDK and nothing heavy at import time: `postcli --help` must stay fast.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator

from postcli.errors import (
    AuthFailed,
    MalformedResponse,
    PlatformError,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
    RemoteNotFound,
)
from postcli.platforms import graph_errors, tls

# The version lives in graph_version.py (one setting for sign-in and every Graph client).
from postcli.platforms.graph_version import (  # noqa: E402 - re-exported for the adapters
    DEFAULT_GRAPH_VERSION,
    graph_version_for,
    valid_graph_version,
)

__all__ = ["DEFAULT_GRAPH_VERSION", "GraphClient", "graph_version_for", "valid_graph_version"]


def insights_by_name(
    body: Any, value_of: Callable[[dict[str, Any]], int | None], *, label: str, platform: str
) -> dict[str, int | None]:
    """An /insights answer ({"data": [{"name": ..., ...}]}) as metric name -> value_of(entry)."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise MalformedResponse(f"{label} answered insights without a data list", platform=platform)
    return {str(item["name"]): value_of(item) for item in data if isinstance(item, dict) and "name" in item}


def _usage_reset_seconds(headers: Any) -> float | None:
    """Seconds until access returns, from Meta's usage headers (minutes in the JSON)."""
    for name in ("X-Business-Use-Case-Usage", "X-Ad-Account-Usage", "X-App-Usage"):
        raw = headers.get(name)
        if not raw:
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        minutes: list[float] = []
        entries = data.values() if isinstance(data, dict) else []
        for entry in entries:
            for item in entry if isinstance(entry, list) else [entry]:
                if isinstance(item, dict):
                    value = item.get("estimated_time_to_regain_access")
                    if isinstance(value, (int, float)) and value > 0:
                        minutes.append(float(value))
        if minutes:
            return max(minutes) * 60.0
    retry = headers.get("Retry-After")
    if retry:
        try:
            return max(0.0, float(retry))
        except ValueError:
            return None
    return None


def graph_error(status: int, body: Any, headers: Any, *, platform: str, host: str) -> PlatformError:
    """The typed error for one failed Graph answer, with the Graph `code` and
    `subcode` (None when absent) as attributes for adapters that look closer."""
    exc = _graph_error(status, body, headers, platform=platform, host=host)
    err = body.get("error") if isinstance(body, dict) else None
    exc.code = err.get("code") if isinstance(err, dict) else None  # type: ignore[attr-defined]
    exc.subcode = err.get("error_subcode") if isinstance(err, dict) else None  # type: ignore[attr-defined]
    exc.error_type = err.get("type") if isinstance(err, dict) else None  # type: ignore[attr-defined]
    exc.http_status = status  # type: ignore[attr-defined]
    return exc


def _graph_error(status: int, body: Any, headers: Any, *, platform: str, host: str) -> PlatformError:
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        if status in (401, 403):
            return AuthFailed(f"{host} refused the access token (HTTP {status})", platform=platform)
        if status == 404:
            return RemoteNotFound(f"{host} has no such object (HTTP 404)", platform=platform)
        if status == 429:
            return PlatformRateLimited(
                f"{host} is rate limiting requests (HTTP 429)",
                platform=platform,
                retry_after=_usage_reset_seconds(headers),
            )
        if status >= 500:
            return PlatformUnavailable(f"{host} failed (HTTP {status})", platform=platform)
        return MalformedResponse(f"{host} answered HTTP {status} without a Graph error body", platform=platform)
    code = err.get("code")
    sub = err.get("error_subcode")
    text = str(err.get("error_user_msg") or err.get("message") or "unknown error")
    what = f"{host}: {text} (code {code}{f'/{sub}' if sub else ''})"
    row = graph_errors.lookup(code, sub)
    kind = row.kind if row is not None else None
    hint = row.hint if row is not None else None
    if kind is None:
        if status == 401:
            kind = "auth"
        elif status == 429:
            kind = "rate"
        elif status == 404:
            kind = "not_found"
        elif err.get("is_transient") or status >= 500:
            kind = "retry"
        else:
            kind = "rejected"
    if kind == "auth":
        return AuthFailed(what, platform=platform, hint=hint)
    if kind in ("rate", "quota"):
        return PlatformRateLimited(what, platform=platform, retry_after=_usage_reset_seconds(headers), hint=hint)
    if kind == "not_found":
        return RemoteNotFound(what, platform=platform, hint=hint)
    if kind == "retry":
        return PlatformUnavailable(what, platform=platform, hint=hint)
    if kind == "permission":
        return PlatformRejected(
            what, platform=platform, hint=graph_errors.permission_hint(platform, f"{err.get('message')} {text}")
        )
    return PlatformRejected(what, platform=platform, hint=hint)


class GraphClient:
    """JSON over HTTPS to one Graph host, as one account (thread-safe, reused).

    `base_url` is the account's (e.g. https://graph.threads.net); `version` is
    put before every relative path ("v1.0", "v23.0"); "" means none.
    """

    def __init__(
        self,
        *,
        base_url: str,
        version: str,
        token: Callable[[], str],
        platform: str,
        timeout: float = 30.0,
    ) -> None:
        base = base_url.rstrip("/")
        if not base.startswith(("http://", "https://")):
            base = "https://" + base
        self.base_url = base
        self.version = version.strip("/")
        self.platform = platform
        self.host = base.split("://", 1)[1].split("/", 1)[0]
        self._token = token
        self._timeout = timeout
        self._lock = threading.Lock()
        self._client: Any = None

    def _http(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = tls.client(timeout=self._timeout, follow_redirects=True)
            return self._client

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path  # a paging.next link
        path = path.lstrip("/")
        return f"{self.base_url}/{self.version}/{path}" if self.version else f"{self.base_url}/{path}"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        files: Any = None,
        token: str | None = None,
        with_token: bool = True,
    ) -> Any:
        """Send one request; the decoded JSON answer, or a typed error."""
        import httpx

        url = self.url(path)
        query: dict[str, Any] = {}
        if "?" in url:
            # A paging.next link carries its cursor in its query; httpx would drop it for `params`.
            from urllib.parse import parse_qsl

            url, _, link_query = url.partition("?")
            query.update(parse_qsl(link_query, keep_blank_values=True))
        query.update({k: v for k, v in (params or {}).items() if v is not None})
        if with_token:
            query["access_token"] = token if token is not None else self._token()
        form = {k: v for k, v in (data or {}).items() if v is not None} if data is not None else None
        try:
            response = self._http().request(method, url, params=query, data=form, files=files)
        except httpx.TimeoutException:
            raise PlatformUnavailable(
                f"{self.host} did not answer within {self._timeout:g} s", platform=self.platform
            ) from None
        except httpx.HTTPError as exc:
            raise PlatformUnavailable(
                f"cannot reach {self.host} ({type(exc).__name__})", platform=self.platform
            ) from None
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = None
        if response.status_code >= 400 or (isinstance(body, dict) and "error" in body):
            raise graph_error(response.status_code, body, response.headers, platform=self.platform, host=self.host)
        if body is None:
            raise MalformedResponse(
                f"{self.host} answered HTTP {response.status_code} with something that is not JSON",
                platform=self.platform,
            )
        return body

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, **data: Any) -> Any:
        return self.request("POST", path, data=data)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)


@contextmanager
def typed_calls(
    *,
    platform: str,
    host: str,
    what: str,
    secrets: Callable[[], Iterable[object]],
    reconnect_hint: str | None = None,
) -> Iterator[None]:
    """Around an adapter's Graph calls: typed errors only, and never a secret in their text.

    A PlatformError leaves with every secret masked, the platform set, and
    (for AuthFailed without one) `reconnect_hint`; an answer missing what the
    adapter reads (KeyError, TypeError, ...) leaves as MalformedResponse naming `what`.
    """
    try:
        yield
    except PlatformError as exc:
        from postcli.secrets_redact import mask

        message = mask(exc.message, secrets())  # read now: a refresh inside the block may have added one
        if message != exc.message:
            exc.message = message
            exc.args = (message,)
        if exc.platform is None:
            exc.platform = platform
        if reconnect_hint and isinstance(exc, AuthFailed) and exc.hint is None:
            exc.hint = reconnect_hint
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        raise MalformedResponse(f"{host} sent an unexpected answer while {what}", platform=platform) from None


# --- the Batch API ---------------------------------------------------------------------
# https://developers.facebook.com/docs/graph-api/batch-requests: POST / with `batch=`, at
# most 50 requests; the answer is one {"code", "headers", "body"} per request, in order,
# or null for a request the batch timed out on.

BATCH_LIMIT = 50


def run_batch(
    post: Callable[[dict[str, Any]], Any], relative_urls: list[str], *, host: str, platform: str
) -> list[tuple[int | None, Any]]:
    """One Batch API call of GETs: (status, decoded body) per request; (None, None) if it did not run.

    `post` sends the form to the root path (the adapter's own call, which types and scrubs errors).
    """
    from postcli.platforms.values import int_or_none

    batch = json.dumps([{"method": "GET", "relative_url": url} for url in relative_urls])
    answers = post({"batch": batch, "include_headers": "false"})
    if not isinstance(answers, list) or len(answers) != len(relative_urls):
        raise MalformedResponse(f"{host} answered the batch with something else", platform=platform)
    out: list[tuple[int | None, Any]] = []
    for answer in answers:
        if not isinstance(answer, dict):
            out.append((None, None))  # Graph answers null for a request the batch timed out on
            continue
        try:
            body = json.loads(answer.get("body") or "null")
        except (TypeError, ValueError):
            body = None
        out.append((int_or_none(answer.get("code")), body))
    return out
