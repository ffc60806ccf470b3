"""Text that lays out differently from its length, for the tests that hold postcli's text drawing
to Rich's bytes (tests/test_textgrid.py, tests/test_plainterm.py): wide (CJK, emoji), combining,
zero-width, markup-like, made visible by clean() (ESC), runs of spaces, words that fold."""

PIECES = [
    "a",
    "Zz",
    "42",
    "word ",
    " ",
    "  ",
    "long-hyphenated-word",
    "x" * 9,
    "x" * 30,
    "漢字",
    "👍",
    "e\u0301",
    "\u200b",
    "[b]",
    "\x1b[31m",
    "—",
]
