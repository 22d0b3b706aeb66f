"""The point-mass-preserving null references of issue 15 (bench/null_reference.py).

The references move the data's values between rows (within a group); they compute none, so
"column j is a permutation of the data's column j" is checked exactly on integer-valued data.
"""


import numpy as np
import pandas as pd
import pytest

from .bench_loader import load_bench


@pytest.fixture(scope="module")
def bench():
    return load_bench("null_reference")


# 10 rows. col 0: 0 in 6 rows (a point mass at 5%); col 1: all distinct (none);
# col 2: 7 in rows 0-3 and 8 (5 rows) -> a point mass; rows' patterns (col 0, col 2 at mode):
# rows 0-3 (T, T), rows 4-5 (T, F), row 8 (F, T), rows 6, 7, 9 (F, F)
TEN = np.array([[0, 10, 7], [0, 11, 7], [0, 12, 7], [0, 13, 7], [0, 14, 1],
                [0, 15, 2], [3, 16, 3], [4, 17, 4], [5, 18, 7], [6, 19, 5]], dtype=float)


def test_point_mass_values_of_a_ten_row_frame(bench):
    assert bench.point_mass_values(TEN) == {0: 0.0, 1: 10.0, 2: 7.0}  # 1 row of 10 >= 5%
    assert bench.point_mass_values(TEN, min_share=0.2) == {0: 0.0, 2: 7.0}
    assert bench.point_mass_values(TEN, min_share=0.6) == {0: 0.0}
    # tied modes: the smallest value
    assert bench.point_mass_values([[2.0], [2.0], [1.0], [1.0], [3.0]], min_share=0.4) == {0: 1.0}


def test_pattern_groups_label_patterns_and_pool_small_ones(bench):
    # sorted patterns (col 0, col 2 at mode): (F, F) 3 rows, (F, T) 1, (T, F) 2, (T, T) 4
    got = bench.pattern_groups(TEN, min_share=0.2, min_group_size=2)
    assert got.tolist() == [2, 2, 2, 2, 1, 1, 0, 0, -1, 0]
    assert bench.pattern_groups(TEN, min_share=0.2, min_group_size=3).tolist() == \
        [1, 1, 1, 1, -1, -1, 0, 0, -1, 0]
    # the default 30 rows: every pattern of the 10-row frame is pooled
    assert bench.pattern_groups(TEN, min_share=0.2).tolist() == [-1] * 10
    # no point-mass column: one group
    assert bench.pattern_groups(np.arange(12.0).reshape(6, 2), min_share=0.5).tolist() == \
        [0] * 6


def test_groups_under_30_rows_are_pooled(bench):
    # 70 rows; col 0 at its mode 0 in rows 0-39, col 1 at its mode 9 in rows 0-34 and 40-44,
    # col 2 distinct (no point mass): patterns (T, T) 35 rows, (T, F) 5, (F, T) 5, (F, F) 25
    col0 = np.r_[np.zeros(40), 100.0 + np.arange(30)]
    col1 = np.r_[np.full(35, 9.0), 200.0 + np.arange(5), np.full(5, 9.0), 300.0 + np.arange(25)]
    X = np.column_stack([col0, col1, np.arange(70.0)])
    labels = bench.pattern_groups(X)
    assert np.bincount(labels + 1).tolist() == [35, 35]  # 25 + 5 + 5 pooled; (T, T) group 0
    assert (labels[:35] == 0).all() and (labels[35:] == -1).all()
    # at 25 rows the (F, F) pattern is a group of its own (sorted first: label 0)
    labels = bench.pattern_groups(X, min_group_size=25)
    assert np.bincount(labels + 1).tolist() == [10, 25, 35]
    assert (labels[45:] == 0).all() and (labels[:35] == 1).all()


def test_depth_two_splits_a_group_by_its_own_point_mass(bench):
    # frequency 0 in 60 rows (the mode); among the other 70, frequency 1 in 40 rows (a point
    # mass found only within that group) and 30 distinct values; col 1 distinct
    freq = np.r_[np.zeros(60), np.ones(40), 2.0 + np.arange(30)]
    X = np.column_stack([freq, np.arange(130.0)])
    assert np.bincount(bench.pattern_groups(X)).tolist() == [70, 60]
    labels = bench.pattern_groups(X, depth=2)
    # group 0 (frequency > 0) split into frequency > 1 (30 rows) and frequency 1 (40 rows)
    assert np.bincount(labels).tolist() == [30, 40, 60]
    assert (labels[:60] == 2).all() and (labels[60:100] == 1).all() and (labels[100:] == 0).all()
    # a sub-pattern under 30 rows joins its group's largest part: no split
    assert np.bincount(bench.pattern_groups(X[:120], depth=2)).tolist() == [60, 60]
    (R,) = bench.hurdle_copula_reference(X, np.random.RandomState(0), depth=2)
    np.testing.assert_array_equal(R[:100, 0], freq[:100])  # the two point masses stay
    for idx in (slice(0, 60), slice(60, 100), slice(100, 130)):
        np.testing.assert_array_equal(np.sort(R[idx], axis=0), np.sort(X[idx], axis=0))


