"""What `accounts add` and `accounts login` share: the per-platform command group built from
the platforms' specs, reading a secret, running a browser sign-in, printing the result.

Both commands import this module and neither imports the other.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, Callable

import typer
from typer.core import TyperCommand, TyperGroup

from postcli.cli import _ask
from postcli.errors import InvalidInput

if TYPE_CHECKING:
    from typer._click.core import Context as ClickContext

DEFAULT_LOGIN_TIMEOUT = 300.0
MAX_LOGIN_TIMEOUT = 86400.0  # a day: a sign-in nobody finished by then will not be finished


def insecure_http_param() -> tuple[str, Any, Any]:
    from postcli.cli._options import INSECURE_HTTP_HELP

    return ("insecure_http", bool, typer.Option(False, "--insecure-http", help=INSECURE_HTTP_HELP))


# -- the per-platform command groups ------------------------------------------------------


class PlatformCommand(TyperCommand):
    """One platform's `accounts add|login` command: an option that belongs to another platform
    is named as such ("--page is for facebook, not tumblr") instead of "no such option"."""

    def parse_args(self, ctx: ClickContext, args: list[str]) -> list[str]:
        from postcli.services import platforms as platforms_svc

        mine = {name for param in self.params for name in getattr(param, "opts", [])}
        for arg in args:
            if arg == "--":
                break
            flag = arg.split("=", 1)[0]
            if flag.startswith("--") and flag not in mine:
                owners = [p for p in platforms_svc.option_owners(flag) if p != self.name]
                if owners:
                    raise InvalidInput(
                        f"{flag} is for {' and '.join(owners)}, not {self.name}.", hint=f"Leave {flag} out."
                    )
        return super().parse_args(ctx, args)


class PlatformGroup(TyperGroup):
    """A sub-command per platform, built from its spec only when it is asked for (so that
    `postcli --help` reads no spec and a plugin platform appears without code here)."""

    signin_only = False  # `accounts login`: only platforms with a browser sign-in are listed
    build: Callable[[Any], Any]  # spec -> a click command

    def list_commands(self, ctx: ClickContext) -> list[str]:
        from postcli.services import platforms as platforms_svc

        return platforms_svc.names(signin=self.signin_only)

    def get_command(self, ctx: ClickContext, cmd_name: str) -> Any:
        from postcli.services import platforms as platforms_svc

        found = platforms_svc.find(cmd_name.strip().lower())
        if found is None:
            return None
        return type(self).build(found)

    def resolve_command(self, ctx: ClickContext, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            from postcli.services import platforms as platforms_svc

            platforms_svc.spec(name.strip().lower())  # raises: unknown, or a plugin that did not load
        return super().resolve_command(ctx, args)


def command_from(name: str, help_text: str, params: list[tuple[str, Any, Any]], run: Callable[..., None]) -> Any:
    """A click command for Typer's machinery, from (parameter name, type, typer.Option) triples:
    the function Typer reads gets its signature here, so every option is declared as data."""
    import inspect

    def command(**values: Any) -> None:
        run(**values)

    command.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(p, inspect.Parameter.KEYWORD_ONLY, default=opt, annotation=kind) for p, kind, opt in params]
    )
    command.__annotations__ = {p: kind for p, kind, _ in params}
    command.__doc__ = help_text
    app = typer.Typer(add_completion=False, rich_markup_mode=None)
    app.command(name=name, cls=PlatformCommand, help=help_text)(command)
    return typer.main.get_command(app)


# -- secrets, sign-in and results -----------------------------------------------------------


def read_secret(found: Any, *, from_stdin: bool, login: Callable[[], None] | None) -> str:
    """The secret from stdin, the environment or a hidden prompt. `login` (platforms with a
    browser sign-in): asked on a terminal before the prompt, and named in the hint without one."""
    credential = found.credential
    env_var = found.env_prefix + ("PASSWORD" if credential.kind == "password" else "TOKEN")
    prompt = f"{found.display_name} {credential.name}"
    if from_stdin and sys.stdin is not None and sys.stdin.isatty():
        # Typed, not piped: read it hidden. Read as a line, the terminal echoed the secret (into
        # the scrollback, for anyone looking) while postcli waited without a word.
        return _ask.secret(prompt)
    if from_stdin:
        from postcli.cli._stdin import read_line

        value = read_line(f"the {prompt} on standard input")
        if not value:
            raise InvalidInput(
                f"no {prompt} was read from standard input.",
                hint=f"Pipe it in, e.g. `printenv MY_SECRET | postcli accounts add {found.name} ... "
                f"{credential.stdin_flag}`, or set {env_var} instead.",
            )
        return value
    value = os.environ.get(env_var)
    if value:
        return value
    if not sys.stdin.isatty():
        also = f", or sign in with the browser: `postcli accounts login {found.name}`" if login else ""
        raise InvalidInput(
            "no secret given and there is no terminal to ask on.",
            hint=f"Use {credential.stdin_flag} or set {env_var}{also}.",
        )
    if login is not None and _ask.confirm(
        f"No {prompt} given. Sign in with the browser instead (postcli accounts login {found.name})?",
        default=True,
    ):
        login()
        raise typer.Exit(0)
    return _ask.secret(prompt)


def print_connected(result: Any, as_json: bool) -> None:
    from postcli import output

    data = result.account
    if as_json:
        output.print_json({**data, "reconnected": result.reconnected})
        return
    verb = "Reconnected" if result.reconnected else "Connected"
    output.line(f"{verb} {data['platform']} account {data['handle']} (id {data['id']}) at {data['api_base_url']}.")
    if result.reconnected:
        from postcli.services.posts.retry_failed import waiting_for

        waiting = waiting_for(data["id"])
        if waiting:
            output.line(
                f"{waiting} failed target(s) wait for this account: postcli post retry --failed --account {data['id']}"
            )


def _say(text: str) -> None:
    # Plain writes, not Rich: a wrapped or styled URL cannot be copied.
    try:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):  # stderr closed or full (docs/output.md)
        pass


def _printable(text: str) -> str:
    # A Page name is the platform's text: no terminal control sequences from it.
    return "".join(c if c.isprintable() else "?" for c in text)


def _read_pasted() -> str:
    _say("Paste the address your browser ended on (or just the code), then press Enter:")
    from postcli.cli._stdin import read_line

    line = read_line("the pasted address")
    if line is None:
        raise InvalidInput(
            "nothing was pasted (standard input is closed).",
            hint="Run it in a terminal, or pipe the redirected address in.",
        )
    return line


def _choose(title: str, items: list[tuple[str, str]]) -> str | None:
    """Ask which one; a closed or empty answer leaves it to the adapter's error (which lists them)."""
    _say(title)
    for n, (item_id, label) in enumerate(items, 1):
        _say(f"  {n}. {_printable(label)} (id {_printable(item_id)})")
    _say("Which one? Type its number or id, then press Enter:")
    from postcli.cli._stdin import read_line

    answer = (read_line("the answer") or "").strip()
    if answer.isdigit() and 1 <= int(answer) <= len(items):
        return items[int(answer) - 1][0]
    return answer or None


