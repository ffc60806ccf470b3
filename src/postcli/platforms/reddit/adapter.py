"""Reddit adapter: self and link posts to a subreddit, metrics from /api/info (api.py holds the
client, the tokens and the rate-limit window; wire.py Reddit's formats).

References (docs/platforms/reddit.md lists what each choice rests on):
  https://www.reddit.com/dev/api  (POST /api/submit, GET /api/info, GET /api/v1/me,
    GET /user/{username}/submitted, GET /r/{subreddit}/api/link_flair_v2, POST /api/del)
  https://github.com/reddit-archive/reddit/wiki/OAuth2
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Iterator

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
from postcli.platforms.reddit import comments
from postcli.platforms.reddit.api import NO_REFRESH_HINT, RedditApi, reconnect_hint
from postcli.platforms.reddit.spec import SPEC
from postcli.platforms.reddit.wire import (
    check_username,
    collapse,
    deleted_by_author,
    describe,
    flair_required,
    from_epoch,
    fullname,
    json_errors,
    post_id36,
    ratelimit_seconds,
    removed_state,
    subreddit_name,
)
from postcli.platforms.spec import PlatformSpec
from postcli.platforms.values import as_dict, int_or_none

# Link.SELFTEXT_MAX_LENGTH (reddit-archive/reddit r2/models/link.py): 40,000 characters.
SELFTEXT_MAX = 40_000
INFO_BATCH = 100  # /api/info takes up to 100 fullnames
_PAGE = 100  # listings take limit up to 100
_RECONCILE_PAGES = 2


class RedditAdapter(RedditApi):
    """One Reddit user, posting to the subreddit each post names (--field reddit.subreddit)."""

    spec: ClassVar[PlatformSpec] = SPEC
    metrics_batch_size: ClassVar[int] = INFO_BATCH
    # No idempotency key: find_published looks among the user's newest submissions.
    reconciles_by_recent_posts: ClassVar[bool] = True
    # A comment stays under a deleted post ("[deleted]" shows, the comment does not go).
    comment_outlives_post: ClassVar[bool] = True

    # -- account -------------------------------------------------------------

    def connect(self, identifier: str | None, secret: str) -> AccountInfo:
        """Verify the token with GET /api/v1/me and that it is `identifier`'s.

        With a refresh token and the app's client id the token is refreshed once first: that
        proves the refresh works (Basic auth with an empty secret) and tells the expiry."""
        token = (secret or "").strip()
        if not token:
            raise self._fail(AuthFailed, "a Reddit OAuth2 access token is required", hint=reconnect_hint(None))
        wanted = check_username(identifier or self.ctx.handle or "")
        self.ctx.handle = wanted
        secrets = {k: v for k, v in (self.ctx.secrets or {}).items() if v and k != "expires_at"}
        secrets["access_token"] = token
        self.ctx.secrets = secrets
        self.ctx.token_expires_at = None
        self._remember_secrets()
        if secrets.get("refresh_token") and not self._client_id():
            raise self._fail(
                PlatformRejected,
                "a refresh token was given, but refreshing also needs your app's client id",
                hint="add --client-id ID (reddit.com/prefs/apps), or leave out the refresh token",
            )
        expires_at = None
        if self._can_refresh():
            with self._lock:
                expires_at = self._refresh()
        me = self._me("reading the token's user")
        name = str(me.get("name") or "")
        if name.lower() != wanted.lower():
            raise self._fail(
                PlatformRejected,
                f"the token belongs to u/{name or '?'}, not u/{wanted}",
                hint=f"sign in to Reddit as u/{wanted}, or pass --user {name or 'NAME'}",
            )
        user_id = f"t2_{me['id']}" if me.get("id") else name
        self.ctx.settings = {**(self.ctx.settings or {}), "username": name, "user_id": user_id}
        self.ctx.settings_changed = True
        self.ctx.handle = name
        self.ctx.external_id = user_id
        self.ctx.save_secrets(dict(self.ctx.secrets))
        profile = as_dict(me.get("subreddit"))
        return AccountInfo(
            external_id=user_id, handle=name, display_name=profile.get("title") or None, token_expires_at=expires_at
        )

    def _me(self, what: str) -> dict[str, Any]:
        me = self._api("GET", "/api/v1/me", what)
        if not isinstance(me, dict) or not me.get("name"):
            raise self._fail(MalformedResponse, f"{self._hostname()} did not say whose token it is")
        return me

    def limits(self) -> Limits:
        # Image and video posts go through an undocumented media upload that answers over a
        # websocket: refused before anything is sent (docs/platforms/reddit.md).
        return Limits(max_text=SELFTEXT_MAX, max_images=0, max_videos=0, mime_types=())

    def text_length(self, text: str) -> int:
        return len(text)

    # -- publishing ----------------------------------------------------------

    def _target(self, req: PublishRequest) -> tuple[str, str]:
        """(subreddit, title) of `req`, or PlatformRejected with nothing sent."""
        problems = []
        raw_sr = req.fields.get("subreddit")
        sr = subreddit_name(str(raw_sr)) if raw_sr else None
        if raw_sr is None:
            problems.append("no subreddit given (--field reddit.subreddit=NAME)")
        elif sr is None:
            problems.append(f"{raw_sr!r} is not a subreddit name (3-21 letters, digits or _)")
        title = collapse(req.title)
        if not title:
            problems.append("a Reddit post needs a title (--title)")
        elif len(title) > 300:
            problems.append(f"the title is {len(title)} characters, Reddit takes at most 300")
        if req.media:
            problems.append("postcli does not post images or videos to Reddit (only text and links)")
        if len(req.text) > SELFTEXT_MAX:
            problems.append(f"the text is {len(req.text):,} characters, Reddit takes at most {SELFTEXT_MAX:,}")
        if problems:
            raise self._fail(PlatformRejected, "cannot publish to Reddit: " + "; ".join(problems) + ".")
        assert sr is not None
        return sr, title

    def publish(self, req: PublishRequest) -> PublishResult:
        """POST /api/submit (api_type=json): a self post of the text, or with --link a link post
        (the text as its body). Reddit refuses with HTTP 200 and json.errors: read those."""
        sr, title = self._target(req)
        data: dict[str, Any] = {
            "api_type": "json",
            "sr": sr,
            "title": title,
            "kind": "link" if req.link else "self",
            "resubmit": "true",
            "sendreplies": "true",
        }
        if req.link:
            data["url"] = req.link
        if req.text.strip():
            data["text"] = req.text
        if req.fields.get("flair_id"):
            data["flair_id"] = str(req.fields["flair_id"])
        what = f"submitting the post to r/{sr}"
        try:
            body = self._api("POST", "/api/submit", what, data=data)
        except PlatformRejected as exc:
            # The submit validator's own shape (HTTP 400, {"reason": "SUBMIT_VALIDATION_..."}).
            if "FLAIR_REQUIRED" not in exc.message:
                raise
            raise self._fail(
                PlatformRejected,
                f"{exc.message}. {self._flair_choices(sr)}",
                hint=f"add --field reddit.flair_id=ID with one of r/{sr}'s flairs",
            ) from None
        self._refused(body, sr, what)
        created = (body.get("json") or {}).get("data") if isinstance(body.get("json"), dict) else None
        if not isinstance(created, dict) or not (created.get("name") or created.get("id")):
            raise self._fail(MalformedResponse, f"{self._hostname()} did not say which post it created in r/{sr}")
        name = fullname(str(created.get("name") or created["id"]))
        url = created.get("url")
        return PublishResult(
            platform_post_id=name,
            url=str(url) if url else f"{self.host('web')}/comments/{name[3:]}/",
            published_at=self._now(),
        )

    def _refused(self, body: dict[str, Any], sr: str, what: str) -> None:
        """json.errors of an answer (sent with HTTP 200), as the typed error they mean."""
        errors = json_errors(body)
        if not errors:
            return
        codes = {code for code, _m, _f in errors}
        if "RATELIMIT" in codes:
            wait = next((ratelimit_seconds(m) for c, m, _f in errors if c == "RATELIMIT"), None)
            raise self._fail(
                PlatformRateLimited,
                f"Reddit refused while {what}: {describe(errors)}",
                retry_after=wait,
                hint="Reddit limits how often a user may post (less for new accounts and low karma)",
            )
        if "USER_REQUIRED" in codes:
            raise self._fail(
                AuthFailed, f"Reddit refused while {what}: {describe(errors)}", hint=reconnect_hint(self.username())
            )
        if flair_required(errors):
            raise self._fail(
                PlatformRejected,
                f"Reddit refused while {what}: {describe(errors)}. {self._flair_choices(sr)}",
                hint=f"add --field reddit.flair_id=ID with one of r/{sr}'s flairs",
            )
        raise self._fail(PlatformRejected, f"Reddit refused while {what}: {describe(errors)}")

    def _flair_choices(self, sr: str) -> str:
        """r/SUB's link flairs as 'ID (text)', from GET /r/{sr}/api/link_flair_v2 (a bare array)."""
        try:
            found = self._api("GET", f"/r/{sr}/api/link_flair_v2", f"listing r/{sr}'s post flairs")
        except PlatformError as exc:
            return f"Its flairs could not be listed ({exc.message})."
        flairs = [f for f in found if isinstance(f, dict) and f.get("id")] if isinstance(found, list) else []
        usable = [f for f in flairs if not f.get("mod_only")]
        if not usable:
            return f"r/{sr} lists no post flair you may use."
        listed = ", ".join(f"{f['id']} ({f.get('text') or 'no text'})" for f in usable)
        return f"r/{sr}'s post flairs: {listed}."

    # -- the first comment (comments.py) -------------------------------------------

    def publish_comment(self, req: PublishRequest) -> PublishResult:
        return comments.publish(self, req)

    def find_comment(self, req: PublishRequest) -> PublishResult | None:
        return comments.find(self, req)

    def comment_limit(self) -> int:
        return comments.MAX_COMMENT

    # -- reconciling --------------------------------------------------------------

    def find_published(self, req: PublishRequest) -> PublishResult | None:
        """Was `req` submitted by an attempt whose outcome is unknown?

        Reddit has no idempotency key, so this reads the user's newest submissions
        (GET /user/{name}/submitted?sort=new, up to 200) from the first attempt minus 5
        minutes, for one in the same subreddit with the same title, kind and body or link.
        A post made by hand with the same title and text in that window is taken for ours."""
        return self.find_in_recent_posts(req)

    def recent_posts(self, since: datetime | None) -> Iterator[dict[str, Any]]:
        after = None
        user = self.username()
        for _ in range(_RECONCILE_PAGES):
            params: dict[str, Any] = {"sort": "new", "limit": _PAGE}
            if after:
                params["after"] = after
            found = self._api(
                "GET", f"/user/{user}/submitted", "looking for an earlier attempt among your posts", params=params
            )
            listing = found.get("data") if isinstance(found, dict) else None
            children = listing.get("children") if isinstance(listing, dict) else None
            posts = [c["data"] for c in children or [] if isinstance(c, dict) and isinstance(c.get("data"), dict)]
            yield from posts
            after = listing.get("after") if isinstance(listing, dict) else None
            if not after or not posts:
                return

    def post_created_at(self, post: dict[str, Any]) -> datetime | None:
        return from_epoch(post.get("created_utc"))

    def same_post(self, post: dict[str, Any], req: PublishRequest) -> bool:
        wanted_sr = subreddit_name(str(req.fields.get("subreddit") or ""))
        if not wanted_sr or str(post.get("subreddit") or "").lower() != wanted_sr.lower():
            return False
        if collapse(post.get("title")) != collapse(req.title):
            return False
        if req.link:
            listed = str(post.get("url") or "").rstrip("/")
            return not post.get("is_self") and listed == req.link.strip().rstrip("/")
        return bool(post.get("is_self")) and collapse(post.get("selftext")) == collapse(req.text)

    def reconciled(self, post: dict[str, Any], req: PublishRequest) -> PublishResult:
        return self._result(post)

    def _result(self, post: dict[str, Any]) -> PublishResult:
        name = post.get("name") or (fullname(str(post["id"])) if post.get("id") else None)
        if not name:
            raise self._fail(MalformedResponse, f"{self._hostname()} listed a post without an id")
        permalink = post.get("permalink")
        return PublishResult(
            platform_post_id=str(name),
            url=f"{self.host('web')}{permalink}" if permalink else None,
            published_at=from_epoch(post.get("created_utc")),
            text=post.get("selftext") or post.get("title") or None,
            author=post.get("author_fullname") or None,
        )

    def delete(self, platform_post_id: str) -> None:
        """POST /api/del: deleting what is already deleted answers {} as well."""
        # A first comment (t1_) is deleted the same way.
        thing = platform_post_id if platform_post_id.startswith("t1_") else fullname(platform_post_id)
        what = f"deleting {'comment' if thing.startswith('t1_') else 'post'} {thing}"
        errors = json_errors(self._api("POST", "/api/del", what, data={"id": thing}))
        if errors:
            raise self._fail(PlatformRejected, f"Reddit refused while {what}: {describe(errors)}")

    # -- metrics -------------------------------------------------------------

    def _info(self, names: list[str], what: str) -> dict[str, dict[str, Any]]:
        found = self._api("GET", "/api/info", what, params={"id": ",".join(names)})
        listing = found.get("data") if isinstance(found, dict) else None
        children = listing.get("children") if isinstance(listing, dict) else None
        if not isinstance(children, list):
            raise self._fail(MalformedResponse, f"{self._hostname()} sent no listing while {what}")
        posts = (c.get("data") for c in children if isinstance(c, dict))
        return {str(p["name"]): p for p in posts if isinstance(p, dict) and p.get("name")}

    def fetch_post_metrics(self, platform_post_ids: list[str]) -> dict[str, PostMetrics | None]:
        """GET /api/info?id=t3_a,t3_b,... (100 a call). A post missing from the answer, or
        deleted by its author (removed_by_category "deleted"), is None; one removed by the
        moderators or Reddit keeps its numbers and says so (PostMetrics.platform_state)."""
        ids = list(dict.fromkeys(str(i) for i in platform_post_ids))
        result: dict[str, PostMetrics | None] = {}
        for start in range(0, len(ids), INFO_BATCH):
            chunk = ids[start : start + INFO_BATCH]
            posts = self._info([fullname(i) for i in chunk], f"fetching the numbers of {len(chunk)} posts")
            for post_id in chunk:
                post = posts.get(fullname(post_id))
                result[post_id] = None if post is None or deleted_by_author(post) else self._metrics(post)
        return result

    @staticmethod
    def _metrics(post: dict[str, Any]) -> PostMetrics:
        raw = {
            key: post.get(key)
            for key in (
                "name",
                "score",
                "ups",
                "upvote_ratio",
                "num_comments",
                "num_crossposts",
                "view_count",
                "removed_by_category",
                "locked",
                "archived",
            )
        }
        metrics = PostMetrics(
            likes=int_or_none(post.get("score")),
            comments=int_or_none(post.get("num_comments")),
            shares=int_or_none(post.get("num_crossposts")),
            impressions=int_or_none(post.get("view_count")),  # null for nearly every post
            raw=raw,
        )
        metrics.platform_state = removed_state(post)
        return metrics

    def fetch_account_metrics(self) -> AccountMetrics:
        """GET /api/v1/me: followers are the subscribers of the user's profile (me.subreddit),
        where Reddit sends it; karma goes in raw (no counter of postcli's holds it)."""
        me = self._me("reading the account's karma and followers")
        profile = as_dict(me.get("subreddit"))
        followers = int_or_none(profile.get("subscribers"))
        raw = {
            key: int_or_none(me.get(key))
            for key in ("link_karma", "comment_karma", "total_karma", "awardee_karma", "awarder_karma")
        }
        raw.update(name=me.get("name"), followers=followers)
        return AccountMetrics(followers=followers, raw=raw)

    # -- health and import -----------------------------------------------------

    def check_health(self) -> HealthResult:
        """Refresh first when the access token is within 5 minutes of its end, then GET /api/v1/me."""
        if self._can_refresh() and self._refresh_due():
            with self._lock:
                if self._refresh_due():
                    self._refresh()
        me = self._me("checking the access token")
        expires = self._expires_at()
        wanted = self.username() or ""
        if str(me.get("name") or "").lower() != wanted.lower():
            return HealthResult(
                ok=False,
                error_code="wrong_user",
                message=f"the token now belongs to u/{me.get('name')}, not u/{wanted}",
                token_expires_at=expires,
            )
        if me.get("is_suspended"):
            return HealthResult(
                ok=False, error_code="suspended", message=f"u/{wanted} is suspended", token_expires_at=expires
            )
        message = None if self._can_refresh() else "the access token cannot be refreshed; " + NO_REFRESH_HINT
        return HealthResult(ok=True, message=message, token_expires_at=expires)

    def resolve_post(self, url_or_id: str) -> PublishResult:
        post_id = post_id36(url_or_id)
        if post_id is None:
            raise self._fail(
                RemoteNotFound,
                f"{url_or_id!r} is not a Reddit post link or id",
                hint="give the post's link (https://www.reddit.com/r/SUB/comments/ID/...) or its id",
            )
        name = fullname(post_id)
        post = self._info([name], f"fetching post {name}").get(name)
        if post is None:
            raise self._fail(RemoteNotFound, f"Reddit has no post {name}")
        return self._result(post)
