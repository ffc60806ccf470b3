"""Facebook Pages as Meta documents them (issue 14): Business Manager Pages, a Page read by id,
object-valued view metrics, and a post deleted after it was collected once.

Sources (the fake's docstring has the shapes):
- /me/businesses, /{business-id}/owned_pages, /{business-id}/client_pages:
  https://developers.facebook.com/docs/graph-api/reference/user/businesses,
  https://developers.facebook.com/docs/marketing-api/reference/business/owned_pages,
  https://developers.facebook.com/docs/marketing-api/reference/business/client_pages
- a Page token read directly, GET /{page-id}?fields=access_token:
  https://developers.facebook.com/docs/facebook-login/guides/access-tokens#pagetokens
- an insight whose value is an object of breakdown values:
  https://developers.facebook.com/blog/post/2023/04/12/introducing-new-metric-to-the-page-insights-api
- a deleted object: code 100, subcode 33 (https://developers.facebook.com/docs/graph-api/guides/error-handling),
  answered per request inside a batch (https://developers.facebook.com/docs/graph-api/making-multiple-requests)
"""

from __future__ import annotations

import json

import pytest

from fakes.facebook_server import FakeFacebook
from postcli.platforms.base import AccountContext, PlatformRejected
from postcli.platforms.facebook.adapter import FacebookAdapter


@pytest.fixture
def fb():
    with FakeFacebook() as server:
        yield server


def fresh(fb: FakeFacebook, saved: list) -> FacebookAdapter:
    return FacebookAdapter(
        AccountContext(platform="facebook", api_base_url=fb.url, secrets={}, save_secrets=saved.append, timeout=5.0)
    )


# -- Pages managed through Business Manager ---------------------------------------------------


def test_a_business_owned_page_missing_from_me_accounts_is_found(fb):
    own = fb.add_page("Own Page")
    biz_page = fb.add_page("Agency Client Page")
    token = fb.add_user("Ana", [own])
    fb.add_business(token, "Ana's Agency", owned=[biz_page])
    saved: list = []
    info = fresh(fb, saved).connect(biz_page.id, token)
    assert info.external_id == biz_page.id and info.handle == "Agency Client Page"
    assert saved[-1]["access_token"] == biz_page.token
    assert fb.requests_to("GET", "/me/businesses")
    assert fb.requests_to("GET", "/" + next(iter(fb.businesses)) + "/owned_pages")


def test_client_pages_are_found_and_listed_when_several(fb):
    own = fb.add_page("Own Page")
    client = fb.add_page("Client Page")
    token = fb.add_user("Ana", [own])
    fb.add_business(token, "Agency", client=[client])
    with pytest.raises(PlatformRejected) as err:
        fresh(fb, []).connect(None, token)
    assert own.id in err.value.message and client.id in err.value.message
    info = fresh(fb, []).connect("Client Page", token)
    assert info.external_id == client.id


def test_a_business_page_without_a_token_in_the_listing_is_read_directly(fb):
    biz_page = fb.add_page("Brand")
    token = fb.add_user("Ana", [])
    fb.add_business(token, "Agency", owned=[biz_page])
    fb.business_page_tokens = False
    saved: list = []
    info = fresh(fb, saved).connect(None, token)
    assert info.external_id == biz_page.id and saved[-1]["access_token"] == biz_page.token
    direct = fb.requests_to("GET", f"/{biz_page.id}")
    assert direct and "access_token" in direct[-1].param("fields")


def test_page_option_falls_back_to_reading_the_page_token_with_the_user_token(fb):
    listed = fb.add_page("Listed")
    hidden = fb.add_page("Hidden Page")
    token = fb.add_user("Ana", [listed])
    fb.grant_page(token, hidden)  # a task on the Page, shown by no listing
    saved: list = []
    info = fresh(fb, saved).connect(hidden.id, token)
    assert info.external_id == hidden.id and info.handle == "Hidden Page"
    assert saved[-1]["access_token"] == hidden.token


def test_without_business_permission_the_accounts_list_still_works(fb):
    own = fb.add_page("Own Page")
    token = fb.add_user("Ana", [own])
    fb.fail_next(
        "GET",
        "/me/businesses",
        code=200,
        status=403,
        message="(#200) Requires business_management permission to manage the object",
    )
    assert fresh(fb, []).connect(None, token).external_id == own.id


def test_a_page_id_nobody_can_read_is_refused_listing_the_pages(fb):
    own = fb.add_page("Own Page")
    token = fb.add_user("Ana", [own])
    with pytest.raises(PlatformRejected) as err:
        fresh(fb, []).connect("123456789", token)
    assert own.id in err.value.message


# -- view metrics as an object of breakdown values ---------------------------------------------


def test_post_views_given_as_breakdown_values_are_summed_and_kept_raw(fb):
    page = fb.add_page("Cafe")
    post = fb.add_post(page, "hello")
    fb.set_counts(
        post.id, reactions=2, post_media_view={"page_uploaded": 30, "page_owned": 12}, post_total_media_view_unique=25
    )
    adapter = FacebookAdapter(fb.account_context(page))
    m = adapter.fetch_post_metrics([post.id])[post.id]
    assert m.views == 42 and m.reach == 25
    [row] = [r for r in m.raw["insights"]["data"] if r["name"] == "post_media_view"]
    assert row["values"][0]["value"] == {"page_uploaded": 30, "page_owned": 12}


