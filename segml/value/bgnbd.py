"""BG/NBD purchase model (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way").

Each customer buys as a Poisson process with rate ``λ ~ Gamma(r, α)`` (shape ``r``, rate ``α``)
and, after each repeat purchase, drops out for good with probability ``p ~ Beta(a, b)``. The
model is fitted by maximum likelihood on the per-customer summary ``(x, t_x, T)`` of
:func:`segml.value.rfm_summary`.

Numerics
--------
* The log-likelihood is evaluated in log space (``gammaln``, ``betaln`` and ``logaddexp`` for
  the ``x > 0`` mixture term) and maximised with :func:`scipy.optimize.minimize` (L-BFGS-B with
  the analytic gradient) over the log-parameters, which keeps them positive. The log-parameters
  are bounded to ``[log 1e-6, log 1e6]``; a parameter at a bound raises a
  :class:`ConvergenceWarning`. Identical ``(x, t_x, T)`` rows are collapsed and weighted, so a
  day-resolution summary costs one evaluation per distinct row.
* ``conditional_expected_purchases`` uses the Gauss hypergeometric function through Euler's
  transformation, ``(1-z)^{r+x} 2F1(r+x, b+x; a+b+x-1; z) = (1-z)^{a-1} 2F1(a+b-1-r, a-1;
  a+b+x-1; z)``, with ``z = t / (α + T + t)``. The right-hand side takes ``x`` only in its third
  argument, so it neither overflows ((1-z)^{r+x} → 0 against a growing 2F1) nor loses
  precision for heavy buyers. It was checked against the untransformed form over CDNOW's
  range (x ≤ 29, T ≤ 39, t ≤ 78 weeks, fitted parameters: relative difference < 1e-12) and
  reproduces Hardie's published ``E[Y(39) | x=2, t_x=30.43, T=38.86] = 1.226``
  (tests/value/test_bgnbd.py). At the CDNOW parameters it is also finite far outside that
  range (x ≤ 10,000, T ≤ 1,000, t ≤ 1e5; tested). Results that are not finite raise
  ``FloatingPointError`` naming the inputs. The formula divides by ``a - 1``; for
  ``|a - 1| < 1e-6`` it is evaluated as the mean of ``a = 1 ± 1e-5`` (smooth in ``a``,
  error ~1e-10).

Published check: on the CDNOW sample (2,357 customers, 39 calibration weeks) the fit gives
``r = 0.243, α = 4.414, a = 0.793, b = 2.426`` and log-likelihood −9582.4 (FHL 2005).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1
from threadpoolctl import threadpool_limits

from segml.errors import ConfigError, NotFittedError
from segml.value._common import (
    LOG_BOUND,
    ConvergenceWarning,
    as_columns,
    check_summary_arrays,
    positive_float,
)

__all__ = [
    "BGNBD",
    "BGNBDParams",
    "bgnbd_log_likelihood",
    "bgnbd_conditional_expected_purchases",
    "bgnbd_probability_alive",
    "bgnbd_expected_purchases_new",
]

#: Default minimum number of customers, and of repeat buyers, ``BGNBD.fit`` accepts.
MIN_CUSTOMERS = 20
MIN_REPEAT_BUYERS = 5


@dataclass(frozen=True)
class BGNBDParams:
    """BG/NBD parameters: ``λ ~ Gamma(shape r, rate alpha)``, ``p ~ Beta(a, b)``."""

    r: float
    alpha: float
    a: float
    b: float

    def as_array(self) -> np.ndarray:
        """Return ``[r, alpha, a, b]`` as a float64 array."""
        return np.array([self.r, self.alpha, self.a, self.b], dtype="float64")


def _params(params: BGNBDParams | Any) -> tuple[float, float, float, float]:
    if isinstance(params, BGNBDParams):
        return params.r, params.alpha, params.a, params.b
    r, alpha, a, b = (float(v) for v in params)
    return r, alpha, a, b


def _ll_terms(
    p: tuple[float, float, float, float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r, alpha, a, b = p
    rx = r + x
    a1 = gammaln(rx) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b) - rx * np.log(alpha + T)
    rep = x > 0
    # x - 1 is -1 for non-repeaters; clamp the argument there (the term is masked out).
    a3 = betaln(a + 1.0, np.where(rep, b + x - 1.0, b)) - betaln(a, b) - rx * np.log(alpha + t_x)
    a3 = np.where(rep, a3, -np.inf)
    return a1, a2, a3, rep


def bgnbd_log_likelihood(params: BGNBDParams | Any, x: Any, t_x: Any, T: Any) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood (FHL 2005, eq. 6).

    Parameters
    ----------
    params : BGNBDParams or sequence of 4 floats
        ``(r, alpha, a, b)``.
    x, t_x, T : array-like
        Repeat purchases, time of the last purchase and age (see :func:`rfm_summary`).

    Returns
    -------
    numpy.ndarray
        ``log L_i`` per customer.

    Raises
    ------
    SchemaError
        On invalid ``x``, ``t_x``, ``T``.
    """
    x, t_x, T = check_summary_arrays(x, t_x, T, "bgnbd_log_likelihood")
    a1, a2, a3, _ = _ll_terms(_params(params), x, t_x, T)
    return a1 + np.logaddexp(a2, a3)


