"""k selection that can say "no clear segments" (tracker issue 15).

Null data - one population, no clusters - must get the verdict "no clear segments"; planted,
well-separated blobs must get their k; Mall Customers' income x spending score must get 5.
The settings are smaller than the defaults (fewer references, refits and halvings) to keep
the tests fast; the rule's thresholds are the defaults.

``make_portfolio`` cannot plant a single profile (``n_segments`` >= 2), so the "one planted
profile" null of the issue is not here; the BG/NBD x Gamma-Gamma population stands for a
single transactional population.
"""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.preprocessing import StandardScaler

from segml.cluster import select_k
from segml.cluster.select_k import NO_SEGMENTS, SEGMENTS

FAST = dict(n_stability=5, n_references=5, n_splits=3, sample_silhouette_size=500,
            n_bootstrap=20, progress=False)


def _std(X):
    return StandardScaler().fit_transform(X)


def gaussian_blob(n=1000, seed=0):
    return np.random.RandomState(seed).multivariate_normal([0, 0], [[1, 0.5], [0.5, 1]], n)


def uniform_box(n=1000, seed=0):
    return np.random.RandomState(seed).uniform(size=(n, 5))


def lognormal_rfm(n=1000, seed=0):
    """One skewed RFM-like population: correlated lognormal recency/frequency/monetary."""
    cov = [[1, 0.6, 0.3], [0.6, 1, 0.2], [0.3, 0.2, 1]]
    return _std(np.exp(np.random.RandomState(seed).multivariate_normal([0, 0, 0], cov, n)))


def bgnbd_population(n=1500, seed=0):
    """One BG/NBD x Gamma-Gamma population with CDNOW's parameters (Fader, Hardie & Lee)."""
    from segml.value.bgnbd import BGNBDParams
    from segml.value.gamma_gamma import GammaGammaParams
    from segml.value.simulate import simulate_bgnbd

    rng = np.random.default_rng(seed)
    T = rng.uniform(27, 39, n)
    d = simulate_bgnbd(n, BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426), T,
                       spend=GammaGammaParams(p=6.25, q=3.74, gamma=15.44), random_state=seed)
    mon = d["monetary"].to_numpy().copy()
    one = np.isnan(mon)  # no repeat purchase: one first-purchase value from the same process
    mon[one] = rng.gamma(6.25, 1.0 / rng.gamma(3.74, 1.0 / 15.44, one.sum()))
    return _std(np.column_stack([np.log1p(d["x"]), d["T"] - d["t_x"], np.log(mon), d["T"]]))


@pytest.mark.parametrize("make", [gaussian_blob, uniform_box, lognormal_rfm, bgnbd_population],
                         ids=lambda f: f.__name__)
def test_null_data_has_no_clear_segments(make):
    r = select_k(make(), random_state=0, **FAST)
    assert r.verdict == NO_SEGMENTS, r.rationale
    assert r.recommended["k"] == 1 and r.recommended["params"] is None
    assert r.recommended["k_interval"] == [1, 1]
    assert r.rationale.startswith("No clear segments: ")
    assert r.table["k"].tolist() == list(range(1, 11))
    assert r.table["gap"].notna().all() and r.table["prediction_strength"].notna().all()


@pytest.mark.parametrize(("centers", "k"), [
    ([[0, 0, 0], [10, 0, 0], [0, 10, 0]], 3),
    ([[0, 0], [12, 0], [0, 12], [12, 12], [6, 24]], 5),
])
def test_planted_blobs_get_their_k(centers, k):
    X, y = make_blobs(1000, centers=centers, cluster_std=1.0, random_state=1)
    r = select_k(X, random_state=0, **FAST)
    assert r.verdict == SEGMENTS, r.rationale
    assert r.recommended["k"] == k
    # the largest reproducible k whose segments are all separated (coarser reproducible
    # partitions of separated blobs are separated too)
    assert max(r.recommended["separated"]) == k
    assert r.recommended["k_interval"][1] == k
    assert r.recommended["merged"] == []
    assert r.recommended["params"]["n_clusters"] == k
    assert r.recommended["silhouette_reading"] in ("strong", "reasonable")
    assert r.rationale.startswith(f"Recommended k={k}: the largest reproducible k whose "
                                  "segments are all separated")
    json.dumps(r.to_dict())


