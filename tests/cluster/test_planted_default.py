"""The default k rule on generated portfolios (issue 15): planted segments are found, one planted
profile gets "no clear segments".

The default ``[segmentation]`` settings through the default feature space, k-means rows only (the
mixture rows do not change the k rule's filters, which read the k-means gap, prediction strength
and separation; they halve the time). The seeds and sizes are not those the rule was studied on
(bench/RESULTS.md, "the separation route in select_k": 3,000 and 20,000 customers, seeds 0-5).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from segml.cluster.choose import sweep
from segml.cluster.select_k import NO_SEGMENTS, SEGMENTS
from segml.config import validate_config
from segml.datasets import make_portfolio
from segml.pipeline import LoadedData, build_run_features, model_matrix


def _sweep(n: int, planted: int, seed: int):
    pf = make_portfolio(n, n_segments=planted, random_state=seed)
    cfg = validate_config({"features": {"as_of": pf.as_of.date().isoformat()},
                           "segmentation": {"random_state": seed, "algorithms": ["kmeans"]}})
    data = LoadedData(name="planted", transactions=pf.transactions, customers=pf.customers,
                      truth=pf.truth, default_as_of=pf.as_of)
    X, frame = model_matrix(cfg, build_run_features(cfg, data))
    Z = np.asarray(X, dtype=np.float64)
    truth = pd.factorize(pf.truth.reindex(frame.index))[0]
    return sweep(Z, cfg["segmentation"]), Z, truth


@pytest.mark.parametrize(("planted", "seed"), [(3, 11), (5, 12)])
def test_planted_segments_are_found(planted, seed):
    sel, Z, truth = _sweep(2500, planted, seed)
    assert sel.verdict == SEGMENTS, sel.rationale
    assert sel.recommended["k"] == planted, sel.rationale
    assert max(sel.recommended["separated"]) == planted
    assert sel.table.loc[sel.table["k"] == planted, "separation"].eq("separated").all()
    labels = KMeans(planted, n_init=10, random_state=seed).fit_predict(Z)
    assert adjusted_rand_score(truth, labels) >= 0.9


def test_one_planted_profile_has_no_clear_segments():
    sel, _, _ = _sweep(2500, 1, 13)
    assert sel.verdict == NO_SEGMENTS, sel.rationale
    assert sel.recommended["k"] == 1
    assert sel.recommended["separated"] == []