def _open_browser(url: str) -> bool:
    import webbrowser

    try:
        return webbrowser.open(url)
    except Exception:  # noqa: BLE001 - no browser is fine: the URL is printed
        return False


def login_timeout(value: float | None) -> float:
    if value is not None:
        return value
    env = os.environ.get("POSTCLI_LOGIN_TIMEOUT")
    if not env:
        return DEFAULT_LOGIN_TIMEOUT
    try:
        seconds = float(env)
    except ValueError:
        raise InvalidInput(f"POSTCLI_LOGIN_TIMEOUT={env!r} is not a number of seconds.") from None
    if not 0 < seconds <= MAX_LOGIN_TIMEOUT:  # nan, inf and 1e300 (Event.wait overflows) too
        raise InvalidInput(
            f"POSTCLI_LOGIN_TIMEOUT={env!r} must be a number of seconds above 0, up to {MAX_LOGIN_TIMEOUT:,g}."
        )
    return seconds


def run_login(
    platform: str,
    options: dict[str, str | None],
    *,
    as_json: bool,
    client_id: str | None = None,
    api_base: str | None = None,
    authorize_url: str | None = None,
    no_browser: bool = False,
    port: int = 0,
    scopes: str | None = None,
    redirect_uri: str | None = None,
    timeout: float | None = None,
    insecure_http: bool = False,
) -> None:
    """The browser sign-in, for `accounts login` and for `accounts add` without a secret."""
    from postcli.services.signin import FlowOptions, LoginRequest, login

    wanted = tuple(s for s in (scopes or "").replace(",", " ").split() if s)
    if scopes is not None and not wanted:
        raise InvalidInput("--scopes is empty.", hint="Leave it out for the default scopes.")
    if redirect_uri is not None and not redirect_uri.startswith("https://"):
        raise InvalidInput(
            f"--redirect-uri {redirect_uri!r} is not an https URL.",
            hint="Leave it out to use the loopback redirect http://127.0.0.1:<port>/callback.",
        )

    def announce(url: str) -> None:
        if no_browser or redirect_uri:
            _say("Open this address in a browser and approve postcli:")
        else:
            _say("Opening your browser to sign in. If it does not open, visit:")
        _say(url)

    opts = FlowOptions(
        scopes=wanted,
        timeout=login_timeout(timeout),
        no_browser=no_browser,
        port=port,
        redirect_uri=redirect_uri,
        open_browser=_open_browser,
        announce=announce,
        read_pasted=_read_pasted,
    )
    req = LoginRequest(
        platform=platform,
        options=options,
        client_id=client_id,
        api_base=api_base,
        authorize_url=authorize_url,
        choose=_choose,
        insecure_http=insecure_http,
    )
    print_connected(login(req, opts), as_json)
