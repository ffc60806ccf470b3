"""`analytics digest`: the week in a dozen lines, Markdown or HTML."""

from __future__ import annotations

import pytest

from support.builders import CHANGE_PERIOD as PERIOD
from support.builders import SLOTS_PERIOD, Store, run, slots_store, two_periods_store


@pytest.fixture
def two_periods(home):
    return two_periods_store()


@pytest.fixture
def slots(home):
    return slots_store()


def test_markdown_digest(two_periods):
    result = run("digest", *PERIOD)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "**postcli digest 2024-03-01 → 2024-03-05 (UTC)**"
    assert "- Posts published: 5 (+1 vs 4)" in lines  # 4 before: no percentage of so few
    assert "- Engagement: 26 (+11 (+73%) vs 15)" in lines
    followers = next(ln for ln in lines if ln.startswith("- Followers:"))
    assert "bluesky 120 (+20 (+20%))" in followers and "mastodon 50 (new)" in followers
    assert "tumblr —" in followers and "tumblr — (" not in followers  # nothing to compare, no fake change
    top = [ln for ln in lines if ln.startswith("  ")]
    assert len(top) == 3 and top[0].startswith("  1. b now — bluesky, engagement 15 <https://bluesky.example/p/")
    assert len(lines) <= 12


def test_best_slot_line(slots):
    out = run("digest", *SLOTS_PERIOD, "--tz", "UTC").stdout
    assert "- Best slot: Sat 12:00 (UTC): mean engagement 50.00 over 3 posts" in out


def test_hostile_text_stays_text(home, tmp_path):
    s = Store()
    acc = s.account("bluesky", "b")
    (t,) = s.post("[click](https://evil.example) <img src=x onerror=alert(1)> **bold**", "2024-03-02T10:00:00", acc)
    s.snap(t, "2024-03-03T00:00:00", likes=1)
    md = run("digest", *PERIOD).stdout
    assert r"\[click\](https://evil.example) \<img src=x onerror=alert(1)\> \*\*bold\*\*" in md
    out = tmp_path / "week.html"
    result = run("digest", *PERIOD, "--format", "html", "--output", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    html = out.read_text()
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img" not in html
    assert '<a href="https://bluesky.example/p/' in html


def test_bad_format_exits_2(home):
    result = run("digest", "--format", "pdf")
    assert result.exit_code == 2 and "md or html" in result.stderr
