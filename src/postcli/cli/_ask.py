"""Questions on the terminal. They go to stderr with every other message: standard output may
be a file (`--json > account.json`), which a question would corrupt while the terminal shows
nothing and postcli waits."""

from __future__ import annotations

from typing import Any

import typer


def confirm(question: str, **kwargs: Any) -> bool:
    try:
        return typer.confirm(question, err=True, **kwargs)
    except typer.Abort as exc:
        if isinstance(exc.__context__, (KeyboardInterrupt, EOFError)):
            # Click ends a hidden prompt's line on Ctrl-C or Ctrl-D but not a visible one's:
            # "error: interrupted." (or Click's "Aborted!") followed "[y/N]: " on its line.
            typer.echo(err=True)
        raise


def secret(prompt: str) -> str:
    """A hidden prompt: what is typed is not echoed (nor kept in the terminal's scrollback)."""
    return typer.prompt(prompt, hide_input=True, err=True)
