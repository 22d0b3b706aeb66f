"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Hardie's Gamma-Gamma note).

A customer's transaction values are ``z ~ Gamma(p, ν)`` (shape ``p``, rate ``ν``) with
``ν ~ Gamma(q, γ)`` across customers; the observed mean repeat spend ``m_x`` over ``x``
transactions is ``Gamma(p x, ν x)``. Fitted by maximum likelihood (L-BFGS-B on the
log-parameters with the analytic gradient) on customers with ``x >= 1`` and ``m_x > 0``.

The model assumes spend is independent of purchase frequency;
:func:`frequency_monetary_independence` measures that on the data (Pearson with a Fisher-z
confidence interval, and Spearman) and :meth:`GammaGamma.fit` warns when it looks violated.

Published check: on the CDNOW sample's 946 repeat customers (39 calibration weeks, mean value
of the repeat purchase days) the fit gives ``p = 6.25, q = 3.74, γ = 15.44``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.optimize import minimize
from scipy.special import digamma, gammaln
from threadpoolctl import threadpool_limits

from segml.errors import ConfigError, DataQualityWarning, NotFittedError, SchemaError
from segml.value._common import LOG_BOUND, as_columns
from segml.value.bgnbd import _warn_convergence

__all__ = [
    "GammaGamma",
    "GammaGammaParams",
    "IndependenceCheck",
    "frequency_monetary_independence",
    "gamma_gamma_log_likelihood",
    "gamma_gamma_conditional_expected_spend",
]

#: Default minimum number of repeat customers ``GammaGamma.fit`` accepts.
MIN_REPEAT_CUSTOMERS = 10


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma parameters: ``z ~ Gamma(p, ν)``, ``ν ~ Gamma(q, gamma)`` (shape, rate)."""

    p: float
    q: float
    gamma: float

    def as_array(self) -> np.ndarray:
        """Return ``[p, q, gamma]`` as a float64 array."""
        return np.array([self.p, self.q, self.gamma], dtype="float64")

    @property
    def population_mean_spend(self) -> float:
        """``E[z] = p γ / (q - 1)``; infinite when ``q <= 1``."""
        return self.p * self.gamma / (self.q - 1.0) if self.q > 1 else float("inf")


def _params(params: GammaGammaParams | Any) -> tuple[float, float, float]:
    if isinstance(params, GammaGammaParams):
        return params.p, params.q, params.gamma
    p, q, g = (float(v) for v in params)
    return p, q, g


def _check_spend(x: Any, m: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    x, m = np.broadcast_arrays(np.asarray(x, dtype="float64"), np.asarray(m, dtype="float64"))
    bad = ~(np.isfinite(x) & (x >= 1) & (x == np.round(x)))
    if bad.any():
        raise SchemaError(
            f"{what}: x must be whole repeat counts >= 1; {int(bad.sum())} are not "
            f"(e.g. {x[bad][:3].tolist()}). Fix: keep customers with x >= 1 "
            "(summary[summary.x > 0])."
        )
    bad = ~(np.isfinite(m) & (m > 0))
    if bad.any():
        raise SchemaError(
            f"{what}: monetary must be positive (mean repeat spend); {int(bad.sum())} value(s) "
            f"are not (e.g. {m[bad][:3].tolist()}). Fix: drop them "
            "(summary[summary.monetary > 0]); zero-value purchases cannot come from a Gamma."
        )
    return x, m


def gamma_gamma_log_likelihood(params: GammaGammaParams | Any, x: Any, m_x: Any) -> np.ndarray:
    """Per-customer log-density of the mean spend ``m_x`` over ``x`` repeat purchases.

    ``log f = lnΓ(px+q) - lnΓ(px) - lnΓ(q) + q ln γ + (px-1) ln m_x + px ln x
    - (px+q) ln(γ + m_x x)``.

    Parameters
    ----------
    params : GammaGammaParams or sequence of 3 floats
        ``(p, q, gamma)``.
    x, m_x : array-like
        Repeat purchases (>= 1) and their mean value (> 0).

    Returns
    -------
    numpy.ndarray
        Log-likelihood per customer.
    """
    x, m = _check_spend(x, m_x, "gamma_gamma_log_likelihood")
    return _ll(_params(params), x, m)


def _ll(prm: tuple[float, float, float], x: np.ndarray, m: np.ndarray) -> np.ndarray:
    p, q, g = prm
    px = p * x
    return (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(g)
            + (px - 1.0) * np.log(m) + px * np.log(x) - (px + q) * np.log(g + m * x))


def _neg_ll_and_grad(
    theta: np.ndarray, xu: np.ndarray, inv: np.ndarray, x: np.ndarray, m: np.ndarray
) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood and gradient; x-only special functions per distinct x."""
    p, q, g = np.exp(theta)
    pxu = p * xu
    c = gammaln(pxu + q) - gammaln(pxu) - gammaln(q) + q * np.log(g) + pxu * np.log(xu)
    d_pxq = digamma(pxu + q)
    dp = d_pxq - digamma(pxu) + np.log(xu)
    px = p * x
    log_m = np.log(m)
    gmx = g + m * x
    log_gmx = np.log(gmx)
    n = len(x)
    ll = float(np.sum(c[inv] + (px - 1.0) * log_m - (px + q) * log_gmx)) / n
    g_p = np.sum(x * (dp[inv] + log_m - log_gmx))
    g_q = np.sum(d_pxq[inv] - log_gmx) + n * (np.log(g) - digamma(q))
    g_g = n * q / g - np.sum((px + q) / gmx)
    grad = np.array([g_p, g_q, g_g]) / n * np.array([p, q, g])
    return -ll, -grad


