"""`postcli config ...`: where postcli keeps things, and a commented config file to start from."""

from __future__ import annotations

import typer

from postcli.cli._options import JsonOpt

app = typer.Typer(help="Show where postcli keeps its files; write a starting config.toml.", no_args_is_help=True)


@app.command("path")
def path(as_json: JsonOpt = False) -> None:
    """Print the config file, data directory and database (passwords in URLs masked)."""
    from postcli import output
    from postcli.services.store_info import locations

    data = locations()
    if as_json:
        output.print_json(data)
        return
    for key, value in data.items():
        output.line(f"{key:<15} {value}")


@app.command("init")
def init(force: bool = typer.Option(False, "--force", help="Replace an existing config file.")) -> None:
    """Write a config.toml with every setting commented out at its default."""
    from postcli import output, settings
    from postcli.errors import InvalidInput

    target = settings.paths().config_file
    # Refusing to overwrite without --force is a usage error (exit 2), as for `db backup`.
    if target.is_dir():
        raise InvalidInput(f"{target} is a directory.", hint="Move it aside, then run `postcli config init` again.")
    if target.exists() and not force:
        raise InvalidInput(f"{target} already exists.", hint="Edit it, or pass --force to start over.")
    target.parent.mkdir(parents=True, exist_ok=True)
    settings.write_private_text(target, settings.DEFAULT_CONFIG_TEXT)
    output.line(f"wrote {target}")
