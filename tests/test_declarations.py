"""Whatever the code declares is read, and whatever it produces is declared (issue 21 item 6).

A flag, a table entry or a marker that nothing reads suggests a behaviour that does not exist;
a value outside its declared set is a case nobody documented.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from postcli import errors

ROOT = Path(__file__).resolve().parents[1]


def test_every_registered_pytest_marker_is_used():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    names = [m.split(":")[0].strip() for m in config.get("markers", [])]
    used = set()
    for path in (ROOT / "tests").rglob("*.py"):
        used.update(re.findall(r"\bmark\.(\w+)", path.read_text()))
    assert [n for n in names if n not in used] == []


def test_platform_errors_say_what_to_do_by_their_class_alone():
    """No `transient` flag beside the classes: nothing read it, and PlatformUnavailable and
    PlatformRateLimited already say "worth retrying"."""
    classes = [errors.PlatformError, *_subclasses(errors.PlatformError)]
    assert [c.__name__ for c in classes if hasattr(c, "transient")] == []


def _subclasses(cls: type) -> list[type]:
    return [s for sub in cls.__subclasses__() for s in (sub, *_subclasses(sub))]


def test_the_registry_names_only_platforms_it_has():
    from postcli.platforms import registry
    from postcli.services import platform_names

    assert not hasattr(registry, "PLANNED")  # an empty list of "announced" platforms nothing offered
    assert platform_names.known() == frozenset(registry.platform_names(include_hidden=True))


def test_a_removed_account_fails_its_target_with_a_declared_error_kind(cli, home):
    from postcli.services import exit_codes
    from postcli.services.posts import publish

    keep = cli.json("accounts", "add", "sandbox", "--handle", "keep.sandbox")["id"]
    gone = cli.json("accounts", "add", "sandbox", "--handle", "gone.sandbox")["id"]
    post = cli.json("post", "create", "to both", "--to", str(keep), "--to", str(gone), "--draft")["id"]
    assert cli("accounts", "remove", str(gone)).exit_code == 0
    outcome = publish.publish_post(post, allowed=("draft",))
    kinds = {t.handle: t.error_kind for t in outcome.targets}
    assert kinds == {"keep.sandbox": None, "gone.sandbox": "removed"}
    assert "removed" in exit_codes.FAILURES and outcome.exit_code == 7


def test_one_table_of_reports_for_the_commands_and_the_html_report(home):
    """services/reports/catalog.py is the only table: the analytics commands run its entries, the
    HTML report and the digest show the ones with a section, in its order."""
    import typer

    from postcli.cli import app
    from postcli.services import dashboard, reports
    from postcli.services.reports import ReportQuery, catalog

    assert not hasattr(reports, "REPORTS") and not hasattr(dashboard, "SECTIONS")
    root = typer.main.get_command(app)
    ctx = typer.Context(root)
    analytics = root.get_command(ctx, "analytics")
    one_post_or_files = {"post", "refresh", "report", "digest"}
    commands = set(analytics.list_commands(typer.Context(analytics, parent=ctx))) - one_post_or_files
    assert commands == set(catalog.REPORTS)
    sections = [e.section for e in catalog.REPORTS.values() if e.section]
    assert sections == ["overview", "timeline", "growth", "top", "heatmap", "best_times"]
    from datetime import datetime, timezone

    q = ReportQuery(start=datetime(2024, 3, 1, tzinfo=timezone.utc), end=datetime(2024, 3, 5, tzinfo=timezone.utc))
    page = dashboard.build_from_store(q)
    assert list(page.as_json()) == sections
    assert page.as_json()["top"]["limit"] == catalog.TOP_LIMIT
