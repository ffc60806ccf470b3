"""A platform from outside postcli: a distribution with one `postcli.platforms` entry point
(tests/plugins/postcli-example), installed for real (pip, no network) into a directory the
subprocess puts on its path, then connected, published to, collected and reported through the
installed `postcli` entry point. A plugin that cannot be imported (tests/plugins/postcli-broken)
is reported by `postcli platforms` and breaks nothing else."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from fakes.loopback import LoopbackServer, RecordedRequest
from support.cli import run_postcli

PLUGINS = Path(__file__).parent / "plugins"


class FakeExample(LoopbackServer):
    """The example platform's JSON API: GET /me, POST /posts, GET /posts?ids=, GET|DELETE /posts/{id}."""

    thread_name = "fake-example"

    def __init__(self) -> None:
        self._stopping = threading.Event()
        self._lock = threading.RLock()
        self.requests: list[RecordedRequest] = []
        self._failures: list[Any] = []
        self._delays: list[Any] = []
        self.posts: dict[str, dict[str, Any]] = {}
        self.token = "tok-example-1234"

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_json(silent=True)
        req = self._remember(
            RecordedRequest(request.method, request.path, request.args.to_dict(flat=False), request.headers, json=body)
        )
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            response = Response(json.dumps({"error": "bad token"}), 401, content_type="application/json")
        elif request.path == "/me":
            response = self._json({"id": "u1", "name": "ex.user", "followers": 42})
        elif request.path == "/posts" and request.method == "POST":
            with self._lock:
                pid = str(len(self.posts) + 1)
                self.posts[pid] = {"id": pid, "text": body["text"], "fields": body["fields"], "likes": 3, "views": 30}
            response = self._json({"id": pid, "url": f"https://example.invalid/p/{pid}"})
        elif request.path == "/posts":
            ids = request.args.get("ids", "").split(",")
            response = self._json({"posts": [self.posts[i] for i in ids if i in self.posts]})
        else:
            response = Response("{}", 404, content_type="application/json")
        req.status = response.status_code
        return response(environ, start_response)

    @staticmethod
    def _json(data: Any) -> Response:
        return Response(json.dumps(data), 200, content_type="application/json")


def _install(name: str, target: Path) -> None:
    """A real installation of the plugin distribution (a wheel built and installed by pip, offline)."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(PLUGINS / name),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=target.parent,
    )


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("plugins") / "site"
    site.mkdir()
    _install("postcli-example", site)
    return site


@pytest.fixture(scope="module")
def broken_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("broken") / "site"
    site.mkdir()
    _install("postcli-broken", site)
    return site


def _env(home: Path, *paths: Path) -> dict[str, str]:
    return {
        "POSTCLI_HOME": str(home),
        "PYTHONPATH": os.pathsep.join(str(p) for p in paths),
    }


def test_a_plugin_platform_is_listed_connected_published_to_and_collected(plugin_path: Path, home: Path) -> None:
    env = _env(home, plugin_path)
    listed = run_postcli("platforms", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    names = {p["name"]: p for p in json.loads(listed.stdout)["platforms"]}
    assert names["example"]["plugin"] is True and names["bluesky"]["plugin"] is False
    one = json.loads(run_postcli("platforms", "example", "--json", env=env).stdout)
    assert one["metrics"]["reported"] == ["views", "likes"] and "impressions" in one["metrics"]["always_null"]
    assert one["publish"]["fields"][0]["key"] == "example.mood"
    helped = run_postcli("accounts", "add", "--help", env=env)
    assert "example" in helped.stdout

    with FakeExample() as fake:
        added = run_postcli(
            "accounts", "add", "example", "--api-base", fake.url, "--token-stdin", "--json", env=env, input=fake.token
        )
        assert added.returncode == 0, added.stderr
        assert json.loads(added.stdout)["handle"] == "ex.user"
        titled = ("--title", "A title")
        for args, said in (
            (("--field", "example.mood=sad", *titled), "calm, loud"),
            (("--field", "example.colour=red", *titled), "example.mood"),
            (("--field", "mood=calm", *titled), "PLATFORM.KEY=VALUE"),
            (("--field", "bluesky.x=1", *titled), "not among the targets"),
            ((), "needs a title"),
            (("--title", "x" * 51), "at most 50"),
            (("--link", "ftp://example.invalid/x", *titled), "http(s) URL"),
        ):
            bad = run_postcli("post", "create", "hi", "--to", "example", *args, env=env)
            assert bad.returncode == 2 and said in bad.stderr, (args, bad.stderr)
        assert not [r for r in fake.requests if r.method == "POST"]
        made = run_postcli(
            "post",
            "create",
            "hello plugin",
            "--to",
            "example",
            "--field",
            "example.mood=LOUD",
            "--title",
            "Hello",
            "--link",
            "https://example.invalid/more",
            "--json",
            env=env,
        )
        assert made.returncode == 0, made.stderr
        post = json.loads(made.stdout)
        assert post["status"] == "completed" and post["targets"][0]["fields"] == {"mood": "loud"}
        assert (post["title"], post["link"]) == ("Hello", "https://example.invalid/more")
        sent = [r.json for r in fake.requests if r.method == "POST"]
        assert [(b["text"], b["title"], b["link"], b["fields"]) for b in sent] == [
            ("hello plugin", "Hello", "https://example.invalid/more", {"mood": "loud"})
        ]
        shown = run_postcli("post", "show", str(post["id"]), env=env)
        assert "mood=loud" in shown.stdout and "Hello" in shown.stdout
        default = run_postcli("post", "create", "second", "--to", "example", "--title", "T", "--json", env=env)
        assert json.loads(default.stdout)["targets"][0]["fields"] == {}
        assert [r.json["fields"] for r in fake.requests if r.method == "POST"][-1] == {"mood": "calm"}
        collected = run_postcli("collect", env=env)
        assert collected.returncode == 0, collected.stderr
        analytics = json.loads(run_postcli("analytics", "post", str(post["id"]), "--json", env=env).stdout)
        assert '"likes": 3' in json.dumps(analytics)


def test_a_broken_plugin_is_reported_and_breaks_nothing_else(broken_path: Path, plugin_path: Path, home: Path) -> None:
    env = _env(home, broken_path, plugin_path)
    listed = run_postcli("platforms", env=env)
    assert listed.returncode == 0
    assert "broken" in listed.stderr and "a_library_that_is_not_installed" in listed.stderr
    assert "example" in listed.stdout
    as_json = json.loads(run_postcli("platforms", "--json", env=env).stdout)
    assert [b["name"] for b in as_json["broken_plugins"]] == ["broken"]
    for args in (
        ("--help",),
        ("post", "list"),
        ("accounts", "add", "--help"),
        ("accounts", "add", "example", "--help"),
    ):
        r = run_postcli(*args, env=env)
        assert r.returncode == 0, (args, r.stderr)
        assert "Traceback" not in r.stderr
    named = run_postcli("accounts", "add", "broken", "--token-stdin", env=env, input="x")
    assert named.returncode == 2 and "could not be loaded" in named.stderr and "Traceback" not in named.stderr
