"""The dip-test separation rule of issue 15 (bench/dip_rule.py), on tiny data."""

import numpy as np
import pandas as pd
import pytest

from .bench_loader import load_bench


@pytest.fixture(scope="module")
def bench():
    return load_bench("dip_rule")


def test_nearest_pairs_are_each_centre_with_its_nearest_deduplicated(bench):
    # 0 and 1 are each other's nearest (distance 1); 2's nearest is 1 (distance 4 vs 5)
    centres = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0]])
    assert bench.nearest_pairs(centres) == [(0, 1), (1, 2)]


def test_cell_jitter_spreads_a_count_column_over_its_cells_and_leaves_the_rest(bench):
    # column 0: counts 1 (50 rows), 2 (30), 4 (20): mode share 50% -> jittered;
    # column 1: a 0/1 flag (2 values) -> kept; column 2: 100 distinct values (mode 1% < 5%)
    count = np.repeat([1.0, 2.0, 4.0], [50, 30, 20])
    X = np.column_stack([count, np.arange(100) % 2, np.linspace(0, 1, 100)])
    Xj = bench.cell_jitter(X, np.random.default_rng(0))
    np.testing.assert_array_equal(Xj[:, 1:], X[:, 1:])
    # cells: 1 -> [0.5, 1.5] (end value: its one gap 1 on both sides), 2 -> [1.5, 3.0],
    # 4 -> [3.0, 5.0] (end value: gap 2 on both sides)
    lo = np.repeat([0.5, 1.5, 3.0], [50, 30, 20])
    hi = np.repeat([1.5, 3.0, 5.0], [50, 30, 20])
    assert np.all(Xj[:, 0] >= lo) and np.all(Xj[:, 0] <= hi)
    # the 50 ones cover their cell: uniform on [0.5, 1.5] has mean 1 (SE 0.04) and spread
    assert np.mean(Xj[:50, 0]) == pytest.approx(1.0, abs=0.15)
    assert np.ptp(Xj[:50, 0]) > 0.8


def _kmeans(X, k):
    from sklearn.cluster import KMeans

    km = KMeans(k, n_init=10, random_state=0).fit(X)
    return km.labels_, km.cluster_centers_


def test_two_separated_blobs_are_separated(bench):
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(0, 1, (600, 3)), rng.normal([6, 0, 0], 1, (600, 3))])
    labels, centres = _kmeans(X, 2)
    sep = bench.separation(X, labels, centres, seed=0)
    assert sep["pairs"] == [[0, 1]]
    assert all(sep["separated"].values())
    # two unit Gaussians 6 SD apart: a clear dip; p read at 1,000 points is ~0
    assert sep["raw"][0]["dip"] > 0.05
    assert sep["raw"][0]["p_stat"] < 1e-3


def test_one_gaussian_cut_in_two_is_not_separated(bench):
    X = np.random.default_rng(2).normal(0, 1, (3000, 3))
    labels, centres = _kmeans(X, 2)
    sep = bench.separation(X, labels, centres, seed=0)
    assert not any(sep["separated"].values())
    assert sep["raw"][0]["p_stat"] > 0.05 and sep["raw"][0]["p_sub"] > 0.05


def test_a_count_point_mass_is_bimodal_raw_and_not_after_jitter(bench):
    # a geometric count (decreasing frequencies: unimodal) split by k-means at its mode;
    # the raw projection is two spikes (the dip test rejects), the jittered one is the count's
    # histogram density (decreasing: does not reject)
    rng = np.random.default_rng(3)
    count = rng.geometric(0.6, 3000).astype(float)
    X = np.column_stack([count, rng.normal(0, 0.01, 3000)])
    labels = (count > 1).astype(int)
    centres = np.array([X[labels == 0].mean(0), X[labels == 1].mean(0)])
    sep = bench.separation(X, labels, centres, seed=0)
    assert sep["separated"]["stat"] and sep["separated"]["p"]
    assert not sep["separated"]["stat_j"] and not sep["separated"]["p_j"]


def test_dip_critical_matches_the_table_at_1000(bench):
    # diptest's table: the 0.95 quantile of the dip at n = 1,000 is ~0.0169
    assert bench.dip_critical(1000) == pytest.approx(0.0169, abs=2e-4)


def _tab():
    # k = 1..4: 2, 3 and 4 reproducible with Gap(k) > Gap(1); ps_largest -> 4
    rows = [(1, 0.10, 1.0, None), (2, 0.5, 0.95, 0.9), (3, 0.6, 0.92, 0.88),
            (4, 0.7, 0.9, 0.8)]
    return pd.DataFrame([{"k": k, "gap": g, "gap_s": 0.01, "prediction_strength": ps,
                          "stability_jaccard_min": j, "too_small": False}
                         for k, g, ps, j in rows])


def _sep(**flags):
    return {"separated": {v: flags.get(v, False) for v in ("p", "p_j", "stat", "stat_j")}}


def test_pick_is_the_largest_candidate_whose_pairs_are_all_separated(bench):
    tab = _tab()
    seps = {2: _sep(stat_j=True, p=True), 3: _sep(stat_j=True), 4: _sep(p=True)}
    assert bench.candidate_ks(tab) == [2, 3, 4]
    assert bench.pick(tab, seps, "dip_stat_j") == 3
    assert bench.pick(tab, seps, "dip_p") == 4
    assert bench.pick(tab, seps, "dip_stat") == 1  # none separated: "no clear segments"
    # gate2: ps_largest's 4 when k = 2 is separated, else 1
    assert bench.pick(tab, seps, "gate2_p") == 4
    assert bench.pick(tab, seps, "gate2_p_j") == 1
    with pytest.raises(ValueError, match="should be dip_<v> or gate2_<v>"):
        bench.pick(tab, seps, "dip_foo")
