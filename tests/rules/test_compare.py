"""compare_segmentations: exact tables on hand-made labels, scores against sklearn."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics

from segml.errors import ConfigError, SchemaError
from segml.rules import RuleSegmenter, compare_segmentations

IDS = pd.Index([f"c{i}" for i in range(10)], name="customer_id")


def labels():
    a = pd.Series([0, 0, 0, 1, 1, 2, 2, 2, 2, 2], index=IDS, name="cluster")
    b = pd.Series(list("xxyyyzzzxy"), index=IDS, name="rule")
    return a, b


def feats() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "monetary": np.arange(10, 101, 10, dtype=float),
            "recency_days": [1.0, 2, 3, 40, 50, 60, 70, 80, 90, np.nan],
            "frequency": [5, 5, 5, 1, 1, 2, 2, 2, 2, 2],
            "gender": pd.array(["F"] * 3 + ["M"] * 7, dtype="str"),
        },
        index=IDS,
    )


def test_contingency_lift_matching_exact():
    a, b = labels()
    res = compare_segmentations(a, b, names=("cluster", "rule"))
    expected = pd.DataFrame(
        [[2, 1, 0], [0, 2, 0], [1, 1, 3]],
        index=pd.Index([0, 1, 2], name="cluster", dtype=object),
        columns=pd.Index(["x", "y", "z"], name="rule", dtype=object),
    )
    pd.testing.assert_frame_equal(res.counts, expected)
    np.testing.assert_allclose(res.row_shares.sum(axis=1), 1.0)
    np.testing.assert_allclose(res.col_shares.sum(axis=0), 1.0)
    np.testing.assert_allclose(res.row_shares.loc[2].to_numpy(dtype=float), [0.2, 0.2, 0.6])
    np.testing.assert_allclose(res.col_shares["y"].to_numpy(dtype=float), [0.25, 0.5, 0.25])
    np.testing.assert_allclose(
        res.lift.to_numpy(dtype=float),
        [[20 / 9, 10 / 12, 0.0], [0.0, 2.5, 0.0], [10 / 15, 0.5, 2.0]],
    )
    assert res.matching[["cluster", "rule", "count"]].values.tolist() == [
        [2, "z", 3],
        [0, "x", 2],
        [1, "y", 2],
    ]
    np.testing.assert_allclose(res.matching["share_of_cluster"], [0.6, 2 / 3, 1.0])
    np.testing.assert_allclose(res.matching["share_of_rule"], [1.0, 2 / 3, 0.5])
    assert res.agreement == pytest.approx(0.7)
    assert (res.n_compared, res.n_only_first, res.n_only_second, res.n_missing) == (10, 0, 0, 0)
    assert res.revenue_shares is None and res.profiles is None


def test_scores_match_sklearn():
    a, b = labels()
    res = compare_segmentations(a, b)
    assert res.scores["ari"] == pytest.approx(metrics.adjusted_rand_score(a, b))
    assert res.scores["ami"] == pytest.approx(metrics.adjusted_mutual_info_score(a, b))
    assert res.scores["nmi"] == pytest.approx(metrics.normalized_mutual_info_score(a, b))
    assert res.scores["v_measure"] == pytest.approx(metrics.v_measure_score(b, a))
    assert res.scores["homogeneity"] == pytest.approx(metrics.homogeneity_score(b, a))
    assert res.scores["completeness"] == pytest.approx(metrics.completeness_score(b, a))


def test_revenue_shares_and_profiles():
    a, b = labels()
    res = compare_segmentations(a, b, feats(), names=("cluster", "rule"))
    rev = res.revenue_shares.to_numpy(dtype=float) * 550
    np.testing.assert_allclose(rev, [[30, 30, 0], [0, 90, 0], [90, 100, 210]])
    p = res.profiles
    assert list(p.columns) == [
        "size",
        "share",
        "revenue_share",
        "recency_days",
        "frequency",
        "monetary",
        "top_attributes",
    ]
    assert p.loc[("cluster", 0), "size"] == 3
    assert p.loc[("cluster", 0), "share"] == pytest.approx(0.3)
    assert p.loc[("cluster", 0), "revenue_share"] == pytest.approx(60 / 550)
    assert p.loc[("cluster", 0), "monetary"] == pytest.approx(20.0)
    assert p.loc[("cluster", 2), "recency_days"] == pytest.approx(75.0)  # NaN skipped
    assert p.loc[("rule", "z"), "frequency"] == pytest.approx(2.0)
    assert p.loc[("cluster", 0), "top_attributes"] == "gender=F (100%, x3.3)"
    assert p.loc[("cluster", 1), "top_attributes"] == "gender=M (100%, x1.4)"
    assert p.loc[("rule", "y"), "top_attributes"] == ""  # 1 F of 4 (x0.8), 3 M of 4 (x1.07)
    cp = res.cell_profiles
    assert cp.loc[(2, "z"), "size"] == 3
    assert cp.loc[(2, "x"), "monetary"] == pytest.approx(90.0)


def test_splits_and_summary():
    a, b = labels()
    res = compare_segmentations(a, b, feats(), names=("cluster", "rule"))
    sp = res.splits()
    assert sp[["segmentation", "group", "size"]].values.tolist() == [
        ["rule", "x", 3],
        ["rule", "y", 4],
        ["cluster", 0, 3],
        ["cluster", 2, 5],
    ]
    assert sp.loc[0, "parts"] == [(0, pytest.approx(2 / 3)), (2, pytest.approx(1 / 3))]
    assert sp.loc[1, "parts"][0] == (1, 0.5)
    assert len(res.splits(min_share=0.3)) == 2  # rule x, cluster 0
    text = res.summary()
    assert "cluster (3 groups) vs rule (3 groups) on 10 customers." in text
    assert "70.0% of customers fall in matched pairs" in text
    assert "cluster 2 <-> rule z: 3 customers (60% of cluster 2, 100% of rule z)" in text
    assert (
        "What cluster shows that rule does not: 2 rule group(s) split across cluster groups."
        in text
    )
    assert (
        "rule x (n=3) splits into: cluster 0 67% (recency 2, frequency 5, monetary 15), "
        "cluster 2 33% (recency 90, frequency 2, monetary 90)"
    ) in text
    assert "Top revenue group in cluster: 2 with 72.7% of revenue from 50.0% of customers." in text
    assert f"ARI {res.scores['ari']:.3f}" in text


def test_to_dict_is_json_ready():
    a, b = labels()
    res = compare_segmentations(a, b, feats(), names=("cluster", "rule"))
    d = json.loads(json.dumps(res.to_dict()))
    assert d["counts"]["2"] == {"x": 1, "y": 1, "z": 3}
    assert d["agreement"] == pytest.approx(0.7)
    assert d["matching"][0] == {
        "cluster": 2,
        "rule": "z",
        "count": 3,
        "share_of_cluster": 0.6,
        "share_of_rule": 1.0,
    }
    assert d["profiles"]["cluster:0"]["size"] == 3
    assert set(res.get_plot_data()) == {
        "counts",
        "row_shares",
        "col_shares",
        "revenue_shares",
        "lift",
        "matching",
        "profiles",
    }


def test_alignment_on_customer_id():
    a, b = labels()
    a2 = a.drop("c9")[::-1]  # other order, one customer fewer
    b2 = pd.concat([b, pd.Series(["x"], index=["extra"])])
    b2["c0"] = None
    res = compare_segmentations(a2, b2)
    assert (res.n_compared, res.n_only_first, res.n_only_second, res.n_missing) == (8, 0, 2, 1)
    assert int(res.counts.to_numpy().sum()) == 8
    assert res.counts.loc[0, "x"] == 1
    assert "(0 only in a, 2 only in b, 1 with a missing label)" in res.summary()


def test_arrays_are_taken_in_feature_order():
    a, b = labels()
    res = compare_segmentations(a.to_numpy(), b.to_list(), feats())
    assert res.counts.index.tolist() == [0, 1, 2]
    assert res.agreement == pytest.approx(0.7)
    res2 = compare_segmentations(a.to_numpy(), b)
    assert res2.agreement == pytest.approx(0.7)


def test_cluster_vs_cluster_permuted_labels_agree_fully():
    a, _ = labels()
    b = a.map({0: 2, 1: 0, 2: 1})
    res = compare_segmentations(a, b, names=("1998-03", "1998-06"))
    assert res.scores["ari"] == pytest.approx(1.0)
    assert res.agreement == 1.0
    assert res.matching[["1998-03", "1998-06"]].values.tolist() == [[2, 1], [0, 2], [1, 0]]
    assert "no 1998-06 group is split" in res.summary()


def test_rule_vs_rule_keeps_empty_segments():
    f = feats()
    big = RuleSegmenter([("big", "monetary >= 60"), ("huge", "monetary > 1000")], "small")
    recent = RuleSegmenter([("recent", "recency_days <= 3")], "old")
    res = compare_segmentations(
        big.fit_predict(f), recent.fit_predict(f), f, names=("value", "recency")
    )
    assert res.counts.index.tolist() == ["big", "huge", "small"]
    assert res.counts.to_numpy().tolist() == [[0, 5], [0, 0], [3, 2]]
    assert np.isnan(res.lift.loc["huge"].to_numpy(dtype=float)).all()
    assert res.profiles.loc[("value", "huge"), "size"] == 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 4)), min_size=2, max_size=60))
def test_invariants(pairs):
    a = pd.Series([p[0] for p in pairs])
    b = pd.Series([p[1] for p in pairs])
    res = compare_segmentations(a, b)
    n = len(pairs)
    assert int(res.counts.to_numpy().sum()) == n
    assert 0 < res.agreement <= 1
    # the matching is optimal: at least the diagonal of any relabelling, and symmetric in a/b
    swapped = compare_segmentations(b, a)
    assert swapped.agreement == pytest.approx(res.agreement)
    assert swapped.scores["ari"] == pytest.approx(res.scores["ari"])
    assert res.agreement >= res.counts.to_numpy().max() / n
    lift = res.lift.to_numpy(dtype=float)
    weights = res.counts.to_numpy() / n
    # share-weighted mean of 1/lift over non-empty cells is the sum of row x column shares = 1
    rs = res.counts.sum(axis=1).to_numpy() / n
    cs = res.counts.sum(axis=0).to_numpy() / n
    assert (np.outer(rs, cs)[weights > 0] * lift[weights > 0]).sum() == pytest.approx(weights.sum())


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda a, b: compare_segmentations(a, b, names=("x", "x")), ConfigError, r"two different"),
        (lambda a, b: compare_segmentations(a, b, min_share=0), ConfigError, r"min_share=0 should"),
        (
            lambda a, b: compare_segmentations(pd.concat([a, a]), b),
            SchemaError,
            r"a labels: the index \(customer_id\) has duplicates, e.g. \['c0'",
        ),
        (
            lambda a, b: compare_segmentations(a, b.set_axis(range(10))),
            SchemaError,
            r"no customer has a label in both a and b",
        ),
        (
            lambda a, b: compare_segmentations(a, b, feats().iloc[:8]),
            SchemaError,
            r"features lacks 2 of the compared customers, e.g. \['c8', 'c9'\]",
        ),
        (
            lambda a, b: compare_segmentations(a.to_frame(), b),
            SchemaError,
            r"a labels: expected a Series of labels, got a DataFrame",
        ),
        (
            lambda a, b: compare_segmentations(np.zeros((2, 2)), b),
            SchemaError,
            r"expected one label per customer, got shape \(2, 2\)",
        ),
        (
            lambda a, b: compare_segmentations(a, b, features=[1, 2]),
            SchemaError,
            r"features should be a DataFrame, got list",
        ),
    ],
)
def test_errors(call, error, match):
    a, b = labels()
    with pytest.raises(error, match=match):
        call(a, b)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3)), min_size=1, max_size=40),
    st.booleans(),
)
def test_scores_from_the_table_equal_sklearn(pairs, one_group):
    a = np.array([0 if one_group else p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    s = compare_segmentations(pd.Series(a), pd.Series(b)).scores
    assert s["ari"] == pytest.approx(metrics.adjusted_rand_score(a, b), abs=1e-12)
    assert s["ami"] == pytest.approx(metrics.adjusted_mutual_info_score(a, b), abs=1e-12)
    assert s["nmi"] == pytest.approx(metrics.normalized_mutual_info_score(a, b), abs=1e-12)
    h, c, v = metrics.homogeneity_completeness_v_measure(b, a)
    assert (s["homogeneity"], s["completeness"], s["v_measure"]) == (
        pytest.approx(h, abs=1e-12),
        pytest.approx(c, abs=1e-12),
        pytest.approx(v, abs=1e-12),
    )
