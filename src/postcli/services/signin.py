"""`postcli accounts login PLATFORM`: sign in in the browser, then store the account the way
`accounts add` does.

What differs between platforms is their spec's `SignIn` (endpoints, scopes, client
authentication, redirect rules) and their `SignInHooks` (platforms/<name>/signin.py: Mastodon's
app registration, the AT Protocol flow, Facebook's Page choice). This module runs the shared
steps and hands the hooks a `SignInContext`, so no platform imports signin/ or services/.

Tokens and client secrets only ever reach the credentials store.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Callable

from postcli import credentials, settings, urlcheck
from postcli.errors import InvalidInput
from postcli.platforms import registry
from postcli.platforms.spec import AppCredentials, Connection, Endpoints, PlatformSpec, Redirect, SignInContext
from postcli.secrets_redact import register_secret
from postcli.services.accounts import Connected, add_account, normalize_base_url
from postcli.services.accounts import app_setting as accounts_app_setting
from postcli.signin import flow

# The CLI builds the flow's options through this module: it does not import signin (docs/design.md, "Layers").
FlowOptions = flow.FlowOptions

Chooser = Callable[[str, list[tuple[str, str]]], "str | None"]


@dataclass
class LoginRequest:
    platform: str
    # The platform's identity options by name (instance, handle, service, page, blog, config_id...).
    options: dict[str, str | None] = field(default_factory=dict)
    client_id: str | None = None
    api_base: str | None = None
    authorize_url: str | None = None
    # Asks the user to pick one of [(id, label)] (a Facebook Page); None without a terminal.
    choose: Chooser | None = None
    # --insecure-http: a plain-http server, --api-base or --authorize-url off this machine is allowed.
    insecure_http: bool = False


def app_credentials(spec: PlatformSpec, client_id: str | None) -> AppCredentials | None:
    """--client-id, else POSTCLI_<PLATFORM>_CLIENT_ID/_CLIENT_SECRET, else config [apps.PLATFORM]."""
    prefix = spec.env_prefix
    env_id, env_secret = os.environ.get(prefix + "CLIENT_ID"), os.environ.get(prefix + "CLIENT_SECRET")
    conf = settings.app_config(spec.name)
    if client_id:
        secret = env_secret or conf.get("client_secret")
        return AppCredentials(
            client_id,
            secret,
            source="--client-id with "
            + (f"{prefix}CLIENT_SECRET" if env_secret else f"[apps.{spec.name}] client_secret"),
        )
    if env_id:
        return AppCredentials(
            env_id, env_secret or conf.get("client_secret"), source=f"{prefix}CLIENT_ID / {prefix}CLIENT_SECRET"
        )
    if conf.get("client_id"):
        return AppCredentials(
            conf["client_id"], env_secret or conf.get("client_secret"), source=f"the config file's [apps.{spec.name}]"
        )
    return None


def app_setting(spec: PlatformSpec, key: str) -> str | None:
    """A setting of the user's app: POSTCLI_<PLATFORM>_<KEY>, else [apps.PLATFORM] key."""
    return accounts_app_setting(spec.name, key)


def _need_app(spec: PlatformSpec) -> None:
    prefix = spec.env_prefix
    assert spec.signin is not None
    wanted = f"{prefix}CLIENT_ID" + ("" if spec.signin.secret_optional else f" and {prefix}CLIENT_SECRET")
    raise InvalidInput(
        f"signing in to {spec.name} needs your own app's client id"
        + ("" if spec.signin.secret_optional else " and secret")
        + ".",
        hint=f"Create the app at {spec.signin.console} (steps: docs/signin.md), then set {wanted} "
        f"(or [apps.{spec.name}] in the config file).",
    )


def _graph_version() -> str:
    from postcli.platforms.graph_version import DEFAULT_GRAPH_VERSION

    return settings.config().graph_version or DEFAULT_GRAPH_VERSION


def _context(spec: PlatformSpec, req: LoginRequest, opts: flow.FlowOptions) -> SignInContext:
    assert spec.signin is not None

    def redirect(port: int) -> AbstractContextManager[Redirect]:
        return flow.open_redirect(opts, opts.port or port)

    return SignInContext(
        platform=spec.name,
        options=dict(req.options),
        api_base=req.api_base,
        authorize_url=req.authorize_url,
        scopes=opts.scopes or spec.signin.scopes,
        timeout=settings.timeout(),
        graph_version=_graph_version(),
        redirect=redirect,
        choose=req.choose or (lambda _title, _items: None),
        load_app=credentials.load_app,
        save_app=credentials.save_app,
        forget_app=lambda key: credentials.save_app(key, {}),
        app_setting=lambda key: app_setting(spec, key),
        register_secret=register_secret,
    )


