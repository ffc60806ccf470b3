"""Pinterest end to end through the CLI against the fake: sign in (the test plays the browser),
publish an image Pin, collect (days still processing are null and collected again later),
`analytics post ID --json`, the overview; a lost answer then `post retry` making one Pin; and
what is refused before anything is stored."""

from __future__ import annotations

import json

import pytest

from fakes.pinterest_server import BOARD_ID, OTHER_BOARD_ID, FakePinterest
from signin_helpers import db_rows
from support.accounts import write_config
from support.media import png
from test_signin_pinterest import signed_in


@pytest.fixture
def p(home):  # type: ignore[no-untyped-def]
    write_config(home)
    with FakePinterest() as server:
        yield server


def counters(row: dict) -> tuple:  # type: ignore[type-arg]
    return tuple(row[k] for k in ("impressions", "saves", "clicks", "video_views", "likes", "reach"))


def test_login_publish_an_image_collect_and_report(cli, home, tmp_path, p):
    signed_in(p)
    picture = png(tmp_path / "tart.png")
    r = cli(
        "post", "create", "Lemon tart, step by step", "--to", "pinterest", "--media", str(picture),
        "--alt", "A lemon tart", "--title", "Lemon tart", "--link", "https://example.com/tart", "--json",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    post = json.loads(r.stdout)
    assert post["status"] == "completed"
    (pin,) = p.pins
    assert (pin["board_id"], pin["title"], pin["description"], pin["link"], pin["alt_text"]) == (
        BOARD_ID,
        "Lemon tart",
        "Lemon tart, step by step",
        "https://example.com/tart",
        "A lemon tart",
    )
    (sent,) = p.requests_to("POST", "/v5/pins")
    assert sent.json["media_source"]["source_type"] == "image_base64"
    assert db_rows(home, "select platform_post_id, platform_post_url from post_targets") == [
        (pin["id"], f"https://www.pinterest.com/pin/{pin['id']}/")
    ]

    # Published today: Pinterest is still processing the day, so nothing is reported yet.
    assert cli.json("collect")["fetched"] >= 1
    first = cli.json("analytics", "post", str(post["id"]))
    (row,) = first["metrics_by_target"]
    assert counters(row) == (None, None, None, None, None, None)

    # Later the day settles: the next collect reads it again and the numbers arrive.
    p.settle(pin["id"], IMPRESSION=120, SAVE=4, PIN_CLICK=9, OUTBOUND_CLICK=3)
    assert cli.json("collect")["fetched"] >= 1
    (row,) = cli.json("analytics", "post", str(post["id"]))["metrics_by_target"]
    assert counters(row) == (120, 4, 9, None, None, None)
    assert row["platform"] == "pinterest" and row["url"].startswith("https://www.pinterest.com/pin/")

    overview = cli("analytics", "overview")
    assert overview.exit_code == 0 and "pinterest" in overview.stdout


def test_a_lost_answer_then_post_retry_makes_exactly_one_pin(cli, home, tmp_path, p, monkeypatch):
    signed_in(p)
    picture = png(tmp_path / "tart.png")
    monkeypatch.setenv("POSTCLI_TIMEOUT", "1")
    p.lose_answer("POST", "/v5/pins", seconds=4)  # the Pin is made; its answer never arrives in time
    r = cli("post", "create", "Lost and found", "--to", "pinterest", "--media", str(picture), "--json")
    assert r.exit_code == 1, r.stdout
    failed = json.loads(r.stdout)
    post_id = failed["post_id"]
    assert "outcome is unknown" in failed["targets"][0]["error"]
    assert len(p.pins) == 1

    monkeypatch.setenv("POSTCLI_TIMEOUT", "10")
    retried = cli("post", "retry", str(post_id), "--json")
    assert retried.exit_code == 0, retried.stderr
    assert len(p.pins) == 1 and len(p.requests_to("POST", "/v5/pins")) == 1  # found, not sent again
    (target,) = json.loads(retried.stdout)["targets"]
    assert target["reconciled"] is True and target["url"] == f"https://www.pinterest.com/pin/{p.pins[0]['id']}/"


def test_a_text_only_pin_is_refused_before_anything_is_stored(cli, home, p):
    signed_in(p)
    r = cli("post", "create", "just words", "--to", "pinterest")
    assert r.exit_code == 2 and "need at least one image or video" in r.stderr
    assert db_rows(home, "select count(*) from posts") == [(0,)] and p.requests_to("POST", "/v5/pins") == []


def test_without_a_board_the_post_names_both_ways_to_give_one(cli, home, tmp_path, p):
    r = cli("accounts", "add", "pinterest", "--token-stdin", "--api-base", p.url, input=p.access_token + "\n")
    assert r.exit_code == 0, r.stderr  # two boards, no --board: no default
    picture = png(tmp_path / "tart.png")
    r = cli("post", "create", "Tart", "--to", "pinterest", "--media", str(picture))
    assert r.exit_code == 2
    assert "--field pinterest.board=" in r.stderr and "--board ID" in r.stderr
    assert db_rows(home, "select count(*) from posts") == [(0,)]
    r = cli(
        "post", "create", "Tart", "--to", "pinterest", "--media", str(picture),
        "--field", f"pinterest.board={OTHER_BOARD_ID}", "--json",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert [pin["board_id"] for pin in p.pins] == [OTHER_BOARD_ID]
    shown = cli.json("post", "show", str(json.loads(r.stdout)["post_id"]))
    assert shown["targets"][0]["fields"] == {"board": OTHER_BOARD_ID}  # stored with the target


def test_a_board_deleted_since_is_named_with_the_boards_left(cli, home, tmp_path, p):
    signed_in(p)
    del p.boards[BOARD_ID]
    r = cli("post", "create", "Tart", "--to", "pinterest", "--media", str(png(tmp_path / "t.png")), "--json")
    assert r.exit_code == 1
    assert f"no board {BOARD_ID}" in r.stdout and f"Garden ({OTHER_BOARD_ID})" in r.stdout
    assert p.requests_to("POST", "/v5/pins") == []


def test_a_deleted_pin_is_marked_deleted_by_collect(cli, home, tmp_path, p):
    signed_in(p)
    r = cli("post", "create", "Short-lived", "--to", "pinterest", "--media", str(png(tmp_path / "t.png")))
    assert r.exit_code == 0, r.stderr
    p.delete_pin(p.pins[0]["id"])
    out = cli.json("collect")
    assert out["deleted"] == 1
    assert db_rows(home, "select status from post_targets") == [("deleted",)]


def test_accounts_add_with_board_keeps_the_default_and_refuses_a_board_not_there(cli, home, tmp_path, p):
    add = ("accounts", "add", "pinterest", "--token-stdin", "--api-base", p.url)
    r = cli(*add, "--board", "999", input=p.access_token + "\n")
    assert r.exit_code == 2 and "no board 999" in r.stderr and f"Summer recipes ({BOARD_ID})" in r.stderr
    assert db_rows(home, "select count(*) from accounts") in ([], [(0,)])  # nothing stored
    r = cli(*add, "--board", OTHER_BOARD_ID, "--json", input=p.access_token + "\n")
    assert r.exit_code == 0, r.stderr
    r = cli("post", "create", "Tart", "--to", "pinterest", "--media", str(png(tmp_path / "t.png")))
    assert r.exit_code == 0, r.stderr
    assert [pin["board_id"] for pin in p.pins] == [OTHER_BOARD_ID]


def test_postcli_platforms_describes_pinterest_from_its_spec(cli):
    out = cli.json("platforms", "pinterest")
    assert out["publish"]["text"] is False  # a Pin needs an image or a video
    assert out["publish"]["images"] is True and out["publish"]["video"] is True
    assert (out["publish"]["title"], out["publish"]["link"]) == ("optional", "optional")
    (board,) = out["publish"]["fields"]
    assert (board["key"], board["required"]) == ("pinterest.board", True)
    assert out["metrics"]["reported"] == ["impressions", "saves", "clicks", "video_views"]
    assert {"likes", "comments", "shares", "reach"} <= set(out["metrics"]["always_null"])
    assert out["metrics"]["settle_hours"] >= 72  # days still processing are collected again
    assert out["signin"]["redirect"] == "loopback-fixed" and out["signin"]["scopes"] == [
        "boards:read",
        "boards:write",
        "pins:read",
        "pins:write",
        "user_accounts:read",
    ]
    assert (out["limits"]["max_text"], out["limits"]["max_alt_text"], out["limits"]["max_items"]) == (800, 500, 1)
    assert out["connect"]["options"] == ["--board", "--client-id"]
