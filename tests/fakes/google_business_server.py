"""A stateful fake of the Google Business Profile APIs and Google's OAuth endpoints on a loopback socket.

One server plays every host (--api-base replaces them all, paths as documented). Shapes follow
Google's documentation:

- Sign-in (developers.google.com/identity/protocols/oauth2/native-app): GET /o/oauth2/v2/auth
  (accounts.google.com) with a loopback redirect on any port and PKCE S256 ("Step 2"); POST
  /token (oauth2.googleapis.com) with the code, code_verifier, client_id and client_secret in
  the form ("Step 5"), answering access_token, expires_in 3599, refresh_token, scope, token_type
  (and refresh_token_expires_in when the fake is told the grant is time-limited). A refresh
  ("Refreshing an access token") answers a new access token and no refresh token; a revoked or
  expired refresh token is 400 {"error": "invalid_grant", "error_description": "Token has been
  expired or revoked."}.
- Errors (cloud.google.com/apis/design/errors, AIP-193): {"error": {"code", "message", "status",
  "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason", "domain",
  "metadata"}]}}; 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 NOT_FOUND, 400
  INVALID_ARGUMENT with a google.rpc.BadRequest's fieldViolations. A project without API access
  has a quota of 0 (developers.google.com/my-business/content/limits: "If your quota limit ... is
  0, you have not yet been granted access"): every API call is 429 RESOURCE_EXHAUSTED with
  ErrorInfo RATE_LIMIT_EXCEEDED; its metadata's quota_limit_value "0" is what real answers carry
  (an assumption from reported answers: the reference pages show no such example).
- GET /v1/accounts (developers.google.com/my-business/reference/accountmanagement/rest/v1/accounts/list):
  {"accounts": [{"name": "accounts/ID", "accountName", "type", "role", "verificationState"}],
  "nextPageToken"}, pageSize at most 20.
- GET /v1/{parent=accounts/*}/locations (.../businessinformation/rest/v1/accounts.locations/list):
  readMask required (400 without it), pageSize at most 100 (default 10); only the masked
  fields of each Location (name "locations/ID", title, storeCode, metadata.mapsUri/placeId).
- GET /v1/{name=locations/*}?readMask= (.../businessinformation/rest/v1/locations/get).
- GET /v1/{location=locations/*}:fetchMultiDailyMetricsTimeSeries?dailyMetrics=..&dailyRange.*
  (.../performance/rest/v1/locations/fetchMultiDailyMetricsTimeSeries, .../v1/TimeSeries):
  {"multiDailyMetricTimeSeries": [{"dailyMetricTimeSeries": [{"dailyMetric", "timeSeries":
  {"datedValues": [{"date": {"year", "month", "day"}, "value": "12"}]}}]}]}, one datedValue per
  day of the range, "value" left out when it is zero. A metric the fake has no data for is left
  out of the answer (an assumption, to exercise "not reported").
- /v4/accounts/{a}/locations/{l}/localPosts (.../rest/v4/accounts.locations.localPosts and
  content/posts-data): create (POST, the LocalPost back with name, createTime, updateTime,
  state, searchUrl), list (GET, pageSize at most 100, default 20, nextPageToken; the order is
  not documented: the fake lists oldest first), get, delete (an empty object). Checks from the
  reference: topicType required; event required for EVENT and OFFER; offer only for OFFER; a
  CALL button's url "should be left unset" (400 here, an assumption); media take sourceUrl only.

    with FakeGoogleBusiness() as gb:
        ctx = gb.account_context()
        gb.quota_zero = True                         # a project without API access
        gb.lose_next_answer()                        # the next create is made, its answer never comes
"""

from __future__ import annotations

import itertools
import json as jsonlib
import re
import secrets
import threading
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from typing import Any

from werkzeug.wrappers import Request, Response

from fakes.loopback import Delay, Failure, LoopbackServer, RecordedRequest
from fakes.oauth_server import AuthorizationServer, Client

ACCESS_TOKEN = "ya29.fake-business-access-token-0123456789"
REFRESH_TOKEN = "1//fake-business-refresh-token-0123456789"
CLIENT_ID = "987654321-fakebusiness.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-fake-business-client-secret-0123"
SCOPE = "https://www.googleapis.com/auth/business.manage"
EXPIRES_IN = 3599
ACCOUNT = "accounts/1000000000000000001"
IMPRESSIONS = (
    "BUSINESS_IMPRESSIONS_DESKTOP_MAPS",
    "BUSINESS_IMPRESSIONS_DESKTOP_SEARCH",
    "BUSINESS_IMPRESSIONS_MOBILE_MAPS",
    "BUSINESS_IMPRESSIONS_MOBILE_SEARCH",
)
TOPICS = ("STANDARD", "EVENT", "OFFER", "ALERT")
ACTIONS = ("BOOK", "ORDER", "SHOP", "LEARN_MORE", "SIGN_UP", "CALL")


