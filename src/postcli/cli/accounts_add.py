"""`postcli accounts add PLATFORM`: connect an account with a token or an app password.

One command per platform, built from the platform's spec (platforms/<name>/spec.py) when it is
asked for: its identity options (--instance, --handle, --page, --blog...), how its secret is
read, and what else it keeps. (`accounts login PLATFORM`, the browser sign-in, is cli/login.py.)
"""

from __future__ import annotations

import os
from typing import Any

import typer

from postcli.cli._connect import (
    PlatformGroup,
    command_from,
    insecure_http_param,
    print_connected,
    read_secret,
    run_login,
)
from postcli.cli._options import json_param, text_value

API_BASE_HELP = "API base URL (default: the platform's public one; set it for a proxy or a test server)."


def _build(found: Any) -> Any:
    params: list[tuple[str, Any, Any]] = []
    for opt in found.options:
        if opt.add == "no":
            continue
        default = ... if opt.add == "required" else opt.default
        params.append(
            (opt.name, str, typer.Option(default, opt.flag, metavar=opt.metavar, parser=text_value, help=opt.help))
        )
    if found.credential is not None:
        what = found.credential.name
        params.append(
            (
                "secret_stdin",
                bool,
                typer.Option(False, found.credential.stdin_flag, help=f"Read the {what} from standard input."),
            )
        )
    if found.api_base_option:
        params.append(
            ("api_base", str, typer.Option(None, "--api-base", metavar="URL", parser=text_value, help=API_BASE_HELP))
        )
    if not found.simulated:
        params.append(insecure_http_param())
    params.append(json_param())

    def run(**values: Any) -> None:
        _add(found, values)

    return command_from(found.name, found.add_help or f"Connect {found.summary}.", params, run)


class AddGroup(PlatformGroup):
    build = staticmethod(_build)

    def list_commands(self, ctx: Any) -> list[str]:
        # The hidden ones (the simulated sandbox) still work when named.
        return super().list_commands(ctx)


add_app = typer.Typer(
    cls=AddGroup,
    help="Connect an account: postcli accounts add PLATFORM --help shows what each platform takes.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _add(found: Any, values: dict[str, Any]) -> None:
    from postcli.services.accounts import add_account

    as_json = bool(values.get("as_json"))
    insecure_http = bool(values.get("insecure_http"))
    identifier: str | None = None
    base_url: str | None = values.get("api_base")
    settings: dict[str, Any] = {}
    login_options: dict[str, str | None] = {}
    for opt in found.options:
        if opt.add == "no":
            continue
        value = opt.value(values.get(opt.name))
        if opt.login != "no":
            login_options[opt.name] = value
        if value is None:
            continue
        if opt.role == "identifier":
            identifier = value
        elif opt.role == "base_url":
            base_url = value
        elif opt.role.startswith("setting:"):
            settings[opt.role.removeprefix("setting:")] = value
    secrets = {e.key: os.environ[e.env] for e in found.env_secrets if os.environ.get(e.env)}
    if found.credential is None:
        secret = found.name  # nothing to ask (the simulated sandbox)
    else:
        login = None
        if found.signin is not None:
            # The sign-in gets what `add` was given: the options both take, and the server.
            service = base_url if any(o.role == "base_url" for o in found.options) else None
            api_base = values.get("api_base") or service

            def login() -> None:
                run_login(
                    found.name,
                    login_options,
                    as_json=as_json,
                    api_base=api_base,
                    client_id=settings.get("client_id"),
                    insecure_http=insecure_http,
                )

        secret = read_secret(found, from_stdin=bool(values.get("secret_stdin")), login=login)
    result = add_account(
        found.name,
        identifier=identifier,
        secret=secret,
        base_url=base_url,
        extra_secrets=secrets or None,
        extra_settings=settings or None,
        insecure_http=insecure_http,
    )
    print_connected(result, as_json)
