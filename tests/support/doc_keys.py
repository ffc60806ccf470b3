"""The JSON keys a document names, read from its code blocks and `inline code`.

The docs write shapes loosely: real JSON, key lists such as `{"fetched", "accounts"}`, and
placeholders (`…`, `...envelope`, `platform row`, `change`). A quoted word is a key when it
stands before a `:`, alone between `{`/`,` and `,`/`}` in an object, or alone in its snippet
(`"refreshed_at"`). Anything else (values, bare words, ellipses) is skipped.
"""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|([{}\[\]:,])|([^\s"{}\[\]:,]+)')
_KEY = re.compile(r"\w+")


def keys_in(text: str) -> set[str]:
    """Every key the JSON-ish `text` names, at any depth."""
    tokens = [(m.group(1), m.group(2)) for m in _TOKEN.finditer(text)]
    if len(tokens) == 1 and tokens[0][0] is not None and _KEY.fullmatch(tokens[0][0]):
        return {tokens[0][0]}
    keys: set[str] = set()
    stack: list[str] = []
    expect_key = False
    for i, (string, punct) in enumerate(tokens):
        if punct in ("{", "["):
            stack.append(punct)
            expect_key = punct == "{"
        elif punct in ("}", "]"):
            if stack:
                stack.pop()
            expect_key = False
        elif punct == ",":
            expect_key = bool(stack) and stack[-1] == "{"
        elif punct == ":":
            expect_key = False
        elif string is not None:
            following = tokens[i + 1][1] if i + 1 < len(tokens) else None
            if _KEY.fullmatch(string) and (following == ":" or (expect_key and following in (",", "}"))):
                keys.add(string)
            expect_key = False
        else:  # a bare word (…, ...envelope, change) takes a key's place or a value's
            expect_key = False
    return keys


def sections(markdown: str, level: str = "## ") -> dict[str, str]:
    """Heading -> the text under it, up to the next heading of the same level or above."""
    depth = level.count("#")
    out: dict[str, str] = {}
    current = None
    for line in markdown.splitlines(keepends=True):
        hashes = len(line) - len(line.lstrip("#"))
        if 0 < hashes <= depth and line[hashes : hashes + 1] == " ":
            current = line[len(level) :].strip() if hashes == depth else None
            if current is not None:
                out[current] = ""
        elif current is not None:
            out[current] += line
    return out


def documented_keys(markdown: str) -> set[str]:
    """The keys named in the code blocks and inline code of a markdown text."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", markdown, flags=re.S)
    rest = re.sub(r"```[a-z]*\n.*?```", "", markdown, flags=re.S)
    return {k for snippet in [*blocks, *re.findall(r"`([^`]+)`", rest)] for k in keys_in(snippet)}


def keys_of(value: Any, opaque: frozenset[str] | set[str] = frozenset()) -> set[str]:
    """Every key of a parsed JSON value, at any depth; the values under `opaque` keys (a
    platform's raw payload) are not looked into."""
    if isinstance(value, dict):
        return set(value) | {k for key, v in value.items() if key not in opaque for k in keys_of(v, opaque)}
    if isinstance(value, list):
        return {k for v in value for k in keys_of(v, opaque)}
    return set()
