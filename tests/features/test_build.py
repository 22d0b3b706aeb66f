"""build_features on a tiny hand-built canonical pair; state reuse; the model matrix."""

from __future__ import annotations

import io
import warnings
from dataclasses import replace

import joblib
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from segml.errors import ConfigError, DataQualityWarning, SchemaError
from segml.features import (
    FeatureSet,
    FeatureSpec,
    FeatureState,
    build_features,
    make_preprocessor,
)

AS_OF = "2024-03-31"


def _tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.array(["a", "a", "a", "b", "z", "late"], dtype="str"),
            "timestamp": pd.to_datetime(
                [
                    "2024-01-10 09:00",
                    "2024-03-01 12:00",
                    "2024-04-05 10:00",  # after as_of: ignored, counted
                    "2024-02-15 18:00",
                    "2024-03-31 23:00",  # on the as_of day: in
                    "2024-04-01 00:00",  # after as_of: customer does not exist yet
                ]
            ),
            "amount": [100.0, 50.0, 999.0, 20.0, 10.0, 5.0],
            "order_id": pd.array(["o1", "o2", "o3", "o4", "o5", "o6"], dtype="str"),
        }
    )


def _customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.array(["a", "b", "c"], dtype="str"),
            "birth_year": [1980.0, 1893.0, np.nan],
            "income": [50_000.0, np.nan, 20_000.0],
            "region": pd.array(["north", "south", None], dtype="str"),
            "satisfaction": pd.array(["satisfied", "Very Satisfied", "grumpy"], dtype="str"),
            "campaigns_sent": [4.0, 0.0, 2.0],
            "campaigns_responded": [1.0, 0.0, 2.0],
            "acquisition_cost": [30.0, np.nan, 10.0],
        }
    )


@pytest.fixture(scope="module")
def fs() -> FeatureSet:
    return build_features(_tx(), _customers(), AS_OF)


def test_index_rows_and_report(fs):
    assert fs.frame.index.tolist() == ["a", "b", "c", "z"]
    assert fs.frame.index.name == "customer_id"
    assert fs.frame.index.dtype == "str"
    assert fs.as_of == pd.Timestamp(AS_OF)
    r = fs.report
    assert r["rows_after_as_of"] == 2
    assert r["customers_only_in_transactions"] == 1
    assert r["n_customers"] == 4
    assert r["n_prospects"] == 1
    assert r["implausible_birth_years"] == 1
    assert r["missing_income"] == 1
    assert r["missing"] == {"birth_year": 1, "income": 1, "region": 1, "acquisition_cost": 1}
    assert r["unknown_levels"] == {"satisfaction": 1}
    assert r["state_reused"] is False


def test_exact_rfm_abc_columns(fs):
    f = fs.frame
    assert_allclose(f["recency_days"], [30.0, 45.0, np.nan, 0.0])
    assert f["frequency"].tolist() == [2, 1, 0, 1]
    assert f["frequency"].dtype == "int64"
    assert_allclose(f["monetary"], [150.0, 20.0, 0.0, 10.0])
    assert_allclose(f["avg_order_value"], [75.0, 20.0, np.nan, 10.0])
    assert f["is_prospect"].tolist() == [False, False, True, False]
    # recency cuts of [0, 30, 45]: 12, 24, 33, 39 (lower is better); frequency cuts of
    # [1, 1, 2]: 1, 1, 1.2, 1.6; monetary cuts of [10, 20, 150]: 14, 18, 46, 98
    assert f["r_score"].tolist() == [3, 1, 0, 5]
    assert f["f_score"].tolist() == [5, 1, 0, 1]
    assert f["m_score"].tolist() == [5, 3, 0, 1]
    assert f["rfm_code"].tolist() == ["355", "113", "000", "511"]
    # ABC by count: top 20% of 3 buyers -> 1 (A), top 50% -> 2 (A+B)
    assert f["abc_class"].tolist() == ["A", "B", "none", "C"]