def gamma_gamma_conditional_expected_spend(
    params: GammaGammaParams | Any, x: Any, m_x: Any
) -> np.ndarray:
    """Return the expected average transaction value given ``x`` purchases averaging ``m_x``.

    ``E[Z | x, m_x] = (γ + m_x x) p / (p x + q - 1)``, a weighted mean of the population mean
    ``p γ / (q - 1)`` and ``m_x``. For ``x == 0`` (``m_x`` ignored, may be NaN) it is the
    population mean.

    Parameters
    ----------
    params : GammaGammaParams or sequence of 3 floats
        ``(p, q, gamma)``; ``q > 1`` is required for a finite mean.
    x, m_x : array-like
        Repeat purchases (>= 0) and mean repeat spend.

    Returns
    -------
    numpy.ndarray
        Expected spend per transaction.

    Raises
    ------
    ConfigError
        When ``q <= 1`` (the population mean spend is infinite).
    """
    p, q, g = _params(params)
    if q <= 1:
        raise ConfigError(
            f"Gamma-Gamma q={q:.4g} <= 1: the population mean spend p*gamma/(q-1) is infinite, "
            "so expected spend is undefined. Fix: check the monetary column for extreme values "
            "(winsorise or use a longer period) and refit."
        )
    x, m = np.broadcast_arrays(np.asarray(x, dtype="float64"), np.asarray(m_x, dtype="float64"))
    mx = np.where(x > 0, m * x, 0.0)
    return (g + mx) * p / (p * x + q - 1.0)


@dataclass(frozen=True)
class IndependenceCheck:
    """Correlation between repeat frequency ``x`` and mean repeat spend ``m_x``."""

    n: int
    pearson: float
    pearson_ci: tuple[float, float]
    spearman: float
    spearman_pvalue: float
    threshold: float
    flagged: bool


def frequency_monetary_independence(
    summary: pd.DataFrame, *, threshold: float = 0.3, confidence: float = 0.95
) -> IndependenceCheck:
    """Check the Gamma-Gamma assumption that spend does not depend on frequency.

    Computed on customers with ``x >= 1`` and ``monetary > 0``: Pearson's r with a Fisher-z
    confidence interval, and Spearman's rho. ``flagged`` is True when ``|r|`` or ``|rho|``
    exceeds ``threshold`` (a rule of thumb: below 0.3 the dependence is weak).

    Parameters
    ----------
    summary : pandas.DataFrame
        Columns ``x`` and ``monetary``.
    threshold : float, default 0.3
        Absolute correlation above which the assumption is flagged.
    confidence : float, default 0.95
        Level of the Pearson interval.

    Returns
    -------
    IndependenceCheck
        The statistics and the flag.
    """
    x, m = as_columns(summary, ["x", "monetary"], "frequency_monetary_independence")
    keep = (x >= 1) & np.isfinite(m) & (m > 0)
    x, m = x[keep], m[keep]
    n = len(x)
    if n < 4 or np.ptp(x) == 0 or np.ptp(m) == 0:
        raise ConfigError(
            f"frequency_monetary_independence: {n} repeat customer(s) with positive monetary, "
            "or no variation in x or monetary; a correlation needs at least 4 varying values. "
            "Fix: use more customers."
        )
    r = float(np.corrcoef(x, m)[0, 1])
    zc = stats.norm.ppf(0.5 + confidence / 2) / np.sqrt(n - 3)
    z = np.arctanh(np.clip(r, -0.999999, 0.999999))
    ci = (float(np.tanh(z - zc)), float(np.tanh(z + zc)))
    sp = stats.spearmanr(x, m)
    rho, pval = float(sp.statistic), float(sp.pvalue)
    flagged = abs(r) > threshold or abs(rho) > threshold
    return IndependenceCheck(n, r, ci, rho, pval, threshold, flagged)


