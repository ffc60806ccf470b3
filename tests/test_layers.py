"""The layer contracts (pyproject.toml [tool.importlinter], docs/design.md "Layers") hold on the tree,
and each one catches the import it forbids when one is planted in a copy of the package.

import-linter ships in the `dev` extra (`pip install -e ".[test,dev]"`, as the README and .ci/run do);
with the test extra alone these tests skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("importlinter")

ROOT = Path(__file__).resolve().parents[1]
LINT = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"


def _lint(root: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    args = [a for c in contracts for a in ("--contract", c)]
    return subprocess.run(
        [sys.executable, "-c", LINT, "--no-cache", "--no-logo", *args, str(root / "pyproject.toml")],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root / "src")},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_tree_keeps_every_layer_contract() -> None:
    r = _lint(ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("layers")
    shutil.copytree(ROOT / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


@pytest.mark.parametrize(
    ("package", "planted", "contract"),
    [
        ("platforms", "import postcli.store.models", "platforms"),
        ("platforms", "from postcli.services import accounts", "platforms"),
        ("store", "import postcli.platforms.registry", "store"),
        ("store", "import postcli.services.jobs", "store"),
        ("services", "import rich", "no-presentation-below-cli"),
        ("services", "import typer", "no-presentation-below-cli"),
        ("services", "from postcli import output", "no-presentation-below-cli"),
        ("services", "import postcli.cli", "layers"),
        ("cli", "from postcli.store import session", "cli"),
        ("cli", "from postcli.platforms import registry", "cli"),
        ("errors", "import postcli.settings", "layers"),
    ],
)
def test_a_planted_import_breaks_its_contract(tree_copy: Path, package: str, planted: str, contract: str) -> None:
    pkg = tree_copy / "src" / "postcli" / package
    planted_file = (pkg / "_planted.py") if pkg.is_dir() else pkg.with_suffix(".py")
    original = planted_file.read_text() if planted_file.exists() else None
    planted_file.write_text((original or "") + f"\n{planted}  # planted by tests/test_layers.py\n")
    try:
        r = _lint(tree_copy, contract)
    finally:
        if original is None:
            planted_file.unlink()
        else:
            planted_file.write_text(original)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "BROKEN" in r.stdout and "1 broken" in r.stdout
    culprit = f"postcli.{package}._planted" if planted_file.name == "_planted.py" else f"postcli.{package}"
    assert f"{culprit} -> " in r.stdout, r.stdout


@pytest.mark.parametrize(
    ("module", "planted", "package"),
    [
        # results sits below publish, due, delete and views: naming one of them closes a loop.
        ("services/posts/results.py", "from postcli.services.posts import due", "postcli.services.posts"),
        # A type named across a cycle is still a cycle.
        (
            "services/exit_codes.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from postcli.services.posts.results import DueReport",
            "postcli.services",
        ),
        ("services/collect/results.py", "import postcli.services.collect.account_run", "postcli.services.collect"),
        ("platforms/base.py", "import postcli.platforms.registry", "postcli.platforms"),
    ],
)
def test_an_import_cycle_inside_a_package_breaks_the_acyclic_contract(
    tree_copy: Path, module: str, planted: str, package: str
) -> None:
    planted_file = tree_copy / "src" / "postcli" / module
    original = planted_file.read_text()
    planted_file.write_text(original + f"\n{planted}  # planted by tests/test_layers.py\n")
    try:
        r = _lint(tree_copy, "acyclic")
    finally:
        planted_file.write_text(original)
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"No cycles are allowed in {package}." in r.stdout, r.stdout


def test_no_cycle_is_allowed() -> None:
    """No exception: the last one (cli/login.py <-> cli/accounts_add.py) went with their rewrite."""
    import tomllib

    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    (acyclic,) = [c for c in contracts if c["id"] == "acyclic"]
    assert acyclic["ancestors"] == ["postcli"]
    assert acyclic.get("ignore_imports", []) == []
