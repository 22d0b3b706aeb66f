"""Degenerate customers: named rule groups set aside before clustering (issue 15)."""

import numpy as np
import pandas as pd

from segml.config import validate_config
from segml.features import build_features
from segml.pipeline import model_matrix
from segml.rules.degenerate import DEGENERATE_GROUPS, degenerate_groups, degenerate_segment_ids

AS_OF = "2024-03-02"


def test_groups_on_a_hand_made_frame():
    f = pd.DataFrame({"frequency": [2, 1, 0, 1, 3, np.nan],
                      "monetary": [50.0, 0.0, 0.0, -5.0, np.nan, 0.0],
                      "is_prospect": [False, False, True, False, False, True]},
                     index=list("abcdef"))
    g = degenerate_groups(f)
    assert g.tolist() == [None, "zero-value buyers", None, "net-refund buyers", None, None]
    assert degenerate_segment_ids(g).tolist() == [pd.NA, -2, pd.NA, -3, pd.NA, pd.NA]
    assert set(DEGENERATE_GROUPS.values()) == {-2, -3}
    # no value columns: nobody is degenerate
    assert degenerate_groups(f[["is_prospect"]]).isna().all()


def test_zero_value_buyers_are_not_clustered_and_counted():
    days = pd.to_datetime(["2024-01-05", "2024-02-10", "2024-03-01"])
    rows = []
    for i in range(8):
        for d in days[: 1 + i % 3]:
            rows.append({"customer_id": f"c{i}", "timestamp": d, "amount": 10.0 + 7 * i})
    rows += [{"customer_id": "zero1", "timestamp": days[0], "amount": 0.0},
             {"customer_id": "zero2", "timestamp": days[1], "amount": 0.0}]
    fs = build_features(pd.DataFrame(rows), None, AS_OF)
    X, frame = model_matrix(validate_config({}), fs)
    assert "zero1" not in X.index and "zero2" not in X.index
    assert len(X) == 8 and frame.index.equals(X.index)
    assert fs.report["degenerate"] == {"zero-value buyers": 2}
    roles = {r["column"]: r["role"] for r in fs.report["feature_space"]}
    assert roles["monetary"] == "distance"


def test_segments_table_labels_them_outside_the_clustering():
    from types import SimpleNamespace

    from segml.features import FeatureSpec
    from segml.pipeline.write import segments_table

    frame = pd.DataFrame({"frequency": [1, 1, 0, 2], "monetary": [5.0, 0.0, 0.0, -3.0],
                          "is_prospect": [False, False, True, False]},
                         index=pd.Index(["c1", "z", "p", "r"], name="customer_id"))
    run = SimpleNamespace(
        profiles=SimpleNamespace(names=pd.Series({0: "big"}), roles=pd.Series({0: "to retain"}),
                                 actions=pd.Series({0: "loyalty programme"})),
        scores=pd.DataFrame({"customer_id": ["c1"], "segment_id": [0], "confidence": [0.9],
                             "distance": [0.1], "fits_no_segment": [False]}),
        features=SimpleNamespace(frame=frame, spec=FeatureSpec.default(["monetary"])),
        rule_labels={})
    out = segments_table(run).set_index("customer_id")
    assert out["segment_id"].to_dict() == {"c1": 0, "z": -2, "p": -1, "r": -3}
    assert out["segment_name"].to_dict() == {
        "c1": "big", "z": "zero-value buyers (not clustered)",
        "p": "prospect (not clustered)", "r": "net-refund buyers (not clustered)"}
    assert out.loc["z", "role"] == "to review"
    # the playbook action reaches segments.csv; rule groups and prospects have none
    assert out["action"].to_dict() == {"c1": "loyalty programme", "z": "", "p": "", "r": ""}