def service_of(path: str) -> str:
    """Which Google API a path belongs to (one fake plays them all)."""
    if path.startswith("/v4/"):
        return "mybusiness.googleapis.com"
    if path == "/v1/accounts":
        return "mybusinessaccountmanagement.googleapis.com"
    if ":fetchMultiDailyMetricsTimeSeries" in path:
        return "businessprofileperformance.googleapis.com"
    return "mybusinessbusinessinformation.googleapis.com"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def google_error(code: int, status: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return {"error": error}


def error_info(reason: str, **metadata: str) -> dict[str, Any]:
    return {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": metadata,
    }


def quota_zero_body(service: str) -> dict[str, Any]:
    return google_error(
        429,
        "RESOURCE_EXHAUSTED",
        f"Quota exceeded for quota metric 'Requests' and limit 'Requests per minute' of service '{service}' "
        "for consumer 'project_number:123456789012'.",
        [
            error_info(
                "RATE_LIMIT_EXCEEDED",
                service=service,
                consumer="projects/123456789012",
                quota_metric=f"{service}/default_requests",
                quota_limit="DefaultRequestsPerMinutePerProject",
                quota_limit_value="0",
                quota_location="global",
            )
        ],
    )


UNAUTHENTICATED = google_error(
    401,
    "UNAUTHENTICATED",
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid "
    "authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
    [error_info("ACCESS_TOKEN_EXPIRED", method="google.mybusiness.v4.LocalPosts", service="mybusiness.googleapis.com")],
)


def bad_request(field: str, description: str) -> dict[str, Any]:
    return google_error(
        400,
        "INVALID_ARGUMENT",
        "Request contains an invalid argument.",
        [
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": field, "description": description}],
            }
        ],
    )


