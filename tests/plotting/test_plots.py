"""segml.plotting: each plot draws exactly the data of its result object, in segment colours."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from segml import plotting
from segml.cluster.profiles import ProfileResult
from segml.cluster.select_k import SelectKResult
from segml.cluster.validation import ValidationResult
from segml.errors import ConfigError
from segml.features.scores import pareto
from segml.monitoring import DriftReport
from segml.projection import ABC_COLORS, project_2d, rfm_grid, segment_colors, segment_shares


def _hex(c) -> str:
    return to_hex(c, keep_alpha=False)


def _texts(labels) -> list[str]:
    return [t.get_text() for t in labels]


# ----------------------------------------------------------------------------- k selection
@pytest.fixture
def sweep() -> SelectKResult:
    rows = []
    for k, sil, ch, db, inertia, ari in [
        (2, 0.40, 100.0, 1.2, 90.0, 0.95),
        (3, 0.55, 180.0, 0.8, 40.0, 0.97),
        (4, 0.45, 150.0, 0.9, 30.0, 0.80),
    ]:
        rows.append(dict(algorithm="kmeans", covariance_type=None, k=k,
                         silhouette_sqeuclidean_full=sil,
                         silhouette_euclidean_sample=sil - 0.1,
                         silhouette_euclidean_sample_ci_low=sil - 0.15,
                         silhouette_euclidean_sample_ci_high=sil - 0.05,
                         calinski_harabasz=ch, davies_bouldin=db, inertia=inertia,
                         stability_ari_mean=ari, bic=np.nan, aic=np.nan,
                         too_small=k == 4, inertia_knee=k == 3))
    for k, bic in [(2, 500.0), (3, 450.0), (4, 470.0)]:
        rows.append(dict(algorithm="gmm", covariance_type="full", k=k,
                         silhouette_sqeuclidean_full=0.3, silhouette_euclidean_sample=0.2,
                         silhouette_euclidean_sample_ci_low=0.1,
                         silhouette_euclidean_sample_ci_high=0.3,
                         calinski_harabasz=90.0, davies_bouldin=1.5, inertia=100.0 - k,
                         stability_ari_mean=0.5, bic=bic, aic=bic - 20, too_small=False,
                         inertia_knee=False))
    return SelectKResult(table=pd.DataFrame(rows), recommended={"k": 3, "algorithm": "kmeans"},
                         rationale="because")


def test_k_selection_panels_receive_the_table(sweep):
    axes = plotting.plot_k_selection(sweep)
    assert axes.shape == (6,)
    assert all(ax.figure is axes[0].figure for ax in axes)
    sil, ch, db, bic, inertia, stab = axes
    assert sil.get_title() == "Silhouette"
    # kmeans full, kmeans sample, gmm full, gmm sample, recommended line
    assert len(sil.lines) == 5
    np.testing.assert_allclose(sil.lines[0].get_xydata(), [[2, 0.40], [3, 0.55], [4, 0.45]])
    np.testing.assert_allclose(sil.lines[1].get_xydata()[:, 1], [0.30, 0.45, 0.35])
    assert sil.lines[1].get_linestyle() == "--"
    # recommended k line
    assert sil.lines[-1].get_xdata()[0] == 3
    legend = _texts(sil.get_legend().get_texts())
    assert "kmeans sqeuclid (all rows)" in legend and "recommended k=3" in legend
    # too_small marker at k=4 on the first line of the kmeans config
    crosses = [c for c in sil.collections if c.get_offsets().shape == (1, 2)]
    np.testing.assert_allclose(crosses[0].get_offsets(), [[4, 0.45]])
    np.testing.assert_allclose(ch.lines[0].get_xydata()[:, 1], [100, 180, 150])
    np.testing.assert_allclose(db.lines[0].get_xydata()[:, 1], [1.2, 0.8, 0.9])
    # BIC only for gmm: BIC solid, AIC dashed, then the recommended line
    assert len(bic.lines) == 3
    np.testing.assert_allclose(bic.lines[0].get_xydata()[:, 1], [500, 450, 470])
    np.testing.assert_allclose(bic.lines[1].get_xydata()[:, 1], [480, 430, 450])
    assert _texts(bic.get_legend().get_texts())[:2] == ["gmm/full BIC", "gmm/full AIC"]
    knee = [c for c in inertia.collections if "knee" in c.get_label()]
    np.testing.assert_allclose(knee[0].get_offsets(), [[3, 40.0]])
    np.testing.assert_allclose(stab.lines[0].get_xydata()[:, 1], [0.95, 0.97, 0.80])


def test_k_selection_on_given_figure_and_axes(sweep):
    fig = Figure()
    axes = plotting.plot_k_selection(sweep, fig)
    assert axes[0].figure is fig and len(fig.axes) == 6
    fig2 = Figure()
    mine = fig2.subplots(3, 2)
    out = plotting.plot_k_selection(sweep, mine)
    assert list(out) == list(mine.ravel())
    with pytest.raises(ConfigError, match="needs 6 Axes, got 2"):
        plotting.plot_k_selection(sweep, Figure().subplots(1, 2))


def test_k_selection_missing_criterion_says_so(sweep):
    t = sweep.table.drop(columns=["bic", "aic", "stability_ari_mean"])
    axes = plotting.plot_k_selection(SelectKResult(t, {"k": 3}, ""))
    assert [x.get_text() for x in axes[3].texts] == ["not computed"]
    assert [x.get_text() for x in axes[5].texts] == ["not computed"]
    assert len(axes[3].lines) == 0
    with pytest.raises(ConfigError, match="table needs columns 'algorithm' and 'k'"):
        plotting.plot_k_selection(SelectKResult(t.drop(columns="k"), {}, ""))
    with pytest.raises(TypeError, match=r"plot_k_selection takes a segml.cluster.SelectKResult, "
                       r"got builtins.object\. Fix: pass the result of segml.cluster.select_k"):
        plotting.plot_k_selection(object())


# ----------------------------------------------------------------------------- silhouette
def _validation(values, overall=None) -> ValidationResult:
    return ValidationResult(per_segment=pd.DataFrame(), centroid_distances=pd.DataFrame(),
                            overall={} if overall is None else
                            {"silhouette_sqeuclidean_full": overall},
                            silhouette_values=np.asarray(values, dtype=float))


def test_silhouette_plot_sorted_values_per_segment():
    v = _validation([0.5, 0.1, 0.3, -0.2, 0.8, 0.6], overall=0.35)
    ax = plotting.plot_silhouette(v, labels=np.array([0, 0, 0, 1, 1, 1]),
                                  names={0: "loyal", 1: "lapsed"})
    assert len(ax.collections) == 2
    colors = segment_colors([0, 1])
    for coll, seg in zip(ax.collections, [0, 1], strict=True):
        assert _hex(coll.get_facecolor()[0]) == colors[seg]
    # x extents of each polygon are the sorted values of the segment
    xs0 = ax.collections[0].get_paths()[0].vertices[:, 0]
    assert xs0.max() == pytest.approx(0.5) and xs0.min() == pytest.approx(0.0)
    xs1 = ax.collections[1].get_paths()[0].vertices[:, 0]
    assert xs1.min() == pytest.approx(-0.2) and xs1.max() == pytest.approx(0.8)
    assert _texts(ax.get_yticklabels()) == ["0: loyal", "1: lapsed"]
    assert _hex(ax.get_yticklabels()[1].get_color()) == colors[1]
    assert ax.lines[0].get_xdata()[0] == pytest.approx(0.35)
    assert ax.get_title() == "Silhouette per segment"


def test_silhouette_plot_without_names_or_mean_and_errors():
    v = _validation([0.2, 0.4])
    ax = plotting.plot_silhouette(v, labels=[3, 3])
    assert _texts(ax.get_yticklabels()) == ["segment 3"]
    assert [line.get_xdata()[0] for line in ax.lines] == [0]  # only the zero line
    with pytest.raises(ConfigError, match="2 silhouette values but 3 labels. Fix: pass labels="):
        plotting.plot_silhouette(v, labels=[0, 1, 1])
    with pytest.raises(TypeError, match=r"plot_silhouette takes a "
                       r"segml.cluster.ValidationResult, got types.SimpleNamespace\. Fix: pass "
                       r"the result of segml.cluster.validate_segments"):
        plotting.plot_silhouette(SimpleNamespace(silhouette_values=np.zeros(2)), labels=[0, 1])


# ----------------------------------------------------------------------------- profiles
def _profiles(ratio, z, names=("big", "small")) -> ProfileResult:
    lift = pd.DataFrame({
        "segment": [0, 0, 1, 1], "feature": ["monetary", "frequency"] * 2,
        "segment_mean": [1.0] * 4, "base_mean": [1.0] * 4, "ratio": ratio, "z": z,
    })
    return ProfileResult(table=pd.DataFrame(), lift=lift, top_categories=pd.DataFrame(),
                         composition=pd.DataFrame(), names=pd.Series(list(names), index=[0, 1]),
                         roles=pd.Series(["precious", "to reach"], index=[0, 1]),
                         role_reasons=pd.Series(dtype=str), role_rules=[])


def test_profile_heatmap_lift_and_z():
    prof = _profiles([2.0, 1.5, 0.5, 0.8], [1.2, 0.4, -0.9, -0.3])
    ax = plotting.plot_profile_heatmap(prof)
    np.testing.assert_array_equal(ax.images[0].get_array(), [[2.0, 1.5], [0.5, 0.8]])
    assert ax.images[0].norm.vcenter == 1.0
    assert _texts(ax.get_xticklabels()) == ["monetary", "frequency"]
    assert _texts(ax.get_yticklabels()) == ["0: big", "1: small"]
    assert [t.get_text() for t in ax.texts] == ["2.00", "1.50", "0.50", "0.80"]
    assert "lift" in ax.get_title()
    ax = plotting.plot_profile_heatmap(prof, value="zscores", features=["frequency"],
                                       names={0: "A", 1: "B"})
    np.testing.assert_array_equal(ax.images[0].get_array(), [[0.4], [-0.3]])
    assert ax.images[0].norm.vcenter == 0.0
    assert _texts(ax.get_yticklabels()) == ["0: A", "1: B"]
    with pytest.raises(ConfigError, match="value='x' should be 'lift' or 'zscores'"):
        plotting.plot_profile_heatmap(prof, value="x")
    with pytest.raises(ConfigError, match=r"unknown feature\(s\) \['age'\]"):
        plotting.plot_profile_heatmap(prof, features=["age"])


def test_profile_heatmap_refuses_a_bare_table():
    wide = pd.DataFrame({"monetary": [2.0, 0.5]}, index=[0, 1])
    with pytest.raises(TypeError, match=r"plot_profile_heatmap takes a "
                       r"segml.cluster.ProfileResult, got pandas.*DataFrame\. Fix: pass the "
                       r"result of segml.cluster.profile_segments"):
        plotting.plot_profile_heatmap(wide)


# ----------------------------------------------------------------------------- projection
def test_projection_scatter_and_centroids():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [10.0, 0.0], [10.0, 1.0], [5.0, 5.0]])
    p = project_2d(X, [0, 0, 1, 1, 2])
    ax = plotting.plot_projection(p, names={0: "a", 1: "b", 2: "c"})
    assert len(ax.collections) == 4
    colors = segment_colors([0, 1, 2])
    for i in range(3):
        np.testing.assert_allclose(ax.collections[i].get_offsets(),
                                   p.coords.loc[p.coords.segment == i, ["pc1", "pc2"]])
        assert _hex(ax.collections[i].get_facecolor()[0]) == colors[i]
    cent = ax.collections[3]
    np.testing.assert_allclose(cent.get_offsets(), p.centers[["pc1", "pc2"]])
    assert [_hex(c) for c in cent.get_facecolor()] == list(colors.values())
    assert _texts(ax.get_legend().get_texts()) == ["0: a", "1: b", "2: c", "centroids"]
    assert ax.get_xlabel().startswith("PC1 (")


# ----------------------------------------------------------------------------- shares
def test_segment_shares_bars():
    s = segment_shares([0, 1, 1, 1], [10.0, 30.0, 30.0, 30.0], names=["low", "high"])
    ax = plotting.plot_segment_shares(s)
    assert len(ax.patches) == 4
    assert [p.get_height() for p in ax.patches] == pytest.approx([0.25, 0.75, 0.1, 0.9])
    assert [_hex(p.get_facecolor()) for p in ax.patches] == [s.table.color[0],
                                                            s.table.color[1]] * 2
    assert ax.patches[2].get_hatch() == "//"
    assert _texts(ax.get_xticklabels()) == ["0: low", "1: high"]
    assert _texts(ax.get_legend().get_texts()) == ["customers", "revenue"]
    ax = plotting.plot_segment_shares(segment_shares([0, 1, 1]))
    assert len(ax.patches) == 2 and ax.get_title() == "Segment size"


# ----------------------------------------------------------------------------- pareto
def test_pareto_curve_and_abc_bands():
    r = pareto([60.0, 20, 10, 5, 5])
    ax = plotting.plot_pareto(r)
    np.testing.assert_allclose(ax.lines[0].get_xydata(), r.curve.to_numpy())
    np.testing.assert_allclose(ax.lines[1].get_xydata(), [[0, 0], [1, 1]])
    bands = ax.patches[:3]
    assert [_hex(b.get_facecolor()) for b in bands] == [ABC_COLORS[k] for k in "ABC"]
    np.testing.assert_allclose(ax.collections[0].get_offsets(), [[0.2, 0.6]])
    assert "Gini 0.50" in ax.get_title()  # (2*1-6)*5+(4-6)*5+0+2*20+4*60=250; 250/500
    assert "class A" in _texts(ax.get_legend().get_texts())
    with pytest.raises(ConfigError, match="should satisfy 0 < A-cut < B-cut < 1"):
        plotting.plot_pareto(r, abc_cuts=(0.5, 0.2))


# ----------------------------------------------------------------------------- rfm grid
def test_rfm_grid_heatmap():
    g = rfm_grid(pd.DataFrame({"r_score": [5, 5, 1], "f_score": [4, 4, 1],
                               "monetary": [10.0, 30.0, 60.0]}))
    ax = plotting.plot_rfm_grid(g)
    np.testing.assert_array_equal(ax.images[0].get_array(), g.counts.to_numpy())
    assert ax.images[0].origin == "lower"
    assert _texts(ax.get_xticklabels()) == ["1", "2", "3", "4", "5"]
    assert len(ax.texts) == 25 and ax.texts[5 * 4 + 3].get_text() == "2"
    ax = plotting.plot_rfm_grid(g, value="revenue_share")
    assert ax.texts[0].get_text() == "60.0%"
    with pytest.raises(ConfigError, match="value='m' should be 'counts'"):
        plotting.plot_rfm_grid(g, value="m")


# ----------------------------------------------------------------------------- comparison
def test_comparison_heatmap_on_real_result():
    from segml.rules.compare import compare_segmentations

    idx = [f"c{i}" for i in range(20)]
    a = pd.Series([0] * 10 + [1] * 10, index=idx)
    b = pd.Series(["champions"] * 8 + ["hibernating"] * 2 + ["champions"] * 1
                  + ["hibernating"] * 9, index=idx)
    cmp = compare_segmentations(a, b, names=("clusters", "rfm_groups"))
    ax = plotting.plot_comparison(cmp, names={0: "best", 1: "sleepy"})
    np.testing.assert_allclose(ax.images[0].get_array(), [[0.8, 0.2], [0.1, 0.9]])
    assert _texts(ax.get_xticklabels()) == ["champions", "hibernating"]
    assert _texts(ax.get_yticklabels()) == ["0: best", "1: sleepy"]
    assert ax.get_title() == f"Clusters vs rfm_groups (ARI {cmp.scores['ari']:.2f})"
    assert [t.get_text() for t in ax.texts] == ["80%", "20%", "10%", "90%"]
    ax = plotting.plot_comparison(cmp, value="counts", title="T")
    assert ax.get_title() == "T" and [t.get_text() for t in ax.texts] == ["8", "2", "1", "9"]
    # without names the rows are the cluster ids, in their segment colours
    ax = plotting.plot_comparison(cmp, value="col_shares")
    assert _texts(ax.get_yticklabels()) == ["segment 0", "segment 1"]
    assert _hex(ax.get_yticklabels()[1].get_color()) == segment_colors([0, 1])[1]
    with pytest.raises(ConfigError, match=r"value='x' should be one of \['col_shares'"):
        plotting.plot_comparison(cmp, value="x")


def test_comparison_heatmap_takes_only_a_comparison_result():
    counts = pd.DataFrame({"A": [3, 1]}, index=[0, 1])
    cmp = SimpleNamespace(counts=counts, shares=counts / 4, name="abc", scores={})
    with pytest.raises(TypeError, match=r"plot_comparison takes a segml.rules.ComparisonResult, "
                       r"got types.SimpleNamespace\. Fix: pass the result of "
                       r"segml.rules.compare_segmentations"):
        plotting.plot_comparison(cmp, value="shares")


def test_comparison_without_features_has_no_revenue_shares():
    from segml.rules.compare import compare_segmentations

    cmp = compare_segmentations(pd.Series([0, 1]), pd.Series(["a", "b"]))
    assert cmp.revenue_shares is None
    ax = plotting.plot_comparison(cmp, value="shares")
    np.testing.assert_allclose(ax.images[0].get_array(), [[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ConfigError, match=r"value='revenue_shares' is not available: the "
                       r"comparison was made without features"):
        plotting.plot_comparison(cmp, value="revenue_shares")


# ----------------------------------------------------------------------------- drift
def _drift(psi: dict, train=(0.6, 0.4), new=(0.5, 0.5)) -> DriftReport:
    features = pd.DataFrame({"feature": list(psi), "kind": "numeric", "psi": list(psi.values()),
                             "level": "stable"})
    segments = pd.DataFrame({"segment_id": [1, 0], "segment_name": ["low", "high"],
                             "train_share": [train[1], train[0]], "new_share": [new[1], new[0]]})
    return DriftReport(features=features, segments=segments, segment_psi=0.02,
                       no_fit_share=0.01, n_new=10)


def test_drift_bars_coloured_by_threshold():
    d = _drift({"monetary": 0.3, "frequency": 0.15, "age": 0.01})
    ax = plotting.plot_drift(d)
    assert [p.get_width() for p in ax.patches] == pytest.approx([0.3, 0.15, 0.01])
    assert [_hex(p.get_facecolor()) for p in ax.patches] == ["#d73027", "#fdae61", "#1a9850"]
    # first feature on top
    assert ax.patches[0].get_y() > ax.patches[2].get_y()
    assert _texts(ax.get_yticklabels()) == ["monetary", "frequency", "age"]
    assert [line.get_xdata()[0] for line in ax.lines] == [0.1, 0.25]
    with pytest.raises(TypeError, match=r"plot_drift takes a segml.monitoring.DriftReport, got "
                       r"pandas.*Series\. Fix: pass the result of "
                       r"segml.monitoring.drift_report"):
        plotting.plot_drift(pd.Series({"a": 0.2}))


def test_segment_drift_bars():
    ax = plotting.plot_segment_drift(_drift({"a": 0.0}))
    # segments in id order: 0 (train 0.6 -> new 0.5), 1 (0.4 -> 0.5)
    assert [p.get_height() for p in ax.patches] == pytest.approx([0.6, 0.4, 0.5, 0.5])
    colors = segment_colors([0, 1])
    assert [_hex(p.get_facecolor()) for p in ax.patches[2:]] == [colors[0], colors[1]]
    assert _texts(ax.get_xticklabels()) == ["0: high", "1: low"]
    ax = plotting.plot_segment_drift(_drift({"a": 0.0}), names=["x", "y"])
    assert _texts(ax.get_xticklabels()) == ["0: x", "1: y"]
    with pytest.raises(TypeError, match=r"plot_segment_drift takes a "
                       r"segml.monitoring.DriftReport, got pandas.*DataFrame"):
        plotting.plot_segment_drift(pd.DataFrame({"reference": [0.6], "current": [0.5]}))


# ----------------------------------------------------------------------------- contract
def test_plots_use_only_the_given_axes_and_no_pyplot(sweep):
    import sys

    fig = Figure()
    ax = fig.add_subplot()
    out = plotting.plot_pareto(pareto([3.0, 1.0]), ax=ax)
    assert out is ax
    assert "matplotlib.pyplot" not in sys.modules or not sys.modules[
        "matplotlib.pyplot"
    ].get_fignums()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


def test_core_does_not_import_matplotlib():
    import subprocess
    import sys

    code = ("import sys, segml.projection, segml.plotting; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------------------------- real classes
def test_silhouette_plot_on_validation_result():
    from segml.cluster.validation import ValidationResult

    v = ValidationResult(per_segment=pd.DataFrame({"n": [2, 2]}, index=[0, 1]),
                         overall={"silhouette_sqeuclidean_full": 0.25},
                         centroid_distances=pd.DataFrame(),
                         silhouette_values=np.array([0.1, 0.4, -0.1, 0.6]))
    ax = plotting.plot_silhouette(v, labels=np.array([0, 0, 1, 1]))
    assert len(ax.collections) == 2
    assert ax.lines[0].get_xdata()[0] == pytest.approx(0.25)
    with pytest.raises(TypeError, match="missing 1 required keyword-only argument: 'labels'"):
        plotting.plot_silhouette(v)


def test_comparison_rows_named_clusters_keep_their_segment_colour():
    # the pipeline compares *named* clusters with the rules
    idx = [f"c{i}" for i in range(6)]
    a = pd.Series(["lapsed", "lapsed", "loyal", "loyal", "loyal", "new"], index=idx)
    b = pd.Series(["B", "C", "A", "A", "B", "C"], index=idx)
    from segml.rules.compare import compare_segmentations

    cmp = compare_segmentations(a, b, names=("clusters", "abc"))
    names = {0: "loyal", 1: "lapsed", 2: "new"}
    ax = plotting.plot_comparison(cmp, names=names)
    rows = _texts(ax.get_yticklabels())
    colors = segment_colors(names)
    assert [_hex(t.get_color()) for t in ax.get_yticklabels()] == [colors[r] for r in rows]
    # rule segments (columns) are not segments of the model: left in the default colour
    assert {_hex(t.get_color()) for t in ax.get_xticklabels()} == {"#000000"}
    # without the id -> name mapping, names cannot be matched to colours: none is invented
    ax = plotting.plot_comparison(cmp)
    assert {_hex(t.get_color()) for t in ax.get_yticklabels()} == {"#000000"}


# ----------------------------------------------------------------------------- one type each
@pytest.mark.parametrize(("plot", "expected", "how"), [
    ("plot_k_selection", "segml.cluster.SelectKResult", "segml.cluster.select_k"),
    ("plot_profile_heatmap", "segml.cluster.ProfileResult", "segml.cluster.profile_segments"),
    ("plot_projection", "segml.projection.ProjectionResult", "segml.projection.project_2d"),
    ("plot_segment_shares", "segml.projection.SegmentSharesResult",
     "segml.projection.segment_shares"),
    ("plot_pareto", "segml.features.ParetoResult", "segml.features.pareto"),
    ("plot_rfm_grid", "segml.projection.RFMGridResult", "segml.projection.rfm_grid"),
    ("plot_comparison", "segml.rules.ComparisonResult", "segml.rules.compare_segmentations"),
    ("plot_drift", "segml.monitoring.DriftReport", "segml.monitoring.drift_report"),
    ("plot_segment_drift", "segml.monitoring.DriftReport", "segml.monitoring.drift_report"),
])
def test_every_plot_names_the_one_type_it_takes(plot, expected, how):
    # an object carrying every attribute a plot reads is still refused: no duck typing
    lookalike = SimpleNamespace(table=pd.DataFrame({"k": [2]}), lift=pd.DataFrame(),
                                coords=pd.DataFrame(), centers=pd.DataFrame(),
                                curve=pd.DataFrame(), counts=pd.DataFrame(),
                                features=pd.DataFrame(), segments=pd.DataFrame())
    with pytest.raises(TypeError, match=rf"^{plot} takes a {re.escape(expected)}, got "
                       rf"types\.SimpleNamespace\. Fix: pass the result of {re.escape(how)}"):
        getattr(plotting, plot)(lookalike)


def test_plot_silhouette_names_its_type():
    with pytest.raises(TypeError, match=r"^plot_silhouette takes a "
                       r"segml\.cluster\.ValidationResult, got builtins\.dict"):
        plotting.plot_silhouette({"silhouette_values": [0.1]}, labels=[0])


# ----------------------------------------------------------------------------- invariants
@settings(max_examples=10)
@given(labels=st.lists(st.integers(0, 6), min_size=1, max_size=40),
       seed=st.integers(0, 2**16))
def test_shares_bars_draw_every_segment_once_in_its_colour(labels, seed):
    revenue = np.random.default_rng(seed).uniform(1.0, 100.0, len(labels))
    ax = plotting.plot_segment_shares(segment_shares(labels, revenue))
    segs = sorted(set(labels))
    customers, revenues = ax.patches[:len(segs)], ax.patches[len(segs):]
    assert len(revenues) == len(segs)
    assert sum(p.get_height() for p in customers) == pytest.approx(1.0, abs=1e-12)
    assert sum(p.get_height() for p in revenues) == pytest.approx(1.0, abs=1e-12)
    colors = segment_colors(segs)
    assert [_hex(p.get_facecolor()) for p in customers] == [colors[s] for s in segs]
    assert [round(p.get_height() * len(labels)) for p in customers] == [labels.count(s)
                                                                         for s in segs]
