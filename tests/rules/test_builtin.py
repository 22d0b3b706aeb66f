"""Exact assignments of every built-in rule set on tiny hand-built feature frames."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from segml.errors import ConfigError, RuleSyntaxError
from segml.rules import BUILTIN_RULESETS, RuleSegmenter, RuleSet, builtin_segmenter


def rfm_frame(rows: list[tuple[int, int, int]]) -> pd.DataFrame:
    r, f, m = zip(*rows, strict=True)
    return pd.DataFrame(
        {"r_score": r, "f_score": f, "m_score": m},
        index=pd.Index([f"c{i:02d}" for i in range(len(rows))], name="customer_id"),
    )


RFM_CASES = [
    ((5, 5, 4), "champions"),
    ((5, 3, 3), "potential_loyalists"),
    ((5, 1, 2), "new"),
    ((4, 4, 4), "loyal"),
    ((4, 2, 1), "promising"),
    ((4, 2, 2), "potential_loyalists"),
    ((3, 5, 5), "loyal"),
    ((3, 3, 4), "need_attention"),
    ((3, 2, 3), "about_to_sleep"),
    ((2, 5, 5), "cannot_lose"),
    ((1, 5, 5), "cannot_lose"),
    ((2, 4, 3), "at_risk"),
    ((1, 3, 3), "at_risk"),
    ((2, 1, 1), "hibernating"),
    ((2, 2, 3), "hibernating"),
    ((1, 2, 2), "hibernating"),
    ((1, 1, 2), "lost"),
    ((0, 0, 0), "prospects"),
]


def test_rfm_groups_exact():
    rows, expected = zip(*RFM_CASES, strict=True)
    out = builtin_segmenter("rfm_groups").fit_predict(rfm_frame(list(rows)))
    assert out.tolist() == list(expected)


def _reference_rfm(r: int, f: int, m: int) -> str:
    """The documented grid, written independently of the TOML."""
    fm = (f + m) / 2
    if r == 0:
        return "prospects"
    if r == 5:
        return "new" if fm < 2 else ("potential_loyalists" if fm < 4 else "champions")
    if r == 4:
        return "promising" if fm < 2 else ("potential_loyalists" if fm < 4 else "loyal")
    if r == 3:
        return "about_to_sleep" if fm < 3 else ("need_attention" if fm < 4 else "loyal")
    if fm >= 5:
        return "cannot_lose"
    if fm >= 3:
        return "at_risk"
    return "lost" if (r == 1 and fm < 2) else "hibernating"


def test_rfm_groups_partition_the_whole_grid():
    grid = list(itertools.product(range(1, 6), repeat=3)) + [(0, 0, 0)]
    frame = rfm_frame(grid)
    # overlap="error": every score combination matches exactly one rule
    seg = builtin_segmenter("rfm_groups", overlap="error").fit(frame)
    out = seg.predict(frame)
    assert out.tolist() == [_reference_rfm(*g) for g in grid]
    assert seg.segment_counts_["other"] == 0
    named = set(seg.segments_) - {"other", "prospects"}
    assert named == {
        "champions",
        "loyal",
        "potential_loyalists",
        "new",
        "promising",
        "need_attention",
        "about_to_sleep",
        "at_risk",
        "cannot_lose",
        "hibernating",
        "lost",
    }
    assert (seg.segment_counts_.drop("other") > 0).all()


def test_rfm_missing_scores_fall_to_default():
    frame = pd.DataFrame(
        {
            "r_score": pd.array([5, None], dtype="Int64"),
            "f_score": pd.array([5, 5], dtype="Int64"),
            "m_score": pd.array([5, 5], dtype="Int64"),
        }
    )
    assert builtin_segmenter("rfm_groups").fit_predict(frame).tolist() == ["champions", "other"]


def test_abc_exact():
    frame = pd.DataFrame({"abc_class": pd.array(["B", "A", "none", "C", None, "A"], dtype="str")})
    out = builtin_segmenter("abc", overlap="error").fit_predict(frame)
    assert out.tolist() == ["B", "A", "none", "C", "none", "A"]


def portfolio_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "is_prospect": [False] * 8 + [True, True, True],
            "abc_class": ["A", "A", "B", "C", "A", "C", "B", "A", "none", "none", "none"],
            "recency_days": [10, 200, 30, 400, 50, 20, 90, 5, np.nan, np.nan, np.nan],
            "frequency": [5, 6, 3, 1, 4, 1, 1, 1, 0, 0, 0],
            "showed_interest": [False] * 8 + [True, False, False],
            "age": [40.0, 40, 30, 50, 40, 30, 50, 40, 20, 40, 70],
        },
        index=pd.Index([f"c{i}" for i in range(1, 9)] + ["p1", "p2", "p3"], name="customer_id"),
    ).astype({"abc_class": "str"})


def test_portfolio_roles_exact():
    frame = portfolio_frame()
    seg = builtin_segmenter("portfolio_roles").fit(frame)
    # buyers' recency sorted: 5 10 20 30 50 90 200 400 -> median 40, 75th percentile 117.5
    assert seg.thresholds_ == {
        "median(recency_days)": 40.0,
        "quantile(recency_days, 0.75)": 117.5,
    }
    assert seg.predict(frame).tolist() == [
        "precious",  # A, recent
        "inactive",  # A but lapsed
        "to_retain",  # B, repeat buyer
        "inactive",  # C, lapsed
        "to_retain",  # A, not recent enough to be precious, not lapsed
        "occasional",  # C, one-off, recent
        "occasional",  # B, one-off
        "precious",  # A, recent, one order
        "to_reach",
        "to_reach",
        "to_reach",
    ]


def test_lifecycle_exact():
    frame = portfolio_frame()
    seg = builtin_segmenter("lifecycle", lookalike_features=["age"], lookalike_threshold=0.5)
    out = seg.fit_predict(frame)
    assert out.tolist() == [
        "active",
        "lapsed",
        "active",
        "lapsed",
        "lapsed",
        "active",
        "lapsed",
        "active",
        "potential",  # showed interest
        "probable",  # age 40 = the A-class profile: score 1
        "cold",  # age 70: far from it
    ]
    assert seg.lookalike_.center_.tolist() == [40.0]
    assert list(seg.feature_names_in_) == ["is_prospect", "recency_days", "showed_interest", "age"]
    # the caller's frame did not gain the look-alike columns
    assert "lookalike_score" not in frame.columns


def test_lifecycle_threshold_is_exposed():
    frame = portfolio_frame()
    strict = builtin_segmenter("lifecycle", lookalike_features=["age"], lookalike_threshold=1.0)
    assert strict.fit_predict(frame)["p2"] == "probable"  # score exactly 1
    loose = builtin_segmenter("lifecycle", lookalike_features=["age"], lookalike_threshold=0.0)
    assert loose.fit_predict(frame)["p3"] == "probable"


def test_lifecycle_precomputed_lookalike_column_is_used():
    frame = portfolio_frame().assign(is_lookalike=[False] * 10 + [True])
    out = RuleSegmenter("lifecycle").fit_predict(frame)
    assert out.tolist()[-3:] == ["potential", "cold", "probable"]


def test_lifecycle_without_lookalike_explains_what_to_do():
    with pytest.raises(RuleSyntaxError, match=r"rule 'probable': unknown column 'is_lookalike'"):
        RuleSegmenter("lifecycle").fit(portfolio_frame())


def test_builtin_needs_its_columns():
    with pytest.raises(RuleSyntaxError, match=r"rule 'champions': unknown column 'r_score'"):
        builtin_segmenter("rfm_groups").fit(portfolio_frame())


@pytest.mark.parametrize("name", BUILTIN_RULESETS)
def test_builtins_roundtrip_toml_and_document_every_segment(name):
    rs = RuleSet.builtin(name)
    assert RuleSet.from_toml(rs.to_toml()) == rs
    assert rs.name == name
    assert rs.description
    for rule in rs.rules:
        assert rule.description and rule.action, rule.name


def test_unknown_builtin_segmenter():
    with pytest.raises(ConfigError, match=r"unknown built-in rule set 'rfm'; available"):
        builtin_segmenter("rfm")


def test_lifecycle_copes_without_optional_columns():
    # CDNOW-like: no showed_interest, no attribute columns; one prospect added
    frame = portfolio_frame()[["is_prospect", "abc_class", "recency_days", "frequency"]]
    seg = builtin_segmenter("lifecycle")
    out = seg.fit_predict(frame)
    assert out.tolist() == ["active", "lapsed", "active", "lapsed", "lapsed", "active"] + [
        "lapsed",
        "active",
        "cold",
        "cold",
        "cold",
    ]
    assert seg.filled_ == {"showed_interest": False}
    assert seg.lookalike_.features_ == []
    assert "showed_interest" not in seg.feature_names_in_
    # a frame that has the column uses it
    with_col = frame.assign(showed_interest=[False] * 8 + [True, False, False])
    assert seg.predict(with_col)["p1"] == "potential"


@pytest.mark.parametrize(
    ("name", "columns", "missing"),
    [
        ("rfm_groups", ["gender", "age"], ["r_score", "f_score", "m_score"]),
        ("abc", ["gender", "age"], ["abc_class"]),
        ("portfolio_roles", ["age"], ["is_prospect", "abc_class", "recency_days", "frequency"]),
        # showed_interest is filled, look-alike columns are computed: not required
        ("lifecycle", ["age"], ["is_prospect", "recency_days"]),
        ("lifecycle", ["is_prospect", "recency_days"], []),
        ("abc", ["abc_class"], []),
    ],
    ids=["rfm-customers-only", "abc-customers-only", "roles-customers-only",
         "lifecycle-customers-only", "lifecycle-ok", "abc-ok"],
)
def test_builtin_missing_columns(name, columns, missing):
    from segml.rules import builtin_missing_columns

    assert builtin_missing_columns(name, columns) == missing


def test_builtin_missing_columns_unknown_set():
    from segml.rules import builtin_missing_columns

    with pytest.raises(ConfigError, match=r"unknown built-in rule set 'rfm'\. Fix: .*\[rules\]"):
        builtin_missing_columns("rfm", [])
