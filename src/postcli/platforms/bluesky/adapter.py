"""Bluesky (AT Protocol) adapter over the atproto SDK.

The SDK costs ~1.5 s to import, so it is imported inside methods only; importing
this module stays cheap.

Session handling: `connect` calls createSession once (the PDS allows 30 per
5 minutes per account) and stores the exported session string. Every later
command imports that string; the SDK refreshes the access JWT when it is within
15 minutes of expiry, and `on_session_change` persists the rotated tokens at once
through `ctx.save_secrets`. Only when the stored session is dead (refresh token
revoked/expired) does the adapter try a single createSession with the stored app
password; if that fails too the account must be reconnected (AuthFailed).

Host: the SDK switches to the PDS named in the session's DID document. For the
bsky.social entryway that is Bluesky's recommended behaviour (it names the
account's real PDS), so it is followed there; for any other base URL (a
self-hosted PDS, a test server) the user-given `api_base_url` wins, because the
DID document may name a host this machine cannot reach (e.g. `localhost` vs the
address the user configured).
"""

from __future__ import annotations

import math
import random
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import urlparse

from postcli.errors import InvalidInput, PostcliError
from postcli.platforms import tls
from postcli.platforms.base import (
    AccountContext,
    AccountInfo,
    AccountMetrics,
    AdapterBase,
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
from postcli.platforms.bluesky_oauth import OAuthSession, is_oauth, login_hint

if TYPE_CHECKING:  # pragma: no cover
    from atproto_client import Client

T = TypeVar("T")

POST_COLLECTION = "app.bsky.feed.post"
PLATFORM = "bluesky"
# Hosts whose DID-document PDS endpoint is followed (see module docstring).
ENTRYWAY_HOSTS = frozenset({"bsky.social"})

_NSID_REFRESH = "com.atproto.server.refreshSession"
_TOKEN_ERRORS = frozenset({"ExpiredToken", "InvalidToken", "AuthMissing", "AuthenticationRequired"})
_NOT_FOUND_ERRORS = frozenset({"RecordNotFound", "HandleNotFound", "RepoNotFound", "NotFound"})
_JWT_RE = re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]*)?")
_APP_PASSWORD_HINT = (
    "Use an app password (Bluesky: Settings > Privacy and security > App passwords), "
    "not the account password, and check the handle (e.g. name.bsky.social)."
)
_RECONNECT_HINT = (
    "Create a new app password in Bluesky and run `postcli accounts add bluesky --handle HANDLE` again."
)

# --- TIDs --------------------------------------------------------------------
# 13 chars of base32-sortable: 11 for the microsecond timestamp, 2 for a clock id
# chosen once per process (the rule of @atproto/common-web's TID.fromTime).

_S32 = "234567abcdefghijklmnopqrstuvwxyz"
TID_RE = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
_CLOCK_ID = random.SystemRandom().randrange(32)
_tid_lock = threading.Lock()
_last_tid_us = 0


def _s32encode(value: int) -> str:
    out = ""
    while value:
        out = _S32[value & 31] + out
        value >>= 5
    return out


def new_tid() -> str:
    """A fresh TID (record key) for app.bsky.feed.post; strictly increasing within a process."""
    global _last_tid_us
    with _tid_lock:
        now_us = time.time_ns() // 1000
        # Monotonic even if the wall clock steps back or two calls share a microsecond.
        _last_tid_us = max(now_us, _last_tid_us + 1)
        us = _last_tid_us
    return _s32encode(us).rjust(11, "2") + _S32[_CLOCK_ID].rjust(2, "2")


def is_tid(value: str) -> bool:
    return bool(TID_RE.match(value or ""))


# --- small helpers -----------------------------------------------------------

_AT_URI_RE = re.compile(r"^at://(?P<repo>[^/?#]+)/(?P<collection>[^/?#]+)/(?P<rkey>[^/?#]+)/?$")
_WEB_URL_RE = re.compile(r"^/profile/(?P<actor>[^/]+)/post/(?P<rkey>[^/]+)/?$")


