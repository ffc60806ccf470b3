"""The command reference, docs/commands.md, generated from the Typer app itself.

    python tests/support/reference.py > docs/commands.md

tests/test_docs_match_code.py fails when the file differs from what this prints. The app is
walked the way click walks it (`list_commands` / `get_command`), so sub-commands a group builds
on demand are listed like any other.
"""

from __future__ import annotations

import inspect
from typing import Any, Iterator

HEADER = """\
# Command reference

Every command and option of postcli, generated from the app (do not edit by hand:
`python tests/support/reference.py > docs/commands.md`; tests/test_docs_match_code.py fails
when this file is stale). `postcli COMMAND --help` prints the same. Exit codes: README.md.
"""


def walk() -> Iterator[tuple[list[str], Any, Any]]:
    """(path, click command, its context) for the root and every visible command below it, in
    the order `--help` lists them."""
    import typer

    from postcli.cli import app

    root = typer.main.get_command(app)

    def below(path: list[str], command: Any, ctx: Any) -> Iterator[tuple[list[str], Any, Any]]:
        yield path, command, ctx
        for name in getattr(command, "list_commands", lambda _ctx: [])(ctx):
            sub = command.get_command(ctx, name)
            if sub is None or sub.hidden:
                continue
            yield from below([*path, name], sub, typer.Context(sub, parent=ctx, info_name=name))

    yield from below([], root, typer.Context(root, info_name="postcli"))


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render() -> str:
    out = [HEADER]
    for path, command, ctx in walk():
        name = " ".join(["postcli", *path])
        out.append(f"\n{'#' * min(len(path) + 2, 6)} `{name}`\n\n")
        if command.help:
            out.append(inspect.cleandoc(command.help).strip() + "\n\n")
        usage = " ".join(command.collect_usage_pieces(ctx))
        out.append(f"    {name} {usage}\n")
        rows = [record for param in command.params if (record := param.get_help_record(ctx)) is not None]
        if rows:
            out.append("\n| argument or option | what it does |\n| --- | --- |\n")
            out.extend(f"| `{_cell(left)}` | {_cell(right)} |\n" for left, right in rows)
        subs = [n for n in getattr(command, "list_commands", lambda _ctx: [])(ctx)]
        if subs:
            shown = [n for n in subs if not command.get_command(ctx, n).hidden]
            out.append("\nCommands: " + ", ".join(f"`{n}`" for n in shown) + ".\n")
    return "".join(out)


if __name__ == "__main__":
    import sys

    sys.stdout.write(render())
