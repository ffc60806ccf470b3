"""Google Business Profile adapter: local posts on one location, on a Google account's OAuth tokens.

References (docs/platforms/google-business.md lists what each choice rests on):
  https://developers.google.com/my-business/reference/rest/v4/accounts.locations.localPosts
      create (POST .../localPosts), list (GET, pageSize up to 100, nextPageToken), get, delete
  https://developers.google.com/my-business/content/posts-data      (post examples)
  https://developers.google.com/my-business/content/limits         (quotas; a quota of 0 = no access)
  https://developers.google.com/my-business/reference/businessinformation/rest/v1/locations/get

Google's plumbing (the HTTP client, its errors, token refresh) is platforms/google_api.py; which
location an account posts to, locations.py; the post's body and its checks, rules.py; the
location's numbers, performance.py. Local posts have no numbers of their own (the v4
reportInsights for posts is gone): a target here never gets a snapshot (has_metrics = False).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Iterator

from postcli.platforms import google_oauth
from postcli.platforms.base import (
    AccountInfo,
    AccountMetrics,
    AuthFailed,
    HealthResult,
    Limits,
    MalformedResponse,
    PlatformError,
    PlatformRateLimited,
    PlatformRejected,
    PostMetrics,
    PublishRequest,
    PublishResult,
    RemoteNotFound,
)
from postcli.platforms.google_api import GoogleApi
from postcli.platforms.google_business import locations, performance, rules
from postcli.platforms.google_business.spec import SPEC
from postcli.platforms.spec import PlatformSpec
from postcli.platforms.values import as_dict, as_str, as_utc

POSTS_PAGE = 100  # localPosts.list: "maximum page size is 100"
RECENT_PAGES = 3
# Not documented as such; Google's Business Profile help for post photos (docs/platforms/google-business.md).
MAX_IMAGE_BYTES = 5_000_000
ACCESS_FORM = "https://support.google.com/business/contact/api_default"
NO_ACCESS = (
    "your Google Cloud project has a quota of 0 for the Business Profile APIs: Google has not approved its API "
    f"access yet, so every call is refused (apply for Basic API access at {ACCESS_FORM})"
)
NO_ACCESS_HINT = (
    f"apply for Basic API access ({ACCESS_FORM}) with the project's number, wait for Google's approval (days, not "
    "minutes), then run the command again; a quota increase request does not help with a quota of 0"
)
MAYBE_NO_ACCESS = (
    "if every call ends like this, the project may not have Business Profile API access yet (a quota of 0): "
    + NO_ACCESS_HINT
)


def _error_info(body: Any) -> tuple[str | None, dict[str, Any]]:
    """The reason and metadata of a google.rpc.ErrorInfo in an error's details (AIP-193)."""
    for detail in as_dict(as_dict(body).get("error")).get("details") or []:
        detail = as_dict(detail)
        if str(detail.get("@type") or "").endswith("google.rpc.ErrorInfo"):
            return as_str(detail.get("reason")), as_dict(detail.get("metadata"))
    return None, {}


def _violations(body: Any) -> str:
    """The field violations of a google.rpc.BadRequest in an error's details, as one text."""
    found = []
    for detail in as_dict(as_dict(body).get("error")).get("details") or []:
        for v in as_dict(detail).get("fieldViolations") or []:
            v = as_dict(v)
            found.append(f"{v.get('field') or '?'}: {v.get('description') or 'invalid'}")
    return "; ".join(found)


