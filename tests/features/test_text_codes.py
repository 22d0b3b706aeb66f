"""The pandas log reaches polars with its text dictionary-encoded, and the features do not change.

Issue 19: at 1M customers / 36M lines, the text columns as polars ``String`` cost about 3 GiB
in the features stage; they now arrive as Categorical (ids, levels, status) and integer codes
(``order_id``). Expected values are computed by hand in the comments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from segml.features import SortedTransactions
from segml.features.transactions import payment_features, top_levels, transaction_features

AS_OF = "2024-06-30"


def _log() -> pd.DataFrame:
    rows = [
        # customer, timestamp, order, amount, category, channel, status, due, paid
        ("b", "2024-01-02 10:00", "o9", 10.0, "toys", "web", "completed", "2024-01-10",
         "2024-01-12"),
        ("a", "2024-01-05 10:00", "o1", 20.0, "books", "web", "completed", "2024-01-10",
         "2024-01-10"),
        ("a", "2024-01-05 11:00", "o1", 5.0, "toys", "store", "completed", "2024-01-12",
         "2024-01-15"),
        ("a", "2024-02-01 09:00", None, 7.0, "books", "web", "completed", None, None),
        ("a", "2024-02-01 17:00", None, 3.0, "books", "web", "completed", None, None),
        ("a", "2024-03-01 09:00", None, 4.0, None, "web", None, None, None),
        ("a", "2024-03-02 09:00", "o2", 8.0, "toys", "web", "returned", None, None),
        ("b", "2024-04-01 10:00", "o3", 30.0, "books", "store", "cancelled", None, None),
        ("c", "2024-05-01 10:00", "o4", 15.0, "toys", "store", "completed", "2024-05-10",
         None),
    ]
    cols = ["customer_id", "timestamp", "order_id", "amount", "category", "channel",
            "status", "due_date", "paid_date"]
    frame = pd.DataFrame(rows, columns=cols)
    for c in ("customer_id", "order_id", "category", "channel", "status"):
        frame[c] = frame[c].astype("str")
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    frame["due_date"] = pd.to_datetime(frame["due_date"])
    frame["paid_date"] = pd.to_datetime(frame["paid_date"])
    return frame


def test_converted_log_holds_codes_not_strings():
    frame = SortedTransactions(_log()).frame
    assert isinstance(frame.schema["customer_id"], pl.Categorical)
    for c in ("category", "channel", "status"):
        assert isinstance(frame.schema[c], pl.Categorical), c
    assert frame.schema["order_id"] == pl.Int32
    # equal codes for equal ids, missing stays missing: o1 twice, three lines without an id
    orders = frame["order_id"]
    assert orders.null_count() == 3
    assert orders.drop_nulls().n_unique() == 5  # o9, o1, o2, o3, o4


def test_codes_give_the_same_features_as_text():
    tx = _log()
    coded = transaction_features(tx, AS_OF, customers=["d"])
    text = transaction_features(pl.from_pandas(tx), AS_OF, customers=["d"])  # polars String
    pd.testing.assert_frame_equal(coded, text, check_exact=False, rtol=1e-12)
    # a polars log whose text is already Categorical / Enum gives the same frame
    typed = pl.from_pandas(tx).with_columns(
        pl.col("customer_id", "category", "channel").cast(pl.Categorical),
        pl.col("status").cast(pl.Enum(["returned", "completed", "cancelled"])))
    pd.testing.assert_frame_equal(
        transaction_features(typed, AS_OF, customers=["d"]), text, check_exact=False,
        rtol=1e-12)
    # a: orders o1 and o2 is a return; the lines without an id count one order per day
    #    (2024-02-01 twice = 1, 2024-03-01 = 1): o1 + 2 days = 3
    assert coded.loc["a", "frequency"] == 3
    # a: 20 + 5 + 7 + 3 + 4 + 8 = 47 (o2 is marked returned with a positive amount, and
    #    monetary sums every non-cancelled line); b: 10 (o3 cancelled); c: 15
    np.testing.assert_allclose(coded["monetary"].to_numpy(), [47.0, 10.0, 15.0, 0.0],
                               rtol=0, atol=1e-12)
    assert coded.index.tolist() == ["a", "b", "c", "d"]
    # a's return: 8 of gross 39 purchase spend
    assert coded.loc["a", "return_rate"] == pytest.approx(8 / 39, rel=1e-12)
    # channels bought by a: web and store (the returned line does not count)
    assert coded.loc["a", "n_channels"] == 2


def test_invoices_group_by_coded_order_ids():
    f = payment_features(_log(), AS_OF)
    # a: invoice o1 = lines due 01-10 / 01-12 (earliest 01-10), paid 01-10 / 01-15 (latest
    #    01-15): 5 days late; b: o9 paid 2 days late; c: o4 due, unpaid
    assert f.loc["a", "days_late_max"] == 5.0
    assert f.loc["b", "days_late_max"] == 2.0
    assert f.loc["c", "unpaid_share"] == 1.0
    assert np.isnan(f.loc["c", "days_late_mean"])


def test_level_ties_are_broken_by_name_not_by_code():
    # "toys" is met first (lower code) and ties with "books" on spend: the name decides
    tx = _log().iloc[[0, 1]].assign(amount=[10.0, 10.0])
    assert top_levels(tx, "category", AS_OF, 1) == ["books"]
