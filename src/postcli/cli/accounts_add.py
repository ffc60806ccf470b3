"""`postcli accounts add PLATFORM`: connect an account with a token or an app password.

(`accounts login PLATFORM`, the browser sign-in, is cli/login.py.)
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable

import typer

from postcli.cli._options import JsonOpt, text_value
from postcli.errors import InvalidInput

add_app = typer.Typer(
    help="Connect an account (Bluesky, Mastodon, Threads, Instagram, Facebook Page, Tumblr blog).",
    no_args_is_help=True,
)

API_BASE_HELP = "API base URL (default: the platform's public one; set it for a proxy or a test server)."
GRAPH_VERSION_HELP = (
    "Meta Graph API version for this account, e.g. v27.0 (default: [graph] version in "
    "config.toml, else postcli's current default)."
)
TOKEN_STDIN_OPT = typer.Option(False, "--token-stdin", help="Read the access token from standard input.")
API_BASE_OPT = typer.Option(None, "--api-base", metavar="URL", parser=text_value, help=API_BASE_HELP)
GRAPH_VERSION_OPT = typer.Option(None, "--graph-version", metavar="VERSION", parser=text_value, help=GRAPH_VERSION_HELP)


def _read_secret(*, from_stdin: bool, env_var: str, prompt: str, login: Callable[[], None] | None = None) -> str:
    """The secret from stdin, the environment or a hidden prompt. `login` (platforms with a
    browser sign-in): asked on a terminal before the prompt, and named in the hint without one."""
    if from_stdin:
        from postcli.cli._stdin import read_line

        value = read_line(f"the {prompt} on standard input")
        if not value:
            raise InvalidInput(
                f"no {prompt} was read from standard input.",
                hint=f"Pipe it in, e.g. `printenv MY_SECRET | {_stdin_command(env_var)}`, or set {env_var} instead.",
            )
        return value
    value = os.environ.get(env_var)
    if value:
        return value
    platform = env_var.split("_")[1].lower()
    if not sys.stdin.isatty():
        also = f", or sign in with the browser: `postcli accounts login {platform}`" if login else ""
        raise InvalidInput(
            "no secret given and there is no terminal to ask on.",
            hint=f"Use the --*-stdin option or set {env_var}{also}.",
        )
    if login is not None and typer.confirm(
        f"No {prompt} given. Sign in with the browser instead (postcli accounts login {platform})?", default=True
    ):
        login()
        raise typer.Exit(0)
    return typer.prompt(prompt, hide_input=True)


def _browser_login(platform: str, as_json: bool, **options: str | None) -> Callable[[], None]:
    """`accounts login PLATFORM` with what `accounts add` was given (its --instance, --page, ...)."""

    def run() -> None:
        from postcli.cli.login import login

        args: dict[str, Any] = dict(
            instance=None,
            client_id=None,
            no_browser=False,
            port=0,
            scopes=None,
            redirect_uri=None,
            page=None,
            blog=None,
            handle=None,
            timeout=None,
            api_base=None,
            authorize_url=None,
        )
        args.update(options)
        login(platform=platform, as_json=as_json, **args)

    return run


def _stdin_command(env_var: str) -> str:
    """POSTCLI_BLUESKY_PASSWORD -> `postcli accounts add bluesky ... --password-stdin`."""
    platform = env_var.split("_")[1].lower()
    option = "--password-stdin" if env_var.endswith("PASSWORD") else "--token-stdin"
    return f"postcli accounts add {platform} ... {option}"


def _print_connected(result, as_json: bool) -> None:
    from postcli import output

    data = result.account
    if as_json:
        output.print_json({**data, "reconnected": result.reconnected})
        return
    verb = "Reconnected" if result.reconnected else "Connected"
    output.line(f"{verb} {data['platform']} account {data['handle']} (id {data['id']}) at {data['api_base_url']}.")


@add_app.command("bluesky")
def add_bluesky(
    handle: str = typer.Option(
        ..., "--handle", metavar="HANDLE", parser=text_value, help="Your handle, e.g. alice.bsky.social (or your DID)."
    ),
    service: str = typer.Option(
        "https://bsky.social",
        "--service",
        metavar="URL",
        parser=text_value,
        help="Your PDS URL (for self-hosted servers).",
    ),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the app password from standard input."),
    as_json: JsonOpt = False,
) -> None:
    """Connect a Bluesky account with an app password (Settings -> App passwords).

    The password is read from a hidden prompt, --password-stdin, or
    POSTCLI_BLUESKY_PASSWORD. postcli logs in once and reuses the session.
    """
    from postcli.services.accounts import add_account

    secret = _read_secret(
        from_stdin=password_stdin,
        env_var="POSTCLI_BLUESKY_PASSWORD",
        prompt="Bluesky app password",
        # The sign-in resolves the handle on --service (a PDS resolves its own accounts' handles).
        login=_browser_login("bluesky", as_json, handle=handle.lstrip("@"), api_base=service),
    )
    _print_connected(add_account("bluesky", identifier=handle.lstrip("@"), secret=secret, base_url=service), as_json)


@add_app.command("mastodon")
def add_mastodon(
    instance: str = typer.Option(
        ..., "--instance", metavar="URL", parser=text_value, help="Your instance URL, e.g. https://mastodon.social"
    ),
    token_stdin: bool = TOKEN_STDIN_OPT,
    as_json: JsonOpt = False,
) -> None:
    """Connect a Mastodon account with an access token.

    Create one in Preferences -> Development -> New application (scopes: read, write).
    The token is read from a hidden prompt, --token-stdin, or POSTCLI_MASTODON_TOKEN.
    """
    _connect_with_token("mastodon", "Mastodon", as_json, token_stdin=token_stdin, base_url=instance, instance=instance)


def _optional_env(name: str) -> str | None:
    return os.environ.get(name) or None


def _connect_with_token(
    platform: str,
    name: str,
    as_json: bool,
    *,
    token_stdin: bool,
    base_url: str | None,
    identifier: str | None = None,
    extra_secrets: dict[str, str] | None = None,
    extra_settings: dict[str, str] | None = None,
    **login_options: str | None,
) -> None:
    """Read the access token (stdin, POSTCLI_<PLATFORM>_TOKEN or a hidden prompt), connect, print.
    login_options: what `accounts login PLATFORM` is offered on a terminal (--instance, --page, ...)."""
    from postcli.services.accounts import add_account

    secret = _read_secret(
        from_stdin=token_stdin,
        env_var=f"POSTCLI_{platform.upper()}_TOKEN",
        prompt=f"{name} access token",
        login=_browser_login(platform, as_json, **login_options),
    )
    result = add_account(
        platform,
        identifier=identifier,
        secret=secret,
        base_url=base_url,
        extra_secrets=extra_secrets or None,
        extra_settings=extra_settings or None,
    )
    _print_connected(result, as_json)


def _app_secret(platform: str) -> dict[str, str] | None:
    """{"app_secret": ...} from POSTCLI_<PLATFORM>_APP_SECRET (lets postcli exchange a short-lived token)."""
    app_secret = _optional_env(f"POSTCLI_{platform.upper()}_APP_SECRET")
    return {"app_secret": app_secret} if app_secret else None


def _graph_settings(version: str | None) -> dict[str, str]:
    """{"api_version": ...} for --graph-version, checked before anything is sent."""
    if version is None:
        return {}
    import re

    value = version.strip()
    if not re.fullmatch(r"v\d{1,3}\.\d{1,2}", value):
        raise InvalidInput(f"--graph-version {version!r} is not a Graph API version.", hint="Use a form like v27.0.")
    return {"api_version": value}


@add_app.command("threads")
def add_threads(
    token_stdin: bool = TOKEN_STDIN_OPT,
    api_base: str = API_BASE_OPT,
    as_json: JsonOpt = False,
) -> None:
    """Connect a Threads profile with a long-lived access token.

    The token (scopes threads_basic, threads_content_publish,
    threads_manage_insights, and threads_delete for `post delete --remote`) is read from a hidden prompt, --token-stdin, or
    POSTCLI_THREADS_TOKEN. A short-lived token is exchanged for a long-lived one
    when POSTCLI_THREADS_APP_SECRET is set. postcli refreshes the token before
    it expires (`postcli accounts health`).
    """
    _connect_with_token(
        "threads",
        "Threads",
        as_json,
        token_stdin=token_stdin,
        base_url=api_base,
        extra_secrets=_app_secret("threads"),
        api_base=api_base,
    )


@add_app.command("instagram")
def add_instagram(
    token_stdin: bool = TOKEN_STDIN_OPT,
    api_base: str = API_BASE_OPT,
    graph_version: str = GRAPH_VERSION_OPT,
    as_json: JsonOpt = False,
) -> None:
    """Connect an Instagram professional account (Instagram Login) with a long-lived token.

    The token (scopes instagram_business_basic, instagram_business_content_publish,
    instagram_business_manage_insights) is read from a hidden prompt,
    --token-stdin, or POSTCLI_INSTAGRAM_TOKEN. A short-lived token is exchanged
    for a long-lived one when POSTCLI_INSTAGRAM_APP_SECRET is set. Publishing
    media needs the S3 media store: Instagram fetches images and videos from a public URL.
    """
    _connect_with_token(
        "instagram",
        "Instagram",
        as_json,
        token_stdin=token_stdin,
        base_url=api_base,
        extra_secrets=_app_secret("instagram"),
        extra_settings=_graph_settings(graph_version),
        api_base=api_base,
    )


@add_app.command("facebook")
def add_facebook(
    page: str = typer.Option(
        None,
        "--page",
        metavar="PAGE",
        parser=text_value,
        help="The Page id (or name) to post as, when the token manages several.",
    ),
    token_stdin: bool = TOKEN_STDIN_OPT,
    app_id: str = typer.Option(
        None,
        "--app-id",
        metavar="ID",
        parser=text_value,
        help="Your Meta app id (to exchange a short-lived user token).",
    ),
    api_base: str = API_BASE_OPT,
    graph_version: str = GRAPH_VERSION_OPT,
    as_json: JsonOpt = False,
) -> None:
    """Connect a Facebook Page with a Page access token or a user token that manages it.

    The token (pages_manage_posts, pages_read_engagement, read_insights) is read
    from a hidden prompt, --token-stdin, or POSTCLI_FACEBOOK_TOKEN. With a user
    token postcli finds the Page (--page picks one) and keeps its Page token.
    POSTCLI_FACEBOOK_APP_SECRET (with --app-id) lets it exchange a short-lived token.
    """
    extra_settings = {**({"app_id": app_id} if app_id else {}), **_graph_settings(graph_version)}
    _connect_with_token(
        "facebook",
        "Facebook",
        as_json,
        token_stdin=token_stdin,
        base_url=api_base,
        identifier=page,
        extra_secrets=_app_secret("facebook"),
        extra_settings=extra_settings,
        api_base=api_base,
        page=page,
    )


@add_app.command("tumblr")
def add_tumblr(
    blog: str = typer.Option(
        ...,
        "--blog",
        metavar="BLOG",
        parser=text_value,
        help="The blog to post to, e.g. myblog (or myblog.tumblr.com).",
    ),
    client_id: str = typer.Option(
        None,
        "--client-id",
        metavar="ID",
        parser=text_value,
        help="Your Tumblr app's OAuth2 client id (to refresh tokens).",
    ),
    token_stdin: bool = TOKEN_STDIN_OPT,
    api_base: str = API_BASE_OPT,
    as_json: JsonOpt = False,
) -> None:
    """Connect a Tumblr blog with OAuth2 tokens.

    The access token is read from a hidden prompt, --token-stdin, or
    POSTCLI_TUMBLR_TOKEN. To refresh it when it expires, postcli needs the
    refresh token (scope offline_access) in POSTCLI_TUMBLR_REFRESH_TOKEN, the
    app's secret in POSTCLI_TUMBLR_CLIENT_SECRET and --client-id.
    """
    extra = {
        k: v
        for k, v in {
            "refresh_token": _optional_env("POSTCLI_TUMBLR_REFRESH_TOKEN"),
            "client_secret": _optional_env("POSTCLI_TUMBLR_CLIENT_SECRET"),
        }.items()
        if v
    }
    _connect_with_token(
        "tumblr",
        "Tumblr",
        as_json,
        token_stdin=token_stdin,
        base_url=api_base,
        identifier=blog,
        extra_secrets=extra,
        extra_settings={"client_id": client_id} if client_id else None,
        api_base=api_base,
        blog=blog,
        client_id=client_id,
    )


@add_app.command("sandbox", hidden=True)
def add_sandbox(
    handle: str = typer.Option(
        "me.sandbox", "--handle", metavar="HANDLE", parser=text_value, help="A name for the simulated account."
    ),
    as_json: JsonOpt = False,
) -> None:
    """Connect a SIMULATED sandbox account (no network; used by `postcli demo`)."""
    from postcli.services.accounts import add_account

    _print_connected(add_account("sandbox", identifier=handle, secret="sandbox", base_url=None), as_json)
