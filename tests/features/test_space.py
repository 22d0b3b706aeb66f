"""The feature space (issue 15): flags not standardised, weight 0 = describe only, redundancy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segml.errors import ConfigError
from segml.features import FeatureSpec, make_preprocessor
from segml.features.encoders import FamilyWeight, MissingFlags
from segml.features.space import (
    FLAG_SWING,
    REDUNDANT_SPEARMAN,
    binary_columns,
    describe_space,
    redundant_columns,
)


def _frame(n: int = 100) -> pd.DataFrame:
    """100 customers: two continuous value columns, a 1 % flag and a 1 % missing value."""
    rng = np.random.default_rng(0)
    f = pd.DataFrame({
        "monetary": rng.lognormal(3.0, 1.0, n),
        "recency_days": rng.integers(1, 300, n).astype("float64"),
        "complaints": np.r_[1.0, np.zeros(n - 1)],
    }, index=pd.Index([f"c{i:03d}" for i in range(n)], name="customer_id"))
    f.loc["c005", "recency_days"] = np.nan
    return f


def _spec() -> FeatureSpec:
    return FeatureSpec.from_dict({"families": {"value": {"columns": {
        "monetary": "standard", "recency_days": "standard", "complaints": "standard"}}}})


def test_rare_flag_and_indicator_stay_within_one_sd():
    f = _frame()
    X = make_preprocessor(_spec(), f).fit_transform(f)
    assert X.columns.tolist() == ["monetary", "recency_days", "complaints",
                                  "missingindicator_recency_days"]
    sd = float(X["monetary"].std(ddof=0))  # a standardised column of the same family
    # standardised, the 1 % flag would sit (1 - p) / sqrt(p (1 - p)) = 9.95 SD from the rest
    assert (1 - 0.01) / np.sqrt(0.01 * 0.99) == pytest.approx(9.95, abs=0.01)
    for col in ("complaints", "missingindicator_recency_days"):
        assert float(X[col].abs().max()) == pytest.approx(FLAG_SWING * sd, rel=1e-9)
        assert float(X[col].min()) == 0.0
        assert int(X[col].gt(0).sum()) == 1
    # the budget of the family (flags apart) is still its weight
    assert float(X[["monetary", "recency_days"]].var(ddof=0).sum()) == pytest.approx(1.0)


def test_flags_only_family():
    f = pd.DataFrame({"interest_golf": [1.0] + [0.0] * 99, "monetary": np.arange(100.0)})
    spec = FeatureSpec.default(f.columns).with_weights(psychographic=4.0)
    X = make_preprocessor(spec, f).fit_transform(f)
    # one flag, weight 4: scale sqrt(4 / 1), a swing of 2 (standardised: 9.95 * 2)
    assert float(X["interest_golf"].max()) == pytest.approx(2.0)


@settings(max_examples=25, deadline=None)
@given(n_flagged=st.integers(1, 60), weight=st.floats(0.1, 5.0))
def test_flag_swing_never_exceeds_one_family_sd(n_flagged, weight):
    f = _frame(120)
    f["complaints"] = np.r_[np.ones(n_flagged), np.zeros(120 - n_flagged)]
    spec = _spec().with_weights(value=weight)
    X = make_preprocessor(spec, f).fit_transform(f)
    assert float(X["complaints"].max()) <= float(X["monetary"].std(ddof=0)) + 1e-9


def test_binary_columns():
    f = pd.DataFrame({"a": [0, 1, None], "b": [True, False, True], "c": [0.0, 0.5, 1.0],
                      "d": ["0", "1", "0"], "e": [1, 0, 1]})
    cols = {"a": "log", "b": "passthrough", "c": "standard", "d": "onehot", "e": "onehot"}
    assert binary_columns(f, cols) == ["a", "b"]


def test_weight_zero_family_is_describe_only():
    f = _frame().assign(age=np.linspace(20, 70, 100))
    spec = FeatureSpec.default(["monetary", "recency_days", "age"])
    assert spec.families["demographic"].weight == 0.0  # attributes describe by default
    X = make_preprocessor(spec, f).fit_transform(f)
    assert "age" not in X.columns
    X1 = make_preprocessor(spec.with_weights(demographic=1), f).fit_transform(f)
    assert "age" in X1.columns
    table = describe_space(spec, f).set_index("column")
    assert table.loc["age", "role"] == "describe only"
    assert table.loc["monetary", "role"] == "distance"
    assert table.loc["recency_days", "note"].startswith("1 missing")
    with pytest.raises(ConfigError, match=r"every family of the feature spec has weight 0 "
                                          r".*Fix: give at least one family a weight > 0"):
        make_preprocessor(spec.with_weights(value=0), f[["monetary", "recency_days", "age"]])


def test_firmographic_family_is_describe_only_until_weighted():
    """B2B-only columns (issue 15) describe segments by default; a config weight puts them back."""
    from types import SimpleNamespace

    from segml.config import validate_config
    from segml.pipeline.run import apply_feature_options

    f = _frame().assign(
        is_b2b=pd.array([True] * 10 + [False] * 90, dtype="boolean"),
        company_size=pd.Categorical(["micro", "small", "medium", "large", "small"] * 2
                                    + [None] * 90,
                                    categories=["micro", "small", "medium", "large"],
                                    ordered=True))
    spec = FeatureSpec.default(f.columns)
    assert spec.families["firmographic"].weight == 0.0
    assert spec.families["firmographic"].columns == {"is_b2b": "passthrough",
                                                     "company_size": "ordinal"}
    X = make_preprocessor(spec, f).fit_transform(f)
    assert set(X.columns) == {"monetary", "recency_days", "complaints",
                              "missingindicator_recency_days"}
    table = describe_space(spec, f).set_index("column")
    assert table.loc["is_b2b", "role"] == "describe only"
    assert table.loc["company_size", "role"] == "describe only"
    # [features.weights] firmographic = 1 gives the family its weight back
    cfg = validate_config({"features": {"weights": {"firmographic": 1}}})
    fs = apply_feature_options(cfg, SimpleNamespace(spec=spec, report={}, frame=f))
    assert fs.spec.families["firmographic"].weight == 1.0
    X1 = make_preprocessor(fs.spec, f).fit_transform(f)
    assert {"is_b2b", "company_size"} <= set(X1.columns)


def test_redundant_value_columns_keep_monetary():
    rng = np.random.default_rng(1)
    m = rng.lognormal(3, 1, 200)
    f = pd.DataFrame({"clv": m * 3.1, "growth_potential": -np.log(m) + rng.normal(0, .05, 200),
                      "frequency": rng.integers(1, 9, 200).astype(float), "monetary": m})
    spec = FeatureSpec.default(f.columns)
    red = redundant_columns(spec, f)
    # monetary is preferred over clv and growth_potential whatever the column order
    assert [(r.column, r.kept) for r in red] == [("clv", "monetary"),
                                                ("growth_potential", "monetary")]
    assert red[0].spearman == pytest.approx(1.0)
    assert red[1].spearman <= -REDUNDANT_SPEARMAN
    X = make_preprocessor(spec, f).fit_transform(f)
    assert X.columns.tolist() == ["frequency", "monetary"]
    table = describe_space(spec, f).set_index("column")
    assert table.loc["clv", "role"] == "dropped"
    assert table.loc["clv", "note"] == "redundant with monetary (Spearman +1.000, |rho| >= 0.9)"
    # deterministic, and a described-only value family is not checked
    assert redundant_columns(spec, f) == red
    assert redundant_columns(spec.with_weights(value=0), f) == []
    # too few rows to judge: nothing dropped
    assert redundant_columns(spec, f.iloc[:10]) == []


def test_missing_flags_and_family_weight_flags():
    mf = MissingFlags(scale=0.5).fit(pd.DataFrame({"a": [1.0, None], "t": ["x", None]}))
    out = mf.transform(pd.DataFrame({"a": [None, 2.0], "t": [None, "y"]}))
    np.testing.assert_array_equal(out, [[0.5, 0.5], [0.0, 0.0]])
    assert mf.get_feature_names_out().tolist() == ["missingindicator_a", "missingindicator_t"]
    with pytest.raises(ConfigError, match=r"scale=0 should be a finite number > 0"):
        MissingFlags(scale=0).fit(pd.DataFrame({"a": [1.0]}))
    X = np.array([[0.0, 0.0], [2.0, 1.0]])  # var 1 in the first column, a flag in the second
    fw = FamilyWeight(weight=4.0, n_flags=1).fit(X)
    assert fw.scale_ == pytest.approx(2.0)
    np.testing.assert_allclose(fw.transform(X), [[0, 0], [4, 2]])
    with pytest.raises(ConfigError, match=r"n_flags=3 should be between 0 and the 2 columns"):
        FamilyWeight(n_flags=3).fit(X)
