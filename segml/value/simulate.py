"""Simulate per-customer summaries from the BG/NBD + Gamma-Gamma generative process."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from segml.errors import ConfigError
from segml.value.bgnbd import BGNBDParams
from segml.value.gamma_gamma import GammaGammaParams

__all__ = ["simulate_bgnbd"]


def simulate_bgnbd(
    n: int,
    params: BGNBDParams,
    T: Any,
    *,
    holdout: float = 0.0,
    spend: GammaGammaParams | None = None,
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Draw ``n`` customers' summaries from BG/NBD (and Gamma-Gamma spend).

    Each customer gets ``λ ~ Gamma(r, rate α)`` and ``p ~ Beta(a, b)``; purchases after the
    first (at time 0) arrive as a Poisson process with rate ``λ``; after each repeat purchase
    the customer drops out with probability ``p``. Purchases up to ``T`` give ``x`` and
    ``t_x``; purchases in ``(T, T + holdout]`` give ``x_holdout``. With ``spend``, each
    customer's transaction values are ``Gamma(p, ν)`` with ``ν ~ Gamma(q, rate γ)``, and
    ``monetary`` is the mean of the ``x`` calibration values (NaN when ``x == 0``).

    Parameters
    ----------
    n : int
        Number of customers (>= 1).
    params : BGNBDParams
        Purchase and dropout parameters.
    T : float or array-like
        Each customer's age at the calibration end (> 0), scalar or length ``n``.
    holdout : float, default 0.0
        Holdout length after ``T``; adds ``x_holdout`` and ``duration_holdout`` when > 0.
    spend : GammaGammaParams, optional
        Adds ``monetary``.
    random_state : int or numpy.random.Generator, optional
        Seed.

    Returns
    -------
    pandas.DataFrame
        Columns like :func:`rfm_summary`, index ``customer_id`` = ``0..n-1``.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ConfigError(f"n={n!r} must be an int >= 1. Fix: e.g. n=1000.")
    rng = np.random.default_rng(random_state)
    T = np.broadcast_to(np.asarray(T, dtype="float64"), (n,)).copy()
    if not np.all(np.isfinite(T)) or (T <= 0).any():
        raise ConfigError("T must be finite and > 0 for every customer. Fix: e.g. T=39.0.")
    end = T + float(holdout)
    lam = rng.gamma(params.r, 1.0 / params.alpha, n)
    drop = rng.beta(params.a, params.b, n)
    x = np.zeros(n, dtype="int64")
    xh = np.zeros(n, dtype="int64")
    t_x = np.zeros(n)
    now = np.zeros(n)
    active = np.flatnonzero(lam > 0)
    while active.size:
        now[active] += rng.exponential(1.0, active.size) / lam[active]
        t = now[active]
        in_cal = t <= T[active]
        in_hold = ~in_cal & (t <= end[active])
        ci, hi = active[in_cal], active[in_hold]
        x[ci] += 1
        t_x[ci] = t[in_cal]
        xh[hi] += 1
        bought = in_cal | in_hold
        survive = rng.random(active.size) >= drop[active]
        active = active[bought & survive]
    out = pd.DataFrame({"x": x, "t_x": t_x, "T": T},
                       index=pd.RangeIndex(n, name="customer_id"))
    if spend is not None:
        nu = rng.gamma(spend.q, 1.0 / spend.gamma, n)
        rep = x > 0
        mon = np.full(n, np.nan)
        # The mean of x iid Gamma(p, rate nu) values is Gamma(p x, rate nu x).
        mon[rep] = rng.gamma(spend.p * x[rep], 1.0 / (nu[rep] * x[rep]))
        out["monetary"] = mon
    if holdout > 0:
        out["x_holdout"] = xh
        out["duration_holdout"] = float(holdout)
    return out
