"""`postcli accounts login PLATFORM`: connect an account by signing in in the browser.

One command per platform with a browser sign-in, built from its spec: the shared options
below plus the platform's own (--instance, --handle, --page, --blog...).
"""

from __future__ import annotations

from typing import Any

import typer

from postcli.cli._connect import MAX_LOGIN_TIMEOUT, PlatformGroup, command_from, insecure_http_param, run_login
from postcli.cli._options import json_param, seconds_value, text_value

HELP = (
    "Sign in in the browser and connect the account (OAuth 2.0).\n\n"
    "postcli opens the platform's consent page and catches the redirect on "
    "http://127.0.0.1:<port>/callback. {needs} Exit 1 if the sign-in is declined, times out "
    "or comes back with a wrong state; nothing is stored then."
)


def _needs(found: Any) -> str:
    signin = found.signin
    if signin is None:
        return "This platform has no browser sign-in: use `postcli accounts add`."
    own = (
        f"It needs your own app ({signin.console}; steps: docs/signin.md)."
        if signin.needs_app
        else "No app of your own is needed."
    )
    return f"{found.display_name}: {signin.kind}. {own}"


def _common() -> list[tuple[str, Any, Any]]:
    return [
        (
            "client_id",
            str,
            typer.Option(
                None,
                "--client-id",
                metavar="ID",
                parser=text_value,
                help="Your app's client id (else POSTCLI_<PLATFORM>_CLIENT_ID or [apps.PLATFORM]).",
            ),
        ),
        (
            "no_browser",
            bool,
            typer.Option(
                False, "--no-browser", help="Do not open a browser: print the address and paste the result back (SSH)."
            ),
        ),
        (
            "port",
            int,
            typer.Option(
                0,
                "--port",
                metavar="N",
                min=0,
                max=65535,
                help="Loopback port for the redirect (default: any free one, or the platform's registered one).",
            ),
        ),
        (
            "scopes",
            str,
            typer.Option(
                None,
                "--scopes",
                metavar="SCOPES",
                parser=text_value,
                help="Scopes to ask for, comma or space separated (default: what postcli needs).",
            ),
        ),
        (
            "redirect_uri",
            str,
            typer.Option(
                None,
                "--redirect-uri",
                metavar="URL",
                parser=text_value,
                help="An https redirect URI registered in your app (Threads, Instagram); implies paste-back.",
            ),
        ),
        (
            "timeout",
            float,
            typer.Option(
                None,
                "--timeout",
                metavar="SECONDS",
                parser=seconds_value(1, MAX_LOGIN_TIMEOUT),
                help="Seconds to wait for the browser (default 300, or POSTCLI_LOGIN_TIMEOUT).",
            ),
        ),
        (
            "api_base",
            str,
            typer.Option(
                None,
                "--api-base",
                metavar="URL",
                parser=text_value,
                help="Replaces the scheme and host of every documented host of the platform (a proxy or a "
                "test server); Bluesky: the service that resolves the handle.",
            ),
        ),
        (
            "authorize_url",
            str,
            typer.Option(
                None,
                "--authorize-url",
                metavar="URL",
                parser=text_value,
                help="Consent page URL (for a proxy or a test server).",
            ),
        ),
        insecure_http_param(),
        json_param(),
    ]


def _build(found: Any) -> Any:
    own: list[tuple[str, Any, Any]] = []
    for opt in found.options:
        if opt.login == "no":
            continue
        own.append(
            (opt.name, str, typer.Option(opt.default, opt.flag, metavar=opt.metavar, parser=text_value, help=opt.help))
        )
    names = {p[0] for p in own}
    params = own + [p for p in _common() if p[0] not in names]

    def run(**values: Any) -> None:
        options = {opt.name: opt.value(values.get(opt.name)) for opt in found.options if opt.login != "no"}
        run_login(
            found.name,
            options,
            as_json=bool(values["as_json"]),
            client_id=values["client_id"],
            api_base=values["api_base"],
            authorize_url=values["authorize_url"],
            no_browser=bool(values["no_browser"]),
            port=values["port"] or 0,
            scopes=values["scopes"],
            redirect_uri=values["redirect_uri"],
            timeout=values["timeout"],
            insecure_http=bool(values["insecure_http"]),
        )

    return command_from(found.name, HELP.format(needs=_needs(found)), params, run)


class LoginGroup(PlatformGroup):
    signin_only = True
    build = staticmethod(_build)


login_app = typer.Typer(
    cls=LoginGroup,
    help="Sign in in the browser and connect the account: postcli accounts login PLATFORM --help for each.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
