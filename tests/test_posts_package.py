"""The posts services' contract with the CLI (issue 15 items 2 and 6).

Services own the session and hand back plain data; the post commands import
neither the store nor the platforms; publish, due and delete results carry the
exit code the command ends with.
"""

from __future__ import annotations

import ast
import dataclasses
from datetime import datetime, timezone
from pathlib import Path

import pytest

from postcli import errors
from postcli.services.posts.delete import DeleteReport
from postcli.services.posts.due import DueReport
from postcli.services.posts.publish import PublishOutcome, TargetOutcome

CLI = Path(__file__).parents[1] / "src" / "postcli" / "cli"


def _imported(node: ast.AST) -> set[str]:
    names = set()
    for n in ast.walk(node):
        if isinstance(n, ast.ImportFrom) and n.module:
            names.add(n.module)
            names.update(f"{n.module}.{a.name}" for a in n.names)
        elif isinstance(n, ast.Import):
            names.update(a.name for a in n.names)
    return names


def _layer_breaks(names: set[str]) -> list[str]:
    return sorted(n for n in names if n.startswith(("postcli.store", "postcli.platforms", "sqlalchemy")))


def test_the_post_commands_import_neither_the_store_nor_the_platforms():
    assert _layer_breaks(_imported(ast.parse((CLI / "post.py").read_text()))) == []


def test_publish_due_imports_neither_the_store_nor_the_platforms():
    tree = ast.parse((CLI / "toplevel.py").read_text())
    (func,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "publish_due"]
    assert _layer_breaks(_imported(func)) == []


