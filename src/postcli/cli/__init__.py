"""The root Typer app: sub-apps, global flags, and errors -> messages + exit codes.

Nothing heavy is imported here: `postcli --help` must not load SQLAlchemy or SDKs.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperArgument, TyperGroup

from postcli import __version__
from postcli.cli import _params
from postcli.errors import EXIT_CODES, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_USAGE, PostcliError

if TYPE_CHECKING:
    # The vendored click's Context, which TyperGroup's methods are declared with.
    from typer._click.core import Context as ClickContext

_params.install()  # plain option values without importing Pydantic (issue 16)


def _debug_enabled() -> bool:
    return os.environ.get("POSTCLI_DEBUG", "") not in ("", "0", "false", "no")


class _PlainArgument(TyperArgument):
    """An argument shown as a CLI shows it: `TEXT` / `[ID]`, not Typer's `{TEXT}` and `TEXT <str>`."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def _usage_display_name(self) -> str:
        name = self.display_name_raw
        name = name if self.required else f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")


def _plain_arguments(command: Any) -> None:
    for param in getattr(command, "params", []):
        if type(param) is TyperArgument:
            param.__class__ = _PlainArgument
    for sub in getattr(command, "commands", {}).values():
        _plain_arguments(sub)


def _utf8_args(args: list[str]) -> list[str]:
    """Arguments read as UTF-8 whatever the locale says; bytes that are not UTF-8 are refused (exit 2).

    Python decodes argv with the locale's encoding: under LC_ALL=C (UTF-8 mode off) "café"
    arrives as surrogates although its bytes are UTF-8; under a UTF-8 locale, bytes that are
    not UTF-8 arrive as lone surrogates. Both are told apart by the bytes themselves.
    """
    fixed = []
    for arg in args:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            raw = os.fsencode(arg)
            try:
                arg = raw.decode("utf-8")
            except UnicodeDecodeError:
                shown = raw.decode("utf-8", "replace")
                raise typer.BadParameter(
                    f"the argument {shown!r} is not valid UTF-8; pass text encoded as UTF-8."
                ) from None
        fixed.append(arg)
    return fixed