def _neg_ll_and_grad(
    theta: np.ndarray, xu: np.ndarray, inv: np.ndarray, t_x: np.ndarray, T: np.ndarray,
    w: np.ndarray,
) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood and its gradient in the log-parameters ``theta``.

    ``x`` is given as its distinct values ``xu`` and ``inv`` (``x = xu[inv]``): every special
    function depends on ``x`` alone, so it is evaluated once per distinct count.
    """
    r, alpha, a, b = np.exp(theta)
    rep_u = xu > 0
    rx_u = r + xu
    b_rep_u = np.where(rep_u, b + xu - 1.0, b)
    blab = betaln(a, b)
    d_ab, d_abx = digamma(a + b), digamma(a + b + xu)
    # x-only pieces, per distinct x
    c1 = gammaln(rx_u) - gammaln(r) + r * np.log(alpha)
    c2 = betaln(a, b + xu) - blab
    c3 = betaln(a + 1.0, b_rep_u) - blab
    dr1 = digamma(rx_u) - digamma(r) + np.log(alpha)
    da2 = d_ab - d_abx
    da3 = digamma(a + 1.0) - digamma(a) + d_ab - d_abx
    db2 = digamma(b + xu) - d_abx - digamma(b) + d_ab
    db3 = digamma(b_rep_u) - d_abx - digamma(b) + d_ab
    rx, rep = rx_u[inv], rep_u[inv]
    log_aT, log_atx = np.log(alpha + T), np.log(alpha + t_x)
    a2 = c2[inv] - rx * log_aT
    a3 = np.where(rep, c3[inv] - rx * log_atx, -np.inf)
    lse = np.logaddexp(a2, a3)
    w3 = np.where(rep, expit(a3 - a2), 0.0)  # share of the "dropped out at t_x" term
    w2 = 1.0 - w3
    g_r = dr1[inv] - w2 * log_aT - w3 * log_atx
    g_alpha = r / alpha - w2 * rx / (alpha + T) - w3 * rx / (alpha + t_x)
    g_a = w2 * da2[inv] + w3 * da3[inv]
    g_b = w2 * db2[inv] + w3 * db3[inv]
    total = w.sum()
    # Weighted sums without BLAS: ddot on 1-D vectors thrashes threads on a busy machine.
    ll = float(np.sum(w * (c1[inv] + lse))) / total
    grad = np.array([np.sum(w * g) for g in (g_r, g_alpha, g_a, g_b)]) / total
    grad *= np.array([r, alpha, a, b])  # chain rule to the log-parameters
    return -ll, -grad


def _hyp_ratio(
    p: tuple[float, float, float, float], t: np.ndarray, x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """``(1-z)^{r+x} 2F1(r+x, b+x; a+b+x-1; z)`` with ``z = t/(α+T+t)``, via Euler's identity."""
    r, alpha, a, b = p
    one_minus_z = (alpha + T) / (alpha + T + t)
    z = t / (alpha + T + t)
    return one_minus_z ** (a - 1.0) * hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)


