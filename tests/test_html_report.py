"""`postcli analytics report --html FILE`, checked in a real headless Chromium (tests/browser.py)."""

from __future__ import annotations

import json
import os
import sys
from datetime import date, timedelta

import pytest

import browser
from support.builders import Store, run, run_json

DAYS = 90
START = date(2024, 1, 1)
PERIOD = ("--since", START.isoformat(), "--until", (START + timedelta(days=DAYS)).isoformat(), "--tz", "Asia/Kolkata")
HOSTILE = (
    '</title><script>console.error("pwned")</script><img src="http://example.invalid/x.png" onerror="alert(1)">'
    '" onmouseover="alert(2) <style>body{display:none}</style> &amp; {{7*7}}'
)


@pytest.fixture
def big(home):
    """Four accounts posting every day for 90 days; Tumblr reports no engagement; hostile text and links."""
    from postcli.store.models import PostTarget

    s = Store()
    accs = {p: s.account(p, f"{p}-me") for p in ("bluesky", "mastodon", "threads")}
    accs["tumblr"] = s.account("tumblr", '<b onclick="x">t</b>')
    hostile_target = None
    for d in range(DAYS):
        day = START + timedelta(days=d)
        for i, (platform, acc) in enumerate(accs.items()):
            text = HOSTILE if (d, i) == (45, 0) else f"post {d} on {platform}"
            (t,) = s.post(text, f"{day}T{(8 + 3 * i + d) % 24:02d}:15:00", acc)
            if platform == "tumblr":
                s.snap(t, f"{day}T23:00:00", views=d)
            else:  # the hostile post is the top post, so the page shows it
                likes = 10_000 if text == HOSTILE else d + i
                s.snap(t, f"{day}T23:00:00", 500 + d, likes=likes, comments=i, shares=d % 3)
            if text == HOSTILE:
                hostile_target = t
            if platform != "tumblr" or d % 7 == 0:  # Tumblr: a follower count once a week only
                s.followers(acc, f"{day}T22:00:00", 500 + d * (i + 1))
    with s.scope() as session:
        session.get(PostTarget, hostile_target).platform_post_url = "javascript:alert(3)"
    return s


def _write(tmp_path, *args: str):
    out = tmp_path / "report.html"
    result = run("report", "--html", str(out), *args)
    assert result.exit_code == 0, result.output + result.stderr
    return out, result


def test_report_in_a_real_browser(big, tmp_path):
    page, result = _write(tmp_path, *PERIOD)
    assert f"Wrote {page}" in " ".join(result.stdout.split())
    html = page.read_text()
    assert len(html.encode()) < 1_000_000  # 90 days, four accounts
    visit = browser.visit(page)
    assert visit.console == []  # no errors, no CSP violations, nothing logged at all
    assert visit.requests == []  # nothing tried to leave the page
    m = browser.marks(visit.dom)

    overview = run_json("overview", *PERIOD)
    timeline = run_json("timeline", *PERIOD)
    growth = run_json("growth", *PERIOD)
    heatmap = run_json("heatmap", *PERIOD)
    assert m.charts["timeline"]["marks"] == len(timeline["days"]) == DAYS
    assert m.charts["platforms"]["marks"] == len(overview["platforms"]) == 4
    assert m.charts["platforms"]["null"] == 1  # Tumblr's engagement: not reported, not a zero bar
    assert m.charts["heatmap"]["marks"] == len(heatmap["cells"]) == 168
    for a in growth["accounts"]:
        reported = sum(1 for d in a["days"] if d["followers"] is not None)
        assert m.charts[f"growth-{a['account_id']}"]["marks"] == reported
    assert reported < DAYS  # the weekly Tumblr counts: gaps are not drawn as points

    from postcli.output import fmt

    assert m.cards == {
        "posts_published": fmt(overview["posts_published"]),
        "total_engagement": fmt(overview["total_engagement"]),
        "followers_total": fmt(overview["followers"]["total"]),
        "best_platform": overview["best_platform"],
    }
    # Hostile post text is shown as text: no element came out of it, and its link was not made a link.
    assert m.tags.get("script") is None and m.tags.get("img") is None and m.tags.get("style") == 1
    assert "&lt;/title&gt;&lt;script&gt;console.error(&quot;pwned&quot;)" in html
    assert all(href.startswith("https://") for href in m.links) and m.links
    assert "&lt;b onclick=" in visit.dom  # the hostile handle, escaped
    # Every chart has its text alternative.
    for chart in m.charts:
        assert f'id="{chart}-title"' in html and f'id="{chart}-desc"' in html


