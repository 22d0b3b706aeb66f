"""segml.segment / Segmentation: the short API is the pipeline's analysis, not a second one."""

from __future__ import annotations

from html import escape as html_escape

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import segml
from segml.cluster import ProfileResult, SelectKResult, ValidationResult
from segml.errors import ConfigError, OutputExistsError, SchemaError
from segml.rules import ComparisonResult

AS_OF = "2024-12-31"
FAST = {"k_range": (3, 4), "algorithms": ["kmeans"], "n_stability": 2}


@pytest.fixture(scope="module")
def demo() -> tuple[pd.DataFrame, pd.DataFrame]:
    return segml.demo_data(400, random_state=1)


@pytest.fixture(scope="module")
def seg(demo) -> segml.Segmentation:
    tx, customers = demo
    return segml.segment(tx, customers, as_of=AS_OF, random_state=0, **FAST)


def test_results_are_the_documented_types(seg):
    assert isinstance(seg, segml.Segmentation)
    assert isinstance(seg.selection, SelectKResult)
    assert isinstance(seg.validation, ValidationResult)
    assert isinstance(seg.profiles, ProfileResult)
    assert isinstance(seg.compare_rules("abc"), ComparisonResult)
    k = seg.selection.recommended["k"]
    assert sorted(seg.names) == list(range(k))
    assert seg.labels.index.name == "customer_id"
    assert set(seg.labels.unique()) == set(range(k))


def test_repr_says_what_it_holds(seg):
    k, n = len(seg.names), len(seg.labels)
    assert repr(seg) == (f"Segmentation({k} segments (kmeans) of {n:,} customers as of "
                         "2024-12-31; rules compared: rfm_groups, abc, portfolio_roles, "
                         "lifecycle)")


def test_model_assigns_the_training_segments(seg):
    clustered = seg.run.features.frame.loc[seg.labels.index]
    np.testing.assert_array_equal(seg.model.predict(clustered), seg.labels.to_numpy())


def test_summary_and_segments_tables(seg):
    summary = seg.summary()
    assert list(summary.index) == sorted(seg.names)
    assert summary["customers"].sum() == len(seg.labels)
    assert list(summary["segment"]) == [seg.names[i] for i in sorted(seg.names)]
    assert summary["action"].notna().all()  # the playbook's suggested action, per segment
    table = seg.segments().set_index("customer_id")
    assert len(table) == len(seg.run.features.frame)
    np.testing.assert_array_equal(table.loc[seg.labels.index, "segment_id"].to_numpy(),
                                  seg.labels.to_numpy())
    prospects = seg.run.features.frame.index[seg.run.features.frame["is_prospect"]]
    assert len(prospects) > 0
    assert (table.loc[prospects, "segment_id"] == -1).all()
    assert (table.loc[prospects, "segment_name"] == "prospect (not clustered)").all()
    assert {"rfm_groups", "abc", "portfolio_roles", "lifecycle"} <= set(table.columns)


def test_segment_is_the_pipeline_analysis(tmp_path, monkeypatch, demo, seg):
    # segml run on the demo portfolio of the same size and seed gives the same segments:
    # one implementation, and the same input and seed give the same output
    from segml.config import validate_config
    from segml.pipeline import run_pipeline

    monkeypatch.chdir(tmp_path)
    cfg = validate_config({
        "demo": {"n_customers": 400, "random_state": 1, "folder": "data/demo"},
        "features": {"as_of": AS_OF},
        "segmentation": {"k_min": 3, "k_max": 4, "algorithms": ["kmeans"], "n_stability": 2,
                         "random_state": 0},
    })
    run = run_pipeline(cfg)
    pd.testing.assert_series_equal(run.labels, seg.labels)
    assert {int(k): v for k, v in run.profiles.names.items()} == seg.names
    assert sorted(run.comparisons) == sorted(seg.run.comparisons)
    assert run.comparisons["abc"].scores == pytest.approx(seg.compare_rules("abc").scores,
                                                          rel=1e-12)


