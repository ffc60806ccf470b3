"""Keep secrets out of messages, logs and JSON.

Every secret loaded from the credential store is registered here, and any text
that leaves postcli in an error passes through `redact`.
"""

from __future__ import annotations

import re

_known: set[str] = set()

_PATTERNS = (
    re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),  # JWTs
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)((?:access_token|refresh_token|password|app_password|token)[\"']?\s*[:=]\s*[\"']?)[^\s\"',&]+"),
)

MASK = "<redacted>"


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