def test_clv_attributes_relationship_growth(fs):
    f = fs.frame
    # tenure < 1 year counts as one period: clv = monetary * 3 - acquisition_cost
    assert_allclose(f["clv"], [150 * 3 - 30, 20 * 3 - 0, -10.0, 10 * 3])
    assert_allclose(f["age"], [44.0, np.nan, np.nan, np.nan])
    assert f["age_band"].isna().tolist() == [False, True, True, True]
    assert f.loc["a", "age_band"] == "35-44"
    assert f["region"].tolist()[:2] == ["north", "south"]
    assert_allclose(f["satisfaction_ord"], [3.0, 4.0, np.nan, np.nan])
    assert_allclose(f["response_rate"], [0.25, np.nan, 1.0, np.nan])
    # 3 buyers < min_peers=5 in every cell -> median of all buyers (20) is the peer spend
    assert_allclose(f["growth_potential"], [0.0, 0.0, 1.0, 0.5])
    assert fs.state.growth.global_median_ == 20.0


def test_inputs_not_mutated():
    tx, cu = _tx(), _customers()
    tx0, cu0 = tx.copy(), cu.copy()
    build_features(tx, cu, AS_OF)
    pd.testing.assert_frame_equal(tx, tx0)
    pd.testing.assert_frame_equal(cu, cu0)


def test_deterministic_and_row_order_free(fs):
    shuffled = _tx().sample(frac=1.0, random_state=3)
    again = build_features(shuffled, _customers().iloc[::-1], AS_OF)
    pd.testing.assert_frame_equal(again.frame, fs.frame)


def test_state_reuse_same_data_gives_identical_frame(fs):
    again = build_features(_tx(), _customers(), AS_OF, state=fs.state)
    pd.testing.assert_frame_equal(again.frame, fs.frame)
    assert again.report["state_reused"] is True
    assert again.state is fs.state


def test_state_reuse_freezes_cut_points_for_new_customers(fs):
    cuts = fs.state.rfm_scorer.cut_points_.copy()
    new_tx = pd.DataFrame(
        {
            "customer_id": pd.array(["n1", "n2"], dtype="str"),
            "timestamp": pd.to_datetime(["2024-06-20", "2024-06-29"]),
            "amount": [100.0, 15.0],
            "order_id": pd.array(["x1", "x2"], dtype="str"),
        }
    )
    new_cu = pd.DataFrame({"customer_id": pd.array(["n1", "n2"], dtype="str"),
                           "birth_year": [1990.0, 2000.0]})
    scored = build_features(new_tx, new_cu, "2024-06-30", state=fs.state)
    f = scored.frame
    assert f.columns.tolist() == fs.frame.columns.tolist()
    # monetary 100 is above every frozen cut (14, 18, 46, 98) -> 5; 15 is above 14 only -> 2
    assert f["m_score"].tolist() == [5, 2]
    # recency 10 and 1 days: frozen cuts 12, 24, 33, 39 -> 5 and 5
    assert f["r_score"].tolist() == [5, 5]
    assert_allclose(fs.state.rfm_scorer.cut_points_, cuts)
    # frozen ABC thresholds (A >= 150, B >= 20) and growth median 20
    assert f["abc_class"].tolist() == ["B", "C"]
    assert_allclose(f["growth_potential"], [0.0, 0.25])
    # a refit on the new data alone would rank them differently
    refit = build_features(new_tx, new_cu, "2024-06-30")
    assert refit.frame["m_score"].tolist() != [5, 2]
    assert scored.report["columns_absent_vs_state"] == [
        "income", "region", "satisfaction", "campaigns_sent", "campaigns_responded",
        "acquisition_cost", "response_rate", "satisfaction_ord",
    ]


def _structural(spec: FeatureSpec) -> FeatureSpec:
    """The 4-customer frames test the matrix layout: no privacy floor on level counts."""
    return replace(spec, min_level_customers=1)


