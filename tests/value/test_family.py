"""The ``forward`` feature family: spec switch, fit once / apply frozen, no leakage, errors."""

from __future__ import annotations

import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segml.errors import ConfigError, DataQualityWarning, SchemaError
from segml.features import FeatureBuilder, FeatureSpec, build_features
from segml.io import load_cdnow
from segml.value import (
    FORWARD_COLUMNS,
    check_forward_options,
    fit_forward,
    forward_features,
    forward_growth_potential,
    forward_value,
    rfm_summary,
)
from segml.value.family import _models
from tests.value._sim import SIM, SIM_AS_OF

AS_OF = "1997-09-30"


@pytest.fixture(scope="module")
def cdnow(shared_data):
    ds = load_cdnow(shared_data / "CDNOW_sample.txt", sample=True)
    return ds.transactions, ds.customers




# ------------------------------------------------------------------------------ spec


def test_spec_switches_the_family_on_and_round_trips_options():
    spec = FeatureSpec.default(["monetary"]).with_forward(
        ["p_alive", "forward_clv"], weight=0.5, horizon=26, margin=0.3)
    assert spec.columns() == {"monetary": "log", "p_alive": "standard", "forward_clv": "log"}
    assert spec.forward_options() == {"time_unit": "W", "horizon": 26, "discount_rate": 0.1,
                                      "margin": 0.3}
    assert FeatureSpec.from_toml(spec.to_toml()) == spec
    assert FeatureSpec.from_dict(spec.to_dict()) == spec
    assert spec.select(["p_alive"]).forward_options()["horizon"] == 26
    assert FeatureSpec.default(["monetary"]).forward_options() is None


def test_option_errors_name_the_option_and_the_fix():
    with pytest.raises(ConfigError, match=r"horizon=0 must be a whole number.*Fix"):
        check_forward_options({"horizon": 0})
    with pytest.raises(ConfigError, match=r"margin=1.5 must be a number in \(0, 1\]"):
        FeatureSpec.default(["monetary"]).with_forward(margin=1.5)
    with pytest.raises(ConfigError, match=r"time_unit='Y' is not one of"):
        check_forward_options({"time_unit": "Y"})
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['horizn'\]"):
        check_forward_options({"horizn": 5})
    with pytest.raises(ConfigError, match=r"family 'value' takes no options"):
        FeatureSpec.from_dict({"families": {"value": {"columns": {"monetary": "log"},
                                                      "options": {"horizon": 5}}}})
    with pytest.raises(ConfigError, match=r"unknown column\(s\) \['clv'\]"):
        FeatureSpec.default(["monetary"]).with_forward(["clv"])


# ------------------------------------------------------------------------------ builder


def test_builder_fits_once_and_transform_applies_frozen_parameters(cdnow):
    tx, cu = cdnow
    spec = FeatureSpec.default(["recency_days", "monetary"]).with_forward(horizon=39)
    fb = FeatureBuilder(spec).fit(tx, cu, as_of=AS_OF)
    fwd = fb.state_.forward
    # the published CDNOW fit (39 calibration weeks), stored in the state
    assert (round(fwd.purchases.r, 3), round(fwd.purchases.alpha, 3),
            round(fwd.purchases.a, 3), round(fwd.purchases.b, 3)) == (0.243, 4.414, 0.793, 2.426)
    assert (round(fwd.spend.p, 2), round(fwd.spend.q, 2), round(fwd.spend.gamma, 2)) == (
        6.25, 3.74, 15.44)
    before = joblib.hash(fb)
    later = fb.transform(tx, cu, as_of="1998-06-30")
    assert joblib.hash(fb) == before  # nothing refitted or recorded
    assert later.state.forward is fwd
    assert set(FORWARD_COLUMNS) <= set(later.frame.columns)
    assert later.report["columns_absent_vs_state"] == []
    fit = later.report["forward"]["fit"]  # the fit's counts and checks travel with every build
    assert (fit["n_customers"], fit["n_repeat_buyers"], fit["zero_spend_repeaters"]) == (
        2357, 946, 0)
    ind = fit["independence"]
    assert ind["n"] == 946 and not ind["flagged"]
    assert ind["pearson_ci"][0] < ind["pearson"] < ind["pearson_ci"][1]
    assert later.report["forward"]["as_of_fit"] == AS_OF
    # the frozen parameters, applied to the history up to 1998-06-30
    expected, _ = forward_features(fwd, tx, "1998-06-30", index=later.frame.index)
    pd.testing.assert_frame_equal(later.frame[list(FORWARD_COLUMNS)], expected,
                                  check_names=False)
    refit = FeatureBuilder(spec).fit(tx, cu, as_of="1998-06-30").state_.forward
    assert refit.purchases != fwd.purchases  # a refit would differ: the transform did not refit
    # build_features(state=) is the same transform (the scoring path)
    again = build_features(tx, cu, "1998-06-30", spec=spec, state=fb.state_)
    pd.testing.assert_frame_equal(again.frame, later.frame)


