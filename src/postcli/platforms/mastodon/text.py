"""Mastodon's text rules: how StatusLengthValidator counts a status, and the plain text
of a status's rendered HTML (to recognise a status when reconciling).
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from html.parser import HTMLParser
from typing import Any

DEFAULT_URL_WEIGHT = 23

# twitter-text's mention rule as Mastodon applies it: `@user@domain`, not inside a
# word, an e-mail address or a URL path.
_REMOTE_MENTION = re.compile(
    r"(?<![\w/@])@([a-z0-9_]+(?:[a-z0-9_.\-]+[a-z0-9_]+)?)@[a-z0-9.\-]+[a-z0-9]+",
    re.IGNORECASE,
)
# Used only if the SDK's copy of Mastodon's URL regex cannot be loaded.
_FALLBACK_URL = re.compile(r"(?<![\w@])https?://[^\s<>\"]*[^\s<>\".,;:!?')\]]", re.IGNORECASE)

# --- text length -------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _url_regex() -> re.Pattern[str]:
    """Mastodon's own URL pattern (twitter-text with Mastodon's changes).

    Mastodon.py ships it in `mastodon/_url_regex.py`, a module that imports only
    `re` and `json`; loading that file by path avoids importing the whole SDK
    (~0.4 s) just to count characters while validating a post.
    """
    try:
        import importlib.util
        import os

        spec = importlib.util.find_spec("mastodon")  # locates, does not import
        if spec is None or not spec.origin:
            return _FALLBACK_URL
        path = os.path.join(os.path.dirname(spec.origin), "_url_regex.py")
        file_spec = importlib.util.spec_from_file_location("_postcli_mastodon_url_regex", path)
        if file_spec is None or file_spec.loader is None:
            return _FALLBACK_URL
        module = importlib.util.module_from_spec(file_spec)
        file_spec.loader.exec_module(module)
        return module.url_regex
    except Exception:  # a changed SDK layout must not break validation
        return _FALLBACK_URL


def _url_spans(text: str) -> list[tuple[int, int]]:
    pattern = _url_regex()
    spans = []
    for m in pattern.finditer(text):
        # Mastodon's pattern captures the character before the URL; the URL is group 3.
        if pattern is not _FALLBACK_URL and pattern.groups >= 3 and m.group(3) is not None:
            spans.append(m.span(3))
        else:
            spans.append(m.span())
    return spans


def mastodon_text_length(text: str, url_weight: int = DEFAULT_URL_WEIGHT) -> int:
    """Length of `text` as Mastodon's StatusLengthValidator counts it.

    Every http(s) URL counts `url_weight` characters whatever its length, a
    remote mention `@user@domain` counts as `@user`, and the result is measured
    in extended grapheme clusters (`each_grapheme_cluster.size`), so an emoji
    with modifiers or a flag counts 1. A blank text counts 0.
    """
    import regex

    if not text or not text.strip():
        return 0
    entities: list[tuple[int, int, str | None]] = [(a, b, None) for a, b in _url_spans(text)]
    taken = [(a, b) for a, b, _ in entities]
    for m in _REMOTE_MENTION.finditer(text):
        a, b = m.span()
        # Extractor.remove_overlapping_entities: a mention inside a URL is part of the URL.
        if not any(a < ub and ua < b for ua, ub in taken):
            entities.append((a, b, "@" + m.group(1)))
    entities.sort()
    out: list[str] = []
    last = 0
    for a, b, replacement in entities:
        out.append(text[last:a])
        out.append("x" * url_weight if replacement is None else replacement)
        last = b
    out.append(text[last:])
    return len(regex.findall(r"\X", "".join(out)))


# --- HTML content -> plain text (for reconciliation) --------------------------


class _PlainText(HTMLParser):
    """Undo Mastodon's plain-text formatter: paragraphs, line breaks, links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._paragraphs = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p":
            if self._paragraphs:
                self.parts.append("\n\n")
            self._paragraphs += 1

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def status_plain_text(status: Any) -> str:
    text = status.get("text")  # present on delete responses and /source
    if isinstance(text, str):
        return text
    parser = _PlainText()
    parser.feed(status.get("content") or "")
    parser.close()
    return html.unescape("".join(parser.parts))


def normalized(text: str) -> str:
    # The rendered HTML shows remote mentions by their local part only, and
    # Mastodon normalizes line endings; compare what survives rendering.
    text = unicodedata.normalize("NFC", text)
    text = _REMOTE_MENTION.sub(lambda m: "@" + m.group(1), text)
    return " ".join(text.split())
