"""The export tables on tiny hand-made frames: exact rows, types and roundings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segml.errors import SchemaError
from segml.export import (
    ALERT_COLUMNS,
    CHANGE_COLUMNS,
    CUSTOMER_COLUMNS,
    customers_from_run,
    customers_from_scores,
    segment_changes,
    split_alerts,
)


def _run_segments() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["c3", "c1", "c2", "c4"],
        "segment_id": [1, 0, -1, -2],
        "segment_name": ["lapsed", "loyal", "prospect (not clustered)",
                         "zero-value buyers (not clustered)"],
        "role": ["to win back", "to retain", "to reach", "to review"],
        "action": ["send a coupon", "thank them", "", ""],
        "confidence": [0.123456, 0.98766, np.nan, np.nan],
        "distance": [1.5, 0.2, np.nan, np.nan],
        "fits_no_segment": [True, False, False, False],
        "rfm_groups": ["lost", "champions", "prospects", "others"],
        "abc": ["C", "A", "none", "C"],
        "expected_purchases": [0.123456, 3.21, np.nan, 0.0],
        "forward_clv": [12.346, 1000.0, np.nan, 0.0],
    })


def test_customers_from_run_exact_columns_rows_and_roundings():
    out = customers_from_run(_run_segments(), as_of=pd.Timestamp("2024-12-31 00:00"))
    assert out.columns.tolist() == [*CUSTOMER_COLUMNS, "rule_rfm_groups", "rule_abc",
                                    "expected_purchases", "forward_clv"]
    assert out["customer_id"].tolist() == ["c1", "c2", "c3", "c4"]  # sorted by id
    assert out["as_of"].tolist() == ["2024-12-31"] * 4
    assert out["segment_id"].dtype == np.int64
    assert out["segment_id"].tolist() == [0, -1, 1, -2]
    assert out["role"].tolist() == ["to retain", "to reach", "to win back", "to review"]
    assert out["action"].tolist() == ["thank them", "", "send a coupon", ""]
    np.testing.assert_allclose(out["confidence"], [0.9877, np.nan, 0.1235, np.nan],
                               atol=1e-12)
    assert out["fits_no_segment"].dtype == bool
    assert out["fits_no_segment"].tolist() == [False, False, True, False]
    assert out["rule_abc"].tolist() == ["A", "none", "C", "C"]
    np.testing.assert_allclose(out["forward_clv"], [1000.0, np.nan, 12.35, 0.0], atol=1e-9)
    np.testing.assert_allclose(out["expected_purchases"], [3.21, np.nan, 0.1235, 0.0],
                               atol=1e-12)
    assert "distance" not in out.columns


def test_customers_from_run_refuses_a_table_without_segments_and_duplicates():
    with pytest.raises(SchemaError, match=r"segments table: missing column\(s\) \['segment_name'"
                       r".*Fix: export a folder written by segml run"):
        customers_from_run(_run_segments().drop(columns="segment_name"), as_of="2024-12-31")
    dup = _run_segments().assign(customer_id=["a", "a", "b", "c"])
    with pytest.raises(SchemaError, match=r"customer_id: 1 duplicated id\(s\), e.g. 'a'.*Fix:"):
        customers_from_run(dup, as_of="2024-12-31")


def test_customers_from_scores_takes_roles_and_actions_from_the_model_maps():
    scores = pd.DataFrame({
        "customer_id": [10, 7, 3, 5], "segment_id": [0, 1, -1, -3],
        "segment_name": ["loyal", "lapsed", "prospect (not clustered)", "net-refund buyers"],
        "confidence": [0.5, 0.25, np.nan, np.nan], "distance": [1.0, 2.0, np.nan, np.nan],
        "fits_no_segment": ["False", "True", "False", "False"],  # as read back from CSV
        "driver_1": ["a", "b", None, None], "p_alive": [0.99999, 0.5, np.nan, np.nan],
    })
    out = customers_from_scores(scores, as_of="2025-03-31", roles={0: "to retain",
                                                                   1: "to win back"},
                                actions={"0": "thank them", "1": "send a coupon"})
    assert out.columns.tolist() == [*CUSTOMER_COLUMNS, "p_alive"]
    assert out.to_dict("records")[0] == {
        "customer_id": "10", "as_of": "2025-03-31", "segment_id": 0, "segment_name": "loyal",
        "role": "to retain", "action": "thank them", "confidence": 0.5,
        "fits_no_segment": False, "p_alive": 1.0}
    assert out["customer_id"].tolist() == ["10", "3", "5", "7"]  # text ids, text order
    assert out["role"].tolist() == ["to retain", "to reach", "to review", "to win back"]
    assert out["action"].tolist() == ["thank them", "", "", "send a coupon"]
    assert out["fits_no_segment"].tolist() == [False, False, False, True]


def test_segment_changes_two_runs_exact_rows():
    old = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "as_of": "2024-09-30",
                        "segment_id": [0, 1, 1, 0],
                        "segment_name": ["loyal", "lapsed", "lapsed", "loyal"]})
    new = pd.DataFrame({"customer_id": ["a", "b", "c", "e"], "as_of": "2024-12-31",
                        "segment_id": [1, 1, 0, -1],
                        "segment_name": ["lapsed", "lapsed", "loyal",
                                         "prospect (not clustered)"]})
    out = segment_changes(old, new)
    assert out.columns.tolist() == list(CHANGE_COLUMNS)
    assert out.astype(object).where(out.notna(), None).values.tolist() == [
        ["a", "moved", 0, "loyal", 1, "lapsed", "2024-09-30", "2024-12-31"],
        ["c", "moved", 1, "lapsed", 0, "loyal", "2024-09-30", "2024-12-31"],
        ["e", "new", None, "", -1, "prospect (not clustered)", "2024-09-30", "2024-12-31"],
        ["d", "gone", 0, "loyal", None, "", "2024-09-30", "2024-12-31"],
    ]
    assert str(out["old_segment_id"].dtype) == "Int64"
    only_moved = segment_changes(old, new, include_new=False, include_gone=False)
    assert only_moved["customer_id"].tolist() == ["a", "c"]
    with pytest.raises(SchemaError, match=r"previous customers: missing column\(s\) \['as_of'\]"):
        segment_changes(old.drop(columns="as_of"), new)


@settings(max_examples=40)
@given(st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, max_size=12),
       st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, max_size=12))
def test_segment_changes_counts_add_up(before, after):
    """moved + unchanged = customers in both; new / gone = customers in one run only."""
    old = pd.DataFrame({"customer_id": [f"c{i}" for i in range(len(before))], "as_of": "2024-01-01",
                        "segment_id": 0, "segment_name": before})
    new = pd.DataFrame({"customer_id": [f"c{i}" for i in range(len(after))], "as_of": "2024-02-01",
                        "segment_id": 0, "segment_name": after})
    out = segment_changes(old, new)
    n_both = min(len(before), len(after))
    moved = sum(b != a for b, a in zip(before, after, strict=False))
    assert (out["change"] == "moved").sum() == moved
    assert (out["change"] == "new").sum() == max(0, len(after) - n_both)
    assert (out["change"] == "gone").sum() == max(0, len(before) - n_both)
    assert out["customer_id"].is_unique


def test_split_alerts_billing_and_sales_exact_rows():
    customers = customers_from_run(_run_segments(), as_of="2024-12-31")
    alerts = pd.DataFrame({
        "customer_id": ["c3", "c1", "c3"],
        "alert": ["activity_drop", "payment_slip", "payment_slip"],
        "value": [200.0, 12.346, 9.0], "threshold": [60.0, 7.0, 8.0],
        "message": ["no purchase for 200 days", "paying 12.3 days late", "paying 9.0 days"],
    })
    out = split_alerts(alerts, customers)
    assert sorted(out) == ["alerts_billing", "alerts_sales"]
    billing, sales = out["alerts_billing"], out["alerts_sales"]
    assert billing.columns.tolist() == sales.columns.tolist() == list(ALERT_COLUMNS)
    assert billing.values.tolist() == [
        ["c1", "2024-12-31", "payment_slip", 12.35, 7.0, "paying 12.3 days late", 0, "loyal",
         "to retain"],
        ["c3", "2024-12-31", "payment_slip", 9.0, 8.0, "paying 9.0 days", 1, "lapsed",
         "to win back"],
    ]
    assert sales.values.tolist() == [
        ["c3", "2024-12-31", "activity_drop", 200.0, 60.0, "no purchase for 200 days", 1,
         "lapsed", "to win back"]]
    none = split_alerts(alerts.iloc[:0], customers)
    assert [len(t) for t in none.values()] == [0, 0]
    assert none["alerts_sales"].columns.tolist() == list(ALERT_COLUMNS)
    with pytest.raises(SchemaError, match=r"alerts: kind\(s\) \['churn'\] have no export file"):
        split_alerts(alerts.assign(alert="churn"), customers)
