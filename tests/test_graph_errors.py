"""Every row of the Graph error table (platforms/graph_errors.py), checked over a real socket.

Each case is the error payload as Meta documents it, with the typed error the
documented recovery calls for. Sources:
- https://developers.facebook.com/docs/graph-api/guides/error-handling (codes 1, 2, 4, 10, 17, 102, 190,
  200-299, 341, 368, 506)
- https://developers.facebook.com/docs/marketing-api/error-reference (100 with subcode 33)
- 803, "Some of the aliases you requested do not exist": Graph's answer for an unknown id, listed on no
  Meta reference page found (graph_errors.UNDOCUMENTED)
- https://developers.facebook.com/docs/graph-api/overview/rate-limiting (32, 613, 80001-80014)
- https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/error-codes
  (the Instagram table: HTTP 400 with codes -2, -1, 4, 9, 24, 25, 9007 and their 22070xx subcodes; 24/2207006
  "The media with {media-id} cannot be found": "Possible permission error due to missing permission or
  expired token. Generate a new container and use it to try again.")

The expectations below are written from those pages, not read from the table, and
the table must hold exactly these rows: a row added without a test fails here.
"""

from __future__ import annotations

import pytest

from postcli.errors import AuthFailed, PlatformRateLimited, PlatformRejected, PlatformUnavailable, RemoteNotFound
from postcli.platforms import graph_errors
from postcli.platforms.graph import GraphClient

# (code, subcode, message as documented, expected error)
DOCUMENTED = [
    (102, None, "API Session", AuthFailed),
    (190, None, "Access token has expired", AuthFailed),
    (1, None, "An unknown error has occurred.", PlatformUnavailable),
    (2, None, "Service temporarily unavailable", PlatformUnavailable),
    (4, None, "Application request limit reached", PlatformRateLimited),
    (17, None, "User request limit reached", PlatformRateLimited),
    (32, None, "Page request limit reached", PlatformRateLimited),
    (341, None, "Application limit reached", PlatformRateLimited),
    (613, None, "Calls to this api have exceeded the rate limit.", PlatformRateLimited),
    *[
        (code, None, "There have been too many calls for this business", PlatformRateLimited)
        for code in range(80001, 80015)
    ],
    (100, 33, "Unsupported get request. Object with ID '1_2' does not exist", RemoteNotFound),
    (803, None, "(#803) Some of the aliases you requested do not exist: nope", RemoteNotFound),
    (10, None, "(#10) Application does not have permission for this action", PlatformRejected),
    *[(code, None, "(#200) Permissions error", PlatformRejected) for code in range(200, 300)],
    (368, None, "The action attempted has been deemed abusive or is otherwise disallowed", PlatformRejected),
    (506, None, "Duplicate status message", PlatformRejected),
    # Instagram content publishing: all HTTP 400.
    (-2, None, "Instagram container error", PlatformUnavailable),
    (-2, 2207003, "It takes too long to download the media.", PlatformUnavailable),
    (-2, 2207020, "The media you are trying to access has expired. Please try to upload again.", PlatformUnavailable),
    (-1, None, "Instagram server error", PlatformUnavailable),
    (-1, 2207001, "Instagram server error. Try again.", PlatformUnavailable),
    (-1, 2207032, "Create media fail, please try to re-create media", PlatformUnavailable),
    (-1, 2207053, "unknown upload error", PlatformUnavailable),
    (
        4,
        2207051,
        "We restrict certain activity to protect our community. Tell us if you think we made a mistake.",
        PlatformRejected,
    ),
    (
        9,
        2207042,
        "You reached maximum number of posts that is allowed to be published by Content Publishing API.",
        PlatformRateLimited,
    ),
    (24, 2207006, "The media with 17889455560051444 cannot be found", PlatformUnavailable),
    (24, 2207008, "Media builder expired", PlatformUnavailable),
    (
        25,
        2207050,
        "The app user's Instagram Professional account is inactive, checkpointed, or restricted.",
        PlatformRejected,
    ),
    (9007, 2207027, "The media is not ready for publishing, please wait for a moment", PlatformUnavailable),
]


def test_the_table_holds_exactly_the_documented_rows_each_with_its_source():
    assert {(r.code, r.subcode) for r in graph_errors.ROWS} == {(c, s) for c, s, _, _ in DOCUMENTED}
    for row in graph_errors.ROWS:
        if row.source == graph_errors.UNDOCUMENTED:
            assert row.code == 803, row  # the one code no Meta reference page lists (docs/platforms/facebook.md)
        else:
            assert row.source.startswith("https://developers.facebook.com/docs/"), row


