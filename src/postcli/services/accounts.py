"""Connected accounts: connect, find, list, remove, and the adapter for one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from postcli import credentials, settings, urlcheck
from postcli.errors import BadSettings, InvalidInput, NotFound
from postcli.platforms import registry
from postcli.platforms.base import AccountContext
from postcli.platforms.registry import adapter_class, make_adapter
from postcli.secrets_redact import register_secret
from postcli.store.models import Account, utcnow
from postcli.store.session import session_scope

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from postcli.platforms.base import Adapter


def app_setting(platform: str, key: str) -> str | None:
    """A setting of the user's app: POSTCLI_<PLATFORM>_<KEY>, else the config file's
    [apps.PLATFORM] KEY (a client id, Facebook's config_id, LinkedIn's API version)."""
    import os

    prefix = "POSTCLI_" + platform.upper().replace("-", "_") + "_"
    value = os.environ.get(prefix + key.upper()) or settings.app_config(platform).get(key)
    return str(value) if value else None


def reconnect_hint(account: Account) -> str:
    """How to reconnect `account`: its platform's sign-in first where it has one (the spec's
    reconnect commands, with the account's own handle, server and id filled in)."""
    found = registry.find(account.platform)
    if found is None or not found.reconnect_add:
        return f"Reconnect it with: postcli accounts add {account.platform} ..."
    values = found.hint_values(account.handle, account.api_base_url, account.external_id)
    cmd = found.reconnect_add.format(**values)
    if found.reconnect_login:
        return f"Reconnect it with: {found.reconnect_login.format(**values)} (or: {cmd})"
    return f"Reconnect it with: {cmd}"


def normalize_base_url(
    platform: str, url: str | None, *, insecure_http: bool = False, option: str | None = None
) -> str:
    """The account's base URL as stored, through the one URL check (urlcheck.base_url): no
    user:password@, no plain http off this machine unless `insecure_http` (--insecure-http)."""
    spec = registry.spec(platform)
    own = next((o for o in spec.options if o.role == "base_url"), None)  # --instance, --service
    if not url:
        if not spec.default_base_url:
            flag = f"{own.flag} {own.metavar}" if own else "--api-base URL"
            raise InvalidInput(f"{platform} needs the server's URL.", hint=f"Pass {flag}")
        return spec.default_base_url
    what = option or (own.flag if own else "--api-base")
    return urlcheck.base_url(url, what=what, insecure_http=insecure_http)


def context_for(account: Account, *, timeout: float | None = None) -> AccountContext:
    """The adapter's view of an account; refreshed secrets are saved at once."""
    account_id = account.id

    def save(new: dict[str, Any]) -> None:
        credentials.save(account_id, new)

    platform = account.platform
    account_settings = dict(account.settings or {})

    def charge(what: str, cost: int = 1) -> None:
        from postcli.services import rate_budget

        rate_budget.charge(rate_budget.key_of(account_id, platform, account_settings), platform, what, cost)

    return AccountContext(
        platform=account.platform,
        api_base_url=account.api_base_url,
        handle=account.handle,
        external_id=account.external_id,
        account_id=account.id,
        settings=dict(account.settings or {}),
        secrets=credentials.load(account.id),
        save_secrets=save,
        load_secrets=lambda: credentials.load(account_id),
        refresh_lock=lambda: credentials.refresh_lock(account_id),
        charge_request=charge,
        timeout=timeout or settings.timeout(),
        graph_version=settings.config().graph_version,
        app_setting=lambda key: app_setting(platform, key),
        token_expires_at=account.token_expires_at,
        initial_token_expires_at=account.token_expires_at,
    )


def adapter_for(account: Account, *, timeout: float | None = None) -> Adapter:
    return make_adapter(context_for(account, timeout=timeout))


def save_settings_if_changed(ctx: AccountContext) -> None:
    """Store what an adapter learned: platform settings (e.g. no multi-status endpoint)
    and a new token expiry after a refresh (Tumblr refreshes while collecting)."""
    if ctx.account_id is None:
        return
    expiry_changed = ctx.token_expires_at is not None and ctx.token_expires_at != ctx.initial_token_expires_at
    if not ctx.settings_changed and not expiry_changed:
        return
    with session_scope() as session:
        account = session.get(Account, ctx.account_id)
        if account is not None:
            if ctx.settings_changed:
                account.settings = dict(ctx.settings)
            if expiry_changed:
                account.token_expires_at = ctx.token_expires_at
    ctx.settings_changed = False
    ctx.initial_token_expires_at = ctx.token_expires_at


