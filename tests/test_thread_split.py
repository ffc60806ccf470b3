"""`--split` (services/posts/split.py): cuts at paragraph, then sentence, then word boundaries;
never inside a link, a mention or a hashtag; every part within the platform's limit as that
platform counts (Hypothesis over random texts, with the real adapters' counting); nothing
added at the cuts; `numbered` counters counted in the length."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postcli.errors import InvalidInput
from postcli.platforms.base import AccountContext
from postcli.platforms.registry import adapter_class
from postcli.services.posts.split import split_parts


def counting(platform: str):
    cls = adapter_class(platform)
    return cls(AccountContext(platform=platform, api_base_url=cls.spec.default_base_url or "")).text_length


# Bluesky counts graphemes, Mastodon counts a link as 23, Threads counts an emoji as its UTF-8 bytes.
LENGTHS = {name: counting(name) for name in ("bluesky", "mastodon", "threads")}

# Letters and multi-code-point graphemes (a flag, a family, e + a combining accent).
WORD = st.lists(
    st.sampled_from(list("abcdefghijklmnopqrstuvwxyzäöüéßñçøå日本語中文한국어") + ["👍", "🇫🇷", "👩‍👩‍👧", "é"]),
    min_size=1,
    max_size=12,
).map("".join)
URL = st.builds(
    lambda host, path: f"https://{host}.example/{path}",
    st.text(alphabet="abcdefghij", min_size=1, max_size=8),
    st.text(alphabet="abcdefghij0123456789-_/?=&", min_size=0, max_size=60),
)
MENTION = st.builds(
    lambda user, host: f"@{user}" + (f"@{host}.social" if host else ""),
    st.text(alphabet="abcdefghijklmnop_", min_size=1, max_size=12),
    st.text(alphabet="abcdefgh", max_size=8),
)
HASHTAG = st.builds(lambda t: f"#{t}", st.text(alphabet="abcdefghijklmnop", min_size=1, max_size=15))
TOKEN = st.one_of(WORD, WORD, WORD, URL, MENTION, HASHTAG)
SEP = st.sampled_from([" ", " ", " ", ". ", "! ", "\n", "\n\n", ",  ", ".\n\n"])


def whole(word: str) -> bool:
    return "://" in word or word.lstrip("([{\"'").startswith(("@", "#"))


@st.composite
def texts(draw: st.DrawFn) -> str:
    tokens = draw(st.lists(st.tuples(TOKEN, SEP), min_size=1, max_size=120))
    return "".join(t + s for t, s in tokens).strip()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts(), platform=st.sampled_from(sorted(LENGTHS)), limit=st.integers(40, 500), numbered=st.booleans())
def test_every_part_fits_and_nothing_is_cut_inside_a_link_mention_or_hashtag(text, platform, limit, numbered):
    length = LENGTHS[platform]
    try:
        parts = split_parts([text], length, limit, numbered=numbered)
    except InvalidInput as exc:
        # Only a link, mention or hashtag longer than a part may be is refused.
        assert any(whole(w) and length(w) > limit - (8 if numbered else 0) for w in text.split()), exc.message
        return
    assert parts and all(p and p == p.strip() for p in parts)
    assert all(length(p) <= limit for p in parts), [(length(p), p) for p in parts if length(p) > limit]
    bodies = parts
    if numbered and len(parts) > 1:
        assert [p.rsplit(" ", 1)[1] for p in parts] == [f"{i}/{len(parts)}" for i in range(1, len(parts) + 1)]
        bodies = [p.rsplit(" ", 1)[0] for p in parts]
    # Nothing lost, nothing added: the same characters but whitespace, in the same order.
    assert "".join("".join(b.split()) for b in bodies) == "".join(text.split())
    # Links, mentions and hashtags come through whole.
    kept = [w for b in bodies for w in b.split() if whole(w)]
    assert kept == [w for w in text.split() if whole(w)]


def test_the_cut_goes_at_a_paragraph_before_a_sentence_before_a_word():
    para = "First paragraph. Short."
    text = f"{para}\n\nSecond paragraph has two sentences. This is the second one and it goes on."
    assert split_parts([text], len, 60) == [
        para,
        "Second paragraph has two sentences.",
        "This is the second one and it goes on.",
    ]
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa"
    assert split_parts([words], len, 20) == ["alpha beta gamma", "delta epsilon zeta", "eta theta iota kappa"]


def test_a_word_longer_than_a_part_is_cut_between_graphemes_but_a_link_is_refused():
    assert split_parts(["👩‍👩‍👧" * 5], LENGTHS["bluesky"], 2) == ["👩‍👩‍👧👩‍👩‍👧", "👩‍👩‍👧👩‍👩‍👧", "👩‍👩‍👧"]
    with pytest.raises(InvalidInput) as err:
        split_parts(["see https://example.com/" + "a" * 80], len, 50)
    assert "never cut" in err.value.message and "--text-for" in (err.value.hint or "")


def test_mastodon_counts_a_long_link_as_23_so_it_fits_a_short_part():
    link = "https://example.com/" + "a" * 200
    parts = split_parts([f"look {link} now and again"], LENGTHS["mastodon"], 40)
    assert parts == [f"look {link} now and", "again"]


def test_numbered_makes_room_for_a_wider_counter_when_there_are_ten_parts_or_more():
    text = " ".join(["word"] * 60)
    parts = split_parts([text], len, 24, numbered=True)
    assert len(parts) >= 10 and all(len(p) <= 24 for p in parts)
    assert parts[0].endswith(f" 1/{len(parts)}") and parts[-1].endswith(f" {len(parts)}/{len(parts)}")


def test_explicit_parts_are_each_cut_and_numbered_together():
    parts = split_parts(["short one", "a b c d e f g h i j k l m n o p"], len, 16, numbered=True)
    assert parts == ["short one 1/4", "a b c d e f 2/4", "g h i j k l 3/4", "m n o p 4/4"]
