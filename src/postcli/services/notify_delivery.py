"""Delivering one event to the configured notifiers ([notify] in config.toml): a shell command
(the event as JSON on stdin and POSTCLI_EVENT/POSTCLI_POST_ID/POSTCLI_ACCOUNT in its environment)
and/or a webhook (POST of the same JSON, HMAC-SHA256 signed when a secret is set, one attempt
and up to three retries). A notifier that fails or hangs is cut at its timeout and reported,
never raised: publishing and collecting go on."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from dataclasses import dataclass
from typing import Any, Callable

from postcli import settings, urlcheck
from postcli.errors import BadSettings
from postcli.secrets_redact import redact, register_secret

EVENTS = (
    "post.failed",
    "post.partial",
    "post.published",
    "post.overdue",
    "account.needs_reconnect",
    "account.expires_soon",
    "collect.failed",
    "notify.test",
)
DEFAULT_EVENTS = tuple(e for e in EVENTS if e != "post.published")  # published is opt-in
DEFAULT_TIMEOUT = 20.0
RETRIES = 3  # after the first attempt
BACKOFF = 0.5  # seconds before the first retry, doubling


@dataclass(frozen=True)
class NotifyConfig:
    command: str | None = None
    webhook: str | None = None
    webhook_secret: str | None = None
    events: tuple[str, ...] = DEFAULT_EVENTS
    timeout: float = DEFAULT_TIMEOUT

    @property
    def configured(self) -> bool:
        return bool(self.command or self.webhook)


@dataclass(frozen=True)
class Delivery:
    notifier: str  # "command" | "webhook"
    ok: bool
    detail: str  # what happened, for `notify test` and doctor (no secret in it)


def config() -> NotifyConfig:
    """[notify] from config.toml, checked (BadSettings, exit 2, names the key)."""
    raw = settings.config().raw.get("notify", {})
    where = "config file: [notify]"
    if not isinstance(raw, dict):
        raise BadSettings(f"{where} must be a table.")
    command, webhook, secret = raw.get("command"), raw.get("webhook"), raw.get("webhook_secret")
    for key, value in (("command", command), ("webhook", webhook), ("webhook_secret", secret)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise BadSettings(f"{where} {key} must be a non-empty string.")
    if webhook:
        # https, or plain http to this machine only: the events name accounts and posts.
        webhook = urlcheck.endpoint_url(webhook, what=f"{where} webhook", insecure_http=False)
    if secret:
        register_secret(secret)
    events = raw.get("events", list(DEFAULT_EVENTS))
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise BadSettings(f"{where} events must be a list of event names.", hint=f"Events: {', '.join(EVENTS)}.")
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        raise BadSettings(
            f"{where} events: unknown {', '.join(map(repr, unknown))}.", hint=f"Events: {', '.join(EVENTS)}."
        )
    timeout = raw.get("timeout_seconds", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < 3600:
        raise BadSettings(f"{where} timeout_seconds must be a number of seconds between 0 and 3600.")
    return NotifyConfig(command, webhook, secret, tuple(events), float(timeout))


def signature(secret: str, body: bytes) -> str:
    """X-Postcli-Signature: sha256=<hex HMAC-SHA256 of the body>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(
    cfg: NotifyConfig, payload: dict[str, Any], *, sleep: Callable[[float], None] = time.sleep
) -> list[Delivery]:
    body = json.dumps(payload, sort_keys=True, default=str).encode()
    out: list[Delivery] = []
    if cfg.command:
        out.append(_run_command(cfg, payload, body))
    if cfg.webhook:
        out.append(_post_webhook(cfg, body, sleep))
    return out


def _run_command(cfg: NotifyConfig, payload: dict[str, Any], body: bytes) -> Delivery:
    import subprocess

    assert cfg.command is not None
    env = dict(os.environ)
    env["POSTCLI_EVENT"] = str(payload.get("event", ""))
    env["POSTCLI_POST_ID"] = str(payload.get("post_id") or "")
    env["POSTCLI_ACCOUNT"] = str(payload.get("handle") or payload.get("account_id") or "")
    try:
        proc = subprocess.run(
            cfg.command,
            shell=True,  # noqa: S602 - the user's own configured command line
            input=body,
            env=env,
            capture_output=True,
            timeout=cfg.timeout,
            start_new_session=True,  # its children die with it when it is cut at the timeout
        )
    except subprocess.TimeoutExpired:
        return Delivery("command", False, f"the notify command did not finish within {cfg.timeout:g} s; it was stopped")
    except OSError as exc:
        return Delivery("command", False, f"the notify command could not be started: {exc.strerror or exc}")
    if proc.returncode != 0:
        said = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        return Delivery("command", False, redact(f"the notify command exited {proc.returncode}: {said[0]}"[:300]))
    return Delivery("command", True, "the notify command ran")


def _post_webhook(cfg: NotifyConfig, body: bytes, sleep: Callable[[float], None]) -> Delivery:
    import httpx

    from postcli.platforms.tls import context

    assert cfg.webhook is not None
    headers = {"Content-Type": "application/json", "User-Agent": "postcli-notify"}
    if cfg.webhook_secret:
        headers["X-Postcli-Signature"] = signature(cfg.webhook_secret, body)
    last = ""
    deadline = time.monotonic() + cfg.timeout
    for attempt in range(RETRIES + 1):
        if attempt:
            wait = BACKOFF * 2 ** (attempt - 1)
            if time.monotonic() + wait >= deadline:
                break
            sleep(wait)
        remaining = max(0.1, deadline - time.monotonic())
        try:
            response = httpx.post(cfg.webhook, content=body, headers=headers, timeout=remaining, verify=context())
        except httpx.HTTPError as exc:
            last = f"no answer ({type(exc).__name__})"
            continue
        if 200 <= response.status_code < 300:
            return Delivery("webhook", True, f"the webhook answered HTTP {response.status_code}")
        last = f"HTTP {response.status_code}"
        if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
            break  # the receiver refuses this request: sending it again changes nothing
    return Delivery("webhook", False, redact(f"the webhook failed: {last}"))
