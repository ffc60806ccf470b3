"""`--split`: cutting a text into the parts of a thread that each fit one platform's limit.

A cut goes at the last paragraph break (a blank line) that lets the part fit; failing that,
the last sentence end or line break; failing that, the last space. Whitespace is where a cut
goes, so a link, a mention or a hashtag (no spaces in any of them) is never cut; a word
longer than the limit is cut between graphemes, unless it is one of those, which is refused.
Nothing is added at a cut: the whitespace there is dropped, every other character kept in
order. `numbered` adds " 1/3"-style counters, counted in each part's length.

The length is the platform's own counting (its adapter's `text_length`: graphemes, links of a
fixed weight, emoji as bytes), so every part fits the platform as it counts.
"""

from __future__ import annotations

import re
from typing import Callable

from postcli.errors import InvalidInput

Length = Callable[[str], int]

_SPACE = re.compile(r"\s+")
# A sentence ends with . ! ? … (or their full-width forms), maybe followed by closing quotes
# or brackets, right before the whitespace.
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'’”»)\]]*$")
# A word that must stay whole: a link, a mention, a hashtag (leading brackets or quotes aside).
_WHOLE = re.compile(r"^[(\[{\"'“‘«]*(?:[@#＃]|www\.)|://")

PARAGRAPH, SENTENCE, WORD = 3, 2, 1


def _level(text: str, start: int, end: int) -> int:
    """How good a cut the whitespace text[start:end] is."""
    gap = text[start:end]
    if gap.count("\n") >= 2:
        return PARAGRAPH
    if "\n" in gap or _SENTENCE_END.search(text[max(0, start - 8) : start]):
        return SENTENCE
    return WORD


def _hard_cut(word: str, fits: Callable[[str], bool]) -> int:
    """How many characters of `word` (a whole number of graphemes, at least one) fit."""
    import regex

    if _WHOLE.search(word):
        shown = word if len(word) <= 60 else word[:57] + "..."
        raise InvalidInput(
            f"cannot split the text: {shown!r} is longer than a part may be, and a link, mention or "
            "hashtag is never cut.",
            hint="Shorten it (a link shortener), or give that platform its own text with --text-for PLATFORM=TEXT.",
        )
    end = 0
    for grapheme in regex.finditer(r"\X", word):
        if end and not fits(word[: grapheme.end()]):
            break
        end = grapheme.end()
    return end


def _cut(text: str, fits: Callable[[str], bool]) -> list[str]:
    parts: list[str] = []
    rest = text.strip()
    while rest:
        if fits(rest):
            parts.append(rest)
            break
        best: dict[int, tuple[int, int]] = {}  # level -> (end of the part, start of the next)
        for gap in _SPACE.finditer(rest):
            if not fits(rest[: gap.start()]):
                break  # longer prefixes fit no better
            best[_level(rest, gap.start(), gap.end())] = (gap.start(), gap.end())
        if best:
            end, start = best[max(best)]
        else:
            word = _SPACE.split(rest, 1)[0]
            end = start = _hard_cut(word, fits)
        parts.append(rest[:end])
        rest = rest[start:].lstrip()
    return parts


def _fits_with(length: Length, limit: int, suffix: str) -> Callable[[str], bool]:
    return lambda text: length(text + suffix) <= limit


def split_parts(texts: list[str], length: Length, limit: int, *, numbered: bool = False) -> list[str]:
    """Each of `texts` cut to `limit` as `length` counts (a text that fits stays whole);
    with `numbered`, " i/n" after every part when there are several."""
    if not numbered:
        return [part for text in texts for part in _cut(text, lambda s: length(s) <= limit)]
    plain = [t.strip() for t in texts if t.strip()]
    if len(plain) == 1 and length(plain[0]) <= limit:
        return plain  # one part needs no counter
    width = 1
    while True:
        # Room for the widest counter of this many digits ("99/99"): every digit counts one.
        widest = f" {'9' * width}/{'9' * width}"
        if length(widest) >= limit:
            raise InvalidInput(
                f"cannot number the parts: the limit ({limit}) leaves no room for the text beside a counter.",
                hint="Leave out --numbered.",
            )
        parts = [part for text in texts for part in _cut(text, _fits_with(length, limit, widest))]
        if len(str(len(parts))) <= width:
            return [f"{part} {i}/{len(parts)}" for i, part in enumerate(parts, start=1)]
        width = len(str(len(parts)))
