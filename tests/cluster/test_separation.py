"""Separation of neighbouring segments by a dip test (segml.cluster.separation) and its use by
the default ``"gap"`` rule (issue 15)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans

from segml.cluster.recommend import NO_SEGMENTS, SEGMENTS, recommend_by_gap
from segml.cluster.separation import (
    POWER_ROWS,
    cell_jitter,
    nearest_pairs,
    separation,
)


def test_nearest_pairs_are_each_centre_with_its_nearest_deduplicated():
    # 0 <-> 1 (distance 1); 2's nearest is 1 (4 < 5); 3's nearest is 2 (distance 10 vs 14)
    centres = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0], [15.0, 0.0]])
    assert nearest_pairs(centres) == [(0, 1), (1, 2), (2, 3)]


def test_cell_jitter_spreads_counts_over_their_cells_and_leaves_flags_and_continuous():
    # column 0: counts 1 (50 rows), 2 (30), 4 (20) -> a point mass with 3 values: spread;
    # column 1: a 0/1 flag (two values) -> kept; column 2: all distinct -> kept
    rng = np.random.default_rng(0)
    counts = np.repeat([1.0, 2.0, 4.0], [50, 30, 20])
    flag = np.tile([0.0, 1.0], 50)
    cont = rng.normal(size=100)
    Z = np.column_stack([counts, flag, cont])
    J = cell_jitter(Z, 0)
    np.testing.assert_array_equal(J[:, 1:], Z[:, 1:])
    # value 1: gap 1 on both sides -> [0.5, 1.5]; 2: left 1, right 2 -> [1.5, 3]; 4: [3, 5]
    for value, lo, hi in ((1.0, 0.5, 1.5), (2.0, 1.5, 3.0), (4.0, 3.0, 5.0)):
        got = J[counts == value, 0]
        assert got.min() >= lo and got.max() <= hi
        assert got.std() > 0
    np.testing.assert_array_equal(Z[:, 0], counts)  # input untouched
    np.testing.assert_array_equal(cell_jitter(Z, 0), J)  # seeded


def test_two_separated_blobs_are_separated():
    rng = np.random.default_rng(1)
    Z = np.r_[rng.normal(0, 1, (600, 3)), rng.normal(0, 1, (600, 3)) + [6.0, 0, 0]]
    labels = np.repeat([0, 1], 600)
    sep = separation(Z, labels)
    assert sep.status == "separated"
    assert len(sep.pairs) == 1 and sep.pairs[0].n == 1200 and sep.pairs[0].p < 0.01


def test_one_gaussian_cut_in_two_is_merged_when_large_and_undecided_when_small():
    rng = np.random.default_rng(2)
    Z = rng.normal(size=(2000, 2))
    labels = KMeans(2, n_init=3, random_state=0).fit_predict(Z)
    big = separation(Z, labels)
    assert big.status == "merged" and big.weakest.n == 2000 >= POWER_ROWS
    assert big.weakest.p >= 0.05
    small = separation(Z[:300], labels[:300])
    assert small.status == "undecided" and small.weakest.n == 300


def test_point_masses_of_a_count_are_not_modes_after_jitter():
    # a geometric-like count (1 most frequent, then fewer): unimodal once spread over its
    # cells, but k-means splits it at the first gap
    rng = np.random.default_rng(3)
    counts = rng.geometric(0.5, size=3000).astype(float)
    Z = np.column_stack([counts, rng.normal(0, 0.1, 3000)])
    labels = (counts > 1).astype(int)
    assert separation(Z, labels).status == "merged"


def test_separation_needs_two_segments():
    with pytest.raises(ValueError, match="at least two segments, got 1"):
        separation(np.zeros((5, 2)), np.zeros(5, dtype=int))


def _gap(gap, ps, separation_, dip_p=None, dip_rows=None):
    k = list(range(1, len(gap) + 1))
    return pd.DataFrame({"gap": gap, "gap_s": 0.01, "prediction_strength": ps,
                         "separation": separation_,
                         "dip_p": dip_p or [np.nan] * len(k),
                         "dip_rows": dip_rows or [np.nan] * len(k)},
                        index=pd.Index(k, name="k"))


def _table(n_k):
    return pd.DataFrame({"algorithm": "kmeans", "covariance_type": None,
                         "k": list(range(1, n_k + 1)), "too_small": False,
                         "stability_jaccard_min": 0.9})


def test_rule_takes_the_largest_separated_reproducible_k_whatever_the_gap_peak():
    # the gap rises to k = 5; k = 2..4 reproducible and separated; 5 not reproducible
    gap = _gap([0.0, 0.1, 0.2, 0.3, 0.5], [1, 0.95, 0.9, 0.85, 0.5],
               ["", "separated", "separated", "separated", "separated"],
               dip_p=[np.nan, 0.001, 0.002, 0.003, 0.001], dip_rows=[np.nan, 900, 800, 700, 600])
    rec, text = recommend_by_gap(_table(5), gap, 0.03, n_refits=10)
    assert rec["verdict"] == SEGMENTS and rec["k"] == 4
    assert rec["separated"] == [2, 3, 4] and rec["merged"] == []
    assert rec["k_interval"] == [2, 4]
    assert text.startswith("Recommended k=4: the largest reproducible k whose segments are all "
                           "separated from their nearest neighbour (dip test of unimodality on "
                           "the line between the two centres, p < 0.0167 for every pair: 0.05 "
                           "over the 3 reproducible k tested")


def test_separation_is_corrected_for_the_number_of_k_tested():
    # BG/NBD x Gamma-Gamma null, seed 2 (bench/RESULTS.md, stop 28): k = 2 and 3 reproducible,
    # k = 2 one mode cut in two, k = 3's weakest pair at p 0.048 < 0.05 but not < 0.05 / 2
    gap = _gap([0.94, 1.082, 1.133, 1.158], [1, 0.956, 0.888, 0.5],
               ["", "merged", "separated", "undecided"],
               dip_p=[np.nan, 0.688, 0.048, 0.97], dip_rows=[np.nan, 1500, 1080, 701])
    gap["gap_s"] = 0.011
    rec, _ = recommend_by_gap(_table(4), gap, 0.03, n_refits=10)
    assert rec["separated"] == [] and rec["merged"] == [2]
    assert rec["verdict"] == NO_SEGMENTS and rec["k"] == 1
    # tested alone (k = 2 not reproducible), the same p separates k = 3
    gap.loc[2, "prediction_strength"] = 0.5
    rec, _ = recommend_by_gap(_table(4), gap, 0.03, n_refits=10)
    assert rec["separated"] == [3] and rec["k"] == 3


def test_rule_vetoes_a_gap_supported_k_that_cuts_one_mode():
    # k = 3 reproducible and at the gap's peak, but two neighbours look like one mode
    gap = _gap([0.0, 0.05, 0.3], [1, 0.95, 0.9], ["", "merged", "merged"],
               dip_p=[np.nan, 0.7, 0.32], dip_rows=[np.nan, 1500, 1092])
    rec, text = recommend_by_gap(_table(3), gap, 0.03, n_refits=10)
    assert rec["verdict"] == NO_SEGMENTS and rec["k"] == 1
    assert rec["merged"] == [2, 3]
    assert "cut one mode in two (dip test)" in text
    assert "k=3 cuts one mode in two (two neighbouring segments of 1,092 customers" in text


def test_rule_falls_back_to_the_gap_when_the_dip_test_is_undecided():
    # small segments (Mall Customers): no k separated, none merged -> the gap band decides
    gap = _gap([0.0, 0.1, 0.2, 0.3, 0.45], [1, 0.7, 0.9, 0.6, 0.9],
               ["", "undecided", "undecided", "undecided", "undecided"])
    rec, text = recommend_by_gap(_table(5), gap, 0.03, n_refits=10)
    assert rec["verdict"] == SEGMENTS and rec["k"] == 5 and rec["separated"] == []
    assert "no reproducible k has all its segments separated by the dip test" in text


def test_segments_with_the_same_centre_are_not_separated():
    # a partition whose two segments have equal means has no line between them: one mode
    Z = np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, -1.0], [0.0, 1.0]] * 250)
    labels = np.tile([0, 0, 1, 1], 250)
    sep = separation(Z, labels)
    assert sep.status == "merged"
    assert sep.pairs[0].n == 1000 and sep.pairs[0].dip == 0.0 and sep.pairs[0].p == 1.0
