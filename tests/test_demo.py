"""`postcli demo` runs the whole product on the sandbox, as a real process."""

from __future__ import annotations

from support.cli import run_postcli


def test_demo_runs_end_to_end_and_leaves_the_real_store_alone(home, tmp_path):
    keep = tmp_path / "demo-home"
    r = run_postcli("demo", "--home", str(keep), "--days", "3", timeout=180)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "SIMULATED" in out and "(simulated data)" in out
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
    assert posts and {p["platform"] for p in posts} <= {"sim-bluesky", "sim-mastodon", "sim-instagram", "sim-threads"}
    # Each simulated network reports what its real counterpart reports: NULL, never 0, for the rest.
    assert all(p["impressions"] is None for p in posts)
    assert all(p["saves"] is None for p in posts if p["platform"] != "sim-instagram")


def test_demo_refuses_a_non_empty_home(tmp_path):
    d = tmp_path / "busy"
    d.mkdir()
    (d / "something").write_text("x")
    r = run_postcli("demo", "--home", str(d))
    assert r.returncode == 2 and "not empty" in r.stderr


def test_the_default_demo_keeps_its_store_and_prints_what_to_try_next(home):
    """No --home: a new directory under the temporary one, kept (the next commands use it), and
    the three commands to try on it plus the one to connect a real account. (Until issue 30 the
    store was deleted, which left nothing to try the commands on.)"""
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
        assert (report.parent / "postcli.db").exists()
        tries = [line.strip() for line in r.stdout.splitlines() if line.strip().startswith("POSTCLI_HOME=")]
        assert [t.split("postcli ", 1)[1].split()[:2] for t in tries] == [
            ["analytics", "top"],
            ["analytics", "best-times"],
            ["analytics", "report"],
        ]
        assert "postcli accounts add bluesky" in r.stdout
        top = run_postcli(*tries[0].split("postcli ", 1)[1].split(), env={"POSTCLI_HOME": str(report.parent)})
        assert top.returncode == 0 and "Top posts" in top.stdout
    finally:
        shutil.rmtree(report.parent, ignore_errors=True)


