"""The step after the k sweep, shared by segml run, the Spark run and the backtest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segml.backtest import ClusterModel
from segml.cluster.choose import fallback_possible, fit_fallback, fit_recommended, sweep
from segml.config import DEFAULTS
from segml.errors import ConfigError
from segml.features import FeatureSpec, make_preprocessor

COLUMNS = ["recency_days", "frequency", "monetary"]
FAST = {"algorithms": ["kmeans"], "k_max": 5, "n_stability": 3, "n_references": 5}


def blobs(n_per: int = 300, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Three well separated customer groups on recency, frequency and monetary."""
    rng = np.random.default_rng(seed)
    centres = np.array([[30.0, 12.0, 900.0], [200.0, 4.0, 300.0], [600.0, 1.0, 50.0]])
    truth = np.repeat(np.arange(3), n_per)
    values = centres[truth] * (1 + 0.05 * rng.standard_normal((len(truth), 3)))
    frame = pd.DataFrame(values, columns=COLUMNS,
                         index=pd.Index([f"c{i}" for i in range(len(truth))], name="customer_id"))
    return frame, truth


def test_backtest_cluster_model_fits_as_the_sweep_did():
    # before the shared step the backtest refitted on all rows in float64 (issue 19)
    frame, truth = blobs()
    seg = {**FAST, "fit_sample_size": 400}
    model = ClusterModel(segmentation=seg, spec=FeatureSpec.default(COLUMNS)).fit(frame)
    assert model.partition_ == "clusters" and model.k_ == 3
    assert model.segmenter_.fit_sample_size == 400
    assert adjusted_rand_score(truth, model.predict(frame)) == pytest.approx(1.0)
    # segment 0 is the most valuable
    assert model.predict(frame).iloc[0] == "0"


def test_fit_recommended_equals_the_backtest_model():
    frame, _ = blobs(seed=1)
    cfg = {**DEFAULTS["segmentation"], **FAST, "random_state": 0, "fit_sample_size": 500}
    pre = make_preprocessor(FeatureSpec.default(COLUMNS), frame)
    sel = sweep(pre.fit_transform(frame), cfg, k_range=range(1, 6))
    assert sel.recommended["k"] == 3
    notes: list[str] = []
    fitted = fit_recommended(cfg, sel, frame, pre, progress=notes.append)
    assert notes == ["fitting kmeans with k=3"]
    model = ClusterModel(segmentation=cfg | {"random_state": 0},
                         spec=FeatureSpec.default(COLUMNS)).fit(frame)
    np.testing.assert_array_equal(fitted.labels_, model.segmenter_.labels_)
    # overrides win over the recommendation's parameters
    assert fit_recommended(cfg, sel, frame, pre, n_init=2).n_init == 2


def test_backtest_sweep_screens_at_every_size_with_the_same_recommendation():
    # below select_k's 50,000-row threshold an unscreened sweep refits every k; the backtest
    # reads only the recommendation, so it screens (issue 19: 100k backtest past 900 s)
    frame, _ = blobs(n_per=150, seed=2)
    seg = {**DEFAULTS["segmentation"], **FAST, "algorithms": ["kmeans", "gmm"],
           "covariance_types": ["diag"], "random_state": 0}
    model = ClusterModel(segmentation=seg, spec=FeatureSpec.default(COLUMNS)).fit(frame)
    full = sweep(make_preprocessor(FeatureSpec.default(COLUMNS), frame).fit_transform(frame),
                 seg, k_range=range(1, 6), screen=False)
    fast = model.selection_
    assert fast.settings["screen"] is True and full.settings["screen"] is False
    assert fast.recommended["k"] == full.recommended["k"] == 3
    assert fast.recommended["algorithm"] == full.recommended["algorithm"]
    # mixture rows only where prediction strength passes
    assert (fast.table["algorithm"] == "gmm").sum() < (full.table["algorithm"] == "gmm").sum()


@pytest.mark.parametrize(("how", "columns", "scorer", "need", "want"), [
    ("value_tiers", ["monetary", "frequency"], None, False, True),
    ("value_tiers", ["frequency"], None, False, False),
    ("rfm_groups", ["r_score", "f_score", "m_score"], None, False, True),
    ("rfm_groups", ["r_score", "f_score", "m_score"], None, True, False),
    ("rfm_groups", ["r_score", "f_score", "m_score"], object(), True, True),
    ("rfm_groups", ["r_score", "f_score"], None, False, False),
    ("stop", ["monetary"], None, False, False),
])
def test_fallback_possible(how, columns, scorer, need, want):
    assert fallback_possible(how, columns, rfm_scorer=scorer, need_scorer=need) is want


def test_fit_fallback_labels_the_partition():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"monetary": rng.lognormal(5, 1, 300), "frequency": rng.poisson(3, 300)})
    seg = {**DEFAULTS["segmentation"], "no_segments": "value_tiers", "random_state": 0}
    sel = sweep(frame.to_numpy(float), {**seg, **FAST}, k_range=range(1, 3))
    notes: list[str] = []
    tiers = fit_fallback(frame, seg, sel, progress=notes.append)
    assert tiers.n_clusters_ == 3
    assert sel.settings["partition"] == "value_tiers"
    assert notes == [sel.settings["verdict_note"]]
    with pytest.raises(ConfigError, match=r"no_segments='stop' has no value partition.*Fix"):
        fit_fallback(frame, {**seg, "no_segments": "stop"}, sel)


def test_backtest_cluster_model_refuses_too_few_customers():
    frame, _ = blobs(n_per=1)  # 3 customers: k_max = 2 < k_min = 3
    with pytest.raises(ConfigError, match=r"only 3 customers, fewer than k_min=3 \+ 1.*"
                                          r"Fix: pass ClusterModel\(k=2\)"):
        ClusterModel(segmentation={**FAST, "k_min": 3},
                     spec=FeatureSpec.default(COLUMNS)).fit(frame)
