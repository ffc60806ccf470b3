"""What post text (and alt text, --text-for) may contain, checked before anything is stored.

Control characters have no place in a post: NUL cannot even be stored in PostgreSQL,
ESC and friends are how a terminal gets hijacked, and no platform shows them. Tab,
newline and carriage return (text piped in from a Windows editor) are ordinary text.
Bytes that are not UTF-8 reach Python as lone surrogates and cannot be stored either.
"""

from __future__ import annotations

import re
from typing import Iterable

from postcli.errors import InvalidInput

_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

_NAMES = {0x00: "NUL", 0x07: "BEL", 0x08: "backspace", 0x1B: "ESC", 0x7F: "DEL"}


def _describe(ch: str) -> str:
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:
        return "a byte that is not UTF-8"
    name = _NAMES.get(code)
    return f"the control character U+{code:04X}" + (f" ({name})" if name else "")


def check_text(text: str | None, what: str) -> None:
    """InvalidInput naming the first refused character of `text` and where it is."""
    if not text:
        return
    found = _REFUSED.search(text)
    if found is None:
        return
    not_utf8 = 0xD800 <= ord(found.group()) <= 0xDFFF
    raise InvalidInput(
        f"{what} contains {_describe(found.group())} at position {found.start() + 1}; nothing was stored.",
        hint="Save the text as UTF-8 (e.g. `iconv -f LATIN1 -t UTF-8`) and try again."
        if not_utf8
        else "Remove control characters from the text (tab and newline are fine).",
    )


def check_post_texts(text: str | None, text_for: dict[str, str] | None = None, alts: Iterable[str | None] = ()) -> None:
    """The post text, every --text-for text and every --alt, each checked by check_text."""
    check_text(text, "the post text")
    for key, value in (text_for or {}).items():
        check_text(value, f"--text-for {key}")
    for i, alt in enumerate(alts, start=1):
        check_text(alt, f"--alt {i}")
