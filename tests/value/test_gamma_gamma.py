"""Gamma-Gamma: the published CDNOW fit, the closed forms, the independence check, errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segml.errors import ConfigError, DataQualityWarning, NotFittedError, SchemaError
from segml.io import load_cdnow
from segml.value import (
    BGNBDParams,
    ConvergenceWarning,
    GammaGamma,
    GammaGammaParams,
    frequency_monetary_independence,
    gamma_gamma_conditional_expected_spend,
    gamma_gamma_log_likelihood,
    rfm_summary,
    simulate_bgnbd,
)
from segml.value.gamma_gamma import _neg_ll_and_grad

CDNOW = GammaGammaParams(6.25, 3.74, 15.44)


@pytest.fixture(scope="module")
def cdnow(shared_data):
    tx = load_cdnow(shared_data / "CDNOW_sample.txt", sample=True).transactions
    return rfm_summary(tx, "1997-09-30")


def test_cdnow_sample_reproduces_published_fit(cdnow):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)  # independence holds on CDNOW
        m = GammaGamma().fit(cdnow)
    p = m.params_
    # Fader, Hardie & Lee (2005, RFM and CLV): p = 6.25, q = 3.74, gamma = 15.44 on 946
    assert m.n_customers_ == 946
    assert (round(p.p, 2), round(p.q, 2), round(p.gamma, 2)) == (6.25, 3.74, 15.44)
    assert m.result_.success
    c = m.independence_
    assert c.n == 946 and not c.flagged
    assert 0 < c.pearson < 0.3 and c.pearson_ci[0] < c.pearson < c.pearson_ci[1]
    # Population mean spend p * gamma / (q - 1) and the x = 0 prediction agree.
    assert m.conditional_expected_spend(0, np.nan)[()] == pytest.approx(
        p.population_mean_spend, rel=1e-12)


def test_log_likelihood_closed_form():
    p, q, g = CDNOW.as_array()
    x, m = 3.0, 20.0
    ref = (math.lgamma(p * x + q) - math.lgamma(p * x) - math.lgamma(q) + q * math.log(g)
           + (p * x - 1) * math.log(m) + p * x * math.log(x) - (p * x + q) * math.log(g + m * x))
    assert gamma_gamma_log_likelihood(CDNOW, x, m)[()] == pytest.approx(ref, rel=1e-13)


def test_analytic_gradient_matches_finite_differences(cdnow):
    r = cdnow[cdnow["x"] > 0]
    x, m = r["x"].to_numpy(float), r["monetary"].to_numpy()
    args = (*np.unique(x, return_inverse=True), x, m)
    theta = np.log([5.0, 3.0, 12.0])
    _, grad = _neg_ll_and_grad(theta, *args)
    h = 1e-6
    num = [(_neg_ll_and_grad(theta + e, *args)[0] - _neg_ll_and_grad(theta - e, *args)[0])
           / (2 * h) for e in np.eye(3) * h]
    np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-9)


def test_simulated_parameters_are_recovered():
    sim = simulate_bgnbd(30000, BGNBDParams(0.243, 4.414, 0.793, 2.426), T=39.0,
                         spend=CDNOW, random_state=2)
    p = GammaGamma().fit(sim).params_
    np.testing.assert_allclose([p.p, p.q, p.gamma], CDNOW.as_array(), rtol=0.25)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 50), st.floats(0.01, 1e4))
def test_expected_spend_between_mean_and_observed(x, m):
    e = gamma_gamma_conditional_expected_spend(CDNOW, x, m)[()]
    pop = CDNOW.population_mean_spend
    assert min(m, pop) * (1 - 1e-12) <= e <= max(m, pop) * (1 + 1e-12)


def test_independence_flagged_when_spend_tracks_frequency():
    x = np.arange(1, 41)
    s = pd.DataFrame({"x": x, "monetary": 10.0 * x + 1.0})
    c = frequency_monetary_independence(s)
    assert c.flagged and c.pearson == pytest.approx(1.0)
    # spend exactly linear in frequency leaves Gamma-Gamma barely identified: whether the
    # optimiser stops at a parameter bound (ConvergenceWarning) depends on the CPU's floating
    # point path (it did under OPENBLAS_NUM_THREADS=1 in a fresh clone); this test is about
    # the independence warning, so the convergence one is allowed, not required
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(DataQualityWarning, match="correlated.*Try:"):
            GammaGamma().fit(s)


def test_errors():
    s = pd.DataFrame({"x": np.arange(0, 20), "monetary": np.r_[np.nan, np.arange(1.0, 20.0)]})
    with pytest.raises(SchemaError, match=r"no column\(s\) \['monetary'\].*Fix.*amount"):
        GammaGamma().fit(s.drop(columns="monetary"))
    with pytest.raises(SchemaError, match="monetary must be positive.*0.0.*Fix"):
        GammaGamma().fit(s.assign(monetary=s["monetary"].where(s["x"] != 3, 0.0)))
    with pytest.raises(ConfigError, match="4 customer.*min_repeat_customers=10.*Fix"):
        GammaGamma().fit(s.head(5))
    with pytest.raises(NotFittedError, match="not fitted.*Fix"):
        GammaGamma().conditional_expected_spend(1, 10.0)
    with pytest.raises(ConfigError, match="q=0.9 <= 1.*infinite.*Fix"):
        gamma_gamma_conditional_expected_spend((6.0, 0.9, 10.0), 1, 10.0)
    with pytest.raises(ConfigError, match="needs at least 4 varying values.*Fix"):
        frequency_monetary_independence(s.head(3))
    with pytest.raises(SchemaError, match="whole repeat counts >= 1.*Fix"):
        gamma_gamma_log_likelihood(CDNOW, 0, 10.0)
