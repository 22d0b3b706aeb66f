"""Cross-engine equality of the customer attributes, CLV and growth potential on Spark."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from segml.errors import EngineError, SchemaError
from segml.features import FeatureSpec, build_features
from segml.features import build as segml_build
from segml.spark.attributes import COMPUTED
from segml.spark.features import spark_feature_frame
from segml.spark.value import GROWTH_BY

AS_OF = "2024-01-31"


def assert_same_na(got: pd.DataFrame, ref: pd.DataFrame) -> None:
    """Same ids, columns and dtypes; missing at the same places; floats within 1e-9 relative,
    everything else exact."""
    assert got.index.equals(ref.index)
    assert list(got.columns) == list(ref.columns)
    for col in ref.columns:
        a, b = got[col], ref[col]
        assert a.dtype == b.dtype, (col, a.dtype, b.dtype)
        na, nb = pd.isna(a).to_numpy(), pd.isna(b).to_numpy()
        assert (na == nb).all(), col
        if b.dtype.kind == "f":
            np.testing.assert_allclose(a.to_numpy()[~na], b.to_numpy()[~nb], rtol=1e-9, atol=0,
                                       err_msg=col)
        else:
            assert (a.to_numpy()[~na] == b.to_numpy()[~nb]).all(), col


def _tiny() -> tuple[pd.DataFrame, pd.DataFrame, FeatureSpec]:
    tx = pd.DataFrame({
        "customer_id": pd.Series(["a", "a", "b", "c", "z"], dtype="str"),
        "timestamp": pd.to_datetime(["2024-01-02", "2024-01-20", "2023-12-01", "2024-01-05",
                                     "2024-01-06"]),
        "amount": [10.0, 30.0, 5.0, 8.0, 12.0],
    })
    customers = pd.DataFrame({
        "customer_id": pd.Series(["a", "b", "c", "d"], dtype="str"),
        "birth_year": [2006.0, 2007.0, 1893.0, np.nan],  # 18, 17 (<18), implausible, missing
        "education": ["PhD", " Bachelor ", "meh", None],
        "satisfaction": [" Very Satisfied ", "neutral", "so-so", None],
        "journey_stage": ["Won", "Lost", "first contact", None],
        "region": ["north", "south", "moon", None],
        "campaigns_sent": [4.0, 0.0, np.nan, 2.0],
        "campaigns_responded": [1.0, 0.0, 1.0, 2.0],
        "complaints": [0.0, 2.0, np.nan, 1.0],
        "acquisition_cost": [50.0, np.nan, 10.0, 5.0],
        "is_b2b": pd.array([True, None, False, False], dtype="boolean"),
        "clv": [1.0, 2.0, 3.0, 4.0],  # a computed name: dropped and counted
    })
    spec = FeatureSpec.from_dict({
        "families": {"value": {"columns": {"monetary": "log", "clv": "log"}},
                     "demographic": {"columns": {"region": "onehot"}}},
        "levels": {"region": ["north", "south"]},
    })
    return tx, customers, spec


@pytest.fixture(scope="module")
def tiny(spark):
    tx, customers, spec = _tiny()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = build_features(tx, customers, AS_OF, spec)
    fs = spark_feature_frame(spark.createDataFrame(tx), spark.createDataFrame(customers), spec,
                             AS_OF)
    got = fs.to_pandas()
    fs.unpersist()
    return got, ref, fs


def test_tiny_attributes_hand_computed(tiny):
    got, _, fs = tiny
    assert got["age"].tolist()[:2] == [18.0, 17.0] and got["age"].isna().tolist()[2:] == [
        True, True, True]  # c: 1893 implausible, d: missing, z: only in transactions
    assert got.loc["a", "age_band"] == "18-24" and got.loc["b", "age_band"] == "<18"
    assert got.loc["a", "education"] == "phd" and got.loc["b", "education"] == "bachelor"
    assert pd.isna(got.loc["c", "education"])  # "meh" is not a level: missing, counted
    assert got.loc["a", "satisfaction_ord"] == 4.0 and got.loc["b", "journey_stage_ord"] == -1.0
    assert got.loc["c", "journey_stage_ord"] == 0.0  # "first contact" -> first_contact
    assert got.loc["c", "region"] == "unknown"  # outside the spec's vocabulary
    assert got.loc["a", "response_rate"] == 0.25 and np.isnan(got.loc["b", "response_rate"])
    assert got["is_b2b"].dtype == "boolean" and pd.isna(got.loc["b", "is_b2b"])
    assert pd.isna(got.loc["z", "is_b2b"])
    # clv = aov x orders per 365 days (at least one period) x 3 - acquisition cost
    assert got.loc["a", "clv"] == pytest.approx(20.0 * 2 * 3 - 50.0, rel=1e-12)
    assert got.loc["b", "clv"] == pytest.approx(15.0, rel=1e-12)  # missing cost counts as 0
    assert got.loc["d", "clv"] == -5.0  # a prospect: minus the cost
    assert "clv" not in fs.attribute_columns
    assert fs.report["dropped_customer_columns"] == ["clv"]
    assert fs.report["implausible_birth_years"] == 1
    assert fs.report["unknown_levels"] == {"education": 1, "satisfaction": 1, "region": 1}
    assert fs.report["missing"]["is_b2b"] == 1 and fs.report["missing"]["birth_year"] == 1


def test_tiny_equals_segml(tiny):
    got, ref, fs = tiny
    assert_same_na(got, ref.frame)
    for key in ("dropped_customer_columns", "missing", "missing_income", "unknown_levels",
                "implausible_birth_years", "implausible_ages"):
        assert fs.report[key] == ref.report[key], key
    assert fs.growth.get_params() == ref.state.growth.get_params()
    assert fs.growth.cell_medians_ == ref.state.growth.cell_medians_
    assert fs.growth.global_median_ == ref.state.growth.global_median_
    assert fs.growth.n_fallback_ == ref.state.growth.n_fallback_
    assert fs.age_encoder.get_params() == ref.state.age_encoder.get_params()
    assert fs.age_encoder.n_implausible_ == ref.state.age_encoder.n_implausible_ == 1


def test_growth_cells_with_peers(spark):
    """min_peers=1: every cell has its own median (even count: the mean of the middle two)."""
    tx = pd.DataFrame({
        "customer_id": pd.Series(list("abcdef"), dtype="str"),
        "timestamp": pd.to_datetime(["2024-01-10"] * 6),
        "amount": [10.0, 30.0, 0.1, 0.2, 7.0, 0.0],
    })
    customers = pd.DataFrame({"customer_id": pd.Series(list("abcdefg"), dtype="str"),
                              "education": ["basic", "basic", "phd", "phd", None, "phd",
                                            None]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = build_features(tx, customers, AS_OF, min_peers=1)
    fs = spark_feature_frame(spark.createDataFrame(tx), spark.createDataFrame(customers), None,
                             AS_OF, min_peers=1)
    got = fs.to_pandas()
    fs.unpersist()
    assert fs.growth.cell_medians_ == ref.state.growth.cell_medians_ == {
        "basic": 20.0, "phd": 0.15000000000000002, "<missing>": 7.0}
    assert got.loc["a", "growth_potential"] == 0.5 and got.loc["g", "growth_potential"] == 1.0
    assert_same_na(got, ref.frame)


def test_duplicated_customer_ids_are_refused(spark):
    tx, customers, _ = _tiny()
    twice = pd.concat([customers, customers.iloc[[0]]], ignore_index=True)
    with pytest.raises(SchemaError, match=r"1 duplicated customer_id value\(s\), e.g. \['a'\]"
                                          r".*Fix: deduplicate"):
        spark_feature_frame(spark.createDataFrame(tx), spark.createDataFrame(twice), None,
                            AS_OF)


def test_mirrored_constants_match_segml():
    assert COMPUTED == segml_build._COMPUTED
    assert GROWTH_BY == segml_build._GROWTH_BY


def test_forward_fit_above_max_rows_is_refused(spark):
    tx, customers, _ = _tiny()
    spec = FeatureSpec.from_dict({"families": {"value": {"columns": {
        "monetary": "log"}}}}).with_forward()
    with pytest.raises(EngineError, match=r"4 customers to fit BG/NBD on, more than "
                                          r"max_fit_rows=3 .*Fix: raise max_fit_rows"):
        spark_feature_frame(spark.createDataFrame(tx), spark.createDataFrame(customers), spec,
                            AS_OF, forward_max_fit_rows=3)


def test_ids_only_customers_table_equals_segml(spark):
    tx, _, _ = _tiny()
    customers = pd.DataFrame({"customer_id": pd.Series(["a", "q"], dtype="str")})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = build_features(tx, customers, AS_OF)
    fs = spark_feature_frame(spark.createDataFrame(tx), spark.createDataFrame(customers), None,
                             AS_OF)
    got = fs.to_pandas()
    fs.unpersist()
    assert got.index.tolist() == ["a", "b", "c", "q", "z"] and fs.attribute_columns == []
    assert fs.report["missing"] == {} and fs.report["unknown_levels"] == {}
    assert_same_na(got, ref.frame)
