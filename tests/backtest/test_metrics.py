"""Validity metrics: exact values on four customers, and the bootstrap weights' invariants."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from segml.backtest import Groups, score_metrics, segment_metrics

REV = np.array([0.0, 0.0, 10.0, 30.0])
BOUGHT = np.array([False, False, True, True])


def test_two_segments_exact():
    m = segment_metrics(np.array([0, 0, 1, 1]), 2, Groups(REV, BOUGHT))
    # SS_total = 100 + 100 + 0 + 400 = 600, SS_between = 2 * 100 + 2 * 100 = 400
    assert m["eta2_revenue"] == pytest.approx(400 / 600, rel=1e-12)
    lg = np.log1p(REV)
    between = 2 * (lg[2:].mean() - lg.mean()) ** 2 * 2
    assert m["eta2_log_revenue"] == pytest.approx(between / ((lg - lg.mean()) ** 2).sum(),
                                                  rel=1e-12)
    assert m["auc_bought_again"] == 1.0
    # top 10% of 4 customers = 0.4 of a customer, drawn pro rata from the top segment
    assert m["capture_top10"] == pytest.approx(0.2 * 40 / 40, rel=1e-12)
    # mid-ranks (1.5, 1.5, 3.5, 3.5) against (1.5, 1.5, 3, 4): 4 / sqrt(4 * 4.5)
    assert m["spearman_revenue"] == pytest.approx(4 / np.sqrt(18), rel=1e-12)
    assert (m["top_segment_capture"], m["top_segment_lift"], m["top_segment_share"]) == (
        1.0, 2.0, 0.5)


def test_tied_segment_rates_count_half():
    m = segment_metrics(np.array([0, 0, 1, 1]), 2, Groups(REV, np.array([0, 1, 1, 0])))
    assert m["auc_bought_again"] == 0.5


def test_one_segment_explains_nothing():
    m = segment_metrics(np.zeros(4, dtype=int), 1, Groups(REV, BOUGHT))
    assert m["eta2_revenue"] == 0.0
    assert m["auc_bought_again"] == 0.5
    assert m["capture_top10"] == pytest.approx(0.1, rel=1e-12)
    assert np.isnan(m["spearman_revenue"])  # a constant ranking has no rank correlation
    assert m["top_segment_lift"] == 1.0


def test_score_metrics_match_sklearn_auc():
    rng = np.random.default_rng(0)
    score = rng.normal(size=200).round(1)  # ties included
    bought = rng.random(200) < 1 / (1 + np.exp(-score))
    rev = np.where(bought, rng.gamma(2, 10, 200), 0.0)
    m = score_metrics(score, Groups(rev, bought))
    assert m["auc_bought_again"] == pytest.approx(roc_auc_score(bought, score), rel=1e-12)


segments = st.integers(1, 4).flatmap(lambda k: st.tuples(
    st.just(k),
    st.lists(st.tuples(st.integers(0, k - 1), st.floats(0, 100, allow_nan=False).map(round),
                       st.booleans(), st.integers(0, 3)), min_size=3, max_size=25)))


@settings(max_examples=60)
@given(segments)
def test_weights_equal_repeated_rows(case):
    """A bootstrap weight of w is the same as the row repeated w times."""
    k, rows = case
    codes, rev, bought, w = (np.array(c) for c in zip(*rows, strict=True))
    if w.sum() == 0:
        w[0] = 1
    weighted = segment_metrics(codes, k, Groups(rev, bought), w.astype(float))
    rep = np.repeat(np.arange(len(codes)), w)
    repeated = segment_metrics(codes[rep], k, Groups(rev[rep], bought[rep]))
    for name, v in weighted.items():
        np.testing.assert_allclose(v, repeated[name], rtol=1e-9, atol=1e-12, err_msg=name)
    ws = score_metrics(rev * 0.5 + codes, Groups(rev, bought), w.astype(float))
    rs = score_metrics((rev * 0.5 + codes)[rep], Groups(rev[rep], bought[rep]))
    for name, v in ws.items():
        np.testing.assert_allclose(v, rs[name], rtol=1e-9, atol=1e-12, err_msg=name)


@settings(max_examples=30)
@given(st.lists(st.tuples(st.integers(-30, 30), st.floats(0, 50, allow_nan=False),
                          st.booleans()), min_size=4, max_size=30))
def test_ranking_depends_only_on_order(rows):
    score, rev, bought = (np.array(c) for c in zip(*rows, strict=True))
    a = score_metrics(score, Groups(rev, bought))
    b = score_metrics(np.exp(score / 10) * 3 + 1, Groups(rev, bought))  # increasing map
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-12, err_msg=name)
