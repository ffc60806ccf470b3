"""What a command loads before it runs (issue 16, issue 21 item 5).

cli/_params.py keeps Pydantic out of the option values by replacing a private piece of Typer
(`typer.core.build_runtime_param`). A Typer release that renames it would switch that off
without a word (+0.07-0.09 s on every command): these tests fail instead. pyproject.toml bounds
Typer to the releases they have passed on.

Every report command is run as its own process, with every option that takes a file, against a
small store, and must end without Pydantic (or SQLAlchemy: the reports' read path is plain SQL).
The commands come from the app itself: a new report command fails here until it is listed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from support import builders

MARCH = builders.MARCH

_PROBE = (
    "import json, sys\n"
    "from postcli.cli import app\n"
    "code = 0\n"
    "try:\n    app(sys.argv[1:])\nexcept SystemExit as e:\n    code = e.code\n"
    "heavy = [m for m in ('pydantic', 'sqlalchemy', 'alembic') if m in sys.modules]\n"
    "sys.stderr.write('\\nPROBE ' + json.dumps({'exit': code, 'heavy': heavy}) + '\\n')\n"
)

# Every command under `postcli analytics`, with arguments that exercise each kind of option it
# takes (files included: a path option would otherwise go through Typer's own coercion).
# {d} is a scratch directory.
REPORT_COMMANDS: dict[str, list[str]] = {
    "overview": [*MARCH, "--platform", "bluesky", "--account", "1"],
    "timeline": [*MARCH, "--json", "--svg", "{d}/timeline.svg", "--size", "400x300"],
    "growth": [*MARCH, "--csv"],
    "top": [*MARCH, "--limit", "2", "--sort", "likes"],
    "platforms": [*MARCH, "--json"],
    "heatmap": [*MARCH, "--png", "{d}/heatmap.png"],
    "best-times": [*MARCH],
    "report": [*MARCH, "--html", "{d}/report.html", "--force"],
    "digest": [*MARCH, "--format", "html", "--output", "{d}/digest.html"],
    "post": ["1", "--history", "--platform", "bluesky"],
}
# Under `analytics` but not a report: it asks the platforms and writes snapshots (the ORM path).
NOT_REPORTS = {"refresh"}


def _probe(*args: str) -> tuple[dict, str]:
    out = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, timeout=180)
    head, _, tail = out.stderr.rpartition("\nPROBE ")
    assert tail, out.stderr
    return json.loads(tail), head


def _subcommands(*path: str) -> list[str]:
    from postcli.cli import app

    group = typer.main.get_command(app)
    ctx = typer.Context(group)
    for name in path:
        group = group.get_command(ctx, name)
        ctx = typer.Context(group, parent=ctx, info_name=name)
    return sorted(group.list_commands(ctx))


def test_every_analytics_command_is_probed_here():
    assert sorted([*REPORT_COMMANDS, *NOT_REPORTS]) == _subcommands("analytics")


@pytest.mark.parametrize("command", sorted(REPORT_COMMANDS))
def test_a_report_command_loads_neither_pydantic_nor_sqlalchemy(command, home, tmp_path):
    builders.report_store()
    args = [a.format(d=tmp_path) for a in REPORT_COMMANDS[command]]
    result, err = _probe("analytics", command, *args)
    assert result == {"exit": 0, "heavy": []}, err
    for written in (a for a in args if a.startswith(str(tmp_path))):
        assert Path(written).stat().st_size > 0


def test_overwriting_a_report_file_loads_no_pydantic_either(home, tmp_path):
    builders.report_store()
    page = tmp_path / "report.html"
    page.write_text("yesterday's")
    result, err = _probe("analytics", "report", *MARCH, "--html", str(page), "--force")
    assert result == {"exit": 0, "heavy": []}, err
    assert "<html" in page.read_text()


def test_help_loads_neither():
    assert _probe("--help")[0] == {"exit": 0, "heavy": []}


def test_the_plain_values_patch_is_in_place():
    """The piece of Typer that cli/_params.py replaces is still there, and replaced."""
    import postcli.cli  # noqa: F401  (installs the patch)

    assert getattr(typer.core.build_runtime_param, "_postcli", False)


_MAIN_PROBE = (
    "import json, sys\n"
    "from postcli import cli\n"
    "sys.argv = ['postcli', *sys.argv[1:]]\n"
    "code = 0\n"
    "try:\n    cli.main()\nexcept SystemExit as e:\n    code = e.code\n"
    "loaded = sorted(m for m in sys.modules if m.startswith('postcli.cli.'))\n"
    "import typer\n"
    "root = typer.main.get_command(cli._app)\n"
    "built = {n: sorted(getattr(c, 'commands', {})) for n, c in root.commands.items()}\n"
    "sys.stderr.write('\\nPROBE ' + json.dumps({'exit': code, 'loaded': loaded, 'built': built}) + '\\n')\n"
)


def _main_probe(*args: str) -> tuple[dict, str, str]:
    out = subprocess.run([sys.executable, "-c", _MAIN_PROBE, *args], capture_output=True, text=True, timeout=180)
    head, _, tail = out.stderr.rpartition("\nPROBE ")
    assert tail, out.stderr
    return json.loads(tail), out.stdout, head


def test_a_group_named_first_builds_only_that_group_and_command(home):
    builders.report_store()
    result, out, err = _main_probe("analytics", "platforms", *MARCH, "--json")
    assert result["exit"] == 0, err
    assert json.loads(out)["report"] == "platforms"
    # Neither another group's module nor the top-level commands were imported to build the app.
    others = {f"postcli.cli.{g}" for g in ("accounts", "post", "jobs", "media", "db", "config", "queue", "toplevel")}
    assert not others & set(result["loaded"]), result["loaded"]
    assert result["built"] == {"analytics": ["platforms"]}


def test_a_command_the_group_does_not_have_is_answered_from_the_whole_group(home):
    result, _out, err = _main_probe("analytics", "topp")
    assert result["exit"] == 2
    assert "No such command 'topp'" in err and "top" in err


@pytest.mark.parametrize(
    "args",
    [["--help"], ["--debug", "analytics", "--help"], ["collect", "--help"], ["analytics", "--help"]],
)
def test_other_command_lines_see_the_whole_app(args, home):
    result, out, err = _main_probe(*args)
    assert result["exit"] == 0, err
    if args[0] == "analytics":  # the group's own help: its commands, the same as in the whole app
        listed = out.split("Commands:")[1].split()
        assert [c for c in _subcommands("analytics") if c not in listed] == []
    else:
        assert "postcli.cli.toplevel" in result["loaded"]


def test_a_builtin_platform_option_reads_no_spec_and_no_plugins(home):
    """`--platform mastodon` is checked against the built-in names; every spec and the installed
    plugins (importlib.metadata) are read only for a name that is not one (~20 ms)."""
    builders.report_store()
    probe = (
        "import sys\nfrom postcli import cli\nsys.argv = ['postcli', *sys.argv[1:]]\n"
        "try:\n    cli.main()\nexcept SystemExit as e:\n    code = e.code\n"
        "read = [m for m in ('postcli.platforms.spec', 'importlib.metadata') if m in sys.modules]\n"
        "sys.stderr.write('\\nREAD ' + ','.join(read) + ' EXIT ' + str(code) + '\\n')\n"
    )
    for platform, want in (
        ("bluesky", "READ  EXIT 0"),
        ("blusky", "READ postcli.platforms.spec,importlib.metadata EXIT 2"),
    ):
        out = subprocess.run(
            [sys.executable, "-c", probe, "analytics", "overview", *MARCH, "--platform", platform, "--json"],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert want in out.stderr, out.stderr


@pytest.mark.parametrize("report", ["top", "overview", "platforms", "best-times", "growth", "heatmap"])
def test_text_reports_load_no_spec_and_no_rich_table(home, report):
    """Text output draws its tables through textgrid (rich.table brings fractions and decimal) and
    names the counters a platform never reports from the registry, without importing a spec."""
    builders.report_store()
    probe = (
        "import sys\nfrom postcli import cli\nsys.argv = ['postcli', *sys.argv[1:]]\n"
        "try:\n    cli.main()\nexcept SystemExit as e:\n    code = e.code\n"
        "read = [m for m in ('postcli.platforms.spec', 'rich.table', 'fractions') if m in sys.modules]\n"
        "sys.stderr.write('\\nREAD ' + ','.join(read) + ' EXIT ' + str(code) + '\\n')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, "analytics", report, *MARCH, "--tz", "UTC"],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert "READ  EXIT 0" in out.stderr, out.stderr
    if report == "top":  # the note that names what a platform never reports was printed
        assert "not reported by the platform" in out.stdout and "reports no" in out.stdout, out.stdout