def test_model_matrix_finite_named_and_frozen(fs):
    # attributes are describe-only by default (weight 0); weight them to see their encoders
    pre = make_preprocessor(
        _structural(fs.spec.with_weights(seasonality=1, demographic=1, geographic=1)), fs.frame)
    X = pre.fit_transform(fs.frame)
    assert isinstance(X, pd.DataFrame)
    assert X.index.tolist() == fs.frame.index.tolist()
    assert np.isfinite(X.to_numpy()).all()
    # per family, columns sharing a transform form one block (spec order of first appearance);
    # then the 0/1 columns (flags) and the missing indicators of the family's columns, which
    # are not standardised (issue 15)
    assert X.columns.tolist() == [
        "recency_days", "frequency", "monetary", "avg_order_value", "clv", "growth_potential",
        "missingindicator_recency_days", "missingindicator_avg_order_value",
        "tenure_days", "interpurchase_mean_days", "active_month_share",
        "interpurchase_cv", "spend_trend", "return_rate",
        "missingindicator_tenure_days", "missingindicator_interpurchase_mean_days",
        "missingindicator_active_month_share",
        "spend_q1_share", "spend_q2_share", "spend_q3_share", "spend_q4_share",
        "season_peak_share",
        "response_rate", "satisfaction_ord",
        "missingindicator_response_rate", "missingindicator_satisfaction_ord",
        "income", "age", "missingindicator_income", "missingindicator_age",
        "region_missing", "region_north", "region_south",
    ]
    # interpurchase_cv is missing for everybody (nobody has 3 orders): kept as a constant
    assert (X["interpurchase_cv"] == 0).all()
    assert X["missingindicator_income"].gt(0).tolist() == [False, True, False, True]
    # transform new customers with the fitted preprocessor: same columns, finite
    new = build_features(_tx(), _customers().iloc[:1], AS_OF, state=fs.state).frame
    Xn = pre.transform(new)
    assert Xn.columns.tolist() == X.columns.tolist()
    assert np.isfinite(Xn.to_numpy()).all()
    # joblib round trip (no lambdas in the preprocessor)
    buf = io.BytesIO()
    joblib.dump(pre, buf)
    buf.seek(0)
    pd.testing.assert_frame_equal(joblib.load(buf).transform(fs.frame), X)


def test_family_weights_set_the_budget(fs):
    spec = _structural(fs.spec.with_weights(value=2.0, seasonality=1, demographic=1,
                                            geographic=1))
    X = make_preprocessor(spec, fs.frame).fit_transform(fs.frame)
    budget = {}
    for fam in spec.families:
        block = make_preprocessor(spec, fs.frame).fit(fs.frame).named_transformers_[fam]
        # the flags (trailing 0/1 columns and missing indicators) are outside the budget
        names = block.get_feature_names_out()[: -block["weight"].n_flags or None]
        budget[fam] = float(X[names].var(ddof=0).sum())
    assert budget["value"] == pytest.approx(2.0)
    for fam in ("behaviour", "relationship", "demographic", "geographic"):
        assert budget[fam] == pytest.approx(1.0)
    # every customer here spent in one quarter: the shares are 0/1, flags outside the budget
    assert budget["seasonality"] == 0.0


def test_customers_only_no_transactions():
    out = build_features(None, _customers(), AS_OF)
    assert out.frame.index.tolist() == ["a", "b", "c"]
    assert "monetary" not in out.frame
    assert out.report["customers_only_in_transactions"] == 0
    X = out.model_matrix()
    assert np.isfinite(X.to_numpy()).all()


def test_aggregates_instead_of_transactions():
    agg = pd.DataFrame(
        {"frequency": [3.0, 0.0], "monetary": [90.0, 0.0], "recency_days": [5.0, np.nan]},
        index=pd.Index(["a", "b"], name="customer_id"),
    )
    cu = pd.DataFrame({"customer_id": ["a", "b"],
                       "signup_date": pd.to_datetime(["2023-03-31", "2024-03-01"])})
    out = build_features(None, cu, AS_OF, aggregates=agg)
    assert out.frame["is_prospect"].tolist() == [False, True]
    assert_allclose(out.frame["tenure_days"], [366.0, 30.0])
    assert_allclose(out.frame["clv"], [90 / (366 / 365) * 3, 0.0])
    # one buyer: every cut point equals its values, so it scores 1 (scores.py tie policy)
    assert out.frame["rfm_code"].tolist() == ["111", "000"]