class FakeGoogleBusiness(LoopbackServer):
    """One Google account with Business Profile locations, served on 127.0.0.1:<random port>."""

    thread_name = "fake-google-business"

    def __init__(self, *, locations: int = 1, refresh_token_expires_in: int | None = None) -> None:
        self.refresh_token_expires_in = refresh_token_expires_in
        self.access_tokens = {ACCESS_TOKEN}
        self.refresh_token = REFRESH_TOKEN
        self.oauth = AuthorizationServer(issue_token=self._issue_from_code, require_pkce=True)
        self.requests: list[RecordedRequest] = []
        self.counts: Counter[str] = Counter()
        self._lock = threading.RLock()
        self._failures: list[Failure] = []
        self._delays: list[Delay] = []
        self._stopping = threading.Event()
        self._seq = itertools.count(1)
        self.quota_zero = False
        self.reject_next_post = False
        self._lose: list[float] = []  # create the next post, then hold its answer this long
        self.accounts = [{"name": ACCOUNT, "accountName": "Alice Bakery", "type": "PERSONAL", "role": "PRIMARY_OWNER"}]
        self.locations: dict[str, list[dict[str, Any]]] = {ACCOUNT: []}
        self.posts: dict[str, list[dict[str, Any]]] = {}  # parent -> posts, oldest first
        self.daily: dict[str, dict[str, dict[date, int]]] = {}  # location -> metric -> day -> value
        for n in range(locations):
            self.add_location(f"Alice Bakery {'Main Street' if n == 0 else f'Branch {n}'}", store_code=f"S{n + 1}")

    # -- test controls -----------------------------------------------------------------

    def add_client(self, redirect: str = "http://127.0.0.1/callback") -> Client:
        """The user's Desktop OAuth client (Google accepts any loopback port for it)."""
        return self.oauth.add_client(CLIENT_ID, CLIENT_SECRET, [redirect], [SCOPE])

    def add_location(self, title: str, *, account: str = ACCOUNT, store_code: str | None = None) -> dict[str, Any]:
        location_id = str(2000000000000000000 + next(self._seq))
        loc: dict[str, Any] = {
            "name": f"locations/{location_id}",
            "title": title,
            "metadata": {"mapsUri": f"https://maps.google.com/maps?cid={location_id}", "placeId": f"ChIJ{location_id}"},
        }
        if store_code:
            loc["storeCode"] = store_code
        with self._lock:
            self.locations.setdefault(account, []).append(loc)
            self.daily[loc["name"]] = {m: {} for m in (*IMPRESSIONS, "CALL_CLICKS", "WEBSITE_CLICKS")}
            self.daily[loc["name"]]["BUSINESS_DIRECTION_REQUESTS"] = {}
        return loc

    @property
    def location(self) -> dict[str, Any]:
        return self.locations[ACCOUNT][0]

    @property
    def parent(self) -> str:
        return f"{ACCOUNT}/{self.location['name']}"

    def account_context(self, **overrides: Any) -> Any:
        """An AccountContext as `accounts login google-business` leaves it for the first location."""
        from postcli.platforms.base import AccountContext

        loc = self.location
        values: dict[str, Any] = {
            "platform": "google-business",
            "api_base_url": self.url,
            "handle": loc["title"],
            "external_id": loc["name"].split("/")[1],
            "secrets": {
                "access_token": ACCESS_TOKEN,
                "refresh_token": self.refresh_token,
                "client_secret": CLIENT_SECRET,
            },
            "settings": {
                "client_id": CLIENT_ID,
                "app_status": "production",
                "account_name": ACCOUNT,
                "location_name": loc["name"],
                "location_parent": self.parent,
                "location_title": loc["title"],
            },
            "timeout": 5.0,
        }
        values.update(overrides)
        return AccountContext(**values)

    def set_daily(self, metric: str, values: dict[date, int], location: str | None = None) -> None:
        with self._lock:
            self.daily[location or self.location["name"]][metric] = dict(values)

    def drop_metric(self, metric: str, location: str | None = None) -> None:
        """The metric is left out of every answer."""
        with self._lock:
            self.daily[location or self.location["name"]].pop(metric, None)

    def expire_access_tokens(self) -> None:
        """Every access token stops working (as after an hour); the refresh token still works."""
        with self._lock:
            self.access_tokens = set()

    def revoke(self) -> None:
        """The user removed the app's access: every token stops working."""
        with self._lock:
            self.access_tokens = set()
            self.refresh_token = f"1//revoked-{next(self._seq)}"

    def lose_next_answer(self, seconds: float = 30.0) -> None:
        """The next local post is created, but its answer is held `seconds` (the client times out)."""
        with self._lock:
            self._lose.append(seconds)

    def fail_next(
        self,
        method: str,
        path_prefix: str,
        status: int,
        json: Any = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
        raw: str | None = None,
    ) -> None:
        """Answer the next `times` matching requests with `status` (Google's error body unless
        `json`; `raw`: that text as an HTML page, as a proxy in front of Google would)."""
        statuses = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 403: "PERMISSION_DENIED"}
        if json is None:
            json = google_error(status, statuses.get(status, "UNKNOWN"), "The service is currently unavailable.")
        failure = Failure(method.upper(), path_prefix, status, json, dict(headers or {}), times, detail=raw)
        self._add_failure(failure)

    def requests_to(self, method: str, path_prefix: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def count(self, route: str) -> int:
        with self._lock:
            return self.counts[route]

    def all_posts(self) -> list[dict[str, Any]]:
        with self._lock:
            return [p for posts in self.posts.values() for p in posts]

    # -- OAuth -------------------------------------------------------------------------

    def _token_body(self, with_refresh: bool) -> dict[str, Any]:
        access = f"ya29.fake-business-{next(self._seq)}-{secrets.token_hex(8)}"
        self.access_tokens.add(access)
        body: dict[str, Any] = {
            "access_token": access,
            "expires_in": EXPIRES_IN,
            "scope": SCOPE,
            "token_type": "Bearer",
        }
        if with_refresh:
            body["refresh_token"] = self.refresh_token
        if self.refresh_token_expires_in is not None:
            body["refresh_token_expires_in"] = self.refresh_token_expires_in
        return body

    def _issue_from_code(self, client: Client, scopes: list[str]) -> dict[str, Any]:
        with self._lock:
            return {**self._token_body(with_refresh=True), "scope": " ".join(scopes)}

    def _refresh(self, request: Request) -> Response:
        form = {k: request.form[k] for k in request.form}
        with self._lock:
            self.counts["POST /token refresh"] += 1
            if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                return self._json(
                    {"error": "invalid_client", "error_description": "The OAuth client was not found."}, 401
                )
            if form.get("refresh_token") != self.refresh_token:
                return self._json(
                    {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}, 400
                )
            return self._json(self._token_body(with_refresh=False))

    # -- plumbing ----------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        recorded = self._record(request)
        self._maybe_delay(recorded)
        try:
            response = self._injected(recorded) or self._route(request, recorded)
        except Exception as exc:  # a fake bug must show up as a loud 500
            response = self._json(google_error(500, "INTERNAL", f"fake server error: {type(exc).__name__}: {exc}"), 500)
        recorded.status = response.status_code
        return response(environ, start_response)

    def _record(self, request: Request) -> RecordedRequest:
        return self._record_request(request)

    def _injected(self, req: RecordedRequest) -> Response | None:
        failure = self._take_failure(req.method, req.path)
        if failure is None:
            return None
        if failure.detail is not None:
            return Response(failure.detail, status=failure.status, content_type="text/html; charset=UTF-8")
        return self._json(failure.json, failure.status, failure.headers)

    @staticmethod
    def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(
            jsonlib.dumps(body), status=status, headers=headers or {}, content_type="application/json; charset=UTF-8"
        )

    def _route(self, request: Request, req: RecordedRequest) -> Response:
        path, method = request.path, request.method
        if method == "GET" and path == "/o/oauth2/v2/auth":
            return self.oauth.authorize(request)
        if method == "POST" and path == "/token":
            if request.form.get("grant_type") == "refresh_token":
                return self._refresh(request)
            return self.oauth.token(request)
        if self.quota_zero:
            return self._json(quota_zero_body(service_of(path)), 429)
        if req.bearer not in self.access_tokens:
            return self._json(UNAUTHENTICATED, 401)
        with self._lock:
            self.counts[f"{method} {re.sub(r'[0-9]{6,}', 'N', path)}"] += 1
        if method == "GET" and path == "/v1/accounts":
            return self._page(req, self.accounts, "accounts", 20, 20)
        found = re.fullmatch(r"/v1/(accounts/[^/]+)/locations", path)
        if method == "GET" and found:
            return self._locations(req, found.group(1))
        found = re.fullmatch(r"/v1/(locations/[^/:]+):fetchMultiDailyMetricsTimeSeries", path)
        if method == "GET" and found:
            return self._performance(req, found.group(1))
        found = re.fullmatch(r"/v1/(locations/[^/:]+)", path)
        if method == "GET" and found:
            return self._location(req, found.group(1))
        found = re.fullmatch(r"/v4/(accounts/[^/]+/locations/[^/]+)/localPosts", path)
        if found:
            parent = found.group(1)
            if not self._manages(parent):
                return self._json(google_error(403, "PERMISSION_DENIED", "The caller does not have permission"), 403)
            if method == "POST":
                return self._create(req, parent)
            if method == "GET":
                with self._lock:
                    posts = list(self.posts.get(parent, []))
                return self._page(req, posts, "localPosts", 20, 100)
        found = re.fullmatch(r"/v4/((accounts/[^/]+/locations/[^/]+)/localPosts/[^/]+)", path)
        if found:
            return self._post(method, found.group(1), found.group(2))
        return self._json(google_error(404, "NOT_FOUND", f"Method not found: {method} {path}"), 404)

    def _page(self, req: RecordedRequest, items: list[Any], key: str, default: int, maximum: int) -> Response:
        size = int(req.param("pageSize") or default)
        if not 1 <= size <= maximum:
            return self._json(bad_request("page_size", f"must be between 1 and {maximum}"), 400)
        start = int(req.param("pageToken") or 0)
        body: dict[str, Any] = {key: items[start : start + size]}
        if start + size < len(items):
            body["nextPageToken"] = str(start + size)
        return self._json(body)

    def _masked(self, loc: dict[str, Any], mask: str) -> dict[str, Any]:
        fields = {f.strip().split(".")[0] for f in mask.split(",") if f.strip()}
        return {k: v for k, v in loc.items() if k in fields}

    def _locations(self, req: RecordedRequest, account: str) -> Response:
        mask = req.param("readMask")
        if not mask:
            return self._json(bad_request("read_mask", "Field is required"), 400)
        if account not in self.locations:
            return self._json(google_error(404, "NOT_FOUND", "Requested entity was not found."), 404)
        with self._lock:
            locs = [self._masked(loc, mask) for loc in self.locations[account]]
        return self._page(req, locs, "locations", 10, 100)

    def _find_location(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            return next((loc for locs in self.locations.values() for loc in locs if loc["name"] == name), None)

    def _manages(self, parent: str) -> bool:
        account, _, location = parent.partition("/locations/")
        with self._lock:
            return any(loc["name"] == f"locations/{location}" for loc in self.locations.get(account, []))

    def _location(self, req: RecordedRequest, name: str) -> Response:
        mask = req.param("readMask")
        if not mask:
            return self._json(bad_request("read_mask", "Field is required"), 400)
        loc = self._find_location(name)
        if loc is None:
            return self._json(google_error(404, "NOT_FOUND", "Requested entity was not found."), 404)
        return self._json(self._masked(loc, mask))

    def _performance(self, req: RecordedRequest, name: str) -> Response:
        metrics = req.query.get("dailyMetrics") or []
        try:
            start, end = (
                date(*(int(req.param(f"dailyRange.{edge}.{part}")) for part in ("year", "month", "day")))
                for edge in ("startDate", "endDate")
            )
        except (TypeError, ValueError):
            return self._json(bad_request("daily_range", "A valid daily range is required"), 400)
        if not metrics or end < start:
            return self._json(bad_request("daily_metrics", "At least one daily metric is required"), 400)
        with self._lock:
            data = self.daily.get(name)
            if data is None:
                return self._json(google_error(404, "NOT_FOUND", "Requested entity was not found."), 404)
            series = []
            for metric in metrics:
                if metric not in data:
                    continue
                values = []
                day = start
                while day <= end:
                    point: dict[str, Any] = {"date": {"year": day.year, "month": day.month, "day": day.day}}
                    if data[metric].get(day):
                        point["value"] = str(data[metric][day])  # left out when zero
                    values.append(point)
                    day += timedelta(days=1)
                series.append({"dailyMetric": metric, "timeSeries": {"datedValues": values}})
        return self._json({"multiDailyMetricTimeSeries": [{"dailyMetricTimeSeries": series}]})

    def _check_post(self, body: Any) -> dict[str, Any] | None:
        if not isinstance(body, dict):
            return bad_request("local_post", "A LocalPost is required")
        topic = body.get("topicType")
        if topic not in TOPICS:
            return bad_request("local_post.topic_type", "Topic type is required")
        cta = body.get("callToAction")
        if cta is not None:
            if cta.get("actionType") not in ACTIONS:
                return bad_request("local_post.call_to_action.action_type", "Invalid action type")
            if (cta.get("actionType") == "CALL") == bool(cta.get("url")):
                return bad_request("local_post.call_to_action.url", "Invalid url for the action type")
        if topic in ("EVENT", "OFFER"):
            event = body.get("event") or {}
            schedule = event.get("schedule") or {}
            if not event.get("title") or not schedule.get("startDate") or not schedule.get("endDate"):
                return bad_request("local_post.event", "Event title and schedule are required")
        if body.get("offer") is not None and topic != "OFFER":
            return bad_request("local_post.offer", "Offer is only allowed for OFFER posts")
        for item in body.get("media") or []:
            if set(item) - {"mediaFormat", "sourceUrl"} or not item.get("sourceUrl"):
                return bad_request("local_post.media", "sourceUrl is the only supported data field")
        return None

    def _create(self, req: RecordedRequest, parent: str) -> Response:
        problem = self._check_post(req.json)
        if problem is not None:
            return self._json(problem, 400)
        post_id = str(next(self._seq) * 7919 + 100000)
        now = _now()
        with self._lock:
            state = "REJECTED" if self.reject_next_post else "LIVE"
            self.reject_next_post = False
            post = {
                **req.json,
                "name": f"{parent}/localPosts/{post_id}",
                "createTime": now,
                "updateTime": now,
                "state": state,
                "searchUrl": f"https://local.google.com/place?id={parent.rsplit('/', 1)[-1]}&use=posts&lpsid={post_id}",
            }
            self.posts.setdefault(parent, []).append(post)
            lose = self._lose.pop(0) if self._lose else None
        if lose is not None:
            self._stopping.wait(lose)
        return self._json(post)

    def _post(self, method: str, name: str, parent: str) -> Response:
        if not self._manages(parent):
            return self._json(google_error(403, "PERMISSION_DENIED", "The caller does not have permission"), 403)
        with self._lock:
            posts = self.posts.get(parent, [])
            post = next((p for p in posts if p["name"] == name), None)
            if post is None:
                return self._json(google_error(404, "NOT_FOUND", "Requested entity was not found."), 404)
            if method == "DELETE":
                posts.remove(post)
                return self._json({})
        if method == "GET":
            return self._json(post)
        return self._json(google_error(405, "UNIMPLEMENTED", "Method not allowed"), 405)
