from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segml.errors import ConfigError, SchemaError
from segml.features.clv import historical_clv
from segml.features.transactions import transaction_features


def feats(**extra) -> pd.DataFrame:
    base = {
        # a: 4 orders, 400 over 2 years; b: 2 orders, 90 over 100 days (< 1 period -> 1 period);
        # c: prospect
        "frequency": [4, 2, 0],
        "monetary": [400.0, 90.0, 0.0],
        "tenure_days": [730.0, 100.0, np.nan],
    }
    base.update(extra)
    return pd.DataFrame(base, index=pd.Index(["a", "b", "c"], name="customer_id"))


def test_clv_exact_revenue_based():
    out = historical_clv(feats(), acquisition_cost=50.0)
    # a: AOV 100 * 2 orders/year * 3 years - 50 = 550; b: 45 * 2/yr * 3 - 50 = 220; c: -50
    expected = pd.DataFrame({"clv": [550.0, 220.0, -50.0]}, index=feats().index)
    pd.testing.assert_frame_equal(out, expected)


def test_clv_period_and_lifetime_units():
    out = historical_clv(feats(), period_days=30, expected_lifetime_periods=12)
    # a: 730/30 periods -> 4 / 24.333 orders per month * 100 * 12 months
    assert out.loc["a", "clv"] == pytest.approx(100 * 4 / (730 / 30) * 12)
    # b: 100 days = 3.333 months
    assert out.loc["b", "clv"] == pytest.approx(45 * 2 / (100 / 30) * 12)


def test_clv_acquisition_cost_column_series_and_missing():
    f = feats(acquisition_cost=[10.0, np.nan, 5.0])
    out = historical_clv(f)
    assert out["clv"].tolist() == [590.0, 270.0, -5.0]  # missing cost counts as 0
    series = pd.Series({"c": 1.0, "a": 2.0})  # aligned on the index; b missing -> 0
    assert historical_clv(feats(), acquisition_cost=series)["clv"].tolist() == [598.0, 270.0,
                                                                               -1.0]


def test_clv_margin_variants_and_net_margin():
    f = feats(gross_margin=[120.0, 30.0, 0.0], acquisition_cost=[20.0, 20.0, 20.0])
    out = historical_clv(f)
    # margin per order 30 * 2/yr * 3 - 20 = 160; b: 15 * 2 * 3 - 20 = 70
    expected = pd.DataFrame({"clv": [160.0, 70.0, -20.0], "net_margin": [100.0, 10.0, -20.0]},
                            index=f.index)
    pd.testing.assert_frame_equal(out, expected)
    rate = historical_clv(feats(), margin=0.25)
    assert rate["clv"].tolist() == [150.0, 67.5, 0.0]
    assert rate["net_margin"].tolist() == [100.0, 22.5, 0.0]
    per = historical_clv(feats(), margin=pd.Series({"a": 40.0, "b": 9.0}))
    assert per["net_margin"].tolist() == [40.0, 9.0, 0.0]


def test_clv_from_transaction_features_with_cost():
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a"],
            "timestamp": pd.to_datetime(["2023-01-01", "2024-01-01"]),
            "amount": [100.0, 100.0],
            "cost": [60.0, 70.0],
        }
    )
    f = transaction_features(tx, "2024-12-31")
    out = historical_clv(f, expected_lifetime_periods=1.0)
    # tenure 730 days = 2 periods; gross margin 70 -> 35 per year
    assert out.loc["a", "clv"] == pytest.approx(35.0)
    assert out.loc["a", "net_margin"] == pytest.approx(70.0)


def test_clv_does_not_mutate_features():
    f = feats()
    before = f.copy()
    historical_clv(f, acquisition_cost=1.0)
    pd.testing.assert_frame_equal(f, before)


def test_clv_errors():
    with pytest.raises(SchemaError, match=r"needs columns \['tenure_days'\]"):
        historical_clv(feats().drop(columns="tenure_days"))
    with pytest.raises(ConfigError, match="period_days=0 should be a whole number of days"):
        historical_clv(feats(), period_days=0)
    with pytest.raises(ConfigError, match="expected_lifetime_periods=-1 should be a number > 0"):
        historical_clv(feats(), expected_lifetime_periods=-1)
    with pytest.raises(ConfigError, match=r"margin=1.5 should be a rate in \(0, 1\]"):
        historical_clv(feats(), margin=1.5)
    with pytest.raises(ConfigError, match="acquisition_cost='x' should be a number or a Series"):
        historical_clv(feats(), acquisition_cost="x")