def test_spec_levels_restrict_nominal_vocabulary():
    spec = FeatureSpec.from_dict({
        "families": {"geographic": {"columns": {"region": "onehot"}}},
        "levels": {"region": ["north"]},
    })
    out = build_features(None, _customers(), AS_OF, spec)
    assert out.frame["region"].tolist()[:2] == ["north", "unknown"]
    assert out.report["unknown_levels"] == {"satisfaction": 1, "region": 1}


def test_errors():
    cu = _customers()
    with pytest.raises(SchemaError, match=r"customers has 1 duplicated customer_id value\(s\)"):
        build_features(None, pd.concat([cu, cu.iloc[:1]]), AS_OF)
    with pytest.raises(SchemaError, match=r"customers has no 'customer_id' column or index"):
        build_features(None, cu.drop(columns="customer_id"), AS_OF)
    with pytest.raises(SchemaError, match=r"customers has 1 missing customer_id"):
        build_features(None, cu.assign(customer_id=["a", None, "c"]), AS_OF)
    with pytest.raises(SchemaError, match=r"customers should be a pandas DataFrame"):
        build_features(None, [1, 2], AS_OF)
    with pytest.raises(ConfigError, match=r"state should be a FeatureState, got dict"):
        build_features(None, cu, AS_OF, state={})
    with pytest.raises(ConfigError, match=r"spec should be a FeatureSpec .*got dict"):
        build_features(None, cu, AS_OF, spec={})
    with pytest.raises(ConfigError, match=r"pass transactions or aggregates, not both"):
        build_features(_tx(), cu, AS_OF, aggregates=pd.DataFrame())
    with pytest.raises(SchemaError, match=r"aggregates lack column\(s\) \['frequency'\]"):
        build_features(None, cu, AS_OF, aggregates=pd.DataFrame({"monetary": [1.0]}))
    with pytest.raises(SchemaError, match=r"aggregates should be a DataFrame"):
        build_features(None, cu, AS_OF, aggregates=[1])
    with pytest.raises(ConfigError, match=r"as_of is required"):
        build_features(None, cu, None)


def test_make_preprocessor_errors(fs):
    f = fs.frame
    spec = FeatureSpec.from_dict({"families": {"value": {"columns": {"nope": "log"}}}})
    with pytest.raises(ConfigError, match=r"column\(s\) \['nope'\] are not in the frame"):
        make_preprocessor(spec, f)
    spec = FeatureSpec.from_dict({"families": {"geographic": {"columns": {"region": "log"}}}})
    with pytest.raises(ConfigError, match=r"column 'region' holds text labels but has numeric"):
        make_preprocessor(spec, f)
    spec = FeatureSpec.from_dict({"families": {"geographic": {"columns": {"region": "ordinal"}}}})
    with pytest.raises(ConfigError, match=r"column 'region' has transform 'ordinal' but its"):
        make_preprocessor(spec, f)
    with pytest.raises(ConfigError, match=r"feature spec has no family"):
        make_preprocessor(FeatureSpec(), f)
    with pytest.raises(ConfigError, match=r"spec should be a FeatureSpec, got dict"):
        make_preprocessor({}, f)
    with pytest.raises(SchemaError, match=r"frame should be a DataFrame, got list"):
        make_preprocessor(fs.spec, [])


def test_ordinal_text_column_with_spec_levels(fs):
    spec = FeatureSpec.from_dict({
        "families": {"geographic": {"columns": {"region": "ordinal"}}},
        "levels": {"region": ["south", "north"]},
    })
    X = make_preprocessor(spec.with_weights(geographic=1), fs.frame).fit_transform(fs.frame)
    assert X.columns.tolist() == ["region", "missingindicator_region"]
    assert np.isfinite(X.to_numpy()).all()
    # north (1) above south (0)
    assert X.loc["a", "region"] > X.loc["b", "region"]


