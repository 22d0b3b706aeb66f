"""The report of a real (small) run on the demo portfolio, parsed and rendered in a browser."""

from __future__ import annotations

import base64
import dataclasses
import io
import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from report_fixtures import EXTREME_NAMES, PNG, extreme_front, parse

from segml._atomic import write_bytes
from segml.refresh import RefreshResult
from segml.report import make_figures, write_report
from segml.report.browser import check_layout, find_browser, screenshot

REPO = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT = 1280, 900


@pytest.fixture(scope="module")
def demo_report(demo_run, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    return write_report(demo_run, path)


def test_demo_report_complete(demo_report, demo_run):
    text = demo_report.read_text(encoding="utf-8")
    doc = parse(text)
    assert doc.sections == ["front", "choice-of-k", "segments", "features",
                            "clusters-vs-rules", "model-card", "data-quality"]
    keys = sorted(make_figures(demo_run, keys=["segment_shares"]))
    assert keys == ["segment_shares"]
    # every figure the run allows is there: 7 + one per rule set
    assert len(doc.imgs) == 7 + len(demo_run.comparisons)
    for img in doc.imgs:
        data = base64.b64decode(img["src"].split(",", 1)[1], validate=True)
        assert data[:8] == PNG
        assert mpimg.imread(io.BytesIO(data), format="png").ndim == 3
    s = {k: "".join(v) for k, v in doc.by_section.items()}
    for name in demo_run.profiles.names:
        assert name in s["segments"]
    for rule_set in demo_run.comparisons:
        assert rule_set in s["clusters-vs-rules"]
    assert "not available" not in text and "could not be built" not in text
    assert "The model was not saved in this run" in s["model-card"]


def _browser() -> str | None:
    return find_browser()


@pytest.mark.browser
def test_report_renders_in_headless_chromium(demo_report, tmp_path):
    browser = _browser()
    if browser is None:
        pytest.skip("no Chromium/Chrome on PATH (CI installs Debian's `chromium` package)")
    shot = tmp_path / "first-screen.png"
    cmd = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
        f"--window-size={WIDTH},{HEIGHT}", "--hide-scrollbars", f"--screenshot={shot}",
        demo_report.resolve().as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert shot.is_file(), f"no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}"
    data = shot.read_bytes()
    assert data[:8] == PNG
    img = mpimg.imread(io.BytesIO(data), format="png")
    assert img.shape[:2] == (HEIGHT, WIDTH)
    rgb = np.asarray(img[..., :3], dtype=np.float64)
    assert rgb.std() > 0.05, "the screenshot is blank"
    # the header band (light grey) and its blue rule are drawn: the page's CSS applied
    assert len(np.unique((rgb * 255).round().reshape(-1, 3), axis=0)) > 50
    if os.environ.get("SEGML_SAVE_SCREENSHOT"):
        write_bytes(REPO / "reports" / "screenshots" / "report-first-screen.png", data,
                    overwrite=True)


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 800])
def test_report_layout_measured_in_the_page(demo_report, width):
    """JavaScript in the rendered page: nothing wider than the viewport, every image loaded,
    numbers on one line, the front page within the first 1,200 px."""
    if _browser() is None:
        pytest.skip("no Chromium/Chrome on PATH (CI installs Debian's `chromium` package)")
    res = check_layout(demo_report, width)
    assert res["viewport_width"] == width
    assert res["page_scroll_width"] <= width, res["overflowing"]
    assert res["n_overflowing"] == 0, res["overflowing"]
    assert res["images"] == 7 + 2 and res["broken_images"] == []
    assert res["numeric_cells"] > 100 and res["n_wrapped_numbers"] == 0, res["wrapped_numbers"]
    assert res["tables"] >= 10
    assert res["front_bottom"] is not None and 200 < res["front_bottom"] <= 1200


@pytest.mark.browser
def test_layout_check_catches_an_overflow(demo_report, tmp_path):
    """The measurement is not vacuous: a fixed-width block and an unloadable image fail it."""
    if _browser() is None:
        pytest.skip("no Chromium/Chrome on PATH (CI installs Debian's `chromium` package)")
    text = demo_report.read_text(encoding="utf-8").replace(
        "<main>", '<main><div style="width:2000px">wide</div><img alt="gone" '
        'src="data:image/png;base64,AAAA"><table><tr><td class="num" style="white-space:'
        'normal;width:1px">418.00 123.00</td></tr></table>', 1)
    bad = tmp_path / "bad.html"
    bad.write_text(text, encoding="utf-8")
    res = check_layout(bad, 800)
    assert res["page_scroll_width"] >= 2000
    assert any('"wide"' in o["element"] for o in res["overflowing"])
    assert res["broken_images"] == ["gone"]
    assert res["n_wrapped_numbers"] == 1


