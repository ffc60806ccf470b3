"""`postcli accounts ...`: connect and manage the accounts you publish to."""

from __future__ import annotations

import os
import sys
from typing import Any, Callable

import typer

from postcli.cli._options import ref_value, text_value
from postcli.errors import InvalidInput

app = typer.Typer(help="Connect, list and remove accounts; check their health and metrics.", no_args_is_help=True)
add_app = typer.Typer(
    help="Connect an account (Bluesky, Mastodon, Threads, Instagram, Facebook Page, Tumblr blog).",
    no_args_is_help=True,
)
app.add_typer(add_app, name="add")


def _register_login() -> None:
    from postcli.cli.login import login

    app.command("login")(login)


_register_login()

JSON_OPT = typer.Option(False, "--json", help="Print JSON (stable keys, see docs/json.md).")


def _read_secret(
    *, from_stdin: bool, env_var: str, prompt: str, login: Callable[[], None] | None = None
) -> str:
    """The secret from stdin, the environment or a hidden prompt. `login` (platforms with a
    browser sign-in): asked on a terminal before the prompt, and named in the hint without one."""
    if from_stdin:
        try:
            value = sys.stdin.readline().rstrip("\r\n")
        except UnicodeDecodeError:
            raise InvalidInput(f"the {prompt} on standard input is not valid UTF-8.") from None
        if not value:
            raise InvalidInput(
                f"no {prompt} was read from standard input.",
                hint=f"Pipe it in, e.g. `printenv MY_SECRET | {_stdin_command(env_var)}`, or set {env_var}"
                " instead.",
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
            instance=None, client_id=None, no_browser=False, port=0, scopes=None, redirect_uri=None,
            page=None, blog=None, handle=None, timeout=None, api_base=None, authorize_url=None,
        )
        args.update(options)
        login(platform=platform, as_json=as_json, **args)

    return run


def _stdin_command(env_var: str) -> str:
    """POSTCLI_BLUESKY_PASSWORD -> `postcli accounts add bluesky ... --password-stdin`."""
    platform = env_var.split("_")[1].lower()
    option = "--password-stdin" if env_var.endswith("PASSWORD") else "--token-stdin"
    return f"postcli accounts add {platform} ... {option}"


def _print_connected(result, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    from postcli import output
    from postcli.services.accounts import account_dict

    data = account_dict(result.account)
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
        "https://bsky.social", "--service", metavar="URL", parser=text_value,
        help="Your PDS URL (for self-hosted servers).",
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the app password from standard input."
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """Connect a Bluesky account with an app password (Settings -> App passwords).

    The password is read from a hidden prompt, --password-stdin, or
    POSTCLI_BLUESKY_PASSWORD. postcli logs in once and reuses the session.
    """
    from postcli.services.accounts import add_account

    secret = _read_secret(
        from_stdin=password_stdin, env_var="POSTCLI_BLUESKY_PASSWORD", prompt="Bluesky app password",
        # The sign-in resolves the handle on --service (a PDS resolves its own accounts' handles).
        login=_browser_login("bluesky", as_json, handle=handle.lstrip("@"), api_base=service),
    )
    _print_connected(add_account("bluesky", identifier=handle.lstrip("@"), secret=secret, base_url=service), as_json)


@add_app.command("mastodon")
def add_mastodon(
    instance: str = typer.Option(
        ..., "--instance", metavar="URL", parser=text_value, help="Your instance URL, e.g. https://mastodon.social"
    ),
    token_stdin: bool = typer.Option(False, "--token-stdin", help="Read the access token from standard input."),
    as_json: bool = JSON_OPT,
) -> None:
    """Connect a Mastodon account with an access token.

    Create one in Preferences -> Development -> New application (scopes: read, write).
    The token is read from a hidden prompt, --token-stdin, or POSTCLI_MASTODON_TOKEN.
    """
    from postcli.services.accounts import add_account

    secret = _read_secret(
        from_stdin=token_stdin, env_var="POSTCLI_MASTODON_TOKEN", prompt="Mastodon access token",
        login=_browser_login("mastodon", as_json, instance=instance),
    )
    _print_connected(add_account("mastodon", identifier=None, secret=secret, base_url=instance), as_json)


def _optional_env(name: str) -> str | None:
    return os.environ.get(name) or None


API_BASE_HELP = "API base URL (default: the platform's public one; set it for a proxy or a test server)."
GRAPH_VERSION_HELP = ("Meta Graph API version for this account, e.g. v27.0 (default: [graph] version in "
                      "config.toml, else postcli's current default).")


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
    token_stdin: bool = typer.Option(False, "--token-stdin", help="Read the access token from standard input."),
    api_base: str = typer.Option(None, "--api-base", metavar="URL", parser=text_value, help=API_BASE_HELP),
    as_json: bool = JSON_OPT,
) -> None:
    """Connect a Threads profile with a long-lived access token.

    The token (scopes threads_basic, threads_content_publish,
    threads_manage_insights, and threads_delete for `post delete --remote`) is read from a hidden prompt, --token-stdin, or
    POSTCLI_THREADS_TOKEN. A short-lived token is exchanged for a long-lived one
    when POSTCLI_THREADS_APP_SECRET is set. postcli refreshes the token before
    it expires (`postcli accounts health`).
    """
    from postcli.services.accounts import add_account

    secret = _read_secret(
        from_stdin=token_stdin, env_var="POSTCLI_THREADS_TOKEN", prompt="Threads access token",
        login=_browser_login("threads", as_json, api_base=api_base),
    )
    app_secret = _optional_env("POSTCLI_THREADS_APP_SECRET")
    result = add_account(
        "threads",
        identifier=None,
        secret=secret,
        base_url=api_base,
        extra_secrets={"app_secret": app_secret} if app_secret else None,
    )
    _print_connected(result, as_json)


