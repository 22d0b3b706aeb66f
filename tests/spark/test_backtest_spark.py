"""backtest(engine="spark"): each cutoff's features built on Spark give the pandas result."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segml.backtest import ClusterModel, backtest
from segml.datasets import make_portfolio
from segml.errors import ConfigError, EngineError
from segml.features import FeatureSpec, build_features
from segml.spark.features import SPARK_COLUMNS

CUTOFFS = ["2023-12-31", "2024-03-31"]


def _spark_spec(tx: pd.DataFrame, cu: pd.DataFrame) -> FeatureSpec:
    """Default spec of the columns spark_feature_frame builds (the same for both engines)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = build_features(tx, cu, CUTOFFS[0]).frame
    cols = [c for c in frame.columns
            if c in SPARK_COLUMNS or c.startswith(("category_share_", "channel_share_"))]
    return FeatureSpec.default(cols)


def _run(tx, cu, spec, mode="refit", **kw):
    segs = {"clusters": ClusterModel(k=3, n_init=3), "rfm_groups": "rfm_groups", "abc": "abc"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return backtest(tx, cu, cutoffs=CUTOFFS, horizon="3M", segmenters=segs, n_boot=10,
                        feature_spec=spec, mode=mode, random_state=0, **kw)


@pytest.fixture(scope="module")
def data():
    pf = make_portfolio(200, random_state=1)
    cu = pf.customers[["customer_id", "signup_date"]]
    return pf.transactions, cu, _spark_spec(pf.transactions, cu)


def _assert_same(a, b):
    assert set(a.assignments) == set(b.assignments)
    for name in a.assignments:  # labels exact
        pd.testing.assert_frame_equal(a.assignments[name], b.assignments[name])
    for got, want in ((a.table(), b.table()), (a.validity, b.validity),
                      (a.stability, b.stability)):
        assert list(got.columns) == list(want.columns)
        num = [c for c in want.columns if pd.api.types.is_float_dtype(want[c])]
        other = [c for c in want.columns if c not in num]
        pd.testing.assert_frame_equal(got[other], want[other])
        np.testing.assert_allclose(got[num].to_numpy(float), want[num].to_numpy(float),
                                   rtol=1e-9, atol=1e-12, equal_nan=True)
    for c in a.outcomes:
        pd.testing.assert_frame_equal(a.outcomes[c], b.outcomes[c])


@pytest.fixture(scope="module")
def pandas_refit(data):
    tx, cu, spec = data
    return _run(tx, cu, spec)


def test_spark_backtest_equals_pandas(data, spark, pandas_refit):
    tx, cu, spec = data
    got = _run(tx, cu, spec, engine="spark", spark=spark)
    _assert_same(got, pandas_refit)
    assert got.verdict == pandas_refit.verdict
    assert any("features built on Spark" in n for n in got.notes)


def test_frozen_spark_backtest_equals_pandas(data, spark):
    tx, cu, spec = data  # frozen: the first cutoff's Spark state reused (builder.transform)
    _assert_same(_run(tx, cu, spec, mode="frozen", engine="spark", spark=spark),
                 _run(tx, cu, spec, mode="frozen"))


def test_no_spec_uses_the_spark_columns_and_says_so(data, spark, pandas_refit):
    tx, cu, _ = data
    res = _run(tx, cu, None, engine="spark", spark=spark)
    note = next(n for n in res.notes if "features built on Spark" in n)
    assert "default spec of the Spark-built columns" in note
    for name in ("rfm_groups", "abc"):
        pd.testing.assert_frame_equal(res.assignments[name], pandas_refit.assignments[name])
    # the same default spec as the pandas run's (the Spark-built columns); the engines may
    # order the columns differently, which k-means sees only as float rounding
    for c in CUTOFFS:
        a = res.assignments["clusters"][pd.Timestamp(c)].dropna()
        b = pandas_refit.assignments["clusters"][pd.Timestamp(c)].loc[a.index]
        assert adjusted_rand_score(a, b) >= 0.99


def test_spark_engine_errors(data, spark):
    tx, cu, spec = data
    with pytest.raises(ConfigError, match="engine='sparkle' should be 'pandas' or 'spark'"):
        _run(tx, cu, spec, engine="sparkle")
    with pytest.raises(ConfigError, match="needs a Spark session.*Fix: pass"):
        _run(tx, cu, spec, engine="spark", spark=None)
    attr = FeatureSpec.default(["recency_days", "monetary", "age"])
    with pytest.raises(EngineError, match=r"\['age'\] are not built on Spark.*Fix:"):
        _run(tx, cu, attr, engine="spark", spark=spark)
