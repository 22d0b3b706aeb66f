"""Hartigan's dip (segml.cluster.dip) against hand-computed values and the GPL oracle.

``diptest`` (GPL) is a dev-only dependency used here as an oracle, never by segml. Dips are
compared to 1e-12 absolute (a dip lies in [0, 0.25], so this is also ~1e-11 relative at the
smallest dips met here): the two implementations do the same arithmetic in a different order.
"""

import warnings

import diptest
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segml.cluster.dip import (
    DIP_TABLE_N,
    DIP_TABLE_P,
    DIP_TABLE_Q,
    dip_pvalue,
    dip_statistic,
    dip_test,
)
from segml.errors import ConfigError

DIP_TOL = 1e-12


def _oracle(x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # diptest warns that n <= 3 is not valid
        return float(diptest.dipstat(np.asarray(x, dtype=np.float64)))


def _oracle_p(x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(diptest.diptest(np.asarray(x, dtype=np.float64))[1])


def _sample(kind, n, rng):
    if kind == "uniform":
        return rng.uniform(size=n)
    if kind == "normal":
        return rng.normal(size=n)
    if kind == "lognormal":
        return rng.lognormal(sigma=1.5, size=n)
    if kind == "bimodal":
        return np.r_[rng.normal(0, 1, n // 2), rng.normal(3, 1, n - n // 2)]
    if kind == "unequal_mixture":
        m = max(1, n // 5)
        return np.r_[rng.normal(0, 1, n - m), rng.normal(5, 0.5, m)]
    if kind == "poisson_ties":
        return rng.poisson(2.0, size=n).astype(np.float64)
    if kind == "few_levels":
        return rng.integers(0, 4, size=n).astype(np.float64)
    raise AssertionError(kind)


KINDS = ["uniform", "normal", "lognormal", "bimodal", "unequal_mixture", "poisson_ties",
         "few_levels"]


@pytest.mark.parametrize("n", [4, 5, 7, 10, 50, 1000, 20000])
@pytest.mark.parametrize("kind", KINDS)
def test_dip_equals_the_oracle_on_random_samples(kind, n):
    rng = np.random.default_rng([n, KINDS.index(kind)])
    reps = 40 if n <= 50 else (5 if n <= 1000 else 1)
    for _ in range(reps):
        x = _sample(kind, n, rng)
        assert abs(dip_statistic(x) - _oracle(x)) <= DIP_TOL


@pytest.mark.parametrize(
    "x",
    [np.arange(20) * 0.1, np.linspace(0, 1, 37), np.linspace(-3.3, 7.1, 1001),
     np.arange(50) * 0.7 + 1e6, np.repeat(np.arange(5.0), 3),
     np.r_[np.linspace(0, 1, 10), np.linspace(0, 1, 10)]],
)
def test_dip_equals_the_oracle_on_nearly_collinear_grids(x):
    # equally spaced in decimal, not exactly collinear in binary: 1/(2n) in both, not 0
    assert abs(dip_statistic(x) - _oracle(x)) <= DIP_TOL


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(min_value=-1e3, max_value=1e3, allow_nan=False,
                          allow_subnormal=False), min_size=1, max_size=60))
def test_dip_equals_the_oracle_on_any_floats(values):
    assert abs(dip_statistic(values) - _oracle(values)) <= DIP_TOL


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=80))
def test_dip_equals_the_oracle_on_heavy_ties(values):
    assert abs(dip_statistic(values) - _oracle(values)) <= DIP_TOL


def test_dip_on_hand_computed_samples():
    # In counts: the points are (x_(i), i), i = 1..n; G and L are their convex minorant and
    # concave majorant; the dip is D / (2 n), D = the largest of F's upper corner above G
    # (i - G(x_i) + 1) left of the modal interval and of L above F's lower corner
    # (L(x_i) - i + 1) right of it.
    #
    # [0, 1, 3, 4]: G has knots (0,1), (3,3), (4,4); (1,2) lies 2 - (1 + 2/3) = 1/3 above it,
    # so D = 1/3 + 1 = 4/3 and the dip is (4/3) / 8 = 1/6.
    assert dip_statistic([0.0, 1.0, 3.0, 4.0]) == pytest.approx(1 / 6, abs=DIP_TOL)
    # [0, 1, 9, 10]: G has knots (0,1), (9,3), (10,4); G(1) = 1 + 2/9, so D = 2 - 11/9 + 1
    # = 16/9 and the dip is (16/9) / 8 = 2/9.
    assert dip_statistic([0.0, 1.0, 9.0, 10.0]) == pytest.approx(2 / 9, abs=DIP_TOL)
    # [0, 1, 2, 4]: G is the chord (0,1)-(4,4), L has knots (0,1), (2,3), (4,4); the modal
    # interval is [0, 2] (L's knot (2,3) is farthest above G); right of it L meets every
    # point, so D = 0 + 1 and the dip is 1/8: the lone jump of 1/4 at x = 4 costs half of it.
    assert dip_statistic([0.0, 1.0, 2.0, 4.0]) == pytest.approx(1 / 8, abs=DIP_TOL)
    # Two equal point masses: F jumps 1/2 at 0 and at 1; a unimodal G can jump at its mode
    # only, so it must bridge one jump of 1/2 continuously: sup |F - G| >= 1/4 (attained).
    assert dip_statistic([0.0, 0.0, 1.0, 1.0]) == pytest.approx(0.25, abs=DIP_TOL)
    assert dip_statistic([5.0, 5.0, 5.0, 7.0, 7.0, 7.0]) == pytest.approx(0.25, abs=DIP_TOL)
    # Three at 0, one at 1: the mode's atom is free, the jump of 1/4 at 1 costs 1/8.
    assert dip_statistic([0.0, 0.0, 0.0, 1.0]) == pytest.approx(1 / 8, abs=DIP_TOL)
    # [0, 1, 1, 2, 2] (n = 5): atoms of 2/5 at 1 and at 2; one of them is bridged: 1/5.
    assert dip_statistic([0.0, 1.0, 1.0, 2.0, 2.0]) == pytest.approx(0.2, abs=DIP_TOL)


def test_dip_conventions_for_degenerate_samples():
    # the oracle's convention: when the minorant and the majorant coincide (one or two points,
    # a constant, equally spaced points) the dip is 0, not 1/(2n)
    assert dip_statistic([3.0]) == 0.0
    assert dip_statistic([3.0, 1.0]) == 0.0
    # three points are not special: an atom of 2/3 at the mode is free, the jump of 1/3 at 1
    # costs half of it: 1/6
    assert dip_statistic([0.0, 0.0, 1.0]) == pytest.approx(1 / 6, abs=DIP_TOL)
    assert dip_statistic(np.full(50, 2.5)) == 0.0
    assert dip_statistic(np.arange(20.0)) == 0.0
    # order does not matter, and lists and arrays agree
    x = np.random.default_rng(3).normal(size=101)
    assert dip_statistic(x) == dip_statistic(x[::-1].tolist())


def test_dip_grows_with_separation():
    rng = np.random.default_rng(7)
    z = rng.normal(size=500)
    dips = [dip_statistic(np.r_[z[:250], z[250:] + delta]) for delta in (0.0, 2.0, 4.0, 8.0)]
    assert dips == sorted(dips)
    assert dips[-1] > 3 * dips[0]


def test_table_shape_and_order():
    q = np.asarray(DIP_TABLE_Q)
    assert q.shape == (len(DIP_TABLE_N), len(DIP_TABLE_P))
    assert list(DIP_TABLE_N) == sorted(DIP_TABLE_N) and DIP_TABLE_N[0] == 4
    assert DIP_TABLE_P[0] == 0.0 and DIP_TABLE_P[-1] == 1.0
    assert (np.diff(q, axis=1) >= 0).all()
    # the dip of n points is at least 1/(2n) (equally spaced points, probability 0, aside);
    # the table holds 6 significant digits
    assert (q[:, 0] >= (1 - 1e-5) / (2 * np.asarray(DIP_TABLE_N))).all()


@pytest.mark.parametrize("n", [50, 200, 1000])
def test_pvalues_agree_with_the_oracle_table(n):
    # Our table is Monte Carlo (>= 20,000 draws up to n = 1,000: standard error of a tail
    # probability <= 0.0016); the oracle interpolates Hartigan's published table, itself
    # simulated. Agreement within 0.02 absolute covers both and the two interpolations.
    rng = np.random.default_rng(n)
    seen = []
    for shift in (0.0, 1.5, 2.0, 2.5, 3.0, 3.5):
        x = np.r_[rng.normal(0, 1, n // 2), rng.normal(shift, 1, n - n // 2)]
        dip, p = dip_test(x)
        assert dip == pytest.approx(_oracle(x), abs=DIP_TOL)
        assert p == pytest.approx(_oracle_p(x), abs=0.02)
        seen.append(p)
    assert max(seen) > 0.3 and min(seen) < 0.05  # the cases span the interesting range


@pytest.mark.parametrize("n", [4, 9, 25, 50, 75, 200, 1500, 10000, 50000])
def test_pvalue_is_a_decreasing_probability_of_the_dip(n):
    dips = np.linspace(0.0, 0.3, 601)
    p = np.array([dip_pvalue(d, n) for d in dips])
    assert ((p >= 0.0) & (p <= 1.0)).all()
    assert (np.diff(p) <= 1e-15).all()
    assert p[0] == 1.0 and p[-1] == 0.0


def test_pvalue_reads_the_last_row_at_sqrt_n_beyond_the_table():
    n_max = DIP_TABLE_N[-1]
    for d in (0.004, 0.006, 0.008):
        assert dip_pvalue(d, 4 * n_max) == pytest.approx(dip_pvalue(2 * d, n_max), abs=1e-12)


def test_pvalue_at_tabulated_points():
    # at a tabulated n the p-value of the tabulated q-quantile is 1 - q (where the quantiles
    # are distinct, i.e. away from the atom of the smallest dip)
    i = DIP_TABLE_N.index(200)
    for j, prob in enumerate(DIP_TABLE_P[1:-1], start=1):
        assert dip_pvalue(DIP_TABLE_Q[i][j], 200) == pytest.approx(1 - prob, abs=1e-9)
    assert dip_pvalue(0.1, 3) == 1.0  # n <= 3: no evidence either way


def test_dip_test_returns_dip_and_pvalue():
    x = np.r_[np.zeros(30), np.ones(30)]
    dip, p = dip_test(x)
    assert dip == pytest.approx(0.25, abs=DIP_TOL)
    assert p == 0.0
    dip, p = dip_test(np.arange(30.0))
    assert (dip, p) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ([1.0, float("nan"), 2.0], r"1 NaN or infinite value\(s\) out of 3"),
        ([1.0, float("inf")], "NaN or infinite"),
        ([[1.0, 2.0], [3.0, 4.0]], r"1-dimensional sample, got shape \(2, 2\)"),
        ([], "x is empty"),
    ],
)
def test_dip_refuses_bad_samples(bad, match):
    with pytest.raises(ConfigError, match=match):
        dip_statistic(bad)
    with pytest.raises(ConfigError, match=match):
        dip_test(bad)


@pytest.mark.parametrize(
    ("dip", "n", "match"),
    [
        (0.1, 0, r"n=0 should be a positive integer"),
        (0.1, 2.5, r"n=2.5 should be a positive integer"),
        (0.1, True, r"n=True should be a positive integer"),
        (-0.01, 100, r"dip=-0.01 should be a finite number in \[0, 1\]"),
        (float("nan"), 100, r"dip=nan should be"),
        (1.5, 100, r"dip=1.5 should be"),
    ],
)
def test_pvalue_refuses_bad_arguments(dip, n, match):
    with pytest.raises(ConfigError, match=match):
        dip_pvalue(dip, n)
