"""X's weighted length of a post: twitter-text's parseTweet with configuration v3.

The published rules (github.com/twitter/twitter-text: config/v3.json, the Java
TwitterTextParser and Extractor, and the conformance suite conformance/validate.yml and
extract.yml that every implementation passes):

- the text is NFC-normalized first; a text of nothing but whitespace and control
  characters weighs 0;
- every link weighs 23 (transformedURLLength), however long, with or without http(s)://
  (a bare "example.com" needs a top-level domain twitter-text knows, tlds.py);
- an emoji sequence (keycap, flag, modifier, ZWJ sequence, a pictograph with U+FE0F)
  weighs 2 as a whole (emojiParsingEnabled);
- any other code point weighs 1 in the ranges U+0000-U+10FF, U+2000-U+200D,
  U+2010-U+201F and U+2032-U+2037, and 2 elsewhere (CJK, most emoji, most symbols);
- the limit is 280.

twitter-text recognises emoji sequences with a list generated from Unicode's emoji-test
data; this module uses Unicode's emoji sequence grammar (UTS #51) instead, so a ZWJ
sequence no vendor draws (two pictographs joined by U+200D) weighs 2 here where
twitter-text weighs its parts. Links and the weights follow the Java code exactly.
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Any

MAX_WEIGHTED_LENGTH = 280
URL_LENGTH = 23  # transformedURLLength
_SCALE = 100
_DEFAULT_WEIGHT = 200
# (first, last, weight) of config/v3.json's ranges; every other code point weighs 200.
_RANGES = ((0x0000, 0x10FF, 100), (0x2000, 0x200D, 100), (0x2010, 0x201F, 100), (0x2032, 0x2037, 100))
# Extractor.MAX_URL_LENGTH and MAX_TCO_SLUG_LENGTH.
_MAX_URL_LENGTH = 4096
_MAX_TCO_SLUG = 40

_LATIN_ACCENTS = (
    r"\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259\u025b\u0263"
    r"\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
)
_CYRILLIC = r"\u0400-\u04ff"
_DIRECTIONAL = r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_INVALID = r"\ufffe\ufeff\uffff"


def _weight(code_point: int) -> int:
    for first, last, weight in _RANGES:
        if first <= code_point <= last:
            return weight
    return _DEFAULT_WEIGHT


@functools.lru_cache(maxsize=1)
def _patterns() -> tuple[Any, Any, Any]:
    """(the URL pattern, the t.co pattern, the emoji pattern); built once, on first use (the
    TLD alternation takes a moment to compile)."""
    import regex

    from postcli.platforms.x import tlds

    valid = f"a-z0-9{_LATIN_ACCENTS}"
    char = f"[{valid}]"
    subdomain = rf"(?>(?:{char}[{valid}\-_]*)?{char}\.)"
    domain_name = rf"(?:(?:{char}[{valid}\-]*)?{char}\.)"
    punct = "".join(regex.escape(c) for c in "-_!\"#$%&'()*+,./:;<=>?@[]^`{|}~")
    uchar = rf"[^{punct}\s\p{{Z}}\p{{InGeneralPunctuation}}]"
    unicode_domain_name = rf"(?:(?:{uchar}(?:{uchar}|-)*)?{uchar}\.)"
    after_tld = r"(?=[^a-z0-9@+\-]|$)"
    gtld = f"(?:(?:{'|'.join(map(regex.escape, tlds.names(tlds.GENERIC)))}){after_tld})"
    cctld = f"(?:(?:{'|'.join(map(regex.escape, tlds.names(tlds.COUNTRY)))}){after_tld})"
    punycode = r"(?:xn--[\-0-9a-z]+)"
    domain = (
        rf"(?:{subdomain}*{domain_name}(?:{gtld}|{cctld}|{punycode}))"
        rf"|(?:(?<=https?://)(?:(?:{domain_name}{cctld})|(?:{unicode_domain_name}(?:{gtld}|{cctld}))))"
        rf"|(?:{domain_name}{cctld}(?=/))"
    )
    path_chars = rf"[a-z0-9!*';:=+,.$/%#\[\]\-\u2013_~|&@{_LATIN_ACCENTS}{_CYRILLIC}]"
    parens = rf"\((?:{path_chars}+|(?:{path_chars}*\({path_chars}+\){path_chars}*))\)"
    path_end = rf"[a-z0-9=_#/\-+{_LATIN_ACCENTS}{_CYRILLIC}]|(?:{parens})"
    path = rf"(?:(?:{path_chars}*(?:{parens}{path_chars}*)*(?:{path_end}))|(?:@{path_chars}+/))"
    query = r"[a-z0-9!?*'();:&=+$/%#\[\]\-_.,~|@]"
    query_end = r"[a-z0-9\-_&=#/]"
    url = (
        rf"(?P<before>[^a-z0-9@＠$#＃{_INVALID}]|[{_DIRECTIONAL}]|^)"
        rf"(?P<url>(?P<protocol>https?://)?(?P<domain>{domain})(?::[0-9]++)?(?:/{path}*+)?(?:\?{query}*{query_end})?)"
    )
    tco = rf"^https?://t\.co/([a-z0-9]+)(?:\?{query}*{query_end})?"
    element = r"(?:\p{Emoji_Modifier_Base}\p{Emoji_Modifier}|\p{Extended_Pictographic}\ufe0f?)"
    emoji = (
        r"[0-9#*]\ufe0f?\u20e3"  # keycap
        r"|\p{Regional_Indicator}\p{Regional_Indicator}"  # flag
        r"|\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f"  # subdivision flag (tag sequence)
        rf"|{element}(?:\u200d{element})+"  # ZWJ sequence
        r"|\p{Emoji_Modifier_Base}\p{Emoji_Modifier}"
        # An emoji presentation sequence: a pictograph shown as text by default, then U+FE0F (one
        # shown as emoji anyway, like U+1F44D, is followed by a stray U+FE0F of weight 2).
        r"|(?=\P{Emoji_Presentation})\p{Extended_Pictographic}\ufe0f"
    )
    # A lone pictograph, modifier or U+FE0F needs no rule: outside the light ranges it weighs
    # 2 anyway, and inside them (a bare (c) sign) twitter-text counts it as 1.
    flags = regex.IGNORECASE | regex.VERSION0
    return regex.compile(url, flags), regex.compile(tco, flags), regex.compile(emoji)


def _valid_host_and_length(url: str, protocol: str | None, host: str) -> bool:
    """Extractor.isValidHostAndLength: the host converts to ASCII (IDNA: every label 1..63
    characters after punycode) and the link, with a protocol added, fits 4096 characters."""
    if not host:
        return False
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except (UnicodeError, ValueError):
        return False
    if not ascii_host:
        return False
    length = len(url) + len(ascii_host) - len(host) + (0 if protocol else len("https://"))
    return length <= _MAX_URL_LENGTH


def url_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every link twitter-text's Extractor finds in `text` (code point offsets)."""
    if not text or ("." not in text):
        return []
    url_re, tco_re, _emoji = _patterns()
    spans: list[tuple[int, int]] = []
    for m in url_re.finditer(text):
        protocol = m.group("protocol")
        if not protocol and m.group("before")[-1:] in ("-", "_", ".", "/"):
            continue  # a link without protocol right after one of these is part of something else
        start, end = m.span("url")
        url = m.group("url")
        tco = tco_re.match(url)
        if tco is not None:
            if len(tco.group(1)) > _MAX_TCO_SLUG:
                continue
            url = tco.group(0)
            end = start + len(url)
        if _valid_host_and_length(url, protocol, m.group("domain")):
            spans.append((start, end))
    return spans


def urls(text: str) -> list[str]:
    """The links of `text` as X counts them, in order (after NFC)."""
    normalized = unicodedata.normalize("NFC", text or "")
    return [normalized[a:b] for a, b in url_spans(normalized)]


def _emoji_starts(text: str) -> dict[int, int]:
    _url, _tco, emoji = _patterns()
    return {m.start(): m.end() for m in emoji.finditer(text)}


def weighted_length(text: str) -> int:
    """The length X counts against its 280 (parseTweet's weightedLength)."""
    if not text or not text.strip("".join(map(chr, range(0x21)))):
        return 0  # Java's trim(): nothing but code points up to U+0020
    normalized = unicodedata.normalize("NFC", text)
    links = dict(url_spans(normalized))
    emoji = _emoji_starts(normalized)
    total = 0
    offset = 0
    while offset < len(normalized):
        if offset in links:
            total += URL_LENGTH * _SCALE
            offset = links[offset]
            continue
        if offset in emoji:
            total += _DEFAULT_WEIGHT
            offset = emoji[offset]
            continue
        total += _weight(ord(normalized[offset]))
        offset += 1
    return total // _SCALE
