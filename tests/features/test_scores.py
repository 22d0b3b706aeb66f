from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from segml.errors import ConfigError, SchemaError
from segml.features.scores import ABCClassifier, ParetoResult, RFMScorer, pareto, rfm_code

NAN = np.nan


def rfm_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "recency_days": [1.0, 10, 100, 200, 300, NAN],
            "frequency": [9, 5, 3, 1, 1, 0],
            "monetary": [90.0, 50, 30, 10, 5, 0],
            "other": ["x"] * 6,  # ignored: the three RFM columns are picked by name
        },
        index=pd.Index(list("abcdef"), name="customer_id"),
    )


# ------------------------------------------------------------------------------- RFMScorer
def test_rfm_scorer_exact_cut_points_and_scores():
    f = rfm_frame()
    scorer = RFMScorer().set_output(transform="pandas").fit(f)
    # linear quantiles of the 5 buyers at 0.2, 0.4, 0.6, 0.8
    np.testing.assert_allclose(scorer.cut_points_, [[8.2, 64, 140, 220], [1, 2.2, 3.8, 5.8],
                                                    [9, 22, 38, 58]])
    assert scorer.reverse_.tolist() == [True, False, False]
    assert scorer.n_buyers_ == 5
    out = scorer.transform(f)
    expected = pd.DataFrame(
        {"r_score": [5, 4, 3, 2, 1, 0], "f_score": [5, 4, 3, 1, 1, 0],
         "m_score": [5, 4, 3, 2, 1, 0]},
        index=f.index,
    )
    pd.testing.assert_frame_equal(out, expected)
    assert rfm_code(out).tolist() == ["555", "444", "333", "212", "111", "000"]
    assert rfm_code(out).name == "rfm_code"
    assert scorer.get_feature_names_out().tolist() == ["r_score", "f_score", "m_score"]
    assert scorer.feature_names_in_.tolist() == ["recency_days", "frequency", "monetary"]


def test_rfm_scorer_default_output_is_int_array():
    out = RFMScorer().fit_transform(rfm_frame())
    assert isinstance(out, np.ndarray) and out.dtype == np.int64 and out.shape == (6, 3)


def test_tie_policy_ties_share_a_score_duplicate_cuts_skip_a_score():
    # 6 of 10 buyers bought once: the 0.2 and 0.4 cut points are both 1
    f = pd.DataFrame({"recency_days": np.arange(10.0),
                      "frequency": [1, 1, 1, 1, 1, 1, 2, 3, 4, 8],
                      "monetary": np.arange(10.0)})
    s = RFMScorer().fit(f)
    np.testing.assert_allclose(s.cut_points_[1], [1.0, 1.0, 1.4, 3.2])
    f_score = s.transform(f)[:, 1]
    assert f_score.tolist() == [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]
    # a value equal to a cut point goes to the lower bin
    cuts = s.cut_points_
    probe = pd.DataFrame({"recency_days": [cuts[0, 2]], "frequency": [cuts[1, 3]],
                          "monetary": [cuts[2, 0]]})
    assert s.transform(probe).tolist() == [[2, 4, 1]]


def test_scores_are_frozen_at_fit():
    s = RFMScorer().fit(rfm_frame())
    new = pd.DataFrame({"recency_days": [0.0, 1000.0], "frequency": [100, 1],
                        "monetary": [1e6, 0.0]})
    assert s.transform(new).tolist() == [[5, 5, 5], [1, 1, 1]]


def test_nan_scores_zero_and_prospect_rows_zero_everywhere():
    f = rfm_frame()
    f.loc["a", "monetary"] = NAN
    s = RFMScorer().fit(f)
    out = s.transform(f)
    assert out[0].tolist() == [5, 5, 0]
    assert out[5].tolist() == [0, 0, 0]


def test_prospect_column_none_scores_zero_frequency_as_a_value():
    s = RFMScorer(prospect_column=None).fit(rfm_frame()[["frequency", "monetary"]])
    assert s.transform(rfm_frame()[["frequency", "monetary"]])[5].tolist() == [1, 1]
    assert s.get_feature_names_out().tolist() == ["f_score", "m_score"]


