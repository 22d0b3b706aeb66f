"""The copula-null prototype of issue 15 (bench/gap_copula.py): its reference and its rule."""


import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr

from .bench_loader import load_bench


@pytest.fixture(scope="module")
def bench():
    return load_bench("gap_copula")


def test_copula_reference_keeps_marginals_and_rank_correlation(bench):
    rng = np.random.RandomState(0)
    X = np.exp(rng.multivariate_normal([0, 0, 0], [[1, .8, 0], [.8, 1, 0], [0, 0, 1]], 2000))
    X = np.column_stack([X, (rng.uniform(size=2000) < 0.2).astype(float), np.ones(2000)])
    R, R2 = list(bench.copula_reference(X, np.random.RandomState(1), 2))
    assert not np.array_equal(R, R2)
    # every column is a permutation of the data's column, constant columns included
    np.testing.assert_array_equal(np.sort(R, axis=0), np.sort(X, axis=0))
    # the rank correlation of the continuous columns is reproduced (sampling error ~0.02)
    assert spearmanr(R[:, 0], R[:, 1])[0] == pytest.approx(spearmanr(X[:, 0], X[:, 1])[0],
                                                           abs=0.05)
    assert abs(spearmanr(R[:, 0], R[:, 2])[0]) < 0.06


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.integers(20, 200), st.integers(1, 4))
def test_copula_reference_has_the_data_total_sum_of_squares(bench, seed, n, p):
    X = np.random.RandomState(seed).gamma(0.5, size=(n, p))
    (R,) = bench.copula_reference(X, np.random.RandomState(seed + 1))
    np.testing.assert_allclose(((R - R.mean(0)) ** 2).sum(), ((X - X.mean(0)) ** 2).sum(),
                               rtol=1e-10)


def test_copula_rule_on_hand_made_curves(bench):
    idx = pd.Index(range(1, 6), name="k")
    s = pd.Series([0.0, 0.01, 0.01, 0.01, 0.01], index=idx)
    # z = Phi^-1(1 - 0.05 / 4) = 2.241: k=2 (0.01) has no signal; 3-5 do; 5 is not reproducible
    gap = pd.DataFrame({"gap": [0.0, 0.01, 0.20, 0.205, 0.30], "gap_s": s})
    r = bench.copula_rule(gap, [1, 2, 3, 4])
    assert r["z"] == pytest.approx(2.2414, abs=1e-4)
    assert (r["signal"], r["supported"], r["best"], r["k"]) == ([3, 4, 5], [3, 4], 4, 3)
    # nothing above z s: no clear segments, even with every k reproducible
    flat = pd.DataFrame({"gap": [0.0, 0.01, 0.02, 0.01, 0.0], "gap_s": s})
    r = bench.copula_rule(flat, [1, 2, 3, 4, 5])
    assert (r["k"], r["verdict"], r["supported"]) == (1, "no clear segments", [])
