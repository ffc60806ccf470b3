"""The authorization code flow, once for every platform: state, PKCE (S256), the
consent page, the redirect (loopback or pasted back) and the code exchange.

authlib's httpx OAuth2Client builds the URL (code_challenge from the verifier,
method S256) and makes the token request with the profile's client
authentication; this module adds what a CLI needs around it, and the two
variations a platform may declare in its SignIn: the challenge as a hex digest
and the client id under another parameter name (TikTok's Login Kit for desktop).
"""

from __future__ import annotations

import hashlib
import secrets as pysecrets
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator
from urllib.parse import parse_qs, parse_qsl, quote, urlencode, urlsplit, urlunsplit

from postcli.errors import InvalidInput, PlatformUnavailable, PostcliError, SignInFailed
from postcli.platforms.spec import AppCredentials, Endpoints, Redirect, SignIn
from postcli.platforms.values import printable as _printable
from postcli.secrets_redact import register_secret

if TYPE_CHECKING:  # pragma: no cover
    from postcli.signin.loopback import LoopbackListener


@dataclass
class FlowOptions:
    scopes: tuple[str, ...]
    timeout: float
    no_browser: bool = False
    port: int = 0
    # A registered https redirect (Meta products that refuse http): implies paste-back.
    redirect_uri: str | None = None
    open_browser: Callable[[str], bool] = lambda url: False
    announce: Callable[[str], None] = lambda text: None
    read_pasted: Callable[[], str] = lambda: ""


def _import_oauth_client() -> Any:
    import warnings

    import authlib.deprecate  # noqa: F401 - installs its "always" filter first, so ours wins below

    # authlib 1.7+ prefers the httpx2 fork and warns (on stderr, always) when it falls back
    # to httpx, which postcli uses everywhere; the httpx client works the same.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The httpx module is deprecated")
        from authlib.integrations.httpx_client import OAuth2Client
    return OAuth2Client


def _oauth_client(
    signin: SignIn,
    app: AppCredentials,
    redirect_uri: str,
    scopes: tuple[str, ...],
    timeout: float,
    headers: dict[str, str] | None = None,
) -> Any:
    from postcli.platforms.tls import context

    OAuth2Client = _import_oauth_client()  # noqa: N806 - a class

    # A public client (no secret) authenticates as its platform says: client_id in the form, or
    # HTTP Basic with an empty password (authlib would write the missing secret as "None").
    auth: Any = signin.client_auth if app.client_secret else signin.public_client_auth
    if signin.client_id_param != "client_id":
        auth = _client_id_named(signin.client_id_param)
    return OAuth2Client(
        client_id=app.client_id,
        client_secret=app.client_secret or "",
        token_endpoint_auth_method=auth,
        # An empty scope is left out of the URL (Facebook Login for Business' config_id).
        scope=signin.scope_separator.join(scopes),
        redirect_uri=redirect_uri,
        # authlib writes the base64url challenge; a hex one is added by authorization_url().
        code_challenge_method="S256" if signin.pkce and signin.pkce_challenge == "base64url" else None,
        timeout=timeout,
        verify=context(),
        **({"headers": headers} if headers else {}),
    )


class Refused(SignInFailed):
    """The consent page sent the browser back with an error (other than a declined consent):
    what it said, so the platform's sign-in steps can add a hint (SignInHooks.refused)."""

    def __init__(self, message: str, *, error: str, description: str) -> None:
        super().__init__(message)
        self.error = error
        self.description = description


def _client_id_named(param: str) -> Callable[..., tuple[Any, Any, Any]]:
    """authlib's client_secret_post with the client id sent as `param` (TikTok's client_key)."""

    def encode(client: Any, method: str, uri: Any, headers: Any, body: Any) -> tuple[Any, Any, Any]:
        from authlib.common.urls import add_params_to_qs

        params = [(param, client.client_id)]
        if client.client_secret:
            params.append(("client_secret", client.client_secret))
        body = add_params_to_qs(body or "", params)
        if "Content-Length" in headers:
            headers["Content-Length"] = str(len(body))
        return uri, headers, body

    return encode


