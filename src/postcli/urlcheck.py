"""The one check for a server URL a user gives postcli (an account's base URL, a sign-in
endpoint, a post link to import).

A base URL is stored on the account and every request carries the account's token to it,
so: http(s) only, a host and a valid port, no `user:password@` (it would be stored and printed
like any URL), and no plain http across the network unless the user says `--insecure-http`.
Refusals are InvalidInput (exit 2) and never repeat a password given in the URL.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import SplitResult, urlsplit

from postcli.errors import InvalidInput

INSECURE_HTTP_OPTION = "--insecure-http"

# "javascript:x", "mailto:a@b": a scheme with no "//". "localhost:8080" and "host:443/path" are a
# host and a port without a scheme, which get https:// like any bare host name.
_OTHER_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:(?!\d*(?:/|$))")


def base_url(url: str, *, what: str, insecure_http: bool = False) -> str:
    """`url` as postcli stores it (https:// added to a bare host, trailing / removed), or InvalidInput.

    `what` names the value in messages (an option such as "--instance")."""
    text = url.strip()
    if "://" not in text:
        # "user:pass@host" is a host with credentials (refused below), not a "user:" scheme.
        if "@" not in text.split("/", 1)[0] and _OTHER_SCHEME.match(text):
            scheme = text.split(":", 1)[0]
            raise InvalidInput(
                f"{what} {_shown(text)!r} is a {scheme}: address, not a server URL.",
                hint="Use the server's https URL, e.g. https://mastodon.social",
            )
        text = "https://" + text
    parts = _split(text, what)
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise InvalidInput(
            f"{what} {_shown(text)!r} has a ?query or #fragment; a server URL has neither.",
            hint=f"Use only the scheme, the host and (if any) the path, e.g. {parts.scheme}://{_host_port(parts)}",
        )
    _check_http(parts, text, what=what, insecure_http=insecure_http)
    return text.rstrip("/")


def endpoint_url(url: str, *, what: str, insecure_http: bool = False) -> str:
    """A full endpoint the user points postcli at (a consent page): a query is allowed."""
    text = url.strip()
    if "://" not in text:
        raise InvalidInput(
            f"{what} {_shown(text)!r} is not an http(s) URL.",
            hint="Give the full URL, e.g. https://host/oauth/authorize",
        )
    _check_http(_split(text, what), text, what=what, insecure_http=insecure_http)
    return text


def link(url: str, *, what: str) -> str:
    """A link postcli only reads (a post to import): parseable http(s), no user:password.
    Plain http is fine: nothing is sent to the link's host. Text without a scheme (an id,
    a bare host and path) is left to the caller."""
    text = url.strip()
    if "://" not in text:
        if _OTHER_SCHEME.match(text):
            scheme = text.split(":", 1)[0]
            raise InvalidInput(
                f"{what} {_shown(text)!r} is a {scheme}: address, not a link.",
                hint="Give the post's https link (or its id).",
            )
        return text
    _check_parts(_split(text, what), text, what=what)
    return text


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: traffic that never leaves this machine."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 is 127.0.0.1
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def _check_http(parts: SplitResult, text: str, *, what: str, insecure_http: bool) -> None:
    _check_parts(parts, text, what=what)
    if parts.scheme.lower() == "http" and not insecure_http and not is_loopback(parts.hostname or ""):
        raise InvalidInput(
            f"{what} {text!r} is plain http: the tokens postcli sends there would cross the network unencrypted.",
            hint=f"Use https://{_host_port(parts)}{parts.path}, or add {INSECURE_HTTP_OPTION} if you mean it "
            "(a server on a network you trust). Plain http to this machine (127.0.0.1, ::1, localhost) needs no flag.",
        )


def _check_parts(parts: SplitResult, text: str, *, what: str) -> None:
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidInput(
            f"{what} {_shown(text)!r} is not an http(s) URL.", hint="Use the server's https URL, e.g. https://host"
        )
    if "@" in parts.netloc:
        raise InvalidInput(
            f"{what} {_shown(text)!r} has a user name or password in it.",
            hint="Leave the user:password@ part out: postcli would store and print it with the URL. "
            "Accounts sign in with a token or an app password given separately (a hidden prompt, "
            "--token-stdin, --password-stdin or `postcli accounts login`).",
        )
    if any(c.isspace() or not c.isprintable() for c in text):
        raise InvalidInput(f"{what} {_shown(text)!r} has a space or a control character in it.")
    if not parts.hostname:
        raise InvalidInput(f"{what} {text!r} names no host.", hint="Use a URL like https://mastodon.social")
    try:
        port = parts.port
    except ValueError:  # not a number, or above 65535
        port = -1
    if port is not None and not 1 <= port <= 65535:
        raise InvalidInput(f"{what} {text!r} has an invalid port.", hint="A port is a number from 1 to 65535.")


def _split(text: str, what: str) -> SplitResult:
    try:
        return urlsplit(text)
    except ValueError as exc:  # an unclosed or invalid [IPv6 literal]
        raise InvalidInput(
            f"{what} {_shown(text)!r} is not a valid URL ({exc}).",
            hint="Check the URL (an IPv6 address goes in brackets: https://[2001:db8::1]:8443).",
        ) from None


def _host_port(parts: SplitResult) -> str:
    return parts.netloc.rsplit("@", 1)[-1]


def _shown(text: str) -> str:
    """`text` with any user:password@ replaced: a refusal must not print the password it refuses."""
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)?[^/?#]*@", r"\1***@", text, count=1)
