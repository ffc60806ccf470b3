"""Facebook Pages adapter over the Graph API (postcli.platforms.graph underneath).

The account is one Page. Its Page access token is `secrets["access_token"]`;
with a user token (and the app's id and secret) postcli also keeps the
long-lived user token, only to re-read the Page token when it refreshes it.

Wire choices, each from the Graph API docs (see docs/platforms/facebook.md):
- the Graph version of graph.DEFAULT_GRAPH_VERSION (v27.0), `[graph] version` in
  config.toml, or the account's `settings["api_version"]` (`--graph-version`);
- post metrics through the Batch API (POST / with `batch=`), 50 requests a
  call: v26.0 removed the root `GET /?ids=` lookup (and removes it from every
  version on 2026-10-27); a batch also answers per post, so a deleted post is
  one error among successes instead of a failed call;
- insights with the 2025 names (`post_media_view`, `post_total_media_view_unique`):
  a name Graph refuses is dropped and remembered in settings, never a failed run.

No secret (Page token, user token, app secret) ever appears in a message.
"""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, ClassVar
from urllib.parse import parse_qs, urlencode, urlparse

from postcli.platforms.base import (
    AccountContext,
    AccountInfo,
    AccountMetrics,
    AuthFailed,
    HealthResult,
    Limits,
    MalformedResponse,
    MediaItem,
    PlatformError,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
    PostMetrics,
    PublishRequest,
    PublishResult,
    RemoteNotFound,
)
from postcli.platforms.facebook_pages import read_page_directly, view_count, with_business_pages
from postcli.platforms.graph import GraphClient, graph_error, graph_version_for
from postcli.platforms.values import as_utc, int_or_none

_as_datetime = as_utc
_int = int_or_none

PLATFORM = "facebook"
DEFAULT_BASE_URL = "https://graph.facebook.com"
# The Graph version: graph.DEFAULT_GRAPH_VERSION unless config ([graph] version) or the
# account (settings["api_version"], from `accounts add facebook --graph-version`) says otherwise.

# Page feed reference: a post's message holds at most 63,206 characters.
MAX_TEXT = 63_206
# Photo reference: static images must be under 10 MB.
MAX_IMAGE_BYTES = 10 * 1024 * 1024
# postcli's own cap on photos in one multi-photo post (Graph documents none).
MAX_IMAGES = 10
# Photo reference lists JPEG, PNG, GIF (also BMP/TIFF, which postcli does not accept);
# WebP is not listed, so it is not offered.
MIME_TYPES = ("image/jpeg", "image/png", "image/gif", "video/mp4", "video/quicktime")

BATCH_LIMIT = 50  # Batch API: at most 50 requests in one batch
POST_METRICS = ("post_media_view", "post_total_media_view_unique", "post_clicks")
PAGE_METRICS = ("page_media_view", "page_total_media_view_unique")
ENGAGEMENT_FIELDS = "reactions.limit(0).summary(total_count),comments.limit(0).summary(total_count),shares"

REFRESH_WINDOW = timedelta(days=7)
# Reconciliation looks at posts created this long before the first attempt (clock skew).
RECONCILE_MARGIN = timedelta(minutes=10)
_RECONCILE_PAGES = 4
_PAGE_SIZE = 25
_ACCOUNTS_PAGES = 10

AUTH_HINT = "reconnect it: postcli accounts add facebook --page PAGE_ID (with a new token)"


# --- small helpers -------------------------------------------------------------


def _normalized(text: str | None) -> str:
    # Facebook trims the message and normalizes line endings; compare what survives.
    return "\n".join(line.rstrip() for line in (text or "").replace("\r\n", "\n").strip().split("\n"))


def _app_usage_seconds(headers: Any) -> float | None:
    """Estimated wait from X-App-Usage (percentages of a rolling one-hour window).

    The header carries no reset time. If calls were spread evenly over the hour,
    usage falls below 100% once (peak - 100) / peak of the window has aged out;
    never less than five minutes.
    """
    raw = headers.get("X-App-Usage") if headers is not None else None
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    values = [v for v in data.values() if isinstance(v, (int, float))] if isinstance(data, dict) else []
    if not values or max(values) < 100:
        return None
    peak = float(max(values))
    return max(300.0, 3600.0 * (peak - 100.0) / peak)


