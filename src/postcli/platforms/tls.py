"""One TLS context for every HTTP client in the process.

httpx builds a fresh SSLContext for each Client it creates, loading the whole CA
bundle each time: 30-50 ms of CPU, as much as a dozen API calls. A run makes a
client per account (and the atproto SDK one per session), so they share this one.
It is built like httpx's default (certifi's bundle, or SSL_CERT_FILE / SSL_CERT_DIR
when set), once, on first use.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ssl

_lock = threading.Lock()
_context: ssl.SSLContext | None = None


def context() -> ssl.SSLContext:
    global _context
    with _lock:
        if _context is None:
            import httpx  # not at module level: `postcli --help` must stay fast

            _context = httpx.create_ssl_context(trust_env=True)
        return _context


def client(**options: Any) -> Any:
    """An httpx.Client on the shared context that names itself postcli (Tumblr asks for
    one consistent User-Agent per application); `headers` adds to that."""
    import httpx  # not at module level: `postcli --help` must stay fast

    headers = {"User-Agent": "postcli", **options.pop("headers", {})}
    return httpx.Client(verify=context(), headers=headers, **options)
