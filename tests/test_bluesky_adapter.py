"""The real BlueskyAdapter over real sockets against the fake PDS (tests/fakes)."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # so `tests.fakes` imports without a conftest

from tests.fakes.bluesky_server import FakeBlueskyServer

from postcli.platforms.base import (
    AccountContext,
    Adapter,
    AuthFailed,
    MalformedResponse,
    MediaItem,
    PlatformRateLimited,
    PlatformRejected,
    PlatformUnavailable,
    PublishRequest,
    RemoteNotFound,
)
from postcli.platforms.bluesky.adapter import BlueskyAdapter
from postcli.platforms.bluesky.tid import TID_RE, new_tid

PASSWORD = "alice-app-pass-1234"
JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{5,}")


class Vault:
    """Stands in for the credential store: what save_secrets was given, in order."""

    def __init__(self) -> None:
        self.saves: list[dict[str, Any]] = []

    def __call__(self, secrets: dict[str, Any]) -> None:
        self.saves.append(dict(secrets))

    @property
    def latest(self) -> dict[str, Any]:
        return self.saves[-1]


@pytest.fixture
def server():
    with FakeBlueskyServer() as srv:
        srv.add_account("alice.test", PASSWORD, display_name="Alice")
        srv.add_account("bob.test", "bob-app-pass")
        yield srv


def make_ctx(server: FakeBlueskyServer, vault: Vault, secrets: dict | None = None, **kw: Any) -> AccountContext:
    ctx = AccountContext(
        platform="bluesky",
        api_base_url=server.url,
        secrets=dict(secrets or {}),
        save_secrets=vault,
        timeout=kw.pop("timeout", 5.0),
        **kw,
    )
    return ctx


def connected(server: FakeBlueskyServer, **kw: Any) -> tuple[BlueskyAdapter, Vault]:
    """A freshly connected adapter, as `accounts add` leaves it."""
    vault = Vault()
    ctx = make_ctx(server, vault, **kw)
    adapter = BlueskyAdapter(ctx)
    info = adapter.connect("alice.test", PASSWORD)
    ctx.external_id, ctx.handle = info.external_id, info.handle
    return adapter, vault


def reopened(server: FakeBlueskyServer, secrets: dict, **kw: Any) -> tuple[BlueskyAdapter, Vault]:
    """A new adapter built from stored secrets, as every later command does."""
    vault = Vault()
    ctx = make_ctx(server, vault, secrets=secrets, external_id=secrets["did"], handle=secrets["handle"], **kw)
    return BlueskyAdapter(ctx), vault


def assert_no_secrets(exc: BaseException, *secrets: str) -> None:
    text = f"{exc} {getattr(exc, 'hint', '')}"
    assert not JWT_RE.search(text), text
    for secret in secrets:
        assert secret not in text


def post_req(text: str = "hello", **kw: Any) -> PublishRequest:
    return PublishRequest(text=text, idempotency_key=kw.pop("idempotency_key", new_tid()), **kw)


# --- contract basics ----------------------------------------------------------


def test_module_is_cheap_and_satisfies_the_protocol(server):
    adapter = BlueskyAdapter(make_ctx(server, Vault()))
    assert isinstance(adapter, Adapter)
    assert (adapter.platform, adapter.default_base_url) == ("bluesky", "https://bsky.social")
    assert adapter.has_metrics and adapter.metrics_batch_size == 25
    limits = adapter.limits()
    assert (limits.max_text, limits.count_unit, limits.max_images, limits.max_image_bytes) == (
        300,
        "graphemes",
        4,
        2_000_000,  # app.bsky.embed.images maxSize in the current lexicon
    )
    assert "image/png" in limits.mime_types and "video/quicktime" not in limits.mime_types


def test_new_tid_is_valid_unique_and_sortable():
    tids = [new_tid() for _ in range(500)]
    assert all(TID_RE.match(t) for t in tids)
    assert len(set(tids)) == 500
    assert tids == sorted(tids)


def test_text_length_counts_graphemes():
    adapter = BlueskyAdapter(AccountContext(platform="bluesky", api_base_url="http://127.0.0.1:9"))
    assert adapter.text_length("👍🏽👨‍👩‍👧é") == 3  # skin tone, ZWJ family, e + combining accent
    assert adapter.text_length("x" * 300) == 300


# --- sessions -----------------------------------------------------------------


def test_connect_stores_session_and_returns_identity(server):
    adapter, vault = connected(server)
    secrets = vault.latest
    did = server.account("alice.test").did
    assert set(secrets) >= {"session", "app_password", "did", "handle"}
    assert secrets["did"] == did and secrets["handle"] == "alice.test"
    assert secrets["app_password"] == PASSWORD
    assert adapter.ctx.secrets == secrets
    assert server.count("com.atproto.server.createSession") == 1
    assert adapter.ctx.external_id == did


def test_connect_returns_display_name_and_refresh_expiry(server):
    vault = Vault()
    info = BlueskyAdapter(make_ctx(server, vault)).connect("@alice.test", PASSWORD)
    assert info.display_name == "Alice"
    assert info.token_expires_at is not None


def test_wrong_password_on_connect_is_auth_failed_with_app_password_hint(server):
    vault = Vault()
    with pytest.raises(AuthFailed) as caught:
        BlueskyAdapter(make_ctx(server, vault)).connect("alice.test", "wrong-password-xyz")
    assert "app password" in caught.value.hint.lower()
    assert_no_secrets(caught.value, "wrong-password-xyz")
    assert vault.saves == []


def test_stored_session_is_reused_without_create_session(server):
    _, vault = connected(server)
    adapter, vault2 = reopened(server, vault.latest)
    adapter.publish(post_req())
    adapter.fetch_account_metrics()
    assert server.count("com.atproto.server.createSession") == 1
    assert server.count("com.atproto.server.refreshSession") == 0
    assert vault2.saves == []  # nothing changed, nothing written


def test_expiring_access_token_is_refreshed_and_persisted(server):
    server.access_ttl = 60  # inside the SDK's 15-minute refresh margin
    _, vault = connected(server)
    stored = vault.latest
    server.reset_log()
    adapter, vault2 = reopened(server, stored)
    adapter.fetch_account_metrics()
    assert server.count("com.atproto.server.refreshSession") == 1
    assert server.count("com.atproto.server.createSession") == 0
    assert vault2.saves, "the rotated session must be saved at once"
    assert vault2.latest["session"] != stored["session"]
    assert vault2.latest["app_password"] == PASSWORD
    assert server.last("app.bsky.actor.getProfile").auth == "access"


def test_expired_access_token_refused_by_server_triggers_one_refresh(server):
    _, vault = connected(server)
    adapter, vault2 = reopened(server, vault.latest)
    server.fail_next("app.bsky.actor.getProfile", 400, "ExpiredToken", "Token has expired")
    metrics = adapter.fetch_account_metrics()
    assert metrics.followers == 0
    assert server.count("com.atproto.server.refreshSession") == 1
    assert server.count("com.atproto.server.createSession") == 1
    assert vault2.saves


def test_revoked_session_with_valid_password_logs_in_once(server):
    server.access_ttl = 60
    _, vault = connected(server)
    server.revoke_sessions("alice.test")
    adapter, vault2 = reopened(server, vault.latest)
    adapter.fetch_account_metrics()
    assert server.count("com.atproto.server.createSession") == 2
    assert vault2.latest["session"] != vault.latest["session"]


def test_revoked_session_and_wrong_stored_password_is_auth_failed(server):
    server.access_ttl = 60
    _, vault = connected(server)
    server.revoke_sessions("alice.test")
    server.set_password("alice.test", "a-new-app-password")
    adapter, _ = reopened(server, vault.latest)
    with pytest.raises(AuthFailed) as caught:
        adapter.fetch_account_metrics()
    assert "reconnect" in (caught.value.message + caught.value.hint).lower()
    assert_no_secrets(caught.value, PASSWORD, "a-new-app-password")
    assert server.count("com.atproto.server.createSession") == 2  # connect + exactly one retry
    assert server.last("com.atproto.server.refreshSession").status == 400


def test_check_health_ok_and_revoked(server):
    server.access_ttl = 60
    _, vault = connected(server)
    adapter, _ = reopened(server, {**vault.latest, "app_password": None})
    assert adapter.check_health().ok
    assert server.count("com.atproto.server.getSession") == 1
    server.revoke_sessions()
    adapter2, _ = reopened(server, {**vault.latest, "app_password": None})
    with pytest.raises(AuthFailed):
        adapter2.check_health()


def test_calls_stay_on_the_configured_base_url(server):
    # The DID document names a host that does not answer; the user's URL must win.
    server.pds_endpoint = "http://127.0.0.1:9"
    adapter, vault = connected(server)
    adapter.fetch_account_metrics()
    reopened(server, vault.latest)[0].fetch_account_metrics()
    assert server.count("app.bsky.actor.getProfile") >= 2


# --- publishing ---------------------------------------------------------------


def test_facets_use_utf8_byte_offsets_and_resolve_mentions(server):
    adapter, _ = connected(server)
    text = "Grüße 👋🏽 @bob.test → https://example.com/ü?q=1 #café! @nobody.test #日本語"
    adapter.publish(post_req(text))
    record = server.last("com.atproto.repo.createRecord").json["record"]
    assert record["text"] == text
    got = [
        (
            f["index"]["byteStart"],
            f["index"]["byteEnd"],
            f["features"][0]["$type"].rsplit("#", 1)[1],
            f["features"][0],
        )
        for f in record["facets"]
    ]
    bob = server.account("bob.test").did
    assert [(s, e, kind) for s, e, kind, _ in got] == [
        (17, 26, "mention"),
        (31, 57, "link"),
        (58, 64, "tag"),
        (79, 89, "tag"),
    ]
    assert got[0][3]["did"] == bob
    assert got[1][3]["uri"] == "https://example.com/ü?q=1"
    assert got[2][3]["tag"] == "café"  # range covers '#', the tag does not
    assert got[3][3]["tag"] == "日本語"
    raw = text.encode()
    assert raw[17:26] == b"@bob.test" and raw[58:64] == "#café".encode()
    # The unresolvable mention was looked up and left as plain text.
    assert [c.query["handle"] for c in server.calls("com.atproto.identity.resolveHandle")] == [
        ["bob.test"],
        ["nobody.test"],
    ]


def test_publish_uses_the_idempotency_key_as_rkey(server):
    adapter, _ = connected(server)
    tid = new_tid()
    result = adapter.publish(post_req(idempotency_key=tid))
    body = server.last("com.atproto.repo.createRecord").json
    did = server.account("alice.test").did
    assert body["rkey"] == tid and TID_RE.match(body["rkey"])
    assert body["repo"] == did and body["collection"] == "app.bsky.feed.post"
    assert result.platform_post_id == f"at://{did}/app.bsky.feed.post/{tid}"
    assert result.url == f"https://bsky.app/profile/alice.test/post/{tid}"
    assert result.published_at is not None


def test_find_published_found_and_not_found(server):
    adapter, _ = connected(server)
    req = post_req()
    assert adapter.find_published(req) is None
    published = adapter.publish(req)
    found = adapter.find_published(req)
    assert found is not None and found.platform_post_id == published.platform_post_id
    assert found.url == published.url


def test_reused_rkey_500_is_unknown_outcome_not_a_crash(server):
    adapter, _ = connected(server)
    req = post_req("first")
    adapter.publish(req)
    with pytest.raises(PlatformUnavailable):
        adapter.publish(req)
    assert server.last("com.atproto.repo.createRecord").status == 500
    # What a retry must do instead: look first.
    assert adapter.find_published(req) is not None


def test_lost_response_then_find_published_sees_the_post(server):
    adapter, _ = connected(server, timeout=0.5)
    server.hang_seconds = 3
    server.hang_after_success("com.atproto.repo.createRecord")
    req = post_req("did it land?")
    with pytest.raises(PlatformUnavailable):
        adapter.publish(req)
    assert adapter.find_published(req) is not None
    assert server.count("com.atproto.repo.createRecord") == 1


def test_non_tid_key_is_rejected_before_sending(server):
    adapter, _ = connected(server)
    with pytest.raises(PlatformRejected):
        adapter.publish(post_req(idempotency_key="not-a-tid"))
    assert server.count("com.atproto.repo.createRecord") == 0


def test_image_embed_shape(server, tmp_path):
    from PIL import Image

    png = tmp_path / "red.png"
    buf = io.BytesIO()
    Image.new("RGB", (4, 2), (255, 0, 0)).save(buf, format="PNG")
    png.write_bytes(buf.getvalue())
    adapter, _ = connected(server)
    media = [
        MediaItem(
            path=png,
            mime_type="image/png",
            size_bytes=png.stat().st_size,
            alt_text="a red 4x2",
            width=4,
            height=2,
        ),
        MediaItem(path=png, mime_type="image/png", size_bytes=png.stat().st_size),
    ]
    adapter.publish(post_req("picture post", media=media))
    uploads = server.calls("com.atproto.repo.uploadBlob")
    assert len(uploads) == 2
    assert uploads[0].headers["Content-Type"] == "image/png" and uploads[0].body == buf.getvalue()
    embed = server.last("com.atproto.repo.createRecord").json["record"]["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    first, second = embed["images"]
    assert first["alt"] == "a red 4x2"
    assert {k: v for k, v in first["aspectRatio"].items() if k != "$type"} == {"width": 4, "height": 2}
    assert first["image"]["$type"] == "blob"
    assert first["image"]["mimeType"] == "image/png" and first["image"]["size"] == len(buf.getvalue())
    assert server.blob(first["image"]["ref"]["$link"])[1] == buf.getvalue()
    assert second["alt"] == "" and "aspectRatio" not in second


def test_video_embed_uses_upload_blob(server, tmp_path):
    mp4 = tmp_path / "clip.mp4"
    mp4.write_bytes(b"\x00\x00\x00\x18ftypmp42fake-video")
    adapter, _ = connected(server)
    item = MediaItem(path=mp4, mime_type="video/mp4", size_bytes=24, alt_text="a clip", width=16, height=9)
    adapter.publish(post_req("video", media=[item]))
    assert server.last("com.atproto.repo.uploadBlob").headers["Content-Type"] == "video/mp4"
    embed = server.last("com.atproto.repo.createRecord").json["record"]["embed"]
    assert embed["$type"] == "app.bsky.embed.video"
    assert embed["video"]["mimeType"] == "video/mp4" and embed["alt"] == "a clip"
    assert (embed["aspectRatio"]["width"], embed["aspectRatio"]["height"]) == (16, 9)


def test_text_over_300_graphemes_is_rejected(server):
    adapter, _ = connected(server)
    text = "👍🏽" * 301
    assert adapter.text_length(text) == 301
    adapter.publish(post_req("👍🏽" * 300))  # 300 graphemes (600 code points) is fine
    with pytest.raises(PlatformRejected) as caught:
        adapter.publish(post_req(text))
    assert "grapheme" in str(caught.value)


def test_delete_is_idempotent(server):
    adapter, _ = connected(server)
    result = adapter.publish(post_req())
    adapter.delete(result.platform_post_id)
    adapter.delete(result.platform_post_id)
    assert server.record(result.platform_post_id) is None
    assert (
        adapter.find_published(PublishRequest(text="", idempotency_key=result.platform_post_id.rsplit("/", 1)[1]))
        is None
    )


# --- metrics ------------------------------------------------------------------


def test_get_posts_batches_of_25_and_deleted_is_none(server):
    adapter, _ = connected(server)
    uris = [
        server.add_post("alice.test", f"post {i}", likes=i, reposts=1, replies=2, quotes=3, bookmarks=4)
        for i in range(60)
    ]
    server.delete_record(uris[7])
    metrics = adapter.fetch_post_metrics(uris)
    calls = server.calls("app.bsky.feed.getPosts")
    assert [len(c.query["uris"]) for c in calls] == [25, 25, 10]
    assert metrics[uris[7]] is None
    m = metrics[uris[8]]
    assert (m.likes, m.shares, m.comments, m.quotes, m.saves) == (8, 1, 2, 3, 4)
    assert m.impressions is None and m.reach is None and m.views is None
    assert m.clicks is None and m.video_views is None
    assert m.raw["uri"] == uris[8] and m.raw["likeCount"] == 8 and "cid" in m.raw
    assert "record" not in m.raw


def test_unreported_count_stays_none(server):
    adapter, _ = connected(server)
    uri = server.add_post("alice.test", "x")
    view = {"uri": uri, "cid": "bafy", "likeCount": 2, "indexedAt": "2026-01-01T00:00:00Z"}
    server.fail_next("app.bsky.feed.getPosts", 200, body=__import__("json").dumps({"posts": [view]}))
    m = adapter.fetch_post_metrics([uri])[uri]
    assert m.likes == 2 and m.shares is None and m.saves is None


def test_account_metrics(server):
    server.set_profile("alice.test", followers=12, follows=3, posts=40)
    adapter, _ = connected(server)
    metrics = adapter.fetch_account_metrics()
    assert (metrics.followers, metrics.following, metrics.posts_count) == (12, 3, 40)
    assert metrics.impressions is None and metrics.profile_views is None
    assert server.last("app.bsky.actor.getProfile").query["actor"] == [server.account("alice.test").did]


# --- errors -------------------------------------------------------------------


def test_429_with_retry_after(server):
    adapter, _ = connected(server)
    server.fail_next("app.bsky.feed.getPosts", 429, "RateLimitExceeded", "Rate Limit Exceeded", {"Retry-After": "7"})
    with pytest.raises(PlatformRateLimited) as caught:
        adapter.fetch_post_metrics([server.add_post("alice.test", "x")])
    assert caught.value.retry_after == 7


def test_429_with_ratelimit_reset(server):
    import time

    adapter, _ = connected(server)
    reset = int(time.time()) + 120
    server.fail_next("com.atproto.repo.createRecord", 429, headers={"ratelimit-reset": str(reset)})
    with pytest.raises(PlatformRateLimited) as caught:
        adapter.publish(post_req())
    assert 100 < caught.value.retry_after <= 120


def test_timeout_is_unavailable_naming_the_host(server):
    adapter, _ = connected(server, timeout=0.3)
    server.set_delay(2.0, "app.bsky.actor.getProfile")
    with pytest.raises(PlatformUnavailable) as caught:
        adapter.fetch_account_metrics()
    assert server.host in str(caught.value)
    assert caught.value.hint


def test_connection_refused_is_unavailable(server):
    ctx = AccountContext(platform="bluesky", api_base_url="http://127.0.0.1:9", timeout=2)
    with pytest.raises(PlatformUnavailable) as caught:
        BlueskyAdapter(ctx).connect("alice.test", PASSWORD)
    assert "127.0.0.1:9" in str(caught.value)
    assert_no_secrets(caught.value, PASSWORD)


def test_5xx_is_unavailable(server):
    adapter, _ = connected(server)
    server.fail_next("app.bsky.actor.getProfile", 502, "UpstreamFailure", "Upstream Failure")
    with pytest.raises(PlatformUnavailable):
        adapter.fetch_account_metrics()


def test_malformed_json_is_malformed_response(server):
    adapter, _ = connected(server)
    uri = server.add_post("alice.test", "x")
    server.fail_next("app.bsky.feed.getPosts", 200, body=b"{not json")
    with pytest.raises(MalformedResponse):
        adapter.fetch_post_metrics([uri])
    server.fail_next("app.bsky.feed.getPosts", 200, body=b'{"posts": "nope"}')
    with pytest.raises(MalformedResponse):
        adapter.fetch_post_metrics([uri])
    server.fail_next("app.bsky.actor.getProfile", 200, body=b"<html>oops</html>", content_type="text/html")
    with pytest.raises(MalformedResponse):
        adapter.fetch_account_metrics()


# --- resolve_post ---------------------------------------------------------------


def test_resolve_post_from_web_url_and_at_uri(server):
    adapter, _ = connected(server)
    uri = server.add_post("alice.test", "made elsewhere")
    rkey = uri.rsplit("/", 1)[1]
    by_url = adapter.resolve_post(f"https://bsky.app/profile/alice.test/post/{rkey}")
    assert by_url.platform_post_id == uri
    assert by_url.url == f"https://bsky.app/profile/alice.test/post/{rkey}"
    assert by_url.published_at is not None and by_url.text == "made elsewhere"
    by_uri = adapter.resolve_post(uri)
    assert by_uri.platform_post_id == uri
    # An AppView that has not indexed the post yet: the PDS record still answers.
    server.fail_next("app.bsky.feed.getPosts", 200, body=b'{"posts": []}')
    lagging = adapter.resolve_post(uri)
    assert lagging.platform_post_id == uri and lagging.text == "made elsewhere"
    did = server.account("alice.test").did
    assert adapter.resolve_post(f"https://bsky.app/profile/{did}/post/{rkey}").platform_post_id == uri


def test_resolve_post_missing(server):
    adapter, _ = connected(server)
    with pytest.raises(RemoteNotFound):
        adapter.resolve_post(f"https://bsky.app/profile/alice.test/post/{new_tid()}")
    with pytest.raises(RemoteNotFound):
        adapter.resolve_post(f"https://bsky.app/profile/nobody.test/post/{new_tid()}")


# --- the fake itself keeps the recorded quirks (others build CLI tests on it) ----


def test_fake_server_quirks_match_the_recordings(server):
    import httpx

    base = f"{server.url}/xrpc"
    with httpx.Client() as http:
        sess = http.post(
            f"{base}/com.atproto.server.createSession",
            json={"identifier": "alice.test", "password": PASSWORD},
        ).json()
        assert sess["didDoc"]["service"][0]["serviceEndpoint"] == server.url
        access = {"Authorization": f"Bearer {sess['accessJwt']}"}
        refresh = {"Authorization": f"Bearer {sess['refreshJwt']}"}
        assert http.get(f"{base}/com.atproto.server.getSession").json()["error"] == "AuthMissing"
        bad = http.post(f"{base}/com.atproto.server.refreshSession", headers=access)
        assert (bad.status_code, bad.json()["error"]) == (400, "InvalidToken")
        record = {"$type": "app.bsky.feed.post", "text": "hi", "createdAt": "2026-01-01T00:00:00Z"}
        body = {"repo": sess["did"], "collection": "app.bsky.feed.post", "record": record}
        r = http.post(f"{base}/com.atproto.repo.createRecord", headers=access, json={**body, "rkey": "not-a-tid"})
        assert (r.status_code, r.json()["error"]) == (400, "InvalidRequest")
        tid = new_tid()
        assert (
            http.post(f"{base}/com.atproto.repo.createRecord", headers=access, json={**body, "rkey": tid}).status_code
            == 200
        )
        again = http.post(f"{base}/com.atproto.repo.createRecord", headers=access, json={**body, "rkey": tid})
        assert (again.status_code, again.json()["error"]) == (500, "InternalServerError")
        out = http.post(f"{base}/com.atproto.server.deleteSession", headers=refresh)
        assert (out.status_code, out.content, out.headers.get("content-type")) == (200, b"", None)
        revoked = http.post(f"{base}/com.atproto.server.refreshSession", headers=refresh)
        assert (revoked.status_code, revoked.json()["error"]) == (400, "ExpiredToken")
        assert http.get(f"{base}/com.atproto.server.getSession", headers=access).status_code == 200
        unknown = http.get(f"{base}/com.atproto.identity.resolveHandle", params={"handle": "nobody.test"})
        assert (unknown.status_code, unknown.json()["error"]) == (400, "HandleNotFound")
    assert server.count("com.atproto.repo.createRecord") == 3


def test_package_imports_without_the_sdk():
    modules = ("adapter", "session", "errors", "tid", "embed", "values", "oauth", "dpop")
    code = (
        "import sys\n"
        + "".join(f"import postcli.platforms.bluesky.{m}\n" for m in modules)
        + "heavy = [m for m in ('atproto', 'atproto_client', 'httpx', 'joserfc') if m in sys.modules]\n"
        + "assert not heavy, heavy\n"
    )
    src = str(Path(__file__).resolve().parents[1] / "src")
    subprocess.run([sys.executable, "-c", code], check=True, env={"PYTHONPATH": src})
