"""segml.report: sections in order, every image a decodable PNG, no external URL, escaping."""

from __future__ import annotations

import base64
import io
import logging
import re

import matplotlib.image as mpimg
import numpy as np
import pytest
from report_fixtures import PNG, parse, tiny_run

from segml.errors import OutputExistsError
from segml.projection import segment_colors
from segml.report import SECTIONS, make_figures, render_report, write_report


@pytest.fixture(scope="module")
def figures():
    return make_figures(tiny_run())


@pytest.fixture(scope="module")
def page(figures) -> str:
    return render_report(tiny_run(), figures)


READING_ORDER = ["front", "choice-of-k", "segments", "features", "clusters-vs-rules",
                 "model-card", "data-quality"]


def _decode(src: str) -> bytes:
    assert src.startswith("data:image/png;base64,"), src[:40]
    return base64.b64decode(src.split(",", 1)[1], validate=True)


def test_sections_present_in_reading_order(page):
    doc = parse(page)
    # the sales manager's page first, data quality last; no refresh -> no alerts section
    assert doc.sections == READING_ORDER
    assert [s for s, _ in SECTIONS if s != "alerts-drift"] == doc.sections
    nav = re.findall(r'<a href="#([a-z-]+)">', page)
    assert nav == doc.sections
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")


def test_every_image_is_an_inline_png_that_decodes(page, figures):
    doc = parse(page)
    assert len(doc.imgs) == len(figures) == 8
    for img in doc.imgs:
        data = _decode(img["src"])
        assert data[:8] == PNG
        arr = mpimg.imread(io.BytesIO(data), format="png")
        assert arr.ndim == 3 and arr.shape[0] > 100 and arr.shape[1] > 100
        assert float(arr[..., :3].std()) > 0.01  # not blank
        assert img["alt"]


def test_no_external_url_no_script(page):
    doc = parse(page)
    for url in doc.urls:
        assert url.startswith(("#", "data:")), url
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert "script" not in doc.tags and "link" not in doc.tags and "iframe" not in doc.tags
    assert "@import" not in page and "url(" not in page


def test_text_is_escaped(page):
    # a customer attribute and a data-quality reason with markup are shown as text
    assert "<script>alert(1)</script>" not in page
    doc = parse(page)
    text = "".join(doc.text)
    assert "missing customer_id & <bad>" in text
    assert "loyal & high value" in text


def test_section_contents(page):
    doc = parse(page)
    s = {k: "".join(v) for k, v in doc.by_section.items()}
    assert "transactions" in s["data-quality"] and "negative amount (return)" in s["data-quality"]
    assert "12" in s["data-quality"] and "11" in s["data-quality"]
    assert "monetary" in s["features"] and "region" in s["features"]
    assert "Recommended k=2 (kmeans)" in s["choice-of-k"]
    assert "models fitted on all 8 rows" in s["choice-of-k"]
    assert "precious" in s["front"] and "to win back" in s["front"]  # roles: front table
    assert "value_index >= 1.5" in s["segments"]
    assert "rfm_groups" in s["clusters-vs-rules"] and "champions" in s["clusters-vs-rules"]
    # the real syntax: the model folder is positional (there is no --model option)
    assert "models/tiny" in s["model-card"] and "segml score models/tiny --config " in s[
        "model-card"]
    assert "--model" not in s["model-card"]
    assert "load_model('models/tiny')" in s["model-card"]


def test_segment_swatches_use_segment_colors(page):
    doc = parse(page)
    colors = segment_colors([0, 1])
    # front-page table, segment validation table and profile table: 3 swatches each (the
    # header legend and the model card's saved-segments table repeated the front table)
    assert doc.swatches.count(f"background:{colors[0]}") == 3
    assert doc.swatches.count(f"background:{colors[1]}") == 3
    assert len(doc.swatches) == 6


def test_figures_are_deterministic(figures):
    again = make_figures(tiny_run())
    assert sorted(again) == sorted(figures) == [
        "comparison_rfm_groups", "k_selection", "pareto", "profiles", "projection", "rfm_grid",
        "segment_shares", "silhouette",
    ]
    for key, data in figures.items():
        assert again[key] == data, key


def test_missing_pieces_are_said_in_place():
    bare = tiny_run(quality={}, selection=None, comparisons={}, model_path=None, manifest={},
                    pareto=None, validation=None, profiles=None)
    figs = make_figures(bare)
    assert sorted(figs) == ["projection", "rfm_grid", "segment_shares"]
    doc = parse(render_report(bare, figs))
    s = {k: "".join(v) for k, v in doc.by_section.items()}
    assert "No data-quality report was recorded for this run." in s["data-quality"]
    assert "No k sweep was run" in s["choice-of-k"]
    assert "No rule-set comparison in this run." in s["clusters-vs-rules"]
    assert "The model was not saved in this run" in s["model-card"]
    assert 'Figure "Silhouette per segment" is not available for this run.' in s["segments"]
    assert len(doc.sections) == 7


def test_a_failing_section_or_figure_does_not_sink_the_report(caplog):
    class Broken:
        n_input_rows = 1
        n_output_rows = 1

        def to_frame(self):
            raise RuntimeError("disk on fire")

    run = tiny_run(quality={"transactions": Broken()}, pareto=object())
    with caplog.at_level(logging.WARNING, logger="segml.report"):
        figs = make_figures(run, keys=["pareto", "rfm_grid"])
        text = render_report(run, figs)
    assert list(figs) == ["rfm_grid"]
    assert "figure 'pareto' could not be drawn" in caplog.text
    s = {k: "".join(v) for k, v in parse(text).by_section.items()}
    assert "This section could not be built: RuntimeError: disk on fire" in s["data-quality"]
    assert 'Figure "ABC / Pareto curve" is not available' in s["features"]
    assert "customers in segments" in s["front"]  # the other sections are still there


def test_render_draws_figures_when_not_given():
    run = tiny_run(selection=None, comparisons={}, validation=None, profiles=None, pareto=None)
    doc = parse(render_report(run))
    assert len(doc.imgs) == 3


def test_write_report_atomic_and_refuses_to_overwrite(tmp_path, figures):
    run = tiny_run()
    out = write_report(run, tmp_path / "sub" / "report.html", figures=figures)
    assert out == tmp_path / "sub" / "report.html"
    first = out.read_text(encoding="utf-8")
    assert parse(first).sections[0] == "front"
    with pytest.raises(OutputExistsError, match="already exists; refusing to overwrite"):
        write_report(run, out, figures=figures)
    write_report(tiny_run(run_id="second"), out, overwrite=True, figures=figures)
    assert "second" in out.read_text(encoding="utf-8")
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.html"]  # no temp files


def test_projection_computed_when_run_has_none(figures):
    run = tiny_run(projection=None)
    assert run.projection is None
    figs = make_figures(run, keys=["projection"])
    assert list(figs) == ["projection"]
    assert figs["projection"] == figures["projection"]
    assert np.asarray(run.model_matrix).shape == (8, 3)  # caller's objects untouched


def test_quality_accepts_plain_count_dicts():
    run = tiny_run(quality={"features": {"n_customers": 8, "n_prospects": 1,
                                         "missing": {"age": 2}, "dropped": []}},
                   selection=None, comparisons={}, validation=None, profiles=None,
                   pareto=None)
    doc = parse(render_report(run, {}))
    s = "".join(doc.by_section["data-quality"])
    assert "n_customers8" in s and "n_prospects1" in s and "missing:age2" in s
