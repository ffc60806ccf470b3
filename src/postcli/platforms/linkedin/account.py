"""The LinkedIn account an adapter acts for: who posts (the member, or a Page through
organizationAcls), what the token's scopes let postcli read, connecting and health."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from postcli.platforms.base import (
    AccountInfo,
    AuthFailed,
    HealthResult,
    MalformedResponse,
    PlatformError,
    PlatformRejected,
    PlatformUnavailable,
)
from postcli.platforms.linkedin.api import Forbidden, LinkedInApi, scope_list
from postcli.platforms.linkedin.text import org_id, org_urn, person_urn
from postcli.platforms.values import as_utc, int_or_none

# Roles that may post as a Page (Posts API, w_organization_social); CONTENT_ADMINISTRATOR is
# the name newer pages use for CONTENT_ADMIN.
POSTING_ROLES = ("ADMINISTRATOR", "CONTENT_ADMIN", "CONTENT_ADMINISTRATOR", "DIRECT_SPONSORED_CONTENT_POSTER")
WARN_BEFORE_EXPIRY = timedelta(days=14)


class LinkedInAccount(LinkedInApi):
    """Who posts and what the token may do; connect and check_health."""

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self._withheld_now: set[str] = set()

    # -- who posts ------------------------------------------------------------------------

    def _settings(self) -> dict[str, Any]:
        return self.ctx.settings or {}

    def _author(self) -> str:
        author = self._settings().get("author") or self.ctx.external_id
        if not author:
            raise self._fail(AuthFailed, "no LinkedIn author is stored for this account", hint=self._reconnect_hint())
        return str(author)

    def _org(self) -> str | None:
        return org_id(self._author())

    def _allowed(self, scope: str) -> bool:
        """May the token do what `scope` grants: yes when it was granted, or when the scopes are
        unknown (a token from elsewhere) and LinkedIn has not refused it yet."""
        s = self._settings()
        scopes = s.get("scopes")
        if scope in (s.get("withheld") or []):
            return False
        return scopes is None or scope in scopes

    def _withhold(self, scope: str) -> None:
        """LinkedIn refused what `scope` grants (403): not asked again until the next sign-in."""
        self._withheld_now.add(scope)
        withheld = sorted({*(self._settings().get("withheld") or []), scope})
        self._learn(withheld=withheld)

    def _read_scope(self) -> str:
        return "r_organization_social" if self._org() else "r_member_social"

    # -- account ------------------------------------------------------------------------------

    def connect(self, identifier: str | None, secret: str) -> AccountInfo:
        """GET /v2/userinfo names the member (urn:li:person:{sub}); with --org, organizationAcls
        must show a role that may post as the Page. With the app's client id and secret the
        token's expiry and scopes come from token introspection."""
        token = (secret or "").strip()
        if not token:
            raise self._fail(AuthFailed, "a LinkedIn access token is required", hint="postcli accounts login linkedin")
        secrets = {k: v for k, v in (self.ctx.secrets or {}).items() if v}
        secrets["access_token"] = token
        self.ctx.secrets = secrets
        self.secrets_in_play()
        if secrets.get("refresh_token") and not self._can_refresh():
            raise self._fail(
                PlatformRejected,
                "a refresh token was given, but refreshing also needs --client-id and POSTCLI_LINKEDIN_CLIENT_SECRET",
                hint="give your app's client id and secret, or leave out the refresh token",
            )
        expires = as_utc(secrets.get("expires_at"))
        if expires is None or self._settings().get("scopes") is None:
            expires = self._introspected(token, expires)
        user = self.get_json(self._url("api", "/v2/userinfo"), "reading who the token belongs to", rest=False)
        sub = user.get("sub")
        if not isinstance(sub, str) or not sub:
            raise self._fail(MalformedResponse, "LinkedIn's /v2/userinfo named no member (sub)")
        member = person_urn(sub)
        name = user.get("name") or " ".join(str(user.get(k) or "") for k in ("given_name", "family_name")).strip()
        self._learn(member=member, member_name=name or None)
        if identifier:
            org = org_id(identifier) or identifier
            self._check_role(org)
            author = org_urn(org)
            org_name = self._org_name(org)
            handle, display = org_name or f"organization {org}", org_name
            self._learn(org_name=org_name)
        else:
            author, handle, display = member, name or sub, name or None
        self._learn(author=author)
        self.ctx.handle, self.ctx.external_id = handle, author
        if expires is not None:
            secrets["expires_at"] = expires.isoformat()
        self.ctx.secrets = secrets
        self.ctx.save_secrets(dict(secrets))
        return AccountInfo(external_id=author, handle=handle, display_name=display, token_expires_at=expires)

    def _introspected(self, token: str, expires: datetime | None) -> datetime | None:
        try:
            found = self.introspect(token)
        except PlatformUnavailable:
            return expires  # optional: the token is still checked by /v2/userinfo
        if not found:
            return expires
        if found.get("active") is False:
            raise self._fail(
                AuthFailed,
                "LinkedIn says the access token is not active (expired or revoked)",
                hint=self._reconnect_hint(),
            )
        scopes = scope_list(found.get("scope"))
        if scopes is not None:
            self._learn(scopes=scopes)
        stamp = int_or_none(found.get("expires_at"))
        return datetime.fromtimestamp(stamp, timezone.utc) if stamp else expires

    def _check_role(self, org: str) -> None:
        """organizationAcls?q=roleAssignee: the member's approved roles on Pages
        (…/organizations/organization-access-control-by-role)."""
        url = self._url("api", "/rest/organizationAcls?q=roleAssignee&state=APPROVED&count=100")
        try:
            body = self.get_json(url, "reading your roles on LinkedIn Pages")
        except Forbidden:
            raise self._fail(
                PlatformRejected,
                "LinkedIn did not let postcli read your Page roles (organizationAcls)",
                hint="sign in with the Page scopes: postcli accounts login linkedin --org "
                f"{org} (your app needs the Community Management API product)",
            ) from None
        roles: dict[str, set[str]] = {}
        for el in body.get("elements") or []:
            if isinstance(el, dict) and el.get("state", "APPROVED") == "APPROVED":
                page = org_id(str(el.get("organization") or ""))
                if page:
                    roles.setdefault(page, set()).add(str(el.get("role")))
        if roles.get(org, set()) & set(POSTING_ROLES):
            return
        can = sorted(p for p, r in roles.items() if r & set(POSTING_ROLES))
        have = ", ".join(sorted(roles.get(org, set()))) or "no role"
        raise self._fail(
            PlatformRejected,
            f"you cannot post as the LinkedIn Page {org} ({have} there; posting needs one of "
            f"{', '.join(POSTING_ROLES)}); Pages you can post as: {', '.join(can) or 'none'}",
            hint="ask an administrator of the Page for a role, or pass another --org",
        )

    def _org_name(self, org: str) -> str | None:
        try:
            found = self.get_json(self._url("api", f"/rest/organizations/{org}"), "reading the Page's name")
        except PlatformError:
            return None  # the name is for people; the id is what counts
        name = found.get("localizedName") or found.get("vanityName")
        return str(name) if name else None

    def check_health(self) -> HealthResult:
        """Refresh a token near its end where the app can; then GET /v2/userinfo; warn before
        a token that cannot be refreshed ends."""
        if self._can_refresh() and self._refresh_due():
            with self._lock:
                if self._refresh_due():
                    self._refresh()
        user = self.get_json(self._url("api", "/v2/userinfo"), "checking the access token", rest=False)
        expires = self._expires_at()
        member = self._settings().get("member")
        if member and isinstance(user.get("sub"), str) and person_urn(user["sub"]) != member:
            return HealthResult(
                ok=False,
                error_code="other_member",
                message="the stored token belongs to another LinkedIn member",
                token_expires_at=expires,
            )
        message = None
        if expires is not None and not self._can_refresh() and expires - self._now() < WARN_BEFORE_EXPIRY:
            message = (
                f"the access token ends on {expires:%Y-%m-%d} (LinkedIn tokens last 60 days); sign in "
                f"again before then: {self._reconnect_hint().split(': ', 1)[-1]}"
            )
        return HealthResult(ok=True, message=message, token_expires_at=expires)