def test_family_is_off_without_the_spec(cdnow):
    tx, cu = cdnow
    fs = build_features(tx, cu, AS_OF)
    assert not set(FORWARD_COLUMNS) & set(fs.frame.columns)
    assert fs.state.forward is None and "forward" not in fs.report


def test_prospects_get_nan_and_are_counted():
    cu = pd.DataFrame({"customer_id": [*sorted(SIM["customer_id"].unique()), "zz_prospect"]})
    spec = FeatureSpec.default(["monetary"]).with_forward(["p_alive", "expected_spend"])
    fs = FeatureBuilder(spec).fit_transform(SIM, cu, as_of=SIM_AS_OF)
    assert np.isnan(fs.frame.loc["zz_prospect", "p_alive"])
    assert fs.report["forward"]["not_modelled"] == 1
    assert fs.frame["p_alive"].notna().sum() == SIM["customer_id"].nunique()


_BASE: dict = {}


def _base():
    if not _BASE:
        _BASE["state"] = fit_forward(SIM, SIM_AS_OF)
        _BASE["cols"] = forward_features(_BASE["state"], SIM, SIM_AS_OF)[0]
    return _BASE["state"], _BASE["cols"]


@settings(max_examples=15)
@given(st.lists(st.tuples(st.integers(0, 200), st.integers(1, 200),
                          st.floats(-50.0, 500.0, allow_nan=False)), max_size=30))
def test_rows_after_as_of_change_nothing_computed_as_of_then(after):
    """Adding or changing transactions after as_of changes neither the fit nor the columns."""
    extra = pd.DataFrame({
        "customer_id": pd.Series([f"c{c:03d}" for c, _, _ in after],
                                 dtype=SIM["customer_id"].dtype),
        "timestamp": pd.to_datetime([SIM_AS_OF + pd.Timedelta(days=d) for _, d, _ in after]),
        "amount": pd.Series([a for _, _, a in after], dtype="float64")})
    changed = pd.concat([SIM, extra], ignore_index=True)
    later = changed["timestamp"] > SIM_AS_OF
    changed.loc[later, "amount"] = changed.loc[later, "amount"] * 3.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        base, a = _base()
        other = fit_forward(changed, SIM_AS_OF)
        assert base == other
        b, _ = forward_features(other, changed, SIM_AS_OF)
    pd.testing.assert_frame_equal(a, b)


# ------------------------------------------------------------------------------ values


def test_zero_repeat_spend_rule_and_columns_by_hand():
    """$0 repeat buyers are left out of the Gamma-Gamma fit (counted), predicted at m_x = 0."""
    zero = pd.DataFrame({"customer_id": ["zero"] * 3,
                         "timestamp": pd.to_datetime(["2024-01-02", "2024-02-01", "2024-03-01"]),
                         "amount": [10.0, 0.0, 0.0]})
    tx = pd.concat([SIM, zero], ignore_index=True)
    state = fit_forward(tx, SIM_AS_OF, options={"horizon": 8, "discount_rate": 0.0})
    assert state.fit_report["zero_spend_repeaters"] == 1
    cols, rep = forward_features(state, tx, SIM_AS_OF)
    p, q, g = state.spend.p, state.spend.q, state.spend.gamma
    assert cols.loc["zero", "expected_spend"] == pytest.approx(g * p / (2 * p + q - 1), rel=1e-12)
    assert rep["not_modelled"] == 0 and rep["peer_fallback"] == 0
    summ = rfm_summary(tx, SIM_AS_OF)
    one_timers = summ.index[summ["x"] == 0]
    assert len(one_timers) > 0
    np.testing.assert_allclose(cols.loc[one_timers, "expected_spend"], p * g / (q - 1),
                               rtol=1e-12)
    assert (cols.loc[one_timers, "p_alive"] == 1.0).all()
    bg, gg = _models(state)
    fv = forward_value(bg, gg, summ, horizon=8, margin=1.0)
    np.testing.assert_allclose(cols["forward_clv"], fv["clv"], rtol=1e-12)
    growth = forward_growth_potential(cols["expected_purchases"], cols["expected_spend"],
                                      state.global_peer_spend)
    np.testing.assert_allclose(cols["forward_growth_potential"], growth, rtol=0, atol=0)


