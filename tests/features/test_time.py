from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from segml.errors import ConfigError, SchemaError
from segml.features._time import cutoff, days_between, filter_as_of, to_as_of, window_start


def _tx(times: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a"] * len(times),
            "timestamp": pd.to_datetime(times, format="%Y-%m-%d %H:%M:%S"),
            "amount": np.arange(len(times), dtype=float),
        }
    )


def test_as_of_is_required_and_never_defaulted():
    with pytest.raises(ConfigError, match="as_of is required and is never defaulted"):
        to_as_of(None)


def test_as_of_rejects_garbage_and_nat():
    with pytest.raises(ConfigError, match=r"as_of='not a date' is not a date"):
        to_as_of("not a date")
    with pytest.raises(ConfigError, match=r"is missing \(NaT\)"):
        to_as_of(pd.NaT)


def test_as_of_accepts_dates_and_makes_tz_naive_utc():
    assert to_as_of(dt.date(1998, 6, 30)) == pd.Timestamp("1998-06-30")
    assert to_as_of(np.datetime64("1998-06-30")) == pd.Timestamp("1998-06-30")
    aware = pd.Timestamp("1998-06-30 23:30", tz="Europe/Rome")
    assert to_as_of(aware) == pd.Timestamp("1998-06-30 21:30")
    assert to_as_of(aware).tzinfo is None


def test_cutoff_is_next_midnight_whatever_the_time_of_day():
    assert cutoff("1998-06-30") == pd.Timestamp("1998-07-01")
    assert cutoff("1998-06-30 23:59:59") == pd.Timestamp("1998-07-01")
    assert cutoff(pd.Timestamp("1998-12-31 12:00")) == pd.Timestamp("1999-01-01")


def test_boundary_2359_in_next_midnight_out():
    tx = _tx(["2024-01-30 08:00:00", "2024-01-31 23:59:59", "2024-02-01 00:00:00",
              "2024-03-01 00:00:00"])
    rows = filter_as_of(tx, "2024-01-31")
    assert rows.frame["amount"].tolist() == [0.0, 1.0]
    assert rows.n_after_as_of == 2
    assert rows.n_before_window == 0
    assert rows.frame.index.tolist() == [0, 1]
    # the caller's frame is untouched
    assert len(tx) == 4


def test_lookback_window_counts_calendar_days_including_as_of():
    tx = _tx(["2024-01-29 23:59:59", "2024-01-30 00:00:00", "2024-01-31 10:00:00",
              "2024-02-01 00:00:00"])
    assert window_start("2024-01-31", 2) == pd.Timestamp("2024-01-30")
    rows = filter_as_of(tx, "2024-01-31", lookback_days=2)
    assert rows.frame["amount"].tolist() == [1.0, 2.0]
    assert (rows.n_after_as_of, rows.n_before_window) == (1, 1)
    one = filter_as_of(tx, "2024-01-31", lookback_days=1)
    assert one.frame["amount"].tolist() == [2.0]


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "30"])
def test_lookback_must_be_positive_int(bad):
    with pytest.raises(ConfigError, match="lookback_days"):
        filter_as_of(_tx(["2024-01-01 00:00:00"]), "2024-01-31", lookback_days=bad)


def test_window_start_none_without_lookback():
    assert window_start("2024-01-31", None) is None


def test_filter_refuses_object_timestamps_and_missing_column():
    tx = _tx(["2024-01-01 00:00:00"])
    as_text = tx.assign(timestamp=tx["timestamp"].astype(str))
    with pytest.raises(SchemaError, match="expected datetime64; parse it once at load"):
        filter_as_of(as_text, "2024-01-31")
    with pytest.raises(SchemaError, match="has no 'timestamp' column"):
        filter_as_of(tx.drop(columns="timestamp"), "2024-01-31")


def test_filter_tz_aware_timestamps_compared_in_utc():
    tx = _tx(["2024-01-31 23:30:00", "2024-02-01 00:30:00"])
    tx["timestamp"] = tx["timestamp"].dt.tz_localize("Europe/Rome")  # 22:30 and 23:30 UTC
    rows = filter_as_of(tx, "2024-01-31")
    assert rows.frame["amount"].tolist() == [0.0, 1.0]


def test_days_between_scalars_count_calendar_boundaries():
    assert days_between(pd.Timestamp("2024-01-02 00:01"), pd.Timestamp("2024-01-01 23:59")) == 1
    assert days_between(pd.Timestamp("2024-01-01 23:59"), pd.Timestamp("2024-01-01 00:00")) == 0
    assert days_between(pd.Timestamp("2024-03-01"), pd.Timestamp("2024-02-01")) == 29  # leap
    assert days_between(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-03 12:00")) == -2
    assert np.isnan(days_between(pd.NaT, pd.Timestamp("2024-01-01")))
    # pandas' Timedelta.days floors the elapsed time: 0 here, segml says 1
    assert (pd.Timestamp("2024-01-02 00:01") - pd.Timestamp("2024-01-01 23:59")).days == 0


def test_days_between_vectorised_series_and_arrays():
    later = pd.Series(pd.to_datetime(["2024-01-10 00:00", "2024-01-10 23:59", None]),
                      index=["x", "y", "z"])
    out = days_between(later, pd.Timestamp("2024-01-09 23:00"))
    assert isinstance(out, pd.Series)
    assert out.index.tolist() == ["x", "y", "z"]
    np.testing.assert_array_equal(out.to_numpy(), [1.0, 1.0, np.nan])
    arr = days_between(
        np.array(["2024-01-05T01:00", "1969-12-31T23:00"], dtype="datetime64[ns]"),
        np.array(["2024-01-01T23:00", "1969-12-30T01:00"], dtype="datetime64[ns]"),
    )
    np.testing.assert_array_equal(arr, [4.0, 1.0])