def _scaled_one_minus_h(
    p: tuple[float, float, float, float], t: np.ndarray, x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """``(a+b+x-1)/(a-1) * (1 - _hyp_ratio)``, the non-P(alive) factor of FHL eq. 10.

    When ``c = a+b+x-1`` vanishes (``x = 0`` and ``a + b = 1``) 2F1 has a pole; the product
    has the finite limit ``r z (1-z)^{a-1} 2F1(1-r, a; 2; z)``, used for ``|c| < 1e-9``.
    """
    r, alpha, a, b = p
    if abs(a - 1.0) < 1e-6:  # removable 0/0 at a = 1: symmetric average around it
        lo, hi = (_scaled_one_minus_h((r, alpha, a1, b), t, x, T) for a1 in (1 - 1e-5, 1 + 1e-5))
        return 0.5 * (lo + hi)
    c = a + b + x - 1.0
    near = np.abs(c) < 1e-9
    x_safe = np.where(near, x - c + 1.0, x)  # makes c = 1 where the limit is used instead
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        regular = (a + b + x_safe - 1.0) / (a - 1.0) * (1.0 - _hyp_ratio(p, t, x_safe, T))
    # 1 - ratio cancels as t -> 0: rounding leaves values like -5e-12 where the true value is
    # ~r t / alpha >= 0 (found by hypothesis at t = 1e-262); an expectation is never negative
    regular = np.maximum(regular, 0.0)
    if not near.any():
        return regular
    z = t / (alpha + T + t)
    limit = r * z * ((alpha + T) / (alpha + T + t)) ** (a - 1.0) * hyp2f1(1.0 - r, a, 2.0, z)
    return np.where(near, limit, regular)


def bgnbd_conditional_expected_purchases(
    params: BGNBDParams | Any, t: Any, x: Any, t_x: Any, T: Any
) -> np.ndarray:
    """Return expected purchases in the next ``t`` units given ``(x, t_x, T)`` (FHL 2005 eq. 10).

    Parameters
    ----------
    params : BGNBDParams or sequence of 4 floats
        ``(r, alpha, a, b)``.
    t : float or array-like
        Horizon (>= 0) in the summary's time unit.
    x, t_x, T : array-like
        Per-customer summary.

    Returns
    -------
    numpy.ndarray
        ``E[Y(t) | x, t_x, T]`` per customer.

    Raises
    ------
    SchemaError
        On invalid summary values.
    ConfigError
        On a negative or non-finite ``t``.
    FloatingPointError
        When the hypergeometric term is not finite (outside the documented range).
    """
    r, alpha, a, b = p = _params(params)
    t_arr = np.asarray(t, dtype="float64")
    if not np.all(np.isfinite(t_arr)) or np.any(t_arr < 0):
        raise ConfigError(f"t={t!r} must be finite and >= 0 (a horizon). Fix: pass e.g. t=52.")
    x, t_x, T, t_arr = np.broadcast_arrays(*check_summary_arrays(x, t_x, T, "BG/NBD"), t_arr)
    with np.errstate(over="ignore", invalid="ignore"):
        num = _scaled_one_minus_h(p, t_arr, x, T)
        log_odds = (np.log(a) - np.log(np.where(x > 0, b + x - 1.0, 1.0))
                    + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)))
        out = num * np.where(x > 0, expit(-log_odds), 1.0)
    bad = ~np.isfinite(out)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise FloatingPointError(
            f"conditional_expected_purchases is not finite for {int(bad.sum())} customer(s), "
            f"e.g. x={x[i]}, t_x={t_x[i]}, T={T[i]}, t={t_arr[i]} with params {p}. "
            "Fix: express times in a coarser unit (weeks) or shorten the horizon."
        )
    return out


def bgnbd_probability_alive(params: BGNBDParams | Any, x: Any, t_x: Any, T: Any) -> np.ndarray:
    """Probability that a customer is still active at ``T`` (FHL 2005 note, eq. 11).

    ``P(alive) = 1 / (1 + δ_{x>0} a / (b + x - 1) ((α + T) / (α + t_x))^{r+x})``; exactly 1
    for ``x == 0`` (BG/NBD lets customers drop out only after a repeat purchase).

    Parameters
    ----------
    params : BGNBDParams or sequence of 4 floats
        ``(r, alpha, a, b)``.
    x, t_x, T : array-like
        Per-customer summary.

    Returns
    -------
    numpy.ndarray
        Probabilities in ``(0, 1]``.
    """
    r, alpha, a, b = _params(params)
    x, t_x, T = check_summary_arrays(x, t_x, T, "bgnbd_probability_alive")
    rep = x > 0
    log_odds = (np.log(a) - np.log(np.where(rep, b + x - 1.0, 1.0))
                + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)))
    return np.where(rep, expit(-log_odds), 1.0)


