"""X adapter: posts, media and metrics over the X API v2 (api.py holds the client and tokens).

References (docs/platforms/x.md lists what each choice rests on and what was verified):
  docs.x.com/x-api/posts/manage-tweets   POST /2/tweets, DELETE /2/tweets/:id
  docs.x.com/x-api/posts/lookup          GET /2/tweets?ids=
  docs.x.com/x-api/posts/timelines       GET /2/users/:id/tweets
  docs.x.com/x-api/users/lookup          GET /2/users/me
  the X API v2 OpenAPI (github.com/xdevplatform/xdk, specs/openapi.json, version 2.167)
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, ClassVar, Iterator

from postcli.platforms.base import (
    AccountInfo,
    AccountMetrics,
    AuthFailed,
    HealthResult,
    Limits,
    MalformedResponse,
    PlatformRejected,
    PostMetrics,
    PublishRequest,
    PublishResult,
    RemoteNotFound,
)
from postcli.platforms.spec import PlatformSpec
from postcli.platforms.values import as_dict, as_utc, int_or_none
from postcli.platforms.x import media as x_media
from postcli.platforms.x.api import NO_REFRESH, RECONNECT, XApi
from postcli.platforms.x.metrics import lookup_params, private_allowed, read_answer, to_metrics
from postcli.platforms.x.posts import (
    created_at_of_id,
    media_count,
    plain_text,
    reference,
    replied_to,
    same_text,
    web_url,
)
from postcli.platforms.x.spec import SPEC
from postcli.platforms.x.text import MAX_WEIGHTED_LENGTH, URL_LENGTH, weighted_length

FIELDS_PARAMS = ("tweet.fields", "post.fields")  # the guides' name, the current OpenAPI's
LOOKUP_BATCH = 100  # GET /2/tweets takes up to 100 ids
_PAGE = 100  # GET /2/users/:id/tweets max_results
_RECONCILE_PAGES = 3
_MEDIA_KEEP_MARGIN = 3600.0  # reuse an uploaded file only if X keeps it at least this much longer


class XAdapter(XApi):
    """One X account, posted to with an OAuth 2.0 user token."""

    spec: ClassVar[PlatformSpec] = SPEC
    metrics_batch_size: ClassVar[int] = LOOKUP_BATCH
    # No idempotency key, and X bills every post: find_published reads the account's posts.
    reconciles_by_recent_posts: ClassVar[bool] = True
    reconcile_margin: ClassVar[timedelta] = timedelta(minutes=5)
    reconcile_lookback: ClassVar[timedelta | None] = timedelta(days=1)

    # -- account ------------------------------------------------------------------------

    def connect(self, identifier: str | None, secret: str) -> AccountInfo:
        """Verify the token with GET /2/users/me. A refresh token without an expiry known
        (`accounts add` with POSTCLI_X_REFRESH_TOKEN) is used once first: that proves it works
        and tells when the access token expires."""
        token = (secret or "").strip()
        if not token:
            raise self._fail(
                AuthFailed,
                "an X OAuth 2.0 user access token is required",
                hint="sign in with `postcli accounts login x`, or make one for your app (docs/signin.md)",
            )
        secrets = {k: v for k, v in (self.ctx.secrets or {}).items() if v}
        secrets["access_token"] = token
        self.ctx.secrets = secrets
        self.secrets_in_play()
        if secrets.get("refresh_token") and not (self.ctx.settings or {}).get("client_id"):
            raise self._fail(
                PlatformRejected,
                "a refresh token was given, but refreshing it also needs your app's --client-id",
                hint="give --client-id (and POSTCLI_X_CLIENT_SECRET for a confidential app), or leave out the refresh token",
            )
        self.ctx.token_expires_at = as_utc(secrets.get("expires_at"))
        if self.ctx.token_expires_at is None and self._can_refresh():
            with self._lock:
                self._refresh_now()
        me = self._me("reading the token's user", guard=False)
        user_id, username = str(me.get("id") or ""), str(me.get("username") or "")
        if not user_id or not username:
            raise self._fail(MalformedResponse, f"{self._host_name()} did not say whose token this is")
        self._settings(user_id=user_id, username=username)
        self.ctx.handle, self.ctx.external_id = username, user_id
        self.ctx.save_secrets(dict(self.ctx.secrets))
        return AccountInfo(
            external_id=user_id,
            handle=username,
            display_name=str(me.get("name") or "") or None,
            token_expires_at=self.ctx.token_expires_at,
        )

    def _me(self, what: str, *, guard: bool = True) -> dict[str, Any]:
        body = self._api(
            "GET",
            "/2/users/me",
            what,
            endpoint="GET /2/users/me",
            guard=guard,
            params={"user.fields": "public_metrics"},
        )
        data = body.get("data")
        if not isinstance(data, dict):
            raise self._fail(MalformedResponse, f"{self._host_name()} sent no user while {what}")
        return data

    def _user_id(self) -> str:
        found = (self.ctx.settings or {}).get("user_id") or self.ctx.external_id
        if not found:
            raise self._fail(AuthFailed, "this X account has no user id stored", hint=RECONNECT)
        return str(found)

    def _username(self) -> str | None:
        return (self.ctx.settings or {}).get("username") or self.ctx.handle

    def limits(self) -> Limits:
        return Limits(
            max_text=MAX_WEIGHTED_LENGTH,
            url_weight=URL_LENGTH,
            count_unit="weighted characters (CJK and emoji count 2)",
            max_images=x_media.MAX_IMAGES,
            max_videos=1,
            max_items=x_media.MAX_IMAGES,
            max_image_bytes=x_media.MAX_IMAGE_BYTES,
            max_gif_bytes=x_media.MAX_GIF_BYTES,
            max_video_bytes=x_media.MAX_VIDEO_BYTES,
            max_alt_text=x_media.MAX_ALT_TEXT,
            min_video_seconds=x_media.MIN_VIDEO_SECONDS,
            max_video_seconds=x_media.MAX_VIDEO_SECONDS,
            mime_types=(*x_media.IMAGE_TYPES, x_media.GIF, *x_media.VIDEO_TYPES),
            images_and_video=False,
        )

    def text_length(self, text: str) -> int:
        return weighted_length(text)

    # -- publishing ---------------------------------------------------------------------

    def publish(self, req: PublishRequest) -> PublishResult:
        """Upload the media (reusing what an earlier attempt uploaded), then POST /2/tweets."""
        problems = x_media.problems(req.media)
        length = weighted_length(req.text)
        if length > MAX_WEIGHTED_LENGTH:
            problems.insert(0, f"the text is {length} weighted characters, X allows {MAX_WEIGHTED_LENGTH}.")
        if not req.text.strip() and not req.media:
            problems.insert(0, "there is nothing to post.")
        if problems:
            raise self._fail(PlatformRejected, "cannot publish to X: " + " ".join(problems) + " Nothing was sent.")
        body: dict[str, Any] = {}
        if req.text.strip():
            body["text"] = req.text
        media_ids = self._media_ids(req)
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        if req.fields.get("reply_settings"):
            body["reply_settings"] = req.fields["reply_settings"]
        if req.reply_to is not None:
            # A part of a thread (or a first comment) replies to the post before it
            # (docs.x.com/x-api/posts/create-or-edit-post: reply.in_reply_to_tweet_id).
            body["reply"] = {"in_reply_to_tweet_id": req.reply_to.platform_post_id}
        try:
            created = self._api("POST", "/2/tweets", "publishing the post", endpoint="POST /2/tweets", json=body)
        except PlatformRejected as exc:
            if "duplicate" not in exc.message.lower():
                raise
            return self._duplicate(req, exc)
        post_id = str(as_dict(created.get("data")).get("id") or "")
        if not post_id.isdigit():
            raise self._fail(MalformedResponse, f"{self._host_name()} did not say which post it created")
        return PublishResult(
            platform_post_id=post_id,
            url=web_url(self.spec.host("web"), self._username(), post_id),
            published_at=created_at_of_id(post_id) or datetime.now(timezone.utc),
        )

    def _media_ids(self, req: PublishRequest) -> list[str]:
        """Each file's media id. An earlier attempt's uploads are kept in the target's publish
        state and reused while X keeps them, so a retry after a lost answer does not upload a
        512 MB video again."""
        kept = {str(k): as_dict(v) for k, v in as_dict(req.state.get("media")).items()}
        ids: list[str] = []
        for number, item in enumerate(req.media):
            prior = kept.get(str(number), {})
            until = float(prior.get("until") or 0)
            if prior.get("id") and prior.get("size") == item.size_bytes and until > time.time() + _MEDIA_KEEP_MARGIN:
                ids.append(str(prior["id"]))
                continue
            media_id, keep = x_media.upload(self, item, number)
            kept[str(number)] = {"id": media_id, "size": item.size_bytes, "until": time.time() + keep if keep else 0}
            req.save_state({**req.state, "media": {k: dict(v) for k, v in kept.items()}})
            ids.append(media_id)
        return ids

    def _duplicate(self, req: PublishRequest, exc: PlatformRejected) -> PublishResult:
        """X refuses a post identical to a recent one. After an attempt whose answer was lost that
        recent one may be ours: look for it once more (the listing may have lagged before)."""
        if req.first_attempt_at is not None:
            found = self.find_published(req)
            if found is not None:
                return found
        raise self._fail(
            PlatformRejected,
            exc.message,
            hint="X refuses a post with the same text as a recent one of the account; change the text",
        )

    def find_published(self, req: PublishRequest) -> PublishResult | None:
        """Was `req` published by an attempt whose outcome is unknown?

        X has no idempotency key and bills every post, so this reads the account's own posts
        since the first attempt (minus 5 minutes; up to 300 of them, newest first) for one with
        the same text (links compared through entities.urls, since `text` holds t.co links) and
        as many media. A post made by hand with the same text in that window is taken for ours.
        A reply (a part of a thread, a first comment) is looked for among the account's posts
        with its replies, replying to the same post (referenced_tweets: replied_to).
        """
        if req.reply_to is None:
            return self.find_in_recent_posts(req)
        since = self.reconcile_since(req)
        for post in self._recent(since, replies=True):
            created = self.post_created_at(post)
            if since is not None and created is not None and created < since:
                return None  # newest first: the rest are older still
            if self.same_post(post, req):
                return self.reconciled(post, req)
        return None

    def recent_posts(self, since: datetime | None) -> Iterator[dict[str, Any]]:
        return self._recent(since, replies=False)

    def _recent(self, since: datetime | None, *, replies: bool) -> Iterator[dict[str, Any]]:
        """The account's posts, newest first; its replies too when `replies` (they cost a read each)."""
        params: dict[str, Any] = {"max_results": _PAGE, "exclude": "retweets" if replies else "retweets,replies"}
        if since is not None:
            params["start_time"] = since.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        for _page in range(_RECONCILE_PAGES):
            page = dict(params)

            def with_fields(name: str, page: dict[str, Any] = page) -> dict[str, Any]:
                return {**page, name: "created_at,entities,attachments" + (",referenced_tweets" if replies else "")}

            body = self._with_fields(
                "GET",
                f"/2/users/{self._user_id()}/tweets",
                "looking for an earlier attempt among the account's posts",
                "GET /2/users/:id/tweets",
                with_fields,
            )
            yield from (p for p in body.get("data") or [] if isinstance(p, dict))
            token = as_dict(body.get("meta")).get("next_token")
            if not token:
                return
            params["pagination_token"] = token

    def post_created_at(self, post: dict[str, Any]) -> datetime | None:
        return as_utc(post.get("created_at")) or created_at_of_id(str(post.get("id")))

    def same_post(self, post: dict[str, Any], req: PublishRequest) -> bool:
        parent = req.reply_to.platform_post_id if req.reply_to is not None else None
        return media_count(post) == len(req.media) and same_text(post, req.text) and replied_to(post) == parent

    def reconciled(self, post: dict[str, Any], req: PublishRequest) -> PublishResult:
        post_id = str(post["id"])
        return PublishResult(
            platform_post_id=post_id,
            url=web_url(self.spec.host("web"), self._username(), post_id),
            published_at=self.post_created_at(post),
        )

    def delete(self, platform_post_id: str) -> None:
        """DELETE /2/tweets/:id; a post already gone (404, or "deleted": false) is not an error."""
        try:
            self._api(
                "DELETE",
                f"/2/tweets/{platform_post_id}",
                f"deleting post {platform_post_id}",
                endpoint="DELETE /2/tweets/:id",
            )
        except RemoteNotFound:
            pass

    def _with_fields(
        self, method: str, path: str, what: str, endpoint: str, params: Callable[[str], dict[str, Any]]
    ) -> dict[str, Any]:
        """A read that names post fields. The guides call the parameter tweet.fields, the current
        OpenAPI post.fields: the one X refuses as unknown is swapped for the other, once, and
        the one it takes is remembered."""
        name = (self.ctx.settings or {}).get("fields_param") or FIELDS_PARAMS[0]
        try:
            return self._api(method, path, what, endpoint=endpoint, params=params(name))
        except PlatformRejected as exc:
            if f"[{name}]" not in exc.message and f"'{name}'" not in exc.message:
                raise
        other = FIELDS_PARAMS[1] if name == FIELDS_PARAMS[0] else FIELDS_PARAMS[0]
        body = self._api(method, path, what, endpoint=endpoint, params=params(other))
        self._settings(fields_param=other)
        return body

    # -- metrics ------------------------------------------------------------------------

    def fetch_post_metrics(self, platform_post_ids: list[str]) -> dict[str, PostMetrics | None]:
        """GET /2/tweets?ids= (100 a call) with public metrics, and private ones for posts of the
        last 30 days. A post missing from the answer without a reason is left out (collect
        tries it again); a deleted one is None."""
        ids = list(dict.fromkeys(str(i) for i in platform_post_ids))
        now = datetime.now(timezone.utc)
        result: dict[str, PostMetrics | None] = {}
        for private in (True, False):
            group = [i for i in ids if private_allowed(i, now) == private]
            for start in range(0, len(group), LOOKUP_BATCH):
                self._lookup(group[start : start + LOOKUP_BATCH], private, result)
        return result

    def _lookup(self, ids: list[str], private: bool, result: dict[str, PostMetrics | None]) -> None:
        what = f"fetching the metrics of {len(ids)} post{'s' if len(ids) != 1 else ''}"
        body = self._with_fields(
            "GET", "/2/tweets", what, "GET /2/tweets", lambda name: lookup_params(ids, name, private=private)
        )
        posts, media, deleted, denied = read_answer(body)
        for post_id in ids:
            if post_id in posts:
                result[post_id] = to_metrics(posts[post_id], media)
            elif post_id in deleted:
                result[post_id] = None
        if private and denied:
            # Too old, or not the account's own: its public numbers are still there.
            self._lookup(sorted(denied & set(ids)), False, result)

    def fetch_account_metrics(self) -> AccountMetrics:
        """GET /2/users/me?user.fields=public_metrics."""
        me = self._me("reading the account's counters")
        counts = as_dict(me.get("public_metrics"))
        followers = int_or_none(counts.get("followers_count"))
        posts = int_or_none(counts.get("tweet_count"))
        if posts is None:
            posts = int_or_none(counts.get("post_count"))  # the current OpenAPI's name
        return AccountMetrics(
            followers=followers,
            following=int_or_none(counts.get("following_count")),
            posts_count=posts,
            raw={"id": me.get("id"), "username": me.get("username"), "public_metrics": counts or None},
        )

    # -- health and import --------------------------------------------------------------

    def check_health(self) -> HealthResult:
        """Refresh when the access token is near its end, then GET /2/users/me. It is sent even
        while postcli holds back for a spent usage cap: an answer means the cap was lifted."""
        self._refresh_if_due()
        me = self._me("checking the access token", guard=False)
        self._settings(usage_capped_until=None, username=me.get("username") or self._username())
        message = None if self._can_refresh() else "the access token cannot be refreshed; " + NO_REFRESH
        return HealthResult(ok=True, message=message, token_expires_at=self._expires_at())

    def resolve_post(self, url_or_id: str) -> PublishResult:
        ref = reference(url_or_id)
        if ref is None:
            raise self._fail(
                RemoteNotFound,
                f"{url_or_id!r} is not an X post link or id",
                hint="give the post id or its link, e.g. https://x.com/USER/status/ID",
            )
        username, post_id = ref
        body = self._with_fields(
            "GET",
            "/2/tweets",
            f"fetching post {post_id}",
            "GET /2/tweets",
            lambda name: {"ids": post_id, name: "created_at,author_id,entities,attachments"},
        )
        posts, _media, _deleted, _denied = read_answer(body)
        post = posts.get(post_id)
        if post is None:
            raise self._fail(RemoteNotFound, f"post {post_id} is not on X (deleted, or not visible to this account)")
        author = str(post.get("author_id") or "") or None
        if author is not None and author == (self.ctx.settings or {}).get("user_id"):
            username = self._username()
        return PublishResult(
            platform_post_id=post_id,
            url=web_url(self.spec.host("web"), username, post_id),
            published_at=self.post_created_at(post),
            text=plain_text(post),
            author=author,
        )
