"""Work shared across cutoffs gives what independent per-cutoff builds and fits give.

The backtest converts and sorts the log once (History / SortedTransactions), builds each
cutoff's features from a zero-copy prefix and takes a cluster model's labels from its fit;
each cutoff must still equal a fresh ``fit_at`` on the whole, unsorted pandas log.
"""

import numpy as np
import pandas as pd
import polars as pl
from backtest_data import VALUE_SPEC, RecentSpend, tiny_transactions

from segml.backtest import ClusterModel, History, backtest, fit_at, resolve_segmenters

TX = tiny_transactions(60, seed=4).sample(frac=1.0, random_state=2).reset_index(drop=True)
CUTOFFS = pd.to_datetime(["2023-06-30", "2023-09-30", "2023-12-31", "2024-03-31"])
SEGMENTERS = {"clusters": ClusterModel(k=3, n_init=1, spec=VALUE_SPEC), "abc": "abc",
              "rfm_groups": "rfm_groups"}


def test_backtest_equals_independent_fits_per_cutoff():
    res = backtest(TX, cutoffs=list(CUTOFFS), horizon="3M", segmenters=SEGMENTERS, n_boot=0,
                   predictors={"recent": RecentSpend()})
    templates = resolve_segmenters(SEGMENTERS)
    hist = History(TX)
    for c in CUTOFFS:
        alone = fit_at(TX, None, c, segmenters=templates, predictors={"recent": RecentSpend()})
        for name in templates:
            got = res.assignments[name][c].dropna()
            pd.testing.assert_series_equal(got, alone.labels[name].sort_index(),
                                           check_names=False, check_dtype=False)
        want = hist.outcomes(c, (c + pd.DateOffset(months=3)).normalize(),
                             pd.DateOffset(months=3), alone.frame.index)
        pd.testing.assert_frame_equal(res.outcomes[c], want)


def test_polars_prefix_fit_equals_pandas_fit():
    hist = History(TX)
    templates = resolve_segmenters(SEGMENTERS)
    c = CUTOFFS[2]
    rows = hist.rows_as_of(c)
    assert isinstance(rows, pl.DataFrame)
    a = fit_at(rows, None, c, segmenters=templates, predictors={"recent": RecentSpend()},
               predictor_transactions=hist.as_of(c))
    b = fit_at(TX, None, c, segmenters=templates, predictors={"recent": RecentSpend()})
    pd.testing.assert_frame_equal(a.features.frame, b.features.frame)
    np.testing.assert_allclose(a.models["clusters"].centers, b.models["clusters"].centers,
                               rtol=1e-10)
    for name in templates:
        pd.testing.assert_series_equal(a.labels[name], b.labels[name])
    pd.testing.assert_series_equal(a.scores["recent"], b.scores["recent"])
    # without predictor rows the predictors get the prefix as pandas: same scores
    c2 = fit_at(rows, None, c, segmenters=templates, predictors={"recent": RecentSpend()})
    pd.testing.assert_series_equal(c2.scores["recent"], b.scores["recent"])


def test_cluster_fit_predict_is_predict():
    frame = fit_at(TX, None, CUTOFFS[3], segmenters=resolve_segmenters(["abc"])).frame
    m = ClusterModel(k=4, n_init=2, spec=VALUE_SPEC, random_state=1)
    got = m.fit_predict(frame)
    pd.testing.assert_series_equal(got, m.predict(frame))
    assert sorted(got.unique()) == ["0", "1", "2", "3"]


def test_history_slices_without_a_sorted_pandas_copy():
    tx = TX.assign(note="x")  # a column the features never read
    hist = History(tx)
    assert "note" not in hist.rows.frame.columns and not hasattr(hist, "tx")
    c = CUTOFFS[1]
    bound = c + pd.Timedelta(days=1)
    rows = hist.rows_as_of(c)
    assert rows.height == int((tx["timestamp"] < bound).sum())
    assert rows["timestamp"].is_sorted()
    got = hist.as_of(c)
    assert list(got.columns) == list(tx.columns)  # the predictors get every column
    assert got.index.isin(tx.index[tx["timestamp"] < bound]).all()
    assert len(got) == rows.height


def test_labels_are_text_with_one_object_per_segment():
    fit = fit_at(TX, None, CUTOFFS[3], segmenters=resolve_segmenters(["rfm_groups"]))
    for name, lab in fit.labels.items():
        assert lab.dtype == object and lab.name == name
        assert all(isinstance(v, str) for v in lab)
        first = {}
        for v in lab:  # equal labels are the same object: a backtest keeps them all
            assert first.setdefault(v, v) is v
    assert set(fit.labels["none"]) == {"all"}
