"""Forward customer value from a fitted BG/NBD and Gamma-Gamma, and the holdout check.

Discounting (:func:`forward_value`): the horizon is cut into ``horizon`` periods of
``period_length`` model time units; the expected purchases *in* period ``k`` are the increments
``E[Y(k L)] - E[Y((k-1) L)]`` of the BG/NBD conditional expectation, and each period is
discounted at its end::

    clv = margin * E[spend] * sum_{k=1..H} (E[Y(k L)] - E[Y((k-1) L)]) / (1 + d)^k

with ``d`` the discount rate *per period*. This is the "discounted expected residual
transactions" over a finite horizon computed by summing discrete periods (the scheme of
``lifetimes.utils._customer_lifetime_value``), not the continuous-time DERT of Fader, Hardie &
Lee 2005 (which integrates to an infinite horizon with continuous compounding). Expected
spend per purchase is the Gamma-Gamma conditional mean (the population mean for ``x == 0``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from segml.errors import ConfigError
from segml.value._common import as_columns, positive_float
from segml.value.bgnbd import BGNBD
from segml.value.gamma_gamma import GammaGamma

__all__ = ["forward_value", "calibration_holdout_table"]


def _margin(margin: Any, index: pd.Index) -> np.ndarray:
    if isinstance(margin, pd.Series):
        out = margin.reindex(index).to_numpy(dtype="float64", na_value=np.nan)
        if np.isnan(out).any():
            missing = index[np.isnan(out)][:3].tolist()
            raise ConfigError(
                f"margin Series has no value for {int(np.isnan(out).sum())} customer(s) "
                f"(e.g. {missing}). Fix: give every customer of the summary a margin rate."
            )
    else:
        out = np.full(len(index), positive_float("margin", margin))
    if (out <= 0).any() or (out > 1).any():
        raise ConfigError(
            f"margin must be a rate in (0, 1] (gross margin per unit of revenue); got "
            f"{out[(out <= 0) | (out > 1)][:3].tolist()}. Fix: pass e.g. margin=0.3."
        )
    return out


def forward_value(
    purchases: BGNBD,
    spend: GammaGamma,
    summary: pd.DataFrame,
    *,
    horizon: int,
    period_length: float = 1.0,
    discount_rate: float = 0.0,
    margin: float | pd.Series = 1.0,
) -> pd.DataFrame:
    """P(alive), expected purchases, expected spend and discounted forward CLV per customer.

    Parameters
    ----------
    purchases : BGNBD
        Fitted purchase model.
    spend : GammaGamma
        Fitted spend model.
    summary : pandas.DataFrame
        Columns ``x``, ``t_x``, ``T``, ``monetary`` (from :func:`rfm_summary`, in the models'
        time unit).
    horizon : int
        Number of future periods ``H`` (>= 1).
    period_length : float, default 1.0
        Length of one period in model time units (e.g. 52/12 for months when the unit is weeks).
    discount_rate : float, default 0.0
        Discount rate per period ``d`` (>= 0), applied at the end of each period.
    margin : float or Series, default 1.0
        Gross margin rate in (0, 1], one for all or a Series by ``customer_id``.

    Returns
    -------
    pandas.DataFrame
        Same index; ``p_alive``, ``expected_purchases`` (undiscounted, over ``H * L`` units),
        ``expected_spend`` (money per purchase), ``clv`` (discounted margin, money).

    Raises
    ------
    ConfigError
        On invalid horizon, period, rate or margin, or an unfitted/invalid spend model.
    SchemaError
        When the summary lacks a column or holds invalid values.
    """
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ConfigError(f"horizon={horizon!r} must be an int >= 1 (periods). Fix: e.g. 12.")
    length = positive_float("period_length", period_length)
    d = positive_float("discount_rate", discount_rate, allow_zero=True)
    x, t_x, T, m = as_columns(summary, ["x", "t_x", "T", "monetary"], "forward_value")
    mrg = _margin(margin, summary.index)
    p_alive = purchases.probability_alive(x, t_x, T)
    e_spend = spend.conditional_expected_spend(x, m)
    prev = np.zeros(len(x))
    disc = np.zeros(len(x))
    for k in range(1, int(horizon) + 1):
        cum = purchases.conditional_expected_purchases(k * length, x, t_x, T)
        disc += (cum - prev) / (1.0 + d) ** k
        prev = cum
    return pd.DataFrame(
        {"p_alive": p_alive, "expected_purchases": prev, "expected_spend": e_spend,
         "clv": mrg * e_spend * disc},
        index=summary.index,
    )


def calibration_holdout_table(
    purchases: BGNBD, summary: pd.DataFrame, *, max_frequency: int = 7
) -> pd.DataFrame:
    """Mean predicted vs actual holdout purchases by calibration frequency (FHL 2005, Fig. 4).

    Parameters
    ----------
    purchases : BGNBD
        Fitted purchase model.
    summary : pandas.DataFrame
        :func:`rfm_summary` output with ``holdout_end``: ``x``, ``t_x``, ``T``, ``x_holdout``,
        ``duration_holdout``.
    max_frequency : int, default 7
        Frequencies from this value up are pooled in the last row (``"7+"``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``frequency`` (``"0"``, ``"1"``, …, ``"7+"``; only groups with customers):
        ``n_customers``, ``actual`` and ``predicted`` (mean holdout purchases per customer),
        ``actual_total`` and ``predicted_total``.

    Raises
    ------
    SchemaError
        When the holdout columns are missing (build the summary with ``holdout_end``).
    ConfigError
        When ``max_frequency`` is not an int >= 1.
    """
    if (isinstance(max_frequency, bool) or not isinstance(max_frequency, int | np.integer)
            or max_frequency < 1):
        raise ConfigError(f"max_frequency={max_frequency!r} must be an int >= 1. Fix: e.g. 7.")
    x, t_x, T, xh, dur = as_columns(
        summary, ["x", "t_x", "T", "x_holdout", "duration_holdout"], "calibration_holdout_table"
    )
    pred = purchases.conditional_expected_purchases(dur, x, t_x, T)
    group = np.minimum(x, max_frequency).astype("int64")
    labels = [str(i) for i in range(max_frequency)] + [f"{max_frequency}+"]
    frame = pd.DataFrame({"g": group, "actual": xh, "predicted": pred})
    agg = frame.groupby("g", sort=True).agg(
        n_customers=("actual", "size"), actual=("actual", "mean"),
        predicted=("predicted", "mean"), actual_total=("actual", "sum"),
        predicted_total=("predicted", "sum"),
    )
    agg.index = pd.Index([labels[i] for i in agg.index], name="frequency")
    agg["n_customers"] = agg["n_customers"].astype("int64")
    return agg
