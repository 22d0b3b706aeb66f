"""BG/NBD: the published CDNOW fit, the closed forms, their properties and the errors."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import hyp2f1

from segml.errors import ConfigError, NotFittedError, SchemaError
from segml.io import load_cdnow
from segml.value import (
    BGNBD,
    BGNBDParams,
    ConvergenceWarning,
    bgnbd_conditional_expected_purchases,
    bgnbd_expected_purchases_new,
    bgnbd_log_likelihood,
    bgnbd_probability_alive,
    rfm_summary,
    simulate_bgnbd,
)
from segml.value.bgnbd import _neg_ll_and_grad

CDNOW = BGNBDParams(0.243, 4.414, 0.793, 2.426)


@pytest.fixture(scope="module")
def cdnow(shared_data):
    tx = load_cdnow(shared_data / "CDNOW_sample.txt", sample=True).transactions
    return rfm_summary(tx, "1997-09-30", holdout_end="1998-06-30")


def test_cdnow_sample_reproduces_published_fit(cdnow):
    m = BGNBD().fit(cdnow)
    p = m.params_
    # Fader, Hardie & Lee (2005): r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4
    assert (round(p.r, 3), round(p.alpha, 3), round(p.a, 3), round(p.b, 3)) == (
        0.243, 4.414, 0.793, 2.426)
    assert round(m.log_likelihood_, 1) == -9582.4
    assert m.n_customers_ == 2357 and m.n_repeat_buyers_ == 946
    assert m.result_.success


def test_published_individual_prediction():
    # Hardie's BG/NBD note: a customer with x=2, t_x=30.43, T=38.86 makes 1.226 purchases
    # in the next 39 weeks.
    e = bgnbd_conditional_expected_purchases(CDNOW, 39, 2, 30.43, 38.86)
    assert round(float(e[()]), 3) == 1.226


def test_euler_form_matches_untransformed_hypergeometric_over_cdnow_range(cdnow):
    x = cdnow["x"].to_numpy(float)
    t_x, T = cdnow["t_x"].to_numpy(), cdnow["T"].to_numpy()
    r, alpha, a, b = CDNOW.as_array()
    for t in (1.0, 39.0, 78.0):
        z = t / (alpha + T + t)
        direct = ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x,
                                                                     a + b + x - 1, z)
        num = (a + b + x - 1) / (a - 1) * (1 - direct)
        palive = bgnbd_probability_alive(CDNOW, x, t_x, T)
        got = bgnbd_conditional_expected_purchases(CDNOW, t, x, t_x, T)
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, num * palive, rtol=1e-12)


def test_log_likelihood_closed_form_single_customer():
    r, alpha, a, b = CDNOW.as_array()
    from math import exp, gamma, lgamma, log

    def beta(u, v):
        return exp(lgamma(u) + lgamma(v) - lgamma(u + v))

    x, t_x, T = 3, 20.0, 30.0
    common = gamma(r + x) * alpha**r / gamma(r)
    lik = (beta(a, b + x) / beta(a, b) * common / (alpha + T) ** (r + x)
           + beta(a + 1, b + x - 1) / beta(a, b) * common / (alpha + t_x) ** (r + x))
    assert bgnbd_log_likelihood(CDNOW, x, t_x, T)[()] == pytest.approx(log(lik), rel=1e-13)
    lik0 = alpha**r / (alpha + T) ** r  # x = 0: (alpha / (alpha + T))^r
    assert bgnbd_log_likelihood(CDNOW, 0, 0, T)[()] == pytest.approx(log(lik0), rel=1e-13)


def test_analytic_gradient_matches_finite_differences(cdnow):
    x = cdnow["x"].to_numpy(float)
    xu, inv = np.unique(x, return_inverse=True)
    args = (xu, inv, cdnow["t_x"].to_numpy(), cdnow["T"].to_numpy(), np.ones(len(x)))
    theta = np.log([0.3, 5.0, 0.8, 2.5])
    _, g = _neg_ll_and_grad(theta, *args)
    h = 1e-6
    num = [(_neg_ll_and_grad(theta + e, *args)[0] - _neg_ll_and_grad(theta - e, *args)[0])
           / (2 * h) for e in np.eye(4) * h]
    np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-9)


def test_expected_purchases_new_closed_form_and_cdnow_value():
    # At t -> 0 nothing is expected; E[X(t)] is increasing and concave-ish over the range.
    e = bgnbd_expected_purchases_new(CDNOW, [0.0, 39.0, 78.0])
    assert e[0] == 0.0 and 0 < e[1] < e[2]
    # For x = 0, T = 0 the conditional expectation is the unconditional one.
    c = bgnbd_conditional_expected_purchases(CDNOW, 39.0, 0, 0.0, 0.0)
    assert c[()] == pytest.approx(e[1], rel=1e-12)


def test_simulated_parameters_are_recovered():
    sim = simulate_bgnbd(20000, CDNOW, T=39.0, random_state=1)
    p = BGNBD().fit(sim).params_
    np.testing.assert_allclose([p.r, p.alpha, p.a, p.b], CDNOW.as_array(), rtol=0.25)


def test_tiny_horizon_gives_no_negative_expectation():
    """Cancellation in 1 - 2F1 ratio at t -> 0 left -5.6e-12 (hypothesis found t = 1e-262)."""
    p = (4.0, 1.0, 1.0, 1.0)
    for t in (1.5378634192594622e-262, 1e-100, 1e-20):
        assert bgnbd_conditional_expected_purchases(p, t, 0, 0.0, 1.0)[()] >= 0.0
        assert bgnbd_expected_purchases_new(p, [t])[0] >= 0.0
    assert bgnbd_expected_purchases_new(p, [0.0])[0] == 0.0


_params = st.tuples(st.floats(0.05, 5), st.floats(0.5, 20), st.floats(0.2, 5),
                    st.floats(0.2, 10))
_cust = st.tuples(st.integers(0, 40), st.floats(0, 1), st.floats(0.1, 60))


@settings(max_examples=60, deadline=None)
@given(_params, _cust, st.floats(0, 100), st.floats(0.1, 100))
def test_expected_purchases_increase_with_the_horizon(params, cust, t, dt):
    x, frac, T = cust
    t_x = frac * T if x > 0 else 0.0
    e1 = bgnbd_conditional_expected_purchases(params, t, x, t_x, T)
    e2 = bgnbd_conditional_expected_purchases(params, t + dt, x, t_x, T)
    assert 0 <= e1 <= e2 * (1 + 1e-9) + 1e-12
    n1, n2 = bgnbd_expected_purchases_new(params, [t, t + dt])
    assert 0 <= n1 <= n2 * (1 + 1e-9) + 1e-12


@settings(max_examples=60, deadline=None)
@given(_params, _cust)
def test_probability_alive_bounds(params, cust):
    x, frac, T = cust
    t_x = frac * T if x > 0 else 0.0
    p = bgnbd_probability_alive(params, x, t_x, T)[()]
    assert 0 < p <= 1
    assert bgnbd_probability_alive(params, 0, 0.0, T)[()] == 1.0
    if x > 0:  # buying more recently (larger t_x) never lowers P(alive)
        assert bgnbd_probability_alive(params, x, T, T)[()] >= p - 1e-12


def _summary(n=30, repeat=10):
    x = np.r_[np.arange(1, repeat + 1), np.zeros(n - repeat)]
    T = np.full(n, 30.0)
    t_x = np.where(x > 0, 10.0 + x, 0.0)
    return pd.DataFrame({"x": x.astype(int), "t_x": t_x, "T": T})


def test_errors():
    s = _summary()
    with pytest.raises(ConfigError, match="3 customer.*min_customers=20.*Fix"):
        BGNBD().fit(s.head(3))
    with pytest.raises(ConfigError, match="0 repeat buyer.*all frequencies are zero.*Fix"):
        BGNBD().fit(s.assign(x=0, t_x=0.0))
    with pytest.raises(ConfigError, match="2 repeat buyer.*min_repeat_buyers=5"):
        BGNBD().fit(_summary(repeat=2))
    with pytest.raises(SchemaError, match="negative.*Fix"):
        BGNBD().fit(s.assign(T=-1.0))
    with pytest.raises(SchemaError, match=r"t_x > T for 10 customer.*Fix"):
        BGNBD().fit(s.assign(T=5.0))
    with pytest.raises(SchemaError, match="whole numbers.*Fix"):
        BGNBD().fit(s.assign(x=s["x"] + 0.5))
    with pytest.raises(SchemaError, match="missing or infinite.*Fix"):
        BGNBD().fit(s.assign(T=np.nan))
    with pytest.raises(SchemaError, match=r"no column\(s\) \['t_x'\].*Fix"):
        BGNBD().fit(s.drop(columns="t_x"))
    with pytest.raises(SchemaError, match="t_x > 0 for .* x = 0.*Fix"):
        BGNBD().fit(s.assign(t_x=1.0))
    with pytest.raises(NotFittedError, match="not fitted.*Fix"):
        BGNBD().probability_alive(1, 1, 2)
    with pytest.raises(ConfigError, match="t=-1 must be finite and >= 0.*Fix"):
        bgnbd_conditional_expected_purchases(CDNOW, -1, 1, 1, 2)


def test_degenerate_data_warn_with_what_to_try():
    # Every customer repeats on a perfectly regular schedule and nobody drops out: the
    # dropout probability goes to 0, so b runs to its bound.
    n = 200
    s = pd.DataFrame({"x": np.full(n, 30), "t_x": np.full(n, 30.0), "T": np.full(n, 30.0)})
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        BGNBD().fit(s)
    msgs = [str(w.message) for w in rec if issubclass(w.category, ConvergenceWarning)]
    assert msgs and any("Try:" in m for m in msgs)


def test_pole_of_the_hypergeometric_at_a_plus_b_one_is_removed():
    # x = 0 and a + b = 1 make 2F1's third argument 0; the product has a finite limit,
    # continuous with the values on either side.
    t = np.array([0.5, 5.0, 50.0])
    at = bgnbd_conditional_expected_purchases((1.0, 1.0, 0.5, 0.5), t, 0, 0.0, 1.0)
    for b in (0.5 - 1e-7, 0.5 + 1e-7):
        near = bgnbd_conditional_expected_purchases((1.0, 1.0, 0.5, b), t, 0, 0.0, 1.0)
        np.testing.assert_allclose(at, near, rtol=1e-6)
    new = bgnbd_expected_purchases_new((1.0, 1.0, 0.5, 0.5), t)
    assert np.all(np.isfinite(new)) and np.all(np.diff(new) > 0)


def test_optimiser_failure_is_a_convergence_warning_with_what_to_try():
    from types import SimpleNamespace

    from segml.value.bgnbd import _warn_convergence

    res = SimpleNamespace(success=False, message="ABNORMAL_TERMINATION_IN_LNSRCH",
                          x=np.zeros(4))
    with pytest.warns(ConvergenceWarning, match="ABNORMAL_TERMINATION.*Try: a different init"):
        _warn_convergence("BGNBD", res, ["r", "alpha", "a", "b"])


def test_time_unit_only_rescales_alpha(cdnow, shared_data):
    tx = load_cdnow(shared_data / "CDNOW_sample.txt", sample=True).transactions
    days = rfm_summary(tx, "1997-09-30", time_unit="D")
    w, d = BGNBD().fit(cdnow).params_, BGNBD().fit(days).params_
    np.testing.assert_allclose([d.r, d.alpha / 7, d.a, d.b], [w.r, w.alpha, w.a, w.b], rtol=1e-5)
    ew = bgnbd_conditional_expected_purchases(w, 39.0, cdnow["x"], cdnow["t_x"], cdnow["T"])
    ed = bgnbd_conditional_expected_purchases(d, 273.0, days["x"], days["t_x"], days["T"])
    np.testing.assert_allclose(ew, ed, rtol=1e-5)


def test_finite_far_outside_cdnow_range():
    x = np.array([0, 1, 10, 100, 1000, 10000], dtype=float)
    for T in (1.0, 39.0, 1000.0):
        for t in (1.0, 78.0, 1000.0, 1e5):
            e = bgnbd_conditional_expected_purchases(CDNOW, t, x, np.where(x > 0, 0.9 * T, 0), T)
            assert np.all(np.isfinite(e)) and np.all(e >= 0)


def test_removable_singularity_at_a_one():
    t = np.array([1.0, 39.0, 500.0])
    x, t_x, T = np.array([0, 1, 5]), np.array([0.0, 10.0, 30.0]), np.array([20.0, 39.0, 39.0])
    at = bgnbd_conditional_expected_purchases((0.3, 4.0, 1.0, 2.0), t, x, t_x, T)
    for a in (1 - 1e-4, 1 + 1e-4):
        near = bgnbd_conditional_expected_purchases((0.3, 4.0, a, 2.0), t, x, t_x, T)
        np.testing.assert_allclose(at, near, rtol=1e-3)
    assert np.all(np.isfinite(bgnbd_expected_purchases_new((0.3, 4.0, 1.0, 2.0), t)))
