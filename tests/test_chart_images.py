"""`analytics timeline|growth|heatmap --png FILE / --svg FILE` (render/chart_images.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from support.builders import MARCH, report_store, run, run_json

pytest.importorskip("vl_convert", reason="chart images need the optional vl-convert-python (postcli[charts])")


@pytest.fixture
def store(home):
    return report_store()


def _marks(svg: str, role: str) -> int:
    # vl-convert labels every mark for screen readers: aria-roledescription="bar", "point", "rect mark".
    return svg.count(f'aria-roledescription="{role}"')


def test_timeline_png_and_svg(store, tmp_path):
    png, svg = tmp_path / "t.png", tmp_path / "t.svg"
    result = run("timeline", *MARCH, "--png", str(png), "--svg", str(svg), "--size", "640x300")
    assert result.exit_code == 0, result.stderr
    assert "Engagement gained per day" in result.stdout  # the text report still prints
    assert f"Wrote {png.resolve()} (640x300)." in " ".join(result.stderr.split())
    from PIL import Image

    with Image.open(png) as img:
        assert img.format == "PNG" and img.size == (640, 300)
    text = svg.read_text()
    assert text.startswith("<svg") and 'width="640" height="300"' in text
    days = run_json("timeline", *MARCH)["days"]
    reported = [d for d in days if d["engagement"] is not None]
    assert _marks(text, "bar") == len(reported) == len(days) == 4


def test_timeline_leaves_unreported_days_out(store, tmp_path):
    svg = tmp_path / "m.svg"
    assert run("timeline", *MARCH, "--platform", "mastodon", "--svg", str(svg)).exit_code == 0
    days = run_json("timeline", *MARCH, "--platform", "mastodon")["days"]
    reported = [d for d in days if d["engagement"] is not None]
    assert 0 < len(reported) < len(days)  # Mastodon's data starts on 03-03
    assert _marks(svg.read_text(), "bar") == len(reported)  # NULL days are not drawn as 0


def test_growth_svg_has_a_point_per_reported_day(store, tmp_path):
    svg = tmp_path / "g.svg"
    assert run("growth", *MARCH, "--svg", str(svg)).exit_code == 0
    data = run_json("growth", *MARCH)
    points = sum(1 for a in data["accounts"] for d in a["days"] if d["followers"] is not None)
    assert points and _marks(svg.read_text(), "point") == points


def test_heatmap_svg_has_168_cells(store, tmp_path):
    svg, png = tmp_path / "h.svg", tmp_path / "h.png"
    result = run("heatmap", *MARCH, "--svg", str(svg), "--png", str(png), "--json")
    assert result.exit_code == 0
    assert len(run_json("heatmap", *MARCH)["cells"]) == _marks(svg.read_text(), "rect mark") == 168
    from PIL import Image

    with Image.open(png) as img:
        assert img.size == (900, 400)  # the default --size


@pytest.mark.parametrize("size", ["big", "10x10", "900x", "5000x400", "0x0"])
def test_bad_size_exits_2_and_writes_nothing(store, tmp_path, size):
    png = tmp_path / "x.png"
    result = run("timeline", *MARCH, "--png", str(png), "--size", size)
    assert result.exit_code == 2 and "WIDTHxHEIGHT" in result.stderr
    assert not png.exists()


def test_unwritable_path_exits_2(store, tmp_path):
    result = run("heatmap", *MARCH, "--png", str(tmp_path / "nope" / "h.png"))
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_charting_library_is_loaded_only_when_asked(store):
    code = (
        "import sys\n"
        "from postcli.cli import app\n"
        "for args in (['--help'], ['analytics', 'timeline', '--help'], ['analytics', 'timeline', '--period', '7d']):\n"
        "    try:\n"
        "        app(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('VL=' + str('vl_convert' in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "VL=False" in out.stdout, out.stdout + out.stderr
