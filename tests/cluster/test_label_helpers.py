"""The O(n) label encoding and per-cluster sums used by every criterion."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from segml.cluster.metrics import cluster_sums, encode_labels


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=-3, max_value=40), min_size=1, max_size=200))
def test_encode_labels_equals_np_unique(values):
    for dtype in (np.int64, np.int32):
        labels = np.asarray(values, dtype=dtype)
        u, c = encode_labels(labels)
        ru, rc = np.unique(labels, return_inverse=True)
        assert_array_equal(u, ru)
        assert_array_equal(c, rc)
        assert u.dtype == labels.dtype and c.dtype == np.intp


def test_encode_labels_with_gaps_strings_and_huge_values():
    u, c = encode_labels(np.array([5, 2, 5, 9]))
    assert u.tolist() == [2, 5, 9] and c.tolist() == [1, 0, 1, 2]
    u, c = encode_labels(np.array(["b", "a", "b"]))
    assert u.tolist() == ["a", "b"] and c.tolist() == [1, 0, 1]
    u, c = encode_labels(np.array([10**12, 0]))  # too sparse to count: falls back to unique
    assert u.tolist() == [0, 10**12] and c.tolist() == [1, 0]


def test_cluster_sums_by_hand():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
    sums = cluster_sums(X, np.array([1, 0, 1, 1], dtype=np.intp), 3)
    assert_array_equal(sums, [[3.0, 4.0], [13.0, 16.0], [0.0, 0.0]])
