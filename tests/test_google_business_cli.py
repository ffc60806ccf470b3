"""Google Business Profile through the CLI, end to end against the fake Business Profile APIs:
the browser sign-in (the test plays the browser), a post with a photo from the S3 store (moto)
and a button, `collect` that spends no call on the post and keeps the location's numbers,
the reports showing "—" and saying why once, and a lost answer that `post retry` turns into
exactly one post."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from fakes.google_business_server import ACCESS_TOKEN, ACCOUNT, CLIENT_ID, CLIENT_SECRET, FakeGoogleBusiness
from signin_helpers import start_login
from test_s3 import aws_env, bucket, moto_endpoint, png  # noqa: F401  (fixtures)

ENV = {"POSTCLI_GOOGLE_BUSINESS_CLIENT_ID": CLIENT_ID, "POSTCLI_GOOGLE_BUSINESS_CLIENT_SECRET": CLIENT_SECRET}


@pytest.fixture
def gb():
    with FakeGoogleBusiness() as server:
        yield server


def login(gb: FakeGoogleBusiness) -> dict:
    gb.add_client()
    run = start_login(
        "google-business", "--api-base", gb.url, "--authorize-url", f"{gb.url}/o/oauth2/v2/auth", "--json", env=ENV
    )
    run.browse()
    code, out, err = run.finish()
    assert code == 0, err
    return json.loads(out)


def db(home: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(home / "postcli.db")
    conn.row_factory = sqlite3.Row
    return conn


def test_login_publish_collect_and_reports(cli, home, gb, bucket, tmp_path):  # noqa: F811
    account = login(gb)
    photo = png(tmp_path / "croissant.png")
    out = cli.json(
        "post", "create", "Fresh croissants until noon", "--to", "google-business", "--media", str(photo),
        "--link", "https://bakery.example/book", "--field", "google-business.cta=BOOK",
    )  # fmt: skip
    assert out["status"] == "completed"
    (target,) = out["targets"]
    (post,) = gb.all_posts()
    assert target["url"] == post["searchUrl"]
    assert post["callToAction"] == {"actionType": "BOOK", "url": "https://bakery.example/book"}
    (media,) = post["media"]
    assert media["mediaFormat"] == "PHOTO" and media["sourceUrl"].startswith(bucket.endpoint)
    assert db(home).execute("select platform_post_id from post_targets").fetchone()[0] == post["name"]
    shown = cli.json("post", "show", str(out["post_id"]))["targets"][0]
    assert shown["fields"] == {"cta": "BOOK"}  # stored with the target, as given

    gb.requests.clear()
    collected = cli("collect", "--json")
    assert collected.exit_code == 0, collected.stderr
    report = json.loads(collected.stdout)
    assert any("google-business reports no numbers per post" in n for n in report["notes"])
    # One call for the location's numbers (and none for the post: it has none).
    assert [r.path for r in gb.requests if r.path != "/token"] == [
        f"/v1/{gb.location['name']}:fetchMultiDailyMetricsTimeSeries"
    ]
    conn = db(home)
    assert conn.execute("select count(*) from post_metric_snapshots").fetchone()[0] == 0
    snap = conn.execute("select * from account_metric_snapshots").fetchone()
    assert snap["profile_views"] == 0 and snap["followers"] is None

    data = cli.json("analytics", "post", str(out["post_id"]))
    (row,) = data["metrics_by_target"]
    assert row["metrics_reported"] is False and row["captured_at"] is None
    assert all(row[k] is None for k in ("likes", "comments", "shares", "impressions", "reach", "views"))
    text = cli("analytics", "post", str(out["post_id"]))
    assert text.exit_code == 0
    assert "Google Business Profile (google-business) reports no numbers per post" in text.stdout
    assert "No snapshot yet" not in text.stdout  # collect cannot change that: it is said why instead
    gb.requests.clear()
    refreshed = cli.json("analytics", "refresh", str(out["post_id"]))
    assert refreshed["errors"] == [] and gb.requests == []  # nothing to ask Google

    overview = cli("analytics", "overview")
    assert overview.exit_code == 0, overview.stderr
    assert "google-business" in overview.stdout
    assert overview.stdout.count("reports no numbers per post") == 1
    assert cli.json("accounts", "list")[0]["id"] == account["id"]


def test_a_lost_answer_then_post_retry_makes_exactly_one_post(cli, gb):
    login(gb)
    gb.lose_next_answer(30.0)
    r = cli("post", "create", "Open late on Friday", "--to", "google-business", "--json", env={"POSTCLI_TIMEOUT": "1"})
    first = json.loads(r.stdout)
    (target,) = first["targets"]
    assert target["status"] == "failed" and "outcome is unknown" in target["error"]
    assert len(gb.all_posts()) == 1  # Google made it; the answer never came

    retried = cli.json("post", "retry", str(first["post_id"]))
    assert retried["status"] == "completed" and retried["targets"][0]["reconciled"] is True
    (post,) = gb.all_posts()
    assert retried["targets"][0]["url"] == post["searchUrl"]
    creates = [q for q in gb.requests_to("POST", "/v4/") if q.path.endswith("/localPosts")]
    assert len(creates) == 1  # never sent again
    assert gb.requests_to("GET", "/v4/")  # it looked among the location's posts


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--link", "https://bakery.example", "--field", "google-business.cta=CALL"], "takes no link"),
        (["--field", "google-business.type=EVENT"], "needs google-business.event_title"),
        (["--field", "google-business.cta=NOW"], "not one of the allowed values"),
    ],
)
def test_a_post_google_would_refuse_is_exit_2_and_nothing_is_stored_or_sent(cli, home, gb, args, says):
    login(gb)
    gb.requests.clear()
    r = cli("post", "create", "Call us", "--to", "google-business", *args)
    assert r.exit_code == 2 and says in r.stderr, r.stderr
    assert db(home).execute("select count(*) from posts").fetchone()[0] == 0
    assert gb.requests == []


def test_a_photo_without_the_s3_store_is_refused_before_anything_is_stored(cli, home, gb, tmp_path):
    login(gb)
    gb.requests.clear()
    r = cli("post", "create", "With a photo", "--to", "google-business", "--media", str(png(tmp_path / "p.png")))
    assert r.exit_code == 2 and "S3" in r.stderr
    assert db(home).execute("select count(*) from posts").fetchone()[0] == 0 and gb.requests == []


def test_a_project_without_api_access_fails_the_post_naming_the_application_form(cli, gb):
    login(gb)
    gb.quota_zero = True
    r = cli("post", "create", "Before approval", "--to", "google-business", "--json")
    assert r.exit_code == 5, r.stderr
    (target,) = json.loads(r.stdout)["targets"]
    assert "quota of 0" in target["error"] and "support.google.com/business/contact/api_default" in target["error"]
    assert target["retry_at"] and gb.all_posts() == []


def test_accounts_add_with_a_token_made_elsewhere_and_location(cli, home):
    """`accounts add google-business --token-stdin`: a token made elsewhere, verified (one refresh,
    the locations listed); with several locations --location picks one, without it exit 2 listing
    them and nothing stored."""
    with FakeGoogleBusiness(locations=2) as gb:
        env = {"POSTCLI_GOOGLE_BUSINESS_REFRESH_TOKEN": gb.refresh_token, **ENV}
        add = ("accounts", "add", "google-business", "--client-id", CLIENT_ID, "--api-base", gb.url, "--token-stdin")
        none = cli(*add, input=ACCESS_TOKEN + "\n", env=env)
        assert none.exit_code == 2, none.stderr
        assert "--location" in none.stderr and "Alice Bakery Branch 1" in none.stderr
        assert not (home / "postcli.db").exists() or db(home).execute("select * from accounts").fetchall() == []
        second = gb.locations[ACCOUNT][1]
        r = cli(*add, "--location", second["name"].split("/")[1], "--json", input=ACCESS_TOKEN + "\n", env=env)
        assert r.exit_code == 0, r.stderr
        account = json.loads(r.stdout)
        assert (account["platform"], account["handle"]) == ("google-business", "Alice Bakery Branch 1")
        assert account["external_id"] == second["name"].split("/")[1]


def test_postcli_platforms_describes_google_business_from_its_spec(cli):
    out = cli.json("platforms", "google-business")
    assert out["publish"]["images"] is True and out["publish"]["video"] is False and out["publish"]["title"] == "no"
    fields = [f["key"] for f in out["publish"]["fields"]]
    assert fields[:2] == ["google-business.type", "google-business.cta"]
    assert out["metrics"]["reported"] == [] and out["metrics"]["collected"] is False
    assert out["metrics"]["account"] == ["profile_views"]
    assert out["signin"]["redirect"] == "loopback" and out["signin"]["scopes"] == [
        "https://www.googleapis.com/auth/business.manage"
    ]
    assert out["connect"]["options"] == ["--location", "--client-id", "--app-status"]
    assert "POSTCLI_GOOGLE_BUSINESS_REFRESH_TOKEN" in out["connect"]["environment"]
