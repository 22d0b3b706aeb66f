"""Label columns (``product``, ``category``, ``channel``) and ``status`` are a text ``category``.

Issue 19: a 36M-line log held these four as Arrow text, about 14 bytes a line each; as a
``category`` they take 1-2 bytes. The values must be exactly the cleaned text of before
(:func:`_to_string`), and the categories must not depend on the order of the rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segml.errors import SchemaError
from segml.io import read_transactions
from segml.readers import read_table
from segml.schema import STATUS_LEVELS, text_category, validate_transactions
from segml.schema.values import _to_label, _to_status, _to_string

ATOMS = ["a", " a", "a ", "", None, "b", "B", "00123", "x y", "Ä", "\u00a0c"]


def _as(values: list, kind: str) -> pd.Series:
    if kind == "category":
        return pd.Series(values, dtype="str").astype("category")
    return pd.Series(values, dtype=kind)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(ATOMS), min_size=1, max_size=30),
       st.sampled_from(["str", object, "category"]))
def test_label_values_are_the_cleaned_text(values, kind):
    s = _as(values, kind)
    out = _to_label(s)
    assert isinstance(out.dtype, pd.CategoricalDtype) and not out.dtype.ordered
    assert out.cat.categories.dtype == "str"
    want = _to_string(pd.Series(values, dtype="str"))
    assert out.astype("str").tolist() == want.tolist()  # missing stays missing
    assert list(out.cat.categories) == sorted(set(want.dropna()))


@pytest.mark.parametrize("as_category", [False, True])
def test_numbers_become_their_text(as_category):
    s = pd.Series([12.0, 7.0, np.nan, 12.0])
    out = _to_label(s.astype("category") if as_category else s)
    assert out.astype("str").tolist()[:2] == ["12", "7"] and out.isna().tolist()[2]
    assert list(out.cat.categories) == ["12", "7"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["web", "store", " web", "agent", None]), min_size=2,
                max_size=25), st.randoms(use_true_random=False))
def test_categories_do_not_depend_on_row_order(values, rnd):
    shuffled = values[:]
    rnd.shuffle(shuffled)
    a, b = _to_label(pd.Series(values, dtype="str")), _to_label(pd.Series(shuffled, dtype="str"))
    assert a.dtype == b.dtype
    assert sorted(a.astype("str").fillna("~").tolist()) == sorted(
        b.astype("str").fillna("~").tolist())


def test_status_is_a_category_of_the_three_levels():
    s = pd.Series(["Completed", " returned", None, "refund", "CANCELED"], dtype="str")
    for inp in (s, s.astype("category"), s.astype(object)):
        out = _to_status(inp, "transactions")
        assert tuple(out.cat.categories) == STATUS_LEVELS
        assert out.tolist() == ["completed", "returned", "completed", "returned", "cancelled"]
    only = _to_status(pd.Series(["ok"], dtype="str"), "transactions")
    assert tuple(only.cat.categories) == STATUS_LEVELS  # fixed levels: logs concatenate


def test_unknown_status_in_a_category_names_the_value():
    s = pd.Series(["completed", "lost", "completed"], dtype="str").astype("category")
    with pytest.raises(SchemaError,
                       match=r"status: has unknown status values.*row 1: 'lost'.*Fix: use one of"):
        _to_status(s, "transactions")


def _log() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["c2", "c1", "c1", "c2"],
        "timestamp": pd.to_datetime(["2024-01-03", "2024-01-02", "2024-01-01", "2024-01-01"]),
        "amount": [1.0, 2.0, 3.0, 4.0],
        "product": ["P2", "00123", "P2", None],
        "channel": ["web", "store", "web", "web"],
        "status": ["completed", "returned", None, "completed"],
        "quantity": [1.0, 1.0, 2.0, 1.0],
    })


def test_validated_log_has_category_labels_and_same_values():
    tx, _ = validate_transactions(_log())
    for col in ("product", "channel", "status"):
        assert isinstance(tx[col].dtype, pd.CategoricalDtype), col
    assert tx["customer_id"].dtype == "str"
    # sorted by customer then time: c1 01-01, c1 01-02, c2 01-01, c2 01-03
    assert tx["product"].astype("str").tolist()[:2] == ["P2", "00123"]
    assert tx["product"].isna().tolist() == [False, False, True, False]
    assert list(tx["product"].cat.categories) == ["00123", "P2"]
    assert tx["status"].tolist() == ["completed", "returned", "completed", "completed"]


def test_parquet_labels_are_read_as_dictionaries(tmp_path):
    path = tmp_path / "tx.parquet"
    pq.write_table(pa.Table.from_pandas(_log(), preserve_index=False), path)
    raw = read_table(path, dtype={"product": "category", "quantity": "category",
                                  "customer_id": str})
    assert isinstance(raw["product"].dtype, pd.CategoricalDtype)
    assert raw["quantity"].dtype == "float64"  # not text: its own type is kept
    assert raw["customer_id"].dtype == "str"
    # a read_dictionary of the caller's wins over the label columns
    own = read_table(path, dtype={"product": "category"}, read_dictionary=["channel"])
    assert own["product"].dtype == "str"
    assert isinstance(own["channel"].dtype, pd.CategoricalDtype)
    tx, rep = read_transactions(path)
    assert isinstance(tx["product"].dtype, pd.CategoricalDtype)
    assert rep.n_output_rows == 4
    ref, _ = validate_transactions(_log())
    pd.testing.assert_frame_equal(tx, ref)


def test_csv_label_codes_keep_their_zeros(tmp_path):
    path = tmp_path / "tx.csv"
    _log().to_csv(path, index=False)
    tx, _ = read_transactions(path, timestamp_format="ISO8601")
    assert "00123" in tx["product"].cat.categories
    assert isinstance(tx["channel"].dtype, pd.CategoricalDtype)


def test_text_category_codes_and_missing():
    out = text_category(["b", "a", None, "b"], np.array([0, 1, 2, -1, 3]))
    assert list(out.cat.categories) == ["a", "b"]
    assert out.cat.codes.tolist() == [1, 0, -1, -1, 1]
    fixed = text_category(["completed"], np.array([0, 0]), STATUS_LEVELS)
    assert tuple(fixed.cat.categories) == STATUS_LEVELS and fixed.cat.codes.tolist() == [1, 1]
