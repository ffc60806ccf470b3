"""`postcli db ...`: the local store."""

from __future__ import annotations

import typer

from postcli.cli._options import JsonOpt, output_value, text_value

app = typer.Typer(help="The store: status, upgrade, backup, copy to PostgreSQL.", no_args_is_help=True)


@app.command("status")
def status(as_json: JsonOpt = False) -> None:
    """Show the backend (sqlite/postgresql), the URL (password masked), schema revision and row counts."""
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
            (
                "schema",
                f"{st.revision or 'empty'} (this postcli: {st.head})"
                + ("" if st.up_to_date else " - run `postcli db upgrade`"),
            ),
        ]
        + [(k, v) for k, v in st.counts.items()]
    )


@app.command("upgrade")
def upgrade() -> None:
    """Apply pending schema migrations (done automatically on first use too)."""
    from postcli import output
    from postcli.services.database import upgrade as db_upgrade

    bar = output.StatusBar("upgrading", show=True)
    try:
        before, after = db_upgrade(progress=(lambda done, total: bar.update(done, total)) if bar.shown else None)
    finally:
        bar.stop()
    output.line(
        f"Schema at {after}" + (" (already up to date)." if before == after else f" (was {before or 'empty'}).")
    )


@app.command("backup")
def backup(
    file: str = typer.Argument(
        ..., metavar="FILE", parser=output_value, help="Where to write the copy (- for standard output)."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite the file if it exists."),
) -> None:
    """Write a consistent copy of the SQLite store, safe while postcli is running."""
    from postcli import output
    from postcli.services.database import backup as db_backup

    dest = db_backup(file, overwrite=force)
    if dest is not None:
        output.line(f"Backed up to {dest}.")


@app.command("copy")
def copy(
    to: str = typer.Option(
        ...,
        "--to",
        metavar="URL",
        parser=text_value,
        help="URL of an EMPTY database, e.g. postgresql+psycopg://user@host/postcli.",
    ),
    as_json: JsonOpt = False,
) -> None:
    """Copy this store into an empty database (normally PostgreSQL), ids kept.

    Creates the schema there, copies every table in one transaction (all or nothing),
    resets PostgreSQL's id sequences and checks the row counts table by table. Secrets
    stay in the credentials store, keyed by account id, so they still match. Then point
    POSTCLI_DATABASE_URL at the new database.
    """

    from postcli import output
    from postcli.services.database import SECRETS_NOTE
    from postcli.services.database import copy_to as db_copy

    bar = output.StatusBar("copying", show=not as_json)

    def progress(table: str, done: int, total: int) -> None:
        bar.update(done, total, f"copying {table}" if table else "copying")

    try:
        result = db_copy(to, progress=progress if bar.shown else None)
    finally:
        bar.stop()
    if as_json:
        output.print_json(result.as_dict())
        return
    output.table(
        ["table", "source rows", "copied rows"],
        [(t.table, t.source, t.target) for t in result.tables],
        title=f"{result.source} -> {result.target}",
        numeric=("source rows", "copied rows"),
    )
    resets = ", sequences reset" if result.sequences_reset else ""
    output.line(
        f"Copied {result.rows} rows in {len(result.tables)} tables to {result.backend} "
        f"(schema {result.revision}); ids kept{resets}, row counts verified."
    )
    output.line(SECRETS_NOTE)
    password = " (with the real password)" if "***" in result.target else ""
    output.line(f"To use it: export POSTCLI_DATABASE_URL='{result.target}'{password}.")
