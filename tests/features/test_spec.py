"""FeatureSpec: defaults, dict/TOML round trips, and every ConfigError message."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segml.errors import ConfigError, OutputExistsError
from segml.features.spec import FAMILIES, TRANSFORMS, FamilySpec, FeatureSpec

FRAME_COLUMNS = [
    "recency_days", "frequency", "monetary", "r_score", "rfm_code", "abc_class", "clv",
    "tenure_days", "category_share_books", "channel_share_web", "days_late_mean",
    "payment_risk", "journey_stage", "journey_stage_ord", "response_rate", "satisfaction_ord",
    "age", "age_band", "birth_year", "income", "education", "marital_status", "is_b2b",
    "company_size", "region", "city", "latitude", "interest_sustainability", "survey_price",
    "customer_id", "signup_date", "something_else",
]


def test_default_spec_families_transforms_and_order():
    spec = FeatureSpec.default(FRAME_COLUMNS)
    assert list(spec.families) == [
        "value", "behaviour", "payment", "relationship", "demographic", "firmographic",
        "geographic", "psychographic",
    ]
    assert spec.to_dict()["families"] == {
        "value": {"weight": 1.0, "columns": {
            "recency_days": "robust", "frequency": "log", "monetary": "log", "clv": "log"}},
        "behaviour": {"weight": 1.0, "columns": {
            "tenure_days": "robust", "category_share_books": "standard",
            "channel_share_web": "standard"}},
        "payment": {"weight": 1.0, "columns": {
            "days_late_mean": "winsor", "payment_risk": "passthrough"}},
        "relationship": {"weight": 1.0, "columns": {
            "journey_stage_ord": "ordinal", "response_rate": "standard",
            "satisfaction_ord": "ordinal"}},
        # attributes describe segments, they do not drive them unless weighted (issue 15)
        "demographic": {"weight": 0.0, "columns": {
            "age": "standard", "income": "log", "education": "ordinal",
            "marital_status": "onehot"}},
        "firmographic": {"weight": 0.0, "columns": {
            "is_b2b": "passthrough", "company_size": "ordinal"}},
        "geographic": {"weight": 0.0, "columns": {
            "region": "onehot", "city": "frequency", "latitude": "standard"}},
        "psychographic": {"weight": 0.0, "columns": {
            "interest_sustainability": "passthrough", "survey_price": "standard"}},
    }


def test_default_leaves_out_ids_scores_and_raw_inputs():
    cols = FeatureSpec.default(FRAME_COLUMNS).columns()
    for c in ("customer_id", "signup_date", "r_score", "rfm_code", "abc_class", "age_band",
              "birth_year", "journey_stage", "something_else"):
        assert c not in cols
    assert FeatureSpec.default([]).families == {}


def test_dict_round_trip():
    spec = FeatureSpec.default(FRAME_COLUMNS).with_weights(value=2.0, geographic=0.5)
    spec.levels["education"] = ["basic", "secondary", "bachelor", "master", "phd"]
    d = spec.to_dict()
    assert d["families"]["value"]["weight"] == 2.0
    assert FeatureSpec.from_dict(d) == spec


def test_toml_round_trip_text_and_file(tmp_path: Path):
    spec = FeatureSpec.from_dict({
        "families": {
            "value": {"weight": 2, "columns": {"monetary": "log", "recency_days": "robust"}},
            "behaviour": {"columns": {"category_share_books & music": "standard"}},
        },
        "levels": {"segment \"x\"": ["lo", "hi"]},
    })
    text = spec.to_toml()
    assert 'weight = 2.0' in text
    assert '"category_share_books & music" = "standard"' in text
    assert FeatureSpec.from_toml(text) == spec
    path = tmp_path / "spec.toml"
    spec.to_toml(path)
    assert FeatureSpec.from_toml(path) == spec
    with pytest.raises(OutputExistsError, match=r"already exists; refusing to overwrite"):
        spec.to_toml(path)
    spec.with_weights(value=3.0).to_toml(path, overwrite=True)
    assert FeatureSpec.from_toml(path).families["value"].weight == 3.0


def test_toml_exact_text():
    spec = FeatureSpec(
        families={"value": FamilySpec(columns={"monetary": "log"}, weight=2.0)},
        levels={"education": ["basic", "phd"]},
    )
    assert spec.to_toml() == (
        "version = 1\n\n"
        "[families.value]\nweight = 2.0\n\n"
        "[families.value.columns]\nmonetary = \"log\"\n\n"
        "[levels]\neducation = [\"basic\", \"phd\"]\n"
    )


_names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12
)


@given(
    st.dictionaries(
        st.sampled_from(FAMILIES),
        st.tuples(
            st.dictionaries(_names, st.sampled_from(TRANSFORMS), max_size=4),
            st.floats(0.01, 100.0),
        ),
        max_size=4,
    )
)
@settings(max_examples=60, deadline=None)
def test_toml_round_trip_property(raw):
    seen: set[str] = set()
    families = {}
    for fam, (cols, weight) in raw.items():
        cols = {c: t for c, t in cols.items() if c not in seen}
        seen.update(cols)
        families[fam] = FamilySpec(columns=cols, weight=weight)
    spec = FeatureSpec(families=families)
    assert FeatureSpec.from_toml(spec.to_toml()) == spec
    assert FeatureSpec.from_dict(spec.to_dict()) == spec


def test_weight_zero_is_describe_only():
    spec = FeatureSpec.default(["monetary", "age"]).with_weights(demographic=0.0)
    assert spec.families["demographic"].weight == 0.0
    assert FeatureSpec.from_toml(spec.to_toml()) == spec
    assert FeatureSpec.default(["age"]).with_weights(demographic=2).families[
        "demographic"].weight == 2


def test_select_and_family_of():
    spec = FeatureSpec.default(FRAME_COLUMNS)
    sub = spec.select(["monetary", "region"])
    assert sub.to_dict()["families"] == {
        "value": {"weight": 1.0, "columns": {"monetary": "log"}},
        "geographic": {"weight": 0.0, "columns": {"region": "onehot"}},
    }
    assert spec.family_of("region") == "geographic"
    with pytest.raises(ConfigError, match=r"column 'nope' is in no family of this feature spec"):
        spec.family_of("nope")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], r"a feature spec should be a mapping, got list"),
        ({"familes": {}}, r"unknown key 'familes' in feature spec; allowed: 'version', "
                          r"'families', 'levels'"),
        ({}, r"feature spec has no 'families' table"),
        ({"families": []}, r"families should be a mapping of family name -> \{columns, "
                           r"weight\}, got list"),
        ({"families": {"money": {}}}, r"unknown family 'money'; allowed: 'value', "
                                      r"'behaviour', .*'psychographic'"),
        ({"families": {"value": 3}}, r"family 'value' should be a table with keys 'columns', "
                                     r"'weight', 'options', got int"),
        ({"families": {"value": {"weight": 1, "cols": {}}}},
         r"family 'value': unknown key 'cols'; allowed: 'columns', 'weight'"),
        ({"families": {"value": {"weight": -1}}},
         r"family 'value': weight should be a finite number >= 0 \(0 = describe only\), got "
         r"-1\. Fix: set \[features.weights\] value = 1"),
        ({"families": {"value": {"weight": "2"}}},
         r"family 'value': weight should be a finite number >= 0 .*got '2'"),
        ({"families": {"value": {"weight": float("inf")}}},
         r"family 'value': weight should be a finite number >= 0 .*got inf"),
        ({"families": {"value": {"weight": True}}},
         r"family 'value': weight should be a finite number >= 0 .*got True"),
        ({"families": {"value": {"columns": ["monetary"]}}},
         r"family 'value': columns should be a mapping of column -> transform, got list"),
        ({"families": {"value": {"columns": {"monetary": "sqrt"}}}},
         r"family 'value', column 'monetary': unknown transform 'sqrt'; allowed: 'log', "
         r"'yeo-johnson', 'robust', 'standard', 'winsor', 'onehot', 'ordinal', 'frequency', "
         r"'passthrough'"),
        ({"families": {"value": {"columns": {"": "log"}}}},
         r"family 'value': column names should be non-empty strings, got ''"),
        ({"families": {"value": {"columns": {"income": "log"}},
                       "demographic": {"columns": {"income": "log"}}}},
         r"column 'income' is in families 'value' and 'demographic'; a column belongs to one"),
        ({"families": {}, "levels": ["a"]},
         r"levels should be a mapping of column -> list of levels, got list"),
        ({"families": {}, "levels": {"education": "basic"}},
         r"levels for column 'education' should be a list of strings, got 'basic'"),
        ({"families": {}, "levels": {"education": ["a", "a"]}},
         r"levels for column 'education' repeat a level: \['a', 'a'\]"),
        ({"families": {}, "version": 2},
         r"feature spec version=2 is not supported; this segml reads version 1"),
    ],
)
def test_config_errors(data, message):
    with pytest.raises(ConfigError, match=message):
        FeatureSpec.from_dict(data)


def test_constructor_errors():
    with pytest.raises(ConfigError, match=r"family 'value' should be a FamilySpec"):
        FeatureSpec(families={"value": {"columns": {}}})
    with pytest.raises(ConfigError, match=r"families should be a mapping of family name"):
        FeatureSpec(families=[])


def test_with_weights_errors():
    spec = FeatureSpec.default(["monetary"])
    with pytest.raises(ConfigError, match=r"family 'geographic' is not in this feature spec; "
                                          r"it has: 'value'"):
        spec.with_weights(geographic=2.0)
    with pytest.raises(ConfigError, match=r"family 'value': weight should be a finite number"):
        spec.with_weights(value=-1)


def test_bad_toml(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"feature spec text is not valid TOML"):
        FeatureSpec.from_toml("[families.value\nweight = 1")
    p = tmp_path / "bad.toml"
    p.write_text("version = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.toml is not valid TOML"):
        FeatureSpec.from_toml(p)
    with pytest.raises(ConfigError, match=r"unknown transform 'cube'"):
        FeatureSpec.from_toml('[families.value.columns]\nmonetary = "cube"\n')


def test_toml_key_ending_in_a_newline_is_quoted():
    """Regression (hypothesis): ``$`` matched before a trailing newline, so "0\\n" was bare."""
    spec = FeatureSpec.from_dict({"families": {"value": {"columns": {"0\n": "log"}}}})
    assert FeatureSpec.from_toml(spec.to_toml()) == spec
