"""Cross-fitted (out-of-sample) segment scores: exact values on six customers in two folds,
the in-sample bias of many tiny segments gone, and the bootstrap weights' invariant."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr

from segml.backtest import Groups, score_metrics, segment_metrics
from segml.backtest.crossfit import crossfit_means, make_folds
from segml.backtest.metrics import predictor_metrics, score_bins
from segml.errors import ConfigError

# fold 0 = customers 0, 2, 4; fold 1 = customers 1, 3, 5
CODES = np.array([0, 0, 1, 0, 1, 1])
FOLDS = np.array([0, 1, 0, 1, 0, 1])
REV = np.array([10.0, 20.0, 0.0, 0.0, 30.0, 0.0])
BOUGHT = REV > 0


def test_crossfit_rates_by_hand():
    # fold 0 is scored on fold 1: rate 1/3 overall, segment 0 1/2, segment 1 0/1;
    # fold 1 on fold 0: 2/3 overall, segment 0 1/1, segment 1 1/2; plus the overall 3/6
    want = [0.5 + (1 / 2 - 1 / 3), 0.5 + (1 - 2 / 3), 0.5 + (0 - 1 / 3),
            0.5 + (1 - 2 / 3), 0.5 + (0 - 1 / 3), 0.5 + (1 / 2 - 2 / 3)]
    np.testing.assert_allclose(crossfit_means(CODES, 2, BOUGHT, FOLDS), want, rtol=1e-12)
    # in sample: the segment's own rate
    np.testing.assert_allclose(crossfit_means(CODES, 2, BOUGHT), [2 / 3, 2 / 3, 1 / 3, 2 / 3,
                                                                 1 / 3, 1 / 3], rtol=1e-12)


def test_a_segment_missing_from_the_other_folds_gets_the_overall_mean():
    codes = np.array([0, 0, 1, 0])  # segment 1 only in fold 0
    folds = np.array([0, 1, 0, 1])
    y = np.array([1.0, 0.0, 1.0, 1.0])
    np.testing.assert_allclose(crossfit_means(codes, 2, y, folds)[2], 0.75, rtol=1e-12)


def test_segment_metrics_cross_fitted_by_hand():
    m = segment_metrics(CODES, 2, Groups(REV, BOUGHT, FOLDS))
    # rates (2/3, 5/6, 1/6, 5/6, 1/6, 1/3): segment 0 is ahead of segment 1 in both folds, so
    # the ranking is the in-sample one: buyers (0, 1 in segment 0; 4 in segment 1) against
    # non-buyers (3 in segment 0; 2, 5 in segment 1): 2.5 + 2.5 + 1 of 9 pairs
    assert m["auc_bought_again"] == pytest.approx(6 / 9, rel=1e-12)
    # revenue means (overall 10): fold 0 on fold 1 (20/3 overall, segment 0 10, segment 1 0),
    # fold 1 on fold 0 (40/3 overall, segment 0 10, segment 1 15)
    pred = np.array([40, 20, 10, 20, 10, 35]) / 3
    assert m["r2_revenue"] == pytest.approx(1 - ((REV - pred) ** 2).sum() / 800, rel=1e-12)
    assert m["r2_revenue"] == pytest.approx(1 - 9825 / 7200, rel=1e-12)  # negative: no signal
    # the order of the revenue means flips: segment 0 first for fold 0 (40/3 > 10/3),
    # segment 1 first for fold 1 (35/3 > 20/3); ranked by that position, customers 0 and 5
    # are on top: the top 10% = 0.6 of a customer takes 0.3 of their revenue 10 + 0
    pos = np.array([2, 1, 1, 1, 1, 2])
    assert m["capture_top10"] == pytest.approx(0.3 * 10 / 60, rel=1e-12)
    assert m["spearman_revenue"] == pytest.approx(spearmanr(pos, REV)[0], rel=1e-12)
    # top segment: fold 1 picks segment 0 for fold 0 (customer 0, 10), fold 0 picks
    # segment 1 for fold 1 (customer 5, 0)
    assert m["top_segment_capture"] == pytest.approx(10 / 60, rel=1e-12)
    assert m["top_segment_share"] == pytest.approx(2 / 6, rel=1e-12)
    assert m["top_segment_lift"] == pytest.approx((10 / 2) / 10, rel=1e-12)
    # eta2 stays descriptive (in sample): both segments have mean 10
    assert m["eta2_revenue"] == 0.0


def test_one_segment_is_no_information_out_of_sample():
    m = segment_metrics(np.zeros(6, dtype=int), 1, Groups(REV, BOUGHT, FOLDS))
    assert m["auc_bought_again"] == 0.5
    assert m["r2_revenue"] == pytest.approx(0.0, abs=1e-12)
    assert m["capture_top10"] == pytest.approx(0.1, rel=1e-12)
    assert m["top_segment_lift"] == 1.0


def test_a_stable_segment_order_ranks_as_in_sample():
    """Coarse segments whose order holds in every fold keep their in-sample ties."""
    rng = np.random.default_rng(3)
    n = 2000
    codes = rng.integers(0, 3, n)
    bought = rng.random(n) < np.array([0.1, 0.4, 0.7])[codes]
    rev = np.where(bought, rng.gamma(2.0, 20.0, n) * (1 + codes), 0.0)
    ins = segment_metrics(codes, 3, Groups(rev, bought))
    oos = segment_metrics(codes, 3, Groups(rev, bought, make_folds(n, 5, random_state=0)))
    for name in ("auc_bought_again", "capture_top10", "spearman_revenue"):
        assert oos[name] == pytest.approx(ins[name], rel=1e-12), name


def test_in_sample_r2_is_eta2():
    grp = Groups(REV, BOUGHT)
    codes = np.array([0, 1, 1, 0, 2, 2])
    m = segment_metrics(codes, 3, grp)
    assert m["r2_revenue"] == pytest.approx(m["eta2_revenue"], rel=1e-12)
    assert m["r2_log_revenue"] == pytest.approx(m["eta2_log_revenue"], rel=1e-12)


def test_many_tiny_random_segments_have_no_out_of_sample_skill():
    """In sample, 600 random segments of 5 look predictive; cross-fitted they do not."""
    rng = np.random.default_rng(0)
    n = 3000
    codes = rng.permutation(np.arange(n) % 600)
    bought = rng.random(n) < 0.3
    rev = np.where(bought, rng.gamma(2.0, 50.0, n), 0.0)
    ins = segment_metrics(codes, 600, Groups(rev, bought))
    oos = segment_metrics(codes, 600, Groups(rev, bought, make_folds(n, 5, random_state=0)))
    assert ins["auc_bought_again"] > 0.65 and ins["eta2_revenue"] > 0.15
    assert ins["capture_top10"] > 0.2
    assert oos["auc_bought_again"] == pytest.approx(0.5, abs=0.03)
    # the top 10% by a random score captures ~10% (cells of 4-5 tied customers and a heavy
    # tail make it noisy: 0.067-0.111 over seeds 0-3)
    assert oos["capture_top10"] == pytest.approx(0.1, abs=0.05)
    assert oos["r2_revenue"] < 0.0 and oos["r2_log_revenue"] < 0.0
    assert oos["spearman_revenue"] == pytest.approx(0.0, abs=0.05)


def test_a_real_signal_survives_cross_fitting():
    rng = np.random.default_rng(1)
    n = 3000
    codes = rng.integers(0, 5, n)
    bought = rng.random(n) < 0.1 + 0.1 * codes
    rev = np.where(bought, rng.gamma(2.0, 50.0, n), 0.0)
    ins = segment_metrics(codes, 5, Groups(rev, bought))
    oos = segment_metrics(codes, 5, Groups(rev, bought, make_folds(n, 5, random_state=0)))
    assert oos["auc_bought_again"] > 0.65
    assert oos["auc_bought_again"] == pytest.approx(ins["auc_bought_again"], abs=0.01)
    assert oos["r2_log_revenue"] == pytest.approx(ins["eta2_log_revenue"], abs=0.01)


def test_make_folds_balanced_and_seeded():
    f = make_folds(103, 5, random_state=7)
    assert sorted(np.bincount(f).tolist()) == [20, 20, 21, 21, 21]
    np.testing.assert_array_equal(f, make_folds(103, 5, random_state=7))
    assert not np.array_equal(f, make_folds(103, 5, random_state=8))
    assert make_folds(103, 1) is None
    assert make_folds(3, 5).tolist().count(0) == 1  # fewer customers than folds: one each
    with pytest.raises(ConfigError, match=r"n_folds=0 should be an integer >= 1.*Fix"):
        make_folds(10, 0)


rows = st.integers(1, 4).flatmap(lambda k: st.tuples(
    st.just(k),
    st.lists(st.tuples(st.integers(0, k - 1), st.floats(0, 100, allow_nan=False).map(round),
                       st.booleans(), st.integers(0, 3), st.integers(0, 2)),
             min_size=3, max_size=25)))


@settings(max_examples=60)
@given(rows)
def test_weights_equal_repeated_rows_with_folds(case):
    """A bootstrap weight of w is the row repeated w times, in its own fold."""
    k, data = case
    codes, rev, bought, w, folds = (np.array(c) for c in zip(*data, strict=True))
    folds = np.unique(folds, return_inverse=True)[1]  # folds 0..K-1 all present
    if w.sum() == 0:
        w[0] = 1
    weighted = segment_metrics(codes, k, Groups(rev, bought, folds), w.astype(float))
    rep = np.repeat(np.arange(len(codes)), w)
    grp = Groups(rev[rep], bought[rep], folds[rep])
    grp.n_folds = int(folds.max()) + 1  # a fold drawn zero times stays, empty, on both sides
    repeated = segment_metrics(codes[rep], k, grp)
    for name, v in weighted.items():
        np.testing.assert_allclose(v, repeated[name], rtol=1e-9, atol=1e-9, err_msg=name)


def test_predictor_gets_the_segment_metrics_on_its_deciles():
    rng = np.random.default_rng(2)
    score = rng.normal(size=400)
    bought = rng.random(400) < 1 / (1 + np.exp(-2 * score))
    rev = np.where(bought, rng.gamma(2, 10, 400), 0.0)
    grp = Groups(rev, bought, make_folds(400, 5, random_state=0))
    bins = score_bins(score)
    assert bins[1] == 10 and np.bincount(bins[0]).tolist() == [40] * 10
    m = predictor_metrics(score, bins, grp)
    seg = segment_metrics(bins[0], bins[1], grp)
    for name in ("r2_revenue", "r2_log_revenue", "eta2_revenue", "top_segment_lift"):
        assert m[name] == seg[name]
    for name, v in score_metrics(score, grp).items():
        assert m[name] == v  # ranking on the score itself
    assert m["r2_log_revenue"] > 0.1


def test_score_bins_ties_and_missing():
    codes, n = score_bins(np.array([1.0, 1.0, 1.0, 2.0, np.nan]), 4)
    assert n == 3 and codes.tolist() == [0, 0, 0, 1, 2]