def test_plot_methods_draw_their_result(seg):
    k = len(seg.names)
    ax = seg.plot_profiles()
    assert ax.images[0].get_array().shape[0] == k
    assert len(seg.plot_silhouette().collections) == k
    assert len(seg.plot_projection().collections) == k + 1  # segments + centroids
    assert len(seg.plot_shares().patches) == 2 * k  # customers + revenue
    assert seg.plot_pareto().lines[0].get_xydata()[-1] == pytest.approx([1.0, 1.0])
    ax = seg.plot_comparison("abc", value="counts")
    assert ax.images[0].get_array().sum() == len(seg.labels)
    fig = Figure()
    assert len(seg.plot_k_selection(fig)) == 6 and len(fig.axes) == 6


def test_compare_rules_names_what_ran(seg):
    with pytest.raises(ConfigError, match=r"no comparison with rule set 'rfm': it was not asked "
                       r"for\. Fix: use one of \['abc', 'lifecycle', 'portfolio_roles', "
                       r"'rfm_groups'\]"):
        seg.compare_rules("rfm")


def test_customers_only_with_fixed_k(demo):
    _, customers = demo
    seg = segml.segment(None, customers, as_of=AS_OF, k=3, algorithms=["kmeans"], n_stability=2,
                        rule_sets=["abc", "rfm_groups"], random_state=0)
    assert seg.selection.recommended["k"] == 3
    assert sorted(seg.names) == [0, 1, 2]
    assert sorted(seg.skipped_rules) == ["abc", "rfm_groups"]  # no transactions: no RFM, ABC
    assert seg.run.comparisons == {}
    with pytest.raises(ConfigError, match=r"rule set 'rfm_groups': it was skipped: the data "
                       r"lacks .*r_score"):
        seg.compare_rules("rfm_groups")
    with pytest.raises(ConfigError, match="has no revenue .* Fix: pass a transactions table"):
        seg.plot_pareto()


def test_save_load_score_round_trip(tmp_path, demo, seg):
    tx, customers = demo
    path = seg.save(tmp_path / "models" / "demo")
    assert path == tmp_path / "models" / "demo" and path.is_symlink()
    model = segml.load_model(path)
    assert model.name == "demo"
    scores = segml.score(model, tx, customers, AS_OF).frame.set_index("customer_id")
    np.testing.assert_array_equal(scores.loc[seg.labels.index, "segment_id"].to_numpy(),
                                  seg.labels.to_numpy())
    with pytest.raises(OutputExistsError, match="demo"):
        seg.save(tmp_path / "models" / "demo")
    assert seg.save(tmp_path / "models" / "demo", overwrite=True).is_symlink()


def test_errors_name_the_argument_and_fix(demo):
    tx, customers = demo
    with pytest.raises(ConfigError, match=r"segment\(\) needs as_of: .* Fix: pass "
                       r"as_of=\"YYYY-MM-DD\""):
        segml.segment(tx, customers, as_of=None)
    with pytest.raises(ConfigError, match="got neither transactions nor customers"):
        segml.segment(None, None, as_of=AS_OF)
    with pytest.raises(ConfigError, match=r"k_min <= segmentation.k_max, got k_min=5, k_max=4"):
        segml.segment(tx, customers, as_of=AS_OF, k_range=(5, 4))
    with pytest.raises(ConfigError, match=r"features.as_of"):
        segml.segment(tx, customers, as_of="31/12/2024")
    with pytest.raises(SchemaError, match="amount"):
        segml.segment(tx.drop(columns="amount"), customers, as_of=AS_OF, **FAST)


def test_report_writes_the_run_report_once(tmp_path, seg):
    out = seg.report(tmp_path / "report.html")
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") or html.lower().startswith("<!doctype html>")
    for name in seg.names.values():
        assert html_escape(name.split(",")[0], quote=False) in html
    with pytest.raises(OutputExistsError, match="report.html"):
        seg.report(tmp_path / "report.html")


def test_save_publishes_nothing_when_the_reload_disagrees(tmp_path, seg, monkeypatch):
    """The model is staged and checked before it is published: a reload that does not give
    back the training segments leaves no model behind (the same path as `segml run`)."""
    wrong = seg.run.labels.copy()
    wrong.iloc[0] = (int(wrong.iloc[0]) + 1) % len(seg.names)
    monkeypatch.setattr(seg.run, "labels", wrong)
    root = tmp_path / "models"
    with pytest.raises(RuntimeError, match="does not reproduce the training labels; nothing "
                                           "was published"):
        seg.save(root / "demo")
    assert not (root / "demo").exists()
    assert not root.exists() or list(root.iterdir()) == []  # no staged leftovers either
