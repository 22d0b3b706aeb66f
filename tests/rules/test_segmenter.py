"""RuleSegmenter and RuleSet: interface, overlap policy, frozen thresholds, TOML."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from segml.errors import (
    ConfigError,
    NotFittedError,
    OutputExistsError,
    RuleSyntaxError,
    SchemaError,
)
from segml.rules import Rule, RuleSegmenter, RuleSet


@pytest.fixture
def feats() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "monetary": [10.0, 50.0, 200.0, 400.0, 5.0],
            "recency_days": [300.0, 20.0, 10.0, 90.0, np.nan],
            "abc_class": pd.array(["C", "B", "A", "A", "none"], dtype="str"),
        },
        index=pd.Index(["c1", "c2", "c3", "c4", "c5"], name="customer_id"),
    )


RULES = [
    ("vip", "abc_class == 'A' and recency_days <= median(recency_days)"),
    ("big", "monetary >= quantile(monetary, 0.75)"),
    ("lapsed", "recency_days > 100"),
]


def test_fit_predict_first_match_wins(feats):
    seg = RuleSegmenter(RULES, "rest")
    out = seg.fit_predict(feats)
    # median(recency_days) = 55 (c5 missing is skipped); quantile(monetary, 0.75) = 200
    assert seg.thresholds_ == {"median(recency_days)": 55.0, "quantile(monetary, 0.75)": 200.0}
    # c3 matches vip and big: first rule wins
    assert out.tolist() == ["lapsed", "rest", "vip", "big", "rest"]
    assert out.index.equals(feats.index)
    assert out.name == "segment"
    assert list(out.cat.categories) == ["vip", "big", "lapsed", "rest"]
    assert seg.segments_ == ["vip", "big", "lapsed", "rest"]
    assert list(seg.feature_names_in_) == ["abc_class", "recency_days", "monetary"]
    assert seg.n_features_in_ == 3
    assert seg.match_counts_.tolist() == [1, 2, 1]
    assert seg.segment_counts_.to_dict() == {"vip": 1, "big": 1, "lapsed": 1, "rest": 2}
    assert seg.overlap_counts_.loc["vip", "big"] == 1
    assert seg.overlap_counts_.loc["big", "lapsed"] == 0


def test_order_matters_when_rules_overlap(feats):
    forward = RuleSegmenter(RULES, "rest").fit_predict(feats)
    reverse = RuleSegmenter(RULES[::-1], "rest").fit_predict(feats)
    assert forward["c3"] == "vip"
    assert reverse["c3"] == "big"


def test_overlap_error_names_rules_and_rows(feats):
    seg = RuleSegmenter(RULES, "rest", overlap="error")
    with pytest.raises(
        ConfigError,
        match=r"1 training rows match more than one rule \(overlap='error'\): "
        r"'vip' & 'big': 1 rows\. Make the conditions exclusive",
    ):
        seg.fit(feats)


def test_overlap_error_at_predict(feats):
    seg = RuleSegmenter([("lo", "monetary < 100"), ("hi", "monetary > 300")], overlap="error")
    seg.fit(feats)
    new = feats.assign(monetary=[10.0, 50.0, 50.0, 50.0, 50.0])
    assert seg.predict(new).tolist() == ["lo"] * 5
    seg2 = RuleSegmenter(
        [("lo", "monetary < 100"), ("mid", "monetary between 40 and 60")], overlap="error"
    )
    with pytest.raises(
        ConfigError, match=r"4 training rows match more than one rule.*'lo' & 'mid': 4 rows"
    ):
        seg2.fit(new)
    seg3 = RuleSegmenter(
        [("lo", "monetary < 100"), ("mid", "monetary between 40 and 60")], overlap="error"
    )
    seg3.fit(feats.iloc[[2, 3]])
    with pytest.raises(ConfigError, match=r"^4 predicted rows match more than one rule"):
        seg3.predict(new)


def test_thresholds_frozen_at_fit(feats):
    seg = RuleSegmenter([("big", "monetary >= quantile(monetary, 0.75)")], "small").fit(feats)
    other = pd.DataFrame({"monetary": [1000.0, 2000.0, 100.0, 250.0]}, index=list("wxyz"))
    # a refit on `other` would put its threshold at 1250; the frozen one stays 200
    assert seg.predict(other).tolist() == ["big", "big", "small", "big"]
    assert seg.thresholds_ == {"quantile(monetary, 0.75)": 200.0}
    refit = clone(seg).fit(other)
    assert refit.thresholds_ == {"quantile(monetary, 0.75)": 1250.0}
    assert refit.predict(other).tolist() == ["small", "big", "small", "small"]


def test_predict_needs_only_the_rule_columns(feats):
    seg = RuleSegmenter([("big", "monetary > 100")]).fit(feats)
    assert seg.predict(feats[["monetary"]]).tolist() == ["other", "other", "big", "big", "other"]
    with pytest.raises(
        SchemaError, match=r"predict: the frame lacks columns the rules need: \['monetary'\]"
    ):
        seg.predict(feats[["recency_days"]])


def test_dtype_change_between_fit_and_predict(feats):
    seg = RuleSegmenter([("a", "abc_class == 'A'")]).fit(feats)
    with pytest.raises(
        SchemaError, match=r"column 'abc_class' held str values at fit time but holds num now"
    ):
        seg.predict(feats.assign(abc_class=1.0))


def test_does_not_mutate_inputs(feats):
    before = feats.copy()
    rs = RuleSet.from_rules(RULES, default="rest")
    seg = RuleSegmenter(rs)
    params = seg.get_params()
    seg.fit_predict(feats)
    pd.testing.assert_frame_equal(feats, before)
    assert seg.get_params() == params
    assert seg.rules is rs


def test_get_params_and_clone(feats):
    seg = RuleSegmenter(RULES, "rest", overlap="error")
    assert seg.get_params() == {
        "rules": RULES,
        "default": "rest",
        "overlap": "error",
        "lookalike": None,
        "fill_missing": None,
    }
    c = clone(seg)
    assert c.get_params()["rules"] == RULES and not hasattr(c, "ruleset_")


def test_deterministic(feats):
    a = RuleSegmenter(RULES).fit_predict(feats)
    b = RuleSegmenter(RULES).fit_predict(feats)
    pd.testing.assert_series_equal(a, b)


def test_mapping_and_builtin_name_inputs(feats):
    seg = RuleSegmenter({"big": "monetary > 100", "mid": "monetary > 20"}, "small")
    assert seg.fit_predict(feats).tolist() == ["small", "mid", "big", "big", "small"]
    abc = RuleSegmenter("abc").fit_predict(feats)
    assert abc.tolist() == ["C", "B", "A", "A", "none"]
    renamed = RuleSegmenter("abc", default="prospect").fit_predict(feats)
    assert renamed.tolist()[-1] == "prospect"


def test_match_matrix(feats):
    seg = RuleSegmenter(RULES).fit(feats)
    m = seg.match_matrix(feats)
    assert list(m.columns) == ["vip", "big", "lapsed"]
    assert m.loc["c3"].tolist() == [True, True, False]
    assert m.loc["c5"].tolist() == [False, False, False]


def test_describe_shows_frozen_thresholds(feats):
    seg = RuleSegmenter(RULES, "rest").fit(feats)
    d = seg.describe()
    assert d.loc["vip", "frozen"] == "abc_class == 'A' and recency_days <= 55"
    assert d.loc["big", "frozen"] == "monetary >= 200"
    assert d.loc["rest", "condition"] == "(no rule matched)"
    assert d["training_rows"].tolist() == [1, 1, 1, 2]
    assert d["training_matches"].tolist() == [1, 2, 1, 2]  # 'big' lost c3 to 'vip'


# --------------------------------------------------------------------- errors


def test_empty_rule_set():
    with pytest.raises(ConfigError, match=r"rule set 'custom' is empty: give at least one"):
        RuleSegmenter([]).fit(pd.DataFrame({"x": [1]}))


def test_no_rules_given():
    with pytest.raises(ConfigError, match=r"RuleSegmenter needs rules"):
        RuleSegmenter().fit(pd.DataFrame({"x": [1]}))


def test_unknown_column_with_suggestion(feats):
    seg = RuleSegmenter([("rich", "monetry > 100")])
    with pytest.raises(
        RuleSyntaxError,
        match=r"rule 'rich': unknown column 'monetry'\n    monetry > 100\n    \^\^\^\^\^\^\^\n"
        r"did you mean 'monetary'\? known columns: abc_class, monetary, recency_days",
    ):
        seg.fit(feats)


def test_bad_operator_in_rule(feats):
    with pytest.raises(RuleSyntaxError, match=r"rule 'rich': unknown operator '='[\s\S]*use '=='"):
        RuleSegmenter([("rich", "abc_class = 'A'")]).fit(feats)


def test_unbalanced_parenthesis_in_rule(feats):
    with pytest.raises(RuleSyntaxError, match=r"rule 'x': unbalanced parenthesis"):
        RuleSegmenter([("x", "(monetary > 1 and recency_days < 3")]).fit(feats)


def test_lookalike_column_hint(feats):
    with pytest.raises(
        RuleSyntaxError, match=r"'is_lookalike' is computed by a look-alike scorer: pass"
    ):
        RuleSegmenter([("p", "is_lookalike")]).fit(feats)


@pytest.mark.parametrize(
    ("rules", "default", "match"),
    [
        (
            [("a", "x > 1"), ("a", "x > 2")],
            "other",
            r"segment names must be unique.*duplicated: \['a'\]",
        ),
        ([("other", "x > 1")], "other", r"duplicated: \['other'\]"),
        ([("", "x > 1")], "other", r"a rule has an empty name"),
        ([("a", "x > 1")], "", r"the default segment needs a non-empty name"),
        ([("a", "x > 1", "extra")], "other", r"each rule must be a \(name, condition\) pair"),
    ],
)
def test_bad_rule_lists(rules, default, match):
    with pytest.raises(ConfigError, match=match):
        RuleSegmenter(rules, default).fit(pd.DataFrame({"x": [1.0]}))


def test_bad_overlap_value():
    with pytest.raises(ConfigError, match=r"overlap='last' should be one of \['first', 'error'\]"):
        RuleSegmenter([("a", "x > 1")], overlap="last").fit(pd.DataFrame({"x": [1.0]}))


def test_not_a_frame():
    # an array's columns are x0, x1, ...: a rule naming another column says so
    with pytest.raises(RuleSyntaxError, match=r"unknown column 'x'"):
        RuleSegmenter([("a", "x > 1")]).fit(np.zeros((2, 2)))
    seg = RuleSegmenter([("a", "x1 > 1")]).fit(pd.DataFrame({"x1": [0.0, 2.0]}))
    with pytest.raises(SchemaError, match=r"predict: the frame lacks columns the rules need: "
                                          r"\['x1'\]; needed: \['x1'\] \(a ndarray has no column "
                                          r"names: its columns are x0, x1, ...; pass a DataFrame"):
        seg.predict(np.zeros((2, 1)))
    assert seg.predict(np.array([[9.0, 0.0], [9.0, 2.0]])).tolist() == ["other", "a"]
    with pytest.raises(TypeError, match=r"RuleSegmenter.predict: sparse data is not supported"):
        seg.predict(__import__("scipy.sparse").sparse.csr_matrix(np.zeros((2, 2))))


def test_not_fitted():
    seg = RuleSegmenter([("a", "x > 1")])
    with pytest.raises(NotFittedError, match=r"not fitted yet; call fit\(frame\) before predict"):
        seg.predict(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(NotFittedError, match=r"before describe"):
        seg.describe()


# ----------------------------------------------------------------------- TOML

TOML = """
name = "value"
description = "two tiers"
default = "rest"

