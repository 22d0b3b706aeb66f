import json

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs

from segml.cluster import Segmenter, bootstrap_stability, jaccard_per_cluster
from segml.errors import ConfigError


def test_jaccard_hand_example():
    # ref 0 = {0,1}, ref 1 = {2,3}; other 5 = {0,1,2}, 6 = {3}
    # J(0,5) = 2/3, J(1,5) = 1/4, J(1,6) = 1/2
    j = jaccard_per_cluster([0, 0, 1, 1], [5, 5, 5, 6])
    assert j.to_dict() == {0: pytest.approx(2 / 3), 1: 0.5}


def test_jaccard_shape_error():
    with pytest.raises(ConfigError, match=r"same shape; got \(2,\) and \(3,\)"):
        jaccard_per_cluster([0, 1], [0, 1, 1])


def test_well_separated_blobs_are_perfectly_stable():
    X, _ = make_blobs(900, 2, centers=[[0, 0], [20, 0], [0, 20]], random_state=0)
    est = Segmenter(n_clusters=3, random_state=0)
    r = bootstrap_stability(est, X, n_resamples=4, random_state=0)
    np.testing.assert_array_equal(r.ari, np.ones(4))
    assert r.jaccard.tolist() == [1.0, 1.0, 1.0]
    assert not hasattr(est, "labels_")  # the caller's estimator is not fitted
    json.dumps(r.to_dict())


def test_too_many_clusters_is_less_stable_and_result_independent_of_n_jobs():
    X, _ = make_blobs(600, 2, centers=3, cluster_std=1.0, random_state=1)
    kw = dict(n_resamples=6, method="bootstrap", random_state=5)
    r1 = bootstrap_stability(KMeans(8, n_init=1), X, **kw)
    r2 = bootstrap_stability(KMeans(8, n_init=1), X, n_jobs=2, **kw)
    np.testing.assert_array_equal(r1.ari, r2.ari)
    assert r1.ari_mean < 0.95
    assert r1.method == "bootstrap" and r1.sample_fraction == 1.0


def test_max_rows_caps_the_base():
    X, _ = make_blobs(3000, 2, centers=2, random_state=0)
    r = bootstrap_stability(KMeans(2, n_init=1), X, n_resamples=2, max_rows=500, random_state=0)
    assert r.n_base_rows == 500


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "jackknife"}, r"method='jackknife' is not one of \('subsample', 'bootstrap'\)"),
        ({"n_resamples": 0}, r"n_resamples=0 should be >= 1"),
        ({"sample_fraction": 0.0}, r"sample_fraction=0\.0 should be in \(0, 1\]"),
        ({"reference_labels": [0, 1]}, r"reference_labels should have shape \(10,\); got \(2,\)"),
    ],
)
def test_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        bootstrap_stability(KMeans(2), np.arange(20.0).reshape(10, 2), **kwargs)