@add_app.command("instagram")
def add_instagram(
    token_stdin: bool = typer.Option(False, "--token-stdin", help="Read the access token from standard input."),
    api_base: str = typer.Option(None, "--api-base", metavar="URL", parser=text_value, help=API_BASE_HELP),
    graph_version: str = typer.Option(None, "--graph-version", metavar="VERSION", parser=text_value, help=GRAPH_VERSION_HELP),
    as_json: bool = JSON_OPT,
) -> None:
    """Connect an Instagram professional account (Instagram Login) with a long-lived token.

    The token (scopes instagram_business_basic, instagram_business_content_publish,
    instagram_business_manage_insights) is read from a hidden prompt,
    --token-stdin, or POSTCLI_INSTAGRAM_TOKEN. A short-lived token is exchanged
    for a long-lived one when POSTCLI_INSTAGRAM_APP_SECRET is set. Publishing
    media needs the S3 media store: Instagram fetches images and videos from a public URL.
    """
    from postcli.services.accounts import add_account

    extra_settings = _graph_settings(graph_version)
    secret = _read_secret(
        from_stdin=token_stdin, env_var="POSTCLI_INSTAGRAM_TOKEN", prompt="Instagram access token",
        login=_browser_login("instagram", as_json, api_base=api_base),
    )
    app_secret = _optional_env("POSTCLI_INSTAGRAM_APP_SECRET")
    result = add_account(
        "instagram",
        identifier=None,
        secret=secret,
        base_url=api_base,
        extra_secrets={"app_secret": app_secret} if app_secret else None,
        extra_settings=extra_settings or None,
    )
    _print_connected(result, as_json)


@add_app.command("facebook")
def add_facebook(
    page: str = typer.Option(
        None, "--page", metavar="PAGE", parser=text_value,
        help="The Page id (or name) to post as, when the token manages several.",
    ),
    token_stdin: bool = typer.Option(False, "--token-stdin", help="Read the access token from standard input."),
    app_id: str = typer.Option(
        None, "--app-id", metavar="ID", parser=text_value, help="Your Meta app id (to exchange a short-lived user token)."
    ),
    api_base: str = typer.Option(None, "--api-base", metavar="URL", parser=text_value, help=API_BASE_HELP),
    graph_version: str = typer.Option(None, "--graph-version", metavar="VERSION", parser=text_value, help=GRAPH_VERSION_HELP),
    as_json: bool = JSON_OPT,
) -> None:
    """Connect a Facebook Page with a Page access token or a user token that manages it.

    The token (pages_manage_posts, pages_read_engagement, read_insights) is read
    from a hidden prompt, --token-stdin, or POSTCLI_FACEBOOK_TOKEN. With a user
    token postcli finds the Page (--page picks one) and keeps its Page token.
    POSTCLI_FACEBOOK_APP_SECRET (with --app-id) lets it exchange a short-lived token.
    """
    from postcli.services.accounts import add_account

    extra_settings = {**({"app_id": app_id} if app_id else {}), **_graph_settings(graph_version)}
    secret = _read_secret(
        from_stdin=token_stdin, env_var="POSTCLI_FACEBOOK_TOKEN", prompt="Facebook access token",
        login=_browser_login("facebook", as_json, api_base=api_base, page=page),
    )
    app_secret = _optional_env("POSTCLI_FACEBOOK_APP_SECRET")
    result = add_account(
        "facebook",
        identifier=page,
        secret=secret,
        base_url=api_base,
        extra_secrets={"app_secret": app_secret} if app_secret else None,
        extra_settings=extra_settings or None,
    )
    _print_connected(result, as_json)