def test_page_views_given_as_breakdown_values_are_summed(fb):
    page = fb.add_page("Cafe", followers=10)
    page.insights.update({"page_media_view": {"organic": 700, "paid": 300}, "page_total_media_view_unique": 400})
    m = FacebookAdapter(fb.account_context(page)).fetch_account_metrics()
    assert (m.impressions, m.reach) == (1000, 400)
    assert m.raw["insights"]["data"][0]["values"][0]["value"] == {"organic": 700, "paid": 300}


def test_a_breakdown_with_nothing_reported_stays_none(fb):
    page = fb.add_page("Cafe")
    post = fb.add_post(page, "hello")
    fb.set_counts(post.id, post_media_view={})
    m = FacebookAdapter(fb.account_context(page)).fetch_post_metrics([post.id])[post.id]
    assert m.views is None


# -- a post collected once, then deleted --------------------------------------------------------


def test_a_post_collected_then_deleted_is_none_while_the_batch_still_gets_metrics(fb):
    page = fb.add_page("Cafe")
    kept, gone = fb.add_post(page, "kept"), fb.add_post(page, "gone")
    fb.set_counts(kept.id, reactions=4, post_media_view=10)
    fb.set_counts(gone.id, reactions=1, post_media_view=3)
    adapter = FacebookAdapter(fb.account_context(page))
    first = adapter.fetch_post_metrics([kept.id, gone.id])
    assert first[gone.id] is not None and first[gone.id].likes == 1

    fb.delete_post(gone.id)
    fb.set_counts(kept.id, reactions=5)
    second = adapter.fetch_post_metrics([gone.id, kept.id])

    assert second[gone.id] is None
    assert second[kept.id].likes == 5
    answers = [r for r in fb.requests_to("GET", in_batch=True) if r.path == f"/{gone.id}"]
    assert answers[-1].status == 400  # 100/33 inside the batch, not a failed batch


def test_a_page_found_in_me_accounts_needs_no_business_lookup(fb):
    own = fb.add_page("Own Page")
    token = fb.add_user("Ana", [own])
    fb.add_business(token, "Agency", owned=[fb.add_page("Other")])
    assert fresh(fb, []).connect(own.id, token).external_id == own.id
    assert fb.requests_to("GET", "/me/businesses") == []


# -- business listings are optional discovery (issue 22) ------------------------------------------


def test_client_pages_the_token_may_not_read_do_not_fail_the_connect(fb):
    own = fb.add_page("Own Page")
    token = fb.add_user("Ana", [own])
    bid = fb.add_business(token, "Agency", client=[fb.add_page("Client Page")], clients_readable=False)
    saved: list = []
    info = fresh(fb, saved).connect(None, token)
    assert info.external_id == own.id and saved[-1]["access_token"] == own.token
    assert fb.requests_to("GET", f"/{bid}/client_pages")[-1].status == 400  # 100/33 was answered


def test_the_pages_that_could_be_read_are_offered_and_what_was_not_is_said(fb):
    own = fb.add_page("Own Page")
    owned = fb.add_page("Brand")
    token = fb.add_user("Ana", [own])
    fb.add_business(token, "Agency", owned=[owned], client=[fb.add_page("Client Page")], clients_readable=False)
    with pytest.raises(PlatformRejected) as err:
        fresh(fb, []).connect("Client Page", token)
    assert own.id in err.value.message and owned.id in err.value.message
    assert "client pages of business Agency" in err.value.message and "does not exist" in err.value.message
    assert fresh(fb, []).connect("Brand", token).external_id == owned.id


@pytest.mark.parametrize(
    ("code", "status", "message"),
    [
        (200, 403, "(#200) Requires business_management permission to manage the object"),
        (10, 403, "(#10) Application does not have permission for this action"),
    ],
)
def test_a_permission_error_on_client_pages_does_not_fail_the_connect(fb, code, status, message):
    own = fb.add_page("Own Page")
    token = fb.add_user("Ana", [own])
    bid = fb.add_business(token, "Agency")
    fb.fail_next("GET", f"/{bid}/client_pages", code=code, status=status, message=message)
    assert fresh(fb, []).connect(None, token).external_id == own.id


def test_an_empty_business_changes_nothing(fb):
    own = fb.add_page("Own Page")
    token = fb.add_user("Ana", [own])
    fb.add_business(token, "Empty Agency")
    assert fresh(fb, []).connect(None, token).external_id == own.id


def test_accounts_add_facebook_in_a_business_manager_connects(cli, home, fb):
    own = fb.add_page("Own Page")
    token = fb.add_user("Ana", [own])
    fb.add_business(token, "Agency", client=[fb.add_page("Client Page")], clients_readable=False)
    r = cli("accounts", "add", "facebook", "--api-base", fb.url, "--token-stdin", "--json", input=token + "\n")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["external_id"] == own.id