[[rules]]
name = "top"
expr = "monetary >= 100"
description = "big spenders"
action = "call them"

[[rules]]
name = "mid"
expr = "monetary >= 20"
"""


def test_from_toml_text_and_file(tmp_path, feats):
    rs = RuleSet.from_toml(TOML)
    assert rs.name == "value" and rs.default == "rest"
    assert rs.rules[0] == Rule("top", "monetary >= 100", "big spenders", "call them")
    assert rs.segment_names == ["top", "mid", "rest"]
    p = tmp_path / "value.toml"
    p.write_text(TOML, encoding="utf-8")
    assert RuleSet.from_toml(p) == rs
    assert RuleSet.from_toml(str(p)) == rs
    assert RuleSegmenter(rs).fit_predict(feats).tolist() == ["rest", "mid", "top", "top", "rest"]


def test_to_toml_roundtrip_and_atomic_write(tmp_path):
    rs = RuleSet.from_toml(TOML)
    text = rs.to_toml()
    assert RuleSet.from_toml(text) == rs
    p = tmp_path / "out.toml"
    assert rs.to_toml(p) == text
    assert p.read_text(encoding="utf-8") == text
    with pytest.raises(OutputExistsError, match=r"already exists; refusing to overwrite"):
        rs.to_toml(p)
    rs.to_toml(p, overwrite=True)


@settings(max_examples=50, deadline=None)
@given(
    st.text(min_size=1, max_size=10).filter(lambda s: s.strip()),
    st.text(max_size=20),
    st.text(max_size=20),
)
def test_toml_roundtrip_any_text(name, description, action):
    rs = RuleSet(
        (Rule(name, "x > 1 and s == 'q\\'s'", description, action),),
        default=name + "_rest",
        description=description,
    )
    assert RuleSet.from_toml(rs.to_toml()) == rs


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("name = ", r"rule set TOML: invalid TOML: Invalid value"),
        ("default = 'x'\n", r"rule set 'custom' is empty"),
        ("[[rules]]\nname = 'a'\n", r"rules\[0\] lacks \['expr'\]"),
        (
            "[[rules]]\nname = 'a'\nexpr = 'x > 1'\nwhen = 'now'\n",
            r"rules\[0\] \('a'\) has unknown keys \['when'\]",
        ),
        ("colour = 'red'\n", r"unknown top-level keys \['colour'\]"),
        ("rules = 3\n", r"'rules' must be an array of tables"),
        ("rules = [3]\n", r"rules\[0\] must be a table"),
        ("[[rules]]\nname = 'a'\nexpr = 3\n", r"rules\[0\].expr must be a string, got 3"),
        (
            "default = 3\n[[rules]]\nname = 'a'\nexpr = 'x>1'\n",
            r"'default' must be a string, got 3",
        ),
        ("[[rules]]\nname = 'a'\nexpr = 'x >> 1'\n", r"rule 'a': unexpected '>'"),
    ],
)
def test_bad_toml(text, match):
    with pytest.raises((ConfigError, RuleSyntaxError), match=match):
        RuleSet.from_toml(text)


def test_missing_toml_file(tmp_path):
    with pytest.raises(ConfigError, match=r"rule set file .*nope.toml does not exist"):
        RuleSet.from_toml(tmp_path / "nope.toml")


def test_unknown_builtin():
    with pytest.raises(
        ConfigError, match=r"unknown built-in rule set 'rfm'; available: rfm_groups, abc"
    ):
        RuleSet.builtin("rfm")


def test_fill_missing(feats):
    seg = RuleSegmenter([("vip", "is_vip and monetary > 100")], fill_missing={"is_vip": True})
    assert seg.fit_predict(feats).tolist() == ["other", "other", "vip", "vip", "other"]
    assert seg.filled_ == {"is_vip": True}
    assert list(seg.feature_names_in_) == ["monetary"]
    present = feats.assign(is_vip=[True, True, False, True, True])
    assert seg.predict(present).tolist() == ["other", "other", "other", "vip", "other"]
    with pytest.raises(ConfigError, match=r"fill_missing\['is_vip'\]=\[1\] should be a bool"):
        RuleSegmenter([("v", "is_vip")], fill_missing={"is_vip": [1]}).fit(feats)


def test_pickle_roundtrip(feats):
    import pickle

    seg = RuleSegmenter(RULES, "rest").fit(feats)
    back = pickle.loads(pickle.dumps(seg))
    pd.testing.assert_series_equal(back.predict(feats), seg.predict(feats))
    assert back.thresholds_ == seg.thresholds_