def test_feature_state_holds_no_customer_rows(fs):
    st = fs.state
    assert isinstance(st, FeatureState)
    buf = io.BytesIO()
    joblib.dump(st, buf)
    assert buf.tell() > 0
    for value in vars(st).values():
        assert not isinstance(value, pd.DataFrame | pd.Series)
    assert not any(isinstance(v, pd.DataFrame | pd.Series) for v in vars(st.growth).values())


# ------------------------------------------------------------------ every family of the contract


def _full_customers() -> pd.DataFrame:
    n = 8
    return pd.DataFrame({
        "customer_id": pd.array([f"c{i}" for i in range(n)], dtype="str"),
        "signup_date": pd.to_datetime(["2023-01-01"] * n),
        "acquisition_cost": [5.0] * n,
        "birth_year": [1950.0, 1960, 1970, 1980, 1990, 2000, np.nan, 1899],
        "gender": pd.array(["f", "m", "f", "m", "f", "m", None, "f"], dtype="str"),
        "income": [10e3, 20e3, 30e3, np.nan, 50e3, 60e3, 70e3, 80e3],
        "education": pd.array(["basic", "secondary", "bachelor", "master", "phd", "PhD", None,
                               "kindergarten"], dtype="str"),
        "is_b2b": [True, False, True, False, True, False, True, False],
        "industry": pd.array(["retail"] * 4 + ["tech"] * 4, dtype="str"),
        "company_size": pd.array(["micro", "small", "medium", "large"] * 2, dtype="str"),
        "region": pd.array(["north"] * 3 + ["south"] * 5, dtype="str"),
        "city": pd.array(["milano", "milano", "roma", "roma", "roma", "napoli", "bari", None],
                         dtype="str"),
        "latitude": [45.5, 45.5, 41.9, 41.9, 41.9, 40.8, 41.1, np.nan],
        "longitude": [9.2, 9.2, 12.5, 12.5, 12.5, 14.3, 16.9, np.nan],
        "interest_sustainability": [True, False] * 4,
        "survey_price": [1.0, 2, 3, 4, 5, 1, 2, np.nan],
        "journey_stage": pd.array(["first_contact", "meeting", "offer", "negotiation", "won",
                                   "lost", "Won", None], dtype="str"),
        "satisfaction": pd.array(["very_dissatisfied", "dissatisfied", "neutral", "satisfied",
                                  "very_satisfied", None, "neutral", "neutral"], dtype="str"),
        "complaints": [0.0, 1, 0, 2, 0, 0, 0, 5],
        "campaigns_sent": [2.0] * 8,
        "campaigns_responded": [0.0, 1, 2, 0, 1, 2, 0, 1],
        "showed_interest": [True, False] * 4,
    })


def _full_tx() -> pd.DataFrame:
    ids = ["c0", "c0", "c1", "c2", "c3", "c3", "c3", "c4", "c5", "x9"]
    days = ["2024-01-05", "2024-02-05", "2024-01-20", "2024-03-01", "2024-01-01", "2024-02-01",
            "2024-03-01", "2023-12-01", "2024-03-30", "2024-02-02"]
    return pd.DataFrame({
        "customer_id": pd.array(ids, dtype="str"),
        "timestamp": pd.to_datetime(days),
        "amount": [10.0, 30.0, 200.0, 15.0, 5.0, 5.0, 50.0, 80.0, -10.0, 40.0],
        "category": pd.array(["books", "music", "books", "music", "books", "books", "music",
                              "video", "books", "music"], dtype="str"),
        "channel": pd.array(["web", "store", "web", "web", "store", "store", "web", "web",
                             "store", "web"], dtype="str"),
        "due_date": pd.to_datetime(["2024-01-20"] * 10),
        "paid_date": pd.to_datetime(["2024-01-25"] * 9 + [None]),
    })