def test_growth_potential_formula_exact():
    out = forward_growth_potential([2.0, 0.0, 1.5, np.nan], [10.0, 5.0, 50.0, 1.0],
                                   [30.0, 30.0, 20.0, 30.0])
    np.testing.assert_array_equal(out[:3], [40.0, 0.0, 0.0])
    assert np.isnan(out[3])


def test_growth_potential_stops_rewarding_lapsed_and_zero_spenders(cdnow):
    """CDNOW sample as of 1997-09-30: who is in the top decile of each score.

    Lapsed/$0 = no spend (monetary 0) or no purchase in the last 26 weeks. Measured: the old
    gap-to-peer-median score puts 99.6 % lapsed/$0 customers in its top decile (all 8 $0
    customers); the forward score 0.9 % (none of the $0 customers).
    """
    tx, cu = cdnow
    spec = FeatureSpec.default(["monetary"]).with_forward(horizon=52)
    f = FeatureBuilder(spec).fit_transform(tx, cu, as_of=AS_OF).frame
    lapsed = (f["monetary"] == 0) | (f["recency_days"] > 182)
    zero = f["monetary"] == 0

    def top_decile(col):
        return f[col].rank(method="first", ascending=False) <= 0.1 * len(f)

    old, new = top_decile("growth_potential"), top_decile("forward_growth_potential")
    assert (old & lapsed).sum() / old.sum() >= 0.95
    assert (new & lapsed).sum() / new.sum() <= 0.05
    assert (old & zero).sum() == zero.sum() == 8
    assert (new & zero).sum() == 0


# ------------------------------------------------------------------------------ errors


def test_errors_for_data_the_models_cannot_fit():
    few = SIM[SIM["customer_id"] < "c010"]
    with pytest.raises(ConfigError, match=r"feature family 'forward'.*fewer than min_customers"):
        fit_forward(few, SIM_AS_OF)
    once = SIM.drop_duplicates("customer_id")
    with pytest.raises(ConfigError, match=r"all frequencies are zero.*Fix.*calibration"):
        fit_forward(once, SIM_AS_OF)
    with pytest.raises(SchemaError, match=r"no 'amount' column.*Fix.*'p_alive'"):
        fit_forward(SIM.drop(columns="amount"), SIM_AS_OF)
    state = fit_forward(SIM.drop(columns="amount"), SIM_AS_OF, need_spend=False)
    assert state.spend is None
    with pytest.raises(ConfigError, match=r"need the spend model.*Fix: refit"):
        forward_features(state, SIM, SIM_AS_OF)
    cols, _ = forward_features(state, SIM.drop(columns="amount"), SIM_AS_OF,
                               columns=["p_alive", "expected_purchases"])
    assert list(cols.columns) == ["p_alive", "expected_purchases"]
    with pytest.raises(ConfigError, match=r"forward columns \['clv'\] are unknown"):
        forward_features(state, SIM, SIM_AS_OF, columns=["clv"])
    spec = FeatureSpec.default(["monetary"]).with_forward()
    agg = pd.DataFrame({"customer_id": ["a"], "frequency": [2], "monetary": [10.0]})
    with pytest.raises(SchemaError, match=r"forward family needs transactions.*aggregates"):
        FeatureBuilder(spec).fit(None, None, as_of=SIM_AS_OF, aggregates=agg)
    plain = FeatureBuilder().fit(SIM, as_of=SIM_AS_OF)
    with pytest.raises(ConfigError, match=r"state has no forward parameters.*Fix: refit"):
        FeatureBuilder.from_state(plain.state_, spec).transform(SIM, as_of=SIM_AS_OF)


def test_unknown_forward_column_in_the_spec_is_an_error():
    spec = FeatureSpec.from_dict({"families": {"forward": {"columns": {"p_alive": "standard",
                                                                       "clv2": "log"}}}})
    with pytest.raises(ConfigError, match=r"forward columns \['clv2'\] are unknown.*Fix"):
        FeatureBuilder(spec).fit(SIM, as_of=SIM_AS_OF)