def authorization_url(
    client: Any, signin: SignIn, url: str, state: str, verifier: str | None, extra: dict[str, str]
) -> str:
    """The consent page's address: authlib's, with the platform's own PKCE encoding and
    client-id parameter name where it has them."""
    params = dict(extra)
    if verifier and signin.pkce_challenge == "hex":
        params["code_challenge"] = hashlib.sha256(verifier.encode("ascii")).hexdigest()
        params["code_challenge_method"] = "S256"
    address, _ = client.create_authorization_url(url, state=state, code_verifier=verifier, **params)
    if signin.client_id_param == "client_id":
        return str(address)
    parts = urlsplit(address)
    query = [(signin.client_id_param if k == "client_id" else k, v) for k, v in parse_qsl(parts.query, True)]
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


def parse_redirect(text: str, expected_state: str) -> str:
    """The code from a redirect's query (a URL, a query string, or a bare code pasted back).

    `error=` and a state that is not ours end the sign-in; nothing is exchanged.
    """
    text = text.strip()
    if not text:
        raise SignInFailed("nothing was pasted.", hint="Paste the whole address your browser ended on.")
    if "=" not in text:
        return text  # a bare code: there is no state to compare
    query = urlsplit(text).query if "://" in text else text.lstrip("?")
    params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
    return code_from_params(params, expected_state)


def code_from_params(params: dict[str, str], expected_state: str) -> str:
    if params.get("error"):
        if params.get("state") not in (None, expected_state):
            raise SignInFailed(
                "the redirect's state does not match this sign-in; nothing was stored.",
                hint="Start again with `postcli accounts login`; use the newest link only.",
            )
        error = _printable(params["error"])
        desc = _printable(params.get("error_description") or "")
        if error == "access_denied":
            raise SignInFailed(
                "the sign-in was declined in the browser; nothing was stored.",
                hint="Run the command again and approve the access postcli asks for.",
            )
        raise Refused(
            f"the platform refused the sign-in: {error}" + (f" ({desc})" if desc else "") + ".",
            error=error,
            description=desc,
        )
    if not pysecrets.compare_digest(params.get("state") or "", expected_state):
        # A redirect we did not start (CSRF) or an old tab of an earlier attempt.
        raise SignInFailed(
            "the redirect's state does not match this sign-in; nothing was stored.",
            hint="Start again with `postcli accounts login`; use the newest link only.",
        )
    code = params.get("code")
    if not code:
        raise SignInFailed("the redirect has no authorization code.")
    return code


def await_redirect(listener: LoopbackListener, url: str, opts: FlowOptions) -> dict[str, str]:
    """Send the browser to `url` and wait for the redirect's query parameters on `listener`."""
    with listener:
        opts.announce(url)
        opts.open_browser(url)
        params = listener.wait(opts.timeout)
    if params is None:
        raise SignInFailed(
            f"no sign-in arrived within {opts.timeout:g} seconds; nothing was stored.",
            hint="Finish it in the browser sooner (--timeout), or use --no-browser to paste the "
            "address back (for SSH sessions or a browser on another machine).",
        )
    return params


def query_params(text: str) -> dict[str, str]:
    """The query parameters of a pasted address (a URL or a query string); {} for a bare code."""
    text = text.strip()
    if "=" not in text:
        return {}
    query = urlsplit(text).query if "://" in text else text.lstrip("?")
    return {k: v[0] for k, v in parse_qs(query).items()}


class _Loopback:
    """The redirect caught on http://127.0.0.1:<port>/callback."""

    def __init__(self, listener: LoopbackListener, opts: FlowOptions) -> None:
        self._listener, self._opts = listener, opts
        self.redirect_uri = listener.redirect_uri

    def code(self, url: str, state: str) -> tuple[str, dict[str, str]]:
        params = await_redirect(self._listener, url, self._opts)
        return code_from_params(params, state), params


class _Pasted:
    """No listener: the user pastes back the address the browser ended on (--no-browser, or a
    registered https redirect that nothing here can listen on)."""

    def __init__(self, redirect_uri: str, opts: FlowOptions) -> None:
        self.redirect_uri, self._opts = redirect_uri, opts

    def code(self, url: str, state: str) -> tuple[str, dict[str, str]]:
        self._opts.announce(url)
        pasted = self._opts.read_pasted()
        return parse_redirect(pasted, state), query_params(pasted)


