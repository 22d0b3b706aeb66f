"""backtest() end to end on a 40-customer log: same customers for everyone, exact outcomes,
reproducible intervals, frozen vs refit, predictors, and every error it raises."""

import numpy as np
import pandas as pd
import pytest
from backtest_data import RecentSpend, tiny_transactions
from sklearn.metrics import roc_auc_score

from segml.backtest import BacktestResult, History, backtest, migration_matrix, parse_horizon
from segml.errors import ConfigError
from segml.rules import RuleSegmenter

CUTS = ["2023-12-31", "2024-03-31", "2024-06-30"]
CUSTOM = RuleSegmenter([("big", "monetary >= quantile(monetary, 0.75)")], "rest")


@pytest.fixture(scope="module")
def res(tx) -> BacktestResult:
    return backtest(tx, cutoffs=CUTS, horizon="3M", segmenters={"abc": "abc", "big": CUSTOM},
                    predictors={"recent": RecentSpend()}, n_boot=30, random_state=3)


def test_same_customers_and_exact_outcomes(tx, res):
    assert res.segmenters == ["abc", "big", "none", "recency_deciles"]
    assert res.predictors == ["recent"]
    for c in res.cutoffs:
        buyers = pd.Index(sorted(tx.loc[tx["timestamp"] < c + pd.Timedelta(days=1),
                                        "customer_id"].unique()))
        for name in res.segmenters:
            assert res.assignments[name][c].dropna().index.sort_values().equals(buyers)
        # the window's revenue by plain pandas
        end = c + pd.DateOffset(months=3) + pd.Timedelta(days=1)
        win = tx[(tx["timestamp"] >= c + pd.Timedelta(days=1)) & (tx["timestamp"] < end)]
        want = win.groupby("customer_id")["amount"].sum().reindex(buyers, fill_value=0.0)
        out = res.outcomes[c]
        np.testing.assert_allclose(out.loc[buyers, "revenue"], want, rtol=1e-12)
        assert (out["bought_again"] == (out["orders"] > 0)).all()


def test_baselines_and_predictor_values(res):
    ov = res.overall.set_index(["name", "metric"])["value"]
    assert ov[("none", "eta2_revenue")] == 0.0
    # cross-fitted: one segment's deviation from the other folds' mean is 0 for everybody
    assert ov[("none", "r2_revenue")] == pytest.approx(0.0, abs=1e-12)
    assert ov[("none", "auc_bought_again")] == 0.5
    assert ov[("none", "top_segment_lift")] == 1.0
    assert ov[("none", "capture_top10")] == pytest.approx(0.1, rel=1e-12)
    c = res.cutoffs[0]
    out = res.outcomes[c]
    v = res.validity.set_index(["cutoff", "name", "metric"])["value"]
    # the predictor's AUC is sklearn's on its scores as of the cutoff (nothing after it)
    hist = History(tiny_transactions())
    score = RecentSpend().fit(hist.as_of(c), None, c).predict(hist.as_of(c), None, c)
    want = roc_auc_score(out["bought_again"], score.reindex(out.index))
    assert v[(c, "recent", "auc_bought_again")] == pytest.approx(want, rel=1e-12)
    # predictors get the segmenters' metric set (R2 and top segment on their score deciles)
    assert set(res.validity[res.validity["name"] == "recent"]["metric"]) == set(
        res.validity[res.validity["name"] == "abc"]["metric"])


def test_intervals_cover_the_point_and_are_seeded(tx, res):
    v = res.validity.dropna(subset=["lo"])
    assert len(v) and (v["lo"] <= v["hi"]).all()
    again = backtest(tx, cutoffs=CUTS, horizon="3M", segmenters={"abc": "abc", "big": CUSTOM},
                     predictors={"recent": RecentSpend()}, n_boot=30, random_state=3)
    pd.testing.assert_frame_equal(again.validity, res.validity)
    assert again.verdict == res.verdict


