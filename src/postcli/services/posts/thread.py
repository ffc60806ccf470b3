"""Threads and first comments as planned: the parts each target publishes, with their media.

A post is a thread when it was written as several parts (`post create A B C`, `--from-file`)
or is cut to each target's limit (`--split`). Per target:
- a platform that threads (its adapter's `threads`) publishes the parts as a reply chain;
  with `--split` each part (or its `--text-for` text) is cut to that platform's limit;
- any other platform publishes the parts joined by a blank line (the post's `text`), which
  must fit its limit like any post;
- `--first-comment` goes under the post (a thread: under its first part), where the adapter
  has `first_comment`; elsewhere it is refused before anything is stored.

A target that publishes more than one thing (several parts, or a first comment) gets one
publishing record per part and per comment (`target_parts`, made here); publishing them is
services/posts/parts.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence, TypeVar

from postcli.errors import InvalidInput
from postcli.services.posts.split import split_parts

if TYPE_CHECKING:
    from postcli.store.models import Account, Post, PostMedia, PostTarget

T = TypeVar("T")

JOIN = "\n\n"  # between the parts, on a platform without threads
SPLIT_MODES = ("plain", "numbered")


@dataclass(frozen=True)
class Thread:
    """What was written beyond one text: the parts (None: one text), how --split cuts, the first comment."""

    parts: tuple[str, ...] | None = None
    split: str | None = None  # None | "plain" | "numbered"
    first_comment: str | None = None

    @classmethod
    def of(cls, parts: Sequence[str] | None, split: str | None, first_comment: str | None) -> Thread | None:
        if not parts and split is None and first_comment is None:
            return None
        return cls(tuple(parts) if parts else None, split, first_comment)

    def hash_extras(self) -> list[str]:
        """What the thread adds to the duplicate check (every part, so two threads that share a
        first part are not taken for one)."""
        extras = [f"parts={json.dumps(list(self.parts))}"] if self.parts else []
        extras += [f"split={self.split}"] if self.split else []
        extras += [f"first_comment={self.first_comment}"] if self.first_comment is not None else []
        return extras


def joined(parts: Sequence[str]) -> str:
    """The parts as one text (a platform without threads; the post's `text`)."""
    return JOIN.join(p.strip() for p in parts)


def texts_for(adapter: Any, text: str, override: str | None, thread: Thread | None) -> list[str]:
    """The texts one target publishes, in order (one: a single post)."""
    if override is not None:
        texts = [override]
    elif thread is not None and thread.parts and adapter.threads:
        texts = list(thread.parts)
    else:
        texts = [text]
    if thread is None or thread.split is None or not adapter.threads:
        return texts
    return split_parts(texts, adapter.text_length, adapter.limits().max_text, numbered=thread.split == "numbered") or [
        ""
    ]


def pieces(
    texts: list[str], media: list[T], part_media: dict[int, list[T]], threads: bool
) -> list[tuple[str, list[T]]]:
    """(text, media) of each part a target publishes: part 1 has the post's media, part N its
    --media-for-part files; a platform without threads gets every file on its one post."""
    if not threads:
        return [(texts[0], media + [m for n in sorted(part_media) for m in part_media[n]])]
    return [(t, media if n == 1 else part_media.get(n, [])) for n, t in enumerate(texts, start=1)]


def has_records(texts: list[str], thread: Thread | None, adapter: Any) -> bool:
    """Does the target publish more than one thing (and so get a record per part)?"""
    return len(texts) > 1 or (thread is not None and thread.first_comment is not None and adapter.first_comment)


# --- stored media ---------------------------------------------------------------------------


def parse_media_for_part(
    media_for_part: Iterable[str], alt_for_part: Iterable[str]
) -> dict[int, list[tuple[Path, str | None]]]:
    """`--media-for-part N=FILE` (repeatable) with `--alt-for-part N=TEXT`, paired per part in order."""
    files: dict[int, list[tuple[Path, str | None]]] = {}
    for value in media_for_part:
        n, path = _numbered("--media-for-part", "N=FILE", value, "2=chart.png")
        if not path.strip():
            raise InvalidInput(
                f"--media-for-part {value!r} names no file.", hint="Example: --media-for-part 2=chart.png"
            )
        files.setdefault(n, []).append((Path(path), None))
    alts: dict[int, list[str]] = {}
    for value in alt_for_part:
        n, text = _numbered("--alt-for-part", "N=TEXT", value, '2="A chart of the week"')
        alts.setdefault(n, []).append(text)
    for n, texts in alts.items():
        given = files.get(n, [])
        if len(texts) > len(given):
            raise InvalidInput(
                f"{len(texts)} --alt-for-part {n}= given for {len(given)} --media-for-part {n}=.",
                hint=f"Give one --alt-for-part {n}=TEXT per --media-for-part {n}=FILE, in the same order.",
            )
        files[n] = [(path, texts[i] if i < len(texts) else None) for i, (path, _) in enumerate(given)]
    return files


def _numbered(option: str, form: str, value: str, example: str) -> tuple[int, str]:
    key, sep, rest = value.partition("=")
    if not sep or not key.strip().isdigit() or int(key) < 1:
        raise InvalidInput(
            f"{option} {value!r} is not {form} (N: a part number, 1 or more).", hint=f"Example: {option} {example}"
        )
    return int(key), rest


def part_rows(rows: Iterable[PostMedia]) -> dict[int, list[PostMedia]]:
    """The --media-for-part files by part number, in position order."""
    out: dict[int, list[PostMedia]] = {}
    for row in sorted(rows, key=lambda r: r.position):
        if row.part is not None:
            out.setdefault(row.part, []).append(row)
    return out


def target_rows(account: Account, rows: Sequence[PostMedia], threads: bool) -> dict[int, list[PostMedia]]:
    """The stored media of each part a target publishes (a platform without threads: all on part 1)."""
    from postcli.services.posts import media_for as media_for_svc

    first = media_for_svc.rows_for(account, rows)
    later = part_rows(rows)
    if not threads:
        return {1: first + [m for n in sorted(later) for m in later[n]]}
    return {1: first, **later}


# --- the records ------------------------------------------------------------------------------


def sync_records(target: PostTarget, texts: list[str], comment: str | None, new_key: Callable[[], str]) -> None:
    """Make the target's part records say `texts` and `comment` (none when it publishes one
    text without a comment). Only for a target nothing of which was sent: records kept as
    they are when they already say the same (their keys too)."""
    from postcli.store.models import TargetPart

    wanted = [("part", n, t) for n, t in enumerate(texts, start=1)] if len(texts) > 1 or comment is not None else []
    if comment is not None:
        wanted.append(("comment", 1, comment))
    have = [(p.kind, p.position, p.text) for p in target.parts]
    if have == wanted:
        return
    if any(p.attempt_count or p.status != "pending" for p in target.parts):
        return  # something was sent: the records are the truth now
    from sqlalchemy.orm import object_session

    session = object_session(target)
    if target.parts and session is not None:
        target.parts = []
        session.flush()  # the old rows go before the new ones take their (kind, position)
    target.parts = [
        TargetPart(kind=kind, position=n, text=text, status="pending", idempotency_key=new_key(), attempt_count=0)
        for kind, n, text in wanted
    ]


def sync_plans(post: Any, plans: Iterable[Any]) -> None:
    """Every target's part records as its plan (validation.TargetPlan, `texts` set) says."""
    from postcli.platforms.registry import adapter_class

    by_account = {p.account.id: p for p in plans}
    for target in post.targets:
        plan = by_account.get(target.account_id)
        if plan is None:
            continue
        cls = adapter_class(target.platform)
        comment = post.first_comment if cls.first_comment else None
        sync_records(target, plan.texts or [plan.text], comment, cls.new_idempotency_key)


def fill_texts(plans: Iterable[Any]) -> None:
    """A draft's plans get their texts without being validated (a draft may be unfinished)."""
    from postcli.services import accounts as accounts_svc

    for plan in plans:
        try:
            plan.texts = texts_for(accounts_svc.adapter_for(plan.account), plan.text, plan.text_override, plan.thread)
        except InvalidInput:
            plan.texts = [plan.text]


# --- composing ------------------------------------------------------------------------------


def build(
    parts: list[str] | None,
    split: str | None,
    first_comment: str | None,
    media_for_part: dict[int, list[tuple[Path, str | None]]] | None,
) -> Thread | None:
    if split is not None and split not in SPLIT_MODES:
        raise InvalidInput(f"split {split!r} is not one of: {', '.join(SPLIT_MODES)}.")
    if parts is not None and len(parts) < 2:
        parts = None  # one part is one text
    if media_for_part and not parts and split is None:
        raise InvalidInput(
            "--media-for-part is for a thread; this post is one text.",
            hint="Give several texts (or --from-file, or --split), or attach the file with --media.",
        )
    return Thread.of(parts, split, first_comment)


def check_texts(thread: Thread | None, media_for_part: dict[int, list[tuple[Path, str | None]]] | None) -> None:
    from postcli.textcheck import check_text

    if thread is not None:
        for n, part in enumerate(thread.parts or (), start=1):
            check_text(part, f"part {n}")
            if not part.strip():
                raise InvalidInput(f"part {n} of the thread is empty.", hint="Write some text in every part.")
        check_text(thread.first_comment, "--first-comment")
    for n, files in (media_for_part or {}).items():
        for alt in [a for _, a in files]:
            check_text(alt, f"--alt-for-part {n}")


def store_part_media(prepared_part: dict[int, list[Any]], start: int) -> list[Any]:
    """Store --media-for-part files (parts 2 and later), each marked with its part."""
    from postcli.services import media as media_svc

    rows: list[Any] = []
    for n, preps in sorted(prepared_part.items()):
        for prep in preps:
            row = media_svc.store_prepared(prep, start + len(rows))
            row.part = n
            rows.append(row)
    return rows


def edit_parts(post: Post, part_texts: dict[int, str]) -> None:
    parts = list(post.parts or [post.text])
    for n, text in sorted(part_texts.items()):
        if n == len(parts) + 1:
            parts.append(text)
        elif 1 <= n <= len(parts):
            parts[n - 1] = text
        else:
            raise InvalidInput(
                f"--part {n}: the post has {len(parts)} part(s).",
                hint=f"Edit a part from 1 to {len(parts)}, or add one as part {len(parts) + 1}.",
            )
    parts = [p for p in parts if p.strip()]  # an empty text removes its part
    if not parts:
        raise InvalidInput("every part would be empty.", hint="Keep some text in at least one part.")
    post.parts = parts if len(parts) > 1 else None
    post.text = joined(parts)


# --- --from-file ----------------------------------------------------------------------------

MAX_FILE_BYTES = 1_000_000
_SEPARATOR = re.compile(r"^---[ \t]*$", re.MULTILINE)


def read_file(path: Path) -> str:
    """A thread file's text (`--from-file FILE`); bad input, not a traceback, when it cannot be read."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InvalidInput(f"{path} is {size:,} bytes; a thread file is at most {MAX_FILE_BYTES:,}.")
        return path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text.", hint="Save it as UTF-8.") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}.") from None


def parts_of(raw: str) -> list[str]:
    """The parts of a thread file: separated by lines of only `---`; blank parts at either end
    (a separator first or last) are dropped, one in the middle is refused."""
    parts = [p.strip() for p in _SEPARATOR.split(raw)]
    while parts and not parts[0]:
        parts.pop(0)
    while parts and not parts[-1]:
        parts.pop()
    if not parts:
        raise InvalidInput("the thread file holds no text.", hint="Write the parts, separated by lines of ---.")
    for n, part in enumerate(parts, start=1):
        if not part:
            raise InvalidInput(f"part {n} of the thread file is empty (two --- lines in a row).")
    return parts