class GoogleBusinessAdapter(GoogleApi):
    """One Business Profile location, as the Google account that signed in manages it."""

    spec: ClassVar[PlatformSpec] = SPEC
    has_metrics: ClassVar[bool] = False  # no numbers per post: collect and reports skip its targets
    # No idempotency key: a lost answer is found among the location's recent local posts.
    reconciles_by_recent_posts: ClassVar[bool] = True
    reconcile_oldest_match: ClassVar[bool] = True  # localPosts.list documents no order
    reconcile_margin: ClassVar[timedelta] = timedelta(minutes=10)

    # -- plumbing --------------------------------------------------------------------

    def error(self, response: Any, body: Any, what: str) -> PlatformError:
        """Google's errors, with what the Business Profile APIs add: a quota of 0 (no API access
        approved yet) and an API not enabled in the user's project."""
        reason, meta = _error_info(body)
        host = self.host_of(str(response.request.url))
        if response.status_code == 429 and str(meta.get("quota_limit_value")) == "0":
            return self.fail(
                PlatformRateLimited,
                f"{host} refused the request while {what}: {NO_ACCESS}",
                retry_after=86_400.0,
                hint=NO_ACCESS_HINT,
            )
        if reason == "SERVICE_DISABLED":
            service = meta.get("service") or host
            return self.fail(
                PlatformRejected,
                f"{service} is not enabled in your Google Cloud project (while {what})",
                hint=f"enable it at https://console.cloud.google.com/apis/library/{service}, wait a few minutes, "
                "then try again (docs/signin.md lists the APIs postcli uses)",
            )
        if response.status_code == 400 and _violations(body):
            message = as_str(as_dict(as_dict(body).get("error")).get("message")) or "HTTP 400"
            return self.fail(
                PlatformRejected, f"{host} refused the request while {what}: {message} ({_violations(body)})"
            )
        exc = super().error(response, body, what)
        if response.status_code == 429:
            exc.hint = MAYBE_NO_ACCESS
        elif response.status_code == 403 and isinstance(exc, PlatformRejected):
            exc.hint = (
                "the signed-in Google account may no longer manage this location, or the sign-in lacks the "
                "business.manage scope; " + self.reconnect_hint()
            )
        return exc

    def _settings(self) -> dict[str, Any]:
        return self.ctx.settings or {}

    def _parent(self) -> str:
        parent = self._settings().get("location_parent")
        if not parent:
            raise self.fail(
                PlatformRejected, "the account does not say which location it posts to", hint=self.reconnect_hint()
            )
        return str(parent)

    def _post_url(self, name: str) -> str:
        return self.url("api", f"/v4/{name}")

    def _post_name(self, post_id: str) -> str:
        value = post_id.strip()
        return value if value.startswith("accounts/") else f"{self._parent()}/localPosts/{value}"

    # -- account ---------------------------------------------------------------------

    def _adopt_token(self, secret: str) -> datetime | None:
        """Keep `secret` as the access token; with a refresh token, client id and secret, refresh
        once (it proves they work). Returns when the sign-in ends, if it does."""
        token = (secret or "").strip()
        if not token:
            raise self.fail(AuthFailed, "a Google OAuth access token is required", hint=self.reconnect_hint())
        kept = {k: v for k, v in (self.ctx.secrets or {}).items() if v and k != "expires_at"}
        self.ctx.secrets = {**kept, "access_token": token}
        self._remember_secrets()
        settings = {k: v for k, v in self._settings().items() if v is not None}
        status = settings.setdefault("app_status", "testing")
        self.ctx.settings = settings
        if not self._can_refresh():
            if kept.get("refresh_token"):
                raise self.fail(
                    PlatformRejected,
                    "a refresh token was given, but refreshing also needs --client-id and a client secret",
                    hint=f"set {self.spec.env_prefix}CLIENT_SECRET and pass --client-id, or sign in with "
                    "postcli accounts login google-business",
                )
            return None
        with self._lock:
            answer = self._refresh()
        now = datetime.now(timezone.utc)
        if answer.get("refresh_token_expires_in"):
            return google_oauth.refresh_expiry(answer, status, now)
        return google_oauth.sign_in_ends(settings) or google_oauth.refresh_expiry({}, status, now)

    def connect(self, identifier: str | None, secret: str) -> AccountInfo:
        """Check the token by listing the locations it manages (accounts.list, then each
        account's locations.list) and keep the one to post to."""
        ends = self._adopt_token(secret)
        place = locations.pick(locations.list_locations(self), identifier, self.platform)
        settings = dict(self._settings())
        settings.update(
            account_name=place.account,
            location_name=place.name,
            location_parent=place.parent,
            location_title=place.title,
            maps_uri=place.maps_uri,
            refresh_expires_at=ends.isoformat() if ends else None,
        )
        self.ctx.settings = {k: v for k, v in settings.items() if v is not None}
        self.ctx.settings_changed = True
        self.ctx.handle, self.ctx.external_id = place.title, place.id
        self.ctx.token_expires_at = ends
        self.ctx.save_secrets(dict(self.ctx.secrets))
        return AccountInfo(external_id=place.id, handle=place.title, display_name=place.label, token_expires_at=ends)

    def limits(self) -> Limits:
        return Limits(
            max_text=rules.MAX_SUMMARY,
            max_images=1,
            max_videos=0,  # local posts take photos only (MediaItem mediaFormat PHOTO)
            max_image_bytes=MAX_IMAGE_BYTES,
            mime_types=("image/jpeg", "image/png"),
            needs_public_media_url=True,  # Google fetches media[].sourceUrl itself
        )

    def text_length(self, text: str) -> int:
        return len(text)

    # -- publishing ------------------------------------------------------------------

    def publish(self, req: PublishRequest) -> PublishResult:
        """POST /v4/accounts/{a}/locations/{l}/localPosts; everything checked before it is sent."""
        bad = rules.problems(req.link, req.fields)
        if len(req.media) > 1 or any(m.is_video for m in req.media):
            bad.append("a local post takes one photo and no video.")
        if req.media and not req.media[0].public_url:
            bad.append(
                "Google fetches the photo from a public URL: configure the S3 media store ([s3], docs/media.md)."
            )
        if bad:
            raise self.fail(PlatformRejected, "cannot publish to Google Business Profile: " + " ".join(bad))
        image = req.media[0].public_url if req.media else None
        body = rules.local_post(req.text, req.link, req.fields, image)
        post = self.call("POST", self._post_url(f"{self._parent()}/localPosts"), "publishing the local post", json=body)
        return self.result(as_dict(post))

    def result(self, post: dict[str, Any]) -> PublishResult:
        name = as_str(post.get("name"))
        if not name:
            raise self.fail(MalformedResponse, "Google described a local post without its name")
        if post.get("state") == "REJECTED":
            raise self.fail(
                PlatformRejected,
                f"Google rejected local post {name} (state REJECTED): it breaks a Business Profile content policy "
                "(a phone number in the text is a common cause)",
                hint="change the text and publish a new post; the rejected one is shown in Business Profile Manager",
            )
        return PublishResult(
            platform_post_id=name,
            url=as_str(post.get("searchUrl")),
            published_at=as_utc(post.get("createTime")) or datetime.now(timezone.utc),
            text=as_str(post.get("summary")),
            author=self.ctx.external_id,
        )

    def find_published(self, req: PublishRequest) -> PublishResult | None:
        """After an unknown outcome: the post among the location's recent local posts (the same
        text, kind and photo count, created since the first attempt). A post made by hand with
        the same text in that window is taken for ours: the API offers nothing better."""
        return self.find_in_recent_posts(req)

    def recent_posts(self, since: datetime | None) -> Iterator[dict[str, Any]]:
        url = self._post_url(f"{self._parent()}/localPosts")
        params: dict[str, Any] = {"pageSize": POSTS_PAGE}
        for _ in range(RECENT_PAGES):
            body = as_dict(self.call("GET", url, "looking for the post among the location's posts", params=params))
            yield from (p for p in body.get("localPosts") or [] if isinstance(p, dict))
            token = as_str(body.get("nextPageToken"))
            if not token:
                return
            params["pageToken"] = token

    def post_created_at(self, post: dict[str, Any]) -> datetime | None:
        return as_utc(post.get("createTime"))

    def same_post(self, post: dict[str, Any], req: PublishRequest) -> bool:
        kind = str(req.fields.get("type") or "STANDARD")
        return (
            str(post.get("summary") or "").strip() == req.text.strip()
            and str(post.get("topicType") or "STANDARD") == kind
            and len(post.get("media") or []) == len(req.media)
        )

    def reconciled(self, post: dict[str, Any], req: PublishRequest) -> PublishResult:
        return self.result(post)

    def delete(self, platform_post_id: str) -> None:
        """localPosts.delete; a post already gone (404) is what was wanted."""
        name = self._post_name(platform_post_id)
        try:
            self.call("DELETE", self._post_url(name), f"deleting local post {name}", ok=(200, 204))
        except RemoteNotFound:
            pass

    # -- metrics ---------------------------------------------------------------------

    def fetch_post_metrics(self, platform_post_ids: list[str]) -> dict[str, PostMetrics | None]:
        """Never called (has_metrics = False): Google reports no numbers per local post."""
        raise self.fail(PlatformRejected, "Google Business Profile reports no numbers per post")

    def fetch_account_metrics(self) -> AccountMetrics:
        """The location's views, calls, website clicks and direction requests over the 28 days
        up to yesterday (performance.py)."""
        location = self._settings().get("location_name")
        if not location:
            raise self.fail(PlatformRejected, "the account does not name its location", hint=self.reconnect_hint())
        start, end = performance.window(datetime.now(timezone.utc).date())
        body = self.call(
            "GET",
            self.url("performance", f"/v1/{location}:fetchMultiDailyMetricsTimeSeries"),
            "reading the location's performance",
            params=performance.params(start, end),
        )
        return performance.account_metrics(body, start, end)

    # -- health and import -----------------------------------------------------------

    def check_health(self) -> HealthResult:
        """Refresh when due, then read the location (locations.get); warns when the sign-in ends soon."""
        location = self._settings().get("location_name") or f"locations/{self.ctx.external_id}"
        self.call(
            "GET",
            self.url("information", f"/v1/{location}"),
            "checking the location",
            params={"readMask": "name,title"},
        )
        ends = google_oauth.sign_in_ends(self._settings())
        message = google_oauth.ending_message(ends)
        if not self._can_refresh():
            message = "the access token cannot be refreshed (no refresh token) and lasts an hour; " + (
                self.reconnect_hint()
            )
        return HealthResult(ok=True, message=message, token_expires_at=ends)

    def resolve_post(self, url_or_id: str) -> PublishResult:
        """A local post by its name (accounts/A/locations/L/localPosts/P) or its id at this location."""
        value = url_or_id.strip()
        if not value or "://" in value or (not value.startswith("accounts/") and "/" in value):
            raise self.fail(
                RemoteNotFound,
                f"{url_or_id!r} is not a local post name or id",
                hint="give accounts/A/locations/L/localPosts/ID, or the post's id at this location "
                "(Google's search links do not name the post)",
            )
        name = self._post_name(value)
        if not name.startswith(self._parent() + "/localPosts/"):
            raise self.fail(RemoteNotFound, f"{name} is not a post of this account's location ({self._parent()})")
        return self.result(as_dict(self.call("GET", self._post_url(name), f"reading local post {name}")))
