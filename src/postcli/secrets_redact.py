"""Keep secrets out of messages, logs and JSON.

Every secret loaded from the credential store is registered here, and any text
that leaves postcli in an error passes through `redact`.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

_known: set[str] = set()

_PATTERNS = (
    re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),  # JWTs
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)((?:access_token|refresh_token|password|app_password|token)[\"']?\s*[:=]\s*[\"']?)[^\s\"',&]+"),
)

MASK = "<redacted>"  # the one marker for a masked secret, wherever postcli masks one


def mask(text: str, secrets: Iterable[object]) -> str:
    """`text` with each of `secrets` (strings of 4+ characters) replaced by MASK, longest first.

    For secrets an adapter holds but that are not registered (a token just received)."""
    values = {s for s in secrets if isinstance(s, str) and len(s) >= 4}
    for secret in sorted(values, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def register_secret(value: object) -> None:
    if isinstance(value, str) and len(value) >= 6:
        _known.add(value)
    elif isinstance(value, dict):
        for v in value.values():
            register_secret(v)


def redact(text: str) -> str:
    for secret in sorted(_known, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, text)
    return text


def redacted_traceback(exc: BaseException | None) -> str:
    """The traceback --debug prints, chained causes and exception arguments included, secrets masked.

    A server that echoes a token back in its error body puts it into the exception's
    message and arguments; formatting first and masking the whole text catches every copy.
    """
    import traceback

    if exc is None:
        return ""
    return redact("".join(traceback.format_exception(exc)))


def install_log_handler(*, debug: bool) -> None:
    """postcli's loggers write to stderr through `redact`; tracebacks only with --debug.

    Without a handler Python's last-resort one printed `log.exception`'s traceback (and
    whatever secret an exception carried) on every run."""
    import logging

    class _Formatter(logging.Formatter):
        def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
            return super().formatException(ei) if debug else ""

        def format(self, record: logging.LogRecord) -> str:
            record.exc_text = None  # formatted afresh, so the choice above holds
            return redact(super().format(record)).rstrip()

    logger = logging.getLogger("postcli")
    for old in [h for h in logger.handlers if getattr(h, "_postcli", False)]:
        logger.removeHandler(old)
    handler = logging.StreamHandler()
    handler._postcli = True  # type: ignore[attr-defined]
    handler.setFormatter(_Formatter("postcli: %(message)s"))
    handler.setLevel(logging.DEBUG if debug else logging.WARNING)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if debug else logging.NOTSET)
