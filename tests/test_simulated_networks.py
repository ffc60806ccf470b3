"""The demo's simulated networks (platforms/simulated/): each reports exactly the counters its
real counterpart reports, and `postcli demo` on 60 days makes reports worth reading."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from postcli.metrics import COUNTERS
from postcli.platforms import registry

SIMULATED = ("sim-bluesky", "sim-mastodon", "sim-instagram", "sim-threads")
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("name", SIMULATED)
def test_each_simulated_network_reports_what_its_real_counterpart_reports(name: str, home: Path) -> None:
    from postcli.platforms.sandbox import set_sandbox_clock
    from postcli.services import accounts as accounts_svc
    from postcli.services.posts import compose, publish

    sim, real = registry.spec(name), registry.spec(name.removeprefix("sim-"))
    assert (sim.metrics, sim.account_metrics) == (real.metrics, real.account_metrics)
    assert sim.simulated and sim.hidden and sim.signin is None and not real.simulated

    set_sandbox_clock(NOW - timedelta(days=2))
    added = accounts_svc.add_account(name, identifier="t", secret=name, base_url=None).account
    media_for = {}
    if name == "sim-instagram":  # no text-only posts, as on Instagram
        from support.media import jpeg

        media_for = {name: [(jpeg(home / "p.jpg"), "alt")]}
    created = compose.create_post("hello", [str(added["id"])], media_for=media_for, now=NOW - timedelta(days=2))
    publish.publish_post(created.post["id"], allowed=("pending",), now=NOW - timedelta(days=2))
    set_sandbox_clock(NOW)
    with accounts_svc.session_scope() as session:
        account = accounts_svc.get_account(session, str(added["id"]))
        adapter = accounts_svc.adapter_for(account)
    post_id = created.post["id"]
    from postcli.services.posts.queries import show_post

    (target,) = show_post(post_id)["targets"]
    (metrics,) = adapter.fetch_post_metrics([target["platform_post_id"]]).values()
    assert metrics is not None
    values = metrics.as_dict()
    assert {k for k, v in values.items() if v is not None} == set(real.metrics)
    assert all(isinstance(values[k], int) and values[k] >= 0 for k in real.metrics) and values["likes"] > 0
    assert set(COUNTERS) - set(real.metrics) == {k for k, v in values.items() if v is None}
    account_values = {k: v for k, v in vars(adapter.fetch_account_metrics()).items() if k != "raw"}
    assert {k for k, v in account_values.items() if v is not None} == set(real.account_metrics)


def _demo(root: Path, seed: int = 1, days: int = 60) -> None:
    from postcli.services.demo import demo_home, run

    with demo_home(root):
        run(days=days, seed=seed, now=NOW)


def _report(root: Path, *args: str) -> dict:  # type: ignore[type-arg]
    from support.cli import run_postcli

    r = run_postcli("analytics", *args, "--json", env={"POSTCLI_HOME": str(root)})
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def sixty_days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo60") / "home"
    _demo(root)
    return root


def test_sixty_days_give_a_real_previous_period_and_every_network(sixty_days: Path) -> None:
    over = _report(sixty_days, "overview", "--since", "2026-10-31", "--until", "2026-11-30")
    assert over["simulated"] is True
    assert over["change"]["posts_published"]["previous"] >= 20  # a real previous period, not one post
    assert {p["platform"] for p in over["platforms"]} == set(SIMULATED)


def test_best_times_rest_on_enough_posts_and_legends_are_whole_numbers(sixty_days: Path) -> None:
    from support.cli import run_postcli

    best = _report(sixty_days, "best-times", "--since", "2026-09-01", "--until", "2026-11-30")
    assert len(best["ranked"]) >= 5 and all(s["reported_posts"] >= best["min_posts"] for s in best["ranked"])
    text = run_postcli(
        "analytics", "heatmap", "--since", "2026-10-31", "--until", "2026-11-30", env={"POSTCLI_HOME": str(sixty_days)}
    ).stdout
    legend = [line for line in text.splitlines() if "no posts" in line]
    assert (
        legend
        and re.findall(r"≤([\d,.]+)", legend[0])
        and all("." not in v for v in re.findall(r"≤([\d,.]+)", legend[0]))
    )


def test_the_demo_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    one, two, other = tmp_path / "one", tmp_path / "two", tmp_path / "other"
    _demo(one, seed=7, days=10)
    _demo(two, seed=7, days=10)
    _demo(other, seed=8, days=10)
    args = ("top", "--since", "2026-11-01", "--until", "2026-11-30", "--limit", "20")

    def numbers(root: Path) -> list[tuple[object, ...]]:
        return [(p["text"], p["platform"], p["likes"], p["reach"]) for p in _report(root, *args)["posts"]]

    assert numbers(one) == numbers(two)
    assert numbers(one) != numbers(other)