@pytest.mark.parametrize("name", ["hurdle_copula_reference", "group_permutation_reference"])
def test_references_keep_patterns_proportions_and_group_marginals(bench, name):
    make = getattr(bench, name)
    R1, R2 = make(TEN, np.random.RandomState(0), 2, min_share=0.2, min_group_size=2)
    labels = bench.pattern_groups(TEN, min_share=0.2, min_group_size=2)
    for R in (R1, R2):
        assert R.shape == TEN.shape
        for g in np.unique(labels):
            idx = labels == g
            # column j within each group is a permutation of the data's column j there
            np.testing.assert_array_equal(np.sort(R[idx], axis=0), np.sort(TEN[idx], axis=0))
        # grouped rows keep their pattern exactly: same groups, same sizes, same rows
        kept = bench.pattern_groups(R, min_share=0.2, min_group_size=2)
        np.testing.assert_array_equal(kept[labels >= 0], labels[labels >= 0])
        # a column at its point mass throughout a group stays at that value
        np.testing.assert_array_equal(R[:4, [0, 2]], [[0, 7]] * 4)
        np.testing.assert_array_equal(R[4:6, 0], [0, 0])
    assert not np.array_equal(R1, R2)


@pytest.mark.parametrize("name", ["hurdle_copula_reference", "group_permutation_reference"])
def test_pooled_rows_are_one_group(bench, name):
    # default 30 rows: the 10 rows are one pooled group, each column a permutation of the whole
    (R,) = getattr(bench, name)(TEN, np.random.RandomState(3))
    np.testing.assert_array_equal(np.sort(R, axis=0), np.sort(TEN, axis=0))


def test_hurdle_keeps_the_one_time_buyer_sheet(bench):
    # 40 "one-time buyers" (frequency 0, recency = T) and 40 repeat buyers (recency < T)
    rng = np.random.RandomState(0)
    T = rng.uniform(27, 39, 80).round(2)
    freq = np.r_[np.zeros(40), rng.randint(1, 6, 40)]
    rec = np.r_[T[:40], (T[40:] * rng.uniform(0, 1, 40)).round(2)]
    X = np.column_stack([freq, rec, T])
    (R,) = bench.hurdle_copula_reference(X, np.random.RandomState(1))
    # the one-timers' copula has rank correlation 1 between recency and T: the sheet is kept
    np.testing.assert_allclose(R[:40, 1], R[:40, 2], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(R[:40, 0], np.zeros(40))
    assert (R[40:, 0] >= 1).all()
    # the plain copula over all rows does not keep it (the check the hurdle exists for)
    (C,) = bench.gap_copula.copula_reference(X, np.random.RandomState(1))
    assert (np.abs(C[:, 1] - C[:, 2]) < 1e-9).sum() < 40


def test_gap_at_one_is_zero_against_the_references(bench):
    X = np.random.RandomState(0).gamma(0.5, size=(120, 3))
    X[:70, 0] = 0.0
    for ref in (bench.hurdle_copula_reference, bench.group_permutation_reference):
        gap = bench.gap_copula.copula_gap(X, 3, n_references=3, n_init=2, reference=ref,
                                          random_state=0)
        assert gap.loc[1, "gap"] == pytest.approx(0.0, abs=1e-9)
        assert gap.loc[1, "gap_s"] == pytest.approx(0.0, abs=1e-9)


def test_largest_supported_rule_on_a_hand_made_curve(bench):
    idx = pd.Index(range(1, 6), name="k")
    s = pd.Series([0.0, 0.01, 0.01, 0.01, 0.01], index=idx)
    # z = 2.241 (4 k): signal at 3, 4, 5; 5 not reproducible -> supported 3, 4
    gap = pd.DataFrame({"gap": [0.0, 0.01, 0.20, 0.205, 0.30], "gap_s": s})
    r = bench.largest_supported_rule(gap, [1, 2, 3, 4])
    assert (r["supported"], r["k"], r["k_within_1s"], r["verdict"]) == ([3, 4], 4, 3,
                                                                         "segments")
    assert r["z"] == pytest.approx(2.2414, abs=1e-4)
    flat = pd.DataFrame({"gap": [0.0, 0.01, 0.02, 0.01, 0.0], "gap_s": s})
    r = bench.largest_supported_rule(flat, [1, 2, 3, 4, 5])
    assert (r["k"], r["k_within_1s"], r["verdict"]) == (1, 1, "no clear segments")


def test_bad_input_is_refused(bench):
    with pytest.raises(ValueError, match=r"min_share=0 should be in \(0, 1\]"):
        bench.point_mass_values(TEN, min_share=0)
    with pytest.raises(ValueError, match="min_group_size=0 should be an integer >= 1"):
        bench.pattern_groups(TEN, min_group_size=0)
    with pytest.raises(ValueError, match=r"min_group_size=2.5 should be an integer >= 1"):
        bench.pattern_groups(TEN, min_group_size=2.5)
    with pytest.raises(ValueError, match="depth=0 should be an integer >= 1"):
        bench.pattern_groups(TEN, depth=0)
    with pytest.raises(ValueError, match=r"2-D array with at least one row; got shape \(3,\)"):
        next(bench.hurdle_copula_reference([1.0, 2.0, 3.0], np.random.RandomState(0)))
    with pytest.raises(ValueError, match="NaN or infinite"):
        next(bench.group_permutation_reference([[1.0], [np.nan]], np.random.RandomState(0)))
