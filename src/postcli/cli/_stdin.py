"""The one reader of standard input: post text (`post create -`), secrets (`--token-stdin`,
`--password-stdin`) and answers typed at a prompt.

Every read is bounded: `yes | postcli post create - --to 1` or `--token-stdin < /dev/zero`
never ends, and would fill the memory before anything else happened. More than the bound
is bad input (exit 2), as are bytes that are not UTF-8. A closed standard input (`<&-`)
reads as empty.
"""

from __future__ import annotations

import sys

from postcli.errors import InvalidInput

# The longest post any platform takes is Facebook's 63,206 characters; at up to 4 bytes a
# character in UTF-8 that is 252,824 bytes. Longer text could never be published anywhere.
MAX_TEXT_BYTES = 256 * 1024
# One line: a token, a password, a pasted redirect address or a typed answer. OAuth access
# tokens run to a few hundred bytes, JWTs to a couple of KiB; a redirect address with its code
# and state stays well below this.
MAX_LINE_BYTES = 16 * 1024


def _kib(n: int) -> str:
    return f"{n // 1024} KiB"


def _decode(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{what} is not valid UTF-8 (byte {exc.start}).", hint="Save the text as UTF-8 and pipe it again."
        ) from None


def _buffer() -> object | None:
    stream = sys.stdin
    if stream is None:  # started with standard input closed
        return None
    return getattr(stream, "buffer", None) or stream


def read_text(what: str = "standard input", *, limit: int = MAX_TEXT_BYTES) -> str:
    """All of stdin as text (newlines as text mode gives them), at most `limit` bytes."""
    source = _buffer()
    if source is None:
        return ""
    raw = source.read(limit + 1)  # type: ignore[attr-defined]
    if isinstance(raw, str):  # a text stream without a buffer (tests, embedding): count its bytes
        raw = raw.encode("utf-8", "surrogateescape")
    if len(raw) > limit:
        raise InvalidInput(
            f"{what} is longer than {_kib(limit)}, more than any platform takes in a post.",
            hint="Pipe in the text of one post (no platform accepts a longer one).",
        )
    return _decode(raw, what).replace("\r\n", "\n").replace("\r", "\n")


def read_line(what: str = "standard input", *, limit: int = MAX_LINE_BYTES) -> str | None:
    """One line of stdin without its line ending, at most `limit` bytes; None when stdin is at its end."""
    source = _buffer()
    if source is None:
        return None
    raw = source.readline(limit + 1)  # type: ignore[attr-defined]
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    if not raw:
        return None
    if len(raw) > limit and not raw.endswith(b"\n"):
        raise InvalidInput(
            f"{what} is longer than {_kib(limit)} without a line end.",
            hint="Pipe in just that one line.",
        )
    return _decode(raw, what).rstrip("\r\n")