def test_generic_columns_and_arrays():
    X = np.array([[1.0, 5.0], [2.0, 4.0], [3.0, 3.0], [4.0, 2.0], [5.0, 1.0]])
    s = RFMScorer().fit(X)
    assert s.transform(X)[:, 0].tolist() == [1, 2, 3, 4, 5]
    assert s.get_feature_names_out().tolist() == ["x0_score", "x1_score"]
    frame = pd.DataFrame({"spend": [1.0, 2, 3]})
    assert RFMScorer(n_bins=3).fit(frame).get_feature_names_out().tolist() == ["spend_score"]


def test_rfm_scorer_errors():
    with pytest.raises(ConfigError, match=r"n_bins=1 should be an integer >= 2"):
        RFMScorer(n_bins=1).fit(rfm_frame())
    with pytest.raises(ConfigError, match=r"n_bins=2.5 should be an integer >= 2"):
        RFMScorer(n_bins=2.5).fit(rfm_frame())
    everyone_prospect = rfm_frame().assign(frequency=0)
    with pytest.raises(ValueError, match="recency_days has no buyer value to learn cut points"):
        RFMScorer().fit(everyone_prospect)
    with pytest.raises(SchemaError, match=r"rfm_code needs columns \['m_score'\]"):
        rfm_code(pd.DataFrame({"r_score": [1], "f_score": [1]}))


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.integers(0, 20), min_size=2, max_size=60),
    seed=st.integers(0, 10_000),
)
def test_property_scores_monotone_deterministic_and_row_order_free(values, seed):
    f = pd.DataFrame({"recency_days": np.array(values, float), "frequency": np.array(values) + 1,
                      "monetary": np.array(values, float)})
    s = RFMScorer().fit(f)
    out = s.transform(f)
    order = np.argsort(f["monetary"].to_numpy(), kind="stable")
    assert np.all(np.diff(out[order, 2]) >= 0)  # higher monetary, never a lower score
    assert np.all(np.diff(out[order, 0]) <= 0)  # higher recency, never a higher score
    # equal values always share a score
    for col in range(3):
        by_value = pd.Series(out[:, col]).groupby(np.array(values)).nunique()
        assert (by_value == 1).all()
    perm = np.random.default_rng(seed).permutation(len(values))
    s2 = RFMScorer().fit(f.iloc[perm])
    np.testing.assert_array_equal(s2.cut_points_, s.cut_points_)
    np.testing.assert_array_equal(s2.transform(f), out)


# ---------------------------------------------------------------------------- ABCClassifier
def abc_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"monetary": [500.0, 200, 100, 80, 50, 30, 20, 10, 5, 5, 0.0],
         "frequency": [5, 4, 3, 3, 2, 2, 1, 1, 1, 1, 0]},
        index=pd.Index([f"c{i:02d}" for i in range(11)], name="customer_id"),
    )


def test_abc_count_rule_exact():
    f = abc_frame()
    clf = ABCClassifier().fit(f)
    # 10 buyers: top 20% = 2 (A), down to 50% = 5 (B), rest C; the prospect is "none"
    assert (clf.threshold_a_, clf.threshold_b_, clf.n_buyers_) == (200.0, 50.0, 10)
    assert clf.predict(f).tolist() == list("AABBBCCCCC") + ["none"]
    assert clf.feature_names_in_.tolist() == ["monetary"]


def test_abc_revenue_rule_exact():
    f = abc_frame()  # total 1000; cumulative 500, 700, 800, 880, 930, 960, 980, 990, 995, 1000
    clf = ABCClassifier(method="revenue").fit(f)
    # A: buyers starting below 80% -> 500 (0%), 200 (50%), 100 (70%); B: start below 95%
    assert (clf.threshold_a_, clf.threshold_b_) == (100.0, 30.0)
    assert clf.predict(f).tolist() == list("AAABBBCCCC") + ["none"]