def needs_reconnect(account: Account) -> bool:
    """Whether the account must be reconnected before postcli can use it again."""
    return account.status == "token_expired"


def mark_token_expired(session: Session, account: Account, error_code: str = "token_expired") -> None:
    account.status = "token_expired"
    account.error_code = error_code
    account.last_checked_at = utcnow()


@dataclass
class Connected:
    account: dict[str, Any]  # account_dict(): plain data, no ORM row past the service
    reconnected: bool


def add_account(
    platform: str,
    *,
    identifier: str | None,
    secret: str,
    base_url: str | None,
    extra_secrets: dict[str, Any] | None = None,
    extra_settings: dict[str, Any] | None = None,
    insecure_http: bool = False,
) -> Connected:
    """Log in once, then store the account (or refresh an existing one: reconnecting).

    `extra_secrets` (app secret, refresh token) and `extra_settings` (app id,
    client id) are in the adapter's context before `connect` runs. `insecure_http`
    (--insecure-http) allows a plain-http base URL that is not on this machine.
    """
    if not secret:
        raise InvalidInput("no secret given (empty password or token).")
    # Masked from here on: a server may echo it back in an error that --debug prints.
    register_secret(secret)
    register_secret(dict(extra_secrets or {}))
    adapter_class(platform)  # unknown platform -> clear error before any network
    base = normalize_base_url(platform, base_url, insecure_http=insecure_http)
    captured: dict[str, Any] = {}
    ctx = AccountContext(
        platform=platform,
        api_base_url=base,
        handle=identifier,
        settings=dict(extra_settings or {}),
        secrets=dict(extra_secrets or {}),
        save_secrets=lambda s: captured.update(s),
        timeout=settings.timeout(),
        graph_version=settings.config().graph_version,
        app_setting=lambda key: app_setting(platform, key),
    )
    info = make_adapter(ctx).connect(identifier, secret)
    secrets = {**ctx.secrets, **captured}  # save_secrets holds the newest
    with session_scope() as session:
        from sqlalchemy import select

        existing = session.scalars(
            select(Account).where(
                Account.platform == platform,
                Account.api_base_url == base,
                Account.external_id == info.external_id,
            )
        ).first()
        reconnected = existing is not None
        account = existing or Account(platform=platform, api_base_url=base, external_id=info.external_id)
        account.handle = info.handle
        account.display_name = info.display_name
        account.status = "active"
        account.error_code = None
        account.removed_at = None
        account.token_expires_at = info.token_expires_at
        account.last_checked_at = utcnow()
        account.settings = dict(ctx.settings)
        if not reconnected:
            session.add(account)
        session.flush()
        credentials.save(account.id, secrets)
    return Connected(account=account_dict(account), reconnected=reconnected)


def get_account(session: Session, ref: str | int, *, include_removed: bool = False) -> Account:
    """An account by id, or by handle (with or without a leading @)."""
    from sqlalchemy import func, select

    text = str(ref).strip()
    account = None
    if text.isdigit():
        account = session.get(Account, int(text))
    if account is None:
        handle = text.lstrip("@").lower()
        matches = list(session.scalars(select(Account).where(func.lower(Account.handle) == handle)))
        if len(matches) > 1:
            ids = ", ".join(str(a.id) for a in matches)
            raise InvalidInput(f"{text!r} matches several accounts ({ids}).", hint="Use the account id instead.")
        account = matches[0] if matches else None
    if account is None or (account.removed_at is not None and not include_removed):
        raise NotFound(f"no account {text!r}.", hint="See your accounts with `postcli accounts list`.")
    return account


def list_accounts(session: Session, *, include_removed: bool = False) -> list[Account]:
    from sqlalchemy import select

    q = select(Account).order_by(Account.id)
    if not include_removed:
        q = q.where(Account.removed_at.is_(None))
    return list(session.scalars(q))


