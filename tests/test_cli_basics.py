"""The CLI's shell: help without heavy imports, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

from postcli import errors
from support.cli import run_postcli


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys\n"
        "from postcli.cli import app\n"
        "try:\n"
        "    app(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('atproto', 'mastodon', 'sqlalchemy', 'boto3', 'httpx', 'alembic') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "HEAVY=\n" in out.stdout, out.stdout + out.stderr


def test_installed_entry_point_runs_and_reports_exit_codes(home):
    ok = run_postcli("--version")
    assert ok.returncode == 0 and ok.stdout.startswith("postcli ")
    missing = run_postcli("post", "show", "42")
    assert missing.returncode == errors.EXIT_NOT_FOUND
    assert "no post '42'" in missing.stderr and "Traceback" not in missing.stderr
    listed = run_postcli("post", "list", "--json")
    assert listed.returncode == 0
    assert json.loads(listed.stdout) == {"total": 0, "page": 1, "limit": 20, "posts": []}


def test_python_dash_m_works(home):
    out = subprocess.run([sys.executable, "-m", "postcli", "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "postcli" in out.stdout


def test_usage_errors_exit_2(cli):
    result = cli("post", "list", "--sort", "nonsense")
    assert result.exit_code == 2 and "--sort" in result.stderr
    result = cli("post", "create", "hi")  # --to is required
    assert result.exit_code == 2


def test_bad_dates_and_zones_exit_2_without_traceback(cli):
    r = cli("post", "create", "hello", "--to", "all", "--at", "the day after never")
    assert r.exit_code == 2 and "cannot read the time" in r.stderr
    r = cli("post", "create", "hello", "--to", "all", "--at", "+2h", "--tz", "Mars/Olympus")
    assert r.exit_code == 2 and "unknown timezone" in r.stderr


def test_unknown_ids_exit_3(cli):
    assert cli("post", "show", "12").exit_code == 3
    assert cli("post", "retry", "12").exit_code == 3
    assert cli("accounts", "show", "9").exit_code == 3
    assert cli("accounts", "remove", "nobody").exit_code == 3


def test_exit_code_table_is_documented_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for code in errors.EXIT_CODES:
        assert f"| {code} |" in readme


def test_config_path_and_init(cli, home):
    import json as _json

    info = _json.loads(cli("config", "path", "--json").stdout)
    assert info["config_file"].startswith(str(home)) and info["config_exists"] is False
    assert info["database_url"].startswith("sqlite")
    r = cli("config", "init")
    assert r.exit_code == 0, r.stderr
    text = (home / "config.toml").read_text()
    assert "[collect.rate_limits]" in text and "lease_seconds" in text
    assert cli("collect", "--json").exit_code == 0  # the commented file is valid TOML postcli accepts
    again = cli("config", "init")
    assert again.exit_code == 2 and "--force" in again.stderr  # as `db backup` over an existing file (issue 13)
    assert cli("config", "init", "--force").exit_code == 0


def test_config_path_masks_a_database_password(cli, monkeypatch):
    import json as _json

    monkeypatch.setenv("POSTCLI_DATABASE_URL", "postgresql+psycopg://bob:hunter2secret@db.example:5432/postcli")
    out = cli("config", "path", "--json").stdout
    assert "hunter2secret" not in out and "db.example" in _json.loads(out)["database_url"]


def _options_named(name: str) -> list:  # type: ignore[type-arg]
    import typer.main

    from postcli.cli import app

    found = []

    def walk(cmd) -> None:  # type: ignore[no-untyped-def]
        # list_commands/get_command: `accounts add|login PLATFORM` are built on demand.
        for sub in cmd.list_commands(None) if hasattr(cmd, "list_commands") else []:
            walk(cmd.get_command(None, sub))
        found.extend(p for p in getattr(cmd, "params", []) if name in getattr(p, "opts", []))

    walk(typer.main.get_command(app))
    return found


def test_every_json_option_is_the_one_declaration():
    # Issue 21: --json was declared five ways with four help texts.
    from postcli.cli._options import JsonOpt

    (info,) = JsonOpt.__metadata__
    options = _options_named("--json")
    assert len(options) >= 30
    assert {p.help for p in options} == {info.help}
    assert {p.default for p in options} == {False}


def test_every_tz_option_is_the_one_declaration():
    from postcli.cli._options import TzOpt

    (info,) = TzOpt.__metadata__
    options = _options_named("--tz")
    assert len(options) >= 10
    assert {p.help for p in options} == {info.help}