@pytest.fixture(scope="module")
def rich_report(demo_run, tmp_path_factory) -> Path:
    """The demo run as 8 segments with long names, an action each and a refresh (trend and
    alerts): the widest front page h-names' actions may give."""
    labels = pd.Series(np.arange(len(demo_run.labels)) % 8, index=demo_run.labels.index,
                       name="segment")
    names = pd.Series([f"recent frequent multi-channel buyers, North-West {i}"
                       for i in range(8)])
    actions = pd.Series(["Call within two weeks with an offer on the categories they buy; "
                         "invite to the loyalty programme"] * 8)
    profiles = SimpleNamespace(**{**vars(demo_run.profiles), "names": names,
                                  "actions": actions,
                                  "roles": pd.Series(["to win back"] * 8)})
    segments = pd.DataFrame({"segment": list(names), "previous_n": [1] * 8,
                             "current_n": [1] * 8, "previous_share": [0.1] * 8,
                             "current_share": [0.125] * 8})
    alerts = pd.DataFrame({"customer_id": ["C1"], "alert": ["activity_drop"], "value": [1.0],
                           "threshold": [1.0], "message": ["x"], "new": [True]})
    refresh = RefreshResult(
        as_of=pd.Timestamp("2025-03-31"), previous_as_of=pd.Timestamp("2024-12-31"),
        scores=pd.DataFrame(), movers=pd.DataFrame(), migration=pd.DataFrame(),
        segments=segments, segment_psi=0.01, drift=None, alerts=alerts,
        counts={"new_alerts": 1, "alerts_now": 1, "alerts_before": 0, "movers": 0})
    run = dataclasses.replace(demo_run, labels=labels, profiles=profiles)
    figures = make_figures(demo_run, keys=["pareto"])
    path = tmp_path_factory.mktemp("rich") / "report.html"
    return write_report(run, path, figures=figures, refresh=refresh)


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 800])
def test_rich_front_page_fits_the_first_1200_px(rich_report, width):
    if _browser() is None:
        pytest.skip("no Chromium/Chrome on PATH (CI installs Debian's `chromium` package)")
    res = check_layout(rich_report, width)
    assert res["n_overflowing"] == 0 and res["page_scroll_width"] <= width, res["overflowing"]
    assert res["n_wrapped_numbers"] == 0 and res["broken_images"] == []
    assert res["front_bottom"] <= 1200, res["front_bottom"]
    if os.environ.get("SEGML_SAVE_SCREENSHOT"):
        screenshot(rich_report, REPO / "reports" / "screenshots" / f"front-rich-{width}.png",
                   width=width, height=1200)


@pytest.fixture(scope="module")
def extreme_report(demo_run, tmp_path_factory) -> Path:
    """10 segments with the longest names and actions, roles, a value-tier note, prospects,
    a trend, 40 new alerts and drift (``report_fixtures.extreme_front``)."""
    run, refresh = extreme_front(demo_run)
    path = tmp_path_factory.mktemp("extreme") / "report.html"
    return write_report(run, path, figures=make_figures(demo_run, keys=["pareto"]),
                        refresh=refresh)


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 800])
def test_extreme_front_page_fits_the_first_1200_px(extreme_report, width):
    """The front page of the extreme case is one screen: it ends within 1,200 px, its segment
    table fits the page without scrolling sideways, no number wraps, nothing overflows."""
    if _browser() is None:
        pytest.skip("no Chromium/Chrome on PATH (CI installs Debian's `chromium` package)")
    res = check_layout(extreme_report, width)
    assert res["n_overflowing"] == 0 and res["page_scroll_width"] <= width, res["overflowing"]
    assert res["n_wrapped_numbers"] == 0, res["wrapped_numbers"]
    assert res["broken_images"] == []
    assert res["front_table_scrolls"] is False
    assert res["front_bottom"] <= 1200, res["front_bottom"]
    text = extreme_report.read_text(encoding="utf-8")
    for i, name in enumerate(EXTREME_NAMES):  # cut on screen, whole in the title
        assert f'title="{i} · {name}"' in text
    if os.environ.get("SEGML_SAVE_SCREENSHOT"):
        screenshot(extreme_report,
                   REPO / "reports" / "screenshots" / f"front-extreme-{width}.png",
                   width=width, height=1200)