def test_stability_and_migration(res):
    st = res.stability
    assert len(st) == 2 * len(res.segmenters)
    none = st[st["segmenter"] == "none"]
    assert (none["ari"] == 1.0).all() and (none["psi"] == 0.0).all()
    assert st["centroid_drift"].isna().all()  # no cluster model here
    a = res.assignments["abc"]
    pd.testing.assert_frame_equal(res.migration("abc", 1),
                                  migration_matrix(a.iloc[:, 1].dropna(), a.iloc[:, 2].dropna()))
    with pytest.raises(ConfigError, match=r"step=2 needs a next cutoff; use 0..1"):
        res.migration("abc", 2)
    with pytest.raises(ConfigError, match=r"no segmenter 'rfm'"):
        res.migration("rfm")


def test_verdict_names_winners_and_intervals(res):
    comp = res.comparisons
    assert set(comp["metric"]) <= {"r2_revenue", "r2_log_revenue", "auc_bought_again",
                                   "capture_top10", "spearman_revenue"}
    assert "out of sample" in res.verdict and "other 4 of 5 folds" in res.verdict
    for r in comp.itertuples():
        assert r.winner_value >= r.runner_up_value
        assert r.real == (r.lo > 0)
        assert f"{r.winner} wins with {r.winner_value:.3f}" in res.verdict
    assert "verdict:" in res.summary() and "predictive validity" in res.summary()


def test_k_next_to_stability(res):
    k = res.n_segments
    assert list(k.columns) == res.cutoffs and list(k.index) == res.segmenters
    assert (k.loc["none"] == 1).all()
    for name in res.segmenters:
        a = res.assignments[name]
        assert k.loc[name].tolist() == [a[c].dropna().nunique() for c in res.cutoffs]
        st = res.stability[res.stability["segmenter"] == name]
        assert st["k_from"].tolist() == k.loc[name].iloc[:-1].tolist()
        assert st["k_to"].tolist() == k.loc[name].iloc[1:].tolist()
    assert "k: segments per cutoff" in res.summary()


def test_in_sample_option_is_stated(tx):
    r = backtest(tx, cutoffs=CUTS[:1], horizon="3M", segmenters=["abc"], n_boot=0, n_folds=1)
    assert "IN SAMPLE" in r.verdict and "IN SAMPLE, n_folds=1" in r.summary()
    v = r.validity.set_index(["name", "metric"])["value"]
    # in sample the R2 of the segment means is eta2
    assert v[("abc", "r2_revenue")] == pytest.approx(v[("abc", "eta2_revenue")], rel=1e-9)


def test_frozen_applies_the_first_fit(tx):
    fz = backtest(tx, cutoffs=CUTS[:2], horizon="3M", segmenters=["abc"], mode="frozen",
                  n_boot=0)
    first = fz.assignments["recency_deciles"].iloc[:, 0].dropna()
    # recency deciles learned at the first cutoff, applied at the second
    c0, c1 = fz.cutoffs
    past0 = tx[tx["timestamp"] < c0 + pd.Timedelta(days=1)]
    past1 = tx[tx["timestamp"] < c1 + pd.Timedelta(days=1)]
    rec0 = (c0 - past0.groupby("customer_id")["timestamp"].max().dt.normalize()).dt.days
    rec1 = (c1 - past1.groupby("customer_id")["timestamp"].max().dt.normalize()).dt.days
    edges = np.unique(np.quantile(rec0.to_numpy(float), np.linspace(0, 1, 11))[1:-1])
    want = [f"d{i:02d}" for i in np.searchsorted(edges, rec1.to_numpy(float), side="right") + 1]
    assert fz.assignments["recency_deciles"].iloc[:, 1].dropna().tolist() == want
    assert len(first) == len(rec0)
    assert fz.validity["lo"].isna().all()  # n_boot=0: no intervals
    assert "no interval" in fz.verdict


def test_calendar_rule_leaves_out_windows_past_the_data(tx):
    r = backtest(tx, cutoffs="quarterly", start="2024-03-31", horizon="6M",
                 segmenters=["abc"], n_boot=0)
    # last day 2024-12-29: 06-30 + 6 months = 12-30 is one day too late, 09-30 more so
    assert tx["timestamp"].max().normalize() == pd.Timestamp("2024-12-29")
    assert [str(c.date()) for c in r.cutoffs] == ["2024-03-31"]
    assert any("2 quarterly cutoff(s) after 2024-03-31 left out" in n for n in r.notes)