class _Graph(GraphClient):
    """GraphClient that remembers each thread's last response.

    graph_error keeps only a message; the error code (to tell a Page token from
    a user token, or an unknown insights metric) and the X-App-Usage header are
    read from the response itself.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._local = threading.local()
        self._hooked: Any = None

    def _http(self) -> Any:
        client = super()._http()
        if self._hooked is not client:
            client.event_hooks["response"].append(self._remember)
            self._hooked = client
        return client

    def _remember(self, response: Any) -> None:
        self._local.response = response

    def last_response(self) -> Any:
        return getattr(self._local, "response", None)

    def last_error(self) -> dict[str, Any]:
        response = self.last_response()
        if response is None:
            return {}
        try:
            err = response.json().get("error")
        except Exception:  # body not read, not JSON, not a dict
            return {}
        return err if isinstance(err, dict) else {}


def _error_of(body: Any) -> dict[str, Any]:
    err = body.get("error") if isinstance(body, dict) else None
    return err if isinstance(err, dict) else {}


def _invalid_metric(err: dict[str, Any]) -> bool:
    # "(#100) The value must be a valid insights metric"
    return err.get("code") == 100 and "metric" in str(err.get("message", "")).lower()


def _no_insights_permission(err: dict[str, Any]) -> bool:
    # (#10) / (#200-299): the token lacks read_insights (the ANALYZE task).
    code = err.get("code")
    return isinstance(code, int) and (code == 10 or 200 <= code < 300)


# --- the adapter -----------------------------------------------------------------


class FacebookAdapter:
    """One Facebook Page (`ctx.settings["page_id"]`)."""

    platform: ClassVar[str] = PLATFORM
    default_base_url: ClassVar[str] = DEFAULT_BASE_URL
    has_metrics: ClassVar[bool] = True
    metrics_batch_size: ClassVar[int] = BATCH_LIMIT
    metrics_request_per_post = True  # one request per post (Graph counts batch items singly)
    # Page insights update about once a day: keep collecting a post for two days.
    min_collect_hours: ClassVar[int] = 48

    # A video's Page post appears once Facebook has taken the upload in.
    video_post_timeout: ClassVar[float] = 120.0
    _first_poll_delay: ClassVar[float] = 0.5
    _max_poll_delay: ClassVar[float] = 5.0

    def __init__(self, ctx: AccountContext) -> None:
        self.ctx = ctx
        self._graph_client: _Graph | None = None
        self._lock = threading.Lock()
        self._extra_secrets: list[str] = []
        self._sleep: Callable[[float], None] = time.sleep
        self._clock: Callable[[], float] = time.monotonic

    # -- plumbing ------------------------------------------------------------

    @property
    def _version(self) -> str:
        return graph_version_for(self.ctx.settings, self.ctx.graph_version)

    @property
    def _graph(self) -> _Graph:
        with self._lock:
            if self._graph_client is None:
                self._graph_client = _Graph(
                    base_url=self.ctx.api_base_url or DEFAULT_BASE_URL,
                    version=self._version,
                    token=self._page_token,
                    platform=PLATFORM,
                    timeout=self.ctx.timeout,
                )
            return self._graph_client

    def _page_token(self) -> str:
        token = (self.ctx.secrets or {}).get("access_token")
        if not token:
            raise AuthFailed("no Page access token is stored for this Facebook account",
                             platform=PLATFORM, hint=AUTH_HINT)
        return str(token)

    def _page_id(self) -> str:
        page_id = (self.ctx.settings or {}).get("page_id") or self.ctx.external_id
        if not page_id:
            raise PlatformError("this Facebook account has no Page id; reconnect it",
                                platform=PLATFORM, hint=AUTH_HINT)
        return str(page_id)

    def _secrets(self) -> list[str]:
        s = self.ctx.secrets or {}
        values = [s.get("access_token"), s.get("user_access_token"), s.get("app_secret"), *self._extra_secrets]
        return [str(v) for v in values if v and len(str(v)) >= 4]

    def _scrub(self, exc: PlatformError) -> PlatformError:
        message = exc.message
        for secret in self._secrets():
            message = message.replace(secret, "***")
        if message != exc.message:
            exc.message = message
            exc.args = (message,)
        return exc

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One Graph request; every failure leaves as a scrubbed typed error."""
        try:
            return self._graph.request(method, path, **kwargs)
        except PlatformRateLimited as exc:
            if exc.retry_after is None:
                response = self._graph.last_response()
                exc.retry_after = _app_usage_seconds(response.headers if response is not None else None)
            raise self._scrub(exc) from None
        except AuthFailed as exc:
            exc.hint = exc.hint or AUTH_HINT
            raise self._scrub(exc) from None
        except PlatformError as exc:
            raise self._scrub(exc) from None

    def _get(self, path: str, *, token: str | None = None, **params: Any) -> Any:
        return self._call("GET", path, params=params, token=token)

    def _dict(self, body: Any, what: str) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise MalformedResponse(f"{self._graph.host} sent an unexpected answer while {what}", platform=PLATFORM)
        return body

    # -- connect ---------------------------------------------------------------

    def connect(self, identifier: str | None, secret: str) -> AccountInfo:
        token = (secret or "").strip()
        if not token:
            raise AuthFailed("a Facebook access token is required", platform=PLATFORM,
                             hint="give a Page access token, or a user token that manages the Page")
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
                    platform=PLATFORM, hint="give the token of that Page, or leave out --page",
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
            if not (identifier and any(self._matches(p, identifier) for p in pages)):
                pages = with_business_pages(pages, self._get, token)
            page = self._choose(pages, identifier, token)
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
                body = self._get("me/accounts", token=token, fields="id,name,access_token,tasks",
                                 limit=100, after=after)
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

    def _choose(self, pages: list[dict[str, Any]], identifier: str | None, token: str) -> dict[str, Any]:
        listing = "; ".join(f"{p['id']} ({p.get('name')})" for p in pages)
        wanted = (identifier or "").strip()
        if wanted.isdigit() and not any(self._matches(p, wanted) for p in pages):
            # A Page no listing shows (a task granted on the Page alone): ask for it by id.
            direct = read_page_directly(self._get, wanted, token)
            if direct.get("access_token"):
                return {"id": wanted, **direct}
        if not pages:
            raise PlatformRejected(
                "this user token manages no Facebook Page", platform=PLATFORM,
                hint="grant the pages_show_list and pages_manage_posts permissions for the Page, or give a Page token",
            )
        if identifier:
            found = [p for p in pages if self._matches(p, identifier)]
            if len(found) == 1:
                return found[0]
            what = "several Pages are" if found else "no Page is"
            raise PlatformRejected(f"{what} named {identifier!r}; the token manages: {listing}",
                                   platform=PLATFORM, hint="pass --page with one of these ids")
        if len(pages) == 1:
            return pages[0]
        raise PlatformRejected(f"the token manages several Pages: {listing}", platform=PLATFORM,
                               hint="pass --page ID (or --page NAME) to choose one")

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
                    platform=PLATFORM, hint="check --app-id and POSTCLI_FACEBOOK_APP_SECRET",
                ) from None
            raise
        body = self._dict(body, "exchanging the user token")
        new = body.get("access_token")
        if not new:
            raise MalformedResponse(f"{self._graph.host} returned no access_token from the token exchange",
                                    platform=PLATFORM)
        return str(new), _int(body.get("expires_in"))

    # -- limits ------------------------------------------------------------------

    def limits(self) -> Limits:
        return Limits(
            max_text=MAX_TEXT,
            count_unit="characters",
            max_images=MAX_IMAGES,
            max_videos=1,
            max_image_bytes=MAX_IMAGE_BYTES,
            max_video_bytes=None,
            max_alt_text=None,
            mime_types=MIME_TYPES,
            images_and_video=False,
            needs_public_media_url=False,
        )

    def text_length(self, text: str) -> int:
        return len(text or "")

    # -- publishing ----------------------------------------------------------------

    def _check(self, req: PublishRequest) -> None:
        """Refuse what Facebook would refuse, before anything is sent."""
        length = self.text_length(req.text)
        if length > MAX_TEXT:
            raise PlatformRejected(f"the text is {length} characters; a Facebook post takes at most {MAX_TEXT}",
                                   platform=PLATFORM)
        videos = [m for m in req.media if m.is_video]
        images = [m for m in req.media if not m.is_video]
        problems = [f"{m.path.name} is {m.mime_type}" for m in req.media if m.mime_type not in MIME_TYPES]
        if videos and images:
            problems.append("a video cannot share a post with photos")
        if len(videos) > 1:
            problems.append("one video per post")
        if len(images) > MAX_IMAGES:
            problems.append(f"{len(images)} photos (at most {MAX_IMAGES})")
        problems += [f"{m.path.name} is over 10 MB" for m in images if m.size_bytes > MAX_IMAGE_BYTES]
        if not req.text.strip() and not req.media:
            problems.append("the post is empty")
        if problems:
            raise PlatformRejected("cannot publish to Facebook: " + "; ".join(problems), platform=PLATFORM)

    def publish(self, req: PublishRequest) -> PublishResult:
        self._check(req)
        page_id = self._page_id()
        videos = [m for m in req.media if m.is_video]
        if videos:
            return self._publish_video(page_id, req.text, videos[0])
        data: dict[str, Any] = {"message": req.text or None}
        for i, item in enumerate(req.media):
            # Photos uploaded unpublished, then attached: one post with all of them.
            data[f"attached_media[{i}]"] = json.dumps({"media_fbid": self._upload_photo(page_id, item)})
        body = self._dict(self._call("POST", f"{page_id}/feed", data=data), "publishing the post")
        if not body.get("id"):
            raise MalformedResponse(f"{self._graph.host} returned no post id", platform=PLATFORM)
        return self._read_back(str(body["id"]), req.text)

    def _open(self, item: MediaItem) -> Any:
        try:
            return open(item.path, "rb")
        except OSError as exc:
            raise PlatformError(f"cannot read media file {item.path.name}: {exc.strerror or exc}",
                                platform=PLATFORM) from None

    def _upload_photo(self, page_id: str, item: MediaItem) -> str:
        data = {"published": "false", "alt_text_custom": item.alt_text or None}
        with self._open(item) as fh:
            body = self._call("POST", f"{page_id}/photos", data=data,
                              files={"source": (item.path.name, fh, item.mime_type)})
        photo_id = self._dict(body, f"uploading {item.path.name}").get("id")
        if not photo_id:
            raise MalformedResponse(f"{self._graph.host} returned no photo id for {item.path.name}", platform=PLATFORM)
        return str(photo_id)

    def _publish_video(self, page_id: str, text: str, item: MediaItem) -> PublishResult:
        data: dict[str, Any] = {"description": text or None}
        if item.public_url:
            # Facebook fetches the file itself: no large upload through this connection.
            data["file_url"] = item.public_url
            body = self._call("POST", f"{page_id}/videos", data=data)
        else:
            with self._open(item) as fh:
                body = self._call("POST", f"{page_id}/videos", data=data,
                                  files={"source": (item.path.name, fh, item.mime_type)})
        video_id = self._dict(body, f"uploading {item.path.name}").get("id")
        if not video_id:
            raise MalformedResponse(f"{self._graph.host} returned no video id", platform=PLATFORM)
        return self._video_post(str(video_id), text, item.path.name)

    def _video_post(self, video_id: str, text: str, name: str) -> PublishResult:
        """Wait for the Page post of an uploaded video (Video.post_id)."""
        deadline = self._clock() + self.video_post_timeout
        delay = self._first_poll_delay
        while True:
            video = self._dict(self._get(video_id, fields="post_id,permalink_url,created_time,status"),
                               f"waiting for {name}")
            status = (video.get("status") or {}).get("video_status")
            if status == "error":
                raise PlatformRejected(f"Facebook could not process {name}", platform=PLATFORM)
            if video.get("post_id"):
                return self._read_back(str(video["post_id"]), text)
            if self._clock() + delay > deadline:
                raise PlatformUnavailable(
                    f"Facebook took {name} (video {video_id}) but had not made its post after "
                    f"{self.video_post_timeout:g} s",
                    platform=PLATFORM, hint="postcli looks for the post before it sends the video again",
                )
            self._sleep(delay)
            delay = min(delay * 1.5, self._max_poll_delay)

    def _read_back(self, post_id: str, text: str | None) -> PublishResult:
        try:
            post = self._dict(self._get(post_id, fields="id,permalink_url,created_time"), "reading the new post")
        except PlatformError:
            # The post exists; only its link is unknown. Never report a success as a failure.
            return PublishResult(platform_post_id=post_id, url=self._fallback_url(post_id), text=text)
        return self._result(post, text)

    def _fallback_url(self, post_id: str) -> str:
        page, _, story = post_id.partition("_")
        return f"https://www.facebook.com/{page}/posts/{story}" if story else f"https://www.facebook.com/{post_id}"

    def _result(self, post: dict[str, Any], text: str | None = None) -> PublishResult:
        post_id = str(post["id"])
        url = post.get("permalink_url")
        if isinstance(url, str) and url.startswith("/"):
            url = "https://www.facebook.com" + url
        return PublishResult(
            platform_post_id=post_id,
            url=url or self._fallback_url(post_id),
            published_at=_as_datetime(post.get("created_time")),
            text=post.get("message") if text is None else text,
        )

    def find_published(self, req: PublishRequest) -> PublishResult | None:
        """Was `req` already published? Graph has no idempotency keys.

        Looks at the Page's own posts created since the first attempt (minus ten
        minutes of clock skew; the last day when the first attempt is unknown),
        newest first, up to 100 posts, for one whose message is exactly the text.
        An identical post made outside postcli in that window is taken for ours.
        """
        first = req.first_attempt_at
        if first is not None and first.tzinfo is None:
            first = first.replace(tzinfo=timezone.utc)
        since = (first or datetime.now(timezone.utc) - timedelta(days=1)) - RECONCILE_MARGIN
        wanted = _normalized(req.text)
        after: str | None = None
        for _ in range(_RECONCILE_PAGES):
            body = self._dict(self._get(
                f"{self._page_id()}/posts", fields="id,message,created_time,permalink_url",
                since=int(since.timestamp()), limit=_PAGE_SIZE, after=after,
            ), "looking for an earlier attempt")
            for post in body.get("data") or []:
                created = _as_datetime(post.get("created_time"))
                if created is not None and created < since:
                    return None
                if _normalized(post.get("message")) == wanted and post.get("id"):
                    return self._result(post, req.text)
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not after or not paging.get("next"):
                return None
        return None

    def delete(self, platform_post_id: str) -> None:
        try:
            self._call("DELETE", platform_post_id)
        except RemoteNotFound:
            pass  # already gone is what we wanted

    # -- metrics -------------------------------------------------------------------

    def _batch(self, relative_urls: list[str]) -> list[tuple[int | None, Any]]:
        """One Batch API call: (status, decoded body) per request; (None, None) if it did not run."""
        batch = json.dumps([{"method": "GET", "relative_url": url} for url in relative_urls])
        answers = self._call("POST", "", data={"batch": batch, "include_headers": "false"})
        if not isinstance(answers, list) or len(answers) != len(relative_urls):
            raise MalformedResponse(f"{self._graph.host} answered the batch with something else", platform=PLATFORM)
        out: list[tuple[int | None, Any]] = []
        for answer in answers:
            if not isinstance(answer, dict):
                out.append((None, None))  # Graph answers null for a request the batch timed out on
                continue
            try:
                body = json.loads(answer.get("body") or "null")
            except (TypeError, ValueError):
                body = None
            out.append((_int(answer.get("code")), body))
        return out

    def _batch_error(self, status: int, body: Any) -> PlatformError:
        response = self._graph.last_response()
        headers = response.headers if response is not None else {}
        err = graph_error(status, body, headers, platform=PLATFORM, host=self._graph.host)
        if isinstance(err, PlatformRateLimited) and err.retry_after is None:
            err.retry_after = _app_usage_seconds(headers)
        if isinstance(err, AuthFailed):
            err.hint = AUTH_HINT
        return self._scrub(err)

    def _post_metric_names(self) -> tuple[str, ...]:
        names = (self.ctx.settings or {}).get("post_insight_metrics")
        return tuple(names) if isinstance(names, list) else POST_METRICS

    def _remember(self, key: str, value: Any) -> None:
        self.ctx.settings = {**(self.ctx.settings or {}), key: value}
        self.ctx.settings_changed = True

    @staticmethod
    def _metrics_url(post_id: str, metrics: tuple[str, ...]) -> str:
        fields = "id," + ENGAGEMENT_FIELDS
        if metrics:
            fields += f",insights.metric({','.join(metrics)})"
        return f"{post_id}?{urlencode({'fields': fields})}"

    def fetch_post_metrics(self, platform_post_ids: list[str]) -> dict[str, PostMetrics | None]:
        ids = [str(i) for i in dict.fromkeys(platform_post_ids)]
        result: dict[str, PostMetrics | None] = {}
        for start in range(0, len(ids), BATCH_LIMIT):
            result.update(self._metrics_chunk(ids[start : start + BATCH_LIMIT]))
        return result

    def _metrics_chunk(self, ids: list[str]) -> dict[str, PostMetrics | None]:
        out: dict[str, PostMetrics | None] = {}
        pending = list(ids)
        retried_nulls = False
        for _ in range(4):  # at most: nulls retried once, metric names learned twice
            metrics = self._post_metric_names()
            answers = self._batch([self._metrics_url(pid, metrics) for pid in pending])
            nulls: list[str] = []
            refused: list[tuple[str, dict[str, Any]]] = []
            for pid, (status, body) in zip(pending, answers):
                if status is None:
                    nulls.append(pid)
                elif status < 400 and isinstance(body, dict) and "error" not in body:
                    out[pid] = self._post_metrics(body, metrics)
                else:
                    err = _error_of(body)
                    if metrics and (_invalid_metric(err) or _no_insights_permission(err)):
                        refused.append((pid, err))
                        continue
                    error = self._batch_error(status or 500, body)
                    if not isinstance(error, RemoteNotFound):
                        raise error
                    out[pid] = None  # deleted (code 100, subcode 33)
            if refused:
                self._learn_post_metrics(refused[0][0], metrics, refused[0][1])
            elif nulls and retried_nulls:
                raise PlatformUnavailable(f"{self._graph.host} did not finish the metrics batch", platform=PLATFORM)
            retried_nulls = retried_nulls or bool(nulls)
            pending = nulls + [pid for pid, _ in refused]
            if not pending:
                return out
        raise PlatformUnavailable(f"{self._graph.host} kept refusing the metrics batch", platform=PLATFORM)

    def _learn_post_metrics(self, post_id: str, metrics: tuple[str, ...], err: dict[str, Any]) -> None:
        """Keep only the insights metrics Graph still accepts (asked one by one, once)."""
        kept: list[str] = []
        if not _no_insights_permission(err):
            answers = self._batch([f"{post_id}/insights?{urlencode({'metric': m})}" for m in metrics])
            for metric, (status, body) in zip(metrics, answers):
                if status is None:
                    raise PlatformUnavailable(f"{self._graph.host} did not finish the metrics batch",
                                              platform=PLATFORM)
                if status < 400:
                    kept.append(metric)
                elif not _invalid_metric(_error_of(body)):
                    error = self._batch_error(status, body)
                    if isinstance(error, RemoteNotFound):
                        return  # the post went meanwhile; the next round reports it deleted
                    raise error  # rate limited, auth...: learn nothing from a failed probe
            if len(kept) == len(metrics):
                kept = []  # refused together, accepted alone: do without insights rather than loop
        self._remember("post_insight_metrics", kept)

    @staticmethod
    def _post_metrics(body: dict[str, Any], metrics: tuple[str, ...]) -> PostMetrics:
        def total(edge: str) -> int | None:
            value = body.get(edge)
            return _int(((value or {}).get("summary") or {}).get("total_count")) if isinstance(value, dict) else None

        insights: dict[str, Any] = {}
        for row in ((body.get("insights") or {}).get("data") or []):
            values = row.get("values") or []
            if row.get("name") and values and isinstance(values[-1], dict):
                insights[str(row["name"])] = values[-1].get("value")
        shares = body.get("shares")
        return PostMetrics(
            likes=total("reactions"),
            comments=total("comments"),
            # Graph leaves `shares` out of a post nobody has shared.
            shares=_int(shares.get("count")) if isinstance(shares, dict) else 0,
            views=view_count(insights.get("post_media_view")) if "post_media_view" in metrics else None,
            reach=(_int(insights.get("post_total_media_view_unique"))
                   if "post_total_media_view_unique" in metrics else None),
            clicks=_int(insights.get("post_clicks")) if "post_clicks" in metrics else None,
            raw=body,
        )

    def fetch_account_metrics(self) -> AccountMetrics:
        page_id = self._page_id()
        fields = "id,followers_count,fan_count"
        with_insights = (self.ctx.settings or {}).get("page_insights") is not False
        if with_insights:
            fields += f",insights.metric({','.join(PAGE_METRICS)}).period(days_28)"
        try:
            body = self._get(page_id, fields=fields)
        except PlatformRejected:
            err = self._graph.last_error()
            if not (with_insights and (_invalid_metric(err) or _no_insights_permission(err))):
                raise
            self._remember("page_insights", False)
            body = self._get(page_id, fields="id,followers_count,fan_count")
        body = self._dict(body, "reading the Page")
        insights: dict[str, Any] = {}
        for row in ((body.get("insights") or {}).get("data") or []):
            values = row.get("values") or []
            if row.get("name") and values and isinstance(values[-1], dict):
                insights[str(row["name"])] = values[-1].get("value")
        return AccountMetrics(
            followers=_int(body.get("followers_count")),
            # Meta names page_media_view as the replacement of page_impressions (28 days here).
            impressions=view_count(insights.get("page_media_view")),
            reach=_int(insights.get("page_total_media_view_unique")),
            raw=body,
        )

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
            page = self._dict(self._get(self._page_id(), token=token, fields="access_token"), "re-reading the Page token")
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

    # -- resolve ---------------------------------------------------------------------

    def resolve_post(self, url_or_id: str) -> PublishResult:
        post_id = self._post_id_of((url_or_id or "").strip())
        post = self._dict(self._get(post_id, fields="id,message,created_time,permalink_url"), f"reading post {post_id}")
        return self._result(post)

    def _post_id_of(self, value: str) -> str:
        """PAGEID_POSTID, a bare post id of this Page, or a facebook.com post URL.

        URLs: /{page}/posts/{numeric id}, /permalink.php?story_fbid=..&id=..,
        /story.php?story_fbid=..&id=... Obfuscated `pfbid...` links carry no Graph id.
        """
        if re.fullmatch(r"\d+_\d+", value):
            return value
        if value.isdigit():
            return f"{self._page_id()}_{value}"
        parsed = urlparse(value if "://" in value else f"https://{value}")
        host = parsed.netloc.lower()
        if parsed.scheme in ("http", "https") and (host == "facebook.com" or host.endswith(".facebook.com")):
            query = parse_qs(parsed.query)
            story, owner = (query.get("story_fbid") or [""])[0], (query.get("id") or [""])[0]
            if parsed.path.rstrip("/") in ("/permalink.php", "/story.php") and story.isdigit() and owner.isdigit():
                return f"{owner}_{story}"
            m = re.fullmatch(r"/([^/]+)/posts/(\d+)/?", parsed.path)
            if m:
                owner = m.group(1) if m.group(1).isdigit() else self._page_id()
                return f"{owner}_{m.group(2)}"
        raise RemoteNotFound(
            f"{value!r} is not a Facebook post id or post URL postcli can read", platform=PLATFORM,
            hint="give PAGEID_POSTID, or a URL like https://www.facebook.com/PAGE/posts/123 "
                 "or .../permalink.php?story_fbid=123&id=PAGEID (pfbid links cannot be resolved)",
        )