def test_every_family_builds_encodes_and_weights():
    fs = build_features(_full_tx(), _full_customers(), AS_OF)
    f = fs.frame
    assert f.index.tolist() == [f"c{i}" for i in range(8)] + ["x9"]
    assert fs.report["customers_only_in_transactions"] == 1
    assert fs.report["implausible_birth_years"] == 1
    assert fs.report["unknown_levels"] == {"education": 1}
    # labels normalised ("PhD" -> "phd"); "kindergarten" is off the scale -> missing, counted
    assert f["education"].iloc[:6].tolist() == ["basic", "secondary", "bachelor", "master",
                                                "phd", "phd"]
    assert f["education"].iloc[6:].isna().all()
    assert f["is_b2b"].dtype == "boolean"
    assert f["is_b2b"].isna().tolist() == [False] * 8 + [True]
    assert_allclose(f["journey_stage_ord"].iloc[:8], [0, 1, 2, 3, 4, -1, 4, np.nan])
    assert_allclose(f["satisfaction_ord"].iloc[:8], [0, 1, 2, 3, 4, np.nan, 2, 2])
    assert set(fs.spec.families) == {
        "value", "behaviour", "seasonality", "payment", "relationship", "demographic",
        "firmographic", "geographic", "psychographic"}
    # attributes (firmographics too: B2B-only) and the calendar-quarter spend shares are
    # describe-only by default: weight 0, not in the matrix
    for fam in ("seasonality", "demographic", "firmographic", "geographic", "psychographic"):
        assert fs.spec.families[fam].weight == 0.0
    X0 = make_preprocessor(_structural(fs.spec), f).fit_transform(f)
    for name in ("city_freq", "company_size", "is_b2b"):
        assert name not in X0.columns
    # a weight given back puts them in; firmographic at 0.5 checks a budget other than 1
    spec = fs.spec.with_weights(seasonality=1, demographic=1, firmographic=0.5, geographic=1,
                                psychographic=1)
    pre = make_preprocessor(_structural(spec), f)
    X = pre.fit_transform(f)
    assert np.isfinite(X.to_numpy()).all()
    for name in ("city_freq", "company_size", "is_b2b", "interest_sustainability",
                 "survey_price", "latitude", "journey_stage_ord", "education", "gender_f"):
        assert name in X.columns
    # every family's variance budget (flags apart) equals its weight: 1, except firmographic
    # (given 0.5 above), and payment, whose only non-flag columns (days late) are constant in
    # this frame (late_share, unpaid_share and payment_risk are 0/1 here: flags), and
    # seasonality, whose quarter shares are 0/1 here (one quarter per customer: flags)
    for fam in spec.families:
        block = pre.named_transformers_[fam]
        n_flags = block["weight"].n_flags
        names = block.get_feature_names_out()[: -n_flags or None]
        expected = {"firmographic": 0.5, "payment": 0.0, "seasonality": 0.0}.get(fam, 1.0)
        assert spec.families[fam].weight == (0.5 if fam == "firmographic" else 1.0)
        assert float(X[names].var(ddof=0).sum()) == pytest.approx(expected)
        # a flag's swing is at most one unit of the family's scale
        flags = block.get_feature_names_out()[len(names):]
        assert float(X[flags].abs().max().max()) <= block["weight"].scale_ + 1e-12


# ------------------------------------------------------------------ relationship and growth


def test_relationship_features_exact():
    from segml.features import relationship_features

    c = pd.DataFrame({
        "customer_id": ["b", "a", "c"],
        "journey_stage": ["lost", "Negotiation", "maybe"],
        "campaigns_sent": [0.0, 5.0, np.nan],
        "campaigns_responded": [0.0, 2.0, 1.0],
        "complaints": [1, 0, 3],
    })
    out = relationship_features(c)
    assert out.index.tolist() == ["b", "a", "c"]
    assert out.columns.tolist() == ["journey_stage_ord", "response_rate", "complaints"]
    assert_allclose(out["journey_stage_ord"], [-1.0, 3.0, np.nan])
    assert_allclose(out["response_rate"], [np.nan, 0.4, np.nan])
    assert_allclose(out["complaints"], [1.0, 0.0, 3.0])
    assert relationship_features(pd.DataFrame({"customer_id": ["a"]})).columns.tolist() == []


