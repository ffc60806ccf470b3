"""A stateful fake AT Protocol PDS (+ the AppView calls it proxies) for tests.

It speaks XRPC over a real socket the way the reference servers do in
/work/shared/fixtures/atproto (status codes, error names, body shapes), so the
real atproto SDK can be pointed at it. Quirks copied on purpose:

- createRecord with an rkey that already exists -> bare 500 InternalServerError
  (the reference PDS's repo MST throws; it is not idempotent).
- app.bsky.feed.post rkeys must be TIDs -> 400 InvalidRequest.
- text over 300 graphemes -> 400 InvalidRequest "grapheme too big".
- getRecord on a missing/deleted record -> 400 RecordNotFound; getPosts silently
  omits missing uris; deleteRecord is idempotent (second time: 200 {}).
- deleteSession revokes the refresh token (refreshSession -> 400 ExpiredToken)
  but the access JWT keeps working until it expires.
- app.bsky.* calls need a bearer token (the PDS only proxies authenticated calls).

Usage::

    with FakeBlueskyServer() as server:
        did = server.add_account("alice.test", "app-pass-1234")
        ...  # point the client at server.url
        assert server.count("com.atproto.server.createSession") == 1

or the `fake_bluesky` pytest fixture at the bottom (import it into a conftest or a
test module).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets as _secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import regex
from werkzeug.wrappers import Request, Response

from fakes.loopback import Failure, LoopbackServer, RecordedRequest, take_failure

TID_RE = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
HANDLE_RE = re.compile(r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")
AT_URI_RE = re.compile(r"^at://(?P<repo>[^/]+)/(?P<collection>[^/]+)/(?P<rkey>[^/]+)$")
_S32 = "234567abcdefghijklmnopqrstuvwxyz"
SERVICE_DID = "did:web:localhost"
POST = "app.bsky.feed.post"


# --- small helpers -----------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def _cid(codec: int, data: bytes) -> str:
    """A real CIDv1 (sha2-256, base32) so anything that parses CIDs is happy."""
    raw = bytes([0x01, codec, 0x12, 0x20]) + hashlib.sha256(data).digest()
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_tid(when_us: int | None = None, clock_id: int = 0) -> str:
    us = when_us if when_us is not None else time.time_ns() // 1000
    out = ""
    while us:
        out = _S32[us & 31] + out
        us >>= 5
    return out.rjust(11, "2") + _S32[clock_id & 31].rjust(2, "2")


def grapheme_len(text: str) -> int:
    return len(regex.findall(r"\X", text))


# --- state -------------------------------------------------------------------


@dataclass
class Account:
    did: str
    handle: str
    password: str
    display_name: str | None = None
    email: str | None = None
    followers: int = 0
    follows: int = 0
    posts_count: int | None = None  # None = count the stored posts


@dataclass
class StoredRecord:
    uri: str
    cid: str
    value: dict[str, Any]
    indexed_at: str
    counts: dict[str, int] = field(
        default_factory=lambda: {"like": 0, "repost": 0, "reply": 0, "quote": 0, "bookmark": 0}
    )


@dataclass
class _Fault:
    status: int
    error: str | None
    message: str | None
    headers: dict[str, str]
    body: bytes | str | None
    content_type: str | None


class XrpcError(Exception):
    def __init__(self, status: int, error: str | None, message: str | None = None, headers=None):
        super().__init__(error)
        self.status = status
        self.error = error
        self.message = message
        self.headers = headers or {}


class FakeBlueskyServer(LoopbackServer):
    """A fake PDS on 127.0.0.1:<random port>, served from a background thread (fakes/loopback.py).

    Knobs (all thread-safe to set from the test thread):
      access_ttl / refresh_ttl  lifetime (s) of newly issued JWTs; the SDK refreshes
                                 an access JWT that expires within 15 min, so
                                 access_ttl=60 forces a refresh on the next call.
      delay                      seconds every request sleeps before being handled
      pds_endpoint               what didDoc's #atproto_pds says (default: self.url)
      include_did_doc            False -> sessions come without didDoc
    """

    thread_name = "fake-bsky"

    def __init__(
        self,
        *,
        access_ttl: int = 7200,
        refresh_ttl: int = 90 * 86400,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.delay = 0.0
        self.pds_endpoint: str | None = None
        self.include_did_doc = True
        self.hang_seconds = 30.0
        self.requests: list[RecordedRequest] = []
        self.counts: Counter[str] = Counter()
        self.bind_host = host
        self.bind_port = port
        self._secret = _secrets.token_bytes(32)
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._accounts: dict[str, Account] = {}  # did -> account
        self._records: dict[str, StoredRecord] = {}  # uri -> record
        self._blobs: dict[str, tuple[str, bytes]] = {}
        self._refresh: dict[str, dict[str, Any]] = {}  # jti -> {"did", "revoked"}
        self._failures: list[Failure] = []
        self._nsid_delays: dict[str, float] = {}
        self._hangs: Counter[str] = Counter()
        self._hang_after: Counter[str] = Counter()

    # --- test setup ------------------------------------------------------

    def add_account(
        self,
        handle: str,
        password: str,
        *,
        did: str | None = None,
        display_name: str | None = None,
        followers: int = 0,
        follows: int = 0,
    ) -> str:
        did = did or "did:plc:" + "".join(_secrets.choice(_S32) for _ in range(24))
        with self._lock:
            self._accounts[did] = Account(
                did=did,
                handle=handle,
                password=password,
                display_name=display_name,
                email=f"{handle.split('.')[0]}@example.test",
                followers=followers,
                follows=follows,
            )
        return did

    def account(self, handle_or_did: str) -> Account:
        acc = self._find_account(handle_or_did)
        if acc is None:
            raise KeyError(handle_or_did)
        return acc

    def set_password(self, handle_or_did: str, password: str) -> None:
        self.account(handle_or_did).password = password

    def set_profile(
        self,
        handle_or_did: str,
        *,
        followers: int | None = None,
        follows: int | None = None,
        posts: int | None = None,
        display_name: str | None = None,
    ) -> None:
        acc = self.account(handle_or_did)
        with self._lock:
            if followers is not None:
                acc.followers = followers
            if follows is not None:
                acc.follows = follows
            if posts is not None:
                acc.posts_count = posts
            if display_name is not None:
                acc.display_name = display_name

    def add_post(self, handle_or_did: str, text: str, *, rkey: str | None = None, **counts: int) -> str:
        """Create a post directly in the store (as if made elsewhere); returns its at:// uri."""
        acc = self.account(handle_or_did)
        rkey = rkey or make_tid()
        record = {"$type": POST, "text": text, "createdAt": _now_iso()}
        uri = self._store(acc.did, POST, rkey, record)
        if counts:
            self.set_counts(uri, **counts)
        return uri

    def set_counts(
        self,
        uri: str,
        *,
        likes: int | None = None,
        reposts: int | None = None,
        replies: int | None = None,
        quotes: int | None = None,
        bookmarks: int | None = None,
    ) -> None:
        with self._lock:
            rec = self._records[uri]
            for key, value in (
                ("like", likes),
                ("repost", reposts),
                ("reply", replies),
                ("quote", quotes),
                ("bookmark", bookmarks),
            ):
                if value is not None:
                    rec.counts[key] = value

    def delete_record(self, uri: str) -> None:
        """Delete a record server-side (e.g. the user deleted the post in the app)."""
        with self._lock:
            self._records.pop(uri, None)

    def record(self, uri: str) -> dict[str, Any] | None:
        with self._lock:
            rec = self._records.get(uri)
            return None if rec is None else json.loads(json.dumps(rec.value))

    def cid(self, uri: str) -> str | None:
        with self._lock:
            rec = self._records.get(uri)
            return None if rec is None else rec.cid

    def records(self, collection: str = POST) -> list[str]:
        with self._lock:
            return [u for u in self._records if AT_URI_RE.match(u).group("collection") == collection]

    def blob(self, cid: str) -> tuple[str, bytes] | None:
        return self._blobs.get(cid)

    def revoke_sessions(self, handle_or_did: str | None = None) -> None:
        """Revoke refresh tokens (like deleteSession / an app password being deleted)."""
        did = None if handle_or_did is None else self.account(handle_or_did).did
        with self._lock:
            for sess in self._refresh.values():
                if did is None or sess["did"] == did:
                    sess["revoked"] = True

    # --- fault injection -------------------------------------------------

    def fail_next(
        self,
        nsid: str,
        status: int,
        error: str | None = None,
        message: str | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
        *,
        body: bytes | str | None = None,
        content_type: str | None = "application/json; charset=utf-8",
    ) -> None:
        """The next `times` calls of `nsid` ("*" = any) answer `status` without doing anything.

        Default body: {"error": error, "message": message}. `body` replaces it verbatim
        (e.g. b"{not json" for a malformed answer); content_type=None sends none.
        """
        with self._lock:
            fault = _Fault(status, error, message, dict(headers or {}), body, content_type)
            # Matched on the XRPC method name, exactly; "*" matches any.
            self._failures.append(
                Failure(
                    "*",
                    "" if nsid == "*" else nsid,
                    status,
                    None,
                    fault.headers,
                    times,
                    exact=nsid != "*",
                    detail=fault,
                )
            )

    def set_delay(self, seconds: float, nsid: str | None = None) -> None:
        """Sleep before handling `nsid` (None = every request)."""
        with self._lock:
            if nsid is None:
                self.delay = seconds
            else:
                self._nsid_delays[nsid] = seconds

    def hang_after_success(self, nsid: str, times: int = 1, after: int = 0) -> None:
        """The next `times` calls of `nsid` (after the first `after` of them) are carried out,
        but the answer is held back for `hang_seconds` (or until stop()): the client times out
        with an unknown outcome, or is killed waiting."""
        with self._lock:
            self._hangs[nsid] += times
            self._hang_after[nsid] += after

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()
            self.counts.clear()

    def count(self, nsid: str) -> int:
        return self.counts[nsid]

    def calls(self, nsid: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.nsid == nsid]

    def last(self, nsid: str) -> RecordedRequest:
        found = self.calls(nsid)
        if not found:
            raise AssertionError(f"no {nsid} request was made")
        return found[-1]

    # --- tokens ----------------------------------------------------------

    def _jwt(self, header: dict[str, Any], payload: dict[str, Any]) -> str:
        signing_input = _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(payload).encode())
        sig = hmac.new(self._secret, signing_input.encode(), hashlib.sha256).digest()
        return signing_input + "." + _b64url(sig)

    def _issue(self, did: str) -> tuple[str, str]:
        now = int(time.time())
        access = self._jwt(
            {"typ": "at+jwt", "alg": "HS256"},
            {
                "scope": "com.atproto.access",
                "aud": SERVICE_DID,
                "sub": did,
                "iat": now,
                "exp": now + self.access_ttl,
            },
        )
        jti = _b64url(_secrets.token_bytes(32))
        refresh = self._jwt(
            {"typ": "refresh+jwt", "alg": "HS256"},
            {
                "scope": "com.atproto.refresh",
                "aud": SERVICE_DID,
                "sub": did,
                "jti": jti,
                "iat": now,
                "exp": now + self.refresh_ttl,
            },
        )
        self._refresh[jti] = {"did": did, "revoked": False}
        return access, refresh

    def _decode(self, token: str) -> dict[str, Any] | None:
        try:
            signing_input, sig = token.rsplit(".", 1)
            expected = hmac.new(self._secret, signing_input.encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(expected, _b64url_decode(sig)):
                return None
            return json.loads(_b64url_decode(signing_input.split(".", 1)[1]))
        except Exception:
            return None

    def _classify_auth(self, request: Request) -> tuple[str, dict[str, Any] | None]:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return "none", None
        payload = self._decode(header[7:])
        if payload is None:
            return "invalid", None
        if payload.get("scope") == "com.atproto.access":
            return "access", payload
        if payload.get("scope") == "com.atproto.refresh":
            return "refresh", payload
        return "invalid", None

    def _require_access(self, auth: str, payload: dict[str, Any] | None) -> Account:
        if auth == "none":
            raise XrpcError(401, "AuthMissing", "Authentication Required")
        if auth != "access" or payload is None:
            raise XrpcError(400, "InvalidToken", "Token could not be verified")
        if payload["exp"] < time.time():
            raise XrpcError(400, "ExpiredToken", "Token has expired")
        acc = self._accounts.get(payload["sub"])
        if acc is None:
            raise XrpcError(400, "InvalidToken", "Token could not be verified")
        return acc

    def _find_account(self, ident: str) -> Account | None:
        ident = ident.lower().lstrip("@")
        with self._lock:
            for acc in self._accounts.values():
                if acc.did == ident or acc.handle.lower() == ident or (acc.email or "").lower() == ident:
                    return acc
        return None

    def _did_doc(self, acc: Account) -> dict[str, Any]:
        return {
            "@context": [
                "https://www.w3.org/ns/did/v1",
                "https://w3id.org/security/suites/secp256k1-2019/v1",
            ],
            "id": acc.did,
            "alsoKnownAs": [f"at://{acc.handle}"],
            "verificationMethod": [
                {
                    "id": "#atproto",
                    "type": "EcdsaSecp256k1VerificationKey2019",
                    "controller": acc.did,
                    "publicKeyMultibase": "zQ3shfakefakefakefakefakefakefakefakefakefakefake",
                }
            ],
            "service": [
                {
                    "id": "#atproto_pds",
                    "type": "AtprotoPersonalDataServer",
                    "serviceEndpoint": self.pds_endpoint or self.url,
                }
            ],
        }

    def _session_body(self, acc: Account, tokens: tuple[str, str] | None) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if tokens:
            body["accessJwt"], body["refreshJwt"] = tokens
        body["did"] = acc.did
        if self.include_did_doc:
            body["didDoc"] = self._did_doc(acc)
        body.update({"handle": acc.handle, "email": acc.email, "emailConfirmed": False, "active": True})
        return body

    # --- records ---------------------------------------------------------

    def _store(self, did: str, collection: str, rkey: str, record: dict[str, Any]) -> str:
        uri = f"at://{did}/{collection}/{rkey}"
        with self._lock:
            self._records[uri] = StoredRecord(
                uri=uri,
                cid=_cid(0x71, json.dumps(record, sort_keys=True).encode()),
                value=record,
                indexed_at=_now_iso(),
            )
        return uri

    def _author_view(self, acc: Account) -> dict[str, Any]:
        view: dict[str, Any] = {"did": acc.did, "handle": acc.handle}
        if acc.display_name:
            view["displayName"] = acc.display_name
        view["viewer"] = {"muted": False, "blockedBy": False}
        view["labels"] = []
        return view

    def _embed_view(self, did: str, embed: Any) -> dict[str, Any] | None:
        if not isinstance(embed, dict):
            return None
        if embed.get("$type") == "app.bsky.embed.images":
            images = []
            for img in embed.get("images", []):
                link = img.get("image", {}).get("ref", {}).get("$link", "")
                view = {
                    "thumb": f"{self.url}/img/feed_thumbnail/plain/{did}/{link}",
                    "fullsize": f"{self.url}/img/feed_fullsize/plain/{did}/{link}",
                    "alt": img.get("alt", ""),
                }
                if "aspectRatio" in img:
                    view["aspectRatio"] = img["aspectRatio"]
                images.append(view)
            return {"$type": "app.bsky.embed.images#view", "images": images}
        if embed.get("$type") == "app.bsky.embed.video":
            link = embed.get("video", {}).get("ref", {}).get("$link", "")
            view = {
                "$type": "app.bsky.embed.video#view",
                "cid": link,
                "playlist": f"{self.url}/video/{did}/{link}/playlist.m3u8",
            }
            for key in ("alt", "aspectRatio"):
                if key in embed:
                    view[key] = embed[key]
            return view
        return None

    def _post_view(self, rec: StoredRecord, viewer: bool = True) -> dict[str, Any]:
        did = AT_URI_RE.match(rec.uri).group("repo")
        acc = self._accounts[did]
        view: dict[str, Any] = {
            "uri": rec.uri,
            "cid": rec.cid,
            "author": self._author_view(acc),
            "record": rec.value,
        }
        embed = self._embed_view(did, rec.value.get("embed"))
        if embed:
            view["embed"] = embed
        view.update(
            {
                "bookmarkCount": rec.counts["bookmark"],
                "replyCount": rec.counts["reply"],
                "repostCount": rec.counts["repost"],
                "likeCount": rec.counts["like"],
                "quoteCount": rec.counts["quote"],
                "indexedAt": rec.indexed_at,
            }
        )
        if viewer:
            view["viewer"] = {"bookmarked": False, "threadMuted": False, "embeddingDisabled": False}
        view["labels"] = []
        return view

    # --- WSGI ------------------------------------------------------------

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        response = self._handle(request)
        return response(environ, start_response)

    def _handle(self, request: Request) -> Response:
        path = request.path
        nsid = path.removeprefix("/xrpc/")
        body = request.get_data()
        parsed = None
        if body and "json" in (request.content_type or ""):
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        auth, payload = self._classify_auth(request)
        rec = RecordedRequest(
            method=request.method,
            path=path,
            nsid=nsid,
            query={k: request.args.getlist(k) for k in request.args},
            headers=dict(request.headers.items()),
            json=parsed,
            body=body,
            auth=auth,
            did=payload.get("sub") if payload else None,
        )
        with self._lock:
            self.requests.append(rec)
            self.counts[nsid] += 1
            delay = self._nsid_delays.get(nsid, self.delay)
            fault = self._take_fault(nsid)
            hang = self._hangs[nsid] > 0 and self._hang_after[nsid] == 0
            if self._hangs[nsid] > 0 and self._hang_after[nsid] > 0:
                self._hang_after[nsid] -= 1
            elif hang:
                self._hangs[nsid] -= 1
        if delay:
            self._stopping.wait(delay)
        if fault is not None:
            response = self._fault_response(fault)
        else:
            try:
                response = self._dispatch(request, nsid, parsed, auth, payload)
            except XrpcError as e:
                response = self._error(e.status, e.error, e.message, e.headers)
        rec.status = response.status_code
        if hang:
            self._stopping.wait(self.hang_seconds)
        return response

    def _take_fault(self, nsid: str) -> _Fault | None:
        """A fault named for this method first, then one for any ("*") (under the lock)."""
        named = [f for f in self._failures if f.exact]
        anything = [f for f in self._failures if not f.exact]
        failure = take_failure(named, "*", nsid) or take_failure(anything, "*", nsid)
        return None if failure is None else failure.detail

    def _fault_response(self, fault: _Fault) -> Response:
        if fault.body is not None:
            response = Response(fault.body, status=fault.status, headers=fault.headers)
            if fault.content_type is None:
                del response.headers["Content-Type"]
            else:
                response.headers["Content-Type"] = fault.content_type
            return response
        return self._error(fault.status, fault.error or _default_error(fault.status), fault.message, fault.headers)

    @staticmethod
    def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(
            json.dumps(body),
            status=status,
            headers=headers or {},
            content_type="application/json; charset=utf-8",
        )

    def _error(self, status: int, error: str | None, message: str | None, headers=None) -> Response:
        body: dict[str, Any] = {"error": error or _default_error(status)}
        if message is not None:
            body["message"] = message
        return self._json(body, status, headers)

    def _dispatch(self, request: Request, nsid: str, data: Any, auth: str, payload) -> Response:
        handler = _HANDLERS.get(nsid)
        if handler is None:
            raise XrpcError(501, "MethodNotImplemented", "Method Not Implemented")
        method, fn = handler
        if request.method != method:
            raise XrpcError(400, "InvalidRequest", f"Incorrect HTTP method ({request.method}) expected {method}")
        with self._lock:
            return fn(self, request, data or {}, auth, payload)

    # --- endpoints -------------------------------------------------------

    def _describe_server(self, request, data, auth, payload):
        return self._json({"did": SERVICE_DID, "availableUserDomains": [".test"], "inviteCodeRequired": False})

    def _create_session(self, request, data, auth, payload):
        ident, password = data.get("identifier"), data.get("password")
        if not isinstance(ident, str) or not isinstance(password, str):
            raise XrpcError(400, "InvalidRequest", 'Input must have the property "identifier"')
        acc = self._find_account(ident)
        if acc is None or not hmac.compare_digest(acc.password, password):
            raise XrpcError(401, "AuthenticationRequired", "Invalid identifier or password")
        return self._json(self._session_body(acc, self._issue(acc.did)))

    def _refresh_session(self, request, data, auth, payload):
        if auth == "none":
            raise XrpcError(401, "AuthMissing", "Authentication Required")
        if auth != "refresh" or payload is None:
            raise XrpcError(400, "InvalidToken", "Token could not be verified")
        sess = self._refresh.get(payload.get("jti", ""))
        if sess is None or sess["revoked"]:
            raise XrpcError(400, "ExpiredToken", "Token has been revoked")
        if payload["exp"] < time.time():
            raise XrpcError(400, "ExpiredToken", "Token has expired")
        acc = self._accounts[sess["did"]]
        # Rotation: the old refresh token stays usable (the real PDS has a 2 h grace).
        return self._json(self._session_body(acc, self._issue(acc.did)))

    def _get_session(self, request, data, auth, payload):
        acc = self._require_access(auth, payload)
        return self._json(self._session_body(acc, None))

    def _delete_session(self, request, data, auth, payload):
        if auth == "none":
            raise XrpcError(401, "AuthMissing", "Authentication Required")
        if auth != "refresh" or payload is None:
            raise XrpcError(400, "InvalidToken", "Token could not be verified")
        sess = self._refresh.get(payload.get("jti", ""))
        if sess:
            sess["revoked"] = True
        response = Response(b"", status=200)
        del response.headers["Content-Type"]  # the real PDS sends an empty body with no content-type
        return response

    def _resolve_handle(self, request, data, auth, payload):
        handle = request.args.get("handle", "")
        if not HANDLE_RE.match(handle):
            raise XrpcError(400, "InvalidRequest", f"Error: handle must be a valid handle (got {handle!r})")
        acc = self._find_account(handle)
        if acc is None:
            raise XrpcError(400, "HandleNotFound", "Unable to resolve handle")
        return self._json({"did": acc.did})

    def _repo_did(self, repo: Any, acc: Account) -> str:
        target = self._find_account(repo) if isinstance(repo, str) else None
        if target is None or target.did != acc.did:
            raise XrpcError(401, "AuthRequiredError", "Unauthorized")
        return acc.did

    def _create_record(self, request, data, auth, payload):
        acc = self._require_access(auth, payload)
        did = self._repo_did(data.get("repo"), acc)
        collection = data.get("collection")
        record = data.get("record")
        if not isinstance(collection, str) or not isinstance(record, dict):
            raise XrpcError(400, "InvalidRequest", 'Input must have the properties "collection" and "record"')
        rkey = data.get("rkey")
        if rkey is None:
            rkey = make_tid()
        elif collection == POST and not TID_RE.match(str(rkey)):
            raise XrpcError(
                400,
                "InvalidRequest",
                f'Invalid record key for {collection}: Invalid TID string (got "{rkey}") at $',
            )
        if collection == POST:
            text = record.get("text")
            if not isinstance(text, str):
                raise XrpcError(
                    400, "InvalidRequest", "Invalid app.bsky.feed.post record: Record/text must be a string"
                )
            if grapheme_len(text) > 300:
                raise XrpcError(
                    400,
                    "InvalidRequest",
                    "Invalid app.bsky.feed.post record: grapheme too big "
                    f"(maximum 300, got {grapheme_len(text)}) at $.record.text",
                )
            if not isinstance(record.get("createdAt"), str):
                raise XrpcError(
                    400,
                    "InvalidRequest",
                    'Invalid app.bsky.feed.post record: Record must have the property "createdAt"',
                )
            self._check_embed(record.get("embed"))
            self._check_reply(record.get("reply"))
        uri = f"at://{did}/{collection}/{rkey}"
        if uri in self._records:
            # The reference PDS: "There is already a value at key" -> unhandled -> 500.
            raise XrpcError(500, "InternalServerError", "Internal Server Error")
        self._store(did, collection, rkey, record)
        stored = self._records[uri]
        return self._json(
            {
                "uri": uri,
                "cid": stored.cid,
                "commit": {"cid": _cid(0x71, uri.encode() + b"commit"), "rev": make_tid()},
                "validationStatus": "valid",
            }
        )

    def _check_reply(self, reply: Any) -> None:
        """app.bsky.feed.post#replyRef: `root` and `parent`, each a com.atproto.repo.strongRef
        ({uri, cid}); the PDS checks the shape only (recorded: 30-createRecord-reply-by-bob.json)."""
        if reply is None:
            return
        for key in ("root", "parent"):
            ref = reply.get(key) if isinstance(reply, dict) else None
            if not isinstance(ref, dict):
                raise XrpcError(
                    400,
                    "InvalidRequest",
                    f'Invalid app.bsky.feed.post record: Record/reply must have the property "{key}"',
                )
            for field_name in ("uri", "cid"):
                if not isinstance(ref.get(field_name), str):
                    raise XrpcError(
                        400,
                        "InvalidRequest",
                        f'Invalid app.bsky.feed.post record: Record/reply/{key} must have the property "{field_name}"',
                    )

    def _check_embed(self, embed: Any) -> None:
        if embed is None:
            return
        if not isinstance(embed, dict):
            raise XrpcError(400, "InvalidRequest", "Invalid app.bsky.feed.post record: Record/embed must be an object")
        blobs = []
        if embed.get("$type") == "app.bsky.embed.images":
            images = embed.get("images")
            if not isinstance(images, list) or len(images) > 4:
                raise XrpcError(
                    400,
                    "InvalidRequest",
                    "Invalid app.bsky.feed.post record: Record/embed/images must not have more than 4 elements",
                )
            for img in images:
                if "alt" not in img:
                    raise XrpcError(
                        400,
                        "InvalidRequest",
                        'Invalid app.bsky.feed.post record: Record/embed/images/0 must have the property "alt"',
                    )
                blobs.append(img.get("image"))
        elif embed.get("$type") == "app.bsky.embed.video":
            blobs.append(embed.get("video"))
        for blob in blobs:
            link = (blob or {}).get("ref", {}).get("$link") if isinstance(blob, dict) else None
            if link not in self._blobs:
                raise XrpcError(400, "InvalidRequest", f"Could not find blob: {link}")

    def _get_record(self, request, data, auth, payload):
        repo = request.args.get("repo", "")
        collection = request.args.get("collection", "")
        rkey = request.args.get("rkey", "")
        acc = self._find_account(repo)
        did = acc.did if acc else repo
        uri = f"at://{did}/{collection}/{rkey}"
        rec = self._records.get(uri)
        if rec is None:
            raise XrpcError(400, "RecordNotFound", f"Could not locate record: {uri}")
        return self._json({"uri": rec.uri, "cid": rec.cid, "value": rec.value})

    def _delete_record(self, request, data, auth, payload):
        acc = self._require_access(auth, payload)
        did = self._repo_did(data.get("repo"), acc)
        uri = f"at://{did}/{data.get('collection')}/{data.get('rkey')}"
        if self._records.pop(uri, None) is None:
            return self._json({})
        return self._json({"commit": {"cid": _cid(0x71, uri.encode() + b"delete"), "rev": make_tid()}})

    def _upload_blob(self, request, data, auth, payload):
        self._require_access(auth, payload)
        body = request.get_data()
        mime = request.headers.get("Content-Type") or "application/octet-stream"
        cid = _cid(0x55, body)
        self._blobs[cid] = (mime, body)
        return self._json({"blob": {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": len(body)}})

    def _get_posts(self, request, data, auth, payload):
        self._require_access(auth, payload)
        uris = request.args.getlist("uris")
        if len(uris) > 25:
            raise XrpcError(400, "InvalidRequest", "Error: uris must not have more than 25 elements")
        posts = []
        for uri in uris:
            m = AT_URI_RE.match(uri)
            if not m:
                raise XrpcError(
                    400,
                    "InvalidRequest",
                    f'Invalid app.bsky.feed.getPosts params: Invalid at-uri (got "{uri}")',
                )
            acc = self._find_account(m.group("repo"))
            if acc is None:
                continue
            rec = self._records.get(f"at://{acc.did}/{m.group('collection')}/{m.group('rkey')}")
            if rec is not None and m.group("collection") == POST:
                posts.append(self._post_view(rec))
        return self._json({"posts": posts})

    def _own_posts(self, did: str) -> list[StoredRecord]:
        prefix = f"at://{did}/{POST}/"
        # TIDs sort by time, so rkey order is creation order.
        return sorted((r for u, r in self._records.items() if u.startswith(prefix)), key=lambda r: r.uri, reverse=True)

    def _get_profile(self, request, data, auth, payload):
        self._require_access(auth, payload)
        acc = self._find_account(request.args.get("actor", ""))
        if acc is None:
            raise XrpcError(400, "InvalidRequest", "Profile not found")
        body: dict[str, Any] = {"did": acc.did, "handle": acc.handle}
        if acc.display_name:
            body["displayName"] = acc.display_name
        body.update(
            {
                "associated": {"lists": 0, "feedgens": 0, "starterPacks": 0, "labeler": False},
                "viewer": {"muted": False, "blockedBy": False},
                "labels": [],
                "indexedAt": _now_iso(),
                "followersCount": acc.followers,
                "followsCount": acc.follows,
                "postsCount": acc.posts_count if acc.posts_count is not None else len(self._own_posts(acc.did)),
            }
        )
        return self._json(body)

    def _get_author_feed(self, request, data, auth, payload):
        self._require_access(auth, payload)
        acc = self._find_account(request.args.get("actor", ""))
        if acc is None:
            raise XrpcError(400, "InvalidRequest", "Profile not found")
        try:
            limit = int(request.args.get("limit", "50"))
        except ValueError:
            raise XrpcError(400, "InvalidRequest", "limit must be an integer") from None
        if not 1 <= limit <= 100:
            raise XrpcError(400, "InvalidRequest", "limit can not be greater than 100")
        posts = self._own_posts(acc.did)
        cursor = request.args.get("cursor")
        if cursor:
            rkey = cursor.rsplit("__", 1)[-1]
            posts = [p for p in posts if p.uri.rsplit("/", 1)[-1] < rkey]
        page = posts[:limit]
        body: dict[str, Any] = {"feed": [{"post": self._post_view(p)} for p in page]}
        if len(posts) > limit:
            body["cursor"] = f"{int(time.time() * 1000)}__{page[-1].uri.rsplit('/', 1)[-1]}"
        return self._json(body)


def _default_error(status: int) -> str:
    return {
        400: "InvalidRequest",
        401: "AuthenticationRequired",
        403: "Forbidden",
        404: "NotFound",
        413: "PayloadTooLarge",
        429: "RateLimitExceeded",
        500: "InternalServerError",
        501: "MethodNotImplemented",
        502: "UpstreamFailure",
        503: "NotEnoughResources",
        504: "UpstreamTimeout",
    }.get(status, "InternalServerError")


_HANDLERS = {
    "com.atproto.server.describeServer": ("GET", FakeBlueskyServer._describe_server),
    "com.atproto.server.createSession": ("POST", FakeBlueskyServer._create_session),
    "com.atproto.server.refreshSession": ("POST", FakeBlueskyServer._refresh_session),
    "com.atproto.server.getSession": ("GET", FakeBlueskyServer._get_session),
    "com.atproto.server.deleteSession": ("POST", FakeBlueskyServer._delete_session),
    "com.atproto.identity.resolveHandle": ("GET", FakeBlueskyServer._resolve_handle),
    "com.atproto.repo.createRecord": ("POST", FakeBlueskyServer._create_record),
    "com.atproto.repo.getRecord": ("GET", FakeBlueskyServer._get_record),
    "com.atproto.repo.deleteRecord": ("POST", FakeBlueskyServer._delete_record),
    "com.atproto.repo.uploadBlob": ("POST", FakeBlueskyServer._upload_blob),
    "app.bsky.feed.getPosts": ("GET", FakeBlueskyServer._get_posts),
    "app.bsky.actor.getProfile": ("GET", FakeBlueskyServer._get_profile),
    "app.bsky.feed.getAuthorFeed": ("GET", FakeBlueskyServer._get_author_feed),
}


try:  # the fixture is optional so the module also works outside pytest
    import pytest

    @pytest.fixture
    def fake_bluesky() -> Iterator[FakeBlueskyServer]:
        """A started fake PDS with alice.test (password "alice-app-pass") and bob.test."""
        with FakeBlueskyServer() as server:
            server.add_account("alice.test", "alice-app-pass", display_name="Alice")
            server.add_account("bob.test", "bob-app-pass", display_name="Bob")
            yield server

except ImportError:  # pragma: no cover
    pass