def _orm_objects(value: object) -> list[object]:
    """Every object in a result that belongs to the store (an ORM row)."""
    if isinstance(value, dict):
        return [o for v in value.values() for o in _orm_objects(v)]
    if isinstance(value, (list, tuple)):
        return [o for v in value for o in _orm_objects(v)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [o for f in dataclasses.fields(value) for o in _orm_objects(getattr(value, f.name))]
    return [value] if type(value).__module__.startswith("postcli.store") else []


def test_the_services_hand_back_plain_data(cli, home):
    from postcli.services.posts import compose, delete, publish, queries

    assert cli("accounts", "add", "sandbox", "--handle", "ana.sandbox").exit_code == 0
    draft = compose.create_post("a draft", ["sandbox"], draft=True)
    edited = compose.edit_post(draft.post["id"], text="edited")
    scheduled = compose.schedule_post(draft.post["id"], datetime(2100, 1, 1, tzinfo=timezone.utc))
    shown = queries.show_post(draft.post["id"])
    now = compose.create_post("now", ["sandbox"])
    page = queries.list_posts()
    outcome = publish.publish_post(now.post["id"], allowed=("pending",))
    cancelled = compose.cancel_post(draft.post["id"])
    deleted = delete.delete_post(now.post["id"], remote=True)
    results = [draft, edited, scheduled, shown, page, now, outcome, cancelled, deleted]
    assert _orm_objects(results) == []
    assert edited["text"] == "edited" and scheduled["status"] == "scheduled" and cancelled["status"] == "cancelled"
    assert shown["id"] == draft.post["id"] and page[1] == 2 and outcome.exit_code == errors.EXIT_OK
    assert deleted.removed_local and deleted.exit_code == errors.EXIT_OK


def _target(status: str, kind: str | None = None) -> TargetOutcome:
    return TargetOutcome(target_id=1, account_id=1, platform="mastodon", handle="me", status=status, error_kind=kind)


@pytest.mark.parametrize(
    "status, targets, code",
    [
        ("completed", [_target("completed")], errors.EXIT_OK),
        ("partial_success", [_target("completed"), _target("failed", "auth")], errors.EXIT_PARTIAL),
        ("failed", [_target("failed", "auth")], errors.EXIT_RECONNECT),
        ("failed", [_target("failed", "auth"), _target("failed", "rate_limited")], errors.EXIT_RECONNECT),
        ("failed", [_target("failed", "rate_limited")], errors.EXIT_RATE_LIMITED),
        ("failed", [_target("failed", "rejected"), _target("failed", "auth")], errors.EXIT_ERROR),
    ],
)
def test_a_publish_outcome_carries_its_exit_code(status, targets, code):
    assert PublishOutcome(post_id=1, status=status, targets=targets).exit_code == code


def test_due_and_delete_results_carry_their_exit_code():
    published = PublishOutcome(post_id=1, status="completed", targets=[_target("completed")])
    limited = PublishOutcome(post_id=2, status="failed", targets=[_target("failed", "rate_limited")])
    assert DueReport().exit_code == errors.EXIT_OK
    assert DueReport(published=[published], expired=[3]).exit_code == errors.EXIT_PARTIAL
    assert DueReport(expired=[3]).exit_code == errors.EXIT_ERROR
    assert DueReport(published=[limited]).exit_code == errors.EXIT_RATE_LIMITED
    ok, failed = _target("deleted"), _target("failed", "error")
    assert DeleteReport(post_id=1, removed_local=True, remote=[ok]).exit_code == errors.EXIT_OK
    assert DeleteReport(post_id=1, removed_local=False, remote=[ok, failed]).exit_code == errors.EXIT_PARTIAL
    assert DeleteReport(post_id=1, removed_local=False, remote=[failed]).exit_code == errors.EXIT_ERROR


@pytest.mark.parametrize(
    "kinds",
    [["auth"], ["auth", "rate_limited"], ["rate_limited"], ["rejected", "auth"], ["unavailable"], ["removed"]],
)
def test_publish_due_and_delete_follow_the_table_of_one_post(kinds):
    """One table (services/exit_codes.py): a run whose only post failed ends as that post
    would; before, publish-due exited 1 where `post publish` exited 6."""
    failed = PublishOutcome(post_id=1, status="failed", targets=[_target("failed", k) for k in kinds])
    assert DueReport(published=[failed]).exit_code == failed.exit_code
    assert DeleteReport(post_id=1, removed_local=False, remote=failed.targets).exit_code == failed.exit_code
    done = PublishOutcome(post_id=2, status="completed", targets=[_target("completed")])
    assert DueReport(published=[done, failed]).exit_code == errors.EXIT_PARTIAL


def test_every_failure_kind_the_code_records_is_in_the_table():
    from postcli.services import exit_codes

    src = Path(__file__).parents[1] / "src" / "postcli"
    recorded = {"error", "expired"}  # exit_codes.kind_of's fallback and DueReport's expired posts
    for path in src.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.keyword) and node.arg == "error_kind" and isinstance(node.value, ast.Constant):
                recorded.add(node.value.value)
    fn = ast.parse((src / "services" / "exit_codes.py").read_text())
    (kind_of,) = [n for n in fn.body if isinstance(n, ast.FunctionDef) and n.name == "kind_of"]
    recorded |= {
        n.value.value for n in ast.walk(kind_of) if isinstance(n, ast.Return) and isinstance(n.value, ast.Constant)
    }
    assert recorded == set(exit_codes.FAILURES)


def test_accounts_health_exits_by_its_result_not_by_a_status_word():
    from postcli.services.account_health import Health

    ok = {"status": "active", "needs_reconnect": False}
    assert Health([ok]).exit_code == errors.EXIT_OK and Health([]).exit_code == errors.EXIT_OK
    assert Health([ok, {"status": "active", "needs_reconnect": True}]).exit_code == errors.EXIT_RECONNECT
    assert '"token_expired"' not in (CLI / "accounts.py").read_text()


@pytest.mark.parametrize(
    "kinds, code",
    [
        ([], errors.EXIT_OK),
        (["auth"], errors.EXIT_RECONNECT),
        (["auth", "auth"], errors.EXIT_RECONNECT),
        (["auth", "platform"], errors.EXIT_PARTIAL),
        (["platform"], errors.EXIT_PARTIAL),
    ],
)
def test_a_refresh_result_carries_its_exit_code(kinds, code):
    from postcli.services.post_analytics import Refreshed

    errs = [{"target_id": i, "platform": "mastodon", "error": "x", "kind": k} for i, k in enumerate(kinds)]
    assert Refreshed({"errors": errs}).exit_code == code


def test_an_interrupt_has_its_named_code_in_the_table():
    assert errors.EXIT_INTERRUPTED == 130 and errors.EXIT_INTERRUPTED in errors.EXIT_CODES
    assert not hasattr(errors, "PartialSuccess")
