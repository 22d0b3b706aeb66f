"""Drift (PSI) and CRM alerts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from segml.errors import ConfigError, SchemaError
from segml.monitoring import (
    AlertConfig,
    DriftReport,
    customer_alerts,
    drift_report,
    psi,
    psi_level,
)
from segml.persistence import SegmentModel, load_model, save_model


def test_psi_by_hand():
    expected = 0.25 * math.log(2) + 0.25 * math.log(1.5)
    assert psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(expected, abs=1e-15)
    assert psi([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == 0.0
    # empty bin floored at 1e-4
    assert psi([1.0, 0.0], [0.5, 0.5]) == pytest.approx(
        (0.5 - 1.0) * math.log(0.5) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)
    )
    with pytest.raises(ConfigError, match="expected has 2 bins but actual has 3"):
        psi([0.5, 0.5], [0.2, 0.3, 0.5])


@pytest.mark.parametrize(
    ("value", "level"),
    [(0.0, "stable"), (0.0999, "stable"), (0.1, "moderate"), (0.2499, "moderate"),
     (0.25, "significant"), (float("nan"), "n/a")],
)
def test_psi_levels(value, level):
    assert psi_level(value) == level


def test_no_drift_on_training_data(kmeans_model, features):
    rep = drift_report(kmeans_model, features)
    assert isinstance(rep, DriftReport)
    assert rep.n_new == 600
    assert rep.features["psi"].abs().max() == 0.0
    assert set(rep.features["level"]) == {"stable"}
    assert rep.segment_psi == 0.0 and rep.segment_level == "stable"
    np.testing.assert_allclose(rep.segments["train_share"], rep.segments["new_share"])
    assert rep.segments["segment_name"].tolist() == ["loyal", "occasional", "lapsed"]
    assert 0.0 < rep.no_fit_share <= 0.02
    d = rep.to_dict()
    assert d["segment_level"] == "stable" and len(d["features"]) == 6


def test_shift_is_flagged_and_survives_save(tmp_path, kmeans_model, features):
    loaded = load_model(save_model(kmeans_model, root=tmp_path))
    shifted = features.assign(recency_days=features["recency_days"] + 150.0)
    shifted.loc[shifted.index[:300], "gender"] = np.nan
    rep = drift_report(loaded, shifted)
    top = rep.features.set_index("feature")
    assert top.loc["recency_days", "level"] == "significant"
    assert top.loc["gender", "level"] == "significant"
    assert top.loc["frequency", "psi"] == 0.0
    assert rep.features["feature"].iloc[0] in {"recency_days", "gender"}
    assert rep.segment_psi > 0.1


def test_categorical_other_bin(kmeans_model, features):
    new = features.assign(region="mars")
    with pytest.warns(Warning, match="not seen in training"):
        rep = drift_report(kmeans_model, new)
    val = rep.features.set_index("feature").loc["region", "psi"]
    ref = kmeans_model.reference["region"]
    exp = [*ref["shares"].values(), ref["other"], ref["missing"]]
    assert val == pytest.approx(psi(exp, [0.0] * len(ref["shares"]) + [1.0, 0.0]))


def test_drift_needs_reference(kmeans_model, features):
    bare = SegmentModel(segmenter=kmeans_model.segmenter, contract=kmeans_model.contract)
    with pytest.raises(ConfigError, match="the model has no drift reference"):
        drift_report(bare, features)


def _cur():
    return pd.DataFrame(
        {
            "recency_days": [90.0, 10.0, 40.0, 200.0, np.nan],
            "interpurchase_mean_days": [30.0, 30.0, 5.0, np.nan, 10.0],
            "days_late_mean": [12.0, 3.0, 20.0, 8.0, 30.0],
        },
        index=pd.Index(["a", "b", "c", "d", "e"], name="customer_id"),
    )


def test_activity_alerts_by_hand():
    out = customer_alerts(_cur())
    assert out.columns.tolist() == ["customer_id", "alert", "value", "threshold", "message"]
    # a: 90 > max(2*30, 30)=60 ; c: 40 > max(10, 30)=30 ; b below ; d, e lack data
    assert out[["customer_id", "alert", "value", "threshold"]].values.tolist() == [
        ["a", "activity_drop", 90.0, 60.0],
        ["c", "activity_drop", 40.0, 30.0],
    ]
    assert out["message"].tolist() == [
        "no purchase for 90 days, 3.0x the usual 30-day interval",
        "no purchase for 40 days, 8.0x the usual 5-day interval",
    ]


def test_payment_alerts_and_config():
    prev = pd.DataFrame(
        {"days_late_mean": [2.0, 0.0, 18.0, 8.0, np.nan]},
        index=pd.Index(["a", "b", "c", "d", "e"], name="customer_id"),
    )
    cfg = AlertConfig(activity_factor=5.0, activity_min_days=100.0)
    out = customer_alerts(_cur(), prev, config=cfg)
    # activity: a 90 <= 150 ; c 40 <= 100 -> none. payments: a 12 >= 2+5 and >= 7 -> alert;
    # c 20 < 18+5 ; d 8 < 13 ; e has no previous window ; b 3 < 7
    assert out[["customer_id", "alert", "value", "threshold"]].values.tolist() == [
        ["a", "payment_slip", 12.0, 7.0]
    ]
    assert out["message"].tolist() == ["paying 12.0 days late on average recently, up from 2.0"]


def test_no_alerts_gives_empty_typed_table():
    cur = _cur().assign(recency_days=1.0)
    out = customer_alerts(cur)
    assert out.empty
    assert out.columns.tolist() == ["customer_id", "alert", "value", "threshold", "message"]
    assert out["value"].dtype == np.float64


def test_alert_errors():
    with pytest.raises(SchemaError, match=r"activity alert needs column\(s\) \['recency_days'\]"):
        customer_alerts(_cur().drop(columns="recency_days"))
    with pytest.raises(SchemaError, match=r"window\) needs column\(s\) \['days_late_mean'\]"):
        customer_alerts(_cur(), pd.DataFrame({"x": [1.0]}))
    with pytest.raises(ConfigError, match=r"AlertConfig.activity_min_days=-1 should be a finite"):
        customer_alerts(_cur(), config=AlertConfig(activity_min_days=-1))
    with pytest.raises(ConfigError, match=r"activity_factor=0.5 should be >= 1"):
        customer_alerts(_cur(), config=AlertConfig(activity_factor=0.5))
    with pytest.raises(ConfigError, match="config should be an AlertConfig, got dict"):
        customer_alerts(_cur(), config={})


def test_alerts_ids_from_column():
    out = customer_alerts(_cur().reset_index())
    assert out["customer_id"].tolist() == ["a", "c"]
