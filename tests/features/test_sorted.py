"""SortedTransactions: the log converted and sorted once; builds from its prefixes are fresh builds.

The backtest builds features at many cutoffs from ``SortedTransactions(tx).as_of(T)``; these
tests hold that this gives the frame (and the counts) of a build from the whole pandas log.
"""

import warnings

import numpy as np
import pandas as pd
import polars as pl
import pytest

from segml.datasets import make_portfolio
from segml.errors import SchemaError
from segml.features import FeatureBuilder, SortedTransactions

PF = make_portfolio(400, random_state=3)
CUTOFFS = pd.to_datetime(["2023-02-28", "2023-08-31", "2024-03-31", "2024-06-30"])


def _build(tx, cust, as_of, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a late as_of warns the same on both sides
        return FeatureBuilder(**kw).fit_transform(tx, cust, as_of=as_of)


@pytest.mark.parametrize("lookback", [None, 120])
def test_prefix_builds_equal_fresh_builds(lookback):
    st = SortedTransactions(PF.transactions)
    for c in CUTOFFS:
        fresh = _build(PF.transactions, PF.customers, c, lookback_days=lookback)
        shared = _build(st.as_of(c), PF.customers, c, lookback_days=lookback)
        pd.testing.assert_frame_equal(shared.frame, fresh.frame, check_exact=False, rtol=1e-12)
        assert shared.state.columns == fresh.state.columns
        # the prefix holds no later row: only the counts about rows after as_of differ
        later = ("rows_after_as_of", "days_after_last_transaction")
        assert shared.report["rows_after_as_of"] == 0
        assert {k: v for k, v in shared.report.items() if k not in later} == {
            k: v for k, v in fresh.report.items() if k not in later}


def test_polars_input_reports_the_same_counts():
    tx = PF.transactions
    c = CUTOFFS[1]
    a = _build(tx, PF.customers, c, lookback_days=90)
    b = _build(pl.from_pandas(tx), PF.customers, c, lookback_days=90)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert a.report == b.report
    assert a.report["rows_after_as_of"] > 0 and a.report["rows_before_window"] > 0


def test_sorted_prefix_and_order_exact():
    ts = pd.to_datetime(["2024-03-01 00:00", "2024-01-05 10:00", None, "2024-01-31 23:59",
                         "2024-01-05 09:00"])
    tx = pd.DataFrame({"customer_id": pd.Series(["a", "b", "c", "a", "c"], dtype="str"),
                       "timestamp": ts, "amount": [1.0, 2.0, 3.0, 4.0, 5.0],
                       "quantity": [1, 1, 1, 1, 1]})
    st = SortedTransactions(tx)
    assert st.order.tolist() == [4, 1, 3, 0, 2]  # stable, the missing timestamp last
    assert st.frame.columns == ["customer_id", "timestamp", "amount"]  # not read by features
    assert st.n_as_of("2024-01-04") == 0
    assert st.n_as_of("2024-01-31") == 3  # 23:59 on the day counts
    assert st.n_as_of("2030-01-01") == 4  # never the row without a timestamp
    assert st.as_of("2024-01-31")["amount"].to_list() == [5.0, 2.0, 4.0]
    src = st.source_rows(tx, 3)
    assert sorted(src["amount"]) == [2.0, 4.0, 5.0] and "quantity" in src.columns


def test_already_sorted_log_is_not_reordered():
    tx = PF.transactions.sort_values("timestamp", kind="stable").reset_index(drop=True)
    st = SortedTransactions(tx)
    assert st.order is None
    n = st.n_as_of(CUTOFFS[0])
    assert st.source_rows(tx, n).equals(tx.iloc[:n])
    assert np.all(st.timestamps[:n] < np.datetime64(CUTOFFS[0] + pd.Timedelta(days=1)))


def test_refuses_like_the_feature_build():
    with pytest.raises(SchemaError, match=r"lacks required column\(s\) \['amount'\]"):
        SortedTransactions(PF.transactions.drop(columns="amount"))
    with pytest.raises(SchemaError, match="'timestamp' has dtype .*expected datetime64"):
        SortedTransactions(PF.transactions.assign(timestamp="2024-01-01"))
    with pytest.raises(SchemaError, match="should be a pandas or polars DataFrame"):
        SortedTransactions([1, 2])
