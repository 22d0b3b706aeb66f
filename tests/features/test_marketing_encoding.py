"""The marketing-campaign table encodes with its junk categories and missing incomes counted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segml.features import FeatureSpec, build_features, make_preprocessor
from segml.io import load_marketing_campaign

AS_OF = "2014-12-31"  # after the last enrolment (2014-06-29)
_EDUCATION = {"Basic": "basic", "2n Cycle": "master", "Graduation": "bachelor",
              "Master": "master", "PhD": "phd"}
_MARITAL = {"Single": "single", "Together": "couple", "Married": "married",
            "Divorced": "divorced", "Widow": "widowed"}
_CAMPAIGNS = ["AcceptedCmp1", "AcceptedCmp2", "AcceptedCmp3", "AcceptedCmp4", "AcceptedCmp5",
              "Response"]


@pytest.fixture(scope="module")
def raw(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "marketing_campaign.csv", sep="\t", dtype={"ID": str})


@pytest.fixture(scope="module")
def built(shared_data: Path):
    ds = load_marketing_campaign(shared_data / "marketing_campaign.csv")
    return ds, build_features(None, ds.customers, AS_OF, aggregates=ds.features)


def test_raw_file_has_the_known_defects(raw):
    assert len(raw) == 2240
    assert raw["Income"].isna().sum() == 24
    junk = raw["Marital_Status"].value_counts()[["Alone", "Absurd", "YOLO"]].to_dict()
    assert junk == {"Alone": 3, "Absurd": 2, "YOLO": 2}
    assert sorted(raw.loc[raw["Year_Birth"] < 1910, "Year_Birth"].tolist()) == [1893, 1899, 1900]


def test_loader_build_counts_missing_income_junk_status_and_birth_years(built, raw):
    ds, fs = built
    r = fs.report
    assert r["n_customers"] == 2240
    assert r["missing_income"] == 24
    assert r["missing"]["income"] == 24
    # the loader maps Alone/Absurd/YOLO to missing and counts them as repaired
    assert r["missing"]["marital_status"] == 7
    junk_ids = raw.loc[raw["Marital_Status"].isin(["Alone", "Absurd", "YOLO"]), "ID"]
    assert fs.frame.loc[junk_ids, "marital_status"].isna().all()
    assert r["implausible_birth_years"] == 3
    old_ids = raw.loc[raw["Year_Birth"] < 1910, "ID"]
    assert fs.frame.loc[old_ids, "age"].isna().all()
    assert fs.frame["age"].notna().sum() == 2237
    assert r["customers_only_in_transactions"] == 0


def test_frame_values(built, raw):
    _, fs = built
    f = fs.frame
    # ID 5524: born 1957 -> 57 as of 2014; Response=1 only -> 1 of 6 campaigns
    assert f.loc["5524", "age"] == 57.0
    assert f.loc["5524", "age_band"] == "55-64"
    assert f.loc["5524", "response_rate"] == pytest.approx(1 / 6)
    responded = raw.set_index("ID")[_CAMPAIGNS].sum(axis=1)
    np.testing.assert_allclose(f["response_rate"], (responded / 6).reindex(f.index))
    assert f["education"].value_counts().to_dict() == {
        "bachelor": 1127, "master": 573, "phd": 486, "basic": 54}
    assert f["complaints"].sum() == raw["Complain"].sum()


def test_model_matrix_is_finite_with_indicators(built):
    _, fs = built
    # demographics describe only by default (issue 15); weighted here to check their encoding
    X = make_preprocessor(fs.spec.with_weights(demographic=1), fs.frame).fit_transform(fs.frame)
    assert X.shape[0] == 2240
    assert np.isfinite(X.to_numpy()).all()
    assert int(X["missingindicator_income"].gt(0).sum()) == 24
    assert int(X["missingindicator_age"].gt(0).sum()) == 3
    marital = [c for c in X.columns if c.startswith("marital_status_")]
    # 7 missing statuses are a rare level (< 1 %), grouped with the other rare levels
    assert marital == ["marital_status_couple", "marital_status_divorced",
                       "marital_status_married", "marital_status_single",
                       "marital_status_widowed", "marital_status_other"]
    assert int(X["marital_status_other"].gt(0).sum()) == 7


def test_junk_to_unknown_with_a_spec_vocabulary(raw):
    """Mapped by hand (junk kept as text): the spec vocabulary maps it to unknown, counted."""
    customers = pd.DataFrame({
        "customer_id": raw["ID"].astype("str"),
        "birth_year": raw["Year_Birth"].astype("float64"),
        "education": raw["Education"].map(_EDUCATION),
        "marital_status": raw["Marital_Status"].map(_MARITAL).fillna(raw["Marital_Status"]),
        "income": raw["Income"],
        "children": (raw["Kidhome"] + raw["Teenhome"]).astype("float64"),
        "signup_date": pd.to_datetime(raw["Dt_Customer"], format="%d-%m-%Y"),
        "campaigns_sent": 6.0,
        "campaigns_responded": raw[_CAMPAIGNS].sum(axis=1).astype("float64"),
        "complaints": raw["Complain"].astype("float64"),
    })
    spec = FeatureSpec.default(
        ["age", "income", "education", "marital_status", "children", "response_rate",
         "complaints"]
    )
    spec.levels["marital_status"] = sorted(_MARITAL.values())
    fs = build_features(None, customers, AS_OF, spec)
    assert fs.report["unknown_levels"] == {"marital_status": 7}
    assert fs.report["missing_income"] == 24
    assert fs.report["implausible_birth_years"] == 3
    assert (fs.frame["marital_status"] == "unknown").sum() == 7
    plain = fs.model_matrix()  # demographics describe only: relationship columns alone
    assert plain.columns.tolist() == ["response_rate", "complaints"]
    # the 21 complainers (0.9 %) are a flag at most one SD of response_rate away, not the
    # 1/sqrt(p) = 10 SD a standardised flag would be (issue 15)
    assert int(plain["complaints"].gt(0).sum()) == 21
    assert plain["complaints"].max() <= plain["response_rate"].std(ddof=0) + 1e-9
    X = make_preprocessor(fs.spec.with_weights(demographic=1), fs.frame).fit_transform(fs.frame)
    assert np.isfinite(X.to_numpy()).all()
    assert "marital_status_other" in X.columns
    assert int(X["marital_status_other"].gt(0).sum()) == 7