@pytest.mark.parametrize(
    ("code", "subcode", "message", "kind"), DOCUMENTED, ids=[f"{c}/{s}" if s else str(c) for c, s, _, _ in DOCUMENTED]
)
def test_each_documented_error_becomes_its_typed_error(httpserver, code, subcode, message, kind):
    err = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "is_transient": False,
        "fbtrace_id": "A6LJylpZRKw2xKLFsAP-cJh",
    }
    if subcode is not None:
        err["error_subcode"] = subcode
    httpserver.expect_request("/v27.0/17841400000000001/media").respond_with_json({"error": err}, status=400)
    client = GraphClient(
        base_url=httpserver.url_for("/"), version="v27.0", token=lambda: "tok-abcdef123456", platform="instagram"
    )
    with pytest.raises(kind) as info:
        client.post("17841400000000001/media", image_url="https://example.com/a.jpg")
    assert type(info.value) is kind  # not a subclass standing in for another kind
    assert (info.value.code, info.value.subcode) == (code, subcode)
    assert f"code {code}" in info.value.message


def test_spam_restriction_is_not_a_rate_limit_and_says_what_to_do(httpserver):
    httpserver.expect_request("/v27.0/1/media_publish").respond_with_json(
        {
            "error": {
                "message": "We restrict certain activity to protect our community.",
                "type": "OAuthException",
                "code": 4,
                "error_subcode": 2207051,
                "fbtrace_id": "x",
            }
        },
        status=400,
    )
    client = GraphClient(
        base_url=httpserver.url_for("/"), version="v27.0", token=lambda: "t0k3n-xyz", platform="instagram"
    )
    with pytest.raises(PlatformRejected) as info:
        client.post("1/media_publish", creation_id="2")
    assert "spam" in (info.value.hint or "")


def test_an_undocumented_code_falls_back_on_the_http_status(httpserver):
    httpserver.expect_request("/v27.0/a").respond_with_json(
        {"error": {"message": "boom", "code": 12345, "is_transient": True}}, status=400
    )
    httpserver.expect_request("/v27.0/b").respond_with_json({"error": {"message": "bad", "code": 12345}}, status=400)
    client = GraphClient(
        base_url=httpserver.url_for("/"), version="v27.0", token=lambda: "t0k3n-xyz", platform="facebook"
    )
    with pytest.raises(PlatformUnavailable):
        client.get("a")
    with pytest.raises(PlatformRejected):
        client.get("b")


@pytest.mark.parametrize(
    ("code", "message", "named"),
    [
        (200, "(#200) Requires business_management permission to manage the object", "business_management"),
        (10, "(#10) This endpoint requires the 'pages_read_engagement' permission", "pages_read_engagement"),
        (200, "(#200) The user hasn't authorized the application to perform this action", None),
    ],
)
def test_a_permission_error_names_the_permission_and_how_to_grant_it(httpserver, code, message, named):
    httpserver.expect_request("/v27.0/1/feed").respond_with_json(
        {"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "x"}}, status=403
    )
    client = GraphClient(
        base_url=httpserver.url_for("/"), version="v27.0", token=lambda: "t0k3n-xyz", platform="facebook"
    )
    with pytest.raises(PlatformRejected) as info:
        client.post("1/feed", message="hi")
    hint = info.value.hint or ""
    assert "postcli accounts login facebook" in hint
    assert (f"the {named} permission" if named else "a permission this call needs") in hint


def test_a_container_media_not_found_is_retried_from_a_new_container_and_says_why_it_may_happen(httpserver):
    httpserver.expect_request("/v27.0/1/media_publish").respond_with_json(
        {
            "error": {
                "message": "The media with 17889455560051444 cannot be found",
                "type": "OAuthException",
                "code": 24,
                "error_subcode": 2207006,
                "fbtrace_id": "x",
            }
        },
        status=400,
    )
    client = GraphClient(
        base_url=httpserver.url_for("/"), version="v27.0", token=lambda: "t0k3n-xyz", platform="instagram"
    )
    with pytest.raises(PlatformUnavailable) as info:
        client.post("1/media_publish", creation_id="2")
    assert "accounts health" in (info.value.hint or "")