class GammaGamma:
    """Gamma-Gamma spend model, scikit-learn style.

    Parameters
    ----------
    min_repeat_customers : int, default 10
        Fewest customers with ``x >= 1`` ``fit`` accepts.
    independence_threshold : float, default 0.3
        ``fit`` warns (``DataQualityWarning``) when the frequency/spend correlation exceeds it.
    tol : float, default 1e-14
        ``ftol``/``gtol`` of L-BFGS-B.

    Attributes
    ----------
    params_ : GammaGammaParams
        Fitted parameters.
    log_likelihood_ : float
        Total log-likelihood.
    n_customers_ : int
        Repeat customers used.
    independence_ : IndependenceCheck
        The frequency/monetary check on the fitted customers.
    result_ : scipy.optimize.OptimizeResult
        The optimiser's result.
    """

    def __init__(
        self, *, min_repeat_customers: int = MIN_REPEAT_CUSTOMERS,
        independence_threshold: float = 0.3, tol: float = 1e-14,
    ) -> None:
        self.min_repeat_customers = min_repeat_customers
        self.independence_threshold = independence_threshold
        self.tol = tol

    def fit(self, summary: pd.DataFrame, init: GammaGammaParams | None = None) -> GammaGamma:
        """Fit on the customers with ``x >= 1`` (the others are skipped).

        Parameters
        ----------
        summary : pandas.DataFrame
            Columns ``x`` and ``monetary``.
        init : GammaGammaParams, optional
            Starting point; default ``p = q = 1``, ``γ`` = mean of ``monetary``.

        Returns
        -------
        GammaGamma
            ``self``.

        Raises
        ------
        SchemaError
            When ``monetary`` is missing or not positive for a repeat customer.
        ConfigError
            With fewer than ``min_repeat_customers`` repeat customers.

        Warns
        -----
        ConvergenceWarning
            When the optimiser does not converge or a parameter is at its bound.
        DataQualityWarning
            When frequency and spend look correlated.
        """
        x, m = as_columns(summary, ["x", "monetary"], "GammaGamma.fit")
        rep = x >= 1
        n = int(rep.sum())
        if n < self.min_repeat_customers:
            raise ConfigError(
                f"GammaGamma.fit: {n} customer(s) with a repeat purchase (x >= 1), fewer than "
                f"min_repeat_customers={self.min_repeat_customers}. Fix: lengthen the "
                "calibration period or use the population average spend instead."
            )
        x, m = _check_spend(x[rep], m[rep], "GammaGamma.fit")
        start = init or GammaGammaParams(1.0, 1.0, float(np.mean(m)))
        # L-BFGS-B's BLAS calls on 3-4 parameters only lose time to thread start-up/spinning.
        with threadpool_limits(1, user_api="blas"):
            xu, inv = np.unique(x, return_inverse=True)
            res = minimize(
                _neg_ll_and_grad, np.log(start.as_array()), args=(xu, inv, x, m), jac=True,
                method="L-BFGS-B", bounds=[(-LOG_BOUND, LOG_BOUND)] * 3,
                options={"ftol": self.tol, "gtol": self.tol, "maxiter": 1000},
            )
        p, q, g = np.exp(res.x)
        self.params_ = GammaGammaParams(float(p), float(q), float(g))
        self.log_likelihood_ = float(-res.fun * n)
        self.n_customers_ = n
        self.result_ = res
        _warn_convergence("GammaGamma", res, ["p", "q", "gamma"])
        frame = pd.DataFrame({"x": x, "monetary": m})
        self.independence_ = frequency_monetary_independence(
            frame, threshold=self.independence_threshold
        )
        if self.independence_.flagged:
            c = self.independence_
            warnings.warn(
                f"GammaGamma.fit: frequency and mean spend are correlated (Pearson {c.pearson:.2f}"
                f", Spearman {c.spearman:.2f}, |.| > {c.threshold}); the model assumes they are "
                "independent, so expected spend is biased. Try: segment customers first, or "
                "treat the spend forecast with care.",
                DataQualityWarning,
                stacklevel=2,
            )
        return self

    def _check(self) -> GammaGammaParams:
        if not hasattr(self, "params_"):
            raise NotFittedError("This GammaGamma is not fitted yet. Fix: call .fit(summary).")
        return self.params_

    def conditional_expected_spend(self, x: Any, m_x: Any) -> np.ndarray:
        """Return expected average transaction value per customer (population mean if x == 0)."""
        return gamma_gamma_conditional_expected_spend(self._check(), x, m_x)

    def predict(self, summary: pd.DataFrame) -> pd.Series:
        """``expected_spend`` per customer of ``summary`` (columns ``x``, ``monetary``)."""
        x, m = as_columns(summary, ["x", "monetary"], "GammaGamma.predict")
        return pd.Series(self.conditional_expected_spend(x, m), index=summary.index,
                         name="expected_spend")