def test_dark_mode_and_screenshot(big, tmp_path):
    page, _ = _write(tmp_path, *PERIOD)
    shot = tmp_path / "dark.png"
    visit = browser.visit(page, screenshot=shot, size=(1000, 1200), dark=True)
    assert visit.console == [] and visit.requests == []
    from PIL import Image

    with Image.open(shot) as img:
        assert img.size == (1000, 1200)
        r, g, b = img.convert("RGB").getpixel((5, 5))
        assert r + g + b < 120  # the dark palette's background, not white


def test_the_harness_catches_requests_and_console_errors(tmp_path):
    """The checks above could fail: a page that loads an image and logs an error is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!doctype html><img src="http://example.invalid/x.png"><script>console.error("boom")</script>')
    visit = browser.visit(bad)
    assert any("example.invalid" in r for r in visit.requests)
    assert any("boom" in c for c in visit.console)


# A stand-in for Debian's Chromium as a fresh machine runs it: /etc/chromium.d/apikeys gives it Google API
# keys and it opens CONNECT www.google.com:443 through the proxy on its own. Here the connection is made
# before the browser even starts, so it happens on every run, whatever the timing.
NOISY_CHROMIUM = """
import os, socket, sys
port = int(next(a for a in sys.argv if a.startswith("--proxy-server=")).rsplit(":", 1)[1])
with socket.create_connection(("127.0.0.1", port)) as s:
    s.sendall(b"CONNECT www.google.com:443 HTTP/1.1\\r\\nHost: www.google.com:443\\r\\n\\r\\n")
    s.recv(4096)
os.execv({real!r}, [{real!r}, *sys.argv[1:]])
"""


def test_the_browsers_own_connections_are_not_the_pages(tmp_path, monkeypatch):
    real = browser.chromium()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "chromium"
    wrapper.write_text(f"#!{sys.executable}\n" + NOISY_CHROMIUM.format(real=real))
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    page = tmp_path / "quiet.html"
    page.write_text("<!doctype html><title>quiet</title><p>nothing to load</p>")
    visit = browser.visit(page)
    assert visit.requests == [] and visit.console == []
    assert "CONNECT www.google.com:443 HTTP/1.1" in visit.proxied  # the browser did connect


def test_simulated_banner_and_null_reasons(home, tmp_path):
    from postcli.services import demo

    demo.run(days=2)
    page, result = _write(tmp_path, "--period", "7d")
    assert "(simulated data)" in result.stdout
    html = page.read_text()
    assert "SIMULATED DATA" in html
    assert 'title="not reported by the platform">—' in html  # the simulated networks report no impressions


def test_empty_store_still_writes_a_page(home, tmp_path):
    page, result = _write(tmp_path)
    assert "No accounts yet" in result.stdout
    html = page.read_text()
    assert "No accounts yet" in html and 'data-chart="heatmap"' in html


@pytest.mark.parametrize(
    ("target", "message"),
    [("missing-dir/report.html", "does not exist"), (".", "is a directory")],
)
def test_bad_output_path_exits_2(home, tmp_path, target, message):
    result = run("report", "--html", str(tmp_path / target))
    assert result.exit_code == 2 and message in result.stderr


def test_html_is_required(home):
    result = run("report")
    assert result.exit_code == 2 and "--html" in result.stderr


def test_report_json_of_the_page_data_is_not_needed_for_help(home):
    out = run("report", "--help").stdout
    assert "--html" in out and "FILE" in out and "--open" in out
    json.dumps({})  # keep the import honest for ruff
