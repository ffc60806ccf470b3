"""Connecting a Facebook Page and keeping its tokens alive.

The account is one Page. Its Page access token is `secrets["access_token"]`; with a
user token (and the app's id and secret) postcli also keeps the long-lived user token,
only to re-read the Page token when it refreshes it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from postcli.platforms.base import (
    AccountInfo,
    AuthFailed,
    HealthResult,
    MalformedResponse,
    PlatformError,
    PlatformRateLimited,
    PlatformRejected,
)
from postcli.platforms.facebook.client import PLATFORM
from postcli.platforms.facebook.insights import FacebookInsights
from postcli.platforms.facebook.pages import read_page_directly, with_business_pages
from postcli.platforms.values import as_utc, int_or_none

_as_datetime = as_utc
_int = int_or_none

REFRESH_WINDOW = timedelta(days=7)

_ACCOUNTS_PAGES = 10


class FacebookAccount(FacebookInsights):
    # -- connect ---------------------------------------------------------------

    def connect(self, identifier: str | None, secret: str) -> AccountInfo:
        token = (secret or "").strip()
        if not token:
            raise AuthFailed(
                "a Facebook access token is required",
                platform=PLATFORM,
                hint="give a Page access token, or a user token that manages the Page",
            )
        self._extra_secrets.append(token)
        me = self._dict(self._get("me", token=token, fields="id,name"), "verifying the access token")
        if not me.get("id"):
            raise MalformedResponse(f"{self._graph.host} did not say whose token this is", platform=PLATFORM)
        pages = self._managed_pages(token)
        # Learned settings (insights names) start afresh; an explicit api_version stays.
        settings: dict[str, Any] = {
            k: v for k, v in (self.ctx.settings or {}).items() if k in ("app_id", "api_version")
        }
        secrets = {k: v for k, v in (self.ctx.secrets or {}).items() if k == "app_secret"}
        if pages is None:
            # A Page token: /me is the Page itself.
            page = {"id": str(me["id"]), "name": me.get("name"), "access_token": token}
            if identifier and not self._matches(page, identifier):
                raise PlatformRejected(
                    f"this is a Page token for {page['name']} (id {page['id']}), not for --page {identifier}",
                    platform=PLATFORM,
                    hint="give the token of that Page, or leave out --page",
                )
            settings["token_source"] = "page"
        else:
            settings["token_source"] = "user"
            settings["user_id"] = str(me["id"])
            app_id, app_secret = settings.get("app_id"), secrets.get("app_secret")
            if app_id and app_secret:
                # Page tokens read with a long-lived user token do not expire.
                token, expires_in = self._exchange(token, app_id, app_secret, refusing=PlatformRejected)
                self._extra_secrets.append(token)
                pages = self._managed_pages(token) or []
                secrets["user_access_token"] = token
                if expires_in:
                    settings["user_token_expires_at"] = (
                        datetime.now(timezone.utc) + timedelta(seconds=expires_in)
                    ).isoformat()
            unread: list[str] = []
            if not (identifier and any(self._matches(p, identifier) for p in pages)):
                pages, unread = with_business_pages(pages, self._get, token)
            page = self._choose(pages, identifier, token, unread)
            if not page.get("access_token"):
                page = {**page, **read_page_directly(self._get, str(page["id"]), token)}
            if not page.get("access_token"):
                raise PlatformRejected(
                    f"Facebook gave no Page token for {page.get('name')} (id {page['id']})",
                    platform=PLATFORM,
                    hint="the user needs the CREATE_CONTENT task on the Page and the pages_manage_posts permission",
                )
        page_id, name = str(page["id"]), str(page.get("name") or page["id"])
        settings.update({"page_id": page_id, "page_name": name})
        secrets["access_token"] = str(page["access_token"])
        self.ctx.settings = settings
        self.ctx.settings_changed = True
        self.ctx.secrets = secrets
        self.ctx.save_secrets(dict(secrets))
        self.ctx.external_id = page_id
        self.ctx.handle = name
        return AccountInfo(external_id=page_id, handle=name, display_name=name, token_expires_at=None)

    def _managed_pages(self, token: str) -> list[dict[str, Any]] | None:
        """The Pages a user token manages; None for a Page token (a Page has no /accounts)."""
        pages: list[dict[str, Any]] = []
        after: str | None = None
        for _ in range(_ACCOUNTS_PAGES):
            try:
                body = self._get(
                    "me/accounts", token=token, fields="id,name,access_token,tasks", limit=100, after=after
                )
            except PlatformRejected:
                if self._graph.last_error().get("code") == 100:
                    return None  # "(#100) Tried accessing nonexisting field (accounts) on node type (Page)"
                raise
            body = self._dict(body, "listing the Pages of the token")
            pages.extend(p for p in body.get("data") or [] if isinstance(p, dict) and p.get("id"))
            after = ((body.get("paging") or {}).get("cursors") or {}).get("after")
            if not after or not (body.get("paging") or {}).get("next"):
                break
        return pages

    @staticmethod
    def _matches(page: dict[str, Any], identifier: str) -> bool:
        wanted = identifier.strip()
        return wanted == str(page.get("id")) or wanted.casefold() == str(page.get("name") or "").strip().casefold()

    def _choose(
        self, pages: list[dict[str, Any]], identifier: str | None, token: str, unread: list[str]
    ) -> dict[str, Any]:
        listing = "; ".join(f"{p['id']} ({p.get('name')})" for p in pages)
        # Which business listings Graph would not answer: a Page of theirs is not offered.
        not_read = f" Facebook would not list {'; '.join(unread)}." if unread else ""
        wanted = (identifier or "").strip()
        if wanted.isdigit() and not any(self._matches(p, wanted) for p in pages):
            # A Page no listing shows (a task granted on the Page alone): ask for it by id.
            direct = read_page_directly(self._get, wanted, token)
            if direct.get("access_token"):
                return {"id": wanted, **direct}
        if not pages:
            raise PlatformRejected(
                f"this user token manages no Facebook Page.{not_read}",
                platform=PLATFORM,
                hint="grant the pages_show_list and pages_manage_posts permissions for the Page, or give a Page token",
            )
        if identifier:
            found = [p for p in pages if self._matches(p, identifier)]
            if len(found) == 1:
                return found[0]
            what = "several Pages are" if found else "no Page is"
            raise PlatformRejected(
                f"{what} named {identifier!r}; the token manages: {listing}.{not_read}",
                platform=PLATFORM,
                hint="pass --page with one of these ids",
            )
        if len(pages) == 1:
            return pages[0]
        raise PlatformRejected(
            f"the token manages several Pages: {listing}",
            platform=PLATFORM,
            hint="pass --page ID (or --page NAME) to choose one",
        )

    def _exchange(
        self, user_token: str, app_id: str, app_secret: str, *, refusing: type[PlatformError]
    ) -> tuple[str, int | None]:
        """A long-lived user token for `user_token` (GET /oauth/access_token, fb_exchange_token)."""
        params = {
            "grant_type": "fb_exchange_token",
            "client_id": app_id,
            "client_secret": app_secret,
            "fb_exchange_token": user_token,
        }
        try:
            body = self._call("GET", "oauth/access_token", params=params, with_token=False)
        except (PlatformRateLimited, AuthFailed):
            raise
        except PlatformError as exc:
            text = str(self._graph.last_error().get("message", "")).lower()
            # "Error validating client secret." comes as code 1, which graph_error takes for transient.
            if isinstance(exc, PlatformRejected) or any(w in text for w in ("secret", "client", "application")):
                raise refusing(
                    f"Facebook refused to exchange the user token for a long-lived one: {exc.message}",
                    platform=PLATFORM,
                    hint="check --app-id and POSTCLI_FACEBOOK_APP_SECRET",
                ) from None
            raise
        body = self._dict(body, "exchanging the user token")
        new = body.get("access_token")
        if not new:
            raise MalformedResponse(
                f"{self._graph.host} returned no access_token from the token exchange", platform=PLATFORM
            )
        return str(new), _int(body.get("expires_in"))

    # -- health -------------------------------------------------------------------

    def check_health(self) -> HealthResult:
        message = None
        if self._user_token_due():
            message = self._refresh()
        self._get(self._page_id(), fields="id")
        return HealthResult(ok=True, message=message, token_expires_at=None)

    def _user_token_due(self) -> bool:
        s, secrets = self.ctx.settings or {}, self.ctx.secrets or {}
        expires = _as_datetime(s.get("user_token_expires_at"))
        return (
            expires is not None
            and bool(secrets.get("user_access_token") and secrets.get("app_secret") and s.get("app_id"))
            and expires - datetime.now(timezone.utc) <= REFRESH_WINDOW
        )

    def _refresh(self) -> str | None:
        """Exchange the user token for a new long-lived one and re-read the Page token.

        Page tokens read with a long-lived user token do not expire, so a user
        token that can no longer be refreshed does not stop the account: it is
        dropped, and the identity call that follows decides.
        """
        s, secrets = self.ctx.settings, dict(self.ctx.secrets)
        try:
            token, expires_in = self._exchange(
                secrets["user_access_token"], s["app_id"], secrets["app_secret"], refusing=AuthFailed
            )
            self._extra_secrets.append(token)
            page = self._dict(
                self._get(self._page_id(), token=token, fields="access_token"), "re-reading the Page token"
            )
        except AuthFailed as exc:
            secrets.pop("user_access_token", None)
            self.ctx.secrets = secrets
            self.ctx.save_secrets(dict(secrets))
            self.ctx.settings = {k: v for k, v in s.items() if k != "user_token_expires_at"}
            self.ctx.settings_changed = True
            return f"the user token could not be refreshed ({exc.message}); the Page token is kept"
        if page.get("access_token"):
            secrets["access_token"] = str(page["access_token"])
        secrets["user_access_token"] = token
        self.ctx.secrets = secrets
        self.ctx.save_secrets(dict(secrets))  # at once: the old user token may be void now
        expires = datetime.now(timezone.utc) + timedelta(seconds=expires_in) if expires_in else None
        self.ctx.settings = {**s, "user_token_expires_at": expires.isoformat() if expires else None}
        self.ctx.settings_changed = True
        return None
