import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segml.cluster import profile_segments
from segml.errors import ConfigError


@pytest.fixture
def frame():
    return pd.DataFrame(
        {
            "recency_days": [5.0, 15.0, 300.0, 320.0, np.nan, np.nan],
            "frequency": [10, 8, 2, 2, 0, 0],
            "monetary": [900.0, 700.0, 100.0, 100.0, 0.0, 0.0],
            "is_prospect": [False, False, False, False, True, True],
            "abc_class": ["A", "A", "C", "C", "none", "none"],
            "rfm_code": ["555", "545", "111", "111", "000", "000"],
            "region": ["North-West", "North-West", "South", "Centre", "South", "South"],
            "age_band": ["35-44", "35-44", "55-64", "35-44", "18-24", "18-24"],
        },
        index=pd.Index([f"c{i}" for i in range(6)], name="customer_id"),
    )


LABELS = [0, 0, 1, 1, 2, 2]


def test_table_exact_values(frame):
    before = frame.copy()
    p = profile_segments(frame, LABELS)
    pd.testing.assert_frame_equal(frame, before)
    t = p.table
    assert t["n"].tolist() == [2, 2, 2]
    assert t["share"].tolist() == pytest.approx([1 / 3] * 3)
    assert t["revenue"].tolist() == [1600.0, 200.0, 0.0]
    assert t["revenue_share"].tolist() == pytest.approx([1600 / 1800, 200 / 1800, 0.0])
    assert t["value_index"].tolist() == pytest.approx([8 / 3, 1 / 3, 0.0])
    assert t["prospect_share"].tolist() == [0.0, 0.0, 1.0]
    assert t["monetary_mean"].tolist() == [800.0, 100.0, 0.0]
    assert t["recency_days_median"].tolist()[:2] == [10.0, 310.0]
    assert np.isnan(t["recency_days_mean"].iloc[2])
    assert t["abc_A_share"].tolist() == [1.0, 0.0, 0.0]
    assert t["abc_none_share"].tolist() == [0.0, 0.0, 1.0]


def test_lift_z_scores(frame):
    p = profile_segments(frame, LABELS)
    z = p.z
    # monetary: base mean 300, population sd sqrt(130000)
    assert z.loc[0, "monetary"] == pytest.approx(500 / np.sqrt(130_000))
    # recency over buyers only: mean 160, sd sqrt(22562.5)
    assert z.loc[1, "recency_days"] == pytest.approx(150 / np.sqrt(22_562.5))
    row = p.lift[(p.lift["segment"] == 0) & (p.lift["feature"] == "monetary")].iloc[0]
    assert row["ratio"] == pytest.approx(800 / 300)


def test_top_categories_with_lift(frame):
    p = profile_segments(frame, LABELS)
    top = p.top_categories
    seg1 = top[top["segment"] == 1][["column", "category", "lift"]].values.tolist()
    assert seg1 == [
        ["age_band", "55-64", pytest.approx(3.0)],
        ["region", "Centre", pytest.approx(3.0)],
    ]
    assert "is_prospect" not in set(top["column"])
    assert "rfm_code" not in set(top["column"])


def test_composition(frame):
    c = profile_segments(frame, LABELS).composition
    assert c.loc[0, "top_rfm_codes"] == "545 (50%), 555 (50%)"
    assert c.loc[1, "top_rfm_codes"] == "111 (100%)"


def test_names_and_roles(frame):
    # two customers per segment: only what Welch's test supports at p < 0.01 is named (recency
    # of segments 0 and 1); frequency, spend and the regions/age bands are not significant with
    # n=2. Segment 0 holds the most revenue, so it always carries its value tier.
    p = profile_segments(frame, LABELS)
    assert p.names.tolist() == ["high-value active buyers", "lapsed buyers", "prospects"]
    assert p.roles.tolist() == ["precious", "to win back", "to reach"]
    assert p.role_reasons[2] == "to reach: prospect_share >= 0.5 (prospect_share=1.00)"
    assert p.role_reasons[0] == (
        "precious: value_tier in (top-value, high-value) (value_tier=high-value)"
    )
    assert p.actions[1].startswith("low-cost reactivation")
    assert p.evidence[1].startswith(
        "rule 'to win back: recency_state == lapsed and value_tier in (low-value, typical)': "
        "recency_state=lapsed (recency_days mean 310 days vs 160 days overall (z=+1.00, "
        "Welch p=0.006); median 310 days, beyond 3 in 4 customers (305)); "
        "value_tier=typical (11% of revenue from 33% of customers"
    )
    assert p.role_rules[0] == "to reach: prospect_share >= 0.5"
    d = p.to_dict()
    json.dumps(d)
    assert d["actions"][2] == p.actions[2] and d["states"][1]["recency_state"] == "lapsed"


def test_custom_role_rules(frame):
    rules = [("vip", [("monetary_z", ">", 1.0)]), ("others", [])]
    p = profile_segments(frame, LABELS, role_rules=rules)
    assert p.roles.tolist() == ["vip", "others", "others"]
    assert p.role_rules == ["vip: monetary_z > 1", "others: otherwise"]