def test_mall_customers_income_by_spending_score_has_5_segments(shared_data):
    from segml.io.loaders import load_mall_customers

    ds = load_mall_customers(shared_data / "Mall_Customers.csv")
    income = ds.customers.set_index("customer_id")["income"].loc[ds.features.index]
    X = _std(np.column_stack([income, ds.features["spending_score"]]))
    r = select_k(X, random_state=0, **{**FAST, "n_references": 10, "n_stability": 10})
    assert r.verdict == SEGMENTS, r.rationale
    assert r.recommended["k"] == 5, r.rationale


def test_verdict_and_table_are_reproducible():
    X = lognormal_rfm(400)
    kw = dict(k_range=range(1, 6), random_state=3, **FAST)
    a, b = select_k(X, **kw), select_k(X, **kw)
    timing = ["fit_seconds", "metrics_seconds", "stability_seconds"]
    pd.testing.assert_frame_equal(a.table.drop(columns=timing), b.table.drop(columns=timing))
    assert (a.verdict, a.recommended["k"], a.rationale) == (b.verdict, b.recommended["k"],
                                                            b.rationale)


def test_search_without_k1_flags_the_forced_choice():
    r = select_k(gaussian_blob(600), k_range=range(3, 7), random_state=0, **FAST)
    assert r.verdict == NO_SEGMENTS
    assert r.recommended["unsupported"] is True
    assert 3 <= r.recommended["k"] <= 6
    assert "k=1 was excluded by the search range" in r.rationale
    assert r.table["k"].tolist() == [3, 4, 5, 6]


def test_bic_is_not_a_criterion_with_flag_columns():
    X, _ = make_blobs(600, centers=[[0, 0], [8, 0], [0, 8]], random_state=0)
    flag = (X[:, :1] > 4).astype(float)
    r = select_k(np.hstack([X, flag]), k_range=range(1, 5), algorithms=["kmeans", "gmm"],
                 covariance_types=["diag"], random_state=0, **FAST)
    assert "bic" not in r.picks
    assert not r.table["bic_is_criterion"].any()
    assert "mixture BIC is not used as a criterion: 1 of 3 columns are flags" in \
        r.settings["bic_note"]


def _no_segments_result(k):
    from segml.cluster import SelectKResult

    text = ("No clear segments: no k >= 2 is reproducible. Use a value partition (e.g. the "
            "rfm_groups rule set) or force a k, knowing no criterion supports it.")
    return SelectKResult(table=pd.DataFrame({"k": [1, 2]}), rationale=text,
                         recommended={"verdict": NO_SEGMENTS, "k": k, "algorithm": "kmeans"})


def test_pipeline_stops_on_no_clear_segments_unless_k1_was_left_out():
    from segml.errors import NoClearSegmentsError, SegmlError
    from segml.pipeline.run import no_clear_segments

    seg = {"k_min": 1, "k_max": 10}
    with pytest.raises(NoClearSegmentsError, match=(
            r"segmentation: no clear segments: no k >= 2 is reproducible \(k = 1\.\.10 searched "
            r"on 1,234 customers.*Nothing was fitted.*Fix: act on a value partition.*"
            r"k_min = k_max = K \(segml run --k K, segml fit --k K; Python: segment\(k=K\)\)")):
        no_clear_segments(_no_segments_result(1), 1234, seg)
    assert issubclass(NoClearSegmentsError, SegmlError)
    said = []
    sel = _no_segments_result(3)
    no_clear_segments(sel, 1234, {"k_min": 3, "k_max": 10}, said.append)
    assert said == ["no clear segments: k=3 is fitted only because [segmentation] k_min=3 "
                    "leaves k=1 out; no criterion supports it"]
    assert sel.settings["verdict_note"] == said[0]
