"""rfm_summary: the CDNOW conventions, exact on hand-made frames and on the published sample."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segml.errors import ConfigError, DataQualityWarning, SchemaError
from segml.io import load_cdnow
from segml.value import rfm_summary


def _tx(rows):
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"]).assign(
        timestamp=lambda d: pd.to_datetime(d["timestamp"], format="mixed"))


def test_hand_made_summary_exact():
    tx = _tx([
        ("a", "2024-01-01 09:00", 5.0), ("a", "2024-01-01 17:00", 5.0),  # one purchase day
        ("a", "2024-01-15", 20.0), ("a", "2024-01-29 23:59", 40.0),    # last day is included
        ("a", "2024-01-30", 99.0),                                        # holdout
        ("b", "2024-01-08", 7.0),
        ("c", "2024-01-10", 3.0), ("c", "2024-01-17", -3.0),             # a return: no purchase
    ])
    s = rfm_summary(tx, "2024-01-29", holdout_end="2024-02-12")
    assert list(s.index) == ["a", "b", "c"]
    assert s["x"].tolist() == [2, 0, 0]
    assert s["t_x"].tolist() == [4.0, 0.0, 0.0]
    assert s["T"].tolist() == [4.0, 3.0, 19 / 7]
    assert s.loc["a", "monetary"] == 30.0  # mean of the repeat days 20 and 40, first day out
    assert np.isnan(s.loc["b", "monetary"])
    assert s["x_holdout"].tolist() == [1, 0, 0]
    assert s["spend_holdout"].tolist() == [99.0, 0.0, 0.0]
    assert (s["duration_holdout"] == 2.0).all()
    d = rfm_summary(tx, "2024-01-29", time_unit="D")
    assert d.loc["a", "t_x"] == 28.0 and d.loc["a", "T"] == 28.0
    assert "monetary" not in rfm_summary(tx.drop(columns="amount"), "2024-01-29").columns


def test_status_cancelled_and_returned_are_not_purchases():
    tx = _tx([("a", "2024-01-01", 5.0), ("a", "2024-01-05", 5.0), ("a", "2024-01-09", 5.0)])
    tx["status"] = ["completed", "cancelled", "returned"]
    assert rfm_summary(tx, "2024-01-31")["x"].tolist() == [0]


def test_first_purchase_after_calibration_is_left_out_and_counted():
    tx = _tx([("a", "2024-01-01", 5.0), ("late", "2024-02-02", 5.0)])
    with pytest.warns(DataQualityWarning, match="1 customer.*first bought after"):
        s = rfm_summary(tx, "2024-01-31", holdout_end="2024-03-01")
    assert list(s.index) == ["a"] and s.attrs["n_first_after_calibration"] == 1


def test_errors():
    tx = _tx([("a", "2024-01-01", 5.0)])
    with pytest.raises(ConfigError, match="time_unit='Q'.*Fix"):
        rfm_summary(tx, "2024-01-31", time_unit="Q")
    with pytest.raises(ConfigError, match="holdout_end=.*not after calibration_end.*Fix"):
        rfm_summary(tx, "2024-01-31", holdout_end="2024-01-31")
    with pytest.raises(SchemaError, match="no 'customer_id'.*Fix"):
        rfm_summary(tx.drop(columns="customer_id"), "2024-01-31")
    with pytest.raises(SchemaError, match="expected datetime64"):
        rfm_summary(tx.assign(timestamp="2024-01-01"), "2024-01-31")
    with pytest.raises(SchemaError, match="expected a pandas DataFrame.*Fix"):
        rfm_summary([1, 2], "2024-01-31")
    with pytest.raises(ConfigError, match="as_of is required"):
        rfm_summary(tx, None)


_days = st.integers(min_value=0, max_value=120)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcd"), _days, st.floats(0, 100)), min_size=1,
                max_size=30),
       st.lists(st.tuples(st.sampled_from("abcde"), st.integers(61, 200), st.floats(0, 100)),
                max_size=10))
def test_summary_uses_no_row_after_calibration_end(before, after):
    """Adding rows after calibration_end never changes the calibration columns."""
    start = pd.Timestamp("2024-01-01")
    base = [(c, start + pd.Timedelta(days=min(d, 60)), a) for c, d, a in before]
    later = [(c, start + pd.Timedelta(days=d), a) for c, d, a in after]
    cal_end = start + pd.Timedelta(days=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        s0 = rfm_summary(_tx(base), cal_end)
        s1 = rfm_summary(_tx(base + later), cal_end)
    pd.testing.assert_frame_equal(s0, s1, check_like=True)
    assert (s0["t_x"] <= s0["T"]).all() and (s0["x"] >= 0).all()


def test_cdnow_sample_matches_published_summary(shared_data):
    tx = load_cdnow(shared_data / "CDNOW_sample.txt", sample=True).transactions
    s = rfm_summary(tx, "1997-09-30", holdout_end="1998-06-30")
    assert len(s) == 2357
    assert int((s["x"] > 0).sum()) == 946
    # A customer first buying 1997-01-01 has T = 272 / 7 weeks.
    first = tx.groupby("customer_id")["timestamp"].min()
    jan1 = first[first == "1997-01-01"].index
    assert len(jan1) > 0 and np.allclose(s.loc[jan1, "T"], 272 / 7)
    assert round(s.loc[jan1, "T"].iloc[0], 2) == 38.86
    # Holdout totals recomputed independently: distinct customer-days after the calibration end.
    days = tx.assign(day=tx["timestamp"].dt.normalize()).drop_duplicates(["customer_id", "day"])
    hold = days[(days["day"] > "1997-09-30") & (days["day"] <= "1998-06-30")]
    assert int(s["x_holdout"].sum()) == len(hold) == 1882
    cal = days[days["day"] <= "1997-09-30"]
    assert int(s["x"].sum()) == len(cal) - 2357 == 2457
    assert s["duration_holdout"].iloc[0] == 39.0


def test_docstring_examples_run():
    import doctest

    import segml.value.bgnbd
    import segml.value.summary

    for mod in (segml.value.summary, segml.value.bgnbd):
        res = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert res.failed == 0 and res.attempted > 0


def test_rows_left_out_are_counted():
    tx = _tx([("a", "2024-01-01", 5.0), ("a", "2024-01-05", -5.0), ("a", "2024-01-09", 5.0),
              ("a", "2024-01-12", 7.0), ("a", "2024-01-20", np.nan), ("a", "2024-03-01", -1.0)])
    tx["status"] = ["completed", "returned", "cancelled", "completed", "completed", "returned"]
    with pytest.warns(DataQualityWarning, match=r"1 purchase row\(s\) have no amount.*Fix"):
        s = rfm_summary(tx, "2024-01-31")
    assert (s.attrs["n_return_rows"], s.attrs["n_cancelled_rows"],
            s.attrs["n_missing_amount_rows"]) == (1, 1, 1)
    assert s.loc["a", "x"] == 2 and s.loc["a", "monetary"] == 3.5
