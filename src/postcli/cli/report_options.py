"""The option groups every report command shares, declared once.

A command names a group by a parameter (`scope: Scope`, `formats: Formats`, `images: Images`);
`@report_options` puts the group's options in that parameter's place, so Typer shows them in the
same order and with the same help as if each command had listed them, and hands the command one
value per group.
"""

from __future__ import annotations

import functools
import inspect
from typing import Annotated, Any, Callable, NamedTuple, Optional

import typer

from postcli.cli._options import (
    AccountOpt,
    CsvOpt,
    JsonOpt,
    PeriodOpt,
    PlatformOpt,
    SinceOpt,
    TzOpt,
    UntilOpt,
    output_value,
)

PngOpt = Annotated[
    Optional[str],
    typer.Option(
        "--png",
        metavar="FILE",
        parser=output_value,
        help="Also write the chart as a PNG image (needs postcli[charts]); - for standard output.",
    ),
]
SvgOpt = Annotated[
    Optional[str],
    typer.Option(
        "--svg",
        metavar="FILE",
        parser=output_value,
        help="Also write the chart as an SVG image (needs postcli[charts]); - for standard output.",
    ),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Replace an output file that already exists.")]
SizeOpt = Annotated[
    str,
    typer.Option("--size", metavar="WIDTHxHEIGHT", help="Size of the --png/--svg image in pixels, e.g. 1200x500."),
]
DEFAULT_SIZE = "900x400"


class Scope(NamedTuple):
    """--period/--since/--until/--platform/--account/--tz: which posts a report covers."""

    period: Optional[str]
    since: Optional[str]
    until: Optional[str]
    platform: Optional[str]
    account: Optional[str]
    tz: Optional[str]

    def query(self, default_period: str | None = None) -> Any:
        """The parsed ReportQuery (bad input raises InvalidInput naming the option)."""
        from postcli.cli._options import check_platform, parse_period
        from postcli.services.reports import ReportQuery

        p = parse_period(
            self.period or (default_period if self.since is None else None), self.since, self.until, self.tz
        )
        platform = check_platform(self.platform)
        return ReportQuery(start=p.start, end=p.end, tz=p.tz, platform=platform, account=self.account)


class Formats(NamedTuple):
    """--json/--csv."""

    as_json: bool
    as_csv: bool


class Images(NamedTuple):
    """--png/--svg/--size/--force of a chart report."""

    png: Optional[str]
    svg: Optional[str]
    size: str
    force: bool = False


def _opt(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)


_GROUPS: dict[str, tuple[type, list[inspect.Parameter]]] = {
    "scope": (
        Scope,
        [
            _opt("period", PeriodOpt, None),
            _opt("since", SinceOpt, None),
            _opt("until", UntilOpt, None),
            _opt("platform", PlatformOpt, None),
            _opt("account", AccountOpt, None),
            _opt("tz", TzOpt, None),
        ],
    ),
    "formats": (Formats, [_opt("as_json", JsonOpt, False), _opt("as_csv", CsvOpt, False)]),
    "images": (
        Images,
        [
            _opt("png", PngOpt, None),
            _opt("svg", SvgOpt, None),
            _opt("size", SizeOpt, DEFAULT_SIZE),
            _opt("force", ForceOpt, False),
        ],
    ),
}


def report_options(fn: Callable[..., None]) -> Callable[..., None]:
    """Expand fn's `scope`/`formats`/`images` parameters into their options (see the module doc)."""
    params: list[inspect.Parameter] = []
    groups: list[str] = []
    for p in inspect.signature(fn, eval_str=True).parameters.values():
        if p.name in _GROUPS:
            groups.append(p.name)
            params.extend(_GROUPS[p.name][1])
        else:
            params.append(p.replace(kind=inspect.Parameter.KEYWORD_ONLY))

    signature = inspect.Signature(params, return_annotation=None)

    @functools.wraps(fn)
    def command(**kwargs: Any) -> None:
        # Typer passes every option; binding checks that, and leaves room for defaults.
        bound = signature.bind(**kwargs)
        bound.apply_defaults()
        kwargs = bound.arguments
        for name in groups:
            cls, opts = _GROUPS[name]
            kwargs[name] = cls(*(kwargs.pop(o.name) for o in opts))
        fn(**kwargs)

    command.__signature__ = signature  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    return command
