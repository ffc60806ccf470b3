"""`postcli analytics report --html FILE` (registered on the analytics app).

Light at import (typer, report_options): the services and renderers load inside the command.
"""

from __future__ import annotations

from typing import Annotated, Any, NamedTuple, Optional

import typer

from postcli.cli._options import output_value
from postcli.cli.report_options import DEFAULT_SIZE, ForceOpt, Scope, report_options

HtmlOpt = Annotated[
    str,
    typer.Option(
        "--html",
        metavar="FILE",
        parser=output_value,
        help="Write the report to this HTML file (self-contained: opening it loads nothing from the network); "
        "- for standard output.",
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


class ImageFiles(NamedTuple):
    """The checked --png/--svg destinations of a chart report (outfile.py), and the image size."""

    targets: list[tuple[str, Any]]
    size: tuple[int, int]

    @classmethod
    def check(cls, images: Any, fmt: str) -> ImageFiles:
        from postcli import outfile
        from postcli.errors import InvalidInput

        size = parse_size(images.size)
        given = [(f, p) for f, p in (("png", images.png), ("svg", images.svg)) if p is not None]
        if len(given) == 2 and given[0][1] == given[1][1]:
            raise InvalidInput("--png and --svg name the same file.", hint="Give each image its own file.")
        targets = [(f, outfile.target(p, force=images.force, binary=f == "png")) for f, p in given]
        if any(t.is_stdout for _f, t in targets) and (len(targets) > 1 or fmt != "text"):
            raise InvalidInput(
                "only one output can go to standard output (-).",
                hint="Give the other image, or the --json/--csv output, a file of its own (e.g. > report.json).",
            )
        return cls(targets, size)

    @property
    def own_stdout(self) -> bool:
        return any(t.is_stdout for _f, t in self.targets)

    def write(self, kind: str, data: dict) -> None:
        """Render the report's chart (render/chart_images.py) into each file."""
        from postcli import output
        from postcli.render import chart_images

        for fmt, target in self.targets:
            blob = chart_images.render(kind, data, fmt, *self.size)
            written = target.write(blob)
            if written is not None:
                output.err_console().print(
                    f"Wrote {written} ({self.size[0]}x{self.size[1]}).", markup=False, highlight=False
                )


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("digest")(digest)


def _dashboard(scope: Scope, default_period: str | None = None) -> Any:
    """Every section of the period's dashboard (services/dashboard.py), read from the store."""
    q = scope.query(default_period)

    from postcli.services import dashboard

    return dashboard.build_from_store(q)


def write_html(target: Any, scope: Scope) -> Any:
    """Write the HTML report of `scope` to `target` (an outfile.target) and say so; the path
    written, or None for standard output. `analytics report` and `postcli demo` both use it."""
    d = _dashboard(scope)

    from postcli import output
    from postcli.render import html_report

    page = html_report.render(d.as_json(), empty=d.empty).encode("utf-8")
    written = target.write(page)
    # With the page on standard output, the notes go to stderr.
    err = written is None
    if d.overview["simulated"]:
        output.line("(simulated data)", style="yellow", err=err)
    if d.empty:
        output.line(d.empty, err=err)
    if written is not None:
        output.line(f"Wrote {written} ({len(page) / 1024:,.0f} KB).")
    return written


@report_options
def report(
    html: HtmlOpt,
    scope: Scope,
    open_it: OpenOpt = False,
    force: ForceOpt = False,
) -> None:
    """One self-contained HTML page: overview cards with the change vs the previous period, engagement
    per day, followers per account, platform comparison, top posts with links, the weekday x hour
    heatmap and the best times to post. Light and dark, printable, no scripts, no network requests.
    """
    from postcli import outfile
    from postcli.errors import InvalidInput

    target = outfile.target(html, force=force)  # before any work: a bad path costs nothing
    if open_it and target.is_stdout:
        raise InvalidInput("--open needs a file to open, not standard output.", hint="Give --html a file name.")
    written = write_html(target, scope)
    if written is not None and open_it:
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
        Optional[str],
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            parser=output_value,
            help="Write to this file instead of printing (- for standard output, as without it).",
        ),
    ] = None,
    force: ForceOpt = False,
) -> None:
    """The period in a dozen lines for cron, mail or a chat: posts and engagement with their change
    vs the previous period, followers per platform, the top three posts with links, the best slot.

    Default period: 7d. Example: postcli analytics digest --period 7d --format html -o week.html
    """
    from postcli import outfile
    from postcli.errors import InvalidInput

    kind = fmt.strip().lower()
    if kind not in ("md", "html"):
        raise InvalidInput(f"unknown --format {fmt!r}.", hint="Use md or html.")
    target = None if output_file is None else outfile.target(output_file, force=force)
    d = _dashboard(scope, default_period="7d")

    from postcli import output
    from postcli.render import digest as render

    text = (render.markdown if kind == "md" else render.html)(d.as_json())
    if target is None or target.is_stdout:
        output.console().file.write(text)
    else:
        written = target.write(text.encode("utf-8"))
        output.err_console().print(f"Wrote {written}.", markup=False, highlight=False)