class PostcliGroup(TyperGroup):
    """Turns every PostcliError into one clear message and its exit code."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Built bottom-up, so every sub-command exists already: give their arguments plain help.
        _plain_arguments(self)

    def parse_args(self, ctx: ClickContext, args: list[str]) -> list[str]:
        return super().parse_args(ctx, _utf8_args(args))

    def invoke(self, ctx: ClickContext) -> Any:
        import warnings

        with warnings.catch_warnings():
            # A library's warning (dateutil, an SDK's deprecation) is not the user's business;
            # --debug shows them.
            if not (ctx.params.get("debug") or _debug_enabled()):
                warnings.simplefilter("ignore")
            return self._invoke(ctx)

    def _invoke(self, ctx: ClickContext) -> Any:
        from postcli import live, output, streams

        output.reset_consoles()
        streams.prepare_streams()
        # Click empties ctx.args before the root callback runs; it needs to know about --help.
        ctx.meta["postcli.help"] = bool({"-h", "--help"} & set(ctx.args))
        try:
            try:
                return super().invoke(ctx)
            finally:
                live.stop_all()  # a bar a Ctrl-C left running would hide the cursor and draw over the error
                streams.flush()  # a full device shows when the last output is written out
        except PostcliError as exc:
            _print_notices()
            _debug_traceback()
            if isinstance(exc, streams.OutputFailed):
                streams.silence_stdout()
            shown = output.error(exc.message, exc.hint)
            # A code a script acts on (3: not found, 2: bad input...) only with its message: when
            # stderr is closed or full the error could not be reported, and that is exit 1.
            raise typer.Exit(exc.exit_code if shown else EXIT_ERROR) from None
        except BrokenPipeError:
            # `postcli post list | head`: the reader left; say nothing more.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(EXIT_ERROR) from None
        except OSError as exc:
            described = _describe_os_error(exc)
            if described is None:
                return self._unexpected(exc)
            _print_notices()
            _debug_traceback()
            output.error(*described)
            raise typer.Exit(EXIT_ERROR) from None
        except KeyboardInterrupt:
            output.error("interrupted.")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except typer.Abort as exc:
            # Click turns a Ctrl-C at a prompt into Abort ("Aborted!", exit 1); a Ctrl-C is 130
            # everywhere else. Ctrl-D and a "no" to a confirmation stay Click's Abort.
            if isinstance(exc.__context__, KeyboardInterrupt):
                output.error("interrupted.")
                raise typer.Exit(EXIT_INTERRUPTED) from None
            raise
        except (typer.Exit, typer.TyperException):
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
            return self._unexpected(exc)
        finally:
            _print_notices()

    def _unexpected(self, exc: Exception) -> Any:
        from postcli import output

        _print_notices()
        _debug_traceback()
        message, hint = _describe_unexpected(exc)
        output.error(message, hint)
        raise typer.Exit(EXIT_ERROR) from None


def _print_notices() -> None:
    from postcli import output, settings

    for text in settings.take_notices():
        output.warn(text)


def _debug_traceback() -> None:
    """With --debug: the traceback, secrets masked (users are asked to paste it into bug reports)."""
    if not _debug_enabled():
        return
    from postcli.secrets_redact import redacted_traceback

    try:
        sys.stderr.write(redacted_traceback(sys.exc_info()[1]))
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):  # stderr closed or full: nowhere to show it
        pass


def _describe_os_error(exc: OSError) -> tuple[str, str] | None:
    """A file postcli cannot write or read (a read-only home, a full disk): one line naming it."""
    import errno

    name = exc.filename
    if name is None:
        return None
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (
            f"cannot write {name}: {exc.strerror.lower() if exc.strerror else 'permission denied'}.",
            "Make that directory writable for this user, or point POSTCLI_HOME at one that is.",
        )
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        from pathlib import Path

        from postcli.outfile import describe

        full = describe(exc, str(name), Path(str(name)).parent)
        return full.message, full.hint or ""
    if exc.errno in (errno.ENOTDIR, errno.EISDIR):
        return (f"{name}: {exc.strerror}.", "A file stands where postcli needs a directory, or the other way round.")
    return None


def _describe_unexpected(exc: Exception) -> tuple[str, str]:
    name = type(exc).__name__
    # A database error's text ends with the SQL statement and its parameters (post text,
    # settings): the driver's own first line says what went wrong.
    orig = getattr(exc, "orig", None)
    text = (str(orig).strip().splitlines() or [""])[0] if orig is not None else str(exc)
    if name == "OperationalError" and "locked" in text:
        return (
            "the database is busy (another postcli is writing to it).",
            "Try again in a moment.",
        )
    if name in ("OperationalError", "DatabaseError") and ("disk" in text):
        from postcli.services.store_info import full_disk

        full = full_disk(text)
        if full:
            from postcli.outfile import room_hint

            return f"the database cannot be written: {full}.", room_hint(full)
    if name in ("OperationalError", "DatabaseError") and any(
        w in text for w in ("readonly database", "not a database", "malformed", "unable to open")
    ):
        from postcli.services.store_info import unusable_database_hint

        return f"the database cannot be used: {text}.", unusable_database_hint(text)
    from postcli.secrets_redact import redact

    return (
        f"unexpected {name}: {redact(text)}",
        "This is a bug in postcli. Run again with --debug (or POSTCLI_DEBUG=1) for the traceback and report it.",
    )


_app = typer.Typer(
    cls=PostcliGroup,
    name="postcli",
    help="Publish to social networks and get honest analytics, from the terminal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    # Written from the one table (errors.EXIT_CODES), so --help cannot disagree with it.
    epilog="Exit codes: " + "; ".join(f"{code} {meaning}" for code, meaning in EXIT_CODES.items()) + ".",
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish); cli/completion.py
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"postcli {__version__}")
        raise typer.Exit()


@_app.callback()
def _root(
    ctx: typer.Context,
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors (same as POSTCLI_DEBUG=1)."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """The global options; settings are checked here, before any command runs (the app's help=
    and epilog are what `postcli --help` shows)."""
    if debug:
        os.environ["POSTCLI_DEBUG"] = "1"
    from postcli.secrets_redact import install_log_handler

    install_log_handler(debug=_debug_enabled())
    # Settings are checked before any command runs (bad ones exit 2 naming the file or
    # variable), except for help and `config`, which must work to repair them.
    if ctx.invoked_subcommand != "config" and not ctx.meta.get("postcli.help"):
        from postcli import settings

        settings.paths()
        settings.database_url()
        settings.config()
        settings.timeout()


# The command groups, each in its own module; the top-level commands (toplevel.py) are the rest.
GROUPS = ("accounts", "post", "analytics", "jobs", "media", "db", "config", "queue")
_registered: set[str] = set()


def _register(only: str | None = None, command: str | None = None) -> None:
    """Add the command groups to the app: all of them, or only the group `only`, with only its
    `command` when it has one by that name (what `postcli GROUP COMMAND ...` runs: building every
    command's parameters from its signature costs more than a report's query, and `postcli
    --help` is the yardstick for start-up)."""
    import importlib

    for name in GROUPS:
        if (only is None or only == name) and name not in _registered:
            _registered.add(name)
            module = importlib.import_module(f"postcli.cli.{name}")
            if name == "analytics":
                from postcli.cli import post_analytics

                post_analytics.register(module.app)
            _app.add_typer(module.app if only is None else _one_command(module.app, command), name=name)
    if only is None and "" not in _registered:
        _registered.add("")
        from postcli.cli import toplevel

        toplevel.register(_app)


def __getattr__(name: str) -> Any:
    # `from postcli.cli import app` (tests, the docs generator, completion) gets every command.
    if name == "app":
        _register()
        return _app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _one_command(group: typer.Typer, name: str | None) -> typer.Typer:
    """`group` with only its command (or sub-group) `name`; the whole group when it has none by
    that name (an option, or a typo click answers by listing the group's commands)."""
    import copy

    from typer.main import get_command_name

    if not name:
        return group
    commands = [
        c
        for c in group.registered_commands
        if (c.name or get_command_name(getattr(c.callback, "__name__", ""))) == name
    ]
    groups = [g for g in group.registered_groups if g.name == name]
    if not commands and not groups:
        return group
    light = copy.copy(group)
    light.registered_commands, light.registered_groups = commands, groups
    return light


def _invoked(args: list[str]) -> tuple[str | None, str | None]:
    """The group and command a command line runs when it names a group first (`postcli
    analytics top ...`); (None, None) for anything else (root options first, top-level
    commands, shell completion)."""
    if not args or args[0] not in GROUPS:
        return None, None
    if any(k.startswith("_") and k.endswith("_COMPLETE") for k in os.environ):
        return None, None
    return args[0], (args[1] if len(args) > 1 else None)


def _occupy_closed_std_fds() -> None:
    """A standard stream closed at start (`>&-`): /dev/null on its descriptor, so the next file
    postcli opens (the store) cannot become "standard output" for a child process or a C library.
    Python has already made sys.stdout/sys.stderr None for it, so postcli still knows it is closed."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            try:
                opened = os.open(os.devnull, os.O_RDWR)
            except OSError:
                return
            if opened != fd:
                os.dup2(opened, fd)
                os.close(opened)


def main() -> None:
    import warnings

    _occupy_closed_std_fds()
    if not (_debug_enabled() or "--debug" in sys.argv[1:]):
        warnings.simplefilter("ignore")  # warnings raised while modules are imported, too
    _register(*_invoked(sys.argv[1:]))
    try:
        _app()
    except SystemExit as exc:
        # Click's own usage errors (exit 2) print nothing when stderr is closed: not reported, exit 1.
        if exc.code == EXIT_USAGE and sys.stderr is None:
            sys.exit(EXIT_ERROR)
        raise
    except BaseException as exc:  # pragma: no cover - PostcliGroup handles everything it can
        try:
            if _debug_enabled():
                from postcli.secrets_redact import redacted_traceback

                sys.stderr.write(redacted_traceback(exc))
            sys.stderr.write("error: unexpected failure; run with --debug for details.\n")
            sys.stderr.flush()
        except (AttributeError, OSError, ValueError):  # stderr closed or full
            pass
        sys.exit(EXIT_ERROR)