def _required(spec: PlatformSpec, req: LoginRequest) -> None:
    for opt in spec.options:
        if opt.login == "required" and not req.options.get(opt.name):
            what = opt.name.replace("_", " ")
            raise InvalidInput(
                f"signing in to {spec.display_name} needs your {what} ({opt.flag} {opt.metavar}).",
                hint=f"Add {opt.flag} {opt.metavar}: {opt.help}",
            )


def _check_urls(spec: PlatformSpec, req: LoginRequest) -> None:
    """Every URL the user gave, through the one URL check (urlcheck), before anything is sent."""
    for opt in spec.options:
        value = req.options.get(opt.name)
        if opt.role == "base_url" and value:
            req.options[opt.name] = normalize_base_url(
                spec.name, value, insecure_http=req.insecure_http, option=opt.flag
            )
    if req.api_base:
        req.api_base = normalize_base_url(spec.name, req.api_base, insecure_http=req.insecure_http, option="--api-base")
    if req.authorize_url:
        req.authorize_url = urlcheck.endpoint_url(
            req.authorize_url, what="--authorize-url", insecure_http=req.insecure_http
        )


def login(req: LoginRequest, opts: flow.FlowOptions) -> Connected:
    spec = registry.spec(req.platform)
    _check_urls(spec, req)
    if spec.signin is None:
        able = [s.name for s in registry.specs() if s.signin is not None]
        raise InvalidInput(
            f"browser sign-in is not available for {spec.name!r}.",
            hint=f"Connect it with `postcli accounts add {spec.name}`. Browser sign-in works for: {', '.join(able)}.",
        )
    signin = spec.signin
    _required(spec, req)
    hooks = registry.signin_hooks(spec.name)
    ctx = _context(spec, req, opts)
    hooks.before(ctx)
    own = hooks.sign_in(ctx)
    if own is not None:
        return _connect(spec, req, own)
    if signin.redirect == "https" and not opts.redirect_uri:
        raise InvalidInput(
            f"{spec.name} accepts only https redirect URIs registered in your app, not the loopback one.",
            hint="Register e.g. https://localhost/callback in the app and pass it with --redirect-uri; "
            "postcli then asks you to paste back the address the browser ends on (docs/signin.md).",
        )
    raw_base = hooks.base_url(ctx)
    base = normalize_base_url(spec.name, raw_base, insecure_http=req.insecure_http) if raw_base else None
    app = app_credentials(spec, req.client_id)
    registered = False
    if app is None and not signin.needs_app:
        app = hooks.register_app(ctx, base)
        registered = app is not None
    if app is None or (not app.client_secret and not signin.secret_optional and not registered):
        _need_app(spec)
    assert app is not None
    hosts = {
        "dialog": spec.host("dialog"),
        "api": spec.host("api", req.api_base),
        "oauth": spec.host("oauth", req.api_base),
        "instance": base or "",
        "graph_version": ctx.graph_version,
    }
    endpoints = Endpoints(
        authorize_url=req.authorize_url or signin.authorize_url.format(**hosts),
        token_url=signin.token_url.format(**hosts),
    )
    scopes = hooks.scopes(ctx, app)
    try:
        token = flow.run(
            signin,
            app,
            endpoints,
            opts,
            scopes=scopes,
            port=opts.port or signin.default_port,
            extra_params=hooks.authorize_params(ctx, app),
            headers=hooks.headers(ctx, app),
        )
    except InvalidInput:
        if registered:
            hooks.registration_failed(ctx, base)
        raise
    except flow.Refused as exc:
        exc.hint = hooks.refused(ctx, scopes, exc.error, exc.description) or exc.hint
        raise
    return _connect(spec, req, hooks.finish(ctx, app, token, base))


def _connect(spec: PlatformSpec, req: LoginRequest, conn: Connection) -> Connected:
    # The base URL the sign-in ended with (a Bluesky PDS named by the DID document) is checked
    # like one typed in, before the account is stored.
    return add_account(
        spec.name,
        identifier=conn.identifier,
        secret=conn.secret,
        base_url=conn.base_url,
        extra_secrets=conn.extra_secrets or None,
        extra_settings=conn.extra_settings or None,
        insecure_http=req.insecure_http,
    )


def signin_platforms() -> list[str]:
    return [s.name for s in registry.specs() if s.signin is not None]
