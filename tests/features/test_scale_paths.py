"""The issue-19 fast paths give what the row-by-row code gave.

* :func:`segml.features.privacy.identifier_reasons` checks each distinct value once and
  weights it by its count; the reference below is the former row-by-row check.
* :class:`~segml.features.FeatureBuilder` converts a pandas log to polars once
  (``feature_frame``); a log that fails a check is passed on as it is, so the errors and
  their order (as-of range before the date columns) are those of before.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segml.errors import ConfigError, SchemaError
from segml.features import build_features
from segml.features.builder import _isin
from segml.features.privacy import _EMAIL, _PHONE, identifier_reasons
from segml.features.transactions.sorted import feature_frame


def _reference(frame: pd.DataFrame, columns: dict[str, str]) -> dict[str, str]:
    """The row-by-row identifier check (before issue 19), name rule left out."""
    out: dict[str, str] = {}
    for col, transform in columns.items():
        values = frame[col].dropna().astype("str").str.strip()
        n = len(values)
        if not n:
            continue
        for label, pattern in (("e-mail addresses", _EMAIL), ("phone numbers", _PHONE)):
            hits = int(values.str.fullmatch(pattern).sum())
            if pattern == _PHONE:
                hits = int((values.str.fullmatch(pattern)
                            & values.str.count(r"\d").ge(7)).sum())
            if hits >= 0.5 * n:
                out[col] = f"{hits:,} of {n:,} values look like {label}"
                break
        if col in out or transform == "frequency":
            continue
        n_unique = int(values.nunique())
        if n >= 20 and n_unique > 0.5 * n:
            out[col] = f"free text, {n_unique:,} of {n:,} values distinct"
    return out


POOL = ["a@b.com", " a@b.com ", "x.y@mail.org", "+39 02 5550 1234", "555-1234", "(02) 5550",
        "north", "north ", "south", "", "  ", "12345678", "1 2 3 4 5 6 7"]
VALUES = st.one_of(st.sampled_from(POOL), st.text(alphabet="ab1 @.-", max_size=6), st.none())


@settings(max_examples=60, deadline=None)
@given(st.lists(VALUES, min_size=0, max_size=60), st.sampled_from(["onehot", "frequency"]))
def test_identifier_reasons_per_distinct_value_equals_row_by_row(values, transform):
    frame = pd.DataFrame({"region": pd.Series(values, dtype="object")})
    assert identifier_reasons(frame, {"region": transform}) == _reference(
        frame, {"region": transform})


def test_identifier_reasons_counts_rows_not_distinct_values():
    # 3 distinct values, 30 rows: 20 e-mail rows of 30 -> refused with row counts
    frame = pd.DataFrame({"region": ["a@b.com"] * 10 + [" a@b.com"] * 10 + ["north"] * 10})
    assert identifier_reasons(frame, {"region": "onehot"}) == {
        "region": "20 of 30 values look like e-mail addresses"}
    # 21 distinct of 24 rows: free text; 21 distinct of 50 rows: not
    free = pd.DataFrame({"note": [f"t{i}" for i in range(21)] + ["t0"] * 3})
    assert identifier_reasons(free, {"note": "onehot"}) == {
        "note": "free text, 21 of 24 values distinct"}
    few = pd.DataFrame({"note": [f"t{i}" for i in range(21)] + ["t0"] * 29})
    assert identifier_reasons(few, {"note": "onehot"}) == {}


def test_isin_through_arrow_matches_pandas():
    values = pd.Index(["a", "b", "c", "a"], dtype="str")
    known = pd.Index(["c", "a", "z"], dtype="str")
    assert _isin(values, known).tolist() == [True, False, True, True]
    assert _isin(values, pd.Index([], dtype="str")).tolist() == [False] * 4


def _tx() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["a", "a", "b", "b", "c", "d"],
        "timestamp": pd.to_datetime(["2024-01-01", "2024-02-10", "2024-01-05", "2024-03-02",
                                     "2024-02-20", "2024-02-01"]),
        "amount": [10.0, 20.5, 5.0, 7.0, 3.0, 4.0],
        "order_id": ["o1", "o2", "o3", "o4", "o5", None],
        "status": ["completed", "completed", "cancelled", "completed", "completed", None],
    })


def test_pandas_log_is_converted_once_and_gives_the_hand_computed_frame():
    tx = _tx()
    converted = feature_frame(tx)
    assert converted.columns == ["customer_id", "timestamp", "amount", "order_id", "status"]
    assert converted.height == 6
    cust = pd.DataFrame({"customer_id": ["a", "b", "c", "e"]})
    fs = build_features(tx, cust, "2024-02-29")
    f = fs.frame
    # a: 2 orders 30.5; b: its only row up to 02-29 is cancelled -> prospect; c: 1 order;
    # d: only in transactions, null order id -> counted by its day; e: no rows
    assert f["frequency"].to_dict() == {"a": 2, "b": 0, "c": 1, "d": 1, "e": 0}
    assert f["monetary"].to_dict() == pytest.approx({"a": 30.5, "b": 0.0, "c": 3.0, "d": 4.0,
                                                     "e": 0.0}, abs=1e-12)
    assert f.loc[["a", "c", "d"], "recency_days"].tolist() == [19.0, 9.0, 28.0]
    assert np.isnan(f.loc["b", "recency_days"])
    assert fs.report["rows_after_as_of"] == 1
    assert fs.report["rows_cancelled"] == 1
    assert fs.report["customers_only_in_transactions"] == 1
    assert fs.report["not_yet_customers"] == 0
    pl = pytest.importorskip("polars")
    same = build_features(pl.from_pandas(tx), cust, "2024-02-29").frame
    pd.testing.assert_frame_equal(f, same)


def test_a_log_failing_a_check_keeps_its_former_error():
    bad_ts = _tx().assign(timestamp=["2024-01-01"] * 6)
    assert feature_frame(bad_ts) is bad_ts
    with pytest.raises(SchemaError, match="'timestamp' has dtype .*expected datetime64"):
        build_features(bad_ts, None, "2024-02-29")
    # the as-of range is checked before the payment date columns, as before
    bad_due = _tx().assign(due_date=["2024-01-01"] * 6)
    with pytest.raises(ConfigError, match="as_of=2023-01-01 is before the first transaction"):
        build_features(bad_due, None, "2023-01-01")
    with pytest.raises(SchemaError, match="'due_date' has dtype .*expected datetime64"):
        build_features(bad_due, None, "2024-02-29")


LABELS = st.one_of(st.sampled_from([" Very Satisfied ", "very-satisfied", "LOW", "low ", "",
                                    "Mid Range"]),
                   st.text(alphabet="aB -_", max_size=5), st.none())


@settings(max_examples=60, deadline=None)
@given(st.lists(LABELS, max_size=40), st.sampled_from(["object", "str"]))
def test_normalize_levels_equals_the_per_value_rule(labels, dtype):
    from segml.features.encoders.levels import normalize_level, normalize_levels

    values = pd.Series(labels, dtype=dtype, index=[f"i{k}" for k in range(len(labels))],
                       name="satisfaction")
    got = normalize_levels(values)
    want = [normalize_level(v) for v in values.astype(object)]
    assert got.dtype == object and got.name == "satisfaction"
    assert got.index.equals(values.index)
    assert [None if pd.isna(v) else v for v in got] == [
        None if pd.isna(v) else v for v in want]


def test_binary_columns_by_hand():
    from segml.features.space import binary_columns

    f = pd.DataFrame({"flag": [0.0, 1.0, np.nan, -0.0], "spend": [0.0, 1.0, 2.0, 1.0],
                      "b": [True, False, True, True], "nb": pd.array([True, None, False, True],
                                                                     dtype="boolean")})
    assert binary_columns(f, {"flag": "log", "spend": "log", "b": "none", "nb": "none"}) == [
        "flag", "b", "nb"]


def test_model_matrix_selects_buyers_and_sets_degenerate_aside_in_one_step():
    from segml.config import validate_config
    from segml.pipeline import model_matrix

    days = pd.to_datetime(["2024-01-05", "2024-02-10", "2024-03-01"])
    rows = [{"customer_id": f"c{i}", "timestamp": d, "amount": 10.0 + 7 * i}
            for i in range(8) for d in days[: 1 + i % 3]]
    rows += [{"customer_id": "zero", "timestamp": days[0], "amount": 0.0},
             {"customer_id": "refund", "timestamp": days[1], "amount": -4.0},
             {"customer_id": "refund", "timestamp": days[0], "amount": 1.0}]
    cust = pd.DataFrame({"customer_id": [f"c{i}" for i in range(8)] + ["p1", "p2"]})
    fs = build_features(pd.DataFrame(rows), cust, "2024-03-02")
    X, frame = model_matrix(validate_config({}), fs)
    assert sorted(X.index) == [f"c{i}" for i in range(8)] and frame.index.equals(X.index)
    assert fs.report["degenerate"] == {"zero-value buyers": 1, "net-refund buyers": 1}
    fs = build_features(pd.DataFrame(rows), cust, "2024-03-02")
    X, _ = model_matrix(validate_config({"features": {"buyers_only": False}}), fs)
    assert sorted(X.index) == sorted([f"c{i}" for i in range(8)] + ["p1", "p2"])
    assert fs.report["degenerate"] == {"zero-value buyers": 1, "net-refund buyers": 1}
