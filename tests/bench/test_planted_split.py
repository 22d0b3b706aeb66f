"""The split finder of issue 15's planted-truth diagnosis (bench/planted_split.py)."""


import numpy as np
import pytest

from .bench_loader import load_bench


@pytest.fixture(scope="module")
def bench():
    return load_bench("planted_split")


def test_splits_names_the_split_segment_and_the_column_between_its_halves(bench):
    # segment "a": 6 rows in cluster 0 and 4 in cluster 1 (40% >= 20%), told apart by column y
    # (mean 2 vs -1: +3.00); segment "b": 9 rows in cluster 2, 1 in cluster 0 (10%): not split
    truth = np.array(["a"] * 10 + ["b"] * 10)
    labels = np.array([0] * 6 + [1] * 4 + [2] * 9 + [0])
    Z = np.zeros((20, 2))
    Z[:6, 1], Z[6:10, 1] = 2.0, -1.0
    Z[:6, 0], Z[6:10, 0] = 0.5, 0.25
    out = bench.splits(Z, ["x", "y"], truth, labels, top=2)
    assert out == ["a 6/4 by y (+3.00), x (+0.25)"]


def test_splits_is_empty_when_every_segment_is_one_cluster(bench):
    truth = np.array(["a"] * 5 + ["b"] * 5)
    labels = np.array([1] * 5 + [0] * 5)
    assert bench.splits(np.ones((10, 1)), ["x"], truth, labels) == []
