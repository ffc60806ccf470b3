"""Where a document lists what the code defines, the two agree (issue 21 item 6: docs that drifted).

- docs/commands.md is generated from the app (tests/support/reference.py) and must be current;
- README's command table names only options its commands have, and names every command;
- the exit codes in README, `postcli --help` and errors.EXIT_CODES are one list;
- docs/json.md and docs/reports.md name exactly the keys the commands print.

The app is walked as click walks it (list_commands / get_command), so groups that build their
sub-commands on demand are covered like any other.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from support import builders
from support.doc_keys import documented_keys, keys_of, sections
from support.media import png
from support.reference import render, walk

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


# --- commands and options -------------------------------------------------------------------


def test_the_command_reference_is_generated_from_the_app():
    current = (ROOT / "docs" / "commands.md").read_text()
    assert current == render(), "docs/commands.md is stale: python tests/support/reference.py > docs/commands.md"


def _leaves() -> dict[tuple[str, ...], set[str]]:
    """Every command that runs (no sub-commands) -> its option names."""
    out = {}
    for path, command, _ctx in walk():
        if path and not hasattr(command, "list_commands"):
            out[tuple(path)] = {o for p in command.params for o in (*p.opts, *p.secondary_opts) if o.startswith("-")}
    return out


def _readme_rows() -> list[str]:
    table = README.split("## Command reference", 1)[1].split("\n\n", 2)[1]
    return [line.split(" | ")[0] for line in table.splitlines() if line.startswith("| `")]


def _named(row: str, leaves: dict[tuple[str, ...], set[str]]) -> list[tuple[str, ...]]:
    words = set(re.findall(r"(?<![-\w])[a-z][\w-]*", row))
    return [path for path in leaves if set(path) <= words]


def test_every_option_in_the_readme_command_table_exists_on_a_command_of_its_row():
    leaves = _leaves()
    wrong = []
    for row in _readme_rows():
        named = _named(row, leaves)
        assert named, row
        for option in re.findall(r"(?<![\w-])--[\w-]+", row):
            if not any(option in leaves[path] for path in named):
                wrong.append((option, row))
    assert wrong == []


def test_the_readme_command_table_names_every_command():
    leaves = _leaves()
    named = {path for row in _readme_rows() for path in _named(row, leaves)}
    assert sorted(set(leaves) - named) == []


# --- exit codes -----------------------------------------------------------------------------


def test_the_exit_codes_are_one_list_everywhere(cli):
    from postcli.errors import EXIT_CODES

    table = README.split("## Exit codes", 1)[1].split("\n\n")[1]
    documented = dict(re.findall(r"^\| (\d+) \| (.+) \|$", table, flags=re.M))
    assert sorted(int(c) for c in documented) == sorted(EXIT_CODES)
    for code, meaning in EXIT_CODES.items():
        assert documented[str(code)].startswith(meaning), (code, documented[str(code)])
    shown = " ".join(cli("--help").stdout.split())
    for code, meaning in EXIT_CODES.items():
        assert f"{code} {meaning}" in shown, (code, shown)


# --- JSON keys ------------------------------------------------------------------------------

JSON_MD = sections((ROOT / "docs" / "json.md").read_text())


def _section(title: str) -> set[str]:
    (found,) = [text for heading, text in JSON_MD.items() if heading.startswith(title)]
    return documented_keys(found)


def _printed(*outputs: Any) -> set[str]:
    return set().union(*(keys_of(o, opaque={"raw"}) for o in outputs))


@pytest.fixture
def published(cli, home, tmp_path) -> dict[str, Any]:
    """Two sandbox accounts, a post with an image published to both, and one collect run."""
    a = cli.json("accounts", "add", "sandbox", "--handle", "a.sandbox")
    b = cli.json("accounts", "add", "sandbox", "--handle", "b.sandbox")
    image = png(tmp_path / "cat.png")
    post = cli.json(
        "post", "create", "hello", "--to", "a.sandbox", "--to", "b.sandbox", "--media", str(image), "--alt", "a cat"
    )
    assert cli("collect").exit_code == 0
    return {"a": a, "b": b, "post": post}


def test_json_md_accounts(cli, published):
    again = cli.json("accounts", "add", "sandbox", "--handle", "a.sandbox")
    draft = cli.json("post", "create", "draft", "--to", "b.sandbox", "--draft")
    removed = cli.json("accounts", "remove", "b.sandbox")
    assert removed["unpublished_posts"] == [{"id": draft["id"], "status": "draft"}]
    listed = cli.json("accounts", "list")
    shown = cli.json("accounts", "show", "a.sandbox")
    assert _section("Accounts") == _printed(published["a"], again, removed, listed, shown)


def test_json_md_posts(cli, published):
    post_id = published["post"]["id"]
    draft = cli.json("post", "create", "a draft", "--to", "a.sandbox", "--draft")
    later = cli.json("post", "create", "later", "--to", "a.sandbox", "--at", "+2h")
    # A thread with a first comment: the keys of `thread`, `parts` and `first_comment`.
    thread = cli.json("post", "create", "one", "two", "--to", "a.sandbox", "--first-comment", "links", "--draft")
    outputs = [
        published["post"],
        draft,
        thread,
        cli.json("post", "show", str(thread["id"])),
        cli.json("post", "show", str(post_id)),
        cli.json("post", "list"),
        cli.json("post", "edit", str(draft["id"]), "--text", "edited"),
        cli.json("post", "schedule", str(draft["id"]), "--at", "+1h"),
        cli.json("post", "cancel", str(later["id"])),
    ]
    assert _section("Posts") == _printed(*outputs)


def test_json_md_publishing_outcomes(cli, published):
    draft = cli.json("post", "create", "a draft", "--to", "a.sandbox", "--draft")
    published_now = cli.json("post", "publish", str(draft["id"]))
    thread = cli.json("post", "create", "one", "two", "--to", "a.sandbox", "--first-comment", "c", "--draft")
    published_now = [published_now, cli.json("post", "publish", str(thread["id"]))]
    due = cli.json("publish-due")
    deleted = cli.json("post", "delete", str(published["post"]["id"]), "--remote")
    assert _section("Publishing outcomes") == _printed(*published_now, due, deleted)


def test_json_md_collection_and_jobs(cli, published):
    from postcli.services.collect.report import CollectReport
    from postcli.services.jobs import Held

    # What a run prints when an account is throttled, cannot be collected, or another run holds jobs.
    report = CollectReport(held=[Held("host:123", 2, datetime(2030, 1, 1, tzinfo=timezone.utc))])
    report.waiting_for_limit("a.sandbox", 3, datetime(2030, 1, 1, tzinfo=timezone.utc))
    report.account_failed("b.sandbox", "the credentials file is damaged")
    printed = _printed(cli.json("collect"), json.loads(_to_json(report.as_dict())), cli.json("jobs", "list"))
    assert _section("Collection and jobs") == printed


def test_collect_help_names_every_key_of_its_json(cli):
    from postcli.services.collect.report import CollectReport

    text = " ".join(cli("collect", "--help").stdout.split()).split("--json prints:")[1]
    assert sorted(k for k in CollectReport().as_dict() if not re.search(rf"\b{k}\b", text)) == []


def _to_json(data: Any) -> str:
    from postcli import output

    return output.to_json(data)


def test_json_md_per_post_analytics(cli, home):
    from fakes.mastodon_server import FakeMastodon

    (home / "config.toml").write_text("[collect]\nrefresh_interval_minutes = 0\n")
    token = "masto-secret-token-123456"
    with FakeMastodon(token=token) as masto:
        added = cli("accounts", "add", "mastodon", "--instance", masto.url, "--token-stdin", input=token + "\n")
        assert added.exit_code == 0, added.stderr
        post_id = str(cli.json("post", "create", "hello fediverse", "--to", "mastodon")["post_id"])
        outputs = [cli.json("analytics", "refresh", post_id)]
        masto.fail_next("GET", "/api/v1/statuses", 500)
        failed = cli.json("analytics", "refresh", post_id, code=7)
        assert failed["errors"], failed
        outputs += [failed, cli.json("analytics", "post", post_id), cli.json("analytics", "post", post_id, "--history")]
        outputs.append(cli.json("analytics", "post", post_id, "--by-part"))
    assert _section("Per-post analytics") == _printed(*outputs)


def test_json_md_account_metrics_and_health(cli, published, home):
    live = cli.json("accounts", "metrics", "a.sandbox")
    series = cli.json("accounts", "metrics", "a.sandbox", "--since", "2000-01-01")
    health = cli.json("accounts", "health")
    # An account that needs reconnecting and has no snapshot yet: the shape with "metrics": null.
    fresh = cli.json("accounts", "add", "sandbox", "--handle", "c.sandbox")["id"]
    import sqlite3

    with sqlite3.connect(home / "postcli.db") as db:
        db.execute("UPDATE accounts SET status = 'token_expired' WHERE id = ?", (fresh,))
    unknown = cli.json("accounts", "metrics", str(fresh), code=6)
    assert unknown["metrics"] is None and unknown["needs_reconnect"] is True
    assert _section("Account metrics and health") == _printed(live, series, health, unknown)


REPORTS_MD = sections((ROOT / "docs" / "reports.md").read_text(), level="### ")
# The envelope, the platform row and filters.account: before the first report's own section.
SHARED = documented_keys(sections((ROOT / "docs" / "reports.md").read_text())["JSON"].split("\n### ")[0])
CHANGE = documented_keys(REPORTS_MD["Change vs the previous period (overview, platforms)"])


@pytest.mark.parametrize("report", ["overview", "platforms", "best-times", "timeline", "growth", "top", "heatmap"])
def test_reports_md_names_every_key_of_each_report_and_no_other(cli, home, report):
    builders.report_store()
    data = cli.json("analytics", report, *builders.MARCH)
    platforms = {"bluesky", "mastodon", "tumblr"}  # keys of by-platform maps, not names of fields
    printed = _printed(data) - platforms
    own = documented_keys(REPORTS_MD[report]) - platforms
    assert sorted(printed - SHARED - own - (CHANGE if report in ("overview", "platforms") else set())) == []
    assert sorted(own - printed) == []
