"""The root Typer app: sub-apps, global flags, and errors -> messages + exit codes.

Nothing heavy is imported here: `postcli --help` must not load SQLAlchemy or SDKs.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any

import typer
from typer.core import TyperGroup

from postcli import __version__
from postcli.cli import _params
from postcli.errors import EXIT_ERROR, PostcliError

_params.install()  # plain option values without importing Pydantic (issue 16)


def _debug_enabled() -> bool:
    return os.environ.get("POSTCLI_DEBUG", "") not in ("", "0", "false", "no")


class PostcliGroup(TyperGroup):
    """Turns every PostcliError into one clear message and its exit code."""

    def invoke(self, ctx: typer.Context) -> Any:
        from postcli import output

        output.reset_consoles()
        try:
            return super().invoke(ctx)
        except PostcliError as exc:
            if _debug_enabled():
                traceback.print_exc()
            output.error(exc.message, exc.hint)
            raise typer.Exit(exc.exit_code) from None
        except BrokenPipeError:
            # `postcli post list | head`: the reader left; say nothing more.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(EXIT_ERROR) from None
        except KeyboardInterrupt:
            output.error("interrupted.")
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
            if _debug_enabled():
                traceback.print_exc()
            message, hint = _describe_unexpected(exc)
            output.error(message, hint)
            raise typer.Exit(EXIT_ERROR) from None


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
    from postcli.secrets_redact import redact

    return (
        f"unexpected {name}: {redact(text)}",
        "This is a bug in postcli. Run again with --debug (or POSTCLI_DEBUG=1) for the traceback and report it.",
    )


app = typer.Typer(
    cls=PostcliGroup,
    name="postcli",
    help="Publish to social networks and get honest analytics, from the terminal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"postcli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors (same as POSTCLI_DEBUG=1)."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """postcli: compose, schedule and publish posts to Bluesky, Mastodon, Threads, Instagram,
    Facebook Pages and Tumblr, collect their metrics into a local store, and report what worked.

    Exit codes: 0 ok, 1 error, 2 bad input, 3 not found, 4 wrong state, 5 rate limited,
    6 account needs reconnecting, 7 partial success.
    """
    if debug:
        os.environ["POSTCLI_DEBUG"] = "1"


def _register() -> None:
    from postcli.cli import accounts, analytics, config, db, jobs, media, post, post_analytics, toplevel

    app.add_typer(accounts.app, name="accounts")
    app.add_typer(post.app, name="post")
    post_analytics.register(analytics.app)
    app.add_typer(analytics.app, name="analytics")
    app.add_typer(jobs.app, name="jobs")
    app.add_typer(media.app, name="media")
    app.add_typer(db.app, name="db")
    app.add_typer(config.app, name="config")
    toplevel.register(app)


_register()


def main() -> None:
    try:
        app()
    except SystemExit:
        raise
    except BaseException:  # pragma: no cover - PostcliGroup handles everything it can
        if _debug_enabled():
            raise
        sys.stderr.write("error: unexpected failure; run with --debug for details.\n")
        sys.exit(EXIT_ERROR)
