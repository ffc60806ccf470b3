"""`postcli accounts login PLATFORM`: connect an account by signing in in the browser."""

from __future__ import annotations

import os
import sys

import typer

from postcli.cli._options import JsonOpt, seconds_value, text_value
from postcli.errors import InvalidInput

DEFAULT_TIMEOUT = 300.0
MAX_TIMEOUT = 86400.0  # a day: a sign-in nobody finished by then will not be finished


def _timeout(value: float | None) -> float:
    if value is not None:
        return value
    env = os.environ.get("POSTCLI_LOGIN_TIMEOUT")
    if not env:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(env)
    except ValueError:
        raise InvalidInput(f"POSTCLI_LOGIN_TIMEOUT={env!r} is not a number of seconds.") from None
    if not 0 < seconds <= MAX_TIMEOUT:  # nan and inf too
        raise InvalidInput(
            f"POSTCLI_LOGIN_TIMEOUT={env!r} must be a number of seconds above 0, up to {MAX_TIMEOUT:,g}."
        )
    return seconds


def _say(text: str) -> None:
    # Plain writes, not Rich: a wrapped or styled URL cannot be copied.
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


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


def _choose_page(pages: list[tuple[str, str]]) -> str | None:
    """Ask which Page; a closed or empty answer leaves it to the adapter's error (which lists them)."""
    _say("You manage several Facebook Pages:")
    for n, (page_id, name) in enumerate(pages, 1):
        _say(f"  {n}. {_printable(name)} (id {_printable(page_id)})")
    _say("Post as which one? Type its number or id, then press Enter:")
    from postcli.cli._stdin import read_line

    answer = (read_line("the answer") or "").strip()
    if answer.isdigit() and 1 <= int(answer) <= len(pages):
        return pages[int(answer) - 1][0]
    return answer or None


def _open_browser(url: str) -> bool:
    import webbrowser

    try:
        return webbrowser.open(url)
    except Exception:  # noqa: BLE001 - no browser is fine: the URL is printed
        return False


def login(
    platform: str = typer.Argument(
        ..., metavar="PLATFORM", parser=text_value, help="bluesky, mastodon, threads, instagram, facebook or tumblr."
    ),
    instance: str = typer.Option(
        None,
        "--instance",
        metavar="URL",
        parser=text_value,
        help="Mastodon: your instance URL, e.g. https://mastodon.social",
    ),
    client_id: str = typer.Option(
        None,
        "--client-id",
        metavar="ID",
        parser=text_value,
        help="Your app's client id (else POSTCLI_<PLATFORM>_CLIENT_ID or [apps.PLATFORM]).",
    ),
    no_browser: bool = typer.Option(
        False, "--no-browser", help="Do not open a browser: print the address and paste the result back (SSH)."
    ),
    port: int = typer.Option(
        0, "--port", metavar="N", min=0, max=65535, help="Loopback port for the redirect (default: any free one)."
    ),
    scopes: str = typer.Option(
        None,
        "--scopes",
        metavar="SCOPES",
        parser=text_value,
        help="Scopes to ask for, comma or space separated (default: what postcli needs).",
    ),
    redirect_uri: str = typer.Option(
        None,
        "--redirect-uri",
        metavar="URL",
        parser=text_value,
        help="An https redirect URI registered in your app (Threads, Instagram); implies paste-back.",
    ),
    page: str = typer.Option(
        None, "--page", metavar="PAGE", parser=text_value, help="Facebook: the Page id or name to post as."
    ),
    blog: str = typer.Option(None, "--blog", metavar="BLOG", parser=text_value, help="Tumblr: the blog to post to."),
    handle: str = typer.Option(
        None, "--handle", metavar="HANDLE", parser=text_value, help="Bluesky: your handle (name.bsky.social) or DID."
    ),
    timeout: float = typer.Option(
        None,
        "--timeout",
        metavar="SECONDS",
        parser=seconds_value(1, MAX_TIMEOUT),
        help="Seconds to wait for the browser (default 300, or POSTCLI_LOGIN_TIMEOUT).",
    ),
    api_base: str = typer.Option(
        None,
        "--api-base",
        metavar="URL",
        parser=text_value,
        help="API base URL (for a proxy or a test server); Bluesky: the service that resolves the handle.",
    ),
    authorize_url: str = typer.Option(
        None,
        "--authorize-url",
        metavar="URL",
        parser=text_value,
        help="Consent page URL (for a proxy or a test server).",
    ),
    as_json: JsonOpt = False,
) -> None:
    """Sign in in the browser and connect the account (OAuth 2.0 with PKCE).

    postcli opens the platform's consent page and catches the redirect on
    http://127.0.0.1:<port>/callback. Mastodon needs only --instance, Bluesky
    only --handle (AT Protocol OAuth with DPoP); the other platforms need your
    own app (docs/signin.md). Exit 1 if the sign-in is declined, times out or comes back with a wrong state; nothing is stored then.
    """
    from postcli.cli.accounts_add import _print_connected
    from postcli.services.signin import FlowOptions, LoginRequest
    from postcli.services.signin import login as run_login

    platform = platform.strip().lower()
    for value, option, owner in (
        (instance, "--instance", "mastodon"),
        (page, "--page", "facebook"),
        (blog, "--blog", "tumblr"),
        (handle, "--handle", "bluesky"),
    ):
        if value is not None and platform != owner:
            raise InvalidInput(f"{option} is for {owner}, not {platform}.", hint=f"Leave {option} out.")
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
        timeout=_timeout(timeout),
        no_browser=no_browser,
        port=port,
        redirect_uri=redirect_uri,
        open_browser=_open_browser,
        announce=announce,
        read_pasted=_read_pasted,
    )
    req = LoginRequest(
        platform=platform,
        instance=instance,
        client_id=client_id,
        api_base=api_base,
        authorize_url=authorize_url,
        page=page,
        blog=blog,
        handle=handle,
        choose_page=_choose_page,
    )
    _print_connected(run_login(req, opts), as_json)
