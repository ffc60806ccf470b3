"""What a platform says about itself, once: the data everything above the adapter reads.

Each platform's package has a `spec.py` with one `SPEC = PlatformSpec(...)`; the registry
(platforms/registry.py) finds the built-in ones by name and others through the
`postcli.platforms` entry-point group. A spec names its adapter class ("module:Class") and
its sign-in steps ("module:Class" of a `SignInHooks` subclass); neither is imported until
an account of that platform is used.

This module must stay cheap to import (no SDK, no httpx): `accounts add --help`, the
reports and the collector read specs without talking to any network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ContextManager, Literal, Mapping, Protocol

from postcli.errors import InvalidInput

Use = Literal["required", "optional", "no"]


@dataclass(frozen=True)
class Option:
    """An identity option of `accounts add` / `accounts login` (--instance, --handle, --page...).

    `role` says where its value goes: "identifier" (the handle, Page or blog the adapter's
    connect takes), "base_url" (the server: --instance, --service), "setting:KEY" (a
    non-secret account setting, e.g. setting:app_id), or "login" (only the sign-in uses it).
    """

    flag: str
    metavar: str
    help: str
    add: Use = "optional"
    login: Use = "optional"
    role: str = "identifier"
    default: str | None = None
    strip: str = ""  # leading characters dropped from the value ("@" of a handle)
    # A check of the value before anything is sent: returns the value to use or raises InvalidInput.
    check: Callable[[str], str] | None = None

    @property
    def name(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

    def value(self, raw: str | None) -> str | None:
        if raw is None:
            return None
        value = raw.strip()
        if self.strip:
            value = value.lstrip(self.strip)
        if self.check is not None:
            value = self.check(value)
        return value


@dataclass(frozen=True)
class Credential:
    """The secret `accounts add` asks for: an access token (the usual) or an app password."""

    name: str  # "access token", "app password": "Mastodon access token" in the prompt
    stdin_flag: str = "--token-stdin"
    kind: Literal["token", "password"] = "token"


@dataclass(frozen=True)
class EnvSecret:
    """A secret kept beside the token, read from the environment by `accounts add`
    (the app secret that lets postcli exchange or refresh a token)."""

    key: str  # the key in the account's secrets ("app_secret", "refresh_token")
    env: str  # POSTCLI_THREADS_APP_SECRET
    help: str


@dataclass(frozen=True)
class Field:
    """A per-post field `post create --field PLATFORM.KEY=VALUE` accepts for this platform."""

    key: str
    help: str
    kind: Literal["text", "choice", "bool", "int", "list"] = "text"
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    default: str | None = None
    required: bool = False
    # The account setting that stands in when a post gives no value (Pinterest's default board,
    # set with the identity option whose role is "setting:<this key>"); the adapter reads it from
    # ctx.settings. A required field with one is checked per account (services/posts/validation.py).
    setting: str = ""
    # A check beyond kind and bounds, on the parsed value: returns it (or a cleaned copy) or
    # raises InvalidInput (YouTube counts a tag with a space as quoted against its 500 characters).
    check: Callable[[Any], Any] | None = None

    def parse(self, platform: str, raw: str) -> Any:
        """The stored value of `raw`, or InvalidInput naming what is allowed."""
        value = self._parse(platform, raw)
        return self.check(value) if self.check is not None else value

    def _parse(self, platform: str, raw: str) -> Any:
        name = f"{platform}.{self.key}"
        value = raw.strip()
        if self.kind == "choice":
            by_lower = {c.lower(): c for c in self.choices}
            if value.lower() not in by_lower:
                raise InvalidInput(
                    f"--field {name}={raw!r} is not one of the allowed values.",
                    hint=f"Use one of: {', '.join(self.choices)}.",
                )
            return by_lower[value.lower()]
        if self.kind == "bool":
            truth = {"true": True, "yes": True, "1": True, "on": True}
            falsity = {"false": False, "no": False, "0": False, "off": False}
            if value.lower() in truth:
                return True
            if value.lower() in falsity:
                return False
            raise InvalidInput(f"--field {name}={raw!r} is not true or false.", hint=f"Use {name}=true or =false.")
        if self.kind == "int":
            try:
                number = int(value)
            except ValueError:
                raise InvalidInput(f"--field {name}={raw!r} is not a whole number.") from None
            low, high = self.minimum, self.maximum
            if (low is not None and number < low) or (high is not None and number > high):
                raise InvalidInput(f"--field {name}={raw!r} is out of range ({low}..{high}).")
            return number
        if self.kind == "list":
            items = [item.strip() for item in value.split(",") if item.strip()]
            if not items:
                raise InvalidInput(f"--field {name} is empty.", hint=f"Give {name}=a,b,c or leave it out.")
            if self.max_length is not None and len(",".join(items)) > self.max_length:
                raise InvalidInput(f"--field {name} is longer than {self.max_length} characters.")
            return items
        if not value:
            raise InvalidInput(f"--field {name} is empty.", hint="Give a value or leave the field out.")
        if self.max_length is not None and len(value) > self.max_length:
            raise InvalidInput(f"--field {name} is longer than {self.max_length} characters.")
        return value

    def describe(self) -> str:
        if self.kind == "choice":
            return "|".join(self.choices)
        return {"bool": "true|false", "int": "N", "list": "A,B,..."}.get(self.kind, "TEXT")


# -- sign-in ------------------------------------------------------------------------------


@dataclass
class AppCredentials:
    client_id: str
    client_secret: str | None
    source: str  # where they came from, for messages: option, environment, config, registered


@dataclass
class Endpoints:
    authorize_url: str
    token_url: str


@dataclass
class Connection:
    """What a sign-in ends with: the arguments of `accounts add` for the account."""

    identifier: str | None
    secret: str
    base_url: str | None
    extra_secrets: dict[str, Any] = field(default_factory=dict)
    extra_settings: dict[str, Any] = field(default_factory=dict)


class Redirect(Protocol):
    """Where the consent page sends the browser back (a loopback listener or a pasted address)."""

    redirect_uri: str

    def code(self, url: str, state: str) -> tuple[str, dict[str, str]]:
        """Show `url` (open the browser), then the authorization code and the redirect's
        query parameters; a declined consent or a foreign state raises SignInFailed."""
        ...


@dataclass
class SignInContext:
    """What the sign-in layer hands a platform's sign-in steps (SignInHooks): the user's
    options and the few services a step may need, so that no platform imports signin/."""

    platform: str
    options: dict[str, str | None]  # identity options by name (instance, handle, page, blog...)
    api_base: str | None  # --api-base: replaces the scheme and host of every documented host
    authorize_url: str | None  # --authorize-url
    scopes: tuple[str, ...]
    timeout: float  # per request
    graph_version: str  # Meta platforms: the one Graph version (config [graph] version)
    # Opens the redirect (loopback on `port`, or paste-back); a context manager.
    redirect: Callable[[int], ContextManager[Redirect]]
    # Ask the user to pick one of [(id, label)] ("which Page?"); None: no terminal / no answer.
    choose: Callable[[str, list[tuple[str, str]]], str | None]
    # Registered apps kept between sign-ins (Mastodon's per-instance registration).
    load_app: Callable[[str], dict[str, Any]]
    save_app: Callable[[str, dict[str, Any]], None]
    forget_app: Callable[[str], None]
    # The app's own settings ([apps.PLATFORM] and POSTCLI_<P>_*): e.g. Facebook's config_id.
    app_setting: Callable[[str], str | None]
    register_secret: Callable[[Any], None]

    def option(self, name: str) -> str | None:
        return self.options.get(name)


class SignInHooks:
    """A platform's own sign-in steps around the shared authorization code flow.

    Every method has a default that does nothing special; a platform overrides what differs.
    Hooks may talk to the network (they live in the platform's package, beside its adapter)."""

    def __init__(self, spec: PlatformSpec) -> None:
        self.spec = spec

    def sign_in(self, ctx: SignInContext) -> Connection | None:
        """A whole flow of the platform's own (AT Protocol OAuth); None: the shared flow."""
        return None

    def before(self, ctx: SignInContext) -> None:
        """Checks before anything is sent (a required option)."""

    def base_url(self, ctx: SignInContext) -> str | None:
        """The account's server when an option names it (Mastodon's --instance)."""
        return None

    def register_app(self, ctx: SignInContext, base: str | None) -> AppCredentials | None:
        """The app registered on the platform itself (Mastodon), when the user brings none."""
        return None

    def registration_failed(self, ctx: SignInContext, base: str | None) -> None:
        """The sign-in with a registered app failed: forget it, so the next one registers anew."""

    def authorize_params(self, ctx: SignInContext, app: AppCredentials) -> dict[str, str]:
        """Extra parameters of the consent page (Facebook Login for Business' config_id)."""
        return {}

    def scopes(self, ctx: SignInContext, app: AppCredentials) -> tuple[str, ...]:
        """The scopes to ask for (some consent pages take them from elsewhere)."""
        return ctx.scopes

    def headers(self, ctx: SignInContext, app: AppCredentials) -> dict[str, str]:
        """HTTP headers the code exchange carries (Reddit's User-Agent naming the app and its
        user); {}: the HTTP client's own."""
        return {}

    def refused(self, ctx: SignInContext, scopes: tuple[str, ...], error: str, description: str) -> str | None:
        """A hint for an error the consent page redirected back with (after asking `scopes`),
        e.g. which scope the app lacks (LinkedIn's unauthorized_scope_error); None: no hint."""
        return None

    def finish(self, ctx: SignInContext, app: AppCredentials, token: dict[str, Any], base: str | None) -> Connection:
        """The account to connect from the token (default: the spec's keep_* declarations)."""
        signin = self.spec.signin
        assert signin is not None
        sources = {"client_secret": app.client_secret, "client_id": app.client_id}
        secrets = {key: sources.get(src) or token.get(src) for key, src in signin.keep_secrets.items()}
        settings = {key: sources.get(src) or token.get(src) for key, src in signin.keep_settings.items()}
        identifier = None
        for opt in self.spec.options:
            if opt.role == "identifier" and ctx.option(opt.name):
                identifier = ctx.option(opt.name)
            elif opt.role.startswith("setting:") and ctx.option(opt.name):
                # As `accounts add` keeps it (Pinterest's --board): the adapter's connect checks it.
                settings[opt.role.removeprefix("setting:")] = ctx.option(opt.name)
        return Connection(
            identifier=identifier,
            secret=token["access_token"],
            base_url=base or ctx.api_base,
            extra_secrets={k: v for k, v in secrets.items() if v},
            extra_settings={k: v for k, v in settings.items() if v},
        )


@dataclass(frozen=True)
class SignIn:
    """How `accounts login PLATFORM` signs in: OAuth 2.0 authorization code, as data.

    URL templates may hold {dialog} (the consent page's host, replaced by --authorize-url),
    {api} / {oauth} (API and token hosts, replaced by --api-base), {instance} (the server an
    option names) and {graph_version}.
    """

    authorize_url: str
    token_url: str
    scopes: tuple[str, ...]
    scope_separator: str = " "
    # authlib's token_endpoint_auth_method: client_secret_post | client_secret_basic | none
    client_auth: str = "client_secret_post"
    # Sent only where the platform documents PKCE: a server that half-supports it is worse than none.
    pkce: bool = True
    # Extra form fields of the code exchange (Pinterest's continuous_refresh=true).
    token_params: Mapping[str, str] = field(default_factory=dict)
    # How the S256 challenge is written: RFC 7636's base64url, or the hex digest TikTok's Login
    # Kit for desktop asks for (developers.tiktok.com/doc/login-kit-desktop).
    pkce_challenge: Literal["base64url", "hex"] = "base64url"
    # The name of the client-id parameter on the consent page and in the token request (sent
    # in the form, with client_secret): TikTok calls it client_key.
    client_id_param: str = "client_id"
    # loopback: http://127.0.0.1:<any port>/callback; loopback-fixed: the platform compares the
    # whole URL, so the registered port (default_port, --port); https: only a registered https
    # URI (--redirect-uri) with the address pasted back.
    redirect: Literal["loopback", "loopback-fixed", "https"] = "loopback"
    default_port: int = 0
    # The user brings an app (client id and secret) made in the platform's console.
    needs_app: bool = True
    # The app may be a public client (no secret): X's native apps, Reddit's installed apps.
    secret_optional: bool = False
    # How an app without a secret authenticates at the token endpoint: "none" (RFC 6749's
    # client_id in the form) or "client_secret_basic" (HTTP Basic with the client id and an
    # empty password: Reddit's installed apps, www.reddit.com/api/v1/access_token).
    public_client_auth: str = "none"
    console: str = ""  # where the user makes that app
    # What the account keeps from the sign-in: {secret or setting key: "client_secret" |
    # "client_id" | a key of the token answer}.
    keep_secrets: Mapping[str, str] = field(default_factory=dict)
    keep_settings: Mapping[str, str] = field(default_factory=dict)
    hooks: str = ""  # "module:Class" of a SignInHooks subclass; "" = the defaults
    kind: str = "OAuth 2.0 authorization code"  # for `postcli platforms`


# -- the spec ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlatformSpec:
    name: str  # the name on the command line and in the store
    display_name: str
    adapter: str  # "module:Class"
    # Every documented host: "api" (the base URL accounts store), and where they differ
    # "oauth" (token endpoint), "dialog" (consent page), "upload", "web" (post links).
    hosts: Mapping[str, str] = field(default_factory=dict)
    summary: str = ""  # one line for `accounts add --help` and `postcli platforms`
    add_help: str = ""  # the body of `accounts add NAME --help`
    docs: str = ""  # docs/platforms/<name>.md
    options: tuple[Option, ...] = ()
    # `accounts add` offers --api-base (no option of the platform names its server).
    api_base_option: bool = True
    credential: Credential | None = Credential("access token")  # None: nothing to ask (the sandbox)
    env_secrets: tuple[EnvSecret, ...] = ()
    secrets: tuple[str, ...] = ("access token",)  # what the credentials store keeps, for people
    signin: SignIn | None = None
    # Request budget per account (requests, seconds) and batches of one account in flight.
    rate_limit: tuple[float, float] | None = None
    # The budget is a daily quota that refills whole at midnight in this time zone (YouTube's
    # units: "America/Los_Angeles") instead of a bucket refilling continuously; a charge the
    # quota cannot cover is refused before the request is sent.
    rate_limit_reset: str | None = None
    # The budget belongs to the user's app (its client id: a Google Cloud project's quota), so
    # every account signed in with the same client id draws from one budget.
    budget_per_app: bool = False
    parallel: int = 2
    # `post import`: web hosts whose links are this platform's posts (subdomains included),
    # URI schemes ("at://"), and whether a bare number is one of its post ids.
    import_hosts: tuple[str, ...] = ()
    import_schemes: tuple[str, ...] = ()
    import_bare_ids: bool = False
    import_example: str = ""
    # Reconnecting: the `accounts add` and `accounts login` commands, formatted with {handle},
    # {base} (the account's base URL), {external_id}, {platform} and {options} (below).
    reconnect_add: str = ""
    reconnect_login: str = ""
    # The identity options that reconnect one account, from its external id (LinkedIn's
    # " --org ID" for a Page): `{options}` in the reconnect commands; None: "".
    reconnect_options: Callable[[str | None], str] | None = None
    # What publishing takes: a title (YouTube's is required), a link, per-post fields.
    title: Use = "no"
    title_max: int | None = None
    title_forbidden: str = ""  # characters the platform refuses in a title (YouTube: "<>")
    link: Use = "no"
    fields: tuple[Field, ...] = ()
    # What `post show` says about a published target beside its link, from what is stored
    # (its platform post id and its --field values): TikTok's post that has no public id yet,
    # or never will (a private post). None: nothing to say.
    target_note: Callable[[str | None, Mapping[str, Any]], str | None] | None = None
    # A check of the post as a whole, once each --field is parsed and before anything is
    # stored: fields that depend on each other or on --link (Google Business Profile: a
    # button needs a link, CALL takes none). Gets (title, link, the fields with the
    # defaults filled in) and raises InvalidInput; None: nothing beyond the fields' own checks.
    check_post: Callable[[str | None, str | None, Mapping[str, Any]], None] | None = None
    # The counters of metrics.COUNTERS the platform reports; the rest are always null.
    metrics: tuple[str, ...] = ()
    account_metrics: tuple[str, ...] = ()
    metrics_note: str = ""
    publishes: tuple[str, ...] = ("text", "images", "video")
    simulated: bool = False  # the sandbox: no network, labelled simulated everywhere
    hidden: bool = False  # not offered by `accounts add --help` or `postcli platforms`

    @property
    def env_prefix(self) -> str:
        return "POSTCLI_" + self.name.upper().replace("-", "_") + "_"

    @property
    def default_base_url(self) -> str | None:
        return self.hosts.get("api")

    def host(self, kind: str, api_base: str | None = None) -> str:
        """The documented host of `kind`, or `api_base` standing in for every host (a proxy or
        a test server: the paths stay as documented)."""
        if api_base:
            return api_base.rstrip("/")
        return (self.hosts.get(kind) or self.hosts.get("api") or "").rstrip("/")

    def option(self, name: str) -> Option | None:
        return next((o for o in self.options if o.name == name), None)

    def field(self, key: str) -> Field | None:
        return next((f for f in self.fields if f.key == key), None)

    def hint_values(self, handle: str | None, base: str | None, external_id: str | None) -> dict[str, str]:
        return {
            "handle": handle or "",
            "base": base or "",
            "external_id": external_id or "",
            "platform": self.name,
            "options": self.reconnect_options(external_id) if self.reconnect_options else "",
        }