@add_app.command("tumblr")
def add_tumblr(
    blog: str = typer.Option(
        ..., "--blog", metavar="BLOG", parser=text_value, help="The blog to post to, e.g. myblog (or myblog.tumblr.com)."
    ),
    client_id: str = typer.Option(
        None, "--client-id", metavar="ID", parser=text_value,
        help="Your Tumblr app's OAuth2 client id (to refresh tokens).",
    ),
    token_stdin: bool = typer.Option(False, "--token-stdin", help="Read the access token from standard input."),
    api_base: str = typer.Option(None, "--api-base", metavar="URL", parser=text_value, help=API_BASE_HELP),
    as_json: bool = JSON_OPT,
) -> None:
    """Connect a Tumblr blog with OAuth2 tokens.

    The access token is read from a hidden prompt, --token-stdin, or
    POSTCLI_TUMBLR_TOKEN. To refresh it when it expires, postcli needs the
    refresh token (scope offline_access) in POSTCLI_TUMBLR_REFRESH_TOKEN, the
    app's secret in POSTCLI_TUMBLR_CLIENT_SECRET and --client-id.
    """
    from postcli.services.accounts import add_account

    secret = _read_secret(
        from_stdin=token_stdin, env_var="POSTCLI_TUMBLR_TOKEN", prompt="Tumblr access token",
        login=_browser_login("tumblr", as_json, api_base=api_base, blog=blog, client_id=client_id),
    )
    extra = {
        k: v
        for k, v in {
            "refresh_token": _optional_env("POSTCLI_TUMBLR_REFRESH_TOKEN"),
            "client_secret": _optional_env("POSTCLI_TUMBLR_CLIENT_SECRET"),
        }.items()
        if v
    }
    result = add_account(
        "tumblr",
        identifier=blog,
        secret=secret,
        base_url=api_base,
        extra_secrets=extra or None,
        extra_settings={"client_id": client_id} if client_id else None,
    )
    _print_connected(result, as_json)