@contextmanager
def open_redirect(opts: FlowOptions, port: int, *, registered: bool = False) -> Iterator[Redirect]:
    """The redirect of one sign-in: a loopback listener bound now (so its URI is known before
    the consent URL is made), or the paste-back path. `registered`: the port is part of the
    redirect URI registered in the user's app (a "loopback-fixed" platform)."""
    from postcli.signin.loopback import CALLBACK_PATH, LoopbackListener, free_port

    if opts.no_browser or opts.redirect_uri is not None:
        yield _Pasted(opts.redirect_uri or f"http://127.0.0.1:{port or free_port()}{CALLBACK_PATH}", opts)
        return
    listener = LoopbackListener(port, registered=registered)
    try:
        yield _Loopback(listener, opts)
    finally:
        listener.close()


def run(
    signin: SignIn,
    app: AppCredentials,
    endpoints: Endpoints,
    opts: FlowOptions,
    *,
    scopes: tuple[str, ...],
    port: int,
    extra_params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Send the user to the consent page, catch the code, trade it for tokens (`headers`: what
    the code exchange carries besides, e.g. the User-Agent a platform asks for)."""
    from authlib.common.security import generate_token

    from postcli import settings

    register_secret(app.client_secret)  # kept out of any message, --debug traceback included
    state = generate_token(32)
    verifier = generate_token(64) if signin.pkce else None  # 64 chars: within RFC 7636's 43..128
    with open_redirect(opts, port, registered=signin.redirect == "loopback-fixed") as redirect:
        # opts.timeout is how long the user may take; each HTTP request gets the network timeout.
        with _oauth_client(signin, app, redirect.redirect_uri, scopes, settings.timeout(), headers) as client:
            url = authorization_url(client, signin, endpoints.authorize_url, state, verifier, extra_params or {})
            code, _params = redirect.code(url, state)
            return _exchange(client, endpoints.token_url, code, verifier, app, dict(signin.token_params))


def _exchange(
    client: Any,
    token_url: str,
    code: str,
    verifier: str | None,
    app: AppCredentials,
    extra: dict[str, str] | None = None,
) -> dict[str, Any]:
    import httpx

    _import_oauth_client()
    from authlib.integrations.base_client import OAuthError

    kwargs: dict[str, Any] = {**(extra or {}), "code": code, "grant_type": "authorization_code"}
    if verifier:
        kwargs["code_verifier"] = verifier
    try:
        token = dict(client.fetch_token(token_url, **kwargs))
    except OAuthError as exc:
        raise token_error(exc.error, exc.description, app) from None
    except httpx.HTTPStatusError as exc:
        raise SignInFailed(
            f"the token endpoint answered HTTP {exc.response.status_code}; nothing was stored."
        ) from None
    except httpx.HTTPError as exc:
        raise PlatformUnavailable(
            f"could not reach the token endpoint ({type(exc).__name__}); nothing was stored."
        ) from None
    except ValueError:
        raise SignInFailed("the token endpoint's answer is not a token; nothing was stored.") from None
    data = token.get("data")
    if "access_token" not in token and isinstance(data, list) and data and isinstance(data[0], dict):
        token = dict(data[0])  # Instagram Login wraps the token: {"data": [{"access_token", "user_id", ...}]}
    if "error_message" in token:
        # api.instagram.com's error shape: {"error_type", "code", "error_message"} (HTTP 400).
        raise token_error({"message": token["error_message"], "code": token.get("code")}, None, app)
    if not isinstance(token.get("access_token"), str) or not token["access_token"]:
        raise SignInFailed("the token endpoint sent no access token; nothing was stored.")
    register_secret(token)
    return token


def token_error(error: Any, description: str | None, app: AppCredentials) -> PostcliError:
    if isinstance(error, dict):
        # Meta answers with a Graph error object: {"message", "type", "code", "error_subcode"}.
        message = str(error.get("message") or "")
        code = error.get("code")
        error = "invalid_client" if code == 1 or "client secret" in message.lower() else "invalid_grant"
        description = message or description
    desc = f" ({description})" if description else ""
    if error == "invalid_client":
        return InvalidInput(
            f"the platform does not accept the app's client id/secret{desc}; nothing was stored.",
            hint=f"Check the client id and secret ({app.source}) against your app's settings.",
        )
    if error == "invalid_grant":
        return SignInFailed(
            f"the platform refused the authorization code{desc}; nothing was stored.",
            hint="Codes work once and for minutes only, with the same redirect URI: run the command again.",
        )
    return SignInFailed(f"the platform refused the code exchange: {error}{desc}; nothing was stored.")
