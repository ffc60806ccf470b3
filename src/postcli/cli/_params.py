"""Plain option values without Pydantic: a command starts as fast as `--help`.

Typer (0.29) coerces every command parameter through a Pydantic TypeAdapter, and
importing Pydantic costs about as much as all of `postcli --help` (issue 16: a report
must run within 2x of --help). Almost every value postcli takes goes through one of
its own `parser=` functions (cli/_options.py), or is a plain string, flag or whole
number; those are handled here exactly as Typer's adapters would (a parser's result
as is, its BadParameter unchanged). Anything else (a bad number, a range to clamp, a
path, a choice, a list) goes to Typer's own coercion, built on first use, so its
checks and its error messages are unchanged; an option left unset builds nothing.

Typer's internals are private: if they are not what this expects, nothing is changed, and
tests/test_cli_startup.py fails (every report command is run there and must end without
Pydantic). pyproject.toml bounds Typer to the releases that test has passed on.
"""

from __future__ import annotations

import re
from typing import Any

_INT = re.compile(r"[+-]?\d+")


def install() -> None:
    try:
        from typer import _coercion, core
    except ImportError:  # pragma: no cover - another typer
        return
    original: Any = getattr(core, "build_runtime_param", None)
    base = getattr(_coercion, "RuntimeParam", None)
    if original is None or base is None or getattr(original, "_postcli", False):
        return

    class PlainParam(base):  # type: ignore[misc, valid-type]
        """Typer's coercion, built only when a value needs it (an unset --png never does)."""

        def _real(self) -> Any:
            real = self.__dict__.get("_real")
            if real is None:
                real = original(self.__dict__["_descriptor"])
                object.__setattr__(self, "_real", real)
            return real

        def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
            if value is None:  # None / () for an unset option: nothing to build
                return super().coerce(value, param=param, ctx=ctx)
            kind = self.__dict__["_kind"]
            if kind is not None and not (param.multiple or param.nargs == -1):
                plain = _plain(self.annotation, self.parameter_info, value, kind)
                if plain is not _TYPER:
                    return plain
            return self._real().coerce(value, param=param, ctx=ctx)

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            return self._real()._coerce_value(value, param=param, ctx=ctx)

    def build(descriptor: Any) -> Any:
        try:
            info = descriptor.parameter_info
            single = descriptor.file_annotation is None and not descriptor.is_list and not descriptor.is_tuple
            if single and getattr(info, "parser", None) is not None:
                kind = "parser"
            elif (
                single
                and descriptor.annotation in (str, bool, int)
                and not getattr(info, "clamp", False)
                and not descriptor.is_path
                and not descriptor.is_choice
            ):
                kind = "plain"
            else:
                kind = None
            p = PlainParam(parameter_info=info, annotation=descriptor.annotation)
        except (AttributeError, TypeError):  # pragma: no cover - another typer: its own coercion
            return original(descriptor)
        object.__setattr__(p, "_descriptor", descriptor)
        object.__setattr__(p, "_kind", kind)
        return p

    build._postcli = True  # type: ignore[attr-defined]
    core.build_runtime_param = build


_TYPER = object()  # "let Typer coerce this one"


def _plain(annotation: Any, info: Any, value: Any, kind: str) -> Any:
    """The value as Typer's adapter would return it, or _TYPER when that needs Typer."""
    if kind == "parser":
        # Typer's adapter is a BeforeValidator calling the parser: its result as is, and its
        # click errors (BadParameter) pass through unchanged. A ValueError would become a
        # Pydantic message: Typer runs the (pure) parser again and words it.
        try:
            return info.parser(value)
        except (ValueError, AssertionError):
            return _TYPER
    if annotation is str and isinstance(value, str):
        return value
    if annotation is bool and isinstance(value, bool):
        return value
    if annotation is int and not isinstance(value, bool):
        n = (
            value
            if isinstance(value, int)
            else int(value)
            if isinstance(value, str) and _INT.fullmatch(value)
            else None
        )
        if n is not None and (info.min is None or n >= info.min) and (info.max is None or n <= info.max):
            return n
    return _TYPER
