"""What `post create` reads for a thread: the parts (several TEXT, or --from-file), --split and
--numbered, --media-for-part (services/posts/thread.py does the rest)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from postcli.errors import InvalidInput

FROM_FILE_HELP = "A thread: parts separated by lines of only ---. Use - to read it from standard input."
SPLIT_HELP = "Cut the text into parts that fit each platform's limit (a thread where the platform has them)."
NUMBERED_HELP = 'Number the parts of a thread (" 1/3"), counted in each part\'s length; implies --split.'
FIRST_COMMENT_HELP = "A comment published right under the post (a thread: under its first part)."
MEDIA_FOR_PART_HELP = "An image or video for part N of a thread instead of part 1. Repeatable."
ALT_FOR_PART_HELP = "Alt text for the --media-for-part file of part N in the same position. Repeatable."


@dataclass
class ThreadArgs:
    text: str
    parts: list[str] | None
    split: str | None
    media_for_part: dict[int, list[tuple[Path, str | None]]]


def read(
    texts: list[str],
    from_file: Optional[str],
    split: bool,
    numbered: bool,
    media_for_part: list[str],
    alt_for_part: list[str],
) -> ThreadArgs:
    from postcli.cli._stdin import read_text
    from postcli.services.posts import thread

    if from_file is not None and texts:
        raise InvalidInput("give the text as arguments or --from-file, not both.")
    if from_file is not None:
        if from_file == "-":
            raw = read_text("the thread on standard input", limit=thread.MAX_FILE_BYTES)
        else:
            raw = thread.read_file(Path(from_file))
        parts = thread.parts_of(raw)
    elif not texts:
        raise InvalidInput("no text given.", hint='Example: postcli post create "Hello" --to bluesky')
    elif texts == ["-"]:
        parts = [read_text("the post text on standard input")]
    else:
        if "-" in texts:
            raise InvalidInput("- (standard input) is for a single text.", hint="Use --from-file - for a thread.")
        parts = list(texts)
    mode = "numbered" if numbered else ("plain" if split else None)
    return ThreadArgs(
        text=parts[0] if len(parts) == 1 else thread.joined(parts),
        parts=parts if len(parts) > 1 else None,
        split=mode,
        media_for_part=thread.parse_media_for_part(media_for_part, alt_for_part),
    )


def part_texts(values: list[str]) -> dict[int, str]:
    """`post edit --part N=TEXT` -> {N: TEXT}."""
    out: dict[int, str] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip().isdigit() or int(key) < 1:
            raise InvalidInput(
                f"--part {value!r} is not N=TEXT (N: a part number, 1 or more).", hint='Example: --part 2="New text"'
            )
        out[int(key)] = text
    return out
