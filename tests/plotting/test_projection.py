"""segml.projection: colours, 2-D map, RFM grid, segment shares."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from segml.errors import ConfigError, SchemaError
from segml.projection import (
    ABC_COLORS,
    PALETTE,
    UNASSIGNED_COLOR,
    project_2d,
    rfm_grid,
    segment_colors,
    segment_shares,
)


# ----------------------------------------------------------------------------- colours
def test_colors_by_id_are_palette_positions():
    assert segment_colors([2, 0, 2, 1]) == {0: PALETTE[0], 1: PALETTE[1], 2: PALETTE[2]}
    assert segment_colors(np.array([21]))[21] == PALETTE[1]
    assert segment_colors([-1, 0]) == {-1: UNASSIGNED_COLOR, 0: PALETTE[0]}


def test_colors_same_for_id_subset_and_name_mapping():
    full = segment_colors(range(6))
    assert segment_colors([4, 5]) == {4: full[4], 5: full[5]}
    assert segment_colors({5: "lapsed", 4: "loyal"}) == {"loyal": full[4], "lapsed": full[5]}
    assert segment_colors(pd.Series([3.0, 1.0])) == {1: full[1], 3: full[3]}


def test_colors_abc_fixed_and_names_sorted():
    assert segment_colors(["C", "A", "none"]) == {
        "A": ABC_COLORS["A"], "C": ABC_COLORS["C"], "none": ABC_COLORS["none"]
    }
    assert segment_colors(["zeta", "alpha"]) == {"alpha": PALETTE[0], "zeta": PALETTE[1]}


def test_colors_errors():
    with pytest.raises(ConfigError, match="got no segments"):
        segment_colors([])
    with pytest.raises(ConfigError, match="empty mapping"):
        segment_colors({})
    with pytest.raises(ConfigError, match="non-integer keys"):
        segment_colors({"a": "x"})


@given(st.lists(st.integers(0, 50), min_size=1, max_size=30))
def test_colors_deterministic_and_order_free(ids):
    a = segment_colors(ids)
    b = segment_colors(list(reversed(ids)))
    assert a == b
    assert list(a) == sorted(set(ids))
    assert all(a[i] == PALETTE[i % 20] for i in a)


# ----------------------------------------------------------------------------- project_2d
def test_project_2d_exact_small():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [10.0, 0.0], [10.0, 1.0]])
    p = project_2d(X, [0, 0, 1, 1])
    np.testing.assert_allclose(p.explained_variance_ratio, [100 / 101, 1 / 101])
    # first axis separates the two segments: centroids at -5 and +5 (up to sign)
    np.testing.assert_allclose(np.abs(p.centers["pc1"].to_numpy()), [5.0, 5.0])
    assert np.sign(p.centers["pc1"].iloc[0]) != np.sign(p.centers["pc1"].iloc[1])
    np.testing.assert_allclose(p.centers["pc2"].to_numpy(), [0.0, 0.0], atol=1e-12)
    assert p.coords.shape == (4, 3)
    assert p.n_customers == 4 and p.n_fit == 4
    assert list(p.centers.index) == [0, 1]


def test_project_2d_given_centers_and_series_alignment():
    idx = pd.Index(["c3", "c1", "c2", "c4"], name="customer_id")
    X = pd.DataFrame({"a": [0.0, 0.0, 10.0, 10.0], "b": [0.0, 1.0, 0.0, 1.0]}, index=idx)
    labels = pd.Series([1, 1, 0, 0], index=["c2", "c4", "c3", "c1"])  # other order
    p = project_2d(X, labels, centers=[[0.0, 0.5], [10.0, 0.5]])
    assert list(p.coords["segment"]) == [0, 0, 1, 1]
    assert list(p.coords.index) == ["c3", "c1", "c2", "c4"]
    assert p.feature_names == ["a", "b"]
    assert p.centers.loc[0, "pc1"] == pytest.approx(
        p.coords.loc[["c3", "c1"], "pc1"].mean()
    )


def test_project_2d_sample_is_stratified_and_reproducible():
    X, y = make_blobs(n_samples=3000, centers=4, n_features=5, random_state=1)
    a = project_2d(X, y, sample_size=400, fit_sample_size=1000, random_state=3)
    b = project_2d(X, y, sample_size=400, fit_sample_size=1000, random_state=3)
    pd.testing.assert_frame_equal(a.coords, b.coords)
    assert a.n_fit == 1000
    assert 396 <= len(a.coords) <= 400
    assert set(a.coords["segment"]) == {0, 1, 2, 3}
    # well separated blobs stay separated on the map: nearest projected centroid = segment
    d = ((a.coords[["pc1", "pc2"]].to_numpy()[:, None, :]
          - a.centers.to_numpy()[None, :, :]) ** 2).sum(-1)
    assert adjusted_rand_score(a.coords["segment"], d.argmin(1)) > 0.95


def test_project_2d_one_feature_pads_second_axis():
    p = project_2d(np.array([[0.0], [1.0], [5.0]]), [0, 0, 1])
    np.testing.assert_allclose(p.explained_variance_ratio, [1.0, 0.0])
    np.testing.assert_allclose(p.coords["pc2"], 0.0)


def test_project_2d_errors():
    X = np.zeros((4, 2))
    with pytest.raises(SchemaError, match="has 3 values but the model matrix has 4 rows"):
        project_2d(X, [0, 1, 0])
    with pytest.raises(SchemaError, match="NaN or infinite"):
        project_2d(np.array([[np.nan, 1.0], [0.0, 1.0]]), [0, 1])
    with pytest.raises(SchemaError, match="at least 2 rows"):
        project_2d(np.zeros((1, 2)), [0])
    with pytest.raises(SchemaError, match=r"centers should have shape \(n_segments, 2\)"):
        project_2d(X, [0, 0, 1, 1], centers=np.zeros((2, 3)))
    with pytest.raises(SchemaError, match="integer segment ids"):
        project_2d(X, [0.5, 0, 1, 1])
    with pytest.raises(SchemaError, match="integer segment ids"):
        project_2d(X, ["a", "b", "a", "b"])
    with pytest.raises(ConfigError, match="sample_size=0 should be a positive integer"):
        project_2d(X, [0, 0, 1, 1], sample_size=0)
    with pytest.raises(SchemaError, match="non-numeric columns: \\['s'\\]"):
        project_2d(pd.DataFrame({"a": [1.0, 2.0], "s": ["x", "y"]}), [0, 1])
    s = pd.Series([0, 1], index=["a", "b"])
    with pytest.raises(SchemaError, match="labels lack 1 row"):
        project_2d(pd.DataFrame({"x": [1.0, 2.0], "y": [0.0, 1.0]}, index=["a", "z"]), s)


# ----------------------------------------------------------------------------- rfm_grid
def test_rfm_grid_exact():
    f = pd.DataFrame({
        "r_score": [5, 5, 1, 0, 3],
        "f_score": [4, 4, 1, 0, 5],
        "monetary": [10.0, 30.0, 50.0, 0.0, 10.0],
    })
    g = rfm_grid(f)
    assert g.counts.shape == (5, 5)
    assert list(g.counts.index) == [1, 2, 3, 4, 5]
    assert g.counts.loc[5, 4] == 2 and g.counts.loc[1, 1] == 1 and g.counts.loc[3, 5] == 1
    assert int(g.counts.to_numpy().sum()) == 4
    assert g.revenue.loc[5, 4] == 40.0
    assert g.revenue_share.loc[1, 1] == pytest.approx(0.5)
    assert (g.n_customers, g.n_prospects) == (4, 1)
    assert g.to_dict()["counts"][4][3] == 2


def test_rfm_grid_errors():
    with pytest.raises(SchemaError, match=r"needs columns \['monetary'\]"):
        rfm_grid(pd.DataFrame({"r_score": [1], "f_score": [1]}))
    with pytest.raises(SchemaError, match=r"r_score should be an integer in 0..5; got \[7.0\]"):
        rfm_grid(pd.DataFrame({"r_score": [7], "f_score": [1], "monetary": [1.0]}))
    with pytest.raises(ConfigError, match="n_levels=0 should be a positive integer"):
        rfm_grid(pd.DataFrame({"r_score": [1], "f_score": [1], "monetary": [1.0]}), n_levels=0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.floats(0, 1e4)),
                min_size=1, max_size=40))
def test_rfm_grid_totals(rows):
    f = pd.DataFrame(rows, columns=["r_score", "f_score", "monetary"])
    g = rfm_grid(f)
    scored = (f.r_score > 0) & (f.f_score > 0)
    assert g.counts.to_numpy().sum() == scored.sum() == g.n_customers
    assert g.n_customers + g.n_prospects == len(f)
    assert g.revenue.to_numpy().sum() == pytest.approx(f.monetary[scored].sum())


# ----------------------------------------------------------------------------- shares
def test_segment_shares_exact():
    s = segment_shares(pd.Series([1, 0, 1, 1], index=list("abcd")),
                       pd.Series({"a": 10.0, "b": 30.0, "c": 60.0}),
                       names={0: "low", 1: "high"})
    t = s.table
    assert list(t.index) == [0, 1]
    assert list(t["name"]) == ["low", "high"]
    assert list(t["customers"]) == [1, 3]
    np.testing.assert_allclose(t["customer_share"], [0.25, 0.75])
    np.testing.assert_allclose(t["revenue"], [30.0, 70.0])
    np.testing.assert_allclose(t["revenue_share"], [0.3, 0.7])
    assert list(t["color"]) == [PALETTE[0], PALETTE[1]]
    assert s.total_revenue == 100.0 and s.n_customers == 4


def test_segment_shares_names_no_revenue_and_errors():
    s = segment_shares(["B", "A", "A"])
    assert list(s.table.index) == ["A", "B"]
    assert list(s.table["color"]) == [ABC_COLORS["A"], ABC_COLORS["B"]]
    assert s.table["revenue_share"].isna().all()
    with pytest.raises(SchemaError, match="no labels"):
        segment_shares([])
    with pytest.raises(SchemaError, match="revenue has 1 values but labels has 2"):
        segment_shares([0, 1], [1.0])


def test_tall_matrix_projection_equals_the_full_svd_one():
    # issue 19: n > 10 d fits the PCA on the d x d covariance (svd_solver="covariance_eigh");
    # components, ratios and coordinates equal the full SVD's within 1e-9
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(3)
    X = rng.normal(size=(600, 5)) @ np.diag([5.0, 3.0, 1.0, 0.5, 0.1])
    labels = np.repeat([0, 1, 2], 200)
    p = project_2d(X, labels, sample_size=50)
    ref = PCA(n_components=2, svd_solver="full").fit(X)
    np.testing.assert_allclose(p.components, ref.components_, atol=1e-9)
    np.testing.assert_allclose(p.explained_variance_ratio, ref.explained_variance_ratio_,
                               atol=1e-9)
    shown = p.coords.index.to_numpy()
    np.testing.assert_allclose(p.coords[["pc1", "pc2"]].to_numpy(),
                               ref.transform(X[shown]), atol=1e-9)
