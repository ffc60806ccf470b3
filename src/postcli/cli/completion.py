"""Tab completion of values: platform names, accounts and post ids (Typer's `autocompletion=`).

These run only when a shell asks (`_POSTCLI_COMPLETE` set by the script `postcli
--install-completion` installs); commands and options complete from the app itself. A key press
must never fail loudly or change anything: any error means no suggestions, and the store is
read as it is (services/shell_completion.py).
"""

from __future__ import annotations

from typing import Callable, TypeVar

T = TypeVar("T")


def _quietly(read: Callable[[], list[T]]) -> list[T]:
    try:
        return read()
    except Exception:  # noqa: BLE001 - a broken config or store: offer nothing, say nothing
        return []


def _one_line(text: str, width: int = 50) -> str:
    flat = "".join(c if c.isprintable() else " " for c in text)
    flat = " ".join(flat.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def platforms(incomplete: str) -> list[str]:
    from postcli.services import shell_completion

    wanted = incomplete.lower()
    return [p for p in _quietly(shell_completion.platforms) if p.startswith(wanted)]


def accounts(incomplete: str) -> list[tuple[str, str]]:
    """Handles (ids too once a digit is typed), each with its platform and id."""
    from postcli.services import shell_completion

    found = _quietly(shell_completion.accounts)
    out = [(a.handle, f"{a.platform}, id {a.id}") for a in found if a.handle.startswith(incomplete)]
    if incomplete[:1].isdigit():
        out += [(str(a.id), f"{a.handle} ({a.platform})") for a in found if str(a.id).startswith(incomplete)]
    return out


def targets(incomplete: str) -> list[tuple[str, str]]:
    """What `--to` takes: all, a platform with accounts, a handle or an id."""
    from postcli.services import shell_completion

    found = _quietly(shell_completion.accounts)
    names = sorted({a.platform for a in found})
    out = [("all", "every account")] if "all".startswith(incomplete) and found else []
    out += [(p, "its account") for p in names if p.startswith(incomplete)]
    return out + accounts(incomplete)


def posts(incomplete: str) -> list[tuple[str, str]]:
    """Post ids, newest first, each with its status and the start of its text."""
    from postcli.services import shell_completion

    return [
        (str(p.id), f"{p.status}: {_one_line(p.text)}")
        for p in _quietly(shell_completion.posts)
        if str(p.id).startswith(incomplete)
    ]