def _peers() -> pd.DataFrame:
    return pd.DataFrame({
        "monetary": [10.0, 20.0, 30.0, 0.0, 100.0, 200.0, 300.0, 0.0, 50.0],
        "region": ["n", "n", "n", "n", "s", "s", "s", "s", None],
    })


def test_growth_potential_cells_and_fallback():
    from segml.features import GrowthPotential, growth_potential

    f = _peers()
    gp = GrowthPotential(by=("region",), min_peers=3).fit(f)
    assert gp.cell_medians_ == {"n": 20.0, "s": 200.0}
    # all buyers: 10, 20, 30, 50, 100, 200, 300 -> median 50
    assert gp.global_median_ == 50.0
    assert gp.n_fallback_ == 1  # the row with no region (its cell has 1 buyer < 3)
    assert gp.quality(f) == {"n_fallback": 1}
    assert_allclose(gp.transform(f).ravel(),
                     [0.5, 0.0, 0.0, 1.0, 0.5, 0.0, 0.0, 1.0, 0.0])
    new = pd.DataFrame({"monetary": [5.0, 25.0, -10.0], "region": ["n", "w", "s"]})
    assert_allclose(gp.transform(new).ravel(), [0.75, 0.5, 1.0])
    assert gp.quality(new) == {"n_fallback": 1}  # unseen region "w" uses the global median
    new2 = pd.DataFrame({"monetary": [5.0, 5.0], "region": ["w", "x"]})
    assert gp.quality(new2) == {"n_fallback": 2}
    assert gp.n_fallback_ == 1  # the training count: quality and transform record nothing
    s = growth_potential(f, ["region"], min_peers=3)
    assert s.name == "growth_potential"
    assert_allclose(s, gp.transform(f).ravel())
    assert gp.get_feature_names_out().tolist() == ["growth_potential"]


def test_growth_potential_no_buyers_and_errors():
    from segml.features import GrowthPotential

    none = GrowthPotential().fit(pd.DataFrame({"monetary": [0.0, 0.0]}))
    assert np.isnan(none.global_median_)
    assert_allclose(none.transform(pd.DataFrame({"monetary": [0.0, 5.0]})).ravel(), [0.0, 0.0])
    with pytest.raises(ConfigError, match=r"by='region' should be a list of column names"):
        GrowthPotential(by="region").fit(_peers())
    with pytest.raises(ConfigError, match=r"min_peers=0 should be an integer >= 1"):
        GrowthPotential(min_peers=0).fit(_peers())
    with pytest.raises(SchemaError, match=r"GrowthPotential: column\(s\) \['monetary'\] not in "
                                          r"the frame; it has \['x0'\] \(a ndarray has no column "
                                          r"names: its columns are x0, x1, ...; pass a DataFrame"):
        GrowthPotential().fit(np.ones((2, 1)))
    # an array's columns are x0, x1, ...: naming them works like a frame's
    arr = GrowthPotential(monetary="x0", min_peers=1).fit(np.array([[0.0], [50.0], [100.0]]))
    # buyers 50 and 100: median 75; spend 25 -> (75 - 25) / 75
    assert_allclose(arr.transform(np.array([[0.0], [25.0]])).ravel(), [1.0, 2 / 3])
    with pytest.raises(SchemaError, match=r"GrowthPotential: column\(s\) \['age_band'\] not in"):
        GrowthPotential(by=["age_band"]).fit(_peers())


# ------------------------------------------------------------------ properties and scale

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_rows = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d", "e"]),
        st.integers(0, 120),  # day offset from 2024-01-01
        st.floats(-50, 500, allow_nan=False).map(lambda x: round(x, 2)),
    ),
    min_size=1,
    max_size=25,
)


