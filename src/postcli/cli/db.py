"""`postcli db ...`: the local store."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="The local store: status, upgrade, backup.", no_args_is_help=True)

JSON_OPT = typer.Option(False, "--json", help="Print JSON.")


@app.command("status")
def status(as_json: bool = JSON_OPT) -> None:
    """Show the backend, schema revision and row counts."""
    from postcli import output
    from postcli.services.database import status as db_status

    st = db_status()
    if as_json:
        output.print_json(st.as_dict())
        return
    output.kv(
        [
            ("backend", st.backend),
            ("database", st.url),
            ("schema", f"{st.revision or 'empty'} (this postcli: {st.head})"
             + ("" if st.up_to_date else " - run `postcli db upgrade`")),
        ]
        + [(k, v) for k, v in st.counts.items()]
    )


@app.command("upgrade")
def upgrade() -> None:
    """Apply pending schema migrations (done automatically on first use too)."""
    from postcli import output
    from postcli.services.database import upgrade as db_upgrade

    before, after = db_upgrade()
    output.line(f"Schema at {after}" + (" (already up to date)." if before == after else f" (was {before or 'empty'})."))


@app.command("backup")
def backup(
    file: Path = typer.Argument(..., help="Where to write the copy."),
    force: bool = typer.Option(False, "--force", help="Overwrite the file if it exists."),
) -> None:
    """Write a consistent copy of the SQLite store, safe while postcli is running."""
    from postcli import output
    from postcli.services.database import backup as db_backup

    dest = db_backup(file, overwrite=force)
    output.line(f"Backed up to {dest}.")