def bgnbd_expected_purchases_new(params: BGNBDParams | Any, t: Any) -> np.ndarray:
    """Unconditional expected repeat purchases ``E[X(t)]`` of a new customer (FHL 2005, eq. 9).

    Parameters
    ----------
    params : BGNBDParams or sequence of 4 floats
        ``(r, alpha, a, b)``.
    t : float or array-like
        Time since the first purchase, >= 0.

    Returns
    -------
    numpy.ndarray
        ``E[X(t)]``, same shape as ``t``.
    """
    r, alpha, a, b = _params(params)
    t = np.asarray(t, dtype="float64")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ConfigError(f"t={t!r} must be finite and >= 0. Fix: pass e.g. t=39.")
    # The x = 0, T = 0 case of the conditional expectation (same Euler form and c -> 0 limit).
    return _scaled_one_minus_h((r, alpha, a, b), t, np.zeros_like(t), np.zeros_like(t))


class BGNBD:
    """BG/NBD model, scikit-learn style: ``fit(summary)`` then per-customer predictions.

    Parameters
    ----------
    min_customers : int, default 20
        Fewest customers ``fit`` accepts.
    min_repeat_buyers : int, default 5
        Fewest customers with ``x >= 1`` ``fit`` accepts (``a`` and ``b`` are not identified
        without repeat buyers).
    tol : float, default 1e-14
        ``ftol``/``gtol`` of L-BFGS-B on the mean log-likelihood.

    Attributes
    ----------
    params_ : BGNBDParams
        Fitted parameters.
    log_likelihood_ : float
        Total log-likelihood at the optimum.
    n_customers_, n_repeat_buyers_ : int
        Customers used in the fit.
    result_ : scipy.optimize.OptimizeResult
        The optimiser's result.

    Examples
    --------
    >>> from segml.value import simulate_bgnbd
    >>> sim = simulate_bgnbd(2000, BGNBDParams(0.243, 4.414, 0.793, 2.426), T=39.0,
    ...                      random_state=0)
    >>> model = BGNBD().fit(sim)
    >>> model.probability_alive([0, 2], [0.0, 30.0], [39.0, 39.0]).round(2)
    array([1.  , 0.78])
    """

    def __init__(
        self, *, min_customers: int = MIN_CUSTOMERS, min_repeat_buyers: int = MIN_REPEAT_BUYERS,
        tol: float = 1e-14,
    ) -> None:
        self.min_customers = min_customers
        self.min_repeat_buyers = min_repeat_buyers
        self.tol = tol

    def fit(self, summary: pd.DataFrame, init: BGNBDParams | None = None) -> BGNBD:
        """Fit by maximum likelihood.

        Parameters
        ----------
        summary : pandas.DataFrame
            Columns ``x``, ``t_x``, ``T`` (the output of :func:`rfm_summary`).
        init : BGNBDParams, optional
            Starting point; default ``r = α = a = b = 1``.

        Returns
        -------
        BGNBD
            ``self``.

        Raises
        ------
        SchemaError
            On missing columns or invalid values.
        ConfigError
            When there are too few customers or repeat buyers.

        Warns
        -----
        ConvergenceWarning
            When the optimiser does not report success or a parameter ends at a bound.
        """
        x, t_x, T = check_summary_arrays(*as_columns(summary, ["x", "t_x", "T"], "BGNBD.fit"),
                                         "BGNBD.fit")
        n, n_rep = len(x), int((x > 0).sum())
        if n < self.min_customers:
            raise ConfigError(
                f"BGNBD.fit: {n} customer(s), fewer than min_customers={self.min_customers}; "
                "the population parameters cannot be estimated. Fix: use a longer or larger "
                "customer base, or lower min_customers knowingly."
            )
        if n_rep < self.min_repeat_buyers:
            raise ConfigError(
                f"BGNBD.fit: {n_rep} repeat buyer(s) (x > 0) among {n} customers, fewer than "
                f"min_repeat_buyers={self.min_repeat_buyers}"
                + (" (all frequencies are zero)" if n_rep == 0 else "")
                + "; the dropout parameters a, b are not identified. Fix: lengthen the "
                "calibration period (calibration_end later) or use a coarser customer base."
            )
        # Collapse identical rows (hash grouping; day-resolution data repeat a lot).
        counts = pd.DataFrame({"x": x, "t_x": t_x, "T": T}).groupby(
            ["x", "t_x", "T"], sort=False).size()
        ux, utx, uT = (counts.index.get_level_values(i).to_numpy(dtype="float64")
                       for i in range(3))
        w = counts.to_numpy(dtype="float64")
        xu, inv = np.unique(ux, return_inverse=True)
        theta0 = np.log((init or BGNBDParams(1.0, 1.0, 1.0, 1.0)).as_array())
        # L-BFGS-B's BLAS calls on 3-4 parameters only lose time to thread start-up/spinning.
        with threadpool_limits(1, user_api="blas"):
            res = minimize(
                _neg_ll_and_grad, theta0, args=(xu, inv, utx, uT, w), jac=True, method="L-BFGS-B",
                bounds=[(-LOG_BOUND, LOG_BOUND)] * 4,
                options={"ftol": self.tol, "gtol": self.tol, "maxiter": 1000},
            )
        r, alpha, a, b = np.exp(res.x)
        self.params_ = BGNBDParams(float(r), float(alpha), float(a), float(b))
        self.log_likelihood_ = float(-res.fun * w.sum())
        self.n_customers_, self.n_repeat_buyers_ = n, n_rep
        self.result_ = res
        _warn_convergence("BGNBD", res, ["r", "alpha", "a", "b"])
        return self

    def _check(self) -> BGNBDParams:
        if not hasattr(self, "params_"):
            raise NotFittedError(
                "This BGNBD is not fitted yet. Fix: call .fit(summary) first."
            )
        return self.params_

    def log_likelihood(self, x: Any, t_x: Any, T: Any) -> np.ndarray:
        """Per-customer log-likelihood at the fitted parameters."""
        return bgnbd_log_likelihood(self._check(), x, t_x, T)

    def conditional_expected_purchases(self, t: Any, x: Any, t_x: Any, T: Any) -> np.ndarray:
        """Return expected purchases in the next ``t`` units (see the module function)."""
        return bgnbd_conditional_expected_purchases(self._check(), t, x, t_x, T)

    def probability_alive(self, x: Any, t_x: Any, T: Any) -> np.ndarray:
        """Probability each customer is still active at ``T``."""
        return bgnbd_probability_alive(self._check(), x, t_x, T)

    def expected_purchases_new(self, t: Any) -> np.ndarray:
        """Unconditional ``E[X(t)]`` for a newly acquired customer."""
        return bgnbd_expected_purchases_new(self._check(), t)

    def predict(self, summary: pd.DataFrame, t: float) -> pd.DataFrame:
        """``p_alive`` and ``expected_purchases`` over the next ``t`` units per customer.

        Parameters
        ----------
        summary : pandas.DataFrame
            Columns ``x``, ``t_x``, ``T``.
        t : float
            Horizon in the summary's time unit.

        Returns
        -------
        pandas.DataFrame
            Same index; columns ``p_alive``, ``expected_purchases``.
        """
        x, t_x, T = as_columns(summary, ["x", "t_x", "T"], "BGNBD.predict")
        positive_float("t", t, allow_zero=True)
        return pd.DataFrame(
            {"p_alive": self.probability_alive(x, t_x, T),
             "expected_purchases": self.conditional_expected_purchases(t, x, t_x, T)},
            index=summary.index,
        )


def _warn_convergence(model: str, res: Any, names: list[str]) -> None:
    """Warn when an L-BFGS-B fit on bounded log-parameters did not converge cleanly."""
    if not res.success or not np.all(np.isfinite(res.x)):
        warnings.warn(
            f"{model}.fit: the optimiser stopped without converging ({res.message}). "
            "Try: a different init=, more customers, or check the summary for extreme values.",
            ConvergenceWarning,
            stacklevel=3,
        )
    at = [n for n, v in zip(names, res.x, strict=True) if abs(abs(v) - LOG_BOUND) < 1e-3]
    if at:
        warnings.warn(
            f"{model}.fit: parameter(s) {at} ended at the bound 1e-6 or 1e6 "
            f"({dict(zip(names, np.exp(res.x).round(6).tolist(), strict=True))}); the model "
            "is barely identified on these data. Try: a longer calibration period, more repeat "
            "buyers, or a simpler model.",
            ConvergenceWarning,
            stacklevel=3,
        )