@add_app.command("sandbox", hidden=True)
def add_sandbox(
    handle: str = typer.Option(
        "me.sandbox", "--handle", metavar="HANDLE", parser=text_value, help="A name for the simulated account."
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """Connect a SIMULATED sandbox account (no network; used by `postcli demo`)."""
    from postcli.services.accounts import add_account

    _print_connected(add_account("sandbox", identifier=handle, secret="sandbox", base_url=None), as_json)


@app.command("list")
def list_(
    all_: bool = typer.Option(False, "--all", help="Include removed accounts."),
    as_json: bool = JSON_OPT,
) -> None:
    """List connected accounts."""
    from postcli import output
    from postcli.services.accounts import account_dict, list_accounts
    from postcli.store.session import session_scope

    with session_scope(readonly=True) as session:
        rows = [account_dict(a) for a in list_accounts(session, include_removed=all_)]
    if as_json:
        output.print_json(rows)
        return
    if not rows:
        output.line("No accounts yet. Connect one with `postcli accounts add bluesky --handle ...`.")
        return
    output.table(
        ["id", "platform", "handle", "status", "server", "connected"],
        [
            [
                str(r["id"]),
                r["platform"],
                r["handle"],
                ("needs reconnecting" if r["needs_reconnect"] else r["status"]) + (" (removed)" if r["removed_at"] else ""),
                r["api_base_url"],
                output.fmt_time(r["created_at"]),
            ]
            for r in rows
        ],
    )


@app.command("show")
def show(
    account: str = typer.Argument(..., metavar="ACCOUNT", parser=ref_value, help="Account id or handle."),
    as_json: bool = JSON_OPT,
) -> None:
    """Show one account."""
    from postcli import output
    from postcli.services.accounts import account_dict, get_account, reconnect_hint
    from postcli.store.session import session_scope

    with session_scope(readonly=True) as session:
        acc = get_account(session, account, include_removed=True)
        data = account_dict(acc)
        hint = reconnect_hint(acc) if acc.status == "token_expired" else None
    if as_json:
        output.print_json(data)
        return
    output.kv([(k, output.fmt(v) if not hasattr(v, "astimezone") else output.fmt_time(v)) for k, v in data.items()])
    if hint:
        output.warn(f"this account needs reconnecting. {hint}")


@app.command("remove")
def remove(
    account: str = typer.Argument(..., metavar="ACCOUNT", parser=ref_value, help="Account id or handle."),
    purge: bool = typer.Option(False, "--purge", help="Also delete its posts' targets and metric history."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation (with --purge)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Disconnect an account and forget its credentials. History is kept unless --purge."""
    from postcli import output
    from postcli.services.accounts import account_dict, posts_addressing, remove_account

    if purge and not yes:
        if not sys.stdin.isatty():
            raise InvalidInput("--purge deletes history; confirm with --yes.")
        typer.confirm("Delete this account and all its history?", abort=True)
    waiting = posts_addressing(account)
    acc = remove_account(account, purge=purge)
    if as_json:
        output.print_json({**account_dict(acc), "purged": purge, "unpublished_posts": waiting})
        return
    output.line(f"Removed {acc.platform} account {acc.handle} (id {acc.id})" + (" and its history." if purge else "; its history is kept."))
    if waiting:
        listed = ", ".join(f"{p['id']} ({p['status']})" for p in waiting)
        effect = ("lost their target on it" if purge else
                  "still address it; publishing refuses it with an \"account removed\" error")
        output.warn(
            f"{len(waiting)} unpublished post(s) {effect}: {listed}. "
            "Check their targets with `postcli post show ID`; change them with `postcli post edit ID --to ...`."
        )


@app.command("metrics")
def metrics_(
    account: str = typer.Argument(..., metavar="ACCOUNT", parser=ref_value, help="Account id or handle."),
    since: str = typer.Option(
        None, "--since", metavar="DATE", parser=text_value,
        help="List the stored series from this date (e.g. 2026-11-01).",
    ),
    until: str = typer.Option(
        None, "--until", metavar="DATE", parser=text_value, help="...until this date (exclusive)."
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """Followers, following and post count: live (stored as a snapshot), else the latest snapshot.

    With --since/--until, lists the stored snapshots instead.
    """
    from postcli import output, settings
    from postcli.cli._options import check_range
    from postcli.services import account_health
    from postcli.timeparse import parse_when

    if since or until:
        from datetime import datetime, timezone

        tz = settings.config().timezone
        start = parse_when(since, tz) if since else None
        end = parse_when(until, tz) if until else None
        if start is not None:
            check_range(start, end or datetime.now(timezone.utc), capped=False)
        data = account_health.account_metrics_series(account, start, end)
        if as_json:
            output.print_json(data)
            return
        if not data["data"]:
            output.line("No snapshots in that range. `postcli collect` stores them.")
            return
        output.table(
            ["captured", "followers", "following", "posts"],
            [[output.fmt_time(r["captured_at"], tz), r["followers"], r["following"], r["posts_count"]] for r in data["data"]],
            numeric=("followers", "following", "posts"),
            title=f"{data['platform']} {data['handle']}",
        )
        return
    result = account_health.account_metrics(account)
    data = result.data
    if data.get("warning"):
        output.warn(data["warning"])
    if as_json:
        output.print_json(data)
    elif data.get("metrics", True) is None:
        output.line(data["message"] + " Run `postcli collect`.")
    else:
        output.kv(
            [(k, data[k]) for k in ("followers", "following", "posts_count", "impressions", "reach", "profile_views")]
            + [("source", data["source"]), ("captured", output.fmt_time(data["captured_at"]))],
            title=f"{data['platform']} {data['handle']}",
        )
    raise typer.Exit(result.exit_code)


@app.command("health")
def health(
    account: str = typer.Argument(
        None, metavar="ACCOUNT", parser=ref_value, help="Account id or handle (default: all)."
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """Probe each account live (refreshing tokens near expiry). Exit 6 if any needs reconnecting."""
    from postcli import output
    from postcli.services.account_health import health as run
    from postcli.services.exit_codes import for_reconnect

    rows = run(account)
    if as_json:
        output.print_json(rows)
    elif not rows:
        output.line("No accounts yet.")
    else:
        output.table(
            ["id", "platform", "handle", "healthy", "status", "error", "token expires", "checked"],
            [
                [str(r["id"]), r["platform"], r["handle"], "yes" if r["healthy"] else "NO", r["status"],
                 r["error_code"] or "", output.fmt_time(r["token_expires_at"]), output.fmt_time(r["checked_at"])]
                for r in rows
            ],
        )
        for r in rows:
            if r["reconnect"]:
                output.warn(f"{r['platform']} {r['handle']}: {r['reconnect']}")
    raise typer.Exit(for_reconnect(any(r["status"] == "token_expired" for r in rows)))
