"""Cutoffs, horizons and the outcome window on a hand-made log with exact values."""

import pandas as pd
import pytest

from segml.backtest import History, make_cutoffs, parse_horizon
from segml.errors import ConfigError, SchemaError

TS = pd.to_datetime(["2024-01-10", "2024-02-05 09:00", "2024-02-05 18:00", "2024-04-01",
                     "2024-01-31 23:59", "2024-03-01", "2024-05-02"], format="ISO8601")
TX = pd.DataFrame({"customer_id": pd.Series(["a", "a", "a", "a", "b", "b", "c"], dtype="str"),
                   "timestamp": TS, "amount": [10.0, 20.0, 5.0, 7.0, 30.0, -5.0, 8.0]})


def test_outcome_window_exact():
    h = History(TX.sample(frac=1.0, random_state=1))  # any row order
    off = parse_horizon("1M")
    cut = pd.Timestamp("2024-01-31")
    end = h.check_window(cut, off)
    assert end == pd.Timestamp("2024-02-29")
    out = h.outcomes(cut, end, off, pd.Index(["a", "b", "c", "zz"]))
    assert out["revenue"].tolist() == [25.0, 0.0, 0.0, 0.0]  # 03-01 is after the window
    assert out["orders"].tolist() == [1, 0, 0, 0]  # two lines on one day: one order
    assert out["bought_again"].tolist() == [True, False, False, False]
    # churned: active in (2023-12-31, 2024-01-31] and no order in the window
    assert out["churned"].tolist()[:2] == [0.0, 1.0]
    assert out["churned"].iloc[2:].isna().all()


def test_orders_by_order_id():
    tx = TX.assign(order_id=["o1", "o2", "o3", "o4", "o5", "o6", "o7"])
    h = History(tx)
    off = parse_horizon(29)
    out = h.outcomes(pd.Timestamp("2024-01-31"), pd.Timestamp("2024-02-29"), off, pd.Index(["a"]))
    assert out["orders"].tolist() == [2]


def test_window_with_coded_ids_met_out_of_text_order():
    # the log reaches History dictionary-encoded (issue 19): "c" and "b" are met before "a",
    # so their codes are not in text order; order ids repeat and some are missing
    tx = TX.iloc[[6, 4, 5, 0, 1, 2, 3]].assign(
        order_id=pd.array(["o9", "o5", None, "o1", "o2", "o2", None], dtype="str"))
    h = History(tx)
    got = h.window()
    assert got.index.tolist() == ["a", "b", "c"]
    # a: o1, o2 (two lines), and the 04-01 line without an id (its own order); b: o5 and the
    # 03-01 line without an id; c: o9
    assert got["orders"].tolist() == [3, 2, 1]
    assert got["revenue"].tolist() == pytest.approx([42.0, 25.0, 8.0], abs=1e-12)


def test_as_of_slice_is_inclusive_of_the_day():
    h = History(TX)
    got = h.as_of(pd.Timestamp("2024-01-31"))
    assert sorted(got["amount"].tolist()) == [10.0, 30.0]  # 23:59 on the day counts


def test_window_past_the_data():
    h = History(TX)
    with pytest.raises(ConfigError, match=r"cutoff 2024-04-30 ends 2024-05-30, after the last "
                                          r"transaction day 2024-05-02.*--horizon"):
        h.check_window(pd.Timestamp("2024-04-30"), parse_horizon("1M"))
    assert h.check_window(pd.Timestamp("2024-04-02"), parse_horizon("1M")) == TS.max()


@pytest.mark.parametrize("value, expected", [
    (90, pd.DateOffset(days=90)), ("3M", pd.DateOffset(months=3)),
    ("13w", pd.DateOffset(weeks=13)), ("1Y", pd.DateOffset(years=1)),
    ("90", pd.DateOffset(days=90))])  # the CLI passes --horizon 90 as text
def test_parse_horizon(value, expected):
    assert parse_horizon(value) == expected


@pytest.mark.parametrize("bad", [0, "0D", "3X", True, 2.5, "-1M", "0", ""])
def test_parse_horizon_refuses(bad):
    with pytest.raises(ConfigError, match=r"is not a positive length of time.*--horizon 3M"):
        parse_horizon(bad)


def test_calendar_rules():
    first, last = pd.Timestamp("2024-01-10"), pd.Timestamp("2024-12-31")
    assert make_cutoffs("quarterly", first=first, last=last) == list(
        pd.to_datetime(["2024-03-31", "2024-06-30", "2024-09-30", "2024-12-31"]))
    got = make_cutoffs("monthly", first=first, last=last, start="2024-02-01", end="2024-04-30")
    assert got == list(pd.to_datetime(["2024-02-29", "2024-03-31", "2024-04-30"]))


def test_explicit_dates_and_errors():
    f, last = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-12-31")
    assert make_cutoffs(["2024-03-31", "2024-06-30"], first=f, last=last) == list(
        pd.to_datetime(["2024-03-31", "2024-06-30"]))
    with pytest.raises(ConfigError, match=r"out of order or repeated: 2024-03-31"):
        make_cutoffs(["2024-06-30", "2024-03-31"], first=f, last=last)
    with pytest.raises(ConfigError, match=r"cutoffs='weekly' is not a calendar rule"):
        make_cutoffs("weekly", first=f, last=last)
    with pytest.raises(ConfigError, match=r"empty list"):
        make_cutoffs([], first=f, last=last)
    with pytest.raises(ConfigError, match=r"gives no date between 2024-01-01 and 2024-01-20"):
        make_cutoffs("monthly", first=f, last=pd.Timestamp("2024-01-20"))
    with pytest.raises(ConfigError, match=r"list of dates, got Timestamp"):
        make_cutoffs(pd.Timestamp("2024-03-31"), first=f, last=last)


def test_history_refuses_bad_input():
    with pytest.raises(SchemaError, match=r"lack column\(s\) amount"):
        History(TX.drop(columns="amount"))
    with pytest.raises(SchemaError, match=r"has no rows"):
        History(TX.iloc[:0])
    with pytest.raises(SchemaError, match=r"should be a pandas DataFrame, got list"):
        History([1, 2])
