"""`postcli post import-file FILE`: many posts from CSV, JSON or Markdown, all or nothing."""

from __future__ import annotations

from pathlib import Path

import typer

from postcli.cli._options import JsonOpt, path_value


def import_file(
    file: Path = typer.Argument(..., metavar="FILE", parser=path_value, help="A .csv, .json or .md file of posts."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Check every row and say what would be created; store nothing."
    ),
    as_json: JsonOpt = False,
) -> None:
    """Create many posts at once from CSV (a header row), JSON (a list of objects) or Markdown
    (front matter per post) with the fields text, to, at (or queue), tz, media (paths relative to
    the file), alt, text_for.PLATFORM, draft, id, title and link.

    Every row is checked first; any problem is exit 2 listing each row's problems by its line
    (CSV, the header is line 1) or item (JSON), and nothing is stored. Importing the same file
    again creates nothing: rows already there (same id, or same text, targets and time) are counted.
    """
    from postcli import output
    from postcli.services.posts.import_file import run

    report = run(file, dry_run=dry_run)
    for note in report.notes:
        output.warn(note)
    if as_json:
        output.print_json(report.as_json())
        return
    if dry_run:
        output.line(
            f"{len(report.would_create)} post(s) would be created from {report.rows} row(s). Nothing was stored."
        )
    else:
        output.line(f"Created {len(report.created)} post(s) from {report.rows} row(s).")
    if report.already:
        output.line(f"{len(report.already)} row(s) already there (imported before): nothing new for them.")
    for d in report.differing:
        output.warn(f"{d['where']}: id {d['id']!r} is post {d['post_id']}, whose content differs; left as it is.")
