"""The columnar paths of transaction validation (issue 19) give the row-by-row results.

Ids are made canonical once per distinct value, text columns are cleaned once per distinct
value, duplicates are searched through a 64-bit row key and rows are sorted on integer keys;
these tests pin each to the plain pandas definition it replaces.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segml.errors import SchemaError
from segml.schema import parse_ids, validate_transactions
from segml.schema.ids import _canonical_id
from segml.schema.values import _to_status, _to_string

ID_ATOMS = ["C1", " C1", "C1 ", "12", "12.0", "012", "-3.00", "NA", "null", "-", "a b", "Ä",
            "x.y", "C-2", "c_3", "\u00a0C1"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(ID_ATOMS), min_size=1, max_size=30),
       st.sampled_from(["str", object]))
def test_ids_are_canonical_value_by_value(values, dtype):
    s = pd.Series(values, dtype=dtype)
    ids, missing = parse_ids(s, "transactions", "customer_id")
    expected = [_canonical_id(v) for v in values]
    assert missing.tolist() == [e is None for e in expected]
    assert [None if m else v for v, m in zip(ids.tolist(), missing, strict=True)] == expected


def test_clean_text_ids_are_kept_without_a_copy():
    s = pd.Series(["C2", "C1", "C2"], dtype="str")
    ids, missing = parse_ids(s, "transactions", "customer_id")
    assert ids.tolist() == ["C2", "C1", "C2"] and not missing.any()
    assert ids.equals(s) and ids.dtype == "str" and ids.name == s.name


def test_text_columns_are_cleaned_per_distinct_value():
    s = pd.Series([" a", "a", "", None, "b ", " a"], dtype="str", index=[5, 6, 7, 8, 9, 10])
    out = _to_string(s)
    assert out.tolist()[:2] == ["a", "a"] and out.tolist()[4:] == ["b", "a"]
    assert out.isna().tolist() == [False, False, True, True, False, False]
    assert out.index.tolist() == [5, 6, 7, 8, 9, 10]
    st_ = _to_status(pd.Series(["Completed", " returned", None, "refund"], dtype="str"),
                     "transactions")
    assert st_.tolist() == ["completed", "returned", "completed", "returned"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["C1", "C2", " C2", "C10", "7", "7.0"]),
                          st.sampled_from(["2024-01-02", "2024-01-01", "2024-01-03 10:00"]),
                          st.sampled_from([1.0, 2.5, -1.0, 0.0]),
                          st.sampled_from(["p", "q"])), min_size=1, max_size=40))
def test_duplicates_and_order_match_plain_pandas(rows):
    raw = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "product"])
    tx, rep = validate_transactions(raw, timestamp_format="ISO8601")
    assert rep.flagged.get("exact duplicate rows (kept; dedupe drops them)", 0) == int(
        raw.duplicated().sum())
    # the contract's order: customer_id then timestamp, stable (input order breaks ties)
    ids = [_canonical_id(v) for v in raw["customer_id"]]
    ref = (pd.DataFrame({"customer_id": ids, "timestamp": pd.to_datetime(raw["timestamp"],
                                                                         format="ISO8601"),
                         "amount": raw["amount"], "pos": range(len(raw))})
           .sort_values(["customer_id", "timestamp"], kind="stable"))
    assert tx["customer_id"].tolist() == ref["customer_id"].tolist()
    assert tx["timestamp"].tolist() == ref["timestamp"].tolist()
    assert tx["amount"].tolist() == ref["amount"].tolist()
    deduped, _ = validate_transactions(raw, dedupe=True, timestamp_format="ISO8601")
    assert len(deduped) == len(raw) - int(raw.duplicated().sum())


LEVEL_ATOMS = ["PhD", " phd", "Master", "first contact", "First-Contact", "first - contact",
               "basic", None, "", "2n Cycle", "very dissatisfied", "Very-Dissatisfied "]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(LEVEL_ATOMS), min_size=1, max_size=30),
       st.sampled_from(["education", "journey_stage", "satisfaction"]))
def test_ordinal_labels_are_cleaned_per_distinct_value(values, column):
    # the row-by-row definition the per-distinct-label path replaces
    from segml.schema.columns import ORDERED_LEVELS
    from segml.schema.values import _to_ordered

    s = pd.Series(values, dtype="str", index=range(10, 10 + len(values)))
    clean = s.str.strip().mask(lambda x: x.eq("")).str.lower()
    expected = clean.str.replace(r"[\s\-]+", "_", regex=True)
    outside = expected.notna() & ~expected.isin(ORDERED_LEVELS[column])
    if outside.any():
        with pytest.raises(SchemaError, match=rf"customers\.{column}: has values outside"):
            _to_ordered(s, "customers", column)
        return
    got = _to_ordered(s, "customers", column)
    assert got.index.tolist() == s.index.tolist()
    assert got.fillna("<NA>").tolist() == expected.fillna("<NA>").tolist()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 3), st.sampled_from(
    [1.0, -2.5, 0.0, float("nan")])), min_size=1, max_size=60))
def test_repeated_keys_are_pandas_duplicated_keep_false(rows):
    # the duplicate-row candidates come from a sort of the keys (neighbours), not a hash
    import numpy as np

    from segml.schema.transactions import _repeated_keys, _row_keys

    codes = np.array([r[0] for r in rows], dtype=np.int64)
    ts = pd.Series(pd.to_datetime([f"2024-01-0{r[1] + 1}" for r in rows]))
    amount = pd.Series([r[2] for r in rows], dtype="float64")
    want = pd.Series(_row_keys(codes, ts, amount)).duplicated(keep=False).to_numpy()
    got = _repeated_keys(codes, ts, amount)
    assert got.dtype == bool and got.tolist() == want.tolist()
    plain = pd.DataFrame({"c": codes, "t": ts, "a": amount}).duplicated(keep=False).to_numpy()
    assert (got | ~plain).all()  # every row equal to another is a candidate
