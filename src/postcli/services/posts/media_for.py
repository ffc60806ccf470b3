"""Per-platform media: `--media-for PLATFORM=FILE` with `--alt-for PLATFORM=TEXT`.

A post has common media (`post_media.override_for` NULL) and, optionally, media
for one platform or account (`override_for` = the key as given: a platform
name, an account handle or an account id, like `--text-for`). A target whose
account matches a key gets that key's files *instead of* the common media; the
most specific key wins (account id, then handle, then platform), as for text.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence, TypeVar

from postcli.errors import InvalidInput

if TYPE_CHECKING:
    from postcli.services.media import Prepared
    from postcli.store.models import Account, PostMedia

T = TypeVar("T")

MediaFor = dict[str, list[tuple[Path, "str | None"]]]


def _key(raw: str) -> str:
    return raw.strip().lower().lstrip("@")


def _split(option: str, form: str, value: str, example: str) -> tuple[str, str]:
    key, sep, rest = value.partition("=")
    if not sep or not _key(key):
        raise InvalidInput(f"{option} {value!r} is not {form}.", hint=f"Example: {option} {example}")
    return _key(key), rest


def parse(media_for: Iterable[str], alt_for: Iterable[str]) -> MediaFor:
    """`--media-for KEY=FILE` (repeatable) and `--alt-for KEY=TEXT`, paired per key in order.

    The n-th `--alt-for mastodon=...` describes the n-th `--media-for mastodon=...`.
    """
    files: MediaFor = {}
    for value in media_for:
        key, path = _split("--media-for", "PLATFORM=FILE", value, "mastodon=photo.jpg")
        if not path.strip():
            raise InvalidInput(f"--media-for {value!r} names no file.", hint="Example: --media-for mastodon=photo.jpg")
        files.setdefault(key, []).append((Path(path), None))
    alts: dict[str, list[str]] = {}
    for value in alt_for:
        key, text = _split("--alt-for", "PLATFORM=TEXT", value, 'mastodon="A red kite over the hill"')
        alts.setdefault(key, []).append(text)
    for key, texts in alts.items():
        given = files.get(key, [])
        if len(texts) > len(given):
            raise InvalidInput(
                f"{len(texts)} --alt-for {key}= given for {len(given)} --media-for {key}=.",
                hint=f"Give one --alt-for {key}=TEXT per --media-for {key}=FILE, in the same order.",
            )
        files[key] = [(path, texts[i] if i < len(texts) else None) for i, (path, _) in enumerate(given)]
    return files


def account_keys(account: Account) -> tuple[str, ...]:
    """The keys that name this account, most specific first (as --text-for matches)."""
    return (str(account.id), account.handle.lower(), account.platform)


def unused(keys: Iterable[str], accounts: Sequence[Account]) -> list[str]:
    named = {k for a in accounts for k in account_keys(a)}
    return [k for k in keys if k not in named]


def check_used(keys: Iterable[str], accounts: Sequence[Account]) -> None:
    missing = unused(keys, accounts)
    if missing:
        raise InvalidInput(
            f"--media-for {', '.join(missing)} matches none of the targets.",
            hint="Use a platform name, handle or id that is among the post's targets (--to).",
        )


def own(account: Account, by_key: dict[str, list[T]]) -> list[T] | None:
    """The target's own media (most specific key first), None when it has none."""
    for key in account_keys(account):
        if key in by_key:
            return by_key[key]
    return None


def select(account: Account, common: list[T], by_key: dict[str, list[T]]) -> list[T]:
    """The media a target gets: its own, else the common media."""
    mine = own(account, by_key)
    return common if mine is None else mine


def rows_for(account: Account, rows: Iterable[PostMedia]) -> list[PostMedia]:
    """The stored media a target publishes (a thread: with its first part), in position order."""
    common: list[PostMedia] = []
    by_key: dict[str, list[PostMedia]] = {}
    for row in rows:
        if row.part is not None:
            continue  # a later part's (--media-for-part): services/posts/thread.py
        if row.override_for is None:
            common.append(row)
        else:
            by_key.setdefault(row.override_for, []).append(row)
    return select(account, common, by_key)


def store(prepared_for: dict[str, list[Prepared]], start: int) -> list[PostMedia]:
    """Store --media-for files as rows marked with their key, numbered after the post's media."""
    from postcli.services import media as media_svc

    rows: list[PostMedia] = []
    for key, preps in sorted(prepared_for.items()):
        for prep in preps:
            row = media_svc.store_prepared(prep, start + len(rows))
            row.override_for = key
            rows.append(row)
    return rows
