"""The shared Meta Graph wire layer (platforms/graph.py) over a real loopback socket."""

from __future__ import annotations

import pytest

from postcli.errors import AuthFailed, PlatformRateLimited, PlatformRejected, PlatformUnavailable, RemoteNotFound
from postcli.platforms.graph import GraphClient, graph_error


def client(httpserver, token: str = "tok-abcdef123456") -> GraphClient:  # type: ignore[no-untyped-def]
    return GraphClient(base_url=httpserver.url_for("/"), version="v26.0", token=lambda: token, platform="facebook")


def test_a_paging_link_keeps_its_cursor_and_gets_the_token(httpserver):
    httpserver.expect_request(
        "/v26.0/123/posts", query_string={"fields": "id", "after": "CURSOR", "access_token": "tok-abcdef123456"}
    ).respond_with_json({"data": [{"id": "1"}]})
    g = client(httpserver)
    link = httpserver.url_for("/v26.0/123/posts") + "?fields=id&after=CURSOR&access_token=stale"
    assert g.get(link) == {"data": [{"id": "1"}]}


@pytest.mark.parametrize(
    ("status", "error", "kind"),
    [
        (400, {"code": 190, "error_subcode": 463, "message": "Session has expired"}, AuthFailed),
        (400, {"code": 4, "message": "Application request limit reached"}, PlatformRateLimited),
        (400, {"code": 80001, "message": "There have been too many calls to this Page account"}, PlatformRateLimited),
        (400, {"code": 9, "error_subcode": 2207042, "message": "posting limit"}, PlatformRateLimited),
        (400, {"code": 100, "error_subcode": 33, "message": "Object does not exist"}, RemoteNotFound),
        (500, {"code": 2, "message": "Service temporarily unavailable", "is_transient": True}, PlatformUnavailable),
        (400, {"code": 100, "message": "Invalid parameter"}, PlatformRejected),
    ],
)
def test_graph_error_codes_map_to_typed_errors(httpserver, status, error, kind):
    httpserver.expect_request("/v26.0/me").respond_with_json(
        {"error": {"type": "OAuthException", **error}},
        status=status,
        headers={"X-Business-Use-Case-Usage": '{"1": [{"call_count": 100, "estimated_time_to_regain_access": 7}]}'},
    )
    with pytest.raises(kind) as info:
        client(httpserver).get("me")
    assert info.value.code == error["code"]
    assert "tok-abcdef123456" not in str(info.value)
    if kind is PlatformRateLimited:
        assert info.value.retry_after == 7 * 60


def test_an_error_without_a_graph_body_still_maps_by_status():
    assert isinstance(graph_error(401, None, {}, platform="threads", host="h"), AuthFailed)
    assert isinstance(graph_error(404, "nope", {}, platform="threads", host="h"), RemoteNotFound)
    limited = graph_error(429, None, {"Retry-After": "12"}, platform="threads", host="h")
    assert isinstance(limited, PlatformRateLimited) and limited.retry_after == 12
