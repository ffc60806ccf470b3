"""`post import-file` (issue 29): CSV, JSON and Markdown; every problem named by its line or item
with nothing stored; importing again creates nothing; media paths relative to the file."""

from __future__ import annotations

import json
from pathlib import Path

from support.media import png


def _accounts(cli) -> None:  # type: ignore[no-untyped-def]
    for handle in ("a", "b"):
        assert cli("accounts", "add", "sandbox", "--handle", handle).exit_code == 0


def _posts(cli) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    return cli.json("post", "list", "--limit", "100")["posts"]


def test_a_csv_with_problems_names_each_line_and_stores_nothing(cli, home, tmp_path: Path) -> None:
    _accounts(cli)
    f = tmp_path / "plan.csv"
    f.write_text(
        "text,to,at,id\n"
        "fine,a.sandbox,2030-01-01 09:00,r1\n"
        "nobody here,ghost,2030-01-01 10:00,r2\n"
        ",a.sandbox,2030-01-02 09:00,r3\n"
        "too late,b.sandbox,2001-01-01 09:00,r4\n"
        "bad time,b.sandbox,soonish,r5\n"
    )
    r = cli("post", "import-file", str(f))
    assert r.exit_code == 2
    for line, said in ((3, "ghost"), (4, "empty"), (5, "in the past"), (6, "soonish")):
        assert f"line {line}: " in r.stderr and said in r.stderr, (line, r.stderr)
    assert "line 2:" not in r.stderr and "nothing was imported" in r.stderr
    assert _posts(cli) == []


def test_csv_import_then_again_creates_nothing(cli, home, tmp_path: Path) -> None:
    _accounts(cli)
    (tmp_path / "pics").mkdir()
    png(tmp_path / "pics" / "cat.png")
    f = tmp_path / "plan.csv"
    f.write_text(
        "text,to,at,media,alt,text_for.sandbox,draft\n"
        "one,a.sandbox,2030-01-01 09:00,pics/cat.png,a cat,,\n"
        "two,a.sandbox;b.sandbox,2030-01-02 09:00,,,,\n"
        "three,b.sandbox,,,,,true\n"
    )
    first = json.loads(cli("post", "import-file", str(f), "--json").stdout)
    assert [c["where"] for c in first["created"]] == ["line 2", "line 3", "line 4"]
    posts = {p["text"]: p for p in _posts(cli)}
    assert (
        posts["one"]["media"][0]["original_filename"] == "cat.png" and posts["one"]["media"][0]["alt_text"] == "a cat"
    )
    assert len(posts["two"]["targets"]) == 2 and posts["three"]["status"] == "draft"
    assert {p["status"] for p in (posts["one"], posts["two"])} == {"scheduled"}
    again = json.loads(cli("post", "import-file", str(f), "--json").stdout)
    assert again["created"] == [] and again["already_there"] == ["line 2", "line 3", "line 4"]
    assert len(_posts(cli)) == 3
    text = cli("post", "import-file", str(f))
    assert "3 row(s) already there" in text.stdout


def test_json_import_with_items_text_for_and_a_differing_id(cli, home, tmp_path: Path) -> None:
    _accounts(cli)
    f = tmp_path / "plan.json"
    items = [
        {
            "text": "hello",
            "to": ["a.sandbox", "b.sandbox"],
            "at": "2030-02-01 09:00",
            "id": "j1",
            "text_for": {"b.sandbox": "hello b"},
        },
        {"text": "second", "to": "a.sandbox", "at": "2030-02-02 09:00", "tz": "Europe/Berlin", "id": "j2"},
    ]
    f.write_text(json.dumps(items))
    dry = json.loads(cli("post", "import-file", str(f), "--dry-run", "--json").stdout)
    assert len(dry["would_create"]) == 2 and _posts(cli) == []
    assert cli("post", "import-file", str(f)).exit_code == 0
    posts = {p["correlation_id"]: p for p in _posts(cli)}
    assert [t["text_override"] for t in posts["j1"]["targets"]] == [None, "hello b"]
    assert posts["j2"]["scheduled_at"].startswith("2030-02-02T08:00")  # 09:00 in Berlin
    items[1]["text"] = "second, edited"
    f.write_text(json.dumps(items + [{"text": "x", "to": "nobody"}]))
    r = cli("post", "import-file", str(f))
    assert r.exit_code == 2 and "item 3: " in r.stderr
    f.write_text(json.dumps(items))
    out = json.loads(cli("post", "import-file", str(f), "--json").stdout)
    assert out["already_there"] == ["item 1"] and out["differing"] == [
        {"where": "item 2", "id": "j2", "post_id": posts["j2"]["id"]}
    ]
    assert out["created"] == []


def test_markdown_front_matter_posts(cli, home, tmp_path: Path) -> None:
    _accounts(cli)
    f = tmp_path / "plan.md"
    f.write_text(
        "---\nto: [a.sandbox, b.sandbox]\nat: 2030-03-01 09:00\n---\nFirst post,\nover two lines.\n\n"
        '---\nto: a.sandbox\ndraft: true\ntitle: "A title"\n---\nSecond post.\n'
    )
    assert cli("post", "import-file", str(f)).exit_code == 0
    posts = {p["text"]: p for p in _posts(cli)}
    assert set(posts) == {"First post,\nover two lines.", "Second post."}
    assert posts["Second post."]["status"] == "draft" and posts["Second post."]["title"] == "A title"
    f.write_text("---\nto: a.sandbox\nwhen: tomorrow\n---\nThird.\n")
    r = cli("post", "import-file", str(f))
    assert r.exit_code == 2 and "post 1 (line 1): unknown field 'when'" in r.stderr


def test_queued_rows_take_successive_slots(cli, home, tmp_path: Path) -> None:
    _accounts(cli)
    assert cli("queue", "set", "daily 09:00", "--account", "a.sandbox", "--tz", "UTC").exit_code == 0
    f = tmp_path / "q.csv"
    f.write_text("text,to,queue\nq1,a.sandbox,true\nq2,a.sandbox,yes\n")
    out = json.loads(cli("post", "import-file", str(f), "--json").stdout)
    times = [c["scheduled_at"] for c in out["created"]]
    assert len(set(times)) == 2
    again = json.loads(cli("post", "import-file", str(f), "--json").stdout)
    assert again["created"] == [] and len(again["already_there"]) == 2


def test_unknown_format_and_malformed_files(cli, home, tmp_path: Path) -> None:
    for name, body, said in (
        ("plan.txt", "x", "not a .csv, .json or .md"),
        ("plan.json", "{", "not valid JSON"),
        ("plan.json", "{}", "list of objects"),
        ("plan.csv", "to,at\n", "`text` column"),
        ("plan.md", "no front matter", "must start with a front-matter block"),
    ):
        f = tmp_path / name
        f.write_text(body)
        r = cli("post", "import-file", str(f))
        assert r.exit_code == 2 and said in r.stderr, (name, r.stderr)