@given(_rows, st.lists(st.sampled_from(["a", "c", "p", "q"]), unique=True, max_size=4))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_property_rows_after_as_of_never_change_the_frame(rows, known):
    tx = pd.DataFrame(rows, columns=["customer_id", "day", "amount"])
    tx["timestamp"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(tx.pop("day"), unit="D")
    tx["customer_id"] = tx["customer_id"].astype("str")
    cu = pd.DataFrame({"customer_id": pd.array(known, dtype="str"),
                       "region": pd.array(["n"] * len(known), dtype="str")})
    as_of = pd.Timestamp("2024-02-29")
    in_window = set(tx.loc[tx["timestamp"] <= as_of, "customer_id"])
    if not in_window:  # as_of before the first transaction: nothing to build on
        with pytest.raises(ConfigError, match="is before the first transaction"):
            build_features(tx, cu, as_of)
        return
    # the truncated data may end weeks before as_of: that warning is tested elsewhere
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        base = build_features(tx[tx["timestamp"] <= as_of], cu, as_of)
        full = build_features(tx, cu, as_of)
    # a known customer whose only rows are after as_of is not a customer yet (not a prospect);
    # without those rows they would be a prospect. Everybody else's features are unchanged.
    late = set(tx["customer_id"]) - in_window
    pd.testing.assert_frame_equal(base.frame.drop(index=sorted(late & set(known))), full.frame)
    expected = sorted(in_window | (set(known) - late))
    assert full.frame.index.tolist() == expected
    assert full.report["not_yet_customers"] == len(late)
    assert full.report["customers_only_in_transactions"] == len(in_window - set(known))
    assert full.report["rows_after_as_of"] == int((tx["timestamp"] > as_of).sum())
    if len(full.frame):
        X = make_preprocessor(full.spec, full.frame).fit_transform(full.frame)
        assert np.isfinite(X.to_numpy()).all()
        prospects = full.frame["is_prospect"].to_numpy(dtype=bool)
        assert (full.frame.loc[prospects, "rfm_code"] == "000").all()
        assert (full.frame.loc[prospects, "abc_class"] == "none").all()


@pytest.mark.slow
def test_cdnow_build_matrix_and_frozen_rebuild(shared_data):
    from segml.io import load_cdnow

    ds = load_cdnow(shared_data / "CDNOW_master.txt")
    fs = build_features(ds.transactions, ds.customers, "1997-09-30")
    assert len(fs.frame) == 23_570
    assert fs.report["n_prospects"] == 0
    assert fs.report["rows_after_as_of"] == 20_573
    assert fs.frame["abc_class"].value_counts().to_dict() == {"C": 11_785, "B": 7_071, "A": 4_714}
    X = make_preprocessor(fs.spec, fs.frame).fit_transform(fs.frame)
    # clv and growth_potential are left out as redundant with monetary (Spearman 1.000, -0.936);
    # the quarter shares (seasonality) describe only by default
    assert X.shape == (23_570, 13)
    assert "clv" not in X and "growth_potential" not in X
    assert np.isfinite(X.to_numpy()).all()
    later = build_features(ds.transactions, ds.customers, "1998-06-30", state=fs.state)
    assert later.frame.columns.tolist() == fs.frame.columns.tolist()
    # cut points frozen at 1997-09-30: spend only grows, so more customers reach the top score
    top_before = (fs.frame["m_score"] == 5).mean()
    top_after = (later.frame["m_score"] == 5).mean()
    assert top_after > top_before
    assert_allclose(later.state.rfm_scorer.cut_points_, fs.state.rfm_scorer.cut_points_)


def test_growth_potential_refuses_spend_that_is_not_a_number():
    from segml.features import GrowthPotential

    f = pd.DataFrame({"monetary": [10.0, "12.5", "abc", None, {"x": 1}]}, dtype=object)
    with pytest.raises(TypeError, match=r"GrowthPotential: column 'monetary' holds 2 value\(s\) "
                                        r"that are not numbers, e\.g\. \['abc', \{'x': 1\}\]"):
        GrowthPotential(min_peers=1).fit(f)
    ok = GrowthPotential(min_peers=1).fit(f.iloc[[0, 1, 3]])
    assert ok.global_median_ == pytest.approx(11.25)