def test_no_rule_matched(frame):
    p = profile_segments(frame, LABELS, role_rules=[("vip", [("monetary_z", ">", 1.0)])])
    assert p.roles.tolist() == ["vip", "unassigned", "unassigned"]
    assert p.role_reasons[1] == "no rule matched"


def test_copes_with_absent_columns():
    f = pd.DataFrame({"x": [0.0, 0.1, 5.0, 5.2], "y": [1.0, 1.0, 1.0, 1.0]})
    p = profile_segments(f, np.array([0, 0, 1, 1]))
    assert "revenue" not in p.table and p.top_categories.empty
    assert p.names.tolist() == ["low x customers", "high x customers"]
    # no revenue, recency or trend: no playbook rule applies, and the evidence says so
    assert p.roles.tolist() == ["to review", "to review"]
    assert p.evidence[0].startswith("no playbook rule matched (value_tier=typical")


def test_series_labels_are_aligned(frame):
    labels = pd.Series(LABELS, index=frame.index)[::-1]
    p = profile_segments(frame, labels)
    assert p.table["revenue"].tolist() == [1600.0, 200.0, 0.0]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(2, 6))
def test_names_unique_and_deterministic(seed, k):
    rng = np.random.default_rng(seed)
    n = 60
    f = pd.DataFrame(
        {
            "recency_days": rng.uniform(0, 400, n),
            "monetary": rng.gamma(2, 100, n),
            "region": rng.choice(["N", "S"], n),
        }
    )
    labels = rng.integers(0, k, n)
    a = profile_segments(f, labels)
    b = profile_segments(f.copy(), labels.copy())
    assert a.names.is_unique
    assert a.names.tolist() == b.names.tolist()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"labels": [0, 1]}, r"one entry per row of frame \(6\); got shape \(2,\)"),
        ({"labels": [0, 1, None, 1, 0, 1]}, r"labels contain missing values"),
        ({"categorical": ["colour"]}, r"categorical columns \['colour'\] are not in the frame"),
        ({"min_lift": 0}, r"min_lift=0 should be > 0"),
        ({"role_rules": []}, r"role_rules is empty; give at least a catch-all"),
        ({"role_rules": [("x", [("a", "==", 1)])]}, r"operator '==' is not one of"),
        ({"role_rules": [("x",)]}, r"role rule \('x',\) should be \(role, \["),
    ],
)
def test_errors(frame, kwargs, match):
    kwargs.setdefault("labels", LABELS)
    with pytest.raises(ConfigError, match=match):
        profile_segments(frame, **kwargs)


def test_frame_type_error():
    with pytest.raises(ConfigError, match=r"frame should be a pandas DataFrame; got ndarray"):
        profile_segments(np.zeros((2, 2)), [0, 1])


def _reference_top(frame, lab, cat_cols, min_lift=1.2, min_category_share=0.1):
    """top_categories as computed before issue 19: a boolean mean per segment and level."""
    rows = []
    for c in cat_cols:
        col = frame[c]
        if pd.api.types.is_bool_dtype(col):
            values, levels = col.astype("boolean"), [True]
        else:
            values = col.astype("string")
            levels = sorted(values.dropna().unique().tolist(), key=str)
        base = {lv: float((values == lv).fillna(False).mean()) for lv in levels}
        for s in np.unique(lab):
            in_s = values[lab == s]
            for lv in levels:
                ss = float((in_s == lv).fillna(False).mean())
                bs = base[lv]
                lf = ss / bs if bs > 0 else np.nan
                if bs > 0 and lf >= min_lift and ss >= min_category_share:
                    rows.append({"segment": s, "column": c, "category": str(lv),
                                 "segment_share": ss, "base_share": bs, "lift": lf})
    top = pd.DataFrame(rows, columns=["segment", "column", "category", "segment_share",
                                      "base_share", "lift"])
    return top.sort_values(["segment", "lift", "column", "category"],
                           ascending=[True, False, True, True], kind="stable"
                           ).reset_index(drop=True)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from(["N", "S", "E", None]),
                          st.booleans()), min_size=4, max_size=40))
def test_top_categories_equal_the_per_level_means(rows):
    # issue 19: counts from one factorize + bincount; shares equal the former boolean means
    frame = pd.DataFrame({
        "monetary": np.arange(len(rows), dtype=float),
        "region": pd.array([r[1] for r in rows], dtype="string"),
        "is_gift": [r[2] for r in rows],
    }, index=pd.Index([f"c{i}" for i in range(len(rows))], name="customer_id"))
    lab = np.array([r[0] for r in rows])
    got = profile_segments(frame, lab, categorical=["region", "is_gift"]).top_categories
    want = _reference_top(frame, lab, ["region", "is_gift"])
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want, check_exact=True,
                                  check_dtype=False)
