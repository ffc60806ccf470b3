"""Run postcli as user `nobody`, from files `nobody` can reach.

The suite's own `postcli` may be out of reach: a clone in a private directory (`git clone …
"$(mktemp -d)/p"`, mode 0700) puts the venv and src/ behind a directory only root may enter. So the
code under test and the distributions it depends on (their compiled bytecode too, which `nobody`
could not write) are hard-linked (copied across file systems,
or when a file is not world-readable) into a world-readable temp dir and run by the base
interpreter with that dir as its only addition to the path. When even that cannot start as
`nobody` (an interpreter `nobody` may not run, say), the caller skips with the reason.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

NOBODY = 65534


def _runtime_distributions() -> list[md.Distribution]:
    """postcli's dependencies, transitively, as installed (no extras: what `pip install .` brings)."""
    found: dict[str, md.Distribution] = {}
    todo = [r for r in md.requires("postcli") or []]
    while todo:
        req = Requirement(todo.pop())
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(req.name)
        if name in found:
            continue
        found[name] = md.distribution(name)
        todo.extend(found[name].requires or [])
    return list(found.values())


def _place(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    if src.stat().st_mode & stat.S_IROTH:
        try:
            os.link(src, dest)
            return
        except OSError:
            pass  # another file system: copy
    shutil.copyfile(src, dest)
    dest.chmod(0o644)


def build(root: Path) -> list[str]:
    """Lay out postcli and its dependencies under `root`; return the argv prefix that runs postcli."""
    import postcli

    lib = root / "lib"
    package = Path(postcli.__file__).parent
    for src in package.rglob("*"):
        if src.is_file():
            _place(src, lib / "postcli" / src.relative_to(package))
    for dist in _runtime_distributions():
        for rel in dist.files or []:
            src = Path(str(dist.locate_file(rel)))
            if rel.parts[0] != ".." and src.is_file():
                _place(src, lib / Path(*rel.parts))
    launcher = root / "postcli"
    launcher.write_text("import sys\nfrom postcli.cli import main\nsys.exit(main())\n")
    for d in [root, *(p for p in root.rglob("*") if p.is_dir())]:
        d.chmod(0o755)
    launcher.chmod(0o644)
    python = getattr(sys, "_base_executable", None) or sys.executable
    return [python, "-s", str(launcher)]


def environment(root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PYTHONPATH"] = str(root / "lib")
    env.update(extra)
    return env


def as_nobody(argv: list[str]) -> list[str]:
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *argv]


def prepare() -> tuple[Path, list[str], str | None]:
    """(root, argv prefix, why it cannot run): the laid-out postcli, and whether `nobody` can start it."""
    root = Path(tempfile.mkdtemp(prefix="postcli-nobody-"))
    argv = build(root)
    probe = subprocess.run(
        as_nobody([*argv, "--version"]),
        env=environment(root, HOME=str(root)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    if probe.returncode != 0:
        return root, argv, f"user nobody cannot run postcli from {root}: {probe.stderr.strip()[-500:]}"
    return root, argv, None
