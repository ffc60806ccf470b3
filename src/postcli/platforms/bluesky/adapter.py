"""Bluesky (AT Protocol) adapter over the atproto SDK.

The SDK costs ~1.5 s to import, so it is imported inside methods only; importing
this module stays cheap. The session (restore, refresh, recovery) is in session.py.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlparse

from postcli.errors import InvalidInput
from postcli.platforms.base import (
    AccountContext,
    AccountInfo,
    AccountMetrics,
    AdapterBase,
    AuthFailed,
    HealthResult,
    Limits,
    MalformedResponse,
    PlatformRejected,
    PostMetrics,
    PostRef,
    PublishRequest,
    PublishResult,
    RemoteNotFound,
)
from postcli.platforms.bluesky.embed import build_embed, read_media
from postcli.platforms.bluesky.errors import APP_PASSWORD_HINT, JWT_RE
from postcli.platforms.bluesky.oauth import WARN_BEFORE, login_hint, session_ends_at
from postcli.platforms.bluesky.session import BlueskySession
from postcli.platforms.bluesky.spec import SPEC
from postcli.platforms.bluesky.tid import is_tid, new_tid
from postcli.platforms.bluesky.values import (
    PLATFORM,
    POST_COLLECTION,
    WEB_URL_RE,
    content,
    count,
    now_iso,
    parse_at_uri,
    parse_dt,
    post_metrics,
)
from postcli.platforms.spec import PlatformSpec
from postcli.platforms.values import as_dict, as_str, utc_now

if TYPE_CHECKING:  # pragma: no cover
    from atproto_client import Client

UNATTENDED_HINT = (
    "For unattended use (cron), an app password does not end this way: postcli accounts add bluesky (docs/signin.md)."
)


class BlueskyAdapter(BlueskySession, AdapterBase):
    spec: ClassVar[PlatformSpec] = SPEC
    has_metrics: ClassVar[bool] = True
    metrics_batch_size: ClassVar[int] = 25
    # The AppView indexes a new post a few seconds after the PDS accepts it: a post absent
    # from getPosts this soon after publishing, and never seen, is not called deleted yet.
    deletion_grace: ClassVar[timedelta] = timedelta(minutes=10)
    # The record key (rkey) is derived from the idempotency key: a retry writes the same record.
    idempotency_key: ClassVar[bool] = True

    @classmethod
    def new_idempotency_key(cls) -> str:
        return new_tid()  # the record key itself (a TID)

    def __init__(self, ctx: AccountContext) -> None:
        self._init_session(ctx, ctx.api_base_url or self.default_base_url)

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
            # 100mb"). The PDS takes the blob first, by its own limit: the reference PDS
            # refuses uploadBlob above its blobUploadLimit (PDS_BLOB_UPLOAD_LIMIT, 5 MiB
            # unless configured; describeServer reports it), whatever the lexicons allow,
            # and that refusal is shown as it comes.
            max_image_bytes=2_000_000,
            max_video_bytes=300_000_000,
            # How long a video may be: the Bluesky app's VIDEO_MAX_DURATION_MS, 10 minutes
            # (bluesky-social/social-app src/lib/constants.ts); the video service refuses a
            # longer one (app.bsky.video.startUpload: VideoTooLong), and one sent by uploadBlob
            # would be published with a video that never plays. The lexicons state none.
            max_video_seconds=600,
            # The Bluesky app's limit for alt text (MAX_ALT_TEXT, same file); the lexicons set
            # none for images, and none for video since Aug 2026 (atproto #5350).
            max_alt_text=2000,
            mime_types=("image/png", "image/jpeg", "image/webp", "image/gif", "video/mp4"),
            images_and_video=False,
        )

    def text_length(self, text: str) -> int:
        import regex

        return len(regex.findall(r"\X", text))

    # --- error mapping -----------------------------------------------------

    def secrets_in_play(self) -> list[object]:
        # Not the base's "every stored value": Bluesky also stores its DID, handle and
        # endpoints beside the secrets, and those belong in messages.
        s = self.ctx.secrets or {}
        return [
            self._pending_password,
            *(s.get(k) for k in ("app_password", "session", "access_token", "refresh_token")),
        ]

    def _scrub(self, text: str) -> str:
        from postcli.secrets_redact import MASK

        return self.scrub(JWT_RE.sub(MASK, text))[:300]

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
                    hint=APP_PASSWORD_HINT,
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
        """After `accounts login`: the token's owner must be the DID the sign-in resolved.
        The session began with that sign-in, moments ago (when the sign-in did not say)."""
        started = self.ctx.secrets.get("session_started_at") or int(time.time())
        self.ctx.secrets = {**self.ctx.secrets, "access_token": access_token, "session_started_at": started}
        body = self._run("checking the new session", lambda c: content(c.invoke_query("com.atproto.server.getSession")))
        if body.get("did") != self.ctx.secrets.get("did"):
            raise AuthFailed(
                "the PDS says the new session belongs to another account.",
                platform=PLATFORM,
                hint=login_hint(self.ctx.secrets.get("handle")),
            )
        handle = as_str(body.get("handle")) or self.ctx.secrets.get("handle")
        self.ctx.secrets = {**self.ctx.secrets, "handle": handle}
        client = self._session_client()
        try:
            display_name = self._profile(client, body["did"]).get("displayName") or None
        except Exception:  # a PDS without an AppView still makes a working account
            display_name = None
        return AccountInfo(
            external_id=body["did"],
            handle=handle or body["did"],
            display_name=display_name,
            token_expires_at=session_ends_at(self.ctx.secrets),
        )

    def check_health(self) -> HealthResult:
        """Failures are raised (AuthFailed -> reconnect; other PlatformErrors -> unreachable).

        An OAuth sign-in ends two weeks after it began (oauth.SESSION_LIFETIME): its end is the
        token expiry, `accounts health` says so WARN_BEFORE it, and a refusal after it says why."""
        ends = session_ends_at(self.ctx.secrets) if self._oauth is not None else None
        try:
            body = self._run(
                "checking the session",
                lambda c: content(c.invoke_query("com.atproto.server.getSession")),
            )
        except AuthFailed as exc:
            if ends is not None and utc_now() >= ends:
                raise AuthFailed(
                    f"the Bluesky sign-in ended on {ends:%Y-%m-%d %H:%M} UTC, two weeks after it began "
                    f"(AT Protocol OAuth sessions of an app without a server of its own): {exc.message}",
                    platform=PLATFORM,
                    hint=f"{exc.hint or login_hint(self._handle)} {UNATTENDED_HINT}",
                ) from None
            raise
        expires = ends if self._oauth is not None else self._refresh_expires_at
        if body.get("active") is False:
            status = body.get("status") or "inactive"
            return HealthResult(
                ok=False,
                error_code="account_inactive",
                message=f"the Bluesky account is {status}.",
                token_expires_at=expires,
            )
        message = None
        if ends is not None and utc_now() >= ends:
            # The server kept the session longer than two weeks: its end is not known after all.
            self.ctx.secrets = {**self.ctx.secrets, "session_end_unknown": True}
            self.ctx.save_secrets(dict(self.ctx.secrets))
            expires = None
        elif ends is not None and ends - utc_now() <= WARN_BEFORE:
            message = (
                f"the Bluesky sign-in ends on {ends:%Y-%m-%d %H:%M} UTC (AT Protocol OAuth sessions of an app "
                f"without a server of its own last two weeks). {login_hint(self._handle)} before then. "
                f"{UNATTENDED_HINT}"
            )
        return HealthResult(ok=True, message=message, token_expires_at=expires)

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
        media = [read_media(m) for m in req.media]
        created_at = now_iso()
        reply = self._reply(req)

        def op(client: Client) -> PublishResult:
            facets = client.detect_facets(req.text) if req.text else []
            embed = build_embed(client, media)
            record = models.AppBskyFeedPost.Record(
                text=req.text,
                created_at=created_at,
                facets=facets or None,
                embed=embed,
                reply=reply,
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
            cid = as_str(body.get("cid"))
            return PublishResult(
                platform_post_id=as_str(body.get("uri")) or uri,
                url=self._post_url(self._handle, rkey),
                published_at=parse_dt(created_at),
                ref={"cid": cid} if cid else {},
            )

        return self._run("publishing a post", op)

    def _reply(self, req: PublishRequest) -> Any:
        """A part of a thread (or a first comment) replies with strong refs (uri and cid) to the
        thread's first post (`root`) and to the post right before it (`parent`): the reply
        object of app.bsky.feed.post (lexicons/app/bsky/feed/post.json, #replyRef)."""
        from atproto_client import models

        if req.reply_to is None:
            return None
        parent = self._strong_ref(req.reply_to)
        root = self._strong_ref(req.thread_root) if req.thread_root is not None else parent
        return models.AppBskyFeedPost.ReplyRef(root=root, parent=parent)

    def _strong_ref(self, post: PostRef) -> Any:
        """com.atproto.repo.strongRef of a post: its cid as kept when it was published, else read
        from the repo (an answer that came back unreadable)."""
        from atproto_client import models

        cid = as_str(post.ref.get("cid"))
        if not cid:
            parts = parse_at_uri(post.platform_post_id)
            if parts is None:
                raise PlatformRejected(f"{post.platform_post_id!r} is not an at:// post URI.", platform=PLATFORM)
            repo, collection, rkey = parts
            params = models.ComAtprotoRepoGetRecord.Params(repo=repo, collection=collection, rkey=rkey)
            body = self._run(
                "reading the post this one replies to",
                lambda c: content(c.invoke_query("com.atproto.repo.getRecord", params=params)),
            )
            cid = as_str(body.get("cid"))
            if not cid:
                raise MalformedResponse("getRecord answered without the record's cid.", platform=PLATFORM)
        return models.ComAtprotoRepoStrongRef.Main(uri=post.platform_post_id, cid=cid)

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
                lambda c: content(c.invoke_query("com.atproto.repo.getRecord", params=params)),
            )
        except RemoteNotFound:
            return None
        value = as_dict(body.get("value"))
        uri = as_str(body.get("uri")) or f"at://{did}/{POST_COLLECTION}/{rkey}"
        cid = as_str(body.get("cid"))
        return PublishResult(
            platform_post_id=uri,
            url=self._post_url(self._handle, rkey),
            published_at=parse_dt(value.get("createdAt")),
            ref={"cid": cid} if cid else {},
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
            lambda c: content(c.invoke_query("app.bsky.feed.getPosts", params=params)),
        )
        posts = body.get("posts")
        if not isinstance(posts, list) or not all(isinstance(p, dict) and isinstance(p.get("uri"), str) for p in posts):
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
                    result[view["uri"]] = post_metrics(view, self._host)
        return result

    def _profile(self, client: Client, actor: str) -> dict[str, Any]:
        from atproto_client import models

        params = models.AppBskyActorGetProfile.Params(actor=actor)
        return content(client.invoke_query("app.bsky.actor.getProfile", params=params))

    def fetch_account_metrics(self) -> AccountMetrics:
        did = self._did
        body = self._run("fetching account metrics", lambda c: self._profile(c, did))
        raw: dict[str, Any] = {
            k: body[k]
            for k in ("did", "handle", "followersCount", "followsCount", "postsCount", "indexedAt")
            if k in body
        }
        return AccountMetrics(
            followers=count(body, "followersCount", self._host),
            following=count(body, "followsCount", self._host),
            posts_count=count(body, "postsCount", self._host),
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
            m = WEB_URL_RE.match(parsed.path) if parsed.scheme in ("http", "https") else None
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
                    lambda c: content(c.invoke_query("com.atproto.identity.resolveHandle", params=params)),
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
            author = as_dict(view.get("author"))
            record = as_dict(view.get("record"))
            return PublishResult(
                platform_post_id=view["uri"],
                url=self._post_url(author.get("handle") or did, rkey),
                published_at=parse_dt(record.get("createdAt")),
                text=as_str(record.get("text")),
                author=did,
            )
        # The AppView may lag behind the PDS (or be absent): the repo is the authority.
        params = models.ComAtprotoRepoGetRecord.Params(repo=did, collection=POST_COLLECTION, rkey=rkey)
        try:
            body = self._run(
                "looking up the post",
                lambda c: content(c.invoke_query("com.atproto.repo.getRecord", params=params)),
            )
        except (RemoteNotFound, PlatformRejected):
            raise RemoteNotFound(f"the Bluesky post {text} does not exist (any more).", platform=PLATFORM) from None
        value = as_dict(body.get("value"))
        return PublishResult(
            platform_post_id=as_str(body.get("uri")) or uri,
            url=self._post_url(actor if not actor.startswith("did:") else did, rkey),
            published_at=parse_dt(value.get("createdAt")),
            text=as_str(value.get("text")),
            author=did,
        )
