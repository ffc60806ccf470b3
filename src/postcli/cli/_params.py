"""Plain option values without Pydantic: a command starts as fast as `--help`.

Typer (0.29) coerces every command parameter through a Pydantic TypeAdapter, and
importing Pydantic costs about as much as all of `postcli --help` (issue 16: a report
must run within 2x of --help). Almost every value postcli takes is a string that
stays a string, a flag, or a whole number; those are passed through here exactly as
Typer's adapters would return them. Anything else (a bad number, a range to clamp,
a path, a choice, a custom parser) goes to Typer's own coercion, built on first use,
so its checks and its error messages are unchanged.

Typer's internals are private: if they are not what this expects, nothing is changed.
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
    original = getattr(core, "build_runtime_param", None)
    base = getattr(_coercion, "RuntimeParam", None)
    if original is None or base is None or getattr(original, "_postcli", False):
        return

    class PlainParam(base):  # type: ignore[misc, valid-type]
        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            info = self.parameter_info
            if self.annotation is str and isinstance(value, str):
                return value
            if self.annotation is bool and isinstance(value, bool):
                return value
            if self.annotation is int and not isinstance(value, bool):
                n = value if isinstance(value, int) else int(value) if isinstance(value, str) and _INT.fullmatch(value) else None
                if n is not None and (info.min is None or n >= info.min) and (info.max is None or n <= info.max):
                    return n
            real = self.__dict__.get("_real")
            if real is None:
                real = original(self.__dict__["_descriptor"])
                object.__setattr__(self, "_real", real)
            return real._coerce_value(value, param=param, ctx=ctx)

    def build(descriptor: Any) -> Any:
        try:
            info = descriptor.parameter_info
            simple = (
                descriptor.annotation in (str, bool, int)
                and descriptor.file_annotation is None
                and getattr(info, "parser", None) is None
                and not getattr(info, "clamp", False)
                and not descriptor.is_path
                and not descriptor.is_choice
            )
        except AttributeError:  # pragma: no cover - another typer: its own coercion
            simple = False
        if not simple:
            return original(descriptor)
        p = PlainParam(parameter_info=info, annotation=descriptor.annotation)
        object.__setattr__(p, "_descriptor", descriptor)
        return p

    build._postcli = True  # type: ignore[attr-defined]
    core.build_runtime_param = build
