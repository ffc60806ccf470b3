"""`postcli accounts login`: sign in in the browser, then store the account the way
`accounts add` does (the adapter's connect runs the platform's post-exchange steps:
Threads' and Instagram's long-lived token exchange, Facebook's Page lookup,
Tumblr's refresh check).

Tokens and client secrets only ever reach the credentials store.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

from postcli import settings, urlcheck
from postcli.errors import InvalidInput
from postcli.services.accounts import Connected, add_account, normalize_base_url
from postcli.signin import flow
from postcli.signin.profiles import Profile, profile

# The CLI builds the flow's options through this module: it does not import signin (docs/design.md, "Layers").
FlowOptions = flow.FlowOptions


@dataclass
class LoginRequest:
    platform: str
    instance: str | None = None
    client_id: str | None = None
    api_base: str | None = None
    authorize_url: str | None = None
    page: str | None = None
    blog: str | None = None
    handle: str | None = None  # Bluesky
    # --insecure-http: a plain-http --instance/--api-base/--authorize-url off this machine is allowed.
    insecure_http: bool = False
    # Facebook: picks a Page from [(id, name)] when several are managed and --page is absent.
    choose_page: Callable[[list[tuple[str, str]]], str | None] | None = None


def app_credentials(platform: str, client_id: str | None) -> flow.AppCredentials | None:
    """--client-id, else POSTCLI_<PLATFORM>_CLIENT_ID/_CLIENT_SECRET, else config [apps.PLATFORM]."""
    prefix = f"POSTCLI_{platform.upper()}_"
    env_id, env_secret = os.environ.get(prefix + "CLIENT_ID"), os.environ.get(prefix + "CLIENT_SECRET")
    conf = settings.app_config(platform)
    if client_id:
        secret = env_secret or conf.get("client_secret")
        return flow.AppCredentials(
            client_id,
            secret,
            source="--client-id with "
            + (f"{prefix}CLIENT_SECRET" if env_secret else f"[apps.{platform}] client_secret"),
        )
    if env_id:
        return flow.AppCredentials(
            env_id, env_secret or conf.get("client_secret"), source=f"{prefix}CLIENT_ID / {prefix}CLIENT_SECRET"
        )
    if conf.get("client_id"):
        return flow.AppCredentials(
            conf["client_id"], env_secret or conf.get("client_secret"), source=f"the config file's [apps.{platform}]"
        )
    return None


def _need_app(p: Profile) -> None:
    prefix = f"POSTCLI_{p.platform.upper()}_"
    raise InvalidInput(
        f"signing in to {p.platform} needs your own app's client id and secret.",
        hint=f"Create the app at {p.console} (steps: docs/signin.md), then set {prefix}CLIENT_ID and "
        f"{prefix}CLIENT_SECRET (or [apps.{p.platform}] in the config file).",
    )


def _check_urls(req: LoginRequest) -> None:
    """Every URL the user gave, through the one URL check, before anything is sent."""
    if req.instance:
        req.instance = normalize_base_url("mastodon", req.instance, insecure_http=req.insecure_http)
    if req.api_base:
        req.api_base = normalize_base_url(
            req.platform, req.api_base, insecure_http=req.insecure_http, option="--api-base"
        )
    if req.authorize_url:
        req.authorize_url = urlcheck.endpoint_url(
            req.authorize_url, what="--authorize-url", insecure_http=req.insecure_http
        )


def login(req: LoginRequest, opts: flow.FlowOptions) -> Connected:
    _check_urls(req)
    if req.platform == "bluesky":
        return _login_bluesky(req, opts)
    p = profile(req.platform)
    opts.scopes = opts.scopes or p.scopes
    opts.port = opts.port or p.default_port
    if p.https_redirect_only and not opts.redirect_uri:
        raise InvalidInput(
            f"{p.platform} accepts only https redirect URIs registered in your app, not the loopback one.",
            hint="Register e.g. https://localhost/callback in the app and pass it with --redirect-uri; "
            "postcli then asks you to paste back the address the browser ends on (docs/signin.md).",
        )
    if p.platform == "tumblr" and not req.blog:  # asked before the consent page, not after
        raise InvalidInput("Tumblr sign-in needs the blog to post to.", hint="Add --blog myblog")
    if p.registers_app:
        return _login_mastodon(req, p, opts)
    app = app_credentials(p.platform, req.client_id)
    if app is None or not app.client_secret:
        _need_app(p)
    assert app is not None
    api = (req.api_base or p.default_api).rstrip("/")
    endpoints = flow.Endpoints(
        authorize_url=req.authorize_url or p.authorize_url.format(dialog=p.default_dialog),
        token_url=p.token_url.format(api=api),
    )
    token = flow.run(p, app, endpoints, opts)
    return _FINISH[p.finish](req, app, token)


def _login_mastodon(req: LoginRequest, p: Profile, opts: flow.FlowOptions) -> Connected:
    from postcli.signin import mastodon_app

    if not req.instance:
        raise InvalidInput("signing in to Mastodon needs your instance.", hint="Add --instance https://your.instance")
    base = normalize_base_url("mastodon", req.instance, insecure_http=req.insecure_http)
    app = app_credentials("mastodon", req.client_id)
    registered = app is None
    if app is None:
        app = mastodon_app.app_for(base, opts.scopes, timeout=settings.timeout())
    endpoints = flow.Endpoints(
        authorize_url=req.authorize_url or p.authorize_url.format(instance=base),
        token_url=p.token_url.format(instance=base),
    )
    try:
        token = flow.run(p, app, endpoints, opts)
    except InvalidInput:
        if registered:  # the instance forgot our app (or the admin removed it): register anew next time
            mastodon_app.forget(base)
        raise
    return add_account(
        "mastodon", identifier=None, secret=token["access_token"], base_url=base, insecure_http=req.insecure_http
    )


def _login_bluesky(req: LoginRequest, opts: flow.FlowOptions) -> Connected:
    """AT Protocol OAuth (signin/atproto_oauth.py); the account's base URL is the handle's PDS."""
    from postcli.signin import atproto_oauth

    if not req.handle:
        raise InvalidInput("signing in to Bluesky needs your handle.", hint="Add --handle name.bsky.social")
    service = normalize_base_url(
        "bluesky", req.api_base or atproto_oauth.DEFAULT_SERVICE, insecure_http=req.insecure_http, option="--api-base"
    )
    stored = atproto_oauth.sign_in(req.handle, service, opts, timeout=settings.timeout())
    # The account's base is the PDS the handle's DID document names, checked like one typed in.
    pds = normalize_base_url(
        "bluesky", stored.pop("pds"), insecure_http=req.insecure_http, option="the PDS of your DID document"
    )
    return add_account(
        "bluesky",
        identifier=stored["handle"],
        secret=stored["access_token"],
        base_url=pds,
        extra_secrets=stored,
        insecure_http=req.insecure_http,
    )


def _user_token(platform: str) -> Callable[[LoginRequest, flow.AppCredentials, dict[str, Any]], Connected]:
    """Threads and Instagram: the adapter trades the dialog's 1-hour token for a 60-day one
    (th_exchange_token / ig_exchange_token) with the app secret kept beside it."""

    def finish(req: LoginRequest, app: flow.AppCredentials, token: dict[str, Any]) -> Connected:
        return add_account(
            platform,
            identifier=None,
            secret=token["access_token"],
            base_url=req.api_base,
            insecure_http=req.insecure_http,
            extra_secrets={"app_secret": app.client_secret},
        )

    return finish


def _facebook(req: LoginRequest, app: flow.AppCredentials, token: dict[str, Any]) -> Connected:
    from postcli.signin.facebook_pages import choose_page

    page = req.page or choose_page(
        (req.api_base or profile("facebook").default_api).rstrip("/"),
        token["access_token"],
        req.choose_page,
        timeout=settings.timeout(),
    )
    # A user token: the adapter makes it long-lived with the app id/secret and keeps the Page's token.
    return add_account(
        "facebook",
        identifier=page,
        secret=token["access_token"],
        base_url=req.api_base,
        insecure_http=req.insecure_http,
        extra_secrets={"app_secret": app.client_secret},
        extra_settings={"app_id": app.client_id},
    )


def _tumblr(req: LoginRequest, app: flow.AppCredentials, token: dict[str, Any]) -> Connected:
    extra = {"client_secret": app.client_secret}
    if token.get("refresh_token"):
        extra["refresh_token"] = token["refresh_token"]
    return add_account(
        "tumblr",
        identifier=req.blog,
        secret=token["access_token"],
        base_url=req.api_base,
        insecure_http=req.insecure_http,
        extra_secrets=extra,
        extra_settings={"client_id": app.client_id},
    )


_FINISH = {
    "threads": _user_token("threads"),
    "instagram": _user_token("instagram"),
    "facebook": _facebook,
    "tumblr": _tumblr,
}
