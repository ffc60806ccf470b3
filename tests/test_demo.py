"""`postcli demo` runs the whole product on the sandbox, as a real process."""

from __future__ import annotations

from support.cli import run_postcli


def test_demo_runs_end_to_end_and_leaves_the_real_store_alone(home, tmp_path):
    keep = tmp_path / "demo-home"
    r = run_postcli("demo", "--home", str(keep), "--days", "3", timeout=180)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "SIMULATED" in out and "(simulated sandbox data)" in out
    for section in ("Overview", "Engagement gained per day", "Top posts", "Best slots"):
        assert section in out
    assert (keep / "postcli.db").exists()
    report = keep / "report.html"
    assert report.exists() and "SIMULATED DATA" in report.read_text()
    assert report.resolve().as_uri() in out
    assert not (home / "postcli.db").exists()  # the user's POSTCLI_HOME was not touched
    # The kept store answers reports like any other.
    top = run_postcli("analytics", "top", "--json", env={"POSTCLI_HOME": str(keep)})
    assert top.returncode == 0, top.stderr
    import json

    posts = json.loads(top.stdout)["posts"]
    assert posts and all(p["platform"] == "sandbox" for p in posts)
    assert all(p["saves"] is None for p in posts)  # the sandbox does not report saves: NULL, not 0


def test_demo_refuses_a_non_empty_home(tmp_path):
    d = tmp_path / "busy"
    d.mkdir()
    (d / "something").write_text("x")
    r = run_postcli("demo", "--home", str(d))
    assert r.returncode == 2 and "not empty" in r.stderr


def test_throwaway_demo_leaves_only_its_html_report(home):
    import re
    import shutil
    from pathlib import Path
    from urllib.parse import unquote, urlparse

    r = run_postcli("demo", "--days", "1", timeout=180)
    assert r.returncode == 0, r.stderr
    uri = re.search(r"file://\S+report\.html", r.stdout).group(0)
    report = Path(unquote(urlparse(uri).path))
    try:
        assert report.exists() and 'data-chart="timeline"' in report.read_text()
        assert [p.name for p in report.parent.iterdir()] == ["report.html"]  # the store itself is gone
    finally:
        shutil.rmtree(report.parent, ignore_errors=True)


def test_the_demo_calls_no_other_command(cli, tmp_path, monkeypatch):
    """Commands share code below them instead of calling each other as Python functions: every
    command's function, reached through its module, refuses to run while the demo does."""
    import importlib
    import inspect

    import typer

    from postcli.cli import app

    def commands(command):  # type: ignore[no-untyped-def]
        ctx = typer.Context(command)
        for name in getattr(command, "list_commands", lambda _ctx: [])(ctx):
            yield from commands(command.get_command(ctx, name))
        if getattr(command, "callback", None) is not None:
            yield inspect.unwrap(command.callback)

    called = []
    for fn in commands(typer.main.get_command(app)):
        module = importlib.import_module(fn.__module__)
        for attr, value in list(vars(module).items()):
            if inspect.unwrap(value) is fn if callable(value) else False:
                monkeypatch.setattr(module, attr, lambda *a, _n=f"{fn.__module__}.{attr}", **k: called.append(_n))
    result = cli("demo", "--home", str(tmp_path / "demo"), "--days", "1")
    assert called == [] and result.exit_code == 0, (called, result.stderr)