def test_abc_ties_at_threshold_take_the_higher_class_and_thresholds_are_frozen():
    f = pd.DataFrame({"monetary": [10.0, 10, 10, 1, 1], "is_prospect": [False] * 5})
    clf = ABCClassifier().fit(f)
    # top 20% = 1 customer, but three tie at 10: all three are A (and B, down to the 3rd, is empty)
    assert (clf.threshold_a_, clf.threshold_b_) == (10.0, 10.0)
    assert clf.predict(f).tolist() == ["A", "A", "A", "C", "C"]
    new = pd.DataFrame({"monetary": [1e6, 10.0, 9.99, 0.5, np.nan]})
    assert clf.predict(new).tolist() == ["A", "A", "C", "C", "none"]


def test_abc_series_and_array_input():
    s = pd.Series([5.0, 4, 3, 2, 1], name="monetary")
    assert ABCClassifier().fit(s).predict(s).tolist() == list("ABBCC")
    X = np.array([[5.0, 99], [4, 0], [3, 0], [2, 0], [1, 0]])
    assert ABCClassifier().fit_predict(X).tolist() == list("ABBCC")


def test_abc_errors():
    f = abc_frame()
    with pytest.raises(ConfigError, match="method='pareto' should be 'count' or 'revenue'"):
        ABCClassifier(method="pareto").fit(f)
    with pytest.raises(ConfigError, match=r"a=0.6, b=0.5 should satisfy 0 < a < b <= 1"):
        ABCClassifier(a=0.6, b=0.5).fit(f)
    with pytest.raises(ValueError, match="found no buyer"):
        ABCClassifier().fit(f.assign(frequency=0))
    with pytest.raises(SchemaError, match="needs a 'monetary' column"):
        ABCClassifier().fit(pd.DataFrame({"x": [1.0], "y": [2.0]}))


def test_abc_does_not_mutate_and_clones():
    clf = ABCClassifier(method="revenue", a=0.7)
    f = abc_frame()
    before = f.copy()
    clone(clf).fit(f)
    pd.testing.assert_frame_equal(f, before)
    assert not hasattr(clf, "threshold_a_")


# ---------------------------------------------------------------------------------- pareto
def test_pareto_exact():
    r = pareto(pd.Series([5.0, 60, 10, 20, 5, np.nan, -3.0]))  # NaN dropped, -3 counts as 0
    assert isinstance(r, ParetoResult)
    assert r.n_customers == 6 and r.total_revenue == 100.0
    assert r.top20_share == pytest.approx(0.8)  # ceil(1.2) = 2 customers: 60 + 20
    # sorted ascending 0,5,5,10,20,60: sum((2i-n-1) x) = -5*0-3*5-1*5+1*10+3*20+5*60 = 350
    assert r.gini == pytest.approx(350 / 600)
    np.testing.assert_allclose(r.curve["revenue_share"], [0, 0.6, 0.8, 0.9, 0.95, 1.0, 1.0])
    np.testing.assert_allclose(r.curve["customer_share"], np.arange(7) / 6)
    assert r.share_of_top(0.5) == pytest.approx(0.9)
    d = r.to_dict()
    assert d["top20_share"] == r.top20_share and len(d["curve"]["customer_share"]) == 101
    assert d["curve"]["revenue_share"][0] == 0.0 and d["curve"]["revenue_share"][-1] == 1.0


def test_pareto_equal_customers_gini_zero_and_errors():
    r = pareto([3.0, 3.0, 3.0, 3.0, 3.0])
    assert r.gini == pytest.approx(0.0) and r.top20_share == pytest.approx(0.2)
    with pytest.raises(SchemaError, match="pareto needs positive total revenue; got 2 value"):
        pareto([0.0, -1.0])
    with pytest.raises(ConfigError, match=r"customer_share=1.5 should be between 0 and 1"):
        r.share_of_top(1.5)


# scikit-learn's contract checks for RFMScorer and ABCClassifier (and the waivers) are in
# tests/test_estimator_contract.py.