def _start_demo(home, days: str = "3", env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """`postcli demo` as its own process, in `home` (None: the default, a new temporary one)."""
    import os
    import subprocess

    from support.cli import postcli_argv
    from support.terminal import as_a_shell_starts_it

    where = [] if home is None else ["--home", str(home)]
    return subprocess.Popen(
        [*postcli_argv(), "demo", *where, "--days", days],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        preexec_fn=as_a_shell_starts_it,  # a SIGINT interrupts it even when the tests run in the background
    )


def _one_clear_error(stderr: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines[0].startswith("error: ") and all(line.startswith(("error: ", "hint: ")) for line in lines), stderr
    assert "Traceback" not in stderr and "bug" not in stderr


def test_a_second_demo_in_the_same_home_is_told_another_demo_is_filling_it(tmp_path):
    """Demo A is stopped (SIGSTOP) in the middle of filling its home; demo B in the same home
    gets one clear message, exit 4, and touches nothing; A, let go, finishes with its store whole."""
    import json
    import signal

    from support.cli import wait_until

    d = tmp_path / "shared"
    first = _start_demo(d)
    try:
        # A holds the home and is filling its store.
        wait_until(first, (d / "postcli.db").exists, timeout=120, every=0.01)
        first.send_signal(signal.SIGSTOP)
        before = sorted(p.name for p in d.iterdir())
        second = run_postcli("demo", "--home", str(d), "--days", "1", timeout=120)
        assert second.returncode == 4, (second.returncode, second.stderr)
        assert f"another `postcli demo` is filling {d} right now" in second.stderr
        _one_clear_error(second.stderr)
        assert sorted(p.name for p in d.iterdir()) == before
    finally:
        first.send_signal(signal.SIGCONT)
    out, err = first.communicate(timeout=180)
    assert first.returncode == 0, err
    assert not (d / ".postcli-demo.lock").exists()
    posts = run_postcli("post", "list", "--json", env={"POSTCLI_HOME": str(d)})
    assert posts.returncode == 0 and json.loads(posts.stdout)["total"] > 0
    again = run_postcli("demo", "--home", str(d))
    assert again.returncode == 2 and "not empty" in again.stderr  # done: a full home, not a busy one


def test_two_demos_started_together_in_one_home_end_as_one_store_and_one_clear_refusal(tmp_path):
    """Whatever the interleaving: one demo fills the home, the other is refused in one line
    (exit 4 while the first runs, exit 2 once it is done), never a half-shared store."""
    import json

    d = tmp_path / "raced"
    demos = [_start_demo(d, "2") for _ in range(2)]
    results = [(p.returncode, out, err) for p in demos for out, err in [p.communicate(timeout=240)]]
    codes = sorted(code for code, _out, _err in results)
    assert codes in ([0, 2], [0, 4]), results
    (refused,) = [err for code, _out, err in results if code != 0]
    _one_clear_error(refused)
    (done,) = [out for code, out, _err in results if code == 0]
    posts = run_postcli("post", "list", "--json", "--limit", "100", env={"POSTCLI_HOME": str(d)})
    assert f"({json.loads(posts.stdout)['total']} posts," in done  # the store holds one demo's posts


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


def test_the_demo_on_a_terminal_finishes_with_its_spinner_and_steps(tmp_path):
    """On a terminal the demo shows a spinner while it simulates, with each step printed above it.
    Until session 10 it never ended there: the spinner's Live swapped sys.stderr for a proxy that
    prints through the console whose stream writes to sys.stderr, which looped forever; every test
    ran it piped."""
    import os

    from support.cli import postcli_argv
    from support.terminal import run_on_terminal

    argv = postcli_argv()
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE")}
    env["TERM"] = "xterm-256color"
    keep = tmp_path / "demo-home"
    code, seen = run_on_terminal([*argv, "demo", "--home", str(keep), "--days", "3"], columns=100, env=env)
    text = seen.decode(errors="replace")
    assert code == 0, text[-3000:]
    assert "simulating 3 days" in text and "· connected 4 accounts" in text  # the spinner, a step above it
    assert "Open the HTML report in a browser" in text and (keep / "report.html").exists()


def test_a_demo_cut_short_leaves_no_half_store_and_the_next_one_runs(tmp_path):
    """Ctrl-C while the demo fills its home: exit 130, and the home is as it was (an empty
    directory the user gave stays, empty; one the demo made is gone), so `postcli demo --home`
    runs again instead of refusing a half-filled store as "not empty"."""
    import signal

    from support.cli import wait_until

    given = tmp_path / "given"
    given.mkdir()
    for d, existed in ((given, True), (tmp_path / "made" / "here", False)):
        demo = _start_demo(d, "120")
        wait_until(demo, (d / "postcli.db").exists, timeout=120, every=0.01)  # filling its store
        demo.send_signal(signal.SIGINT)
        _out, err = demo.communicate(timeout=120)
        assert demo.returncode == 130, err
        assert err.splitlines()[-1] == "error: interrupted." and "Traceback" not in err, err  # after its "· " steps
        if existed:
            assert d.is_dir() and list(d.iterdir()) == []
        else:
            assert not d.exists() and (tmp_path / "made").is_dir()  # only what the demo made
        again = run_postcli("demo", "--home", str(d), "--days", "1", timeout=180)
        assert again.returncode == 0, again.stderr
        assert (d / "postcli.db").exists()


def test_a_default_demo_cut_short_removes_its_temporary_home(tmp_path):
    import signal

    from support.cli import wait_until

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    demo = _start_demo(None, "120", env={"TMPDIR": str(tmp)})
    wait_until(demo, lambda: any(tmp.glob("postcli-demo-*/postcli.db")), timeout=120, every=0.01)
    demo.send_signal(signal.SIGINT)
    _out, err = demo.communicate(timeout=120)
    assert demo.returncode == 130 and err.splitlines()[-1] == "error: interrupted.", err
    assert list(tmp.iterdir()) == []
