import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

from segml.cluster import cluster_stats, knee_point
from segml.errors import ConfigError


def test_hand_computed():
    s = cluster_stats(np.array([[0.0], [2.0], [10.0], [12.0]]), [0, 0, 1, 1])
    # means 1 and 11; W = 1+1+1+1 = 4; B = 2*25 + 2*25 = 100; CH = 100*(4-2)/(4*(2-1))
    assert s.inertia == 4.0
    assert s.calinski_harabasz == 50.0
    # scatter 1 and 1, centre distance 10 -> DB = 2/10
    assert s.davies_bouldin == pytest.approx(0.2, abs=1e-15)
    np.testing.assert_array_equal(s.sizes, [2, 2])
    np.testing.assert_array_equal(s.means, [[1.0], [11.0]])


def test_equals_sklearn_indices():
    X, y = make_blobs(4000, 5, centers=6, cluster_std=2.0, random_state=0)
    s = cluster_stats(X, y, chunk_size=333)
    assert s.calinski_harabasz == pytest.approx(calinski_harabasz_score(X, y), rel=1e-12)
    assert s.davies_bouldin == pytest.approx(davies_bouldin_score(X, y), rel=1e-12)


def test_label_count_error():
    with pytest.raises(ConfigError, match=r"Number of labels is 1\. Valid values are 2"):
        cluster_stats(np.zeros((3, 1)), [0, 0, 0])


def test_shape_error():
    with pytest.raises(ConfigError, match=r"one label per row; got X \(3, 1\) and labels \(2,\)"):
        cluster_stats(np.zeros((3, 1)), [0, 1])


def test_knee_point_hand_example():
    assert knee_point([1, 2, 3, 4, 5], [100, 30, 20, 15, 12]) == 1
    assert knee_point([1, 2], [5, 1]) is None
    assert knee_point([1, 2, 3], [5, 5, 5]) is None
    assert knee_point([1, 2, 3], [1, 2, 3]) is None  # a straight line has no knee