def resolve_targets(session: Session, refs: list[str]) -> list[Account]:
    """`--to` values -> accounts: an id, a handle, a platform with one account, or `all`."""
    if not refs:
        raise InvalidInput("no target given.", hint="Add --to ACCOUNT (an id, a handle, a platform name, or all).")
    active = [a for a in list_accounts(session) if a.status != "disabled"]
    chosen: dict[int, Account] = {}
    for ref in refs:
        for part in [p for p in ref.split(",") if p.strip()]:
            part = part.strip()
            if part.lower() == "all":
                if not active:
                    raise NotFound("no accounts connected.", hint="Connect one with `postcli accounts add`.")
                for a in active:
                    chosen[a.id] = a
                continue
            by_platform = [a for a in active if a.platform == part.lower()]
            if by_platform and not part.isdigit():
                if len(by_platform) > 1:
                    names = ", ".join(f"{a.id} ({a.handle})" for a in by_platform)
                    raise InvalidInput(
                        f"--to {part}: you have several {part} accounts: {names}.",
                        hint="Name one by id or handle.",
                    )
                chosen[by_platform[0].id] = by_platform[0]
                continue
            account = get_account(session, part)
            chosen[account.id] = account
    if not chosen:  # e.g. --to "," : a post with no target would "complete" having sent nothing
        raise InvalidInput(
            f"--to {', '.join(map(repr, refs))} names no account.",
            hint="Add --to ACCOUNT (an id, a handle, a platform name, or all).",
        )
    return list(chosen.values())


def remove_account(ref: str, *, purge: bool = False) -> Account:
    """The account is removed first, its secret deleted after: a secret the keyring keeps is
    then an error saying what is left and how to delete it, not a silent "Removed"."""
    with session_scope() as session:
        account = get_account(session, ref, include_removed=purge)
        if purge:
            session.delete(account)
        else:
            account.removed_at = datetime.now(timezone.utc)
            account.status = "disabled"
    try:
        credentials.delete(account.id)
    except (credentials.KeyringFailed, BadSettings) as exc:  # the keyring's, or a damaged credentials file
        raise type(exc)(
            f"{account.platform} account {account.handle} (id {account.id}) is removed from postcli, "
            f"but its secret is not: {exc.message}",
            hint=exc.hint,
        ) from None
    return account


def posts_addressing(ref: str) -> list[dict[str, Any]]:
    """Drafts and scheduled (or pending) posts with a target on this account, oldest first."""
    from sqlalchemy import select

    from postcli.store.models import Post, PostTarget

    with session_scope(readonly=True) as session:
        account = get_account(session, ref, include_removed=True)
        rows = session.execute(
            select(Post.id, Post.status)
            .join(PostTarget, PostTarget.post_id == Post.id)
            .where(PostTarget.account_id == account.id, Post.status.in_(("draft", "scheduled", "pending")))
            .order_by(Post.id)
            .distinct()
        )
        return [{"id": pid, "status": status} for pid, status in rows]


def account_dict(account: Account) -> dict[str, Any]:
    """The stable JSON shape of an account (no secrets, ever)."""
    return {
        "id": account.id,
        "platform": account.platform,
        "handle": account.handle,
        "display_name": account.display_name,
        "external_id": account.external_id,
        "api_base_url": account.api_base_url,
        "status": account.status,
        "error_code": account.error_code,
        "needs_reconnect": needs_reconnect(account),
        "token_expires_at": account.token_expires_at,
        "last_checked_at": account.last_checked_at,
        "created_at": account.created_at,
        "removed_at": account.removed_at,
    }


def account_rows(*, include_removed: bool = False) -> list[dict[str, Any]]:
    """`accounts list`: every account as plain data (the service owns the session)."""
    with session_scope(readonly=True) as session:
        return [account_dict(a) for a in list_accounts(session, include_removed=include_removed)]


def show_account(ref: str) -> tuple[dict[str, Any], str | None]:
    """`accounts show`: the account as plain data, and its reconnect hint when it needs one."""
    with session_scope(readonly=True) as session:
        acc = get_account(session, ref, include_removed=True)
        return account_dict(acc), (reconnect_hint(acc) if needs_reconnect(acc) else None)