@pytest.mark.parametrize("kwargs, match", [
    ({"mode": "rolling"}, r"mode='rolling' should be 'refit' or 'frozen'"),
    ({"n_boot": -1}, r"n_boot=-1 should be a non-negative integer"),
    ({"n_folds": 0}, r"n_folds=0 should be an integer >= 1.*--n-folds"),
    ({"segmenters": ["kmeans"]}, r"unknown segmenter 'kmeans'.*--segmenters"),
    ({"segmenters": {"none": "abc"}}, r"segmenter name 'none' is used twice"),
    ({"segmenters": {"x": 3}}, r"segmenter 'x' is a int, which has no fit/predict"),
    ({"predictors": {"p": object()}}, r"predictor 'p' \(object\) lacks fit"),
    ({"cutoffs": ["2024-12-31"]}, r"ends 2025-03-31, after the last transaction day"),
    ({"cutoffs": ["2022-06-30"]}, r"cutoff 2022-06-30 leaves no customers"),
    ({"horizon": "2Q"}, r"horizon='2Q' is not a positive length of time"),
])
def test_errors(tx, kwargs, match):
    args = {"cutoffs": CUTS[:1], "horizon": "3M", "segmenters": ["abc"], "n_boot": 0, **kwargs}
    with pytest.raises(ConfigError, match=match):
        backtest(tx, **args)


def test_predictor_must_return_a_series(tx):
    class Bad(RecentSpend):
        def predict(self, transactions, customers, as_of):
            return np.zeros(3)

    with pytest.raises(ConfigError, match=r"predictor 'bad'.predict returned a ndarray"):
        backtest(tx, cutoffs=CUTS[:1], horizon="3M", segmenters=["abc"],
                 predictors={"bad": Bad()}, n_boot=0)


def test_horizon_offset_kept(res):
    assert res.horizon == parse_horizon("3M")
    assert res.settings["horizon"] == "3 months"


def test_cluster_model_stability_matches_refit_clusters(tx):
    """A refit numbers its clusters afresh: PSI is taken after matching them by overlap."""
    from backtest_data import VALUE_SPEC
    from scipy.optimize import linear_sum_assignment
    from sklearn.metrics import adjusted_rand_score

    from segml.backtest import ClusterModel
    from segml.monitoring import psi

    r = backtest(tx, cutoffs=CUTS, horizon="3M", n_boot=0,
                 segmenters={"km": ClusterModel(k=3, n_init=2, spec=VALUE_SPEC)})
    st = r.stability[r.stability["segmenter"] == "km"]
    assert st["centroid_drift"].notna().all() and (st["centroid_drift"] >= 0).all()
    a = r.assignments["km"]
    for i, row in enumerate(st.itertuples()):
        before, after = a.iloc[:, i].dropna(), a.iloc[:, i + 1].dropna()
        common = before.index.intersection(after.index)
        ct = pd.crosstab(after.loc[common], before.loc[common])
        r_, c_ = linear_sum_assignment(-ct.to_numpy())
        names = dict(zip(ct.index[r_], ct.columns[c_], strict=True))
        names.update({s: f"new{j}" for j, s in enumerate(
            [s for s in sorted(set(after)) if s not in names])})
        renamed = after.map(names)
        levels = sorted(set(before) | set(renamed))
        want = psi(before.value_counts(normalize=True).reindex(levels, fill_value=0),
                   renamed.value_counts(normalize=True).reindex(levels, fill_value=0))
        assert row.psi == pytest.approx(want, rel=1e-12, abs=1e-15)
        assert row.ari == pytest.approx(adjusted_rand_score(before.loc[common],
                                                            after.loc[common]), rel=1e-12)
        assert row.n_common == len(common)


def test_verdict_words_an_interval_below_zero():
    from segml.backtest.core import _verdict

    comp = pd.DataFrame([{"metric": "capture_top10", "winner": "a", "winner_value": 0.5,
                          "runner_up": "b", "runner_up_value": 0.5, "difference": 0.0,
                          "lo": -0.009, "hi": -0.001, "real": False}])
    text = _verdict(comp, pd.DataFrame(columns=["name", "metric", "value"]), 200, 5)
    assert "-0.009 to -0.001 lies below 0 (the runner-up is ahead in the resamples)" in text
    assert "includes 0" not in text
