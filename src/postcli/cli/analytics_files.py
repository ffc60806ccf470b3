"""`postcli analytics report --html FILE` (registered on the analytics app).

Light at import (typer, report_options): the services and renderers load inside the command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from postcli.cli._options import file_value
from postcli.cli.report_options import DEFAULT_SIZE, Scope, report_options

HtmlOpt = Annotated[
    Path,
    typer.Option(
        "--html",
        metavar="FILE",
        parser=file_value,
        help="Write the report to this HTML file (self-contained: opening it loads nothing from the network).",
    ),
]
OpenOpt = Annotated[bool, typer.Option("--open", help="Open the written file in your web browser.")]
SIZE_RANGE = (100, 4000)


def parse_size(size: str) -> tuple[int, int]:
    import re

    from postcli.errors import InvalidInput

    m = re.fullmatch(r"\s*(\d{1,5})\s*[x×X]\s*(\d{1,5})\s*", size)
    lo, hi = SIZE_RANGE
    if not m or not all(lo <= int(v) <= hi for v in m.groups()):
        raise InvalidInput(
            f"invalid --size {size!r}.", hint=f"Use WIDTHxHEIGHT in pixels, each {lo} to {hi}, e.g. {DEFAULT_SIZE}."
        )
    return int(m.group(1)), int(m.group(2))


def write_images(kind: str, data: dict, png: Path | None, svg: Path | None, size: tuple[int, int]) -> None:
    """Render the report's chart (render/chart_images.py) into the requested files."""
    from postcli import output
    from postcli.render import chart_images

    for fmt, path in (("png", png), ("svg", svg)):
        if path is None:
            continue
        blob = chart_images.render(kind, data, fmt, *size)
        written = write_bytes(path, blob)
        output.err_console().print(f"Wrote {written} ({size[0]}x{size[1]}).", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("digest")(digest)


def write_text(path: Path, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def write_bytes(path: Path, data: bytes) -> Path:
    """Write atomically (a reader never sees half a file); a clear error for a bad path."""
    import os
    import tempfile

    from postcli.errors import InvalidInput

    path = path.expanduser()
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InvalidInput(f"{path} is a directory.", hint="Give a file name, e.g. report.html.")
    if not folder.is_dir():
        raise InvalidInput(
            f"cannot write {path}: the folder {folder} does not exist.", hint="Create it first, or choose another path."
        )
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would hide a report meant to be shared
        os.replace(tmp, path)
    except OSError as e:
        raise InvalidInput(f"cannot write {path}: {e.strerror or e}.", hint="Choose a path you can write to.") from None
    return path.resolve()


def _dashboard(scope: Scope, default_period: str | None = None) -> Any:
    """Every section of the period's dashboard (services/dashboard.py), read from the store."""
    q = scope.query(default_period)

    from postcli.services import dashboard

    return dashboard.build_from_store(q)


def write_html(html: Path, scope: Scope) -> Path:
    """Write the HTML report of `scope` to `html` and say so (`analytics report`, `postcli demo`)."""
    d = _dashboard(scope)

    from postcli import output
    from postcli.render import html_report

    page = html_report.render(d.as_json(), empty=d.empty)
    written = write_text(html, page)
    if d.overview["simulated"]:
        output.line("(simulated sandbox data)", style="yellow")
    if d.empty:
        output.line(d.empty)
    output.line(f"Wrote {written} ({len(page.encode()) / 1024:,.0f} KB).")
    return written


@report_options
def report(
    html: HtmlOpt,
    scope: Scope,
    open_it: OpenOpt = False,
) -> None:
    """One self-contained HTML page: overview cards with the change vs the previous period, engagement
    per day, followers per account, platform comparison, top posts with links, the weekday x hour
    heatmap and the best times to post. Light and dark, printable, no scripts, no network requests.
    """
    written = write_html(html, scope)
    if open_it:
        import webbrowser

        from postcli import output

        if not webbrowser.open(written.as_uri()):
            output.warn(f"could not start a web browser; open {written} yourself.")


@report_options
def digest(
    scope: Scope,
    fmt: Annotated[
        str,
        typer.Option(
            "--format", metavar="md|html", help="Markdown (default, for chats) or an HTML fragment (for mail)."
        ),
    ] = "md",
    output_file: Annotated[
        Optional[Path],
        typer.Option(
            "--output", "-o", metavar="FILE", parser=file_value, help="Write to this file instead of printing."
        ),
    ] = None,
) -> None:
    """The period in a dozen lines for cron, mail or a chat: posts and engagement with their change
    vs the previous period, followers per platform, the top three posts with links, the best slot.

    Default period: 7d. Example: postcli analytics digest --period 7d --format html -o week.html
    """
    from postcli.errors import InvalidInput

    kind = fmt.strip().lower()
    if kind not in ("md", "html"):
        raise InvalidInput(f"unknown --format {fmt!r}.", hint="Use md or html.")
    d = _dashboard(scope, default_period="7d")

    from postcli import output
    from postcli.render import digest as render

    text = (render.markdown if kind == "md" else render.html)(d.as_json())
    if output_file is None:
        output.console().file.write(text)
    else:
        written = write_text(output_file, text)
        output.err_console().print(f"Wrote {written}.", markup=False, highlight=False)