def parse_at_uri(uri: str) -> tuple[str, str, str] | None:
    m = _AT_URI_RE.match(uri.strip())
    return (m.group("repo"), m.group("collection"), m.group("rkey")) if m else None


def _parse_dt(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class BlueskyAdapter(AdapterBase):
    platform: ClassVar[str] = PLATFORM
    default_base_url: ClassVar[str] = "https://bsky.social"
    has_metrics: ClassVar[bool] = True
    metrics_batch_size: ClassVar[int] = 25
    # The AppView indexes a new post a few seconds after the PDS accepts it: a post absent
    # from getPosts this soon after publishing, and never seen, is not called deleted yet.
    deletion_grace: ClassVar[timedelta] = timedelta(minutes=10)
    # The record key (rkey) is derived from the idempotency key: a retry writes the same record.
    idempotency_key: ClassVar[bool] = True

    def __init__(self, ctx: AccountContext) -> None:
        self.ctx = ctx
        self._base_url = (ctx.api_base_url or self.default_base_url).rstrip("/")
        parsed = urlparse(self._base_url)
        self._follow_did_doc = parsed.hostname in ENTRYWAY_HOSTS
        self._host = parsed.netloc or self._base_url
        self._client: Client | None = None
        self._pending_password: str | None = None
        self._last_nsid: str | None = None
        self._refresh_expires_at: datetime | None = None
        # Collection may share one adapter between threads; the session must be built/recovered once.
        self._lock = threading.RLock()
        self._oauth: OAuthSession | None = None
        if is_oauth(ctx.secrets):
            self._oauth = OAuthSession(ctx)

    # --- Adapter protocol: static bits -----------------------------------

    def limits(self) -> Limits:
        return Limits(
            max_text=300,
            count_unit="graphemes",
            max_images=4,
            max_videos=1,
            # The blob maxSize of the current lexicons (bluesky-social/atproto
            # lexicons/app/bsky/embed/images.json: "May be up to 2 MB, formerly limited
            # to 1 MB"; embed/video.json: "May be up to 300mb, formerly limited to
            # 100mb"). A self-hosted PDS on older code may still refuse more than 1 MB /
            # 100 MB; its refusal is shown as is. The lexicons state no video duration.
            max_image_bytes=2_000_000,
            max_video_bytes=300_000_000,
            # The Bluesky app's limit for image alt text (video alt: 1000 graphemes).
            max_alt_text=2000,
            mime_types=("image/png", "image/jpeg", "image/webp", "image/gif", "video/mp4"),
            images_and_video=False,
        )

    def text_length(self, text: str) -> int:
        import regex

        return len(regex.findall(r"\X", text))

    # --- client and session ----------------------------------------------

    def _new_client(self) -> Client:
        from atproto_client import Client
        from atproto_client.request import Request

        kwargs = {"timeout": self.ctx.timeout, "event_hooks": {"request": [self._note_request]},
                  "verify": tls.context()}
        if self._oauth is not None:  # AT Protocol OAuth: DPoP-bound tokens, no SDK session
            from postcli.platforms.bluesky_oauth import dpop_request_class

            request = dpop_request_class()(self._oauth, **kwargs)
        else:
            request = Request(**kwargs)
        client = Client(base_url=self._base_url, request=request)
        client.on_session_change(lambda event, session: self._on_session_change(client, event, session))
        return client

    def _note_request(self, request: Any) -> None:
        # Remembered so a token error can be told apart: did the refresh fail, or the call?
        path = request.url.path
        self._last_nsid = path.rsplit("/", 1)[-1]
        self._host = (
            request.url.netloc.decode() if isinstance(request.url.netloc, bytes) else request.url.netloc
        )

    def _on_session_change(self, client: Client, event: Any, session: Any) -> None:
        from atproto_client.client.session import SessionEvent

        base = self._base_url
        if self._follow_did_doc and (session.pds_endpoint or "").startswith("https://"):
            base = session.pds_endpoint.rstrip("/")
        client.update_base_url(base)
        try:
            exp = session.refresh_jwt_payload.exp
            self._refresh_expires_at = datetime.fromtimestamp(exp, tz=UTC) if exp else None
        except Exception:  # an undecodable token is the server's business, not a crash here
            self._refresh_expires_at = None
        if event == SessionEvent.IMPORT:
            return
        new = dict(self.ctx.secrets)
        new.update(session=session.export(), did=session.did, handle=session.handle)
        if self._pending_password is not None:
            new["app_password"] = self._pending_password
        self.ctx.secrets = new
        # Persist at once: the old refresh token is rotated away on the server.
        self.ctx.save_secrets(new)

    @property
    def _reconnect_hint(self) -> str:
        if self._oauth is not None:
            return login_hint(self.ctx.secrets.get("handle") or self.ctx.handle)
        return _RECONNECT_HINT

    @property
    def _did(self) -> str:
        did = self.ctx.external_id or self.ctx.secrets.get("did")
        if not did:
            raise AuthFailed(
                "this Bluesky account has no stored identity (DID).",
                platform=PLATFORM,
                hint=self._reconnect_hint,
            )
        return did

    @property
    def _handle(self) -> str:
        return self.ctx.secrets.get("handle") or self.ctx.handle or self._did

    def _session_client(self) -> Client:
        with self._lock:
            if self._client is None:
                self._client = self._restore_client()
            return self._client

    def _restore_client(self) -> Client:
        client = self._new_client()
        if self._oauth is not None:
            return client
        session = self.ctx.secrets.get("session")
        if session:
            try:
                client.login(session_string=session, fetch_bsky_profile=False)
            except Exception:  # a corrupt stored session: fall back to the app password below
                session = None
                client = self._new_client()
        if not session:
            self._login_with_stored_password(client, "restoring the session")
        return client

    def _login_with_stored_password(self, client: Client, action: str) -> None:
        password = self.ctx.secrets.get("app_password")
        ident = (
            self.ctx.secrets.get("handle")
            or self.ctx.handle
            or self.ctx.secrets.get("did")
            or self.ctx.external_id
        )
        if not password or not ident:
            raise AuthFailed(
                f"the Bluesky session for {ident or 'this account'} expired or was revoked.",
                platform=PLATFORM,
                hint=self._reconnect_hint,
            )
        try:
            client.login(ident, password, fetch_bsky_profile=False)
        except Exception as exc:
            err = self._map_error(exc, action)
            if isinstance(err, AuthFailed):
                raise AuthFailed(
                    f"Bluesky no longer accepts the stored app password for {ident}; "
                    "the account must be reconnected.",
                    platform=PLATFORM,
                    hint=self._reconnect_hint,
                ) from None
            raise err from None

    def _run(self, action: str, fn: Callable[[Client], T]) -> T:
        """Run `fn(client)`; on a dead session recover once (refresh, then app password)."""
        client = self._session_client()
        try:
            return fn(client)
        except PostcliError:
            raise
        except Exception as exc:
            if not self._is_token_error(exc):
                raise self._map_error(exc, action) from exc
        self._recover_session(client, action)
        try:
            return fn(client)
        except PostcliError:
            raise
        except Exception as exc:
            raise self._map_error(exc, action) from exc

    def _recover_session(self, client: Client, action: str) -> None:
        with self._lock:
            self._recover_session_locked(client, action)

    def _recover_session_locked(self, client: Client, action: str) -> None:
        if self._oauth is not None:
            self._oauth.refresh()  # a refusal is AuthFailed with the `accounts login` command
            return
        if self._last_nsid != _NSID_REFRESH:
            # The access token was refused although the SDK thought it fresh (clock
            # skew, server restart): a refresh is far cheaper than createSession.
            refresh = getattr(client, "_refresh_and_set_session", None)
            if refresh is not None:
                try:
                    refresh()
                    return
                except Exception as exc:
                    if not self._is_token_error(exc):
                        raise self._map_error(exc, action) from exc
        self._login_with_stored_password(client, action)

    @staticmethod
    def _is_token_error(exc: BaseException) -> bool:
        from atproto_client.exceptions import LoginRequiredError, RequestErrorBase
        from atproto_client.models.common import XrpcError

        if isinstance(exc, LoginRequiredError):
            return True
        if not isinstance(exc, RequestErrorBase) or exc.response is None:
            return False
        status = exc.response.status_code
        content = exc.response.content
        name = content.error if isinstance(content, XrpcError) else None
        return status == 401 or (status == 400 and name in ("ExpiredToken", "InvalidToken"))

    # --- error mapping -----------------------------------------------------

    def secrets_in_play(self) -> list[object]:
        # Not the base's "every stored value": Bluesky also stores its DID, handle and
        # endpoints beside the secrets, and those belong in messages.
        s = self.ctx.secrets or {}
        return [self._pending_password, *(s.get(k) for k in ("app_password", "session", "access_token",
                                                              "refresh_token"))]

    def _scrub(self, text: str) -> str:
        from postcli.secrets_redact import MASK

        return self.scrub(_JWT_RE.sub(MASK, text))[:300]

    def _map_error(self, exc: BaseException, action: str) -> PostcliError:
        """Every SDK/network failure -> one typed postcli error (never a secret in it)."""
        import httpx
        from atproto_client.exceptions import (
            InvokeTimeoutError,
            LoginRequiredError,
            ModelError,
            RateLimitExceededError,
            RequestErrorBase,
        )
        from atproto_client.models.common import XrpcError

        if isinstance(exc, PostcliError):
            return exc
        host = self._host
        retry_hint = f"Check your network and that {host} is up, then try again."
        if isinstance(exc, (InvokeTimeoutError, httpx.TimeoutException)):
            return PlatformUnavailable(
                f"Bluesky at {host} did not answer within {self.ctx.timeout:g}s while {action}; "
                "the outcome is unknown.",
                platform=PLATFORM,
                hint=retry_hint + " A slow server may need a longer timeout.",
            )
        if isinstance(exc, RequestErrorBase) and exc.response is None:
            cause = exc.__cause__ or exc.__context__
            kind = type(cause).__name__ if cause else type(exc).__name__
            return PlatformUnavailable(
                f"could not reach Bluesky at {host} while {action} ({kind}).",
                platform=PLATFORM,
                hint=retry_hint,
            )
        if isinstance(exc, httpx.HTTPError):
            return PlatformUnavailable(
                f"the connection to Bluesky at {host} failed while {action} ({type(exc).__name__}).",
                platform=PLATFORM,
                hint=retry_hint,
            )
        if isinstance(exc, LoginRequiredError):
            return AuthFailed(
                "the Bluesky session is missing or unreadable.", platform=PLATFORM, hint=self._reconnect_hint
            )
        if isinstance(exc, RequestErrorBase):
            status = exc.response.status_code
            content = exc.response.content
            name = content.error if isinstance(content, XrpcError) else None
            detail = content.message if isinstance(content, XrpcError) else None
            said = self._scrub(
                f"{name}: {detail}" if name and detail else (name or detail or f"HTTP {status}")
            )
            if status == 429 or isinstance(exc, RateLimitExceededError):
                retry_after = None
                if isinstance(exc, RateLimitExceededError):
                    retry_after = exc.retry_after
                    if retry_after is None and exc.reset_at is not None:
                        retry_after = max((exc.reset_at - datetime.now(UTC)).total_seconds(), 0.0)
                when = f" Retry in {math.ceil(retry_after)}s." if retry_after is not None else ""
                return PlatformRateLimited(
                    f"Bluesky at {host} rate-limited the request while {action}.{when}",
                    platform=PLATFORM,
                    retry_after=retry_after,
                )
            if status in (401, 403) or (status == 400 and name in ("ExpiredToken", "InvalidToken")):
                return AuthFailed(
                    f"Bluesky refused the credentials while {action} ({said}).",
                    platform=PLATFORM,
                    hint=self._reconnect_hint,
                )
            if status == 400 and name in _NOT_FOUND_ERRORS:
                return RemoteNotFound(f"not found on Bluesky while {action} ({said}).", platform=PLATFORM)
            if status in (400, 409, 413):
                return PlatformRejected(
                    f"Bluesky rejected the request while {action}: {said}", platform=PLATFORM
                )
            if status >= 500:
                return PlatformUnavailable(
                    f"Bluesky at {host} failed with HTTP {status} while {action} ({said}); "
                    "the outcome is unknown.",
                    platform=PLATFORM,
                    hint=retry_hint,
                )
            return PlatformError(
                f"Bluesky answered HTTP {status} while {action} ({said}).", platform=PLATFORM
            )
        if isinstance(exc, (ModelError, ValueError, KeyError, TypeError)):
            return MalformedResponse(
                f"Bluesky at {host} sent an answer postcli cannot read while {action}.",
                platform=PLATFORM,
            )
        return PlatformError(
            f"unexpected error from the Bluesky client while {action} ({type(exc).__name__}).",
            platform=PLATFORM,
        )

    # --- raw calls (plain dicts: no strict model parsing of AppView views) --

    @staticmethod
    def _content(response: Any) -> dict[str, Any]:
        content = response.content
        if not isinstance(content, dict):
            raise MalformedResponse(
                "Bluesky answered with something that is not a JSON object.", platform=PLATFORM
            )
        return content

    # --- connect / health ------------------------------------------------

    def connect(self, identifier: str | None, secret: str) -> AccountInfo:
        if not identifier:
            raise InvalidInput("a Bluesky handle is required.", hint="Pass --handle name.bsky.social.")
        ident = identifier.strip().lstrip("@")
        if self._oauth is not None:
            return self._connect_oauth(secret)
        client = self._new_client()
        self._pending_password = secret
        try:
            client.login(ident, secret, fetch_bsky_profile=False)
        except Exception as exc:
            err = self._map_error(exc, "logging in")
            if isinstance(err, AuthFailed):
                raise AuthFailed(
                    f"Bluesky did not accept the handle or app password for {ident}.",
                    platform=PLATFORM,
                    hint=_APP_PASSWORD_HINT,
                ) from None
            raise err from None
        self._client = client
        did = self.ctx.secrets["did"]
        handle = self.ctx.secrets["handle"]
        display_name = None
        try:
            profile = self._profile(client, did)
            display_name = profile.get("displayName") or None
        except Exception:  # a PDS without an AppView still makes a working account
            display_name = None
        return AccountInfo(
            external_id=did,
            handle=handle,
            display_name=display_name,
            token_expires_at=self._refresh_expires_at,
        )

    def _connect_oauth(self, access_token: str) -> AccountInfo:
        """After `accounts login`: the token's owner must be the DID the sign-in resolved."""
        self.ctx.secrets = {**self.ctx.secrets, "access_token": access_token}
        body = self._run("checking the new session",
                         lambda c: self._content(c.invoke_query("com.atproto.server.getSession")))
        if body.get("did") != self.ctx.secrets.get("did"):
            raise AuthFailed("the PDS says the new session belongs to another account.", platform=PLATFORM,
                             hint=login_hint(self.ctx.secrets.get("handle")))
        handle = body.get("handle") if isinstance(body.get("handle"), str) else self.ctx.secrets.get("handle")
        self.ctx.secrets = {**self.ctx.secrets, "handle": handle}
        client = self._session_client()
        try:
            display_name = self._profile(client, body["did"]).get("displayName") or None
        except Exception:  # a PDS without an AppView still makes a working account
            display_name = None
        return AccountInfo(external_id=body["did"], handle=handle, display_name=display_name)

    def check_health(self) -> HealthResult:
        """Failures are raised (AuthFailed -> reconnect; other PlatformErrors -> unreachable)."""
        body = self._run(
            "checking the session",
            lambda c: self._content(c.invoke_query("com.atproto.server.getSession")),
        )
        if body.get("active") is False:
            status = body.get("status") or "inactive"
            return HealthResult(
                ok=False,
                error_code="account_inactive",
                message=f"the Bluesky account is {status}.",
                token_expires_at=self._refresh_expires_at,
            )
        return HealthResult(ok=True, token_expires_at=self._refresh_expires_at)

    # --- publishing ----------------------------------------------------------

    def _post_url(self, handle_or_did: str, rkey: str) -> str:
        return f"https://bsky.app/profile/{handle_or_did}/post/{rkey}"

    def publish(self, req: PublishRequest) -> PublishResult:
        from atproto_client import models

        rkey = req.idempotency_key
        if not is_tid(rkey):
            raise PlatformRejected(
                f"the idempotency key {rkey!r} is not a TID, which Bluesky requires as a post's record key.",
                platform=PLATFORM,
            )
        did = self._did
        uri = f"at://{did}/{POST_COLLECTION}/{rkey}"
        media = [self._read_media(m) for m in req.media]
        created_at = _now_iso()

        def op(client: Client) -> PublishResult:
            facets = client.detect_facets(req.text) if req.text else []
            embed = self._embed(client, media)
            record = models.AppBskyFeedPost.Record(
                text=req.text,
                created_at=created_at,
                facets=facets or None,
                embed=embed,
            )
            data = models.ComAtprotoRepoCreateRecord.Data(
                repo=did, collection=POST_COLLECTION, rkey=rkey, record=record
            )
            try:
                response = client.invoke_procedure(
                    "com.atproto.repo.createRecord",
                    data=data,
                    input_encoding="application/json",
                    output_encoding="application/json",
                )
                body = response.content if isinstance(response.content, dict) else {}
            except ValueError:
                # Only a 2xx body is parsed, so the record exists even if its answer is unreadable.
                body = {}
            return PublishResult(
                platform_post_id=body.get("uri") if isinstance(body.get("uri"), str) else uri,
                url=self._post_url(self._handle, rkey),
                published_at=_parse_dt(created_at),
            )

        return self._run("publishing a post", op)

    @staticmethod
    def _read_media(item: MediaItem) -> tuple[MediaItem, bytes]:
        try:
            return item, item.path.read_bytes()
        except OSError as exc:
            # A PlatformError so the publishing service fails just this target, not the command.
            raise PlatformRejected(
                f"cannot read media file {item.path}: {exc.strerror or exc}.", platform=PLATFORM
            ) from None

    def _embed(self, client: Client, media: list[tuple[MediaItem, bytes]]) -> Any:
        from atproto_client import models

        if not media:
            return None
        videos = [m for m in media if m[0].is_video]
        images = [m for m in media if not m[0].is_video]
        if videos and images or len(videos) > 1 or len(images) > 4:
            raise PlatformRejected(
                "a Bluesky post takes up to 4 images or 1 video, not both.", platform=PLATFORM
            )

        def aspect(item: MediaItem) -> Any:
            if item.width and item.height:
                return models.AppBskyEmbedDefs.AspectRatio(width=item.width, height=item.height)
            return None

        def upload(item: MediaItem, data: bytes) -> Any:
            from atproto_client.models.blob_ref import BlobRef

            # Raw bytes go as `content=` (the SDK's upload_blob passes httpx the deprecated `data=`),
            # with the real MIME type: the PDS records it in the blob ref.
            response = client.invoke_procedure(
                "com.atproto.repo.uploadBlob",
                content=data,
                headers={"Content-Type": item.mime_type},
                output_encoding="application/json",
            )
            blob = self._content(response).get("blob")
            if not isinstance(blob, dict):
                raise MalformedResponse("uploadBlob answered without a blob.", platform=PLATFORM)
            return BlobRef.model_validate(blob)

        if videos:
            item, data = videos[0]
            # The "simple" upload of docs.bsky.app: the blob goes to the PDS and the
            # video service transcodes it once the post is on the firehose.
            return models.AppBskyEmbedVideo.Main(
                video=upload(item, data), alt=item.alt_text or None, aspect_ratio=aspect(item)
            )
        return models.AppBskyEmbedImages.Main(
            images=[
                models.AppBskyEmbedImages.Image(
                    alt=item.alt_text or "", image=upload(item, data), aspect_ratio=aspect(item)
                )
                for item, data in images
            ]
        )

    def find_published(self, req: PublishRequest) -> PublishResult | None:
        from atproto_client import models

        rkey = req.idempotency_key
        if not is_tid(rkey):
            return None  # such a key can never have been used as an rkey
        did = self._did
        params = models.ComAtprotoRepoGetRecord.Params(repo=did, collection=POST_COLLECTION, rkey=rkey)
        try:
            body = self._run(
                "checking whether the post was already published",
                lambda c: self._content(c.invoke_query("com.atproto.repo.getRecord", params=params)),
            )
        except RemoteNotFound:
            return None
        value = body.get("value") if isinstance(body.get("value"), dict) else {}
        uri = body.get("uri") if isinstance(body.get("uri"), str) else f"at://{did}/{POST_COLLECTION}/{rkey}"
        return PublishResult(
            platform_post_id=uri,
            url=self._post_url(self._handle, rkey),
            published_at=_parse_dt(value.get("createdAt")),
        )

    def delete(self, platform_post_id: str) -> None:
        from atproto_client import models

        parts = parse_at_uri(platform_post_id)
        if parts is None:
            raise InvalidInput(f"{platform_post_id!r} is not an at:// post URI.")
        repo, collection, rkey = parts
        data = models.ComAtprotoRepoDeleteRecord.Data(repo=repo, collection=collection, rkey=rkey)
        # deleteRecord is idempotent on the PDS: a second delete answers 200 {}.
        self._run(
            "deleting a post",
            lambda c: c.invoke_procedure(
                "com.atproto.repo.deleteRecord",
                data=data,
                input_encoding="application/json",
                output_encoding="application/json",
            ),
        )

    # --- metrics -----------------------------------------------------------

    def _get_posts(self, uris: list[str]) -> list[dict[str, Any]]:
        from atproto_client import models

        params = models.AppBskyFeedGetPosts.Params(uris=uris)
        body = self._run(
            "fetching post metrics",
            lambda c: self._content(c.invoke_query("app.bsky.feed.getPosts", params=params)),
        )
        posts = body.get("posts")
        if not isinstance(posts, list) or not all(
            isinstance(p, dict) and isinstance(p.get("uri"), str) for p in posts
        ):
            raise MalformedResponse(
                f"Bluesky at {self._host} answered getPosts without a readable 'posts' list.",
                platform=PLATFORM,
            )
        return posts

    def fetch_post_metrics(self, platform_post_ids: list[str]) -> dict[str, PostMetrics | None]:
        result: dict[str, PostMetrics | None] = {pid: None for pid in platform_post_ids}
        # A malformed uri fails the whole getPosts batch (400); such an id cannot exist anyway.
        valid = list(dict.fromkeys(p for p in platform_post_ids if parse_at_uri(p)))
        for start in range(0, len(valid), self.metrics_batch_size):
            chunk = valid[start : start + self.metrics_batch_size]
            for view in self._get_posts(chunk):
                if view["uri"] in result:
                    result[view["uri"]] = _post_metrics(view, self._host)
        return result

    def _profile(self, client: Client, actor: str) -> dict[str, Any]:
        from atproto_client import models

        params = models.AppBskyActorGetProfile.Params(actor=actor)
        return self._content(client.invoke_query("app.bsky.actor.getProfile", params=params))

    def fetch_account_metrics(self) -> AccountMetrics:
        did = self._did
        body = self._run("fetching account metrics", lambda c: self._profile(c, did))
        raw = {
            k: body[k]
            for k in ("did", "handle", "followersCount", "followsCount", "postsCount", "indexedAt")
            if k in body
        }
        return AccountMetrics(
            followers=_count(body, "followersCount", self._host),
            following=_count(body, "followsCount", self._host),
            posts_count=_count(body, "postsCount", self._host),
            raw=raw,
        )

    # --- import ------------------------------------------------------------

    def resolve_post(self, url_or_id: str) -> PublishResult:
        from atproto_client import models

        text = (url_or_id or "").strip()
        parts = parse_at_uri(text)
        if parts is not None:
            actor, collection, rkey = parts
            if collection != POST_COLLECTION:
                raise InvalidInput(f"{text!r} is not a Bluesky post (collection {collection}).")
        else:
            parsed = urlparse(text)
            m = _WEB_URL_RE.match(parsed.path) if parsed.scheme in ("http", "https") else None
            if m is None:
                raise InvalidInput(
                    f"{text!r} is not a Bluesky post.",
                    hint="Use https://bsky.app/profile/HANDLE/post/RKEY or an at:// URI.",
                )
            actor, rkey = m.group("actor"), m.group("rkey")
        if not actor.startswith("did:"):
            params = models.ComAtprotoIdentityResolveHandle.Params(handle=actor)
            try:
                body = self._run(
                    "resolving the handle",
                    lambda c: self._content(
                        c.invoke_query("com.atproto.identity.resolveHandle", params=params)
                    ),
                )
            except PlatformRejected:  # syntactically invalid handle
                raise RemoteNotFound(f"no Bluesky account {actor!r}.", platform=PLATFORM) from None
            did = body.get("did")
            if not isinstance(did, str):
                raise MalformedResponse("resolveHandle answered without a DID.", platform=PLATFORM)
        else:
            did = actor
        uri = f"at://{did}/{POST_COLLECTION}/{rkey}"
        views = self._get_posts([uri])
        if views:
            view = views[0]
            author = view.get("author") if isinstance(view.get("author"), dict) else {}
            record = view.get("record") if isinstance(view.get("record"), dict) else {}
            return PublishResult(
                platform_post_id=view["uri"],
                url=self._post_url(author.get("handle") or did, rkey),
                published_at=_parse_dt(record.get("createdAt")),
                text=record.get("text") if isinstance(record.get("text"), str) else None,
            )
        # The AppView may lag behind the PDS (or be absent): the repo is the authority.
        params = models.ComAtprotoRepoGetRecord.Params(repo=did, collection=POST_COLLECTION, rkey=rkey)
        try:
            body = self._run(
                "looking up the post",
                lambda c: self._content(c.invoke_query("com.atproto.repo.getRecord", params=params)),
            )
        except (RemoteNotFound, PlatformRejected):
            raise RemoteNotFound(
                f"the Bluesky post {text} does not exist (any more).", platform=PLATFORM
            ) from None
        value = body.get("value") if isinstance(body.get("value"), dict) else {}
        return PublishResult(
            platform_post_id=body.get("uri") if isinstance(body.get("uri"), str) else uri,
            url=self._post_url(actor if not actor.startswith("did:") else did, rkey),
            published_at=_parse_dt(value.get("createdAt")),
            text=value.get("text") if isinstance(value.get("text"), str) else None,
        )


def _count(view: dict[str, Any], key: str, host: str) -> int | None:
    value = view.get(key)
    if value is None:
        return None  # not reported: never a fake 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedResponse(f"Bluesky at {host} sent a non-integer {key}.", platform=PLATFORM)
    return value


def _post_metrics(view: dict[str, Any], host: str) -> PostMetrics:
    raw_keys = (
        "uri",
        "cid",
        "indexedAt",
        "likeCount",
        "repostCount",
        "replyCount",
        "quoteCount",
        "bookmarkCount",
    )
    return PostMetrics(
        likes=_count(view, "likeCount", host),
        shares=_count(view, "repostCount", host),
        comments=_count(view, "replyCount", host),
        quotes=_count(view, "quoteCount", host),
        saves=_count(view, "bookmarkCount", host),
        raw={k: view[k] for k in raw_keys if k in view},
    )
